import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import {
  evaluateDetections,
  averagePrecision,
  COCO_IOU_THRESHOLDS,
  COCO_RECALL_THRESHOLDS,
  VOC11_RECALL_THRESHOLDS,
  type MapImage,
  type Detection,
} from '../../src/infer/map.js';
import type { Box } from '../../src/geometry/box.js';

const det = (b: Box, score: number, cls = 0): Detection => ({ x1: b[0], y1: b[1], x2: b[2], y2: b[3], score, cls });
const close = (a: number | null, b: number, msg?: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} ≠ ${b}`);

test('perfect detections give 1 for every AP, with the size thresholds stated', () => {
  const small: Box = [0, 0, 20, 20];
  const medium: Box = [100, 100, 160, 160];
  const large: Box = [200, 200, 400, 400];
  const images: MapImage[] = [
    {
      truths: [
        { box: small, cls: 0 },
        { box: large, cls: 1 },
      ],
      detections: [det(small, 0.9), det(large, 0.3, 1)],
    },
    { truths: [{ box: medium, cls: 0 }], detections: [det(medium, 0.5)] },
  ];
  const r = evaluateDetections(images);
  for (const k of ['map50Voc11', 'map50AllPoint', 'ap50', 'ap75', 'mapCoco', 'apSmall', 'apMedium', 'apLarge'] as const) close(r[k], 1, k);
  assert.deepEqual(r.definitions.areaRangesPx2, { small: [0, 1024], medium: [1024, 9216], large: [9216, null] });
  assert.equal(r.perClass[1].apSmall, null); // class 1 has no small truth: undefined, not 0
});

test('one false positive at the top score: AP = 2/3 by hand', () => {
  // Two truths; ranked FP (0.9), TP (0.8), TP (0.7): precision 0, 1/2, 2/3 at recall 0, 1/2, 1.
  // The monotone envelope is 2/3 everywhere, so all-point = ½·⅔ + ½·⅔ = 2/3, 11-point = 11·⅔/11, COCO = 101·⅔/101.
  const a: Box = [0, 0, 10, 10];
  const b: Box = [50, 50, 70, 70];
  const r = evaluateDetections([
    {
      truths: [
        { box: a, cls: 0 },
        { box: b, cls: 0 },
      ],
      detections: [det([200, 200, 210, 210], 0.9), det(a, 0.8), det(b, 0.7)],
    },
  ]);
  close(r.map50AllPoint, 2 / 3);
  close(r.map50Voc11, 2 / 3);
  close(r.ap50, 2 / 3);
  assert.deepEqual(r.perClass[0].pr, { recall: [0, 0.5, 1], precision: [0, 0.5, 2 / 3], score: [0.9, 0.8, 0.7] });
});

test('a false positive between two hits: the three AP definitions differ as computed by hand', () => {
  // TP (0.9), FP (0.8), TP (0.7) over two truths: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1.
  // all-point: ½·1 + ½·⅔ = 5/6. 11-point: r = 0…0.5 (6 points) → 1, r = 0.6…1 (5) → ⅔: (6 + 10/3)/11 = 28/33.
  // COCO 101-point: r = 0…0.50 (51 points) → 1, r = 0.51…1 (50) → ⅔: (51 + 100/3)/101 = 253/303.
  const a: Box = [0, 0, 10, 10];
  const b: Box = [50, 50, 70, 70];
  const r = evaluateDetections([
    {
      truths: [
        { box: a, cls: 0 },
        { box: b, cls: 0 },
      ],
      detections: [det(a, 0.9), det([200, 200, 210, 210], 0.8), det(b, 0.7)],
    },
  ]);
  close(r.map50AllPoint, 5 / 6);
  close(r.map50Voc11, 28 / 33);
  close(r.ap50, 253 / 303);
  close(averagePrecision([0.5, 0.5, 1], [1, 0.5, 2 / 3], 'allpoint'), 5 / 6);
});

test('duplicate detections count once', () => {
  const a: Box = [0, 0, 10, 10];
  const b: Box = [50, 50, 70, 70];
  const r = evaluateDetections([
    {
      truths: [
        { box: a, cls: 0 },
        { box: b, cls: 0 },
      ],
      detections: [det(a, 0.9), det([0, 0, 10, 10.5], 0.8)],
    },
  ]);
  assert.deepEqual(r.perClass[0].pr.recall, [0.5, 0.5]);
  assert.deepEqual(r.perClass[0].pr.precision, [1, 0.5]);
  close(r.map50AllPoint, 0.5);
});

test('IoU 0.6 counts at thresholds 0.50, 0.55, 0.60 only: AP50 = 1, AP75 = 0, COCO mAP = 3/10', () => {
  const r = evaluateDetections([{ truths: [{ box: [0, 0, 10, 10], cls: 0 }], detections: [det([0, 0, 10, 6], 0.5)] }]);
  close(r.ap50, 1);
  close(r.ap75, 0);
  close(r.mapCoco, 0.3);
});

test('no detections give 0; images without truth contribute false positives; truthless classes are left out', () => {
  const a: Box = [0, 0, 10, 10];
  const none = evaluateDetections([{ truths: [{ box: a, cls: 0 }], detections: [] }]);
  close(none.map50AllPoint, 0);
  close(none.mapCoco, 0);
  const r = evaluateDetections([
    { truths: [{ box: a, cls: 0 }], detections: [det(a, 0.5)] },
    { truths: [], detections: [det(a, 0.9), det(a, 0.9, 3)] },
  ]);
  close(r.map50AllPoint, 0.5); // FP (0.9) then TP: precision ½ at recall 1
  assert.equal(r.perClass.find((c) => c.cls === 3)!.ap50, null);
  assert.equal(evaluateDetections([{ truths: [], detections: [] }]).mapCoco, null);
});

test('a small truth found and a large one missed: AP small 1, large 0, medium undefined', () => {
  const r = evaluateDetections([
    {
      truths: [
        { box: [0, 0, 10, 10], cls: 0 },
        { box: [100, 100, 300, 300], cls: 0 },
      ],
      detections: [det([0, 0, 10, 10], 0.7)],
    },
  ]);
  close(r.apSmall, 1);
  close(r.apLarge, 0);
  assert.equal(r.apMedium, null);
});

const arbImages = fc.array(
  fc.record({
    truths: fc.array(
      fc.record({
        box: fc
          .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 2, max: 50 }), fc.integer({ min: 2, max: 50 }))
          .map(([x, y, w, h]) => [x, y, x + w, y + h] as Box),
        cls: fc.integer({ min: 0, max: 1 }),
      }),
      { maxLength: 4 },
    ),
    detections: fc.array(
      fc
        .tuple(
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 2, max: 50 }),
          fc.integer({ min: 2, max: 50 }),
          fc.integer({ min: 1, max: 10 }),
          fc.integer({ min: 0, max: 1 }),
        )
        .map(([x, y, w, h, s, c]) => det([x, y, x + w, y + h], s / 10, c)),
      { maxLength: 8 },
    ),
  }),
  { minLength: 1, maxLength: 5 },
);

test('property: shuffling detection order changes nothing', () => {
  fc.assert(
    fc.property(arbImages, fc.integer(), (images, seed) => {
      const shuffled = images.map((im, k) => ({ truths: im.truths, detections: shuffle(im.detections, seed + k) }));
      assert.deepEqual(evaluateDetections(shuffled), evaluateDetections(images));
    }),
    { numRuns: 300 },
  );
});

test('property: adding a zero-score detection changes nothing', () => {
  fc.assert(
    fc.property(arbImages, fc.nat(), fc.integer({ min: 0, max: 1 }), (images, where, cls) => {
      const i = where % images.length;
      const t = images[i].truths[0]?.box ?? [0, 0, 5, 5];
      const more = images.map((im, k) => (k === i ? { truths: im.truths, detections: [...im.detections, det(t, 0, cls)] } : im));
      assert.deepEqual(evaluateDetections(more), evaluateDetections(images));
    }),
    { numRuns: 300 },
  );
});

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test('VOC devkit matching: a detection whose best truth is taken is a false positive; COCO lets it take the next one', () => {
  // A and B overlap (IoU 2/3). The first detection is A exactly; the second overlaps A best (IoU 0.905)
  // and B enough (0.739). Devkit: its best truth A is taken → FP (AP 0.5). COCO: it takes B → AP 1.
  const A: Box = [0, 0, 10, 10];
  const B: Box = [2, 0, 12, 10];
  const r = evaluateDetections([
    {
      truths: [
        { box: A, cls: 0 },
        { box: B, cls: 0 },
      ],
      detections: [det(A, 0.9), det([0.5, 0, 10.5, 10], 0.8)],
    },
  ]);
  close(r.map50AllPoint, 0.5);
  close(r.map50Voc11, 6 / 11); // recall 0.5 reached with precision 1: points 0 … 0.5
  close(r.ap50, 1);
  assert.deepEqual(r.perClass[0].pr.precision, [1, 0.5]);
});

test('VOC needs IoU > 0.5 strictly, COCO IoU ≥ 0.5', () => {
  const r = evaluateDetections([{ truths: [{ box: [0, 0, 10, 10], cls: 0 }], detections: [det([0, 0, 10, 5], 0.9)] }]);
  close(r.map50AllPoint, 0);
  close(r.ap50, 1);
});

test('difficult truths are neither required nor penalised (VOC), and ignored by COCO', () => {
  const A: Box = [0, 0, 10, 10];
  const D: Box = [50, 50, 60, 60];
  const truths = [
    { box: A, cls: 0 },
    { box: D, cls: 0, difficult: true },
  ];
  const missed = evaluateDetections([{ truths, detections: [det(A, 0.8)] }]);
  close(missed.map50AllPoint, 1);
  close(missed.mapCoco, 1);
  assert.equal(missed.perClass[0].nTruth, 1);
  assert.equal(missed.perClass[0].nDifficult, 1);
  const found = evaluateDetections([{ truths, detections: [det(D, 0.9), det(A, 0.8)] }]);
  close(found.map50AllPoint, 1);
  close(found.ap50, 1);
  assert.deepEqual(found.perClass[0].pr.score, [0.8]); // the detection on D is left out of the curve
});

test('VOC figures have no per-image cap; COCO keeps 100 detections per image', () => {
  // 100 false positives above the one true positive, in one image.
  const A: Box = [0, 0, 10, 10];
  const fps = Array.from({ length: 100 }, (_, i) => det([100 + 20 * i, 0, 110 + 20 * i, 10], 0.9 - i * 1e-4));
  const r = evaluateDetections([{ truths: [{ box: A, cls: 0 }], detections: [...fps, det(A, 0.5)] }]);
  close(r.map50AllPoint, 1 / 101);
  close(r.map50Voc11, 1 / 101);
  close(r.ap50, 0);
  assert.equal(r.perClass[0].nDetections, 101);
});

test('VOC 11-point AP uses the devkit points i·0.1 (0.30000000000000004 > a recall of exactly 0.3)', () => {
  // 10 truths, 3 found first with precision 1: recall 0.3 = 3/10 < 0.30000000000000004, so 3 points count.
  const truths = Array.from({ length: 10 }, (_, i) => ({ box: [20 * i, 0, 20 * i + 10, 10] as Box, cls: 0 }));
  const r = evaluateDetections([{ truths, detections: truths.slice(0, 3).map((t, i) => det(t.box, 0.9 - i / 10)) }]);
  close(r.map50Voc11, 3 / 11);
});

test('COCO recall points are numpy linspace values: a recall of exactly 0.35 does not reach 0.35000000000000003', () => {
  // 20 truths, 7 found with precision 1: recall 7/20 = 0.35 reaches the points 0 … 0.34 (35 of 101).
  const truths = Array.from({ length: 20 }, (_, i) => ({ box: [20 * i, 0, 20 * i + 10, 10] as Box, cls: 0 }));
  const r = evaluateDetections([{ truths, detections: truths.slice(0, 7).map((t, i) => det(t.box, 0.9 - i / 100)) }]);
  close(r.ap50, 35 / 101);
  close(r.mapCoco, 35 / 101);
});

test('the IoU and recall thresholds equal numpy linspace/arange as pycocotools and the devkit build them', () => {
  const py = `import json, numpy as np
print(json.dumps([list(np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1)), list(np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1)), list(np.arange(0., 1.1, 0.1))]))`;
  const [iou, rec, voc] = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' })) as number[][];
  assert.deepEqual([...COCO_IOU_THRESHOLDS], iou);
  assert.deepEqual([...COCO_RECALL_THRESHOLDS], rec);
  assert.deepEqual([...VOC11_RECALL_THRESHOLDS], voc);
});
