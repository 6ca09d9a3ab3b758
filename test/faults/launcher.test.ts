// `train --nproc 2` with its launcher killed outright (issue 30): the ranks see their IPC channel
// close, stop after the same step, save `last` and release the run's lock, so that
// `train --resume DIR` is not refused as in use by a rank training on unattended.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, tinyDataset, trainArgs, waitFor, metrics } from './fixture.js';
import { RunDir } from '../../src/run/run-dir.js';
import { readCheckpointMeta } from '../../src/nn/serialize.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-launcher-'));
const data = join(dir, 'tiny.h5');
before(() => tinyDataset(data));
after(() => rmSync(dir, { recursive: true, force: true }));

/** PIDs of processes whose command line holds `text` (the ranks name the run directory). */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(text) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ')
          ? [Number(p)]
          : [];
      } catch {
        return [];
      }
    });
}

test('the ranks of a SIGKILLed launcher stop, save last and release the lock', async () => {
  const out = join(dir, 'ddp');
  // Far more epochs than the test waits for: ranks that ran on would still be training.
  const launcher = start(trainArgs(data, out, 5000, ['--nproc', '2', '--threads', '1']));
  try {
    await waitFor(() => metrics(out).some((r) => r.type === 'batch'), 120_000, 'the ranks to train a batch');
    assert.equal(processesWith(out).length, 3, 'the launcher and its two ranks');
    launcher.kill('SIGKILL');
    await waitFor(() => processesWith(out).length === 0, 60_000, 'the ranks to stop after their launcher was killed');
  } finally {
    for (const pid of processesWith(out)) process.kill(pid, 'SIGKILL');
  }
  assert.ok(!existsSync(join(out, 'done.json')), 'stopped, not trained to the end');
  assert.equal(new RunDir(out).lockedBy(), null, 'the lock is released');
  const last = join(out, 'checkpoints', 'last.safetensors');
  assert.ok(existsSync(last), 'last was saved when they stopped');
  const step = Number(readCheckpointMeta(last).step);
  assert.equal(
    step,
    metrics(out)
      .filter((r) => r.type === 'batch')
      .at(-1)!.step + 1,
    'last holds the step the ranks stopped after',
  );
});
