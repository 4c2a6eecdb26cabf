# torchaudio's MelSpectrogram (+ 10 log10(clamp(., 1e-10))) on B ten-second 48 kHz clips, FLAM's settings, timed
# inside Python with 2 threads (the bench's peer; run with Debian's /usr/bin/python3). Prints one JSON line.
# usage: mel_torchaudio.py B REPS THREADS
import json, sys, time
import torch, torchaudio

B, reps, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(B, 480000) * 0.1
mel = torchaudio.transforms.MelSpectrogram(sample_rate=48000, n_fft=1024, win_length=1024, hop_length=480, f_min=50.0,
                                           f_max=14000.0, n_mels=64, window_fn=torch.hann_window, power=2.0, center=True,
                                           pad_mode='reflect', norm='slaney', mel_scale='slaney')
def run():
    with torch.no_grad():
        return 10.0 * torch.log10(torch.clamp(mel(x), min=1e-10))
y = run(); run()
ts = []
for _ in range(reps):
    t0 = time.perf_counter(); y = run(); ts.append((time.perf_counter() - t0) * 1000)
ts.sort()
q = lambda p: ts[min(len(ts) - 1, int(p * (len(ts) - 1) + 0.5))]
print(json.dumps({"median_ms": q(0.5), "spread_ms": q(0.75) - q(0.25), "shape": list(y.shape), "torch": torch.__version__, "torchaudio": torchaudio.__version__}))
