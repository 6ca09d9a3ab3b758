// `daqyolo compare` end to end on two tiny trained runs (dense yolov3-tiny and sparse-yolov3-tiny,
// same data and seed): the JSON with A, B and Δ, each run's threshold from its own fprate histogram
// or from streamed background images, the figures equal to what `evaluate` reports for each run at
// the same threshold, a run against itself giving Δ = 0 exactly, and the one-line refusals; with
// several runs per side, each run's figures as its own pair comparison gives them, the groups'
// means, the runs' spread in the error and the bootstrap of the means on the pairs' resamples.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { evaluateRunOnData } from '../src/eval/evaluate.js';
import { countAbove, measureFpRate, MIN_SCORE } from '../src/eval/fprate.js';
import { thresholdForRate } from '../src/study/endpoint.js';
import { readFpState } from '../src/eval/fprate-state.js';
import type { CompareReport, GroupCompareReport } from '../src/study/compare.js';
import { collectVoc } from '../src/formats/voc.js';
import { importRecords } from '../src/formats/importer.js';
import { writeVoc } from './import/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-compare-'));
const data = join(dir, 'd.h5');
const otherSplit = join(dir, 'd-split.h5');
const dense = join(dir, 'dense');
const sparse = join(dir, 'sparse');
const other = join(dir, 'other');
const dense2 = join(dir, 'dense2');
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));

const config = parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } });
const model = (variant: string) => ({ variant, width: 0.0625, size: 64 });

before(async () => {
  await generateDataset({ out: data, config, images: 48, seed: 9, workers: 0, split: [0.5, 0.1, 0.4] });
  // The same images cut into other splits: another evaluation split.
  await generateDataset({ out: otherSplit, config, images: 48, seed: 9, workers: 0, split: [0.6, 0.1, 0.3] });
  for (const [out, variant, d] of [
    [dense, 'yolov3-tiny', data],
    [sparse, 'sparse-yolov3-tiny', data],
    [other, 'yolov3-tiny', otherSplit],
  ] as const) {
    await train({ config: parseTrainConfig({ data: d, out, epochs: 1, batch: 8, threads: 1, seed: 3, model: model(variant) }) });
  }
  // The dense recipe again with another seed: a group of two trainings.
  await train({ config: parseTrainConfig({ data, out: dense2, epochs: 1, batch: 8, threads: 1, seed: 4, model: model('yolov3-tiny') }) });
});

function compare(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'compare', ...args], { encoding: 'utf8' });
}

test('dense vs sparse: the JSON has A, B, Δ, the rule, the threshold sources and figures equal to evaluate at the same thresholds', async () => {
  // A (dense) has an fprate histogram of its checkpoint; B (sparse) gets the background images streamed by compare.
  await measureFpRate({ runDir: dense, images: 24, batch: 8, workers: 0 });
  const out = join(dir, 'compare.json');
  // 10⁵ Hz per module ≈ 1.1 FP per image: reachable with a few dozen background images; 10 Hz is not.
  const r = compare(dense, sparse, '--rates', '100000,10', '--background', '16', '--bootstrap', '200', '--seed', '4', '--batch', '8', '--out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as CompareReport;
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), j, '--out holds what --json prints');
  assert.equal(j.a.variant, 'yolov3-tiny');
  assert.equal(j.b.variant, 'sparse-yolov3-tiny');
  assert.equal(j.split, 'eval');
  assert.equal(j.images, 19);
  assert.equal(j.match, 'tps');
  assert.match(j.matchRule, /≥ 2 of the interaction's TPs/);
  assert.equal(j.a.thresholdSource.kind, 'fprate');
  assert.equal(j.a.thresholdSource.images, 24);
  assert.equal(j.b.thresholdSource.kind, 'background');
  assert.equal(j.b.thresholdSource.images, 16);
  assert.ok(
    j.warnings.some((w) => w.includes(`only ${j.interactions} evaluation interactions`)),
    'fewer than 1 000 interactions is said',
  );
  // Two interactions per image, every one counted (the simulated energies lie in 1–70 MeV).
  assert.ok(j.interactions > 0 && j.interactions <= 2 * j.images);
  assert.equal(j.bootstrap.resamples, 200);

  const [high, low] = j.rates;
  assert.equal(high!.targetHz, 100000);
  assert.notEqual(high!.a.threshold, null, 'A reaches 10⁵ Hz');
  assert.notEqual(high!.b.threshold, null, 'B reaches 10⁵ Hz');
  // A's threshold is the one its fprate histogram gives: the FP count above it is the histogram's.
  const state = readFpState(j.a.thresholdSource.file!);
  assert.equal(high!.a.fpCount, countAbove(state.counts, high!.a.threshold!));
  assert.ok(high!.a.fpHz <= 100000);
  // 10 Hz needs ~20 000 background images: not reachable, and said so for both runs.
  assert.equal(low!.a.threshold, null);
  assert.match(low!.a.unreachable!, /not reachable with 24 background images/);
  assert.match(low!.b.unreachable!, /not reachable with 16 background images/);
  assert.equal(low!.flat.delta, null);

  // The same figures as evaluate gives each run at its threshold (same inference, same rule).
  for (const [run, side, figure] of [
    [dense, high!.a, 'a'],
    [sparse, high!.b, 'b'],
  ] as const) {
    if (side.threshold === null) continue;
    const ev = await evaluateRunOnData({ runDir: run, data, split: 'eval', background: 0, batch: 8, workers: 0, trigger: { scoreThreshold: side.threshold } });
    assert.equal(high!.flat[figure], ev.trigger!.efficiency.integrated.all.efficiency, `${run}: flat efficiency`);
    assert.ok(Math.abs(high!.supernova[figure]! - ev.trigger!.efficiency.supernova.efficiency!) < 1e-12, `${run}: supernova average`);
    assert.equal(j.map[figure], ev.map.map50AllPoint, `${run}: mAP@0.5`);
    // Each Eν bin's efficiency as evaluate's table has it.
    const bins = ev.trigger!.efficiency.bins;
    assert.equal(high!.byEnergy.length, bins.length);
    high!.byEnergy.forEach((x, k) => {
      assert.deepEqual([x.loMeV, x.hiMeV, x.interactions], [bins[k]!.loMeV, bins[k]!.hiMeV, bins[k]!.all.n], `bin ${k}`);
      assert.equal(x[figure], bins[k]!.all.efficiency, `${run}: bin ${k}`);
    });
  }
  assert.equal(
    high!.byEnergy.reduce((n, x) => n + x.interactions, 0),
    j.interactions,
    'the bins hold every interaction once',
  );
  assert.deepEqual(low!.byEnergy, [], 'no cut, no bins');
  // The background sample's share of the uncertainty: A's flat ε at the cuts its own histogram
  // gives for the target scaled by the FP count's 90 % interval, as evaluate finds it there, and
  // bracketing the figure (a tighter cut passes fewer).
  const range = high!.a.flatOverFpInterval!;
  const [lower, upper] = high!.a.fpHzInterval;
  for (const [end, hz] of [
    [range[0], (1e5 * high!.a.fpHz) / upper],
    [range[1], (1e5 * high!.a.fpHz) / lower],
  ] as const) {
    const cut = thresholdForRate(state, hz).threshold;
    if (cut === null) {
      assert.equal(end, null, `${hz} Hz: no cut, no figure`);
      continue;
    }
    const ev = await evaluateRunOnData({
      runDir: dense,
      data,
      split: 'eval',
      background: 0,
      batch: 8,
      workers: 0,
      trigger: { scoreThreshold: Math.max(cut, MIN_SCORE) },
    });
    assert.equal(end, ev.trigger!.efficiency.integrated.all.efficiency, `flat ε at the cut for ${hz} Hz`);
  }
  if (range[0] !== null) assert.ok(range[0] <= high!.flat.a!, `${range[0]} ≤ ${high!.flat.a}`);
  if (range[1] !== null) assert.ok(range[1] >= high!.flat.a!, `${range[1]} ≥ ${high!.flat.a}`);
  assert.equal(low!.a.flatOverFpInterval, null, 'no cut at 10 Hz: no range');
  if (high!.a.threshold !== null && high!.b.threshold !== null) {
    assert.equal(high!.flat.delta, high!.flat.b! - high!.flat.a!);
    assert.ok(high!.flat.bootstrap!.resamples === 200);
    assert.ok(high!.flat.analyticDeltaStdErr !== null);
  }
  // The printed table names both runs, the rule and every rate.
  const text = compare(dense, sparse, '--rates', '100000,10', '--background', '16', '--bootstrap', '50', '--batch', '8', '--by-energy');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /\n {4}1–6 MeV \(\d+\)/, '--by-energy prints the bins');
  assert.match(text.stdout, /mAP@0\.5 \(VOC all-point\)/);
  assert.match(text.stdout, /ε at 100000 Hz, flat/);
  assert.match(text.stdout, /efficiency at 10 Hz\s+not compared/);
  assert.match(text.stdout, /rule: tps/);
  assert.match(text.stdout, /at 100000 Hz per module: A: .*90 % CL [\d.e+]+–[\d.e+]+ Hz: flat ε ([\d.]+ %|–) to ([\d.]+ %|–) over it\)/);
  assert.match(text.stdout, /warning: only \d+ evaluation interactions/);
});

test('a run against itself: Δ = 0 exactly, with zero-width intervals', () => {
  const r = compare(sparse, sparse, '--rates', '100000', '--background', '16', '--bootstrap', '100', '--batch', '8', '--json', '--match', 'centre');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as CompareReport;
  assert.equal(j.match, 'centre');
  for (const f of [j.map, j.rates[0]!.flat, j.rates[0]!.supernova]) {
    if (f.a === null) continue;
    assert.equal(f.delta, 0);
    assert.equal(f.bootstrap!.stdErr, 0);
    assert.deepEqual(f.bootstrap!.interval68, [0, 0]);
    assert.deepEqual(f.bootstrap!.interval95, [0, 0]);
    assert.equal(f.withinTwoSigma, true);
  }
});

test('runs on other evaluation splits, a dataset without truth or no dataset: one line naming the files', async () => {
  const r = compare(dense, other, '--json');
  assert.equal(r.status, 1);
  const line = r.stderr.trim();
  assert.equal(line.split('\n').length, 1, line);
  assert.match(line, /^daqyolo: compare: different evaluation splits: /);
  assert.ok(line.includes(join(dense, 'config.json')) && line.includes(join(other, 'config.json')), line);
  assert.ok(line.includes(data) && line.includes(otherSplit), line);
  const missing = compare(dense, sparse, '--data', join(dir, 'nothing.h5'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr.trim(), /nothing\.h5: dataset not found/);
  assert.ok(!existsSync(join(dir, 'nothing.h5')));
  // Pictures imported with their boxes: no simulated interactions to be triggered on.
  const voc = join(dir, 'voc');
  writeVoc(voc, 4, [[64, 64]], { seed: 2 });
  const pictures = join(dir, 'voc.h5');
  await importRecords(collectVoc({ images: join(voc, 'JPEGImages'), annotations: join(voc, 'Annotations') }), {
    format: 'voc',
    source: {},
    out: pictures,
    size: 64,
    channels: 'keep',
    skipBad: false,
    force: false,
    seed: 0,
  });
  const noTruth = compare(dense, sparse, '--data', pictures);
  assert.equal(noTruth.status, 1);
  assert.equal(
    noTruth.stderr.trim(),
    `daqyolo: ${pictures}: no truth interactions (imported from pictures): compare needs a simulated dataset or imported TPs with truth`,
  );
});

test("several runs per side: each run's figures as in its pair comparison, the means, the runs' spread and the bootstrap of the means", () => {
  const opts = ['--rates', '100000', '--background', '16', '--bootstrap', '300', '--seed', '5', '--batch', '8', '--json'];
  const run = (...args: string[]) => {
    const r = compare(...args, ...opts);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as unknown;
  };
  // B's cut differs from A's first run's (a cut taken from the wrong run would show).
  const g = run(`${dense2},${sparse}`, dense) as GroupCompareReport;
  const p1 = run(dense2, dense) as CompareReport;
  const p2 = run(sparse, dense) as CompareReport;
  assert.deepEqual(
    g.a.map((s) => s.run),
    [dense2, sparse],
  );
  assert.deepEqual(
    g.b.map((s) => s.variant),
    ['yolov3-tiny'],
  );
  assert.equal(g.images, p1.images);
  assert.equal(g.interactions, p1.interactions);
  // Each run at its own cut, from the same FP histogram as alone: the same figures to the bit.
  const [gr, r1, r2] = [g.rates[0]!, p1.rates[0]!, p2.rates[0]!];
  assert.deepEqual(gr.a[0], r1.a);
  assert.deepEqual(gr.a[1], r2.a);
  assert.deepEqual(gr.b[0], r1.b);
  assert.deepEqual(g.map.a, [p1.map.a, p2.map.a]);
  assert.deepEqual(g.map.b, [p1.map.b]);
  if (r1.a.threshold === null || r2.a.threshold === null || r1.b.threshold === null) return assert.fail('every run reaches 10⁵ Hz');
  assert.deepEqual(gr.flat.a, [r1.flat.a, r2.flat.a]);
  assert.deepEqual(gr.flat.b, [r1.flat.b]);
  // Each Eν bin: the runs' values as in their pair comparisons, and the group's mean.
  gr.byEnergy.forEach((x, k) => {
    assert.deepEqual(x.a, [r1.byEnergy[k]!.a, r2.byEnergy[k]!.a], `bin ${k}`);
    assert.deepEqual(x.b, [r1.byEnergy[k]!.b], `bin ${k}`);
    if (x.meanA !== null) assert.ok(Math.abs(x.meanA - (r1.byEnergy[k]!.a! + r2.byEnergy[k]!.a!) / 2) < 1e-12);
  });
  assert.equal(gr.byEnergy.length, r1.byEnergy.length);
  const [x1, x2, y] = [r1.flat.a!, r2.flat.a!, r1.flat.b!];
  const close = (u: number | null, v: number, what: string) => assert.ok(u !== null && Math.abs(u - v) < 1e-12, `${what}: ${u} vs ${v}`);
  close(gr.flat.meanA, (x1 + x2) / 2, 'mean A');
  close(gr.flat.delta, y - (x1 + x2) / 2, 'Δ');
  // Two runs and one: the pooled spread is A's, |x1 − x2| / √2 on one degree of freedom.
  assert.equal(gr.flat.runDegreesOfFreedom, 1);
  close(gr.flat.trainingStdErr, (Math.abs(x1 - x2) / Math.SQRT2) * Math.sqrt(1 / 2 + 1), 'training σ');
  // Same seed, same images: every resample is the pairs' own, and on it Δ_group = (Δ1 + Δ2) / 2,
  // so its σ lies between |σ1 − σ2| / 2 and (σ1 + σ2) / 2.
  const [s, s1, s2] = [gr.flat.sampleBootstrap!.stdErr!, r1.flat.bootstrap!.stdErr!, r2.flat.bootstrap!.stdErr!];
  assert.equal(gr.flat.sampleBootstrap!.resamples, 300);
  // B is one run at its own cut on the same resamples: its σ is the pair's to the bit.
  assert.equal(gr.flat.sampleBootstrap!.stdErrB, r1.flat.bootstrap!.stdErrB);
  assert.equal(gr.supernova.sampleBootstrap!.stdErrB, r1.supernova.bootstrap!.stdErrB);
  assert.ok(s <= (s1 + s2) / 2 + 1e-12 && s >= Math.abs(s1 - s2) / 2 - 1e-12, `${s} within [${Math.abs(s1 - s2) / 2}, ${(s1 + s2) / 2}]`);
  close(gr.flat.stdErr, Math.sqrt(gr.flat.trainingStdErr! ** 2 + s ** 2), 'σ in quadrature');
  // The printed form names each run, both errors and the interval.
  const text = compare(`${dense2},${sparse}`, dense, '--rates', '100000', '--background', '16', '--bootstrap', '50', '--batch', '8', '--by-energy');
  assert.equal(text.status, 0, text.stderr);
  assert.ok(text.stdout.startsWith(`A (2 runs): ${dense2} (yolov3-tiny, `), text.stdout);
  assert.match(text.stdout, /B \(1 run\): /);
  assert.match(text.stdout, /ε at 100000 Hz, flat\n {4}A runs [\d.]+ · [\d.]+ %/);
  assert.match(text.stdout, /Δ = mean B − mean A [+-][\d.]+ % ± [\d.]+ % \(training [\d.]+ %, sample [\d.]+ %; ([\d.]+|∞) dof\)/);
  assert.match(text.stdout, /95 % interval of Δ \[[+-][\d.]+ %, [+-][\d.]+ %\]; holds 0: (yes|NO)/);
  assert.match(text.stdout, /at 100000 Hz per module: A1: .*; A2: .*; B1: /);
  assert.match(text.stdout, /by Eν \(interactions\)[^\n]*\n {6}1–6 MeV \(\d+\) /, '--by-energy prints the bins');
});

test('several runs per side: a run given twice, or one trained on another split, is refused in one line', () => {
  const twice = compare(`${dense},${dense}`, sparse);
  assert.equal(twice.status, 1);
  assert.equal(twice.stderr.trim(), `daqyolo: compare: ${dense} is given twice; each run counts once in its group's spread`);
  const split = compare(`${dense},${dense2}`, `${sparse},${other}`);
  assert.equal(split.status, 1);
  assert.match(split.stderr.trim(), /^daqyolo: compare: different evaluation splits: .*other[/]config\.json/);
  assert.equal(split.stderr.trim().split('\n').length, 1);
});
