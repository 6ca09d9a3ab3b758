// fprate's resumable state (issue 30): reused by content, not by path (relative, absolute, a moved
// run); a replaced checkpoint starts over and says so instead of printing the old weights'
// histogram; damaged shard files are one line naming the file, in a rerun, in --merge and through
// the --parallel pool; leftover shards of another split do not break the merge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, errorLines, tinyDataset, trainArgs } from './fixture.js';
import { measureFpRate, mergeFpShards, SCORE_BINS } from '../../src/eval/fprate.js';
import { measureFpRatePool } from '../../src/sweep/fprate-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-fprate-'));
const data = join(dir, 'tiny.h5');
const trained = join(dir, 'trained');
before(async () => {
  await tinyDataset(data);
  const r = run(trainArgs(data, trained, 1));
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh copy of the trained run without any fprate state. */
function copyRun(name: string, from = trained): string {
  const to = join(dir, name);
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  rmSync(join(to, 'eval'), { recursive: true, force: true });
  return to;
}

const fp = (runDir: string, extra: string[], cwd = dir) =>
  run(['fprate', runDir, '--images', '32', '--batch', '8', '--seed', '7', '--json', ...extra], { cwd, env: { DAQYOLO_THREADS: '1' } });

test('the state is reused through a relative path, an absolute path and a moved run; a replaced checkpoint starts over and says so', async () => {
  copyRun('k');
  const first = fp('k', ['--parallel', '1']);
  assert.equal(first.status, 0, first.stderr);
  const a = JSON.parse(first.stdout);
  const abs = fp(join(dir, 'k'), ['--parallel', '1']);
  assert.equal(abs.status, 0, `the absolute path is the same run: ${abs.stderr}`);
  assert.deepEqual(JSON.parse(abs.stdout).counts, a.counts);
  assert.equal(JSON.parse(abs.stdout).imagesPerSecond, 0, 'reused, not measured again');
  renameSync(join(dir, 'k'), join(dir, 'k-moved'));
  const moved = fp('k-moved', ['--parallel', '1']);
  assert.equal(moved.status, 0, moved.stderr);
  assert.equal(JSON.parse(moved.stdout).imagesPerSecond, 0);
  assert.doesNotMatch(moved.stderr, /starting over/);

  // train --resume then fprate: the same command on other weights (last: a resumed epoch always changes it).
  const k = copyRun('k2');
  const old = fp(k, ['--parallel', '2', '--checkpoint', 'last']);
  assert.equal(old.status, 0, old.stderr);
  const resumed = run(['train', '--resume', k, '--epochs', '2', '--threads', '1']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const fresh = await measureFpRate({ runDir: copyRun('k2-fresh', k), images: 32, batch: 8, seed: 7, workers: 0, checkpoint: 'last' });
  assert.notDeepEqual(fresh.counts, JSON.parse(old.stdout).counts, 'the two sets of weights differ in their FP counts (else the test shows nothing)');
  for (const parallel of ['1', '2']) {
    const again = fp(k, ['--parallel', parallel, '--checkpoint', 'last']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).counts, fresh.counts, `--parallel ${parallel}: the new weights' histogram`);
    const notes = again.stderr.split('\n').filter((l) => l.startsWith('note: '));
    assert.equal(notes.length, 1, `--parallel ${parallel}: one note: ${again.stderr}`);
    assert.match(notes[0]!, /fprate-seed7(-shard\*of2)?\.json: its (16|32) images were measured with other weights .*; starting over$/);
  }
});

const DAMAGE: [string, (file: string) => void, RegExp][] = [
  ['truncated', (f) => truncateSync(f, 300), /not an fprate state \(.*JSON/],
  ['empty', (f) => writeFileSync(f, ''), /not an fprate state \(.*JSON/],
  ['garbage', (f) => writeFileSync(f, '\u0000\u0001garbage'), /not an fprate state \(.*JSON/],
  [
    'counts null',
    (f) =>
      edit(f, (s) => {
        s.counts = null;
      }),
    /not an fprate state \(counts: /,
  ],
  [
    'counts cut to 500 bins',
    (f) =>
      edit(f, (s) => {
        s.counts = (s.counts as number[]).slice(0, 500);
      }),
    /not an fprate state \(counts: /,
  ],
  [
    'images beyond the shard',
    (f) =>
      edit(f, (s) => {
        s.images = 99999;
      }),
    /not an fprate state \(images: 99999 images counted in a shard of 16\)/,
  ],
  [
    'a negative count',
    (f) =>
      edit(f, (s) => {
        (s.counts as number[])[3] = -5;
      }),
    /not an fprate state \(counts\.3: /,
  ],
  [
    'a string count',
    (f) =>
      edit(f, (s) => {
        (s.counts as unknown[])[3] = '7';
      }),
    /not an fprate state \(counts\.3: /,
  ],
];
function edit(file: string, change: (s: Record<string, unknown>) => void): void {
  const s = JSON.parse(readFileSync(file, 'utf8'));
  change(s);
  writeFileSync(file, JSON.stringify(s));
}

test('a damaged shard state is one line naming the file: in a rerun, in --merge and through the --parallel pool', async () => {
  const r = copyRun('dmg');
  for (const index of [0, 1]) await measureFpRate({ runDir: r, images: 32, batch: 8, seed: 7, workers: 0, checkpoint: 'init', shard: { index, count: 2 } });
  const file = join(r, 'eval', 'fprate-seed7-shard0of2.json');
  const good = readFileSync(file);
  assert.equal(JSON.parse(good.toString()).counts.length, SCORE_BINS);
  for (const [what, damage, want] of DAMAGE) {
    writeFileSync(file, good);
    damage(file);
    const merge = (() => {
      try {
        mergeFpShards(r, { seed: 7 });
        return null;
      } catch (e) {
        return e as Error & { userFacing?: boolean };
      }
    })();
    assert.ok(merge?.userFacing, `${what}: --merge: ${merge?.stack ?? 'accepted'}`);
    assert.ok(merge.message.startsWith(`${file}: `) && want.test(merge.message), `${what}: ${merge.message}`);
    const rerun = await measureFpRate({ runDir: r, images: 32, batch: 8, seed: 7, workers: 0, checkpoint: 'init', shard: { index: 0, count: 2 } }).then(
      () => null,
      (e: Error & { userFacing?: boolean }) => e,
    );
    assert.ok(rerun?.userFacing && want.test(rerun.message), `${what}: rerun: ${rerun?.stack ?? 'accepted'}`);
  }
  // Through the pool: the parent passes on the child's one line, not a progress line or a stack.
  writeFileSync(file, good);
  truncateSync(file, 300);
  const pool = fp(r, ['--parallel', '2', '--checkpoint', 'init']);
  assert.equal(pool.status, 1);
  const lines = errorLines(pool);
  assert.equal(lines.length, 1, pool.stderr);
  assert.match(
    lines[0]!,
    new RegExp(
      `^daqyolo: fprate --parallel 2: shard 0/2 exited with 1: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not an fprate state \\(.*\\); delete it to start again \\(the finished shards are kept; run the same command to continue\\)$`,
    ),
  );
});

test('leftover shards of another split do not break the merge: --parallel 3, then --parallel 2, then --merge', async () => {
  const r = copyRun('splits');
  for (const index of [0, 1, 2]) await measureFpRate({ runDir: r, images: 32, batch: 8, seed: 7, workers: 0, checkpoint: 'init', shard: { index, count: 3 } });
  const pool = await measureFpRatePool({ runDir: r, images: 32, parallel: 2, batch: 8, checkpoint: 'init', seed: 7 });
  assert.equal(pool.stopped, false);
  const notes: string[] = [];
  const merged = mergeFpShards(r, { seed: 7, onNote: (m) => notes.push(m) });
  assert.equal(merged.images, 32);
  assert.deepEqual(merged.counts, pool.stopped ? [] : pool.result.counts);
  assert.match(notes.join('\n'), /splits of 2, 3 shards; merging the 2-shard split/);
  const three = mergeFpShards(r, { seed: 7, shards: 3 });
  assert.deepEqual(three.counts, merged.counts, 'both splits measured the same stream');
});
