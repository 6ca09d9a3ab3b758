// The YOLOv3 network: the published parameter counts and FLOP figure, and head output shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeros, tidy, noGrad, liveTensors } from '../../src/torch/index.js';
import { createYolo } from '../../src/model/yolo.js';

test('parameter counts: 61,949,149 (80 classes, 3 channels) and 61,523,158 (1 class, 1 channel)', () => {
  for (const [cfg, want] of [
    [{ numClasses: 80, inChannels: 3 }, 61_949_149],
    [{ numClasses: 1, inChannels: 1 }, 61_523_158],
  ] as const) {
    const m = createYolo({ variant: 'yolov3', width: 1, channelsLast: false, ...cfg });
    assert.equal(m.numParameters(), want);
    m.dispose();
  }
});

test('5.45 GFLOP per 480 px image at width 0.25; head shapes coarse first; no handle leak', () => {
  const base = liveTensors();
  const m = createYolo({ width: 0.25 });
  assert.equal((m.flops(480, 480) / 1e9).toFixed(2), '5.45');
  const shapes = tidy(() => noGrad(() => m.forward(zeros([2, 1, 64, 96])).map((y) => y.shape)));
  assert.deepEqual(shapes, [
    [2, 18, 2, 3],
    [2, 18, 4, 6],
    [2, 18, 8, 12],
  ]);
  assert.throws(() => tidy(() => m.forward(zeros([1, 1, 40, 64]))), /not a multiple of 32/);
  const tiny = createYolo({ variant: 'yolov3-tiny', width: 0.25, numClasses: 2 });
  assert.deepEqual(
    tidy(() => noGrad(() => tiny.forward(zeros([1, 1, 64, 64])).map((y) => y.shape))),
    [
      [1, 21, 2, 2],
      [1, 21, 4, 4],
    ],
  );
  m.dispose();
  tiny.dispose();
  assert.equal(liveTensors(), base);
});
