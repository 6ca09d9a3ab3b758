// pidAlive decides whether a run directory's lock (and a temporary file) belongs to a running
// process. A killed process whose parent died too stays a zombie until init reaps it — in a
// container possibly for good — and kill(pid, 0) still succeeds for it; a zombie must count as
// gone, or a killed sweep's run can never be resumed ("in use by process N").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pidAlive } from '../../src/util/pid-alive.js';

test('pidAlive: this process and a sleeping one are alive; a zombie and a finished process are not', async () => {
  assert.equal(pidAlive(process.pid), true);
  assert.equal(pidAlive(0), false);
  // The inner shell waits until its parent has become `sleep` (bash, before its exec, would reap
  // it: under load that race was lost), then prints its PID and exits: `sleep` never reaps it.
  const inner = 'until [ "$(cat /proc/$PPID/comm)" = sleep ]; do sleep 0.01; done; echo $$';
  const parent = spawn('bash', ['-c', `sh -c '${inner}' & exec sleep 5`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const zombie = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d) => r(String(d)))));
  let state = '';
  for (let i = 0; i < 50 && state !== 'Z'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  }
  assert.equal(state, 'Z', 'the test made a zombie');
  assert.doesNotThrow(() => process.kill(zombie, 0), 'kill(pid, 0) succeeds for a zombie');
  assert.equal(pidAlive(zombie), false);
  assert.equal(pidAlive(parent.pid!), true);
  parent.kill('SIGKILL');
  await new Promise((r) => parent.once('close', r));
  assert.equal(pidAlive(parent.pid!), false);
});
