import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { iou, iouMatrix, whIou, boxArea, containsPoint, type Box } from '../../src/geometry/box.js';

const arbBox = fc
  .tuple(
    fc.double({ min: 0, max: 400, noNaN: true }),
    fc.double({ min: 0, max: 400, noNaN: true }),
    fc.double({ min: 0.5, max: 80, noNaN: true }),
    fc.double({ min: 0.5, max: 80, noNaN: true }),
  )
  .map(([x, y, w, h]) => [x, y, x + w, y + h] as Box);

test('iou by hand: half-overlapping unit squares give 1/3, disjoint 0, identical 1', () => {
  assert.equal(iou([0, 0, 2, 2], [1, 0, 3, 2]), 2 / 6);
  assert.equal(iou([0, 0, 1, 1], [2, 2, 3, 3]), 0);
  assert.equal(iou([0, 0, 1, 1], [1, 0, 2, 1]), 0); // touching edges share no area
  assert.equal(iou([5, 5, 9, 7], [5, 5, 9, 7]), 1);
  assert.equal(iou([0, 0, 0, 0], [0, 0, 0, 0]), 0); // empty union is 0, not NaN
});

test('whIou is the IoU of the two boxes centred at the origin', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.1, max: 100, noNaN: true }),
      fc.double({ min: 0.1, max: 100, noNaN: true }),
      fc.double({ min: 0.1, max: 100, noNaN: true }),
      fc.double({ min: 0.1, max: 100, noNaN: true }),
      (w1, h1, w2, h2) => {
        const ref = iou([-w1 / 2, -h1 / 2, w1 / 2, h1 / 2], [-w2 / 2, -h2 / 2, w2 / 2, h2 / 2]);
        return Math.abs(whIou(w1, h1, w2, h2) - ref) < 1e-9;
      },
    ),
  );
  assert.equal(whIou(2, 8, 4, 4), 8 / 24);
});

test('iou is symmetric, in [0, 1], and iouMatrix agrees with iou', () => {
  fc.assert(
    fc.property(fc.array(arbBox, { minLength: 1, maxLength: 6 }), fc.array(arbBox, { minLength: 1, maxLength: 6 }), (a, b) => {
      const m = iouMatrix(Float32Array.from(a.flat()), Float32Array.from(b.flat()));
      for (let i = 0; i < a.length; i++) {
        for (let j = 0; j < b.length; j++) {
          const v = iou(a[i], b[j]);
          if (v < 0 || v > 1 || Math.abs(v - iou(b[j], a[i])) > 1e-12) return false;
          // Float32 storage of coordinates and result: loose tolerance.
          if (Math.abs(m[i * b.length + j] - v) > 1e-3) return false;
        }
      }
      return true;
    }),
  );
});

test('boxArea and containsPoint', () => {
  assert.equal(boxArea([1, 2, 4, 6]), 12);
  assert.equal(boxArea([4, 2, 1, 6]), 0);
  assert.ok(containsPoint([0, 0, 2, 2], 2, 1));
  assert.ok(!containsPoint([0, 0, 2, 2], 2.01, 1));
});
