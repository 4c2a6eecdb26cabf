import { gather, scatterAdd } from '../../kernels/gather.wgsl.ts';
import { type Runtime, type Binding, groups, checkBinding } from './common.ts';

export function gatherOp(rt: Runtime, table: Binding, idx: Binding, out: Binding, n: number, C: number, V: number): void {
  if (n * C === 0) return;
  checkBinding(rt, 'gather', 'table', V * C);
  rt.dispatch(gather.get({}), [table, idx, out], { n, C, V }, groups(n * C, 256));
}

/** CSR plan of the indices: rowStart[V+1], pos[n] (positions grouped by row, ascending within a row). */
export function scatterPlan(idx: ArrayLike<number>, V: number): { rowStart: Uint32Array; pos: Uint32Array } {
  const rowStart = new Uint32Array(V + 1);
  for (let i = 0; i < idx.length; i++) { const v = idx[i]; if (v >= 0 && v < V) rowStart[v + 1]++; }
  for (let v = 0; v < V; v++) rowStart[v + 1] += rowStart[v];
  const fillp = rowStart.slice(0, V);
  const pos = new Uint32Array(Math.max(1, idx.length));
  for (let i = 0; i < idx.length; i++) { const v = idx[i]; if (v >= 0 && v < V) pos[fillp[v]++] = i; }
  return { rowStart, pos };
}

/** dTable = scatter-add of dy rows by idx; with a plan (rowStart, pos) in O(n C), else O(V n C). */
export function scatterAddOp(rt: Runtime, dy: Binding, dt: Binding, n: number, C: number, V: number, plan: { rowStart: Binding; pos: Binding } | { idx: Binding }): void {
  if (V * C === 0) return;
  if ('rowStart' in plan) rt.dispatch(scatterAdd.get({ mode: 'csr' }), [dy, plan.rowStart, plan.pos, dt], { n, C, V }, groups(V * C, 256));
  else rt.dispatch(scatterAdd.get({ mode: 'scan' }), [dy, plan.idx, dt], { n, C, V }, groups(V * C, 256));
}
