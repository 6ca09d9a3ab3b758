// The one streaming-evaluation loop (eval/stream-loop.ts, issue 28) that fprate, fprate --baseline
// and evaluate's background pass run on: batches (the last one short), the state saved atomically
// every period and at the end, a stop after the current batch that the same call resumes from, a
// saved state declined or refused by the caller's check, and a Ctrl-C handler that gets to run
// while a synchronous source simulates on the loop's thread.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamCount } from '../src/eval/stream-loop.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-stream-loop-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface SumState {
  images: number;
  seconds: number;
  sum: number;
}
const fresh = (): SumState => ({ images: 0, seconds: 0, sum: 0 });
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as SumState;
/** Items from..from+count-1 of the stream 0, 1, 2, … (what was asked is recorded). */
const numbers = (asked: [number, number][]) =>
  function* (from: number, count: number) {
    asked.push([from, count]);
    for (let i = from; i < from + count; i++) yield i;
  };

test('batches of `batch`, the last one short; progress after each; the state is saved at the end', async () => {
  const path = join(dir, 'whole.json');
  const sizes: number[] = [];
  const progress: number[] = [];
  const asked: [number, number][] = [];
  const r = await streamCount<number, SumState>({
    fresh: fresh(),
    store: { path, resume: read },
    total: 10,
    batch: 4,
    source: numbers(asked),
    step: (items, s) => {
      sizes.push(items.length);
      s.sum += items.reduce((a, b) => a + b, 0);
    },
    onProgress: (done, total) => {
      assert.equal(total, 10);
      progress.push(done);
    },
  });
  assert.deepEqual(sizes, [4, 4, 2]);
  assert.deepEqual(progress, [4, 8, 10]);
  assert.deepEqual(asked, [[0, 10]]);
  assert.equal(r.state.sum, 45);
  assert.equal(r.measured, 10);
  assert.equal(r.remaining, 10);
  assert.deepEqual(read(path), r.state);
});

test('a stop ends the pass after the current batch, saved; the same call resumes from there to the same sum', async () => {
  const path = join(dir, 'stopped.json');
  const control = { stop: false };
  const asked: [number, number][] = [];
  const options = {
    store: { path, resume: read },
    total: 10,
    batch: 4,
    source: numbers(asked),
    control,
    step: (items: number[], s: SumState) => {
      s.sum += items.reduce((a, b) => a + b, 0);
    },
  };
  const first = await streamCount<number, SumState>({
    ...options,
    fresh: fresh(),
    onProgress: (done) => {
      if (done === 8) control.stop = true;
    },
  });
  assert.equal(first.state.images, 8);
  assert.deepEqual(read(path), { ...first.state });
  assert.equal(read(path).sum, 28);
  control.stop = false;
  const second = await streamCount<number, SumState>({ ...options, fresh: fresh() });
  assert.deepEqual(asked, [
    [0, 10],
    [8, 2],
  ]);
  assert.equal(second.state.images, 10);
  assert.equal(second.state.sum, 45);
  assert.equal(second.measured, 2);
  assert.ok(second.state.seconds >= first.state.seconds, 'seconds add up over passes');
  // Nothing left: the source is asked for none and the saved count stands.
  const third = await streamCount<number, SumState>({ ...options, fresh: fresh() });
  assert.equal(third.remaining, 0);
  assert.equal(third.state.sum, 45);
});

test('the state is written every period while the pass runs, each file whole', async () => {
  const path = join(dir, 'periodic.json');
  const seen: number[] = [];
  await streamCount<number, SumState>({
    fresh: fresh(),
    store: { path, resume: read, saveEverySeconds: 0 },
    total: 12,
    batch: 3,
    source: numbers([]),
    step: (items, s) => {
      if (existsSync(path)) seen.push(read(path).images);
      s.sum += items.length;
    },
  });
  assert.deepEqual(seen, [3, 6, 9]);
  assert.equal(read(path).images, 12);
});

test('a saved state the check declines starts over; one it refuses stops the pass with its error and is left as it was', async () => {
  const path = join(dir, 'declined.json');
  writeFileSync(path, JSON.stringify({ images: 6, seconds: 1, sum: 999 }));
  const asked: [number, number][] = [];
  const r = await streamCount<number, SumState>({
    fresh: fresh(),
    store: { path, resume: () => undefined },
    total: 5,
    batch: 2,
    source: numbers(asked),
    step: (items, s) => {
      s.sum += items.reduce((a, b) => a + b, 0);
    },
  });
  assert.deepEqual(asked, [[0, 5]]);
  assert.equal(r.state.sum, 10);
  assert.equal(read(path).images, 5);
  const before = readFileSync(path, 'utf8');
  await assert.rejects(
    streamCount<number, SumState>({
      fresh: fresh(),
      store: {
        path,
        resume: () => {
          throw new Error('other parameters');
        },
      },
      total: 9,
      batch: 2,
      source: numbers([]),
      step: () => {},
    }),
    /other parameters/,
  );
  assert.equal(readFileSync(path, 'utf8'), before);
});

test('a synchronous source that never yields still lets a signal handler stop it after one batch', async () => {
  const control = { stop: false };
  setImmediate(() => {
    control.stop = true;
  });
  const r = await streamCount<number, SumState>({
    fresh: fresh(),
    total: 1_000_000,
    batch: 10,
    source: numbers([]),
    control,
    step: (items, s) => {
      s.sum += items.length;
    },
  });
  assert.equal(r.state.images, 10);
});
