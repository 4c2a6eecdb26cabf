// `flam mel` end to end: spawn the CLI on audio files, read the .npy back, compare with the float64 reference.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeNpy } from '../../src/io/npy.ts';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import { writeWav } from '../../src/audio/wav.ts';
import { decodeAudio } from '../../src/audio/decode.ts';
import { cutWindows } from '../../src/audio/windows.ts';
import { flamFrontend, logMel, type BatchNormStats } from '../../src/audio/mel_ref.ts';
import { dbErrors, FIXTURES } from '../audio/_fixtures.ts';

const s = suite('cli mel');
const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'flam-mel-'));

function flam(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'src/cli/flam.mjs'), 'mel', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('Warning: maxDynamic')).join('\n') };
}

function readNpy(path: string) {
  const a = decodeNpy(new Uint8Array(readFileSync(path)), path);
  assert.is(a.descr, '<f4');
  return { shape: a.shape, data: a.data as Float32Array };
}

// 22 s of 44.1 kHz stereo: a chirp left, noise-modulated tone right -> 3 windows at hop 10 s, 5 at hop 5 s
const N = 22 * 44100;
const L = new Float32Array(N), R = new Float32Array(N);
for (let i = 0; i < N; i++) { const t = i / 44100; L[i] = 0.4 * Math.sin(2 * Math.PI * (100 * t + 150 * t * t)); R[i] = 0.2 * Math.sin(2 * Math.PI * 3000 * t) * (1 + Math.sin(7 * t)); }
const WAV = join(dir, 'long.wav');
writeFileSync(WAV, writeWav([L, R], 44100, { format: 'pcm24' }));

s('flam mel long.wav -o out.npy: [3, 1001, 64] log-mel per 10 s window, equal to the float64 reference', async () => {
  const out = join(dir, 'lm.npy');
  const r = flam(WAV, '-o', out);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /3 window\(s\)/);
  const a = readNpy(out);
  assert.equal(a.shape, [3, 1001, 64]);
  const ws = cutWindows((await decodeAudio(new Uint8Array(readFileSync(WAV)), WAV)).samples);
  for (let w = 0; w < 3; w++) {
    const e = dbErrors(a.data.subarray(w * 64064, (w + 1) * 64064), logMel(ws[w].samples));
    assert.ok(e.e60 <= 1e-3 && e.e90 <= 0.05, `window ${w}: ${e.e60} / ${e.e90} dB`);
  }
});

s('--hop 5 overlaps windows; --image with --bn bn.safetensors writes [windows, 256, 256] after BatchNorm', async () => {
  const bn: BatchNormStats = JSON.parse(readFileSync(join(FIXTURES, 'mel_bn_stats.json'), 'utf8'));
  const st = join(dir, 'bn.safetensors');
  const f32 = (x: ArrayLike<number>) => Float32Array.from(x);
  writeFileSync(st, encodeSafetensors({
    'audio_branch.bn0.running_mean': { dtype: 'F32', shape: [64], data: f32(bn.mean) }, 'audio_branch.bn0.running_var': { dtype: 'F32', shape: [64], data: f32(bn.var) },
    'audio_branch.bn0.weight': { dtype: 'F32', shape: [64], data: f32(bn.weight) }, 'audio_branch.bn0.bias': { dtype: 'F32', shape: [64], data: f32(bn.bias) },
  }));
  const out = join(dir, 'img.npy');
  const r = flam(WAV, '-o', out, '--image', '--bn', st, '--hop', '5');
  assert.is(r.code, 0, r.stderr);
  const a = readNpy(out);
  assert.equal(a.shape, [4, 256, 256]);
  const ws = cutWindows((await decodeAudio(new Uint8Array(readFileSync(WAV)), WAV)).samples, { hop: 240000 });
  assert.is(ws.length, 4);
  const bn32: BatchNormStats = { mean: f32(bn.mean), var: f32(bn.var), weight: f32(bn.weight), bias: f32(bn.bias) };
  const ref = flamFrontend(ws[1].samples, { bn: bn32 });
  let peak = -Infinity;
  for (const v of ref.logMel) peak = Math.max(peak, v);
  // pixels that mix only log-mel rows within 60 dB of the peak: 1e-3 dB x |BN scale| (<= 0.22) x sum|bicubic| (1.3)
  let worst = 0, n = 0;
  for (let c = 0; c < 4; c++) for (let m = 0; m < 64; m++) for (let tau = 0; tau < 256; tau++) {
    const p = (c * 256 + tau) * 1000 / 1023, i0 = Math.floor(p);
    let lo = Infinity;
    for (let k = -1; k <= 2; k++) lo = Math.min(lo, ref.logMel[Math.min(1000, Math.max(0, i0 + k)) * 64 + m]);
    if (lo < peak - 60) continue;
    const i = (c * 64 + m) * 256 + tau;
    worst = Math.max(worst, Math.abs(a.data[65536 + i] - ref.image[i])); n++;
  }
  assert.ok(n > 2000, `${n} pixels checked`);
  assert.ok(worst < 1e-3 * 0.22 * 1.3, `image window 1 max error ${worst}`);
});

s('errors: missing file, no -o, bad --hop, --bn without --image, undecodable input', () => {
  const bad = join(dir, 'bad.wav');
  writeFileSync(bad, 'not audio, just text that is long enough');
  const cases: [string[], RegExp][] = [
    [[join(dir, 'missing.wav'), '-o', join(dir, 'x.npy')], /missing\.wav: cannot read \(ENOENT\)/],
    [[WAV], /missing -o OUT\.npy/],
    [[WAV, '-o', join(dir, 'x.npy'), '--hop', '0'], /--hop 0: must be a positive number of seconds/],
    [[WAV, '-o', join(dir, 'x.npy'), '--bn', 'x.safetensors'], /--bn only applies to --image/],
    [[bad, '-o', join(dir, 'x.npy')], /bad\.wav: unrecognised or corrupt audio data/],
    [[WAV, '-o', join(dir, 'no-such-dir', 'x.npy')], /output directory .*no-such-dir does not exist/],
  ];
  for (const [args, re] of cases) {
    const r = flam(...args);
    assert.is(r.code, 1, `${args.join(' ')} should fail`);
    assert.match(r.stderr, re);
  }
});

s('cleanup', () => { rmSync(dir, { recursive: true, force: true }); });

s.run();
