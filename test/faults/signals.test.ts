// Ctrl-C and SIGTERM in the middle of an epoch (train) and of a measurement (fprate): stop after
// the current batch, save, exit 130 / 143; a second Ctrl-C stops at once without damage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, run, start, tinyDataset, trainArgs, metrics, waitFor, sleep } from './fixture.js';
import { readCheckpointMeta } from '../../src/nn/serialize.js';
import { loadSafetensors } from '../../src/torch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-signals-'));
const data = join(dir, 'tiny.h5');
before(() => tinyDataset(data, 400)); // 320 training images, batch 2: 160 batches per epoch
after(() => rmSync(dir, { recursive: true, force: true }));

const args = (out: string) => trainArgs(data, out, 2, ['--batch', '2', '--val-limit', '8']);
const batchRecords = (out: string) => metrics(out).filter((m) => m.type === 'batch');
/** The FP count fprate saved in a run's eval folder. */
const savedFpState = (out: string): { images: number } =>
  JSON.parse(
    readFileSync(
      join(
        out,
        'eval',
        readdirSync(join(out, 'eval')).find((f) => f.startsWith('fprate-'))!,
      ),
      'utf8',
    ),
  );

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`${signal} mid-epoch in train: stops after the current batch, saves last there, exits ${code}; --resume continues`, async () => {
    const out = join(dir, `train-${signal}`);
    const child = start(args(out));
    await waitFor(() => batchRecords(out).length >= 5, 60_000, 'five training batches');
    const seen = batchRecords(out).length;
    child.kill(signal);
    assert.equal(await child.exited, code, child.output().slice(-500));
    const done = batchRecords(out).length;
    assert.ok(done >= seen && done <= seen + 3, `stopped after the current batch: ${seen} seen at the signal, ${done} done`);
    const meta = readCheckpointMeta(join(out, 'checkpoints', 'last.safetensors'));
    assert.deepEqual([meta.epoch, meta.batch, meta.step], [0, done, done], 'last saved mid-epoch, at the batch it stopped after');
    assert.match(child.output(), /train --resume/);
    assert.ok(!existsSync(join(out, 'lock')) && !existsSync(join(out, 'done.json')));
    const r = run(['train', '--resume', out, '--epochs', '1']);
    assert.equal(r.status, 0, r.stderr.slice(-500));
    assert.equal(batchRecords(out).length, 160);
  });
}

test('a second Ctrl-C stops at once; what is on disk is whole and resumable', async () => {
  const out = join(dir, 'twice');
  const child = start(args(out));
  await waitFor(() => batchRecords(out).length >= 3, 60_000, 'three training batches');
  child.kill('SIGINT');
  await sleep(5);
  child.kill('SIGINT');
  assert.equal(await child.exited, 130);
  assert.ok(!existsSync(join(out, 'lock')), 'the lock is released on exit');
  for (const f of readdirSync(join(out, 'checkpoints'))) {
    assert.ok(f.endsWith('.safetensors'), `no temporary file: ${f}`);
    assert.doesNotThrow(() => loadSafetensors(join(out, 'checkpoints', f)));
  }
  JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  const r = run(['train', '--resume', out, '--epochs', '1']);
  assert.equal(r.status, 0, r.stderr.slice(-500));
});

test('SIGINT in fprate: stops after the current batch, saves the count, exits 130; the same command continues', async () => {
  const out = join(dir, 'train-SIGINT'); // trained one epoch above
  const child = start(['fprate', out, '--images', '1000000', '--workers', '0', '--batch', '4', '--parallel', '1']);
  await waitFor(() => existsSync(join(out, 'eval')), 60_000, 'fprate to start');
  await sleep(1500);
  child.kill('SIGINT');
  const t0 = Date.now();
  assert.equal(await child.exited, 130, child.output().slice(-500));
  assert.ok(Date.now() - t0 < 20_000, 'stopped promptly');
  const state = savedFpState(out);
  assert.ok(state.images > 0 && state.images < 1_000_000 && state.images % 4 === 0, `${state.images} images counted`);
  const more = run(['fprate', out, '--images', String(state.images + 8), '--workers', '0', '--batch', '4', '--parallel', '1', '--json']);
  assert.equal(more.status, 0, more.stderr.slice(-300));
  assert.equal(JSON.parse(more.stdout).images, state.images + 8);
});

/** Whether a process runs: its /proc entry exists and is not a zombie left for a reaper. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('a shard whose parent died while it was still starting stops after its first batch and saves: no orphan runs on', async () => {
  // fprate --parallel forks its shards with an IPC channel, and a shard stops when that channel
  // closes. A parent killed while a shard was still loading libtorch closed it before the shard
  // listened; the shard then ran its whole stream unattended (seen as a flaky pool test).
  const out = join(dir, 'train-SIGINT'); // trained one epoch above
  rmSync(join(out, 'eval'), { recursive: true, force: true });
  const log = join(dir, 'orphan.log');
  const parent = join(dir, 'parent.mjs');
  const args = ['fprate', out, '--images', '1000000', '--workers', '0', '--batch', '4', '--parallel', '1'];
  writeFileSync(
    parent,
    `import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
const fd = openSync(${JSON.stringify(log)}, 'w');
const child = fork(${JSON.stringify(cli)}, ${JSON.stringify(args)}, { stdio: ['ignore', fd, fd, 'ipc'] });
console.log(child.pid);
process.exit(0); // gone before the child has loaded anything
`,
  );
  const p = spawnSync(process.execPath, [parent], { encoding: 'utf8' });
  const pid = Number(p.stdout.trim());
  assert.ok(pid > 0, p.stderr);
  try {
    await waitFor(() => !running(pid), 60_000, 'the orphaned shard to stop');
  } finally {
    if (running(pid)) process.kill(pid, 'SIGKILL');
  }
  assert.match(readFileSync(log, 'utf8'), /the parent process is gone/);
  const state = savedFpState(out);
  assert.ok(state.images < 1_000_000, `${state.images} images counted`);
});
