// Loads the libtorch addon (build/Release/daqyolo_torch.node, built by `npm run setup`).
// Everything in src/torch calls libtorch through this one object.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** An opaque handle to one libtorch tensor reference, owned by a {@link Tensor}. */
export interface Handle { readonly __brand?: 'TensorHandle' }
/** An opaque handle to a libtorch optimiser. */
export interface OptimHandle { readonly __brand?: 'Optimizer' }

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Native = Record<string, (...args: any[]) => any>;

function load(): Native {
  // dist/src/torch/native.js → ../../../build/Release
  const path = fileURLToPath(new URL('../../../build/Release/daqyolo_torch.node', import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`the libtorch addon is not built (${path} is missing): run \`npm run setup\``);
  }
  return createRequire(import.meta.url)(path) as Native;
}

// OpenMP threads that spin while waiting make every libtorch op ~10× slower as soon as another
// busy thread shares the cores (data loading, simulation workers, a second run): measured 5–10 s
// instead of 0.75 s per YOLOv3 step on 2 cores. Passive waiting avoids that; the user's own
// OMP_WAIT_POLICY wins. libgomp reads it when the addon first loads it, so set it before.
// DAQYOLO_OMP=as-given leaves libgomp's own defaults (bench/omp-wait.ts compares settings).
if (process.env.DAQYOLO_OMP !== 'as-given' && process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
  process.env.OMP_WAIT_POLICY = 'PASSIVE';
}

export const native: Native = load();

// libtorch's OpenMP pool can start with one thread in containers; use every core unless the
// user chose (DAQYOLO_THREADS or OMP_NUM_THREADS). setNumThreads() changes it later.
{
  const { availableParallelism } = await import('node:os');
  const chosen = Number(process.env.DAQYOLO_THREADS ?? process.env.OMP_NUM_THREADS ?? availableParallelism());
  if (Number.isFinite(chosen) && chosen > 0) native.setNumThreads(Math.floor(chosen));
}
