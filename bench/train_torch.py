#!/usr/bin/python3
"""PyTorch CPU reference of one FLAM training step (bench/train.bench.ts's peer), plain torch, written from
flam-spec.md sections 2, 3, 4, 5, 7 and 8.3. The encoder modules (HTSAT, RoBERTa-style text encoder, heads, official
state_dict names) are imported from test/fixtures/encoders/make_fixtures.py; this file adds what training needs:

  frontend   torch.stft (1024 / 480, periodic Hann, centre reflect padding) -> |X|^2 -> @ Slaney melW [513, 64]
             -> 10 log10(max(., 1e-10)) -> bn0 in eval form (running statistics, as our engine) -> SpecAugment
             frequency stripes (2 per clip, width < 8, zeroed after BN) -> bicubic resize 1001 -> 1024 frames
             (F.interpolate, align_corners=True) -> fold to [256, 256]
  HTSAT      the fixture's modules with DropPath (per-sample stochastic depth, rates 0 -> dropPathRate over blocks)
  losses     L = w_clip L_CLIP + w_sed L_SED + w_p L_p (spec 7.1-7.4): frame-wise sigmoid loss with per-text scale
             alpha (trained) and bias beta (detached inside L_SED), the prior loss on beta, symmetric InfoNCE on the
             clip pairs the bench passes
  update     clip_grad_norm_ (global L2) then torch.optim.AdamW (decoupled weight decay)
Like our engine's step (and unlike the spec's training mode, section 9.1): bn0 uses its running statistics and the
text encoder has no dropout.

The random draws (SpecAugment stripes, DropPath masks) come from the same mulberry32 streams and seeds as our
engine, so with the same initial weights and batches both compute the same step. Everything runs in float32 with
torch.set_num_threads(THREADS).

usage: /usr/bin/python3 bench/train_torch.py DIR [NSTEPS]
  DIR/spec.json   configs, optimizer settings, batches (token ids, masks, compact positives, CLIP pairs), steps
  DIR/weights.safetensors   initial weights (every parameter and buffer of our model, official names)
  DIR/audio<j>.f32          batch j's audio, [A, 480000] float32 little-endian
Prints one JSON line: per-step loss terms, gradient norm and wall time (ms), trainable parameter count, versions.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "encoders"))
from make_fixtures import HTSAT, TextEncoder, Heads, window_partition, window_reverse, read_safetensors  # noqa: E402

SR, N_FFT, HOP, MELS, FMIN, FMAX = 48000, 1024, 480, 64, 50.0, 14000.0
T_FRAMES, T_TARGET, RATIO, BN_EPS = 1001, 1024, 4, 1e-5


# ---------------------------------------------------------------- seeded draws (mulberry32, as src/nn/module.ts)
def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0
    return nxt


def freq_stripes(batch, seed, stripes=2, drop_width=8):
    """Per clip, per stripe: width ~ U{0..7}, start ~ U{0..64-width-1} (spec 2, SpecAugment)."""
    r = mulberry32(seed)
    out = []
    for _ in range(batch):
        ex = []
        for _ in range(stripes):
            w = math.floor(r() * drop_width)
            ex.append((math.floor(r() * (MELS - w)), w))
        out.append(ex)
    return out


# ---------------------------------------------------------------- frontend (spec 2, 2.1)
def slaney_filterbank():
    """librosa.filters.mel(sr=48000, n_fft=1024, n_mels=64, fmin=50, fmax=14000) (Slaney scale and norm), [513, 64]."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27

    def hz2mel(f):
        return f / f_sp if f < min_log_hz else min_log_mel + math.log(f / min_log_hz) / logstep

    def mel2hz(m):
        return f_sp * m if m < min_log_mel else min_log_hz * math.exp(logstep * (m - min_log_mel))
    m0, m1 = hz2mel(FMIN), hz2mel(FMAX)
    edges = np.array([mel2hz(m) for m in np.linspace(m0, m1, MELS + 2)])
    phi = np.arange(N_FFT // 2 + 1) * SR / N_FFT
    W = np.zeros((N_FFT // 2 + 1, MELS))
    for i in range(MELS):
        lo, ce, hi = edges[i], edges[i + 1], edges[i + 2]
        W[:, i] = np.maximum(0, np.minimum((phi - lo) / (ce - lo), (hi - phi) / (hi - ce))) * 2 / (hi - lo)
    return torch.from_numpy(W.astype(np.float32))


class Frontend:
    def __init__(self, bn):
        self.window = torch.hann_window(N_FFT, periodic=True)
        self.melW = slaney_filterbank()
        scale = bn["weight"] / torch.sqrt(bn["running_var"] + BN_EPS)
        self.bn_scale, self.bn_shift = scale, bn["bias"] - bn["running_mean"] * scale

    @torch.no_grad()
    def __call__(self, wave, stripes):
        B = wave.shape[0]
        X = torch.stft(wave, N_FFT, hop_length=HOP, win_length=N_FFT, window=self.window, center=True, pad_mode="reflect",
                       return_complex=True)                                    # [B, 513, 1001]
        P = X.real ** 2 + X.imag ** 2
        mel = P.transpose(1, 2) @ self.melW                                     # [B, 1001, 64]
        x = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        x = x * self.bn_scale + self.bn_shift                                   # bn0, eval form
        if stripes is not None:
            keep = torch.ones(B, 1, MELS)
            for b, ex in enumerate(stripes):
                for start, w in ex:
                    keep[b, 0, start:start + w] = 0
            x = x * keep
        x = F.interpolate(x[:, None], size=(T_TARGET, MELS), mode="bicubic", align_corners=True)[:, 0]  # [B, 1024, 64]
        c = T_TARGET // RATIO
        return x.reshape(B, RATIO, c, MELS).permute(0, 1, 3, 2).reshape(B, 1, RATIO * MELS, c)        # [B, 1, 256, 256]


# ---------------------------------------------------------------- HTSAT with DropPath (spec 3)
def block_forward(blk, x, m1, m2):
    """The fixture's Swin block with per-sample DropPath masks m1 (attention branch) and m2 (MLP branch), [B, 1, 1]."""
    B, L, C = x.shape
    H = W = blk.res
    h = blk.norm1(x).view(B, H, W, C)
    if blk.shift:
        h = torch.roll(h, shifts=(-blk.shift, -blk.shift), dims=(1, 2))
    h = window_reverse(blk.attn(window_partition(h, blk.ws), blk.attn_mask), blk.ws, H, W)
    if blk.shift:
        h = torch.roll(h, shifts=(blk.shift, blk.shift), dims=(1, 2))
    a = h.reshape(B, L, C)
    x = x + (a if m1 is None else a * m1)
    m = blk.mlp(blk.norm2(x))
    return x + (m if m2 is None else m * m2)


def htsat_forward(net, img, drop_seed, training):
    """img [B, 1, S, S] -> frames [B, freqRatio * R, C], global [B, C] (spec 3.2)."""
    cfg = net.cfg
    B = img.shape[0]
    blocks = [blk for layer in net.layers for blk in layer.blocks]
    n = len(blocks)
    rates = [0.0 if n == 1 else cfg["dropPathRate"] * i / (n - 1) for i in range(n)]
    r = mulberry32(drop_seed)

    def mask(p):
        if not training or p == 0:
            return None
        keep = 1 - p
        return torch.tensor([math.floor(keep + r()) / keep for _ in range(B)], dtype=torch.float32).view(B, 1, 1)
    x = net.patch_embed(img)
    j = 0
    for layer in net.layers:
        for blk in layer.blocks:
            m1 = mask(rates[j])
            m2 = mask(rates[j])
            x = block_forward(blk, x, m1, m2)
            j += 1
        if layer.downsample is not None:
            x = layer.downsample(x)
    x = net.norm(x)
    _, N, C = x.shape
    R = int(round(math.sqrt(N)))
    f = R // cfg["freqRatio"]
    frames = x.view(B, cfg["freqRatio"], f, R, C).mean(2).reshape(B, cfg["freqRatio"] * R, C)  # chunk-major frames
    return frames, x.mean(1)


# ---------------------------------------------------------------- model and step
class Model:
    def __init__(self, spec, weights):
        c = spec["config"]
        self.htsat, self.text, self.heads = HTSAT(c["htsat"]), TextEncoder(c["text"]), Heads(c["heads"])
        self.pad = c["text"]["padTokenId"]
        bn = {}
        for prefix, mod in (("audio_branch.", self.htsat), ("text_branch.", self.text), ("", self.heads)):
            sd = {}
            for k, v in weights.items():
                if prefix and not k.startswith(prefix):
                    continue
                if not prefix and (k.startswith("audio_branch.") or k.startswith("text_branch.")):
                    continue
                name = k[len(prefix):]
                if name.startswith("bn0."):
                    bn[name[4:]] = torch.from_numpy(v.astype(np.float32).copy())
                    continue
                t = torch.from_numpy(np.array(v, dtype=np.float32))
                sd[name] = t.round().long() if name.endswith("relative_position_index") else t
            mod.load_state_dict(sd, strict=True)
        self.frontend = Frontend(bn)
        self.text.embeddings.word_embeddings.weight.requires_grad_(c["wordEmbeddings"] == "trainable")
        self.params = [p for m in (self.htsat, self.text, self.heads) for p in m.parameters() if p.requires_grad]
        for m in (self.htsat, self.text, self.heads):
            m.train()


def prepare_batch(b, audio):
    ids = torch.full((len(b["lengths"]), b["seqLen"]), 0, dtype=torch.long)
    ids[:] = torch.tensor(b["ids"], dtype=torch.long).view(len(b["lengths"]), b["seqLen"])
    attn = (torch.arange(b["seqLen"])[None, :] < torch.tensor(b["lengths"])[:, None]).long()
    return {"wave": torch.from_numpy(audio), "ids": ids, "attn": attn}


def sed_labels(b):
    """Dense q [A, K, L] from the compact positives, pair mask M [A, K], text mask [K], valid audio count."""
    A, K, L = b["A"], b["K"], b["L"]
    q = torch.zeros(A, K, L)
    bits = torch.tensor([1 << l for l in range(L)], dtype=torch.long)
    p = b["positives"]
    if p["audio"]:
        fr = torch.tensor(p["frames"], dtype=torch.long)
        q[torch.tensor(p["audio"]), torch.tensor(p["text"])] = ((fr[:, None] & bits[None, :]) != 0).float()
    ma = torch.tensor(b["audioMask"], dtype=torch.float32)
    mt = torch.tensor(b["textMask"], dtype=torch.float32)
    return q, ma[:, None] * mt[None, :], mt, ma.sum()


def train_step(model, opt, b, data, seed, o):
    w = o["lossWeights"]
    # frontend (no parameters trained) with the step's SpecAugment stripes
    img = model.frontend(data["wave"], freq_stripes(b["A"], seed))
    frames, glob = htsat_forward(model.htsat, img, seed, True)
    h = model.heads
    a_local = F.normalize(h.audio_projection(frames), dim=-1)                   # [A, L, J]
    a_global = F.normalize(h.audio_projection(glob), dim=-1)                    # [A, J]
    u, _, _ = model.text(data["ids"], data["attn"])                             # pooled [K, Ct]
    t = F.normalize(h.text_projection(u), dim=-1)                               # [K, J]
    alpha = torch.exp(h.fc_per_text_logit_scale(u)).squeeze(-1)                 # [K]
    beta = h.fc_per_text_logit_bias(u).squeeze(-1)                              # [K]
    # L_SED (7.2): h = alpha <a, t> + stopgrad(beta); mean of softplus(-y h) over valid pairs and frames
    q, M, mt, n_audio = sed_labels(b)
    L = b["L"]
    logits = alpha[None, :, None] * torch.einsum("ild,kd->ikl", a_local, t) + beta.detach()[None, :, None]
    l_sed = w["sed"] * (M[:, :, None] * F.softplus(-(2 * q - 1) * logits)).sum() / (L * M.sum())
    # L_p (7.3): BCE-with-logits of beta_k against the positive-frame rate r_k
    r = q.sum(dim=(0, 2)) / (n_audio * L)
    l_p = w["prior"] * (mt * (F.softplus(beta) - r * beta)).sum() / mt.sum()
    total = l_sed + l_p
    l_clip = None
    ai, ti = b["pairs"]["audio"], b["pairs"]["text"]
    if len(ai) >= 2 and w["clip"] > 0:
        z = torch.exp(h.logit_scale_a) * a_global[ai] @ t[ti].T
        tgt = torch.arange(len(ai))
        l_clip = w["clip"] * 0.5 * (F.cross_entropy(z, tgt) + F.cross_entropy(z.T, tgt))
        total = total + l_clip
    total.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.params, o["gradClip"]) if o["gradClip"] > 0 else \
        torch.sqrt(sum((p.grad ** 2).sum() for p in model.params if p.grad is not None))
    opt.step()
    opt.zero_grad(set_to_none=True)
    return {"total": total.item(), "sed": l_sed.item(), "prior": l_p.item(), "clip": l_clip.item() if l_clip is not None else 0.0,
            "gradNorm": float(norm)}


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "spec.json")) as f:
        spec = json.load(f)
    torch.set_num_threads(int(spec.get("threads", 2)))
    torch.manual_seed(0)
    steps = spec["steps"][: int(sys.argv[2])] if len(sys.argv) > 2 else spec["steps"]
    t0 = time.perf_counter()
    model = Model(spec, read_safetensors(os.path.join(d, "weights.safetensors")))
    o = spec["opt"]
    opt = torch.optim.AdamW(model.params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weightDecay"],
                            foreach=bool(spec.get("foreach", True)))
    batches = []
    for j, b in enumerate(spec["batches"]):
        audio = np.fromfile(os.path.join(d, f"audio{j}.f32"), dtype="<f4").reshape(b["A"], -1)
        batches.append(prepare_batch(b, audio))
    setup_ms = (time.perf_counter() - t0) * 1000
    out = []
    for s in steps:
        b = spec["batches"][s["batch"]]
        ts = time.perf_counter()
        st = train_step(model, opt, b, batches[s["batch"]], s["seed"], {"lossWeights": spec["lossWeights"], "gradClip": o["gradClip"]})
        st["ms"] = (time.perf_counter() - ts) * 1000
        st["lr"] = o["lr"]
        out.append(st)
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    print(json.dumps({"steps": out, "trainable": sum(p.numel() for p in model.params), "setup_ms": setup_ms, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "blas": blas}), flush=True)


if __name__ == "__main__":
    main()
