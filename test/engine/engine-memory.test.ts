// 1000 training steps of a small conv net keep resident memory flat after warm-up and the
// number of live tensor handles constant (no handle or native-memory leak per step).
// A full V8 collection runs every 100 steps: the small native object behind each JS tensor
// handle is freed only when V8 collects the handle (its tensor memory is freed at once by
// dispose), and until then those objects sit between small tensor buffers in glibc's heap.
// Without collections RSS drifts with V8's GC cadence (measured at 1 thread: +38 MB after 1000
// steps, a +80 MB plateau after ~3000); with them it stays within ~17 MB. Known, bounded,
// and left for a handle table without per-handle allocations (see the engine notes).
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import assert from 'node:assert/strict';
import { Adam, tidy, liveTensors, functional as F } from '../../src/torch/index.js';
import { smallNet, fixedBatch } from './nets.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('1000 training steps: RSS within +30 MB of the post-warm-up value, live tensors constant', () => {
  const model = smallNet(1);
  const { x, y } = fixedBatch(2);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const step = () => tidy(() => {
    opt.zeroGrad();
    const loss = F.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  });
  for (let i = 0; i < 100; i++) step();
  const live0 = liveTensors();
  gc();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) {
    step();
    if (i % 100 === 99) gc();
  }
  const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.equal(liveTensors(), live0);
  assert.ok(grew < 30, `RSS grew by ${grew.toFixed(1)} MB over 1000 steps`);
  model.dispose(); x.dispose(); y.dispose();
});
