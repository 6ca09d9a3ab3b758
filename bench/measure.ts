// Small measuring helpers shared by the per-layer benchmarks (sparse-profile, sparse-forms).
import { performance } from 'node:perf_hooks';
import { SparseConvBase } from '../src/nn/index.js';
import type { Module } from '../src/nn/index.js';
import type { SparseTensor } from '../src/torch/index.js';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Milliseconds on a clock: 'cpu' = user + system time of all threads (the work, which a shared
 * machine's load disturbs less than wall time), 'wall' = elapsed time.
 */
export function clockOf(kind: string): () => number {
  if (kind === 'wall') return () => performance.now();
  if (kind !== 'cpu') throw new Error(`--clock: cpu or wall, got '${kind}'`);
  return () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
}

/**
 * Calls `visit(name, layer, input)` before every sparse convolution of `model` runs, until the
 * returned function is called (it restores the layers' own forward).
 */
export function onSparseConvs(model: Module, visit: (name: string, layer: SparseConvBase, input: SparseTensor) => void): () => void {
  const names = new Map<object, string>();
  for (const [n, m] of model.namedModules()) names.set(m, n);
  const orig = SparseConvBase.prototype.forward;
  SparseConvBase.prototype.forward = function (this: SparseConvBase, inp: SparseTensor): SparseTensor {
    visit(names.get(this) ?? '?', this, inp);
    return orig.call(this, inp);
  };
  return () => {
    SparseConvBase.prototype.forward = orig;
  };
}
