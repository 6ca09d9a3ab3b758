// Plain progress lines (no TTY): no rate or ETA until they are measured, then the true ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEta, lineProgress, progressMode, withProgress } from '../src/cli/progress.js';

test('non-TTY progress lines leave out rate and ETA until known, in every phase', () => {
  const lines: string[] = [];
  let t = 0;
  const p = lineProgress('epoch 1/2', 10, { everySeconds: 0, write: (l) => lines.push(l), now: () => t });
  // The trainer starts a phase and reports its first batch at once: nothing is measured yet.
  p.phase('epoch 1/2', 10);
  p.update(1, 'loss 3.000');
  t = 500;
  p.update(2, 'loss 2.900'); // half a second: still too little to state a rate
  t = 4000;
  p.update(5, 'loss 2.500'); // 4 batches in 4 s: 1/s, 5 left
  p.phase('epoch 2/2', 10);
  t = 100_000;
  p.update(1, 'loss 2.000');
  assert.deepEqual(lines, [
    'epoch 1/2: 1/10 loss 3.000\n',
    'epoch 1/2: 2/10 loss 2.900\n',
    'epoch 1/2: 5/10 loss 2.500 1.00/s ETA 5 s\n',
    'epoch 2/2: 1/10 loss 2.000\n',
  ]);
});

test('non-TTY progress prints at most every everySeconds, and always the last line', () => {
  const lines: string[] = [];
  let t = 0;
  const p = lineProgress('import voc', 4, { everySeconds: 15, write: (l) => lines.push(l), now: () => t });
  p.update(1);
  t = 2000;
  p.update(2);
  t = 3000;
  p.update(3);
  t = 4000;
  p.update(4);
  assert.deepEqual(lines, ['import voc: 1/4\n', 'import voc: 4/4 0.75/s ETA 0 s\n']);
});

test('the mode: DAQYOLO_PROGRESS wins, CI is quiet, a terminal gets a bar, anything else lines', () => {
  assert.equal(progressMode({}, true), 'bar');
  assert.equal(progressMode({}, false), 'lines');
  assert.equal(progressMode({ CI: 'true' }, true), 'off');
  assert.equal(progressMode({ CI: '1' }, false), 'off');
  assert.equal(progressMode({ CI: 'false' }, true), 'bar');
  assert.equal(progressMode({ CI: 'true', DAQYOLO_PROGRESS: 'lines' }, false), 'lines');
  assert.equal(progressMode({ DAQYOLO_PROGRESS: 'off' }, true), 'off');
});

test('withProgress: one call that stops the display however the work ends; the ETA reads in minutes and hours', async () => {
  const lines: string[] = [];
  const origWrite = process.stderr.write;
  let stops = 0;
  // A quiet mode shows nothing at all.
  process.stderr.write = ((l: string) => {
    lines.push(l);
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(
      await withProgress(
        'x',
        3,
        (p) => {
          p.update(1);
          p.update(3);
          return 7;
        },
        { mode: 'off' },
      ),
      7,
    );
    assert.deepEqual(lines, []);
    assert.equal(
      await withProgress(
        'y',
        2,
        (p) => {
          p.update(2);
          return 'done';
        },
        { mode: 'lines', unit: 'images' },
      ),
      'done',
    );
    assert.deepEqual(lines, ['y: 2/2\n']);
  } finally {
    process.stderr.write = origWrite;
  }
  await assert.rejects(
    withProgress(
      'z',
      1,
      (p) => {
        const s = p.stop;
        p.stop = () => {
          stops++;
          s();
        };
        throw new Error('boom');
      },
      { mode: 'off' },
    ),
    /boom/,
  );
  assert.equal(stops, 1, 'stopped after the work threw');
  assert.equal(formatEta(42), '42 s');
  assert.equal(formatEta(725), '12 min 5 s');
  assert.equal(formatEta(12_000), '3 h 20 min');
});

test('a total not known in advance (a stream): the count and its rate, never an ETA', () => {
  const lines: string[] = [];
  let t = 0;
  const p = lineProgress('import tps', 0, { everySeconds: 10, write: (l) => lines.push(l), now: () => t, unit: 'TPs' });
  p.update(100);
  t = 5000;
  p.update(600); // within 10 s: not printed
  t = 12_000;
  p.update(1300);
  t = 13_000;
  p.update(1400); // not printed yet: stop() prints the last count
  p.stop();
  assert.deepEqual(lines, ['import tps: 100\n', 'import tps: 1300 100.00 TPs/s\n', 'import tps: 1400 100.00 TPs/s\n']);
});
