// The accuracy-parity diagnostics in bench/ (docs/engine.md, "Accuracy parity") run end to end on
// a tiny trained sparse-yolov3 and give figures that add up: sparse-diagnose's negative slots are
// every slot without a box, false-positives keeps exactly the detections above its score that
// overlap no truth box, bn-recalibrate's saved checkpoint holds the recomputed statistics, and
// sparse-profile's per-node counts add up to its totals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { openRun } from '../src/infer/open-run.js';
import { loadSafetensors } from '../src/torch/safetensors.js';
import { openDataset } from '../src/data/store.js';
import { evaluateRunOnData } from '../src/eval/evaluate.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-diagnose-'));
const data = join(dir, 'd.h5');
const run = join(dir, 'sparse');
const benchDir = join(fileURLToPath(new URL('..', import.meta.url)), 'bench');
after(() => rmSync(dir, { recursive: true, force: true }));

const S = 64;
before(async () => {
  const config = parseSimConfig({ image: { size: S }, signal: { perImage: 2, mode: 'fixed' } });
  await generateDataset({ out: data, config, images: 32, seed: 5, workers: 0, split: [0.5, 0.25, 0.25] });
  await train({
    config: parseTrainConfig({ data, out: run, epochs: 1, batch: 8, threads: 1, seed: 2, model: { variant: 'sparse-yolov3', width: 0.0625, size: S } }),
  });
});

function bench(name: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(benchDir, `${name}.js`), ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

test('sparse-diagnose: per scale, positives plus both kinds of negative are every slot of the split', () => {
  const j = bench('sparse-diagnose', '--data', data, run);
  const images = 8; // the validation split: 32 × 0.25
  const [r] = j.runs;
  assert.equal(r.variant, 'sparse-yolov3');
  for (const s of r.scales) {
    const cells = (S / s.stride) ** 2 * 3;
    const slots = s.positives + (s.negatives_per_image.empty + s.negatives_per_image.near_pixels) * images;
    assert.ok(Math.abs(slots - cells * images) < 1e-6 * cells * images, `stride ${s.stride}: ${slots} slots, want ${cells * images}`);
    // An empty cell reads the output conv's objectness bias (prior logit ≈ −4.6 after one epoch):
    // a small, equal no-object BCE per slot, far below 0.5.
    if (s.negatives_per_image.empty > 0) {
      const perSlot = s.noobj_bce_per_image.empty / s.negatives_per_image.empty;
      assert.ok(perSlot > 1e-4 && perSlot < 0.1, `stride ${s.stride}: ${perSlot} per empty slot`);
    }
    assert.equal(s.negatives_scoring_per_image.ge_0_5.empty, 0);
  }
});

test('false-positives: a score above 1 keeps none; a score of 0 keeps every detection off the truth boxes', () => {
  const j = bench('false-positives', '--data', data, '--split', 'val', `${run}:1.01,0`);
  const [none, all] = j.runs;
  assert.equal(none.falsePositivesPerImage, 0);
  assert.equal(none.pixels.median, null);
  assert.equal(all.images, 8);
  assert.equal(all.truthBoxesWithPixels, 1, 'every truth box holds TPs: detections and images share coordinates');
  assert.ok(all.falsePositivesPerImage > 0, 'an untrained-ish network has low-score detections off the boxes');
  assert.ok(all.pixels.none >= 0 && all.pixels.none <= all.pixels.atMost1 && all.pixels.atMost1 <= all.pixels.atMost3 && all.pixels.atMost3 <= 1);
});

test("signal-scores: every interaction once; the share at or above a cut is evaluate's efficiency by the TP rule at that cut", async () => {
  const j = bench('signal-scores', '--data', data, '--split', 'val', `${run}:0.01,0.012,1.01`);
  const [r] = j.runs;
  const reader = openDataset(data);
  const interactions = Array.from(reader.split('val')).reduce((n, i) => n + reader.interactions(i).length, 0);
  reader.close();
  assert.equal(r.all.interactions, interactions);
  assert.equal(
    r.byEnergyMeV.reduce((n: number, b: { interactions: number }) => n + b.interactions, 0),
    interactions,
  );
  assert.equal(
    r.byTps.reduce((n: number, b: { interactions: number }) => n + b.interactions, 0),
    interactions,
  );
  assert.equal(r.all.atOrAboveCut['1.01'], 0);
  // The same inference through evaluate: its flat efficiency at each cut is the share here.
  for (const cut of [0.01, 0.012]) {
    const ev = await evaluateRunOnData({
      runDir: run,
      data,
      split: 'val',
      background: 0,
      batch: 8,
      workers: 0,
      trigger: { scoreThreshold: cut, match: 'tps' },
    });
    const e = ev.trigger!.efficiency.integrated.all;
    assert.equal(e.n, interactions);
    assert.ok(Math.abs(r.all.atOrAboveCut[String(cut)] - e.k / e.n) < 1e-3, `cut ${cut}: ${r.all.atOrAboveCut[String(cut)]} against ${e.k}/${e.n}`);
  }
  assert.ok(r.all.atOrAboveCut['0.01'] > 0, 'some interaction is held by a candidate');
});

test('bn-recalibrate: validation before and after, and the saved checkpoint carries the recomputed running statistics', () => {
  const out = join(dir, 'pbn.safetensors');
  const j = bench('bn-recalibrate', '--data', data, run, '--images', '16', '--save', out);
  assert.equal(j.recalibratedOn, 16);
  assert.ok(j.bnLayers > 50);
  assert.ok(Number.isFinite(j.before.lossPerImage) && Number.isFinite(j.after.lossPerImage));
  const saved = loadSafetensors(out);
  const orig = openRun(run);
  const key = [...orig.model.stateDict().keys()].find((k) => k.endsWith('running_mean'))!;
  const was = orig.model.stateDict().get(key)!.toNumbers();
  const now = saved.tensors.get(key)!.toNumbers();
  assert.equal(now.length, was.length);
  assert.ok(
    now.some((v, i) => Math.abs(v - was[i]!) > 1e-6),
    'the running mean changed',
  );
  orig.model.dispose();
});

test('sparse-profile: sites and FLOPs per node add up; a grown head trunk (--grow-trunk 2) holds more sites at the same input', () => {
  const profile = (grow: string) =>
    bench('sparse-profile', '--data', data, '--size', String(S), '--width', '0.0625', '--batch', '2', '--rounds', '1', '--threads', '1', '--grow-trunk', grow);
  const [plain, grown] = [profile('0'), profile('2')];
  assert.equal(grown.grow_trunk, 2);
  for (const p of [plain, grown]) {
    assert.ok(
      p.gflop_per_image.pairs <= p.gflop_per_image.engine + 1e-9 && p.gflop_per_image.engine <= p.gflop_per_image.gather + 1e-9,
      JSON.stringify(p.gflop_per_image),
    );
    const total = p.nodes.reduce((s: number, n: { mflop_per_image: { dense: number } }) => s + n.mflop_per_image.dense, 0);
    assert.ok(
      Math.abs(total / 1000 - p.gflop_per_image.dense) < 0.01 * p.gflop_per_image.dense + 1e-3,
      `nodes ${total} MFLOP, total ${p.gflop_per_image.dense} GFLOP`,
    );
  }
  const sites = (p: { nodes: { node: string; sites_per_image: number }[] }, node: string) => p.nodes.find((n) => n.node === node)!.sites_per_image;
  assert.equal(sites(grown, 'f8'), sites(plain, 'f8'), 'the backbone is the same');
  // At 64 px the stride-32 map (2 × 2) is full either way; the stride-8 one (8 × 8) is not.
  for (const t of ['t1', 't2', 't3']) assert.ok(sites(grown, t) >= sites(plain, t), `${t}: ${sites(grown, t)} sites grown, ${sites(plain, t)} not`);
  assert.ok(sites(grown, 't3') > sites(plain, 't3'), `t3: ${sites(grown, 't3')} sites grown, ${sites(plain, 't3')} not`);
});
