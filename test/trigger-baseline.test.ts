// The baseline trigger: the clustering rules on hand-made TPs, the command on a simulated dataset
// (stored and regenerated TPs agree; a dataset the simulator no longer reproduces is refused), and
// fprate --baseline streaming with resumption.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { cli, env } from './report-fixture.js';
import { generateDataset } from '../src/data/generate.js';
import { openDataset } from '../src/data/store.js';
import { parseSimConfig } from '../src/sim/config.js';
import { imageLayout } from '../src/sim/image.js';
import { datasetBaselineImages, datasetSimulation } from '../src/trigger/baseline.js';
import { EVALUATE_BACKGROUND_START, streamImages } from '../src/data/stream.js';
import { generateChunks } from '../src/sim/pool.js';
import { clusterTps, defaultClusterParams } from '../src/trigger/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-baseline-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });

test('clustering: channel gap ≤ tolerance and Δt ≤ 20 ticks link TPs; hits and channels cut; ΣADC scores', () => {
  const layout = imageLayout(parseSimConfig({})); // 480 channels → 480 px; 4492 ticks → 480 rows
  const tps = {
    //        a: 3 TPs, gaps 1 and 2, within 20 ticks     b: gap 3 → alone   c: Δt 21 → alone   d: one channel ×3
    channel: [10, 11, 13, 16, 13, 100, 100, 100, 200, 201],
    timePeak: [1000, 1010, 1020, 1020, 1041, 2000, 2005, 2010, 3000, 3001],
    adcIntegral: [100, 200, 300, 50, 60, 500, 500, 500, 900, 900],
  };
  const p = defaultClusterParams();
  const c = clusterTps(tps, tps.channel.length, p, layout);
  assert.equal(c.length, 1, JSON.stringify(c));
  assert.deepEqual(
    { ...c[0] },
    { x1: 10, y1: Math.floor(1000 / (4492 / 480)), x2: 14, y2: Math.floor(1020 / (4492 / 480)) + 1, sumAdc: 600, hits: 3, channels: 3, tps: [0, 1, 2] },
  );
  // Tolerance 3 joins channel 16 (and then 13 @ 1041 through it: Δt 21 from 1020 breaks it).
  const c3 = clusterTps(tps, tps.channel.length, { ...p, channelTolerance: 3 }, layout);
  assert.deepEqual(
    c3.map((x) => x.sumAdc),
    [650],
  );
  // Two hits are enough with minHits 2: the pair on channels 200–201 becomes a candidate, ranked first by ΣADC.
  const c2 = clusterTps(tps, tps.channel.length, { ...p, minHits: 2 }, layout);
  assert.deepEqual(
    c2.map((x) => x.sumAdc),
    [1800, 600],
  );
  // One channel is never enough (≥ 2 channels), however many hits.
  assert.ok(clusterTps(tps, tps.channel.length, { ...p, minHits: 1 }, layout).every((x) => x.channels >= 2));
});

test("daqyolo baseline: evaluate's trigger schema; stored and regenerated TPs give the same figures", async () => {
  const cfg = { signal: { mode: 'fixed' as const, perImage: 2 } };
  const regen = join(dir, 'regen.h5'),
    stored = join(dir, 'stored.h5');
  await generateDataset({ out: regen, config: parseSimConfig(cfg), images: 40, seed: 3, workers: 0 });
  await generateDataset({ out: stored, config: parseSimConfig({ ...cfg, storeTps: true }), images: 40, seed: 3, workers: 0 });
  const runDir = join(dir, 'run');
  const a = run(['baseline', regen, '--background', '30', '--workers', '0', '--run', runDir, '--json']);
  assert.equal(a.status, 0, a.stderr);
  const b = run(['baseline', stored, '--background', '30', '--workers', '0', '--json']);
  assert.equal(b.status, 0, b.stderr);
  const ra = JSON.parse(a.stdout),
    rb = JSON.parse(b.stdout);
  assert.ok(existsSync(join(runDir, 'baseline', 'eval.json')), 'written where the report looks');
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'baseline', 'eval.json'), 'utf8')).trigger, ra.trigger);
  assert.ok(existsSync(join(dir, 'baseline-eval.json')));
  const t = ra.trigger;
  assert.equal(t.efficiency.threshold, 400);
  assert.equal(t.efficiency.bins.length, 14);
  assert.ok(t.efficiency.bins.every((x: { all: { stdErr: number; wilson: number[] } }) => Number.isFinite(x.all.stdErr) && x.all.wilson.length === 2));
  assert.deepEqual(
    t.operatingPoints.map((p: { targetHz: number }) => p.targetHz),
    [1, 10, 100],
  );
  assert.equal(t.falsePositives.images, 30);
  assert.match(t.conversion, /× 200 faces/);
  assert.ok(t.efficiency.integrated.all.n === 8, `2 interactions × 4 eval images, got ${t.efficiency.integrated.all.n}`);
  assert.ok(t.scan.length > 0);
  // The same images, read or regenerated: identical trigger figures.
  assert.deepEqual(rb.trigger.efficiency, ra.trigger.efficiency);
  assert.deepEqual(rb.trigger.scan, ra.trigger.scan);
});

test('a dataset whose boxes the simulator no longer reproduces is refused with a one-line error', () => {
  const r = openDataset(join(dir, 'regen.h5'));
  try {
    const shifted = Object.assign(Object.create(Object.getPrototypeOf(r)), r, {
      boxes: (i: number) => r.boxes(i).map((b) => ({ ...b, x1: b.x1 + 1 })),
      split: (s: 'train' | 'val' | 'eval') => r.split(s),
      interactions: (i: number) => r.interactions(i),
      tps: (i: number) => r.tps(i),
    });
    assert.throws(
      () => datasetBaselineImages(shifted, 'train', defaultClusterParams()),
      /image \d+: the TPs regenerated from its seed do not reproduce its stored boxes/,
    );
  } finally {
    r.close();
  }
});

test('fprate --baseline streams background images, keeps its state and resumes', () => {
  const data = join(dir, 'regen.h5');
  const first = run(['fprate', '--baseline', '--data', data, '--images', '40', '--workers', '0', '--json']);
  assert.equal(first.status, 0, first.stderr);
  const state = join(dir, 'baseline-fprate-seed3.json');
  assert.equal(JSON.parse(readFileSync(state, 'utf8')).images, 40);
  const second = run(['fprate', '--baseline', '--data', data, '--images', '60', '--workers', '0', '--json']);
  assert.equal(second.status, 0, second.stderr);
  const r = JSON.parse(second.stdout);
  assert.equal(r.images, 60);
  assert.equal(r.rows[0].threshold, 400);
  assert.match(run(['fprate']).stderr, /give a run directory, or --baseline --data/);
});

test("the baseline's background images are the ones evaluate streams (same indices, same charge)", async () => {
  const r = openDataset(join(dir, 'regen.h5'));
  const sim = datasetSimulation(r);
  r.close();
  const start = sim.numImages + EVALUATE_BACKGROUND_START;
  const images = [...streamImages({ config: sim.config, seed: sim.seed, start, count: 4, mode: 'background' })].map((im) =>
    im.image.reduce((a, b) => a + b, 0),
  );
  const tps: number[] = [];
  for await (const c of generateChunks({ config: sim.config, seed: sim.seed, start, count: 4, workers: 0, keepTps: true, signal: false })) {
    let off = 0;
    for (let k = 0; k < c.count; k++) {
      let s = 0;
      for (let i = 0; i < c.tpCounts![k]; i++) s += c.tps!.adcIntegral[off + i];
      off += c.tpCounts![k];
      tps.push(s);
    }
  }
  assert.ok(images.every((x) => x > 0));
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(images[k] - tps[k]) < 1e-3 * images[k], `image ${k}: ΣADC ${images[k]} vs its TPs ${tps[k]}`);
});
