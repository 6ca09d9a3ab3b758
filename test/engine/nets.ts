// A small conv net and a fixed batch for the training, checkpoint and memory tests.
import { Sequential, Conv2d, BatchNorm2d, LeakyReLU } from '../../src/nn/index.js';
import { manualSeed, randn, setNumThreads, type Tensor } from '../../src/torch/index.js';

export function smallNet(seed: number): Sequential {
  // One thread: on tensors this small, waking a second OpenMP thread per op costs more than it gives.
  setNumThreads(1);
  manualSeed(seed);
  return new Sequential(
    new Conv2d(1, 8, 3, { padding: 1 }),
    new BatchNorm2d(8),
    new LeakyReLU(0.1),
    new Conv2d(8, 8, 3, { stride: 2, padding: 1, bias: false }),
    new BatchNorm2d(8),
    new LeakyReLU(0.1),
    new Conv2d(8, 1, 1),
  );
}

/** Input [4, 1, 16, 16] and target [4, 1, 8, 8] (kept: they outlive every scope). */
export function fixedBatch(seed: number): { x: Tensor; y: Tensor } {
  manualSeed(seed);
  return { x: randn([4, 1, 16, 16]), y: randn([4, 1, 8, 8]).mul(0.5) };
}
