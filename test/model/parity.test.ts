// PyTorch parity of the FLAM encoders and heads on tiny configs: fixtures from
// test/fixtures/encoders/make_fixtures.py (float64 torch modules with the official names, random f32 weights).
// One `OK maxdiff` line per tensor: every block output within 1e-4 absolute; every parameter gradient within
// TOL.grad read norm-wise, max|g - g_ref| <= 1e-4 + 1e-3 * max|g_ref| (1e-3 relative to the tensor's largest
// reference magnitude: a near-zero element carries the absolute rounding of the whole backward pass, and the key
// biases' true gradient is exactly 0, since softmax ignores a per-row constant q.b_k, so only f32 noise is left).
import { suite } from 'uvu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as F from '../../src/index.ts';
import { decodeSafetensors, type SafetensorsArchive } from '../../src/io/safetensors.ts';
import { Htsat, type HtsatConfig } from '../../src/model/htsat.ts';
import { TextEncoder, type TextConfig } from '../../src/model/text.ts';
import { FlamHeads, type HeadsConfig } from '../../src/model/heads.ts';
import type { Module } from '../../src/nn/module.ts';
import { getTestDevice } from '../util/gpu.ts';
import { TOL } from '../util/compare.ts';

const s = suite('encoders vs PyTorch');
const dir = join(import.meta.dirname, '../fixtures/encoders');
const read = (f: string) => decodeSafetensors(readFileSync(join(dir, f)), f);
const FWD_ABS = 1e-4;

function f32(a: SafetensorsArchive, k: string): Float32Array {
  const d = a.get(k).data();
  return d instanceof Float32Array ? d : Float32Array.from(Array.from(d as ArrayLike<number | bigint>, Number));
}

function loadInto(m: Module, w: SafetensorsArchive, prefix: string, skip: (k: string) => boolean = () => false): void {
  const vals = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const k of w.names) {
    if (!k.startsWith(prefix) || skip(k)) continue;
    vals.set(k.slice(prefix.length), { shape: w.get(k).shape, data: f32(w, k) });
  }
  m.loadStateDict(vals);
}

function compare(name: string, got: ArrayLike<number>, ref: Float32Array, shape: readonly number[], mode: 'abs' | 'rel'): string | null {
  if (got.length !== ref.length) return `${name}: ${got.length} values, reference has ${ref.length}`;
  let md = 0, mr = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    if (!(d <= md)) md = Number.isNaN(d) ? Infinity : d;
    mr = Math.max(mr, Math.abs(ref[i]));
  }
  const rel = md / Math.max(mr, 1e-30);
  const ok = mode === 'abs' ? md <= FWD_ABS : md <= TOL.grad.atol + TOL.grad.rtol * mr;
  console.log(`${ok ? 'OK' : 'FAIL'} maxdiff ${md.toExponential(2)} (rel ${rel.toExponential(2)}) ${name} [${shape.join(', ')}]`);
  return ok ? null : `${name}: max diff ${md} (relative ${rel}) over the bound`;
}

s('HTSAT, text encoder and heads: every block output and every parameter gradient match PyTorch', async () => {
  const rt = await getTestDevice();
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { htsat: HtsatConfig; text: TextConfig; heads: HeadsConfig };
  const [inp, w, out, grads] = ['inputs', 'weights', 'outputs', 'grads'].map((f) => read(`${f}.safetensors`));
  const htsat = new Htsat(rt, cfg.htsat, { init: 'zeros' });
  const text = new TextEncoder(rt, cfg.text, { init: 'zeros' });
  const heads = new FlamHeads(rt, cfg.heads, { init: 'zeros' });
  const failures: string[] = [];
  try {
    loadInto(htsat, w, 'audio_branch.');
    loadInto(text, w, 'text_branch.');
    loadInto(heads, w, '', (k) => k.startsWith('audio_branch.') || k.startsWith('text_branch.'));
    await F.scope(async () => {
      const img = F.tensor(rt, f32(inp, 'image'), inp.get('image').shape);
      const a = htsat.forward(img, { intermediates: true });
      const ids = inp.get('ids');
      const t = text.forward({ ids: ids.data() as Int32Array, lengths: Array.from(inp.get('lengths').data() as Int32Array), seqLen: ids.shape[1] }, { intermediates: true });
      const ae = heads.audioEmbeddings(a.frames, a.global);
      const outs: Record<string, F.Tensor> = { a_local: ae.local, a_global: ae.global, t: heads.textEmbeddings(t.pooled), alpha: heads.alpha(t.pooled), beta: heads.beta(t.pooled) };
      const checks: [string, F.Tensor][] = [
        ...[...a.intermediates!].map(([k, v]) => [`audio.${k}`, v] as [string, F.Tensor]),
        ['audio.frames', a.frames], ['audio.global', a.global],
        ...[...t.intermediates!].map(([k, v]) => [`text.${k}`, v] as [string, F.Tensor]),
        ['text.pooled', t.pooled],
        ...Object.entries(outs).map(([k, v]) => [`heads.${k}`, v] as [string, F.Tensor]),
      ];
      for (const [k, v] of checks) { const e = compare(k, await v.data(), f32(out, k), v.shape, 'abs'); if (e) failures.push(e); }
      let loss: F.Tensor | null = null;
      for (const [k, v] of Object.entries(outs)) {
        const term = F.sumAll(F.mul(v, F.tensor(rt, f32(inp, `R.${k}`), v.shape)));
        loss = loss ? F.add(loss, term) : term;
      }
      { const e = compare('loss', await loss!.data(), f32(out, 'loss'), [1], 'abs'); if (e) failures.push(e); }
      F.backward(loss!);
      const params = new Map<string, F.Tensor>([
        ...htsat.namedParameters('audio_branch.'), ...text.namedParameters('text_branch.'), ...heads.namedParameters(),
      ]);
      for (const k of grads.names) {
        const p = params.get(k);
        if (!p) { failures.push(`no parameter named ${k}`); continue; }
        if (!p.grad) { failures.push(`${k}: no gradient`); continue; }
        const e = compare(`grad ${k}`, await p.grad.data(), f32(grads, k), p.shape, 'rel');
        if (e) failures.push(e);
      }
      for (const [k, p] of params) if (p.grad && !grads.has(k)) failures.push(`${k} got a gradient that PyTorch does not have`);
      for (const p of params.values()) { p.grad?.dispose(); p.grad = null; }
    });
  } finally { htsat.dispose(); text.dispose(); heads.dispose(); }
  if (failures.length) throw new Error(`${failures.length} tensors differ from PyTorch:\n${failures.join('\n')}`);
});

s.run();
