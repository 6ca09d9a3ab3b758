// Unit tests of every quantity the report derives: the overfitting-onset rule on synthetic
// curves, run labels, configuration differences, headline figures, quantiles, curve thinning,
// tolerant metrics parsing; and the sweep's grid expansion and run names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median3, overfittingOnset } from '../src/report/overfit.js';
import { configDifferences, flatten, headline, onsetsOf, quantile } from '../src/report/derive.js';
import { labelRuns, parseMetrics, type RunData } from '../src/report/load.js';
import { thin } from '../src/report/charts-eval.js';
import { dodgeLabels } from '../src/report/figure.js';
import { cartesian, planSweep, pointName, readSweepFile, setDotted } from '../src/sweep/plan.js';
import { runState } from '../src/sweep/local.js';
import type { EpochRecord, ResolvedRun } from '../src/schema/run.js';

const falling = (n: number, a = 10, k = 0.3) => Array.from({ length: n }, (_, i) => a * Math.exp(-k * i) + 1);

test('onset: validation U-shape while training falls → the epoch of the validation minimum', () => {
  const train = falling(10);
  const val = [9, 7, 5.5, 4.6, 4.2, 4.5, 5.0, 5.6, 6.1, 6.8];
  const on = overfittingOnset(train, val);
  assert.ok(on);
  assert.equal(on.index, 4);
  assert.ok(on.relRise > 0.5 && on.trainChange < 0);
});

test('onset: none when both curves keep falling, or when validation flattens', () => {
  assert.equal(overfittingOnset(falling(10), falling(10, 12, 0.2)), null);
  assert.equal(overfittingOnset(falling(10), [9, 6, 5, 4.5, 4.4, 4.41, 4.42, 4.4, 4.43, 4.41]), null, 'a 0.5 % wobble is within tolerance');
});

test('onset: none when training rises with validation (divergence, not overfitting)', () => {
  const val = [9, 7, 5, 4, 5, 6, 7, 8];
  const train = [9, 7, 5, 4, 4.5, 5.5, 6.5, 7.5];
  assert.equal(overfittingOnset(train, val), null);
});

test('onset: a one-epoch spike is smoothed away; a recovery below the minimum is not overfitting', () => {
  const train = falling(9);
  assert.equal(overfittingOnset(train, [9, 7, 5, 4, 8, 3.8, 3.5, 3.3, 3.2]), null, 'spike at epoch 4');
  assert.equal(overfittingOnset(train, [9, 7, 5, 4, 4.6, 5, 4.5, 3.5, 3.0]), null, 'validation comes back below its minimum');
});

test('onset: a flat valley turns up at its end, not its start', () => {
  const on = overfittingOnset(falling(10, 10, 0.5), [9, 6, 4, 3, 3, 3.02, 3, 3.6, 4.2, 4.8]);
  assert.equal(on?.index, 6);
});

test('onset: needs `patience` epochs after the minimum, and ignores an all-zero term', () => {
  assert.equal(overfittingOnset([5, 4, 3, 2.5, 2], [5, 4, 3, 2.5, 2.7]), null, 'one epoch after the minimum');
  const on = overfittingOnset([5, 4, 3, 2.5, 2, 1.8], [5, 4, 3, 2.5, 2.8, 3.2], { smooth: false });
  assert.equal(on?.index, 3);
  assert.equal(overfittingOnset([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]), null);
  assert.equal(overfittingOnset([1, 2], [1, 2]), null, 'too short');
  assert.equal(overfittingOnset([5, 4, NaN, 2, 1, 0.5], [5, 4, 3, 4, 5, 6]), null, 'non-finite values');
});

test('median3 keeps the ends and removes single spikes', () => {
  assert.deepEqual(median3([1, 9, 2, 3, 3]), [1, 2, 3, 3, 3]);
  assert.deepEqual(median3([4]), [4]);
});

const terms = (x: number) => ({ xy: x, wh: x, conf1: x, conf2: x, class: 0, total: 4 * x });
function fakeRun(label: string, config: Record<string, unknown>, val: number[], train: number[]): RunData {
  const epochs = val.map((v, i) => ({
    type: 'epoch',
    epoch: i,
    step: i,
    lr: 1e-3,
    seconds: 1,
    warmFraction: i === 0 ? 1 : 0,
    augment: {},
    best: false,
    train: { objective: train[i]!, scales: [terms(train[i]!)] },
    val: { objective: v, scales: [terms(v)], images: 4, stats: [], map50: 0.25, ap50: 0.25 },
  })) as unknown as EpochRecord[];
  const run = { config, size: 64, anchors: [[[1, 1]]], strides: [32], classNames: ['snnu'] } as unknown as ResolvedRun;
  return { dir: `/runs/${label}`, label, run, epochs, batches: [], done: null, evals: {}, baselines: {}, bursts: {} };
}

test('onsetsOf finds the onset in every term of a synthetic run and headline counts them', () => {
  const r = fakeRun('a', {}, [9, 7, 5.5, 4.6, 4.2, 4.5, 5.0, 5.6, 6.1, 6.8], falling(10));
  const on = onsetsOf(r);
  // objective + xy, wh, conf1, conf2, total of the one scale (class is 0 throughout).
  assert.deepEqual(on.map((o) => `${o.scale}/${o.term}`).sort(), [
    'coarse/conf1',
    'coarse/conf2',
    'coarse/total',
    'coarse/wh',
    'coarse/xy',
    'objective/objective',
  ]);
  assert.ok(
    on.every((o) => o.epoch === 5),
    'epochs are 1-based',
  );
  const h = headline(r, on);
  assert.equal(h.onsets, 6);
  assert.equal(h.bestValLoss, 4.2);
  assert.equal(h.bestEpoch, 5);
  assert.equal(h.map50, null, 'no eval/ results');
});

test('onsetsOf leaves out warm-up epochs', () => {
  // Validation lowest in the warm-up epoch, then higher while training falls: no onset once
  // the warm-up epoch is left out (the rest is a plain decrease).
  const r = fakeRun('w', {}, [2, 6, 5, 4.5, 4.2, 4, 3.9], [20, 8, 6, 5, 4.5, 4.2, 4]);
  assert.deepEqual(onsetsOf(r), []);
  r.epochs[0]!.warmFraction = 0;
  assert.ok(
    onsetsOf(r).some((o) => o.term === 'objective' && o.epoch === 1),
    'counted when epoch 1 is not warm',
  );
});

test('configDifferences lists exactly the keys that differ (not out)', () => {
  const a = fakeRun('a', { out: '/a', batch: 8, loss: { objLoss: 'mse', objScale: 5 } }, [1], [1]);
  const b = fakeRun('b', { out: '/b', batch: 8, loss: { objLoss: 'bce', objScale: 5 }, trainLimit: 500 }, [1], [1]);
  assert.deepEqual(configDifferences([a, b]), [
    { key: 'config.loss.objLoss', values: ['mse', 'bce'] },
    { key: 'config.trainLimit', values: [undefined, 500] },
  ]);
  assert.deepEqual(flatten({ a: { b: [1, 2], c: null } }), { 'a.b': [1, 2], 'a.c': null });
});

test('labelRuns uses the shortest distinguishing path tail', () => {
  assert.deepEqual(labelRuns(['runs/low-stats', 'runs/high-stats/']), ['low-stats', 'high-stats']);
  assert.deepEqual(labelRuns(['x/a/run', 'y/a/run', 'z/b/run']), ['x/a/run', 'y/a/run', 'z/b/run']);
  assert.deepEqual(labelRuns(['r', 'r']), ['r', 'r (2)']);
});

test('quantile interpolates; thin keeps the ends', () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([5], 0.9), 5);
  assert.equal(quantile([], 0.5), null);
  const t = thin(
    Array.from({ length: 1001 }, (_, i) => i),
    11,
  );
  assert.deepEqual(t, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
});

test('parseMetrics skips a half-written last line but rejects a broken one in the middle', () => {
  // Whole records: every line is checked against the metrics schema (schema/run.ts).
  const e = JSON.stringify({
    type: 'epoch',
    epoch: 0,
    step: 1,
    lr: 1e-3,
    train: { objective: 1, scales: [] },
    val: { objective: 1, lossPerImage: 1, scales: [] },
    best: true,
  });
  const b = JSON.stringify({ type: 'batch', step: 0, epoch: 0, batch: 0, lr: 1e-3, objective: 1, scales: [] });
  assert.equal(parseMetrics(`${b}\n${e}\n{"type":"ep`).epochs.length, 1);
  assert.throws(() => parseMetrics(`${b}\n{"ty\n${e}\n`, 'm.jsonl'), /m\.jsonl:2/);
  // A whole line that is not a record train writes (issue 30: report's TypeError on it).
  assert.throws(() => parseMetrics(`${b}\n${e}\n{"type":"epoch","epoch":"x"}\n`, 'm.jsonl'), /^UserError: m\.jsonl:3: epoch record with epoch "x"/);
});

test('sweep: grid expansion, dotted keys, names, and validation of every point', () => {
  assert.deepEqual(cartesian({ a: [1, 2], b: ['x', 'y'] }), [
    { a: 1, b: 'x' },
    { a: 1, b: 'y' },
    { a: 2, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  assert.equal(pointName({ batch: 8, 'optimizer.lr': 0.001 }), 'batch-8_optimizer.lr-0.001');
  assert.equal(pointName({ 'augment.flipTime': 0.5, 'model.anchors': [[1, 2]] }), 'augment.flipTime-0.5_model.anchors-1-2');
  assert.equal(pointName({}), 'base');
  const o: Record<string, unknown> = { loss: { objScale: 5 } };
  setDotted(o, 'loss.objLoss', 'bce');
  assert.deepEqual(o, { loss: { objScale: 5, objLoss: 'bce' } });

  const dir = mkdtempSync(join(tmpdir(), 'daqyolo-sweepplan-'));
  try {
    const file = join(dir, 'sweep.json');
    writeFileSync(
      file,
      JSON.stringify({
        out: 'runs',
        base: { data: 'd.h5', epochs: 2 },
        list: [{ 'loss.objLoss': 'mse' }, { 'loss.objLoss': 'bce', 'loss.objTarget': 'iou' }],
        grid: { trainLimit: [500, 24000] },
      }),
    );
    const plan = planSweep(file, readSweepFile(file), { threadsPerRun: 2 });
    assert.deepEqual(
      plan.points.map((p) => p.name),
      [
        'loss.objLoss-mse_trainLimit-500',
        'loss.objLoss-mse_trainLimit-24000',
        'loss.objLoss-bce_loss.objTarget-iou_trainLimit-500',
        'loss.objLoss-bce_loss.objTarget-iou_trainLimit-24000',
      ],
    );
    const p = plan.points[3]!;
    assert.equal(p.config.data, join(dir, 'd.h5'), 'relative to the sweep file');
    assert.equal(p.config.out, join(dir, 'runs', p.name));
    assert.equal(p.config.threads, 2);
    assert.equal(p.config.loss.objTarget, 'iou');
    assert.equal(p.config.trainLimit, 24000);
    assert.equal(plan.points[0]!.config.loss.objTarget, 'one', 'defaults stay for other points');
    writeFileSync(file, JSON.stringify({ out: 'runs', base: { data: 'd.h5' }, grid: { batch: [8, -1] } }));
    assert.throws(() => planSweep(file, readSweepFile(file), { threadsPerRun: 1 }), /point 1 \(batch-1\): batch/);
    writeFileSync(file, JSON.stringify({ out: 'runs', grid: { batch: [] } }));
    assert.throws(() => readSweepFile(file), /grid\.batch/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('runState: done, resume, restart, fresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daqyolo-state-'));
  try {
    assert.equal(runState(join(dir, 'nothing')), 'fresh');
    writeFileSync(join(dir, 'config.json'), '{}');
    assert.equal(runState(dir), 'restart');
    mkdirSync(join(dir, 'checkpoints'));
    writeFileSync(join(dir, 'checkpoints', 'last.safetensors'), '');
    assert.equal(runState(dir), 'resume');
    writeFileSync(join(dir, 'done.json'), '{}');
    assert.equal(runState(dir), 'done');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dodgeLabels: labels keep their order, stay gap apart and inside the band, and move only where they must', () => {
  assert.deepEqual(dodgeLabels([50, 100, 200], 12, 0, 300), [50, 100, 200], 'far apart: unmoved');
  // Two lines a point apart (3 px) and one at the same height: pushed down in order, from the first.
  assert.deepEqual(dodgeLabels([41, 44, 44], 12, 0, 300), [41, 53, 65]);
  // The input order is not the height order: each label keeps its own line's rank.
  assert.deepEqual(dodgeLabels([44, 41], 12, 0, 300), [53, 41]);
  // At the bottom edge the stack is pushed back up instead of out of the band.
  assert.deepEqual(dodgeLabels([298, 299, 300], 12, 0, 300), [276, 288, 300]);
  assert.deepEqual(dodgeLabels([-5], 12, 6, 300), [6], 'clamped into the band');
  assert.deepEqual(dodgeLabels([], 12, 0, 300), []);
});
