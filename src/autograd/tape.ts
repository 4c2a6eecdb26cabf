// The autograd tape: nodes are recorded on output tensors only when grad mode is on and an input requires grad.
// backward() walks reverse topological order, accumulates gradients in a map keyed by tensor id, sums broadcast
// gradients back to each input's shape (the op's backward does that), and frees each node's saved tensors once
// it has run. Leaf tensors with requiresGrad receive `.grad` (accumulated across backward calls).
import { Tensor, scope, keep, type GradNode } from '../tensor/tensor.ts';

// Grad mode is off while any noGrad region is active. A depth counter (not a saved previous value) keeps async
// regions that overlap or end out of order from leaving recording switched off: every region entered leaves once.
let noGradDepth = 0;

export function isGradEnabled(): boolean { return noGradDepth === 0; }

/** Run fn with recording off (inference, optimizer updates). Async functions keep it off until they settle. */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  let r: T;
  try {
    r = fn();
  } catch (e) {
    noGradDepth--;
    throw e;
  }
  if (r && typeof (r as any).then === 'function') {
    return (r as any).finally(() => { noGradDepth--; });
  }
  noGradDepth--;
  return r;
}

/** True when an op with these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (noGradDepth > 0) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Attach a node to `out`. `saved` tensors are retained (own handles) and freed after the node's backward.
 * backward receives the upstream gradient and returns one gradient per input (null = none), each already of the
 * input's shape.
 */
export function record(out: Tensor, name: string, inputs: Tensor[], backward: (g: Tensor, saved: Tensor[]) => (Tensor | null)[], saved: Tensor[] = []): Tensor {
  const kept = saved.map((t) => t.retain());
  out.requiresGrad = true;
  const node: GradNode = { name, inputs, saved: kept, backward: (g) => backward(g, kept) };
  out.node = node;
  return out;
}

/**
 * Backpropagate from `loss` (any shape; `grad` defaults to ones of that shape, which must then be a scalar).
 * Leaves get `.grad` accumulated. The graph is freed afterwards (nodes cleared, saved tensors disposed).
 */
export function backward(loss: Tensor, grad?: Tensor): void {
  loss.check('backward');
  if (!loss.requiresGrad) throw new Error(`backward: ${loss} does not require grad (no input of it had requiresGrad, or it was computed under noGrad)`);
  if (!grad && loss.size !== 1) throw new Error(`backward: ${loss} is not a scalar; pass the upstream gradient`);
  if (grad && grad.size !== loss.size) throw new Error(`backward: gradient ${grad} does not match ${loss}`);
  // Topological order by iterative DFS over nodes.
  const order: Tensor[] = [];
  const seen = new Set<number>();
  const stack: [Tensor, number][] = [[loss, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (i === 0) { if (seen.has(t.id)) { stack.pop(); continue; } seen.add(t.id); }
    const ins = t.node ? t.node.inputs : [];
    if (i < ins.length) { top[1]++; const c = ins[i]; if (c.requiresGrad && !seen.has(c.id)) stack.push([c, 0]); }
    else { stack.pop(); order.push(t); }
  }
  noGrad(() => scope(() => {
    const grads = new Map<number, Tensor>();
    grads.set(loss.id, grad ?? onesLike(loss));
    for (let oi = order.length - 1; oi >= 0; oi--) {
      const t = order[oi];
      const g = grads.get(t.id);
      if (!g) continue;
      grads.delete(t.id);
      if (!t.node) {
        // leaf
        if (t.grad) { const acc = addInPlaceHook(t.grad, g); t.grad = keep(acc); }
        else t.grad = keep(g.shape.length === t.shape.length && g.shape.every((d, i) => d === t.shape[i]) ? g : g.reshape(t.shape as number[]));
        continue;
      }
      const node = t.node;
      const gin = node.backward(g);
      for (let k = 0; k < node.inputs.length; k++) {
        const inp = node.inputs[k], gi = gin[k];
        if (!gi || !inp.requiresGrad) continue;
        if (gi.size !== inp.size) throw new Error(`backward of ${node.name}: gradient ${gi} does not match input ${inp}`);
        const prev = grads.get(inp.id);
        grads.set(inp.id, prev ? addHook(prev, gi) : gi);
      }
      for (const s of node.saved) s.dispose();
      node.saved.length = 0;
      t.node = null;
    }
  }));
}

// Arithmetic needed by the tape, installed by src/autograd/ops.ts (avoids an import cycle).
let addHook: (a: Tensor, b: Tensor) => Tensor = () => { throw new Error('autograd ops not loaded'); };
let addInPlaceHook: (a: Tensor, b: Tensor) => Tensor = addHook;
let onesLike: (t: Tensor) => Tensor = () => { throw new Error('autograd ops not loaded'); };
export function installTapeHooks(h: { add: typeof addHook; accumulate: typeof addInPlaceHook; ones: typeof onesLike }): void {
  addHook = h.add; addInPlaceHook = h.accumulate; onesLike = h.ones;
}
