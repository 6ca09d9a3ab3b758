// Study folders (issue 30): study-plan.json and sweep.json hold paths relative to the folder, so a
// moved or copied study uses its own dataset and runs; a second study on a folder in use is refused
// in one line (the folder's lock), the plan's path as the default study's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, start, errorLines, waitFor } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-study-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny quick seed plan written as a Slurm array: the dataset is simulated, nothing trained. */
const plan = (out: string) => [
  'study',
  '--plan',
  'seed',
  '--quick',
  '--out',
  out,
  '--images',
  '40',
  '--size',
  '32',
  '--epochs',
  '2',
  '--width',
  '0.0625',
  '--variant',
  'yolov3-tiny',
  '--background',
  '8',
  '--fp-images',
  '64',
  '--low-stats',
  '16',
  '--warmup-epochs',
  '0',
  '--slurm',
];

test('a study folder moved or copied uses its own dataset and runs', () => {
  const st = join(dir, 'st');
  const first = run(plan(st), { env: { DAQYOLO_THREADS: '1' } });
  assert.equal(first.status, 0, first.stderr);
  for (const f of ['study-plan.json', 'sweep.json']) assert.doesNotMatch(readFileSync(join(st, f), 'utf8'), new RegExp(dir), `${f} holds no absolute path`);

  const moved = join(dir, 'st2');
  renameSync(st, moved);
  const again = run(plan(moved), { env: { DAQYOLO_THREADS: '1' } });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`using the dataset ${join(moved, 'snnu.h5')}`));
  assert.ok(!existsSync(st), 'nothing written where the folder was');

  const copy = join(dir, 'st3');
  cpSync(moved, copy, { recursive: true });
  const copied = run(plan(copy), { env: { DAQYOLO_THREADS: '1' } });
  assert.equal(copied.status, 0, copied.stderr);
  assert.match(copied.stderr, new RegExp(`using the dataset ${join(copy, 'snnu.h5')}`));
  const configs = join(copy, 'runs', 'configs');
  for (const f of readdirSync(configs)) {
    const c = JSON.parse(readFileSync(join(configs, f), 'utf8'));
    assert.equal(c.data, join(copy, 'snnu.h5'), `${f}: the copy's dataset`);
    assert.equal(c.out, join(copy, 'runs', f.replace(/\.json$/, '')), `${f}: the copy's run`);
  }
  assert.match(readFileSync(join(copy, 'sweep.sbatch'), 'utf8'), new RegExp(join(copy, 'runs')));
});

test('a second study on a folder in use is refused in one line, as a plan or as the default study', async () => {
  const out = join(dir, 'busy');
  const first = start(
    [
      'study',
      '--out',
      out,
      '--images',
      '20',
      '--size',
      '32',
      '--epochs',
      '5000',
      '--width',
      '0.0625',
      '--variant',
      'yolov3-tiny',
      '--background',
      '0',
      '--baseline-background',
      '0',
    ],
    { env: { DAQYOLO_THREADS: '1' } },
  );
  try {
    await waitFor(() => existsSync(join(out, 'lock')), 60_000, 'the first study to take its folder');
    // Frozen, not finished: on a fast machine this small study ended within the 4 s the two refusals
    // took (CI, 2026-12-05), and its lock went with it. A stopped process still holds its lock.
    first.kill('SIGSTOP');
    for (const args of [['study', '--out', out, '--images', '20', '--size', '32'], plan(out)]) {
      const second = run(args);
      assert.equal(second.status, 1, second.stderr);
      assert.deepEqual(errorLines(second), [
        `daqyolo: ${out} is in use by process ${first.pid} (its lock file ${join(out, 'lock')}); wait for it to finish or stop it (kill ${first.pid})`,
      ]);
    }
  } finally {
    first.kill('SIGKILL');
    await first.exited;
  }
});
