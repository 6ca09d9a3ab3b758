// evaluate, fprate and detect on a tiny trained run: reports with every field, FP counting that
// resumes, detections as JSON and PNG, and clear errors for a wrong checkpoint or dataset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { evaluateRunOnData } from '../src/eval/evaluate.js';
import { measureFpRate, mergeFpShards, countAbove, fpTable, SCORE_BINS } from '../src/eval/fprate.js';
import { offerTop, type FpTop } from '../src/eval/fprate-state.js';
import { openDataset } from '../src/data/store.js';
import { streamImages } from '../src/data/stream.js';
import { openRun } from '../src/infer/open-run.js';
import { predict } from '../src/infer/predict.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-eval-'));
const data = join(dir, 'd.h5');
const run = join(dir, 'run');
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
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

test('evaluate writes eval/<split>.json with detection metrics, efficiency per Eν bin and FP rate', async () => {
  const r = await evaluateRunOnData({ runDir: run, data, split: 'eval', background: 16, batch: 8, workers: 0, otherRules: ['iou', 'centre'] });
  const saved = JSON.parse(readFileSync(join(run, 'eval', 'eval.json'), 'utf8'));
  assert.equal(saved.images, 5);
  assert.equal(saved.backgroundImages, 16);
  for (const k of ['map50AllPoint', 'map50Voc11', 'mapCoco', 'ap50', 'ap75', 'apSmall', 'perClass']) assert.ok(k in saved.map, `map.${k}`);
  assert.equal(saved.trigger.efficiency.bins.length, 14);
  // Every simulated interaction of the eval images is counted, with or without a box.
  assert.equal(
    r.trigger!.efficiency.bins.reduce((n, b) => n + b.all.n, 0),
    10,
  );
  // The default rule is the TP rule (TPs regenerated from the seeds: this dataset does not store them);
  // the other rules come from the same inference, over the same interactions.
  assert.equal(saved.trigger.match, 'tps');
  assert.ok(saved.trigger.matchRule.includes("of the interaction's TPs"));
  assert.deepEqual(
    r.otherRules!.map((t) => t.match),
    ['iou', 'centre'],
  );
  assert.ok(r.otherRules!.every((t) => t.efficiency.integrated.all.n === 10));
  // Each table carries the supernova-spectrum average beside the flat one.
  assert.equal(saved.trigger.efficiency.supernova.meanEnergyMeV, 11);
  assert.ok(saved.trigger.efficiency.supernova.weightWithoutEvents >= 0);
  assert.equal(saved.detections.perScale.length, 2);
  assert.equal(saved.loss.scales.length, 2);
  assert.ok(r.trigger!.scan.length > 0);
});

test('fprate counts every background detection, saves its state and resumes', async () => {
  const first = await measureFpRate({ runDir: run, images: 16, batch: 8, workers: 0, checkpoint: 'init' });
  assert.equal(first.images, 16);
  const total = first.counts.reduce((a, b) => a + b, 0);
  assert.equal(countAbove(first.counts, 0), total);
  const resumed = await measureFpRate({ runDir: run, images: 24, batch: 8, workers: 1, checkpoint: 'init' });
  assert.equal(resumed.images, 24, 'continues from 16 to 24');
  assert.ok(resumed.counts.reduce((a, b) => a + b, 0) >= total);
  // Hz conversion and limits on a hand-made histogram: 3 FPs ≥ 0.5 in 400 000 images.
  const counts = new Array<number>(SCORE_BINS).fill(0);
  counts[600] = 3;
  counts[100] = 5;
  const [hi, lo] = fpTable({ images: 400_000, counts }, [0.5, 0.05]);
  assert.equal(hi!.fpCount, 3);
  assert.equal(lo!.fpCount, 8);
  assert.ok(Math.abs(hi!.hz - ((3 / 400_000) * 200) / (4492 * 0.5e-6)) < 1e-9);
  const none = fpTable({ images: 1_000_000, counts: new Array<number>(SCORE_BINS).fill(0) }, [0.5])[0]!;
  assert.equal(none.limitKind, 'upper');
  assert.ok(Math.abs(none.limitHz - ((2.302585 / 1e6) * 200) / (4492 * 0.5e-6)) < 1e-3, `90 % upper limit ${none.limitHz}`);
});

test('fprate interrupted and resumed gives exactly the histogram of an uninterrupted count', async () => {
  // Two copies of the run, so that each has its own state file for the same seed.
  const whole = join(dir, 'fp-whole'),
    parts = join(dir, 'fp-parts');
  for (const d of [whole, parts]) cpSync(run, d, { recursive: true, filter: (f) => !f.includes(`${run}/eval`) });
  const uninterrupted = await measureFpRate({ runDir: whole, images: 24, seed: 41, batch: 8, workers: 0, checkpoint: 'init' });
  const control = { stop: true }; // stop after the first batch
  const stopped = await measureFpRate({ runDir: parts, images: 24, seed: 41, batch: 8, workers: 0, checkpoint: 'init', control });
  assert.equal(stopped.images, 8);
  const resumed = await measureFpRate({ runDir: parts, images: 24, seed: 41, batch: 8, workers: 1, checkpoint: 'init' });
  assert.equal(resumed.images, 24);
  assert.ok(
    uninterrupted.counts.some((c) => c > 0),
    'the untrained network gives false positives to compare',
  );
  assert.deepEqual(resumed.counts, uninterrupted.counts);
  // Every detection is in the ΣADC × score histogram too, in its score's bin, and resumes alike.
  assert.deepEqual(resumed.adcCounts, uninterrupted.adcCounts);
  assert.deepEqual(
    uninterrupted.counts,
    uninterrupted.counts.map((_, i) => uninterrupted.adcCounts!.reduce((a, row) => a + row[i]!, 0)),
  );
  assert.equal(resumed.start, uninterrupted.start);
  // The highest-scoring images too: the same list whether the count was stopped or not.
  assert.equal(uninterrupted.top!.images, 24);
  assert.ok(uninterrupted.top!.list.length > 0);
  assert.deepEqual(resumed.top, uninterrupted.top);
});

test('offerTop keeps the best `keep` images in order, whatever order they come in', () => {
  const images = Array.from({ length: 40 }, (_, i) => ({ image: i, score: ((i * 37) % 23) / 23, box: [0, 0, 1, 1] as [number, number, number, number] }));
  const top: FpTop = { keep: 7, images: 0, list: [] };
  for (const im of [...images].reverse()) offerTop(top, im);
  const want = [...images].sort((a, b) => b.score - a.score || a.image - b.image).slice(0, 7);
  assert.deepEqual(top.list, want);
});

test('fprate --write-top: the highest-scoring images as a dataset that reproduces their scores, the same from shards', async () => {
  // A network trained a little longer than the fixture's, so that its best score depends on the image.
  const runTop = join(dir, 'fp-top'),
    runShards = join(dir, 'fp-top-shards');
  await train({
    config: parseTrainConfig({
      data,
      out: runTop,
      epochs: 30,
      batch: 8,
      threads: 1,
      optimizer: { lr: 0.01 },
      model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 },
    }),
  });
  cpSync(runTop, runShards, { recursive: true });
  const out = join(dir, 'top.h5');
  const r = spawnSync(
    process.execPath,
    [cli, 'fprate', runTop, '--images', '40', '--seed', '43', '--batch', '8', '--workers', '0', '--parallel', '1', '--keep-top', '6', '--write-top', out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*top\.h5: the 6 highest-scoring of 40 background-only images/);
  assert.match(r.stdout, /stream image \d+, channels \d+–\d+, ticks \d+–\d+: \d+ TPs inside/);
  const state = JSON.parse(readFileSync(join(runTop, 'eval', 'fprate-seed43.json'), 'utf8'));
  const list: { image: number; score: number }[] = state.top.list;
  assert.equal(list.length, 6);
  for (let k = 1; k < list.length; k++) assert.ok(list[k - 1]!.score >= list[k]!.score);
  // The best score is in the histogram's highest occupied bin.
  const highest = state.counts.findLastIndex((c: number) => c > 0);
  assert.equal(Math.floor(list[0]!.score * SCORE_BINS), highest);
  // The trained network's scores differ from image to image (an untrained one's are its biases').
  assert.ok(list[0]!.score - list[5]!.score > 1e-3, `scores ${list.map((t) => t.score)}`);
  // Each written image is the stream's image (regenerated independently here), background only,
  // with its TPs, and the network gives it the recorded score.
  const reader = openDataset(out);
  const config = parseSimConfig(reader.attrs.config);
  assert.equal(reader.numImages, 6);
  const opened = openRun(runTop);
  try {
    for (let k = 0; k < 6; k++) {
      const [streamed] = [...streamImages({ config, seed: 43, start: list[k]!.image, count: 1, mode: 'background' })];
      const dense = reader.readDense([k]);
      assert.deepEqual(Array.from(dense), Array.from(streamed!.image), `image ${k} is stream image ${list[k]!.image}`);
      assert.equal(reader.interactions(k).length, 0);
      assert.ok(reader.tps(k)!.channel.length > 0, 'TPs stored');
      const [dets] = predict(opened.ctx, [{ image: dense, channels: reader.channels, height: reader.height, width: reader.width }], { scoreThreshold: 0.01 });
      const best = Math.max(...dets!.map((d) => d.score));
      assert.ok(Math.abs(best - list[k]!.score) < 1e-5, `image ${k}: ${best} against ${list[k]!.score}`);
    }
  } finally {
    opened.model.dispose();
    reader.close();
  }
  // Two shards merged keep the same list as the one stream.
  for (const shard of [0, 1])
    await measureFpRate({ runDir: runShards, images: 40, seed: 43, batch: 8, workers: 0, keepTop: 6, shard: { index: shard, count: 2 } });
  // Same images in the same order; scores and boxes to float precision only, since a shard's
  // batches hold other images and libtorch's batched kernels may round differently (CI's CPU did).
  const merged = mergeFpShards(runShards, { seed: 43 }).top!;
  assert.equal(merged.images, state.top.images);
  assert.deepEqual(
    merged.list.map((t) => t.image),
    list.map((t) => t.image),
  );
  merged.list.forEach((t, k) => {
    const want = state.top.list[k];
    assert.ok(Math.abs(t.score - want.score) < 1e-5, `score ${k}: ${t.score} against ${want.score}`);
    t.box.forEach((v, j) => assert.ok(Math.abs(v - want.box[j]) < 1e-3, `box ${k}[${j}]: ${v} against ${want.box[j]}`));
  });
  // A state written before the list existed: one line saying so, nothing written.
  delete state.top;
  writeFileSync(join(runTop, 'eval', 'fprate-seed43.json'), JSON.stringify(state));
  const again = spawnSync(
    process.execPath,
    [cli, 'fprate', runTop, '--images', '40', '--seed', '43', '--batch', '8', '--workers', '0', '--parallel', '1', '--write-top', join(dir, 'top2.h5')],
    {
      encoding: 'utf8',
    },
  );
  assert.notEqual(again.status, 0);
  assert.match(again.stderr.trim(), /fprate-seed43\.json: keeps no highest-scoring images \(an older daqyolo wrote it\)/);
  assert.ok(!existsSync(join(dir, 'top2.h5')));
});

test('detect writes detections with channel and tick units and PNG displays; PNG folders work too', () => {
  const out = join(dir, 'det');
  const r = spawnSync(process.execPath, [cli, 'detect', run, data, '--out', out, '--indices', '0-2', '--score', '0.01', '--checkpoint', 'init'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const det = JSON.parse(readFileSync(join(out, 'detections.json'), 'utf8'));
  assert.equal(det.images.length, 3);
  const d = det.images.flatMap((i: { detections: unknown[] }) => i.detections)[0];
  assert.ok(d && 'channels' in d && 'ticks' in d && d.score >= 0.01);
  assert.deepEqual(readdirSync(out).sort(), ['detections.json', 'image-0.png', 'image-1.png', 'image-2.png']);
  // A folder of PNGs (grey, 80 × 48: letterboxed to the network size).
  const pngs = join(dir, 'pngs');
  spawnSync('mkdir', ['-p', pngs]);
  const png = new PNG({ width: 80, height: 48 });
  png.data.fill(0);
  for (let i = 0; i < 80 * 48; i += 97) png.data[i * 4] = png.data[i * 4 + 3] = 255;
  writeFileSync(join(pngs, 'a.png'), PNG.sync.write(png));
  const r2 = spawnSync(process.execPath, [cli, 'detect', run, pngs, '--out', join(dir, 'det2'), '--score', '0.01', '--checkpoint', 'init'], {
    encoding: 'utf8',
  });
  assert.equal(r2.status, 0, r2.stderr);
  const det2 = JSON.parse(readFileSync(join(dir, 'det2', 'detections.json'), 'utf8'));
  assert.equal(det2.images[0].width, 80);
  // Letterbox 80 × 48 → 64: content 64 × 38 (x factor 0.8, y factor 38/48), 13 px of padding
  // above. Box centres map back into x ∈ [0, 80] and y ∈ [−13·48/38, (64 − 13)·48/38] in PNG
  // pixels; no channel/tick units for PNGs.
  assert.ok(det2.images[0].detections.length > 0);
  for (const b of det2.images[0].detections) {
    const cx = (b.x1 + b.x2) / 2;
    const cy = (b.y1 + b.y2) / 2;
    assert.ok(cx >= -1e-3 && cx <= 80 + 1e-3 && cy >= (-13 * 48) / 38 - 1e-3 && cy <= (51 * 48) / 38 + 1e-3, `centre (${cx}, ${cy})`);
    assert.ok(!('channels' in b));
  }
});

test('evaluate and detect refuse a missing checkpoint or a foreign run directory in one line', () => {
  const r = spawnSync(process.execPath, [cli, 'evaluate', run, '--data', data, '--checkpoint', 'nope'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.trim(), /no checkpoint 'nope'/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const r2 = spawnSync(process.execPath, [cli, 'detect', dir, data, '--out', join(dir, 'x')], { encoding: 'utf8' });
  assert.match(r2.stderr.trim(), /not a run directory \(no config\.json\)/);
  assert.ok(!existsSync(join(dir, 'x')));
});

test('evaluate --baseline prints both triggers at the same rates by the same rule, or says the rules differ', () => {
  const cliRun = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const missing = cliRun(['evaluate', run, '--data', data, '--background', '8', '--baseline', join(dir, 'none.json')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr.trim(), /--baseline: .*none\.json does not exist/);
  const b = cliRun(['baseline', data, '--run', run, '--background', '8', '--workers', '0']);
  assert.equal(b.status, 0, b.stderr);
  const same = cliRun(['evaluate', run, '--data', data, '--background', '8', '--baseline']);
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /network and baseline by the same rule — ≥ 2 of the interaction's TPs/);
  assert.match(same.stdout, /at 100 Hz per module: network .*; baseline /);
  // A network evaluated by IoU against a baseline measured by the TP rule only: not compared.
  const other = cliRun(['evaluate', run, '--data', data, '--background', '8', '--baseline', '--match', 'iou']);
  assert.equal(other.status, 0, other.stderr);
  assert.match(other.stdout, /no baseline report by the rule "iou": run `daqyolo baseline … --match iou`/);
  assert.doesNotMatch(other.stdout, /network and baseline by the same rule/);
  assert.match(cliRun(['evaluate', run, '--data', data, '--match', 'box']).stderr.trim(), /--match.*tps, iou, centre/);
});
