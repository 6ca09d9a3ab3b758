// The study as a library (issue 28): the seed plan called as a script would, without the CLI. A
// dry run measures one training step for the estimate and returns the plan's runs, straight from
// the experiment table, without touching the folder or calling any hook but `log`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSeedPlan, type SeedPlanHooks } from '../src/study/seed-plan-run.js';
import { seedExperiments, seedPlanDefaults } from '../src/study/seed-plan.js';
import { EXPERIMENTS, experimentGroups } from '../src/study/experiments.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-study-lib-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('runSeedPlan dry run: the runs of the experiment table with a measured estimate, nothing written, no hook but log called', async () => {
  const notInADryRun = (what: string) => () => {
    throw new Error(`${what} called in a dry run`);
  };
  const lines: string[] = [];
  const hooks: SeedPlanHooks<{ findings: unknown[] }> = {
    train: notInADryRun('train'),
    baselineParams: notInADryRun('baselineParams'),
    baseline: notInADryRun('baseline'),
    validationMaps: notInADryRun('validationMaps'),
    writeReport: notInADryRun('writeReport'),
    onStop: notInADryRun('onStop'),
    progress: notInADryRun('progress'),
    log: (l) => lines.push(l),
  };
  const out = join(dir, 'plan');
  const overrides = { size: 64, images: 500, epochs: 2 };
  const r = await runSeedPlan({ out, quick: true, overrides, seed: 1, device: 'cpu', parallel: 1, slurm: false, dryRun: true, endpoint: true }, hooks);
  assert.equal(r.kind, 'dry-run');
  if (r.kind !== 'dry-run') return;
  const expected = seedExperiments({ ...seedPlanDefaults(true), ...overrides });
  assert.deepEqual(r.experiments, expected);
  // Every group of the table contributes its runs, in the table's order.
  assert.deepEqual([...new Set(r.experiments.map((e) => e.group))], [...experimentGroups]);
  assert.equal(r.experiments.find((e) => e.group === 'warmup')!.name, EXPERIMENTS.warmup.name);
  assert.deepEqual(
    r.estimate.perRun.map((x) => x.name),
    expected.map((e) => e.name),
  );
  assert.ok(
    r.estimate.perRun.every((x) => x.seconds > 10),
    'each run: its measured steps plus the fixed 10 s',
  );
  assert.match(r.estimate.basis, /ms per training step of sparse-yolov3-tiny width 0\.25 at 64 px, batch 8/);
  assert.match(lines.join('\n'), /expected time: /);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'a dry run writes nothing');
});
