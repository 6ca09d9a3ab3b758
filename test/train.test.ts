// Training end to end on a tiny simulated dataset: metrics.jsonl fields, checkpoints that load,
// falling loss, exact resume, the warm-up flag, the NaN guard, and one-line errors on bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train, validateEpoch as validate, NonFiniteLossError } from '../src/train/trainer.js';
import { resolveRun } from '../src/train/resolve.js';
import type { EpochRecord, BatchRecord } from '../src/schema/run.js';
import { openDataset } from '../src/data/store.js';
import { BatchLoader, LoaderWorkerError } from '../src/data/loader.js';
import { RunDir } from '../src/run/run-dir.js';
import { openRun } from '../src/infer/open-run.js';
import { configFromFlags } from '../src/cli/train.js';
import { loadSafetensors } from '../src/torch/index.js';
import { mapKerasYolo3Config, isKerasYolo3Config } from '../src/train/keras-config.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≠ ${b}`);
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-train-'));
const data = join(dir, 'tiny.h5');
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const config = parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } });
  await generateDataset({ out: data, config, images: 60, seed: 5, workers: 0 });
});

/** A tiny, fast run config (1 channel, 64 px, YOLOv3-tiny at 1/16 width). */
function tinyConfig(out: string, extra: Record<string, unknown> = {}) {
  return parseTrainConfig({
    data,
    out,
    epochs: 2,
    batch: 8,
    seed: 3,
    workers: 1,
    threads: 1,
    model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 },
    optimizer: { lr: 3e-3 },
    ...extra,
  });
}

const epochs = (run: string) => new RunDir(run).readMetrics<EpochRecord | BatchRecord>().filter((r): r is EpochRecord => r.type === 'epoch');
const batches = (run: string) => new RunDir(run).readMetrics<EpochRecord | BatchRecord>().filter((r): r is BatchRecord => r.type === 'batch');

test('a few epochs write every metrics field, loadable checkpoints, and a falling training loss', async () => {
  const out = join(dir, 'e2e');
  await train({ config: tinyConfig(out, { epochs: 4, warmupEpochs: 1 }) });
  assert.ok(existsSync(join(out, 'config.json')) && existsSync(join(out, 'log.txt')) && existsSync(join(out, 'done.json')));
  assert.deepEqual(readdirSync(join(out, 'checkpoints')).sort(), ['best.safetensors', 'init.safetensors', 'last.safetensors']);
  const bs = batches(out);
  const es = epochs(out);
  assert.equal(es.length, 4);
  assert.equal(bs.length, 4 * 6); // 48 training images / batch 8
  for (const b of bs) {
    for (const k of ['step', 'epoch', 'lr', 'warm', 'size', 'objective'] as const) assert.ok(k in b, `batch record has ${k}`);
    assert.equal(b.scales.length, 2);
    for (const s of b.scales)
      for (const t of ['xy', 'wh', 'conf1', 'conf2', 'class', 'total']) assert.ok(Number.isFinite((s as Record<string, number>)[t]), `term ${t}`);
  }
  // Warm-up: 1 epoch × 6 batches → exactly the first 6 training batches are warm.
  assert.deepEqual(
    bs.map((b) => b.warm),
    [...Array(6).fill(1), ...Array(18).fill(0)],
  );
  assert.deepEqual(
    es.map((e) => e.warmFraction),
    [1, 0, 0, 0],
  );
  for (const e of es) {
    assert.equal(e.val.images, 6);
    assert.equal(e.val.scales.length, 2);
    assert.equal(e.val.stats.length, 2);
    for (const s of e.val.stats) {
      for (const k of ['count', 'avgObj', 'avgNoobj', 'avgIou', 'recall50', 'recall75', 'objHist', 'iouHist', 'objectness', 'iou'])
        assert.ok(k in s, `stats has ${k}`);
      assert.equal(s.objectness.length, s.count);
      assert.equal(
        s.objHist.reduce((a, b) => a + b, 0),
        s.count,
      );
    }
    assert.ok('map50' in e.val);
  }
  assert.ok(es[3]!.train.objective < es[0]!.train.objective, `training objective falls: ${es.map((e) => e.train.objective.toFixed(2))}`);
  // The checkpoint loads into a fresh model.
  const opened = openRun(out);
  assert.equal(opened.meta.epoch, es.findLastIndex((e) => e.best) + 1);
  opened.model.dispose();
});

test('a run stopped after epoch 1, or mid-epoch, and resumed gives the same epoch-2 metrics', async () => {
  const full = join(dir, 'full');
  await train({ config: tinyConfig(full) });
  for (const stopAt of ['epoch', 'batch'] as const) {
    const part = join(dir, `part-${stopAt}`);
    const control = { stop: false };
    await train({
      config: tinyConfig(part),
      control,
      onEvent: (e) => {
        if (stopAt === 'epoch' && e.kind === 'epoch' && e.record.epoch === 0) control.stop = true;
        if (stopAt === 'batch' && e.kind === 'batch' && e.record.epoch === 1 && e.record.batch === 2) control.stop = true;
      },
    });
    assert.ok(!existsSync(join(part, 'done.json')), 'an interrupted run is not done');
    await train({ config: tinyConfig(part), resume: true });
    const a = epochs(full);
    const b = epochs(part);
    assert.equal(b.length, 2, `${stopAt}: two epoch records after resume`);
    assert.deepEqual(b[1]!.train, a[1]!.train, `${stopAt}: epoch-2 training terms identical`);
    assert.deepEqual(b[1]!.val.scales, a[1]!.val.scales, `${stopAt}: epoch-2 validation terms identical`);
    assert.deepEqual(
      batches(part).map((r) => r.objective),
      batches(full).map((r) => r.objective),
      `${stopAt}: every batch identical`,
    );
  }
});

test('the NaN guard names batch, scale and term and keeps the previous checkpoint', async () => {
  const out = join(dir, 'nan');
  const cfg = tinyConfig(out, { epochs: 3 });
  let lastBefore: Buffer | null = null;
  await assert.rejects(
    train({
      config: cfg,
      injectNanAtStep: 8,
      onEvent: (e) => {
        if (e.kind === 'epoch' && e.record.epoch === 0) lastBefore = readFileSync(join(out, 'checkpoints', 'last.safetensors'));
      },
    }),
    (e: Error) => e instanceof NonFiniteLossError && /step 8 \(epoch 1, batch 2\): scale 0 \(coarse\), term conf1/.test(e.message),
  );
  assert.ok(lastBefore, 'epoch 0 finished');
  assert.ok(readFileSync(join(out, 'checkpoints', 'last.safetensors')).equals(lastBefore!), 'last checkpoint untouched');
  assert.ok(
    batches(out).every((b) => b.step < 8),
    'no record for the bad batch',
  );
  assert.match(readFileSync(join(out, 'log.txt'), 'utf8'), /non-finite loss at step 8/);
});

test('bad input: one-line errors, non-zero exit, nothing but the log in the run directory', () => {
  const foreign = join(dir, 'foreign.h5');
  writeFileSync(foreign, 'not an HDF5 file at all');
  const cfgPath = join(dir, 'typo.json');
  writeFileSync(cfgPath, JSON.stringify({ loss: { objScael: 5 } }));
  const cases: [string[], RegExp][] = [
    [['--data', join(dir, 'missing.h5')], /missing\.h5/],
    [['--data', foreign], /foreign\.h5/],
    [['--data', data, '--config', cfgPath], /unknown key 'loss\.objScael'/],
    [['--data', data, '--batch', '100'], /batch size 100 is larger than the training split \(48 images\)/],
  ];
  cases.forEach(([args, want], i) => {
    const out = join(dir, `bad-${i}`);
    const r = spawnSync(process.execPath, [cli, 'train', '--out', out, '--epochs', '1', ...args], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `case ${i} fails`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `case ${i}: one line, got ${r.stderr}`);
    assert.match(lines[0]!, want);
    const left = existsSync(out) ? readdirSync(out) : [];
    assert.ok(
      left.every((f) => f === 'log.txt'),
      `case ${i}: only the log is written (${left})`,
    );
  });
});

test('flags override the config and presets; a keras-yolo3 config.json is mapped with messages', () => {
  const seed = configFromFlags({ data, out: 'x', preset: 'seed', epochs: 5 }).config;
  assert.equal(seed.loss.objScale, 50);
  assert.equal(seed.loss.ignoreThresh, 0.33);
  assert.equal(seed.warmupEpochs, 3);
  assert.equal(seed.epochs, 5);
  const keras = {
    model: { min_input_size: 288, max_input_size: 448, anchors: [3, 2, 3, 3, 4, 3, 6, 6, 9, 12, 13, 33, 26, 16, 39, 51, 217, 143], labels: ['snnu'] },
    train: {
      train_image_folder: '/x/',
      batch_size: 8,
      learning_rate: 1e-4,
      nb_epochs: 30,
      warmup_epochs: 3,
      ignore_thresh: 0.33,
      obj_scale: 50,
      train_times: 8,
    },
    valid: { valid_times: 1 },
  };
  assert.ok(isKerasYolo3Config(keras));
  const m = mapKerasYolo3Config(keras);
  const cfg = parseTrainConfig({ data, out: 'x', ...m.config });
  assert.equal(cfg.batch, 8);
  assert.equal(cfg.loss.objScale, 50);
  assert.deepEqual(cfg.multiScale, { enabled: true, min: 288, max: 448, every: 10 });
  assert.deepEqual((cfg.model.anchors as number[][])[8], [217, 143]);
  for (const key of ['train.train_image_folder', 'train.train_times', 'valid.valid_times', 'model.labels']) {
    assert.ok(
      m.messages.some((s) => s.startsWith(key)),
      `message for ${key}`,
    );
  }
});

test('the full YOLOv3 topology trains a step with multi-scale input and augmentation', async () => {
  const out = join(dir, 'full-topology');
  await train({
    config: tinyConfig(out, {
      epochs: 1,
      trainLimit: 16,
      model: { variant: 'yolov3', width: 0.0625, size: 64 },
      multiScale: { enabled: true, min: 64, max: 96, every: 1 },
      augment: { timeJitter: 0.1, flipChannels: 0.5, flipTime: 0.5, timeStretch: 0.1, tpDropout: 0.1, noiseTps: 2, overlayBackground: 0.5 },
    }),
  });
  const bs = batches(out);
  assert.equal(bs.length, 2);
  assert.ok(bs.every((b) => b.scales.length === 3 && [64, 96].includes(b.size)));
  const e = epochs(out)[0]!;
  assert.ok(Object.keys(e.augment).length >= 3, `augmentations logged: ${JSON.stringify(e.augment)}`);
  assert.ok(statSync(join(out, 'checkpoints', 'last.safetensors')).size > 0);
});

test("--init-weights starts training from a checkpoint (the run's init checkpoint holds those weights)", async () => {
  const src = join(dir, 'e2e', 'checkpoints', 'best.safetensors');
  const out = join(dir, 'init-from');
  await train({ config: tinyConfig(out, { epochs: 1, trainLimit: 8, model: { variant: 'yolov3-tiny', width: 0.0625, size: 64, initWeights: src } }) });
  const a = loadSafetensors(src);
  const b = loadSafetensors(join(out, 'checkpoints', 'init.safetensors'));
  let compared = 0;
  for (const [k, t] of b.tensors) {
    const s = a.tensors.get(k);
    assert.ok(s, `source has ${k}`);
    assert.deepEqual(Array.from(t.dataSync() as Float32Array), Array.from(s!.dataSync() as Float32Array), k);
    compared++;
  }
  assert.ok(compared > 20);
  assert.match(readFileSync(join(out, 'log.txt'), 'utf8'), /initial weights from/);
});

test('anchors prints IoU k-means anchors sorted by area, grouped per scale (coarse first), with counts', () => {
  const r = spawnSync(process.execPath, [cli, 'anchors', data, '--num', '6', '--size', '128', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.anchors.length, 6);
  const areas = j.anchors.map(([w, h]: number[]) => w * h);
  assert.deepEqual(
    areas,
    [...areas].sort((a: number, b: number) => a - b),
  );
  assert.equal(j.perScale.length, 2);
  assert.equal(j.perScale[0].scale, 'coarse');
  assert.deepEqual(
    j.perScale[0].anchors,
    j.anchors.slice(3).map((a: number[]) => a),
  );
  assert.equal(
    j.counts.reduce((a: number, b: number) => a + b, 0),
    j.boxes,
  );
  assert.ok(j.meanBestIou > 0 && j.meanBestIou <= 1);
  const bad = spawnSync(process.execPath, [cli, 'anchors', join(dir, 'nope.h5')], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /nope\.h5/);
});

test("anchors grouped per scale are kept as given (the seed's coarse [26,16] [39,51] [217,143]); a flat list is grouped by area", () => {
  const seed = [
    [
      [26, 16],
      [39, 51],
      [217, 143],
    ],
    [
      [6, 6],
      [9, 12],
      [13, 33],
    ],
    [
      [3, 2],
      [3, 3],
      [4, 3],
    ],
  ];
  const reader = openDataset(data);
  try {
    const cfg = (anchors: unknown) => parseTrainConfig({ data, out: join(dir, 'anchors'), model: { variant: 'yolov3', size: 64, anchors } });
    assert.deepEqual(resolveRun(cfg(seed), reader).anchors, seed);
    // The same nine anchors as a flat list: by area, so [13,33] (429 px²) goes to the coarse scale.
    const flat = resolveRun(cfg(seed.flat()), reader).anchors;
    assert.deepEqual(flat[0], [
      [13, 33],
      [39, 51],
      [217, 143],
    ]);
    assert.throws(() => resolveRun(cfg(seed.slice(0, 2)), reader), /model\.anchors has 2 groups of 3\/3 anchors; yolov3 needs 3 groups of 3, coarse first/);
  } finally {
    reader.close();
  }
});

for (const kind of ['exit', 'throw'] as const) {
  test(`a data-loader worker that dies (${kind}) stops training with its error, and last stays loadable`, { timeout: 120_000 }, async () => {
    const out = join(dir, `worker-${kind}`);
    // Two workers share the requests: worker 0 answers 4 (epoch 0's batches and validation) and dies in epoch 1.
    await assert.rejects(
      train({ config: tinyConfig(out, { epochs: 3, workers: 2 }), injectWorkerFailure: { afterRequests: 4, kind } }),
      (e: Error) =>
        e instanceof LoaderWorkerError &&
        (kind === 'exit' ? /^data loader worker 0 exited with code 3$/ : /^data loader worker 0 died: injected worker failure$/).test(e.message),
    );
    assert.equal(epochs(out).length, 1, 'epoch 0 finished, epoch 1 did not');
    const last = openRun(out, { checkpoint: 'last' });
    assert.equal(last.meta.epoch, 1);
    last.model.dispose();
    assert.match(readFileSync(join(out, 'log.txt'), 'utf8'), /error: data loader worker 0/);
  });
}

test('the best checkpoint selects on the validation loss per image, which does not depend on the batch size', async () => {
  const out = join(dir, 'select');
  await train({ config: tinyConfig(out, { epochs: 3 }) });
  const es = epochs(out);
  let best = Infinity;
  for (const e of es) {
    assert.equal(e.best, e.val.lossPerImage < best, `epoch ${e.epoch}`);
    best = Math.min(best, e.val.lossPerImage);
    close(
      e.val.lossPerImage,
      e.val.scales.reduce((a, s) => a + s.total, 0),
    );
  }
  assert.equal(JSON.parse(readFileSync(join(out, 'done.json'), 'utf8')).bestValLossPerImage, best);
  // The same weights over the same 6 validation images in batches of 1, 4 (a partial last batch) and 6.
  const opened = openRun(out, { checkpoint: 'last' });
  const reader = openDataset(data);
  const val = Array.from(reader.split('val'));
  reader.close();
  const loader = new BatchLoader({ path: data, workers: 0, prefetch: 1, pool: new Int32Array(0) });
  try {
    const by = [];
    for (const batch of [1, 4, 6]) by.push(await validate(loader, opened.ctx, val, batch, 0));
    for (const v of by.slice(1)) close(v.lossPerImage, by[0]!.lossPerImage, 1e-5);
    assert.ok(Math.abs(by[0]!.objective - by[2]!.objective) > 1e-3 * by[2]!.objective, 'the objective itself depends on the batch size');
  } finally {
    await loader.close();
    opened.model.dispose();
  }
});

test('positiveMinTps marks the boxes of interactions under N TPs, in worker and in-process loaders alike, and trains', async () => {
  const reader = openDataset(data);
  const train_ = Array.from(reader.split('train')).slice(0, 16);
  const nTps = train_.flatMap((i) => reader.boxes(i).map((b) => reader.interactions(i)[b.interaction]!.nTps));
  reader.close();
  const N = [...nTps].sort((a, b) => a - b)[Math.floor(nTps.length / 2)]!;
  const want = nTps.map((n) => n < N);
  assert.ok(want.some(Boolean) && !want.every(Boolean), `some boxes under ${N} TPs and some not: ${nTps}`);
  const reqs = [0, 1].map((b) => ({ id: b, indices: train_.slice(8 * b, 8 * b + 8), seed: 7, augment: null }));
  for (const workers of [0, 1]) {
    const loader = new BatchLoader({ path: data, workers, prefetch: 2, pool: new Int32Array(0), marks: { positiveMinTps: N } });
    try {
      loader.enqueue(reqs);
      const marked = [...(await loader.next()).boxes, ...(await loader.next()).boxes].flat().map((b) => Boolean(b.ignore));
      assert.deepEqual(marked, want, `workers ${workers}`);
    } finally {
      await loader.close();
    }
  }
  const out = join(dir, 'min-tps');
  await train({ config: tinyConfig(out, { epochs: 1, positiveMinTps: N }) });
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).config.positiveMinTps, N);
  assert.ok(epochs(out).every((e) => Number.isFinite(e.val.objective)));
});
