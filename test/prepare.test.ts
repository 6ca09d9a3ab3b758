// The one letterbox: network inputs (infer/prepare.ts) and imports (formats/resample.ts) place
// the image the same way, and boxes move by exactly the transform of the pixels they cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../src/torch/index.js';
import { toNetworkInput, networkLetterbox } from '../src/infer/prepare.js';
import { letterboxImage as importLetterbox } from '../src/formats/resample.js';
import { toDatasetPixels } from '../src/infer/predict.js';
import type { LoadedBatch } from '../src/data/batch.js';

test('network letterbox: a box on the image edges lands on the edges of the resized pixels (80×48 → 64)', () => {
  // 80×48 into 64: scale 0.8, rounded content 64×38 (not 38.4), so the height factor is 38/48.
  const H = 48,
    W = 80,
    S = 64;
  const batch: LoadedBatch = {
    id: 0,
    indices: [0],
    images: new Float32Array(H * W).fill(1),
    channels: 1,
    height: H,
    width: W,
    boxes: [
      [
        { x1: 0, y1: 0, x2: W, y2: H, cls: 0 },
        { x1: 20, y1: 12, x2: 60, y2: 36, cls: 0 },
      ],
    ],
    augLog: {},
  };
  tidy(() => {
    const inp = toNetworkInput(batch, S, 'cpu');
    const px = inp.x.toNumbers();
    const rows = Array.from({ length: S }, (_, y) => px.slice(y * S, (y + 1) * S).some((v) => v > 0.5));
    const top = rows.indexOf(true),
      bottom = rows.lastIndexOf(true) + 1;
    assert.deepEqual([top, bottom], [13, 51]);
    const full = inp.boxes[0]![0]!;
    assert.deepEqual([full.x1, full.y1, full.x2, full.y2], [0, top, S, bottom]);
    const inner = inp.boxes[0]![1]!;
    assert.deepEqual([inner.x1, inner.y1, inner.x2, inner.y2], [16, 13 + (12 * 38) / 48, 48, 13 + (36 * 38) / 48]);
    // Undoing it gives the dataset box back.
    const back = toDatasetPixels({ ...inner, score: 1, scale: 0 } as never, inp.box);
    for (const [k, v] of [
      ['x1', 20],
      ['y1', 12],
      ['x2', 60],
      ['y2', 36],
    ] as const)
      assert.ok(Math.abs((back as unknown as Record<string, number>)[k]! - v) < 1e-9, k);
  });
});

test('imports and network inputs use the same placement', () => {
  for (const [w, h, s] of [
    [80, 48, 64],
    [450, 319, 416],
    [550, 309, 416],
    [64, 128, 96],
  ] as const) {
    const net = networkLetterbox(w, h, s);
    const imp = importLetterbox(new Float32Array(w * h), 1, h, w, s).transform;
    assert.deepEqual({ sx: net.sx, sy: net.sy, dx: net.dx, dy: net.dy }, imp, `${w}×${h} → ${s}`);
  }
});

test('VOC difficult boxes are not training targets', () => {
  const batch: LoadedBatch = {
    id: 0,
    indices: [0],
    images: new Float32Array(64 * 64),
    channels: 1,
    height: 64,
    width: 64,
    boxes: [
      [
        { x1: 0, y1: 0, x2: 10, y2: 10, cls: 0 },
        { x1: 20, y1: 20, x2: 30, y2: 30, cls: 1, difficult: true },
      ],
    ],
    augLog: {},
  };
  tidy(() => assert.deepEqual(toNetworkInput(batch, 64, 'cpu').boxes, [[{ x1: 0, y1: 0, x2: 10, y2: 10, cls: 0 }]]));
});
