import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateTrigger,
  efficiencyByEnergy,
  energyBin,
  fpPerImageToHz,
  hzPerFpPerImage,
  DEFAULT_ENERGY_EDGES_MEV,
  type TriggerImage,
  type Detection,
} from '../../src/eval/efficiency.js';

const det = (b: [number, number, number, number], score: number): Detection => ({ x1: b[0], y1: b[1], x2: b[2], y2: b[3], score, cls: 0 });
const near = (a: number | null, b: number, tol = 1e-12, msg = '') => assert.ok(a !== null && Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('Hz conversion by hand: 1.123e-5 FP per image ≈ 1 Hz per module', () => {
  // window = 4492 × 0.5 µs = 2.246 ms; 200 faces (PHYSICS.md) / 2.246 ms = 89 047.2 Hz per (FP per image).
  near(hzPerFpPerImage(), 200 / 0.002246, 1e-6);
  near(fpPerImageToHz(1.123e-5), (1.123e-5 * 200) / 0.002246, 1e-12);
  near(fpPerImageToHz(1.123e-5), 1.0, 1e-3);
  near(fpPerImageToHz(1, { faces: 300 }), 300 / 0.002246, 1e-6);
  near(fpPerImageToHz(1, { faces: 2, windowTicks: 1000, tickSeconds: 1e-3 }), 2, 1e-12);
});

test('energy bins: 1–70 MeV in 5 MeV steps, last bin 66–70 closed, outside is −1', () => {
  assert.equal(DEFAULT_ENERGY_EDGES_MEV.length, 15);
  assert.deepEqual(
    [1, 5.999, 6, 65.9, 66, 70, 0.99, 70.01, NaN].map((e) => energyBin(e, DEFAULT_ENERGY_EDGES_MEV)),
    [0, 0, 1, 12, 13, 13, -1, -1, -1],
  );
});

// Image 1: A (3 MeV) found at 0.9; B (3.5 MeV) only touched by a small box inside it (IoU 0.0025, centre
// inside) at 0.7; an invisible 8 MeV interaction. Image 2: C (68 MeV) found at 0.3; D (70 MeV) missed; an
// out-of-range 0.5 MeV interaction found at 0.8; a stray box at 0.6. Image 3: background, a box at 0.2.
const A: [number, number, number, number] = [100, 100, 120, 130];
const B: [number, number, number, number] = [0, 0, 40, 40];
const C: [number, number, number, number] = [300, 300, 340, 360];
const D: [number, number, number, number] = [200, 10, 230, 40];
const E: [number, number, number, number] = [400, 400, 420, 420];
const images: TriggerImage[] = [
  {
    interactions: [
      { energyMeV: 3, box: A },
      { energyMeV: 3.5, box: B },
      { energyMeV: 8, box: null },
    ],
    detections: [det([101, 100, 121, 131], 0.9), det([10, 10, 12, 12], 0.7)],
  },
  {
    interactions: [
      { energyMeV: 68, box: C },
      { energyMeV: 70, box: D },
      { energyMeV: 0.5, box: E },
    ],
    detections: [det(C, 0.3), det(E, 0.8), det([450, 0, 470, 20], 0.6)],
  },
  { interactions: [], detections: [det([0, 300, 10, 310], 0.2)] },
];

test('efficiency per bin and integrated, over all and visible interactions (IoU ≥ 0.1 rule)', () => {
  const r = evaluateTrigger(images, { scoreThreshold: 0.5, match: 'iou' });
  assert.equal(r.matchRule, 'IoU ≥ 0.1 with the interaction truth box');
  const b0 = r.efficiency.bins[0];
  assert.deepEqual([b0.loMeV, b0.hiMeV, b0.all.k, b0.all.n, b0.visible.k, b0.visible.n], [1, 6, 1, 2, 1, 2]);
  near(b0.all.stdErr, Math.sqrt(0.125));
  // Wilson at 68.27 % (z = 1) for 1 of 2: centre ½, half-width sqrt(1/8 + 1/16)/(3/2).
  near(b0.all.wilson[0], 0.5 - Math.sqrt(0.1875) / 1.5, 1e-8);
  const b1 = r.efficiency.bins[1];
  assert.deepEqual([b1.all.k, b1.all.n, b1.all.efficiency, b1.visible.n, b1.visible.efficiency], [0, 1, 0, 0, null]);
  const last = r.efficiency.bins[13];
  assert.deepEqual([last.loMeV, last.hiMeV, last.all.k, last.all.n], [66, 70, 0, 2]); // C at 0.3 is below threshold
  const integ = r.efficiency.integrated;
  assert.deepEqual([integ.all.k, integ.all.n, integ.visible.k, integ.visible.n], [1, 5, 1, 4]);
  // FPs at 0.5: the box inside B (IoU rule) and the stray box; the out-of-range hit on E is not an FP.
  assert.deepEqual([r.falsePositives.count, r.falsePositives.images, r.fpSource], [2, 3, 'evaluated images']);
  near(r.falsePositives.hz, (2 / 3) * hzPerFpPerImage());
  assert.equal(r.falsePositives.upperLimitOnly, false);
});

test('centre-inside rule recovers B and removes its false positive', () => {
  const r = evaluateTrigger(images, { scoreThreshold: 0.5, match: 'centre' });
  assert.equal(r.matchRule, 'detection centre inside the interaction truth box');
  assert.deepEqual([r.efficiency.bins[0].all.k, r.efficiency.integrated.all.k, r.falsePositives.count], [2, 2, 1]);
  // Lower threshold: C now counts.
  assert.equal(efficiencyByEnergy(images, 0.25, { match: 'centre' }).integrated.all.k, 3);
});

test('threshold scan and operating points', () => {
  const k = hzPerFpPerImage();
  const r = evaluateTrigger(images, { targetRatesHz: [1, 5e4, 1e6], match: 'iou' });
  assert.deepEqual(
    r.scan.map((p) => [p.threshold, p.efficiency, p.fpCount]),
    [
      [0.9, 0.2, 0],
      [0.7, 0.2, 1],
      [0.6, 0.2, 2],
      [0.3, 0.4, 2],
      [0.2, 0.4, 3],
    ],
  );
  assert.deepEqual(
    r.scan.map((p) => p.efficiencyVisible),
    [0.25, 0.25, 0.25, 0.5, 0.5],
  );
  const [p1, p5e4, p1e6] = r.operatingPoints;
  // 3 images: zero FPs only bounds the rate below 2.303/3 × 89 047 Hz ≈ 6.8e4 Hz, so 1 Hz is unreachable.
  assert.deepEqual([p1.threshold, p1.efficiency, p1.table], [null, null, null]);
  assert.deepEqual([p5e4.threshold, p5e4.efficiency, p5e4.fpCount], [0.7, 0.2, 1]); // 1 FP/3 images = 29 682 Hz; 2 FPs = 59 365 Hz > 5e4
  near(p5e4.fpHz, k / 3, 1e-6);
  assert.deepEqual([p1e6.threshold, p1e6.efficiency, p1e6.table?.integrated.all.k], [0.2, 0.4, 2]);
});

test('background images: 1 Hz needs > 205 000 clean images; ties at the top can force "nothing passes"', () => {
  const empty: TriggerImage = { interactions: [], detections: [] };
  const few = evaluateTrigger(images, { targetRatesHz: [1, 10], match: 'iou' }, new Array<TriggerImage>(200_000).fill(empty));
  assert.equal(few.fpSource, 'background images');
  assert.equal(few.operatingPoints[0].threshold, null); // 2.303/2e5 × 89 047 = 1.025 Hz > 1 Hz
  assert.deepEqual([few.operatingPoints[1].threshold, few.operatingPoints[1].efficiency], [0.3, 0.4]);
  near(few.falsePositives.intervalHz[1], (Math.log(10) / 200_000) * hzPerFpPerImage(), 1e-9);
  assert.equal(few.falsePositives.upperLimitOnly, true);
  const enough = evaluateTrigger(images, { targetRatesHz: [1], match: 'iou' }, new Array<TriggerImage>(400_000).fill(empty));
  assert.deepEqual([enough.operatingPoints[0].threshold, enough.operatingPoints[0].efficiency], [0.3, 0.4]);
  // Three background boxes tied at 0.95 make 3/2.5e5 × 89 047 = 1.069 Hz > 1 Hz at every threshold
  // (while 2.5e5 clean images reach 2.303/2.5e5 × 89 047 = 0.82 Hz).
  const bg = new Array<TriggerImage>(250_000).fill(empty);
  bg[0] = { interactions: [], detections: [det([0, 0, 5, 5], 0.95), det([9, 0, 15, 5], 0.95), det([20, 0, 25, 5], 0.95)] };
  const tied = evaluateTrigger(images, { targetRatesHz: [1], match: 'iou' }, bg).operatingPoints[0];
  assert.ok(tied.threshold !== null && tied.threshold > 0.95);
  assert.deepEqual([tied.efficiency, tied.fpCount], [0, 0]);
});
