// Sharded false-positive streams: 3 shards run as separate local processes and merged give
// exactly the histogram and table of one stream over the same images; incomplete or missing
// shards are refused; the Slurm array script is valid bash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../../src/sim/config.js';
import { generateDataset } from '../../src/data/generate.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { train } from '../../src/train/trainer.js';
import { measureFpRate, shardRange } from '../../src/eval/fprate.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-fpshard-'));
const data = join(dir, 'd.h5');
const run = join(dir, 'run');
const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await generateDataset({
    out: data,
    config: parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } }),
    images: 50,
    seed: 9,
    workers: 0,
  });
  await train({ config: parseTrainConfig({ data, out: run, epochs: 1, batch: 8, threads: 1, model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 } }) });
});

const cliRun = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, DAQYOLO_THREADS: '1' } });
    let stdout = '',
      stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });

test('shards are blocks of whole batches that cover the stream once', () => {
  for (const [n, total, batch] of [
    [3, 42, 8],
    [4, 10, 16],
    [7, 1000, 16],
    [1, 5, 2],
  ] as const) {
    const ranges = [...Array(n).keys()].map((i) => shardRange(i, n, total, batch));
    let next = 0;
    for (const r of ranges) {
      assert.equal(r.first, next);
      assert.ok(r.first % batch === 0);
      next = r.first + r.images;
    }
    assert.equal(next, total);
  }
});

test('3 shards in parallel processes, merged = one stream over the same images (exactly)', async () => {
  const one = await measureFpRate({ runDir: run, images: 42, batch: 8, workers: 0, checkpoint: 'init' });
  assert.ok(one.counts.reduce((a, b) => a + b, 0) > 0, 'the untrained network has false positives to count');
  unlinkSync(join(run, 'eval', `fprate-seed${one.seed}.json`));
  const args = (i: number) => ['fprate', run, '--images', '42', '--batch', '8', '--workers', '0', '--checkpoint', 'init', '--shard', `${i}/3`];
  // Nothing to merge yet; then shards 0 and 1 only: shard 2 is named as missing.
  const early = await cliRun(['fprate', run, '--merge']);
  assert.notEqual(early.code, 0);
  assert.match(early.stderr, /no shard files/);
  const shards = await Promise.all([0, 1].map((i) => cliRun(args(i))));
  for (const s of shards) assert.equal(s.code, 0, s.stderr);
  const missing = await cliRun(['fprate', run, '--merge']);
  assert.match(missing.stderr, /shard 2 of 3 missing \(fprate --shard i\/3\)/);
  const last = await cliRun(args(2));
  assert.equal(last.code, 0, last.stderr);
  assert.match(last.stdout, /shard 2\/3: images 32–41 of 42/);
  const merged = await cliRun(['fprate', run, '--merge', '--json']);
  assert.equal(merged.code, 0, merged.stderr);
  const m = JSON.parse(merged.stdout);
  assert.equal(m.images, 42);
  assert.equal(m.start, one.start);
  assert.deepEqual(m.counts, one.counts);
  assert.deepEqual(m.adcCounts, one.adcCounts, 'the ΣADC × score histogram adds up as the scores do');
  assert.deepEqual(m.rows, one.rows);
  assert.ok(readdirSync(join(run, 'eval')).includes(`fprate-seed${one.seed}.json`));
});

test('an unfinished shard is refused by --merge; the Slurm array script is valid bash', async () => {
  const r2 = join(dir, 'run2');
  rmSync(r2, { recursive: true, force: true });
  spawnSync('cp', ['-r', run, r2]);
  const f = join(
    r2,
    'eval',
    readdirSync(join(r2, 'eval')).find((x) => x.includes('shard1of3'))!,
  );
  const state = JSON.parse(readFileSync(f, 'utf8'));
  state.images = 8;
  state.top.images = 8; // the list is over the images counted
  (await import('node:fs')).writeFileSync(f, JSON.stringify(state));
  const m = await cliRun(['fprate', r2, '--merge']);
  assert.match(m.stderr, /shard 1\/3 is unfinished \(8 of 16 images\); run it again to finish/);
  const script = join(dir, 'fp.sbatch');
  const w = await cliRun(['fprate', run, '--images', '1000000', '--shards', '100', '--slurm', script]);
  assert.equal(w.code, 0, w.stderr);
  const text = readFileSync(script, 'utf8');
  assert.match(text, /#SBATCH --array=0-99/);
  assert.match(text, /--shard "\$SLURM_ARRAY_TASK_ID\/100"/);
  assert.equal(spawnSync('bash', ['-n', script]).status, 0);
});

/** Long enough that each shard saves its count (every --save-every 0.5 s) before it ends. */
const LONG = 4000;

test('--parallel 2: shards as child processes on this machine, merged = one stream; stopped by SIGINT to the pool alone, the same command finishes it with the same table', async () => {
  const one = await measureFpRate({ runDir: run, images: 48, batch: 8, workers: 0, checkpoint: 'init', seed: 77 });
  const r3 = join(dir, 'run3');
  rmSync(r3, { recursive: true, force: true });
  spawnSync('cp', ['-r', run, r3]);
  rmSync(join(r3, 'eval'), { recursive: true, force: true });
  const args = ['fprate', r3, '--images', '48', '--batch', '8', '--checkpoint', 'init', '--seed', '77', '--parallel', '2', '--json'];
  const p = await cliRun(args);
  assert.equal(p.code, 0, p.stderr);
  const m = JSON.parse(p.stdout);
  assert.equal(m.images, 48);
  assert.deepEqual(m.counts, one.counts);
  assert.deepEqual(m.adcCounts, one.adcCounts);
  assert.deepEqual(m.rows, one.rows);
  assert.deepEqual(
    readdirSync(join(r3, 'eval'))
      .filter((f) => f.includes('shard'))
      .sort(),
    ['fprate-seed77-shard0of2.json', 'fprate-seed77-shard1of2.json'],
  );

  // Stopped part-way: a SIGINT to the pool's process alone (its children are in their own process
  // group) is passed on to the children, which finish their batch and save their counts.
  rmSync(join(r3, 'eval'), { recursive: true, force: true });
  const long = ['fprate', r3, '--images', String(LONG), '--batch', '8', '--checkpoint', 'init', '--seed', '77', '--parallel', '2', '--save-every', '0.5'];
  const child = spawn(process.execPath, [cli, ...long], { env: { ...process.env, DAQYOLO_THREADS: '1' } });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', () => {});
  // Wait until both shards have saved a count, then stop the pool.
  const shardFiles = () => {
    try {
      return shardStates(join(r3, 'eval')).length;
    } catch {
      return 0;
    }
  };
  while (shardFiles() < 2) await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 130, 'exits with the SIGINT code after the children saved');
  assert.match(out, /stopped at \d+ of \d+ images \(in 2 shards\); run the same command to continue/);
  const saved = shardStates(join(r3, 'eval')).map((f) => JSON.parse(readFileSync(join(r3, 'eval', f), 'utf8')).images as number);
  assert.ok(
    saved.every((n) => n > 0 && n < LONG / 2),
    `each shard saved a partial count: ${saved}`,
  );

  // The pool's process killed outright: its children see their IPC channel close, stop after
  // their batch and save; none runs on. The same command then continues from what they saved.
  const again = spawn(process.execPath, [cli, ...long], { env: { ...process.env, DAQYOLO_THREADS: '1' } });
  const progressed = () => shardStates(join(r3, 'eval')).map((f) => JSON.parse(readFileSync(join(r3, 'eval', f), 'utf8')).images as number);
  while (progressed().reduce((a, b) => a + b, 0) === saved.reduce((a, b) => a + b, 0)) await new Promise((r) => setTimeout(r, 200));
  again.kill('SIGKILL');
  await new Promise((r) => again.on('close', r));
  const alive = () => spawnSync('pgrep', ['-f', `fprate ${r3} `]).status === 0;
  for (let i = 0; alive() && i < 100; i++) await new Promise((r) => setTimeout(r, 200));
  assert.ok(!alive(), 'the shards stopped with their parent');
  const afterKill = progressed();
  assert.ok(
    afterKill.every((n, i) => n >= saved[i]! && n < LONG / 2),
    `each shard saved its count when orphaned: ${afterKill}`,
  );
  // The whole stream in one process, for the comparison.
  unlinkSync(join(run, 'eval', 'fprate-seed77.json'));
  const whole = await measureFpRate({ runDir: run, images: LONG, batch: 8, workers: 0, checkpoint: 'init', seed: 77 });
  // Resumed with another batch (a changed default): the saved counts belong to batch 8's split, so
  // the pool continues at 8 and says so, and the table is the one stream's.
  const atOtherBatch = long.map((a, i) => (long[i - 1] === '--batch' ? '16' : a));
  const resumed = await cliRun([...atOtherBatch, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /continuing the saved counts of 2 shards at their batch 8, not 16/);
  assert.deepEqual(JSON.parse(resumed.stdout).counts, whole.counts);
  // Another total with the same split count is another split: refused, naming the file to delete.
  const other = await cliRun(['fprate', r3, '--images', String(LONG + 8), '--batch', '8', '--checkpoint', 'init', '--seed', '77', '--parallel', '2']);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /fprate-seed77-shard\dof2\.json is shard .*delete it to start again/);
});

/** The shards' state files in a folder: not the atomic writer's `.NAME.tmp-PID`, which a running shard
 *  renames away at any moment (reading one raced with the rename: ENOENT). */
function shardStates(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^fprate-.*shard\d+of\d+\.json$/.test(f));
}
