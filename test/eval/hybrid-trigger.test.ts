// The hybrid trigger (study/hybrid-trigger.ts): a candidate's ΣADC is the ADC of the TPs its box holds by
// the TP rule, the same from a dense image, a pixel list or the TPs themselves; the scan lowers the
// score cut where a ΣADC requirement removes false positives, chooses the requirement on the
// validation split, and its ΣADC ≥ 0 row is the network alone as `evaluate` measures it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../../src/sim/config.js';
import { Simulator } from '../../src/sim/event.js';
import { imageLayout, densify } from '../../src/sim/image.js';
import { pixelX, pixelY } from '../../src/sim/image.js';
import { generateDataset } from '../../src/data/generate.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { train } from '../../src/train/trainer.js';
import { boxSumAdcDense, boxSumAdcPixels } from '../../src/eval/box-adc.js';
import { ADC_BIN, ADC_BINS, SCORE_BINS, adcBinOf } from '../../src/eval/fprate-state.js';
import { measureFpRate, fpStatePath, MIN_SCORE } from '../../src/eval/fprate.js';
import { evaluateRunOnData } from '../../src/eval/evaluate.js';
import { fpPerImageToHz } from '../../src/eval/efficiency.js';
import { countsAtLeastAdc, hybridScan, measureHybrid, pairedDelta, type HybridImage } from '../../src/study/hybrid-trigger.js';
import { measureBaselineFpRate, readBaselineFpStates, variantSumAdc } from '../../src/eval/fprate.js';
import { baselineThresholdForRate, variantThresholdForRate } from '../../src/study/endpoint.js';
import { clusterParamsOfData, runBaseline } from '../../src/cli/baseline.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-hybrid-'));
const data = join(dir, 'd.h5');
const run = join(dir, 'run');
const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));

test('a box ΣADC: dense image, pixel list and the TPs whose pixel centre is inside agree', () => {
  const config = parseSimConfig({ image: { size: 96 } });
  const layout = imageLayout(config);
  const sim = new Simulator(config, 5);
  let boxes = 0;
  for (let i = 0; i < 4; i++) {
    const rec = sim.image(i, { keepTps: true });
    const tps = rec.tps!;
    const dense = new Float32Array(layout.channels * layout.height * layout.width);
    densify(layout, rec.sparse, dense);
    // Boxes with fractional edges, some past the image's edges.
    for (const [x1, y1, x2, y2] of [
      [0, 0, 96, 96],
      [10.2, 3.7, 40.5, 60.49],
      [-5, 20.5, 30.51, 120],
      [47.5, 47.5, 48.5, 48.5],
      [10, 200, 20, 300],
      [30, 10, 20, 40],
    ]) {
      const box = { x1, y1, x2, y2 };
      let fromTps = 0;
      for (let k = 0; k < tps.n; k++) {
        const cx = pixelX(layout, tps.channel[k]!) + 0.5;
        const cy = pixelY(layout, tps.timePeak[k]!) + 0.5;
        if (cx >= x1 && cx <= x2 && cy >= y1 && cy <= y2) fromTps += tps.adcIntegral[k]!;
      }
      const d = boxSumAdcDense(dense, layout.width, layout.height, box);
      const p = boxSumAdcPixels(rec.sparse.pixels, rec.sparse.values, layout.channels, layout.width, box);
      assert.ok(Math.abs(d - fromTps) <= 1e-3 * Math.max(1, fromTps), `dense ${d} vs TPs ${fromTps}`);
      assert.ok(Math.abs(p - fromTps) <= 1e-3 * Math.max(1, fromTps), `pixels ${p} vs TPs ${fromTps}`);
      if (fromTps > 0) boxes++;
    }
  }
  assert.ok(boxes >= 8, 'the boxes hold charge to compare');
  assert.equal(adcBinOf(0), 0);
  assert.equal(adcBinOf(ADC_BIN - 0.1), 0);
  assert.equal(adcBinOf(ADC_BIN), 1);
  assert.equal(adcBinOf(1e9), ADC_BINS - 1);
});

/** An image with one interaction of 3 TPs and one candidate holding them (score, ΣADC). */
function signalImage(score: number, sumAdc: number): HybridImage {
  return {
    detections: [{ x1: 9, y1: 9, x2: 14, y2: 12, score, cls: 0, sumAdc }],
    interactions: [{ energyMeV: 20, box: [10, 10, 13, 11] }],
    tps: { x: [10, 11, 12], y: [10, 10, 10], owner: [0, 0, 0] },
  };
}

test('the scan: a ΣADC requirement that removes the FPs lowers the cut, chosen on validation, gain paired', () => {
  // 10⁶ background images: 100 FPs at score 0.95 with ΣADC 1 500, 5 at score 0.5 with ΣADC 5 000.
  // 1.8 Hz per module allows 20 FPs (89 047 Hz per FP per image).
  const adcCounts = Array.from({ length: ADC_BINS }, () => new Array<number>(SCORE_BINS).fill(0));
  adcCounts[15]![950] = 100;
  adcCounts[50]![500] = 5;
  const fp = { images: 1_000_000, adcCounts };
  // Three neutrinos at score 0.9 with ΣADC 4 000 (the network alone loses them at its cut 0.951)
  // and one at 0.97 with ΣADC 1 000 (the network finds it; a requirement above 1 000 loses it).
  const images = [signalImage(0.9, 4000), signalImage(0.9, 4000), signalImage(0.9, 4000), signalImage(0.97, 1000)];
  const [r] = hybridScan(fp, images, images, [1.8]);
  assert.equal(r!.network.minSumAdc, 0);
  assert.equal(r!.network.threshold, 0.951);
  assert.equal(r!.network.eval!.k, 1);
  // From 1 600 on, only the 5 FPs at ΣADC 5 000 are left: every candidate may pass (cut 0).
  assert.equal(r!.rows[16]!.threshold, 0);
  assert.equal(r!.rows[16]!.fpCount, 5);
  assert.equal(r!.rows[15]!.threshold, 0.951);
  // Above 5 000 no FP is left at all; the requirement loses the 4 000-ADC neutrinos there.
  assert.equal(r!.rows[51]!.fpCount, 0);
  assert.equal(r!.rows[51]!.eval!.k, 0);
  // The lowest requirement of the highest validation efficiency (3 of 4): 1 600.
  assert.equal(r!.chosen!.minSumAdc, 1600);
  assert.equal(r!.chosen!.val!.k, 3);
  assert.deepEqual({ ...r!.gain!, stdErr: undefined }, { delta: 0.5, gained: 3, lost: 1, stdErr: undefined });
  // Paired error: sqrt(3 + 1 − 2²/4) / 4.
  assert.ok(Math.abs(r!.gain!.stdErr - Math.sqrt(3) / 4) < 1e-12);
  assert.equal(r!.byEnergy!.find((b) => b.loMeV === 16)!.all.k, 3);
  assert.equal(r!.networkByEnergy!.find((b) => b.loMeV === 16)!.all.k, 1);
  // The baseline at the same rate from its own FP ΣADC list: 30 FPs at 2 000 ADC, 10 at 3 000 →
  // 1.8 Hz allows 20, so the cut lies just above 2 000. It finds the 4 000-ADC neutrinos (3 of 4).
  const bImages = images.map((im) => ({ ...im, detections: im.detections.map((d) => ({ ...d, score: d.sumAdc })) }));
  const sumAdc = [...new Array<number>(30).fill(2000), ...new Array<number>(10).fill(3000)];
  const [rb] = hybridScan(fp, images, images, [1.8], { fp: { images: 1_000_000, sumAdc }, images: bImages });
  assert.ok(rb!.baseline!.threshold! > 2000 && rb!.baseline!.threshold! < 2000.001);
  assert.equal(rb!.baseline!.fpCount, 10);
  assert.equal(rb!.baseline!.eval!.k, 3);
  assert.equal(rb!.baseline!.byEnergy!.find((b) => b.loMeV === 16)!.all.k, 3);
  // Paired: the hybrid finds what the baseline finds; the network alone 1 that it does not, and loses 3.
  assert.deepEqual(rb!.baseline!.hybridMinusBaseline, { delta: 0, stdErr: 0, gained: 0, lost: 0 });
  assert.deepEqual({ ...rb!.baseline!.networkMinusBaseline!, stdErr: 0 }, { delta: -0.5, stdErr: 0, gained: 1, lost: 3 });
  assert.deepEqual(pairedDelta([true, false, true, true], [true, true, false, false]), { delta: -0.25, gained: 1, lost: 2, stdErr: Math.sqrt(3 - 1 / 4) / 4 });
  // Rows cumulate the histogram from their bin up.
  assert.equal(countsAtLeastAdc(adcCounts, 0)[950], 100);
  assert.equal(countsAtLeastAdc(adcCounts, 16)[950], 0);

  // The control: a wider clustering whose clusters hold more of each neutrino (5 000 and 2 500 ADC)
  // and whose background has 30 candidates at 2 200 → its own cut just above 2 200 finds all 4 on
  // validation, beats the default's 3 there, is chosen, and is paired on evaluation.
  const params = { channelTolerance: 2, maxDtTicks: 20, minHits: 3, minChannels: 2, minSumAdc: 0 };
  const wide = { ...params, channelTolerance: 8, maxDtTicks: 80 };
  const wideImages = [5000, 5000, 5000, 2500].map((a) => ({ ...signalImage(a, a), detections: signalImage(a, a).detections.map((d) => ({ ...d, score: a })) }));
  const wideCounts = { params: wide, sumAdc: new Array<number>(30).fill(2200), keep: 100, dropped: 0 };
  const settings = [
    { params, cut: (hz: number) => baselineThresholdForRate({ images: 1_000_000, sumAdc }, hz), val: bImages, eval: bImages },
    { params: wide, cut: (hz: number) => variantThresholdForRate({ images: 1_000_000 }, wideCounts, hz), val: wideImages, eval: wideImages },
  ];
  const [rt] = hybridScan(fp, images, images, [1.8], { fp: { images: 1_000_000, sumAdc }, images: bImages, settings });
  const tuned = rt!.baseline!.tuned!;
  assert.deepEqual(
    tuned.settings.map((x) => [x.channelTolerance, x.maxDtTicks, x.fpCount, x.val!.k, x.eval!.k]),
    [
      [2, 20, 10, 3, 3],
      [8, 80, 0, 4, 4],
    ],
  );
  assert.equal(tuned.settings[0]!.threshold, rt!.baseline!.threshold, 'the first setting is the baseline itself');
  assert.ok(tuned.settings[1]!.threshold! > 2200 && tuned.settings[1]!.threshold! < 2200.001);
  assert.equal(tuned.chosen, 1);
  assert.deepEqual({ ...tuned.hybridMinusTuned!, stdErr: 0 }, { delta: -0.25, stdErr: 0, gained: 0, lost: 1 });
  assert.deepEqual({ ...tuned.networkMinusTuned!, stdErr: 0 }, { delta: -0.75, stdErr: 0, gained: 0, lost: 3 });
  assert.equal(tuned.byEnergy!.find((b) => b.loMeV === 16)!.all.k, 4);
  // Equal on validation: the default stays (first of equals).
  const [rs] = hybridScan(fp, images, images, [1.8], {
    fp: { images: 1_000_000, sumAdc },
    images: bImages,
    settings: [settings[0]!, { ...settings[1]!, val: bImages }],
  });
  assert.equal(rs!.baseline!.tuned!.chosen, 0);

  // A variant keeps only its largest ΣADC: a cut above the kept ones is exact, one that would need the
  // dropped ones is refused rather than read as "no cut".
  const kept = { params: wide, sumAdc: [3000, 3000, 3000, ...new Array<number>(7).fill(2200)], keep: 10, dropped: 20 };
  const low = variantThresholdForRate({ images: 1_000_000 }, kept, 0.5); // allows 5 FPs
  assert.ok(low.threshold! > 2200 && low.threshold! < 3000);
  assert.equal(low.fpCount, 3);
  assert.throws(
    () => variantThresholdForRate({ images: 1_000_000 }, kept, 1.8),
    /gap 8, Δt 80: 1\.8 Hz per module needs more than its 10 largest background ΣADC kept/,
  );
});

before(async () => {
  await generateDataset({
    out: data,
    config: parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } }),
    images: 60,
    seed: 9,
    workers: 0,
  });
  await train({
    config: parseTrainConfig({ data, out: run, epochs: 1, batch: 8, threads: 1, model: { variant: 'sparse-yolov3-tiny', width: 0.0625, size: 64 } }),
  });
});

test('measureHybrid on a trained run: its ΣADC ≥ 0 row is evaluate at the same cut; the CLI prints and writes it', async () => {
  const fp = await measureFpRate({ runDir: run, images: 48, batch: 8, workers: 0, checkpoint: 'best' });
  const total = fp.counts.reduce((a, b) => a + b, 0);
  assert.ok(total > 10, `the network gives false positives to cut (${total})`);
  // A rate that half of the FPs meet: a cut well inside the histogram.
  const targetHz = fpPerImageToHz(total / 2 / fp.images);
  const r = await measureHybrid({ runDir: run, data, rates: [targetHz], batch: 8, workers: 0 });
  const rate = r.rates[0]!;
  const t = rate.network.threshold!;
  assert.ok(t > MIN_SCORE, `cut ${t} above the decode threshold, where both decode the same candidates`);
  const ev = await evaluateRunOnData({
    runDir: run,
    data,
    split: 'eval',
    checkpoint: 'best',
    background: 0,
    batch: 8,
    workers: 0,
    trigger: { scoreThreshold: t },
  });
  assert.deepEqual(rate.network.eval, ev.trigger!.efficiency.integrated.all);
  assert.equal(r.evalInteractions, ev.trigger!.efficiency.integrated.all.n);
  // The chosen requirement is never worse than the network on validation, where it was chosen.
  assert.ok(rate.chosen!.val!.k >= rate.network.val!.k);
  assert.equal(rate.rows.length, ADC_BINS);
  assert.ok(existsSync(join(run, 'eval', 'hybrid-trigger.json')));

  // With the baseline's FP state: its cut from the state, its efficiency that of `baseline` at that cut.
  const params = clusterParamsOfData({}, data);
  const bstate = join(dir, 'baseline-fp.json');
  const bfp = await measureBaselineFpRate({ data, images: 64, params, workers: 0, state: bstate });
  const bHz = fpPerImageToHz(Math.max(1, Math.floor(bfp.sumAdc.length / 2)) / bfp.images);
  const rb = await measureHybrid({ runDir: run, data, rates: [bHz], batch: 8, workers: 0, baselineStates: [bstate] });
  const b = rb.rates[0]!.baseline!;
  assert.ok(b.threshold! > 0, 'a cut inside the baseline FP list');
  assert.ok(b.eval!.k > 0, 'the baseline finds interactions to compare');
  const ref = await runBaseline({ data, split: 'eval', params: { ...params, minSumAdc: b.threshold! }, background: 0, workers: 0 });
  assert.deepEqual(b.eval, ref.trigger.efficiency.integrated.all);
  const d = b.networkMinusBaseline!;
  assert.equal(d.delta, (rb.rates[0]!.network.eval!.k - ref.trigger.efficiency.integrated.all.k) / rb.evalInteractions);

  // Other clusterings counted in the same pass: the default's list is unchanged, each variant's is
  // what a stream of that clustering alone gives, and only the largest are kept when asked.
  const vstate = join(dir, 'baseline-fp-variants.json');
  const wide = { ...params, channelTolerance: 8, maxDtTicks: 80 };
  const vfp = await measureBaselineFpRate({ data, images: 64, params, variants: [params, wide], workers: 0, state: vstate });
  const sorted = (xs: readonly number[]) => [...xs].sort((x, y) => y - x);
  assert.deepEqual(vfp.sumAdc, bfp.sumAdc);
  assert.deepEqual(sorted(vfp.variants![0]!.sumAdc), sorted(bfp.sumAdc));
  const alone = await measureBaselineFpRate({ data, images: 64, params: wide, workers: 0, state: join(dir, 'baseline-fp-wide.json') });
  assert.deepEqual(sorted(vfp.variants![1]!.sumAdc), sorted(alone.sumAdc));
  assert.ok(alone.sumAdc.length > bfp.sumAdc.length, `the wider clustering links more background (${alone.sumAdc.length} vs ${bfp.sumAdc.length})`);
  const kfp = await measureBaselineFpRate({
    data,
    images: 64,
    params,
    variants: [wide],
    variantKeep: 2,
    workers: 0,
    state: join(dir, 'baseline-fp-keep.json'),
  });
  const k = kfp.variants![0]!;
  assert.equal(k.sumAdc.length + k.dropped, alone.sumAdc.length);
  assert.ok(k.dropped > 0, 'some dropped');
  assert.deepEqual(variantSumAdc(k).sumAdc, sorted(alone.sumAdc).slice(0, 2));
  await assert.rejects(measureBaselineFpRate({ data, images: 64, params, variants: [wide], workers: 0, state: vstate }), (e: Error) => {
    assert.ok(e.message.includes(vstate) && e.message.includes('field variants'), e.message);
    return true;
  });
  // Resumed without naming variants (as the budget plan does), the saved ones are counted on.
  const vgrow = join(dir, 'baseline-fp-variants-grown.json');
  copyFileSync(vstate, vgrow);
  const grown = await measureBaselineFpRate({ data, images: 96, params, workers: 0, state: vgrow });
  const longer = await measureBaselineFpRate({ data, images: 96, params: wide, workers: 0, state: join(dir, 'baseline-fp-wide.json') });
  assert.deepEqual(sorted(grown.variants![1]!.sumAdc), sorted(longer.sumAdc));
  // A grid streamed in two passes reads as one; a state of another stream (more images) is refused.
  const v2 = join(dir, 'baseline-fp-variants-2.json');
  await measureBaselineFpRate({ data, images: 64, params, variants: [{ ...params, channelTolerance: 4, maxDtTicks: 40 }], workers: 0, state: v2 });
  assert.deepEqual(
    readBaselineFpStates([vstate, v2]).variants!.map((v) => [v.params.channelTolerance, v.params.maxDtTicks]),
    [
      [2, 20],
      [8, 80],
      [4, 40],
    ],
  );
  assert.throws(
    () => readBaselineFpStates([vstate, vgrow]),
    (e: Error) => {
      assert.ok(e.message.startsWith(`${vgrow}: field images differs from ${vstate}'s`), e.message);
      return true;
    },
  );
  // hybrid-trigger tunes over them: the first setting is the baseline itself, the wide one is what
  // `baseline` with its parameters gives at its own cut.
  const rv = await measureHybrid({ runDir: run, data, rates: [bHz], batch: 8, workers: 0, baselineStates: [vstate] });
  const tuned = rv.rates[0]!.baseline!.tuned!;
  assert.equal(rv.baseline!.variants, 2);
  assert.deepEqual([tuned.settings[0]!.threshold, tuned.settings[0]!.eval], [b.threshold, b.eval]);
  const w = tuned.settings[2]!;
  assert.deepEqual([w.channelTolerance, w.maxDtTicks], [8, 80]);
  if (w.threshold !== null) {
    const refWide = await runBaseline({ data, split: 'eval', params: { ...wide, minSumAdc: w.threshold }, background: 0, workers: 0 });
    assert.deepEqual(w.eval, refWide.trigger.efficiency.integrated.all);
  }
  assert.ok(
    tuned.settings.every((x) => !x.val || x.val.k <= tuned.settings[tuned.chosen]!.val!.k),
    'the chosen one is the best on validation',
  );
  const bad = spawnSync(process.execPath, [cli, 'fprate', '--baseline', '--data', data, '--images', '8', '--cluster-variants', '8-80'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--cluster-variants.*"8-80"/);

  const p = spawnSync(process.execPath, [cli, 'hybrid-trigger', run, '--rates', String(targetHz), '--workers', '0', '--baseline', `${vstate},${v2}`], {
    encoding: 'utf8',
    env: { ...process.env, DAQYOLO_THREADS: '1' },
  });
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /network alone +ΣADC ≥ +0 /);
  assert.match(p.stdout, /hybrid \(chosen\)/);
  assert.match(p.stdout, /baseline \(clustering\) +ΣADC ≥ /);
  assert.match(p.stdout, /network alone − baseline: /);
  assert.match(p.stdout, /clusterings tuned on validation .*\n.*gap +2, Δt +20 .*\n.*gap +2, Δt +20 .*\n.*gap +8, Δt +80 .*\n.*gap +4, Δt +40 /);
  assert.match(p.stdout, /by Eν \(evaluation\): MeV +network +hybrid +baseline/);
  assert.match(p.stdout, /written: .*hybrid-trigger\.json, .*hybrid-trigger\.svg, .*hybrid-trigger\.png/);
  const png = readFileSync(join(run, 'eval', 'hybrid-trigger.png'));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
  assert.match(readFileSync(join(run, 'eval', 'hybrid-trigger.svg'), 'utf8'), /baseline at [\d.]+ Hz \(ΣADC ≥ \d+\)/);

  // An fprate state of an older version (no ΣADC histogram): one line naming the file and the field.
  const file = fpStatePath(run, fp.seed);
  const state = JSON.parse(readFileSync(file, 'utf8'));
  delete state.adcCounts;
  writeFileSync(file, JSON.stringify(state));
  await assert.rejects(measureHybrid({ runDir: run, data, rates: [targetHz], batch: 8, workers: 0 }), (e: Error) => {
    assert.ok(e.message.includes(file) && e.message.includes('adcCounts'), e.message);
    return true;
  });
  // A hand-broken histogram (its total no longer the scores') is refused when read.
  state.adcCounts = Array.from({ length: ADC_BINS }, () => new Array<number>(SCORE_BINS).fill(0));
  writeFileSync(file, JSON.stringify(state));
  await assert.rejects(measureHybrid({ runDir: run, data, rates: [targetHz], batch: 8, workers: 0 }), /adcCounts: 0 detections, not the/);
});
