// A tiny synthetic source set (tones, chirps, noise bursts...) with its own class table: for the tests and the
// simulator benchmark, which must not depend on Debian packages. Every source has known silent padding before and
// after the sound, so tests can check that labels follow the audible extent rather than the file extent.
// Browser-safe.

import type { ClassDef } from './classes.ts';
import { hashSeed, Rng } from './rng.ts';
import type { PoolSource } from './simulate.ts';

const SR = 48000;

/** Classes of the synthetic set: five seen classes and one held-out class, one background. */
export const SYNTH_CLASSES: readonly ClassDef[] = Object.freeze([
  { label: 'beep', group: 'synthetic', role: 'event', captions: ['a short beep', 'an electronic beep tone', 'a device beeping', 'a pure tone sounding', 'a single high beep'] },
  { label: 'chirp', group: 'synthetic', role: 'event', captions: ['a rising chirp', 'a tone sweeping upwards', 'a quick frequency sweep', 'a zipping sound'] },
  { label: 'noise_burst', group: 'synthetic', role: 'event', captions: ['a burst of noise', 'a short hiss', 'a blast of static', 'a noisy whoosh'] },
  { label: 'click_train', group: 'synthetic', role: 'event', captions: ['rapid clicking', 'a train of clicks', 'a ticking sound', 'fast mechanical clicks'] },
  { label: 'hum', group: 'synthetic', role: 'event', captions: ['a low hum', 'an electrical buzz', 'a droning hum', 'a mains hum'] },
  { label: 'warble', group: 'synthetic', role: 'event', heldOut: true, captions: ['a warbling tone', 'a wobbling siren-like sound', 'a vibrating tone', 'a trilling electronic sound'] },
  { label: 'drone_bed', group: 'synthetic', role: 'background', captions: ['a steady background drone', 'a faint constant rumble', 'low background noise', 'a distant hum of machinery'] },
]);

/** A synthetic source: `leadSamples` of digital silence, the sound (`soundSamples`, from its first to its last
 * non-zero sample), then silence. */
export interface SynthSource extends PoolSource { leadSamples: number; soundSamples: number }

/**
 * `perClass` sources of each synthetic class for a seed: lead silence, the sound (0.2-1.5 s; backgrounds 3 s)
 * with 5 ms ramps, tail silence; peak 0.5.
 */
export function syntheticSources(seed: number, perClass = 6): SynthSource[] {
  const out: SynthSource[] = [];
  for (const c of SYNTH_CLASSES) {
    for (let i = 0; i < perClass; i++) {
      const id = `synth-${c.label}-${String(i).padStart(3, '0')}`;
      const r = new Rng(hashSeed(seed, id));
      const lead = Math.round(r.uniform(0.05, 0.2) * SR), tail = Math.round(r.uniform(0.05, 0.3) * SR);
      const len = Math.round((c.role === 'background' ? 3 : r.uniform(0.2, 1.5)) * SR);
      const x = new Float32Array(lead + len + tail);
      const f0 = r.uniform(200, 2000), f1 = r.uniform(2000, 6000), ph = r.uniform(0, 6.28);
      let lp = 0;
      for (let j = 0; j < len; j++) {
        const t = j / SR;
        let v: number;
        switch (c.label) {
          case 'beep': v = Math.sin(2 * Math.PI * f0 * t + ph); break;
          case 'chirp': v = Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * (len / SR))) + ph); break;
          case 'noise_burst': v = r.normal() * 0.5; break;
          case 'click_train': v = j % Math.round(SR / (20 + f0 / 50)) < 24 ? 1 - (j % Math.round(SR / (20 + f0 / 50))) / 24 : 0; break;
          case 'hum': v = 0.6 * Math.sin(2 * Math.PI * 50 * t) + 0.3 * Math.sin(2 * Math.PI * 100 * t) + 0.2 * Math.sin(2 * Math.PI * 150 * t); break;
          case 'warble': v = Math.sin(2 * Math.PI * f0 * t + 4 * Math.sin(2 * Math.PI * 7 * t)); break;
          default: lp = 0.98 * lp + 0.02 * r.normal(); v = lp * 10; break;
        }
        const ramp = Math.min(1, j / 240, (len - 1 - j) / 240);
        x[lead + j] = v * ramp;
      }
      let peak = 0;
      for (let j = 0; j < x.length; j++) peak = Math.max(peak, Math.abs(x[j]));
      if (peak > 0) for (let j = 0; j < x.length; j++) x[j] *= 0.5 / peak;
      // The sound's extent = first to last non-zero sample (a click train may end before `len`).
      let first = 0, last = x.length - 1;
      while (first < x.length && x[first] === 0) first++;
      while (last > first && x[last] === 0) last--;
      out.push({ id, label: c.label, audio: x, leadSamples: first, soundSamples: last + 1 - first });
    }
  }
  return out;
}
