// Loads the libtorch addon (build/Release/daqyolo_torch.node, built by `npm run setup`).
// Everything in src/torch calls libtorch through this one object.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { addonMismatches, type Native } from './native-api.js';

export type { Handle, OptimHandle, GroupHandle, Native } from './native-api.js';

function load(): Native {
  // dist/src/torch/native.js → ../../../build/Release
  const path = fileURLToPath(new URL('../../../build/Release/daqyolo_torch.node', import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`the libtorch addon is not built (${path} is missing): run \`npm run setup\``);
  }
  const addon = createRequire(import.meta.url)(path) as Record<string, unknown>;
  // Every function is declared with its types and arity in native-api.ts: an addon built from
  // other sources (a function added, renamed or removed on one side only) stops here by name.
  const wrong = addonMismatches(addon);
  if (wrong.length > 0) {
    throw new Error(
      `the libtorch addon (${path}) does not match src/torch/native-api.ts (rebuild with \`node scripts/setup.mjs\`, or declare the function): ${wrong.join('; ')}`,
    );
  }
  return addon as unknown as Native;
}

// How libtorch's OpenMP threads wait between ops. Spinning for ever (OMP_WAIT_POLICY=ACTIVE) is
// fastest alone but makes every op many times slower once another busy thread shares the cores
// (data loading, simulation workers, a second run): 9.5× PASSIVE at load 9–12 on 2 cores.
// Sleeping at once (PASSIVE) is robust but ≈ 1.45× slower per step on an idle machine. A bounded
// spin of 10 000 iterations measured within 5 % of ACTIVE idle (three runs: +1.7, +4.1, −0.2 %)
// and 0.84–1.31× PASSIVE with 2–4 busy processes, where ACTIVE is 1.36–1.8× (README, "OpenMP").
// The user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins. libgomp reads them when the addon first
// loads it, so set them before. DAQYOLO_OMP=as-given leaves libgomp's own defaults (bench/omp-wait.ts).
if (process.env.DAQYOLO_OMP !== 'as-given' && process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
  process.env.GOMP_SPINCOUNT = '10000';
}

export const native: Native = load();

// libtorch's OpenMP pool can start with one thread in containers; use every core unless the
// user chose (DAQYOLO_THREADS or OMP_NUM_THREADS). setNumThreads() changes it later.
{
  const { availableParallelism } = await import('node:os');
  const chosen = Number(process.env.DAQYOLO_THREADS ?? process.env.OMP_NUM_THREADS ?? availableParallelism());
  if (Number.isFinite(chosen) && chosen > 0) native.setNumThreads(Math.floor(chosen));
}
