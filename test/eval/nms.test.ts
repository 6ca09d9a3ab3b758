import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nms, nmsBatch, selectDetections, toDetections, type DetectionSet } from '../../src/infer/nms.js';
import { iou, type Box } from '../../src/geometry/box.js';

// Textbook definition: repeatedly take the best remaining box, drop its same-class overlaps.
function reference(set: DetectionSet, thr: number, scoreThr: number, maxDet: number, classAware: boolean): number[] {
  const n = set.scores.length;
  const box = (i: number): Box => [set.boxes[4 * i], set.boxes[4 * i + 1], set.boxes[4 * i + 2], set.boxes[4 * i + 3]];
  let remaining = Array.from({ length: n }, (_, i) => i).filter((i) => set.scores[i] >= scoreThr);
  const kept: number[] = [];
  while (remaining.length > 0 && kept.length < maxDet) {
    let best = remaining[0];
    for (const i of remaining) if (set.scores[i] > set.scores[best] || (set.scores[i] === set.scores[best] && i < best)) best = i;
    kept.push(best);
    remaining = remaining.filter((i) => i !== best && !((!classAware || set.classes[i] === set.classes[best]) && iou(box(i), box(best)) > thr));
  }
  return kept;
}

const arbSet = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 2 }),
    ),
    { maxLength: 40 },
  )
  .map((rows): DetectionSet => ({
    // Coarse integer grids and scores make ties and exact-threshold IoUs common, the cases that matter.
    boxes: Float32Array.from(rows.flatMap(([x, y, w, h]) => [x, y, x + w, y + h])),
    scores: Float32Array.from(rows.map((r) => r[4] / 20)),
    classes: Int32Array.from(rows.map((r) => r[5])),
  }));

test('nms equals the brute-force reference on random boxes', () => {
  fc.assert(
    fc.property(
      arbSet,
      fc.constantFrom(0, 0.3, 0.45, 0.5, 0.7),
      fc.constantFrom(0, 0.25),
      fc.integer({ min: 1, max: 50 }),
      fc.boolean(),
      (set, thr, sthr, maxDet, aware) => {
        const got = Array.from(nms(set, { iouThreshold: thr, scoreThreshold: sthr, maxDetections: maxDet, classAware: aware }));
        assert.deepEqual(got, reference(set, thr, sthr, maxDet, aware));
      },
    ),
    { numRuns: 500 },
  );
});

test('nms by hand: overlap suppressed within a class, kept across classes, sorted by score', () => {
  const set: DetectionSet = {
    boxes: Float32Array.from([0, 0, 10, 10, 1, 0, 11, 10, 0, 0, 10, 10, 50, 50, 60, 60]),
    scores: Float32Array.from([0.8, 0.9, 0.7, 0.1]),
    classes: Int32Array.from([0, 0, 1, 0]),
  };
  assert.deepEqual(Array.from(nms(set, { iouThreshold: 0.5 })), [1, 2, 3]);
  assert.deepEqual(Array.from(nms(set, { iouThreshold: 0.5, classAware: false })), [1, 3]);
  assert.deepEqual(Array.from(nms(set, { iouThreshold: 0.5, scoreThreshold: 0.5 })), [1, 2]);
  assert.deepEqual(Array.from(nms(set, { iouThreshold: 0.5, maxDetections: 1 })), [1]);
  assert.deepEqual(
    nmsBatch([set, selectDetections(set, [3, 0])], { iouThreshold: 0.5 }).map((x) => Array.from(x)),
    [
      [1, 2, 3],
      [1, 0],
    ],
  );
  assert.deepEqual(Array.from(selectDetections(set, [2]).boxes), [0, 0, 10, 10]);
  assert.deepEqual(
    toDetections(set, [2, 3]).map((d) => [d.x1, d.y1, d.x2, d.y2, Math.round(d.score * 10), d.cls]),
    [
      [0, 0, 10, 10, 7, 1],
      [50, 50, 60, 60, 1, 0],
    ],
  );
});

test('nms rejects arrays that disagree in length', () => {
  assert.throws(() => nms({ boxes: new Float32Array(8), scores: new Float32Array(3), classes: new Int32Array(3) }), /must agree/);
});
