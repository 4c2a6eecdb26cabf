// The TS float64 frontend reference against fixtures from test/fixtures/audio/make_mel_fixtures.py (numpy float64
// STFT + numpy Slaney filterbank + torch float64 BatchNorm / bicubic interpolate / fold), stored as float32.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flamFrontend, slaneyMelFilterbank, type BatchNormStats } from '../../src/audio/mel_ref.ts';
import { resample } from '../../src/audio/resample.ts';
import { mixToMono, readWav } from '../../src/audio/wav.ts';
import { cutWindows } from '../../src/audio/windows.ts';
import { assertClose } from '../util/compare.ts';
import { FIXTURES, dbErrors, fixtureBytes, readNpyFixture } from './_fixtures.ts';

const s = suite('mel_fixtures');

const SIGNALS: [string, string][] = [
  ['sweep', 'mel_sweep.wav'], ['noise', 'mel_noise.wav'], ['clicks', 'mel_clicks.wav'],
  ['silence', 'mel_silence.wav'], ['dc', 'mel_dc.wav'], ['stereo44k', 'mel_stereo44k_sox48k.wav'],
];

const BN: BatchNormStats = JSON.parse(readFileSync(join(FIXTURES, 'mel_bn_stats.json'), 'utf8'));

/** The one zero-padded 10 s window of a fixture signal at 48 kHz. */
function clip(mono: Float32Array, name: string): Float32Array {
  const ws = cutWindows(mono, { name });
  assert.is(ws.length, 1);
  return ws[0].samples;
}

s('numpy float64 Slaney filterbank equals slaneyMelFilterbank', () => {
  const fb = readNpyFixture('mel_filterbank.npy.gz');
  assert.equal(fb.shape, [513, 64]);
  // float64 vs float64: entries near a triangle's foot come from (phi - f_i) with cancellation, so a 1-ulp change in
  // f_i moves them by ~1e-16 absolute (1e-14 of the 0.018 peak); elsewhere they agree to rounding.
  assertClose('filterbank', slaneyMelFilterbank(), fb.data, { atol: 1e-15, rtol: 1e-12 });
});

const report: string[] = [];

for (const [name, file] of SIGNALS) {
  s(`${name}: log-mel within 1e-3 dB (60 dB range) / 0.05 dB (90 dB range); image matches torch`, () => {
    const wav = readWav(fixtureBytes(file), file);
    assert.is(wav.sampleRate, 48000);
    const r = flamFrontend(clip(mixToMono(wav), file), { bn: BN });
    const lm = readNpyFixture(`mel_${name}.logmel.npy.gz`);
    assert.equal(lm.shape, [1001, 64]);
    for (const v of r.logMel) if (!Number.isFinite(v)) assert.unreachable(`${name}: non-finite log-mel ${v}`);
    const e = dbErrors(r.logMel, lm.data);
    assert.ok(e.e60 <= 1e-3, `${name}: max error ${e.e60} dB within 60 dB of the peak`);
    assert.ok(e.e90 <= 0.05, `${name}: max error ${e.e90} dB within 90 dB of the peak`);
    // The image is BatchNorm-scaled (|weight| / sqrt(var) <= 0.22) bicubic mixtures of log-mel rows; the float32
    // storage of the fixture adds <= 4e-6. Every pixel, whatever its level, must agree to 1e-4.
    const img = readNpyFixture(`mel_${name}.image.npy.gz`);
    assert.equal(img.shape, [256, 256]);
    const ie = assertClose(`${name} image`, r.image, img.data, { atol: 1e-4, rtol: 0 });
    report.push(`${name}: peak ${e.peak.toFixed(1)} dB, err60 ${e.e60.toExponential(1)}, err90 ${e.e90.toExponential(1)}, all ${e.all.toExponential(1)}, image ${ie.toExponential(1)}`);
  });
}

// The same 44.1 kHz stereo signal, resampled by our resampler instead of sox. Resamplers differ slightly (sox's
// droop is ~1e-5 dB below 14 kHz, and the two differ in the 20-22 kHz transition band, outside the mel range), so
// this is a looser, end-to-end check: 0.01 dB within 60 dB of the peak, 0.1 dB within 90 dB.
s('stereo44k through our resampler (44.1 kHz stereo -> mono -> 48 kHz) stays close to the sox-based fixture', () => {
  const wav = readWav(fixtureBytes('mel_stereo44k.wav'), 'mel_stereo44k.wav');
  assert.is(wav.sampleRate, 44100);
  assert.is(wav.channels, 2);
  const mono48 = resample(mixToMono(wav), wav.sampleRate, 48000);
  const r = flamFrontend(clip(mono48, 'mel_stereo44k.wav'), { bn: BN });
  const e = dbErrors(r.logMel, readNpyFixture('mel_stereo44k.logmel.npy.gz').data);
  assert.ok(e.e60 <= 0.01, `max error ${e.e60} dB within 60 dB`);
  assert.ok(e.e90 <= 0.1, `max error ${e.e90} dB within 90 dB`);
  report.push(`stereo44k via TS resampler: err60 ${e.e60.toExponential(1)}, err90 ${e.e90.toExponential(1)}, all ${e.all.toExponential(1)}`);
});

s('report', () => { console.log('  mel fixtures (dB errors):\n    ' + report.join('\n    ')); });

s.run();
