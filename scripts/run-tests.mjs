#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner.
// Pass file-name fragments to run a subset: `node scripts/run-tests.mjs loss engine`.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'test');
const files = [];
(function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(dir);
const filters = process.argv.slice(2);
// The longest files start first, so that two at a time do not end with one long file running
// alone (measured on the 2-core machine, 2026-12-06: each of these takes 40–130 s, most others < 20 s).
const longest = [
  'study-plan',
  'study-budget',
  'c10d/train-parallel',
  'eval/fprate-shards',
  'faults/crash',
  'faults/runs',
  'c10d/process-group',
  'report-html',
  'faults/fprate-state',
  'evaluate-run',
].map((name) => join(dir, `${name}.test.js`));
for (const f of longest) if (!files.includes(f)) console.error(`run-tests: ${f} is in the longest-first list but not built`);
const rank = (f) => (longest.includes(f) ? longest.indexOf(f) : longest.length);
const chosen = files
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .sort((a, b) => rank(a) - rank(b));
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Progress displays off unless asked for: the commands the tests run print one-line errors that the
// tests count, and on a terminal without CI set a progress line would be counted with them (tests of
// the progress display set DAQYOLO_PROGRESS themselves).
// Two test files at a time, each with one libtorch/OpenMP thread: much of the suite waits (child
// processes starting, timeouts of the fault tests, Chromium), and one thread per file keeps two
// files from spinning OpenMP pools against each other on a 2-core machine. DAQYOLO_TEST_JOBS=1
// runs the files one after another (tests that set their own thread count still do).
const jobs = Number(process.env.DAQYOLO_TEST_JOBS ?? Math.min(2, availableParallelism()));
const env = {
  ...process.env,
  DAQYOLO_PROGRESS: process.env.DAQYOLO_PROGRESS ?? 'off',
  DAQYOLO_THREADS: process.env.DAQYOLO_THREADS ?? '1',
  OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1', // the Python peers' (PyTorch, h5py) pools too
};
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${jobs}`, ...chosen], { stdio: 'inherit', cwd: root, env });
process.exit(r.status ?? 1);
