// Trigger figures on imported TPs: evaluate gives efficiency vs Eν on the imported interactions and
// the FP rate from the imported background windows (with the dataset's own window); without truth
// every image is a background window; fprate --data on an imported set counts its stored windows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSimConfig } from '../../src/sim/config.js';
import { generateDataset } from '../../src/data/generate.js';
import { openDataset } from '../../src/data/store.js';
import { writeTpStream } from '../../src/formats/tps/index.js';
import { datasetTpStream } from '../../src/formats/tps/export.js';
import { importTps } from '../../src/formats/tps/import.js';
import { evaluateRunOnData } from '../../src/eval/evaluate.js';
import { measureStoredFpRate } from '../../src/eval/fprate.js';
import { run, trainArgs } from '../faults/fixture.js';

let dir = '';
const withTruth = () => join(dir, 'truth.h5');
const noTruth = () => join(dir, 'notruth.h5');
const runDir = () => join(dir, 'run');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daqyolo-tps-eval-'));
  const sim = join(dir, 'sim.h5');
  await generateDataset({
    out: sim,
    config: parseSimConfig({ image: { size: 32 }, signal: { perImage: 1, mode: 'poisson' } }),
    images: 30,
    seed: 4,
    workers: 0,
  });
  const r = run(trainArgs(sim, runDir(), 1));
  assert.equal(r.status, 0, r.stderr);
  const { stream, windowTicks } = datasetTpStream(sim);
  const file = join(dir, 'x.txt');
  await writeTpStream(stream, 'text8', file, { eventTicks: windowTicks });
  const o = { windowMs: 2.246, imageConfig: { image: { size: 32 } }, skipBad: false, force: true, seed: 0, split: [0, 0, 1] as [number, number, number] };
  await importTps({ ...o, files: [file], out: withTruth() });
  // The same TPs without their truth files: real data of a supernova-free run.
  renameSync(`${file}.owners`, join(dir, 'owners'));
  await importTps({ ...o, files: [file], out: noTruth() });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('evaluate on imported TPs with truth: efficiency over the imported interactions, FP rate from the background windows', async () => {
  const r = await evaluateRunOnData({ runDir: runDir(), data: withTruth(), split: 'eval', checkpoint: 'last', background: 1000, batch: 8, workers: 0 });
  const d = openDataset(withTruth());
  const all = Array.from({ length: d.numImages }, (_, i) => i);
  const interactions = all.reduce((a, i) => a + d.interactions(i).length, 0);
  const bySource = d.table('tps_by_source')!;
  const bg = all.filter((i) => bySource.data[i * bySource.columns.length + bySource.columns.indexOf('signal')] === 0).length;
  assert.ok(bg >= all.filter((i) => d.interactions(i).length === 0).length);
  d.close();
  assert.ok(r.trigger, 'trigger figures');
  assert.ok(interactions > 0 && bg > 0);
  assert.equal(r.backgroundImages, bg);
  assert.equal(r.trigger!.falsePositives.images, bg);
  assert.equal(r.trigger!.efficiency.integrated.all.n, interactions);
  assert.match(r.triggerNote!, /with truth.*background windows: one FP per window is 89047 Hz per module/);
});

test('evaluate on imported TPs without truth: every window is background, no interaction', async () => {
  const r = await evaluateRunOnData({ runDir: runDir(), data: noTruth(), split: 'eval', checkpoint: 'last', background: 1000, batch: 8, workers: 0 });
  assert.equal(r.backgroundImages, r.images);
  assert.equal(r.trigger!.falsePositives.images, r.images);
  assert.equal(r.trigger!.efficiency.integrated.all.n, 0);
  assert.match(r.triggerNote!, /no truth: every candidate is a false positive/);
});

test('fprate on a stored background set: the imported windows, counted as evaluate counts them', async () => {
  const e = await evaluateRunOnData({
    runDir: runDir(),
    data: noTruth(),
    split: 'eval',
    checkpoint: 'last',
    background: 0,
    batch: 8,
    workers: 0,
    outName: 'x',
  });
  const f = await measureStoredFpRate({ runDir: runDir(), data: noTruth(), images: 1e9, checkpoint: 'last', batch: 4 });
  assert.equal(f.images, e.images);
  const at = f.rows.find((row) => row.threshold === 0.5)!;
  assert.equal(at.fpCount, e.trigger!.falsePositives.count);
  assert.ok(Math.abs(at.hz - e.trigger!.falsePositives.hz) < 1e-6 * Math.max(1, at.hz));
});

test("baseline on imported TPs: the clustering trigger on the stored TPs gives the simulation's efficiency; FPs from the split's background windows", async () => {
  const { runBaseline, clusterParamsOf } = await import('../../src/cli/baseline.js');
  const sim = join(dir, 'sim.h5');
  const same = join(dir, 'same-split.h5');
  const { stream, windowTicks } = datasetTpStream(sim);
  const file = join(dir, 'y.hdf5');
  await writeTpStream(stream, 'hdf5', file, { sliceTicks: windowTicks });
  // The simulation's seed and fractions: the same split.
  await importTps({
    files: [file],
    out: same,
    windowMs: 2.246,
    imageConfig: { image: { size: 32 } },
    skipBad: false,
    force: true,
    seed: 4,
    split: [0.8, 0.1, 0.1],
  });
  const params = clusterParamsOf({}, 12);
  const a = await runBaseline({ data: sim, split: 'train', params, background: 0, workers: 0 });
  const b = await runBaseline({ data: same, split: 'train', params, background: 0, workers: 0 });
  assert.ok(a.trigger.efficiency.integrated.all.n > 0);
  assert.deepEqual(b.trigger.efficiency, a.trigger.efficiency);
  const d = openDataset(same);
  const bySource = d.table('tps_by_source')!;
  const bg = Array.from(d.split('train')).filter((i) => bySource.data[i * bySource.columns.length + bySource.columns.indexOf('signal')] === 0).length;
  d.close();
  assert.equal(b.backgroundImages, bg);
});

test("compare on imported TPs with truth: paired on the imported interactions, cuts from the split's background windows counted as evaluate counts them", async () => {
  const { compareRuns } = await import('../../src/study/compare.js');
  const o = { runA: runDir(), runB: runDir(), checkpoint: 'last', ratesHz: [3e5], bootstrap: 20, seed: 1, background: 0, batch: 8, workers: 0 };
  const r = await compareRuns({ ...o, data: withTruth() });
  const e = await evaluateRunOnData({ runDir: runDir(), data: withTruth(), split: 'eval', checkpoint: 'last', background: 0, batch: 8, workers: 0 });
  assert.equal(r.a.thresholdSource.kind, 'stored');
  assert.equal(r.a.thresholdSource.images, e.backgroundImages);
  assert.equal(r.interactions, e.trigger!.efficiency.integrated.all.n);
  assert.equal(r.hzPerFpPerImage, e.trigger!.hzPerFpPerImage, "the dataset's own window");
  const [rate] = r.rates;
  assert.ok(rate!.a.threshold !== null, JSON.stringify(rate!.a));
  // The FPs behind the cut are evaluate's at that cut on the same windows; the efficiency is evaluate's there.
  const at = await evaluateRunOnData({
    runDir: runDir(),
    data: withTruth(),
    split: 'eval',
    checkpoint: 'last',
    background: 0,
    batch: 8,
    workers: 0,
    trigger: { scoreThreshold: rate!.a.threshold! },
    outName: 'at-cut',
  });
  assert.ok(rate!.a.fpCount > 0, 'the cut rests on counted FPs');
  assert.equal(rate!.a.fpCount, at.trigger!.falsePositives.count);
  assert.equal(rate!.flat.a, at.trigger!.efficiency.integrated.all.efficiency);
  assert.equal(rate!.flat.delta, 0, 'a run against itself');
  await assert.rejects(compareRuns({ ...o, data: noTruth() }), /notruth\.h5: imported TPs without truth files: no interactions to find/);
});
