// The sweep end to end with tiny real runs: a 2×2 grid on the local pool, its summary, the
// Slurm array script (bash -n, one task per run, and one task actually run through it), and a
// sweep killed mid-way that resumes without redoing its finished runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { cli, env, tinyDataset } from './report-fixture.js';
import { runState } from '../src/sweep/local.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-sweep-'));
const data = join(dir, 'tiny.h5');
before(() => tinyDataset(data));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = { data: 'tiny.h5', epochs: 1, batch: 4, trainLimit: 40, workers: 0, model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 } };
const sweep = (args: string[]) => spawnSync(process.execPath, [cli, 'sweep', ...args], { encoding: 'utf8', env, cwd: dir });
const GRID_NAMES = ['loss.objLoss-mse_batch-4', 'loss.objLoss-mse_batch-8', 'loss.objLoss-bce_batch-4', 'loss.objLoss-bce_batch-8'];

test('a 2×2 grid runs on the local pool, is summarised, and becomes a Slurm array', () => {
  const file = join(dir, 'grid.json');
  writeFileSync(
    file,
    JSON.stringify({
      out: 'grid',
      base,
      grid: { 'loss.objLoss': ['mse', 'bce'], batch: [4, 8] },
      slurm: { cpusPerTask: 2, time: '01:00:00', node: process.execPath, setup: ['echo setting up'] },
    }),
  );
  const r = sweep([file, '--parallel', '2', '--threads', '2']);
  assert.equal(r.status, 0, r.stderr);
  for (const name of GRID_NAMES) {
    const run = join(dir, 'grid', name);
    assert.equal(runState(run), 'done', `${name}: ${r.stderr}`);
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).config;
    assert.equal(cfg.threads, 1, 'two threads divided between two parallel runs');
    assert.equal(cfg.batch, Number(name.slice(-1)));
    assert.equal(cfg.loss.objLoss, name.includes('bce') ? 'bce' : 'mse');
  }
  assert.match(r.stdout, /4 finished now, 0 finished earlier, 0 failed/);

  const s = sweep([file, '--summary', '--events', '1']);
  assert.equal(s.status, 0, s.stderr);
  const lines = s.stdout.split('\n');
  assert.match(lines[0]!, /loss\.objLoss\s+batch\s+status/);
  assert.equal(lines.filter((l) => /^(mse|bce)\s+[48]\s+finished\s+1\s/.test(l)).length, 4, s.stdout);
  const html = readFileSync(join(dir, 'grid', 'summary.html'), 'utf8');
  for (const name of GRID_NAMES) assert.ok(html.includes(name), `summary report names ${name}`);

  const w = sweep([file, '--slurm']);
  assert.equal(w.status, 0, w.stderr);
  const script = join(dir, 'grid', 'sweep.sbatch');
  const text = readFileSync(script, 'utf8');
  assert.equal(spawnSync('bash', ['-n', script]).status, 0, 'bash -n');
  assert.match(text, /^#SBATCH --array=0-3$/m);
  assert.match(text, /^#SBATCH --cpus-per-task=2$/m);
  assert.match(text, /^#SBATCH --time=01:00:00$/m);
  GRID_NAMES.forEach((name, i) => assert.ok(text.includes(`'${name}'  # ${i}`), `task ${i} is ${name}`));
  assert.match(w.stdout, /--task \$SLURM_ARRAY_TASK_ID/);

  // Run one array task as Slurm would, after losing that run: only it is trained again.
  const lost = join(dir, 'grid', GRID_NAMES[2]!);
  const kept = join(dir, 'grid', GRID_NAMES[1]!, 'metrics.jsonl');
  const keptTime = statSync(kept).mtimeMs;
  rmSync(lost, { recursive: true });
  const t = spawnSync('bash', [script], { encoding: 'utf8', env: { ...env, SLURM_ARRAY_TASK_ID: '2', SLURM_CPUS_PER_TASK: '1' } });
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /setting up/);
  assert.equal(runState(lost), 'done');
  assert.equal(JSON.parse(readFileSync(join(lost, 'config.json'), 'utf8')).config.threads, 1, 'SLURM_CPUS_PER_TASK threads');
  assert.equal(statSync(kept).mtimeMs, keptTime, 'other runs untouched');
});

test('a killed sweep resumes: finished runs are skipped, the interrupted one resumes from its checkpoint', async () => {
  const file = join(dir, 'kill.json');
  writeFileSync(file, JSON.stringify({ out: 'kill', base: { ...base, epochs: 4 }, grid: { seed: [1, 2] }, parallel: 1, threads: 1 }));
  const [first, second] = ['seed-1', 'seed-2'].map((n) => join(dir, 'kill', n)) as [string, string];
  // Its own process group, so the kill takes the sweep and its training child together.
  const child = spawn(process.execPath, [cli, 'sweep', file], { env, cwd: dir, detached: true, stdio: 'ignore' });
  const t0 = Date.now();
  while (!(runState(first) === 'done' && runState(second) === 'resume')) {
    assert.ok(Date.now() - t0 < 180_000, 'timed out waiting for the second run to save a checkpoint');
    assert.notEqual(runState(second), 'done', 'the second run finished before it could be killed');
    await new Promise((r) => setTimeout(r, 25));
  }
  process.kill(-child.pid!, 'SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.equal(runState(second), 'resume');
  const firstMetrics = statSync(join(first, 'metrics.jsonl')).mtimeMs;

  const r = sweep([file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /seed-1: finished earlier \(done\.json\), skipped/);
  assert.match(r.stderr, /seed-2: resume — daqyolo train --resume/);
  assert.match(r.stdout, /1 finished now, 1 finished earlier/);
  assert.equal(statSync(join(first, 'metrics.jsonl')).mtimeMs, firstMetrics, 'the finished run was not redone');
  assert.equal(runState(second), 'done');
  const epochs = readFileSync(join(second, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((x) => x.type === 'epoch')
    .map((x) => x.epoch);
  assert.deepEqual(epochs, [0, 1, 2, 3], 'each epoch once: resumed, not restarted');
  assert.ok(existsSync(join(dir, 'kill', 'logs', 'seed-2.log')));
});
