// Small measuring helpers shared by the benchmarks: per-layer timing (sparse-profile, sparse-forms)
// and a trained run opened on a dataset's split (sparse-diagnose, false-positives, bn-recalibrate).
import { performance } from 'node:perf_hooks';
import { SparseConvBase } from '../src/nn/index.js';
import type { Module } from '../src/nn/index.js';
import type { SparseTensor } from '../src/torch/index.js';
import { openDataset } from '../src/data/store.js';
import { BatchLoader } from '../src/data/loader.js';
import { openRun, checkCompatible, type OpenedRun } from '../src/infer/open-run.js';

/**
 * A run's checkpoint opened against a dataset it can read, the image indices of each named split
 * (the first `limit` when limit > 0) and a loader over the dataset; close the loader when done.
 */
export function openRunOnData(
  runDir: string,
  data: string,
  splits: string[],
  o: { checkpoint?: string; limit?: number } = {},
): { opened: OpenedRun; indices: number[][]; loader: BatchLoader } {
  const opened = openRun(runDir, { checkpoint: o.checkpoint ?? 'best' });
  const reader = openDataset(data);
  let indices: number[][];
  try {
    checkCompatible(opened, reader);
    indices = splits.map((s) => Array.from(reader.split(s as 'val')).slice(0, o.limit && o.limit > 0 ? o.limit : undefined));
  } finally {
    reader.close();
  }
  return { opened, indices, loader: new BatchLoader({ path: data, workers: 1, prefetch: 2, pool: new Int32Array(0) }) };
}

/** Positional RUN:X[,X…] arguments (a run directory and its scores or cuts): the last colon splits them. */
export function runsWithScores(positionals: readonly string[]): { run: string; scores: number[] }[] {
  return positionals.map((p) => {
    const k = p.lastIndexOf(':');
    return {
      run: p.slice(0, k),
      scores: p
        .slice(k + 1)
        .split(',')
        .map(Number),
    };
  });
}

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
