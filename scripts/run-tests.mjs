#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's built-in test runner.
// Pass file-name fragments to run a subset: `node scripts/run-tests.mjs loss engine`.
import { spawnSync } from 'node:child_process';
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
const chosen = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Progress displays off unless asked for: the commands the tests run print one-line errors that the
// tests count, and on a terminal without CI set a progress line would be counted with them (tests of
// the progress display set DAQYOLO_PROGRESS themselves).
const env = { ...process.env, DAQYOLO_PROGRESS: process.env.DAQYOLO_PROGRESS ?? 'off' };
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...chosen], { stdio: 'inherit', cwd: root, env });
process.exit(r.status ?? 1);
