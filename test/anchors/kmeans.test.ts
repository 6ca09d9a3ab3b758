import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kmeansAnchors, assignToScales } from '../../src/anchors/kmeans.js';
import { mulberry32 } from '../../src/util/rng.js';
import { UserError } from '../../src/errors.js';

// Boxes scattered ±5 % around known shapes: IoU k-means must recover the shapes.
function clustered(centres: [number, number][], perCluster: number, seed: number): { w: Float32Array; h: Float32Array } {
  const rng = mulberry32(seed);
  const w = new Float32Array(centres.length * perCluster);
  const h = new Float32Array(centres.length * perCluster);
  centres.forEach(([cw, ch], c) => {
    for (let i = 0; i < perCluster; i++) {
      w[c * perCluster + i] = cw * (0.95 + 0.1 * rng());
      h[c * perCluster + i] = ch * (0.95 + 0.1 * rng());
    }
  });
  return { w, h };
}

const NINE: [number, number][] = [
  [6, 10],
  [12, 30],
  [30, 14],
  [20, 60],
  [60, 25],
  [45, 90],
  [100, 40],
  [80, 160],
  [200, 120],
];

test('recovers nine known clusters, sorted by area, each owning its boxes', () => {
  const { w, h } = clustered(NINE, 200, 1);
  const r = kmeansAnchors(w, h, { k: 9, seed: 3 });
  const expected = [...NINE].sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  r.anchors.forEach(([aw, ah], i) => {
    assert.ok(Math.abs(aw / expected[i][0] - 1) < 0.02 && Math.abs(ah / expected[i][1] - 1) < 0.02, `anchor ${i}: ${aw},${ah} vs ${expected[i]}`);
  });
  assert.deepEqual(r.counts, new Array(9).fill(200));
  assert.ok(r.meanBestIou > 0.9, `mean IoU ${r.meanBestIou}`);
  for (let i = 1; i < 9; i++) assert.ok(r.anchors[i][0] * r.anchors[i][1] >= r.anchors[i - 1][0] * r.anchors[i - 1][1]);
});

test('deterministic for a seed; restarts never lower the mean IoU', () => {
  const rng = mulberry32(7);
  const n = 800;
  const w = Float32Array.from({ length: n }, () => 2 + 100 * rng() ** 2);
  const h = Float32Array.from({ length: n }, () => 2 + 100 * rng() ** 2);
  const a = kmeansAnchors(w, h, { k: 6, seed: 11, restarts: 4 });
  const b = kmeansAnchors(w, h, { k: 6, seed: 11, restarts: 4 });
  assert.deepEqual(a, b);
  const one = kmeansAnchors(w, h, { k: 6, seed: 11, restarts: 1 });
  assert.ok(a.meanBestIou >= one.meanBestIou);
  assert.equal(
    a.counts.reduce((s, c) => s + c, 0),
    n,
  );
});

test('k = 1 gives the mean shape and owns every box', () => {
  const { w, h } = clustered([[30, 50]], 300, 2);
  const r = kmeansAnchors(w, h, { k: 1 });
  const mw = w.reduce((s, x) => s + x, 0) / w.length;
  const mh = h.reduce((s, x) => s + x, 0) / h.length;
  assert.ok(Math.abs(r.anchors[0][0] - mw) < 1e-6 && Math.abs(r.anchors[0][1] - mh) < 1e-6);
  assert.deepEqual(r.counts, [300]);
});

test('degenerate inputs give one-line user errors', () => {
  assert.throws(
    () => kmeansAnchors(new Float32Array([1, 2]), new Float32Array([1, 2]), { k: 3 }),
    (e: unknown) => e instanceof UserError && /fewer than the 3/.test(e.message),
  );
  assert.throws(
    () => kmeansAnchors(new Float32Array([1, 0, 3]), new Float32Array([1, 2, 3]), { k: 2 }),
    (e: unknown) => e instanceof UserError && /box 1/.test(e.message),
  );
  assert.throws(
    () => kmeansAnchors(new Float32Array([4, 4, 4, 4]), new Float32Array([2, 2, 2, 2]), { k: 2 }),
    (e: unknown) => e instanceof UserError && /distinct shapes/.test(e.message),
  );
  assert.throws(() => kmeansAnchors(new Float32Array(3), new Float32Array(2)), UserError);
  // Exactly k distinct shapes is fine: the anchors are those shapes.
  const r = kmeansAnchors(new Float32Array([4, 4, 9]), new Float32Array([2, 2, 9]), { k: 2 });
  assert.deepEqual(r.anchors, [
    [4, 2],
    [9, 9],
  ]);
  assert.equal(r.meanBestIou, 1);
});

test('assignToScales puts the three largest on the coarse scale first', () => {
  const anchors: [number, number][] = [
    [10, 10],
    [1, 1],
    [5, 5],
    [2, 2],
    [8, 8],
    [3, 3],
    [9, 9],
    [4, 4],
    [7, 7],
  ];
  assert.deepEqual(assignToScales(anchors), [
    [
      [8, 8],
      [9, 9],
      [10, 10],
    ],
    [
      [4, 4],
      [5, 5],
      [7, 7],
    ],
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
  ]);
  assert.deepEqual(assignToScales(anchors.slice(0, 6), 2), [
    [
      [5, 5],
      [8, 8],
      [10, 10],
    ],
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
  ]);
  assert.throws(() => assignToScales(anchors, 2), UserError);
});
