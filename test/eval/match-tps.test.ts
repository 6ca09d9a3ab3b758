// The TP matching rule (an interaction is detected when a candidate holds ≥ 2 of its TPs), on a
// hand-made image and on the baseline and the network judged on the same fixture; and the
// efficiency averaged over the supernova spectrum against a hand computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  efficiencyByEnergy,
  evaluateTrigger,
  matchRuleText,
  scoreImage,
  spectrumAverage,
  spectrumBinWeights,
  type Detection,
  type EnergyBin,
  type ImageTps,
  type TriggerImage,
} from '../../src/eval/efficiency.js';
import { binomialSummary } from '../../src/eval/efficiency.js';
import { parseSimConfig } from '../../src/sim/config.js';
import { imageLayout } from '../../src/sim/image.js';
import { pixelTps } from '../../src/trigger/baseline.js';
import { clusterTps, defaultClusterParams } from '../../src/trigger/cluster.js';

const det = (b: [number, number, number, number], score: number): Detection => ({ x1: b[0], y1: b[1], x2: b[2], y2: b[3], score, cls: 0 });

// Pixels (x, y) and owners: interaction A = 0, interaction B = 1, background sources < 0 (³⁹Ar −1,
// ⁴²Ar −3) and noise −1000.
const pts: [number, number, number][] = [
  [10, 10, 0],
  [12, 12, 0],
  [14, 14, 0], // A
  [13, 13, 1],
  [20, 20, 1],
  [21, 21, 1], // B
  [1, 1, -1],
  [2, 2, -1],
  [9, 10, -1000],
  [10, 9, -3], // other sources
];
const tps: ImageTps = { x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), owner: pts.map((p) => p[2]) };
const interactions = [
  { energyMeV: 12, box: [10, 10, 15, 15] as [number, number, number, number] },
  { energyMeV: 30, box: [13, 13, 22, 22] as [number, number, number, number] },
];
// A TP is in a box when its pixel centre (x + ½, y + ½) is.
const boxes = {
  none: det([0, 0, 5, 5], 0.9), //       0 of A (2 background TPs)
  one: det([9, 9, 11, 11], 0.8), //      1 of A (+ noise and ⁴²Ar TPs: they do not count)
  two: det([9, 9, 13, 13], 0.7), //      2 of A (B's TP at 13,13 has its centre at 13.5: outside)
  three: det([9, 9, 22, 22], 0.6), //    3 of A and 3 of B
};

test('TP rule on a hand-made image: a box holding 0, 1, 2, 3 TPs of an interaction, plus TPs of other sources', () => {
  const image: TriggerImage = { interactions, tps, detections: Object.values(boxes) };
  const s = scoreImage(image, { match: 'tps' });
  // A is detected by the 2-TP box (0.7) — the best score among boxes holding ≥ 2 of its TPs; B only by the 3-TP box.
  assert.deepEqual([...s.best], [0.7, 0.6]);
  // The 0- and 1-TP boxes match nothing: false positives of a signal image.
  assert.deepEqual(s.fpScores, [0.9, 0.8]);
  // ≥ 3 TPs: only the big box detects A.
  assert.deepEqual([...scoreImage(image, { match: 'tps', minTps: 3 }).best], [0.6, 0.6]);
  // The default rule is the TP rule, and reports say so.
  assert.deepEqual([...scoreImage(image).best], [0.7, 0.6]);
  const r = evaluateTrigger([image], { scoreThreshold: 0.65 });
  assert.equal(r.match, 'tps');
  assert.match(r.matchRule, /≥ 2 of the interaction's TPs/);
  assert.equal(matchRuleText({ match: 'tps', minTps: 3 }).slice(0, 5), '≥ 3 o');
  assert.deepEqual([r.efficiency.integrated.all.k, r.efficiency.integrated.all.n], [1, 2]);
  // The IoU rule judges the same boxes differently (box "two" overlaps A's box with IoU 9/32 ≥ 0.1, box "one" 1/28 < 0.1).
  assert.deepEqual([...scoreImage(image, { match: 'iou' }).best], [0.7, 0.6]);
  assert.ok(scoreImage(image, { match: 'iou' }).fpScores.includes(0.8));
  // Without the TPs the TP rule cannot judge a signal image; a background image needs none (every candidate is an FP).
  assert.throws(() => scoreImage({ interactions, detections: [boxes.two] }, { match: 'tps' }), /needs the TPs/);
  assert.deepEqual(scoreImage({ interactions: [], detections: [boxes.two, boxes.none] }).fpScores, [0.7, 0.9]);
});

test('baseline and network on the same fixture: the same verdict for the same boxes', () => {
  const layout = imageLayout(parseSimConfig({})); // 480 channels → 480 px; 4492 ticks → 480 rows
  const raw = {
    //        A: 3 TPs          B: 2 TPs + ³⁹Ar   C: 1 of A + 2 ³⁹Ar   D: background only
    channel: [10, 11, 12, 100, 101, 102, 300, 301, 302, 400, 401, 402],
    timePeak: [1000, 1005, 1010, 2000, 2005, 2008, 3000, 3004, 3008, 4000, 4003, 4006],
    adcIntegral: [100, 100, 100, 200, 200, 200, 300, 300, 300, 400, 400, 400],
    owner: [0, 0, 0, 1, 1, -1, 0, -1, -1, -1, -1000, -1],
  };
  const candidates = clusterTps(raw, raw.channel.length, defaultClusterParams(), layout);
  assert.equal(candidates.length, 4);
  const px = pixelTps(layout, raw);
  const its = [
    { energyMeV: 10, box: [10, 106, 301, 322] as [number, number, number, number] },
    { energyMeV: 20, box: [100, 213, 102, 215] as [number, number, number, number] },
  ];
  // The baseline's candidates carry their TPs; the network's boxes are the same boxes without them.
  const baseline: TriggerImage = {
    interactions: its,
    tps: px,
    detections: candidates.map((c) => ({ ...det([c.x1, c.y1, c.x2, c.y2], c.sumAdc), tps: c.tps })),
  };
  const network: TriggerImage = { interactions: its, tps: px, detections: candidates.map((c) => det([c.x1, c.y1, c.x2, c.y2], c.sumAdc)) };
  const b = scoreImage(baseline);
  const n = scoreImage(network);
  assert.deepEqual([...b.best], [...n.best]);
  assert.deepEqual(b.fpScores, n.fpScores);
  // A (cluster of ΣADC 300) and B (600, 2 of its TPs) detected; C holds one TP of A and D none: both FPs.
  assert.deepEqual([...b.best], [300, 600]);
  assert.deepEqual(
    b.fpScores.sort((x, y) => x - y),
    [900, 1200],
  );
});

test('supernova-spectrum average: bin weights and the weighted efficiency by hand', () => {
  // α = 0, no cross-section weighting, ⟨E⟩ = 8: the density is b e^{−bE}, b = 1/8, so the bin
  // [lo, hi] holds e^{−b lo} − e^{−b hi}, normalised over [2, 30].
  const bins = [
    { loMeV: 2, hiMeV: 10 },
    { loMeV: 10, hiMeV: 30 },
  ];
  const sp = { meanEnergyMeV: 8, alpha: 0, weightByCrossSection: false };
  const b = 1 / 8;
  const mass = (lo: number, hi: number) => Math.exp(-b * lo) - Math.exp(-b * hi);
  const w1 = mass(2, 10) / mass(2, 30),
    w2 = mass(10, 30) / mass(2, 30);
  const w = spectrumBinWeights(bins, sp);
  assert.ok(Math.abs(w[0] - w1) < 1e-6 && Math.abs(w[1] - w2) < 1e-6, `${[...w]} vs ${w1}, ${w2}`);
  // ε = 3/4 in the first bin (n 4), 1/2 in the second (n 2).
  const eb = (lo: number, hi: number, k: number, n: number): EnergyBin => ({
    loMeV: lo,
    hiMeV: hi,
    all: binomialSummary(k, n),
    visible: binomialSummary(k, n),
  });
  const avg = spectrumAverage([eb(2, 10, 3, 4), eb(10, 30, 1, 2)], sp);
  const eps = w1 * 0.75 + w2 * 0.5;
  // Each bin's σ is the half-width of its 68.3 % Wilson interval (z = 1):
  // z/(1 + z²/n) · sqrt(p(1 − p)/n + z²/(4n²)).
  const z = 1;
  const wilsonHalf = (p: number, n: number) => (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  const err = Math.sqrt(w1 * w1 * wilsonHalf(0.75, 4) ** 2 + w2 * w2 * wilsonHalf(0.5, 2) ** 2);
  assert.ok(Math.abs(avg.efficiency! - eps) < 1e-6, `${avg.efficiency} vs ${eps}`);
  assert.ok(Math.abs(avg.stdErr! - err) < 1e-6, `${avg.stdErr} vs ${err}`);
  assert.equal(avg.weightWithoutEvents, 0);
  // Bins at 0 % and 100 % still carry their error (Wald's ε(1 − ε)/n would give 0 here).
  const edge = spectrumAverage([eb(2, 10, 0, 19), eb(10, 30, 19, 19)], sp);
  const edgeErr = Math.sqrt(w1 * w1 * wilsonHalf(0, 19) ** 2 + w2 * w2 * wilsonHalf(1, 19) ** 2);
  assert.ok(edgeErr > 0.01 && Math.abs(edge.stdErr! - edgeErr) < 1e-6, `${edge.stdErr} vs ${edgeErr}`);
  // An empty bin is left out and its weight reported; the other bin's efficiency is then the average.
  const thin = spectrumAverage([eb(2, 10, 3, 4), eb(10, 30, 0, 0)], sp);
  assert.ok(Math.abs(thin.efficiency! - 0.75) < 1e-12 && Math.abs(thin.weightWithoutEvents - w2) < 1e-6);
  // The default spectrum (⟨E⟩ 11 MeV, α 2.5, × (E − Q)²) puts most of its weight at 6–26 MeV, none below Q = 1.5 MeV.
  const table = efficiencyByEnergy([], 0.5, {}).bins;
  const wd = spectrumBinWeights(table);
  assert.ok(Math.abs(wd.reduce((a, x) => a + x, 0) - 1) < 1e-12);
  assert.ok(wd[1] + wd[2] + wd[3] + wd[4] > 0.75, `${[...wd]}`);
});
