// One measured training step of a network on this machine: what the seed plan's time estimate
// rests on (`estimateStepMs`), and the core of `daqyolo bench train` (bench/train.ts adds its
// report fields around it). The loss is the sum of squares of the head outputs: it exercises
// forward, backward and the optimiser like the real loss, without its bookkeeping.
import { performance } from 'node:perf_hooks';
import { Adam, manualSeed, tensor, setNumThreads, tidy } from '../torch/index.js';
import { createYolo, isSparse, type Variant } from '../model/yolo.js';
import { UserError } from '../errors.js';
import { mulberry32 } from '../util/rng.js';
import type { YoloV3 } from '../model/yolo.js';

/**
 * [batch, 1, size, size] random images from `seed`: normal values at every pixel (the dense worst
 * case), or, with `active`, that many pixels per image at uniform positions with values in [1, 2).
 */
export function randomImages(o: { batch: number; size: number; seed: number; active?: number }): Float32Array {
  const plane = o.size * o.size;
  const rng = mulberry32(o.seed + 1);
  const images = new Float32Array(o.batch * plane);
  if (o.active === undefined) {
    // Box–Muller normals: every pixel non-zero.
    for (let i = 0; i < images.length; i++) images[i] = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  } else {
    if (o.active > plane) throw new UserError(`--active ${o.active} is more than the ${plane} pixels of an image`);
    for (let b = 0; b < o.batch; b++) {
      let placed = 0;
      while (placed < o.active) {
        const p = b * plane + Math.floor(rng() * plane);
        if (images[p] === 0) {
          images[p] = 1 + rng();
          placed++;
        }
      }
    }
  }
  return images;
}

export interface StepTimes {
  /** Wall time of each timed step (ms). */
  times: number[];
  /** CPU time (user + system, all threads) of each timed step (ms). */
  cpu: number[];
  /** The loss of the last step. */
  last: number;
}

/** `warmup` untimed steps (oneDNN picks and caches its kernels on the first calls), then `steps` timed ones, of `model` (in training mode) on `images`. */
export function timeTrainSteps(model: YoloV3, images: Float32Array, o: { batch: number; size: number; steps: number; warmup: number }): StepTimes {
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  const x = tensor(images, { shape: [o.batch, 1, o.size, o.size] });
  const step = (): number =>
    tidy(() => {
      opt.zeroGrad();
      const ys = model.forward(x);
      let loss = ys[0]!.square().sum();
      for (const y of ys.slice(1)) loss = loss.add(y.square().sum());
      loss.backward();
      opt.step();
      return loss.item();
    });
  for (let i = 0; i < o.warmup; i++) step();
  const times: number[] = [],
    cpu: number[] = [];
  let last = NaN;
  for (let i = 0; i < o.steps; i++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    last = step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  x.dispose();
  return { times, cpu, last };
}

/** Non-zero pixels per image of the default simulation (`daqyolo stats`: 118–120 at 480 px). */
const ACTIVE_PER_IMAGE = 120;

/**
 * Milliseconds per training step of `variant` at batch `batch` on this machine (2 steps after 1
 * untimed). A sparse network's step depends on the active pixels: random images with as many as
 * the default simulation gives (≈ 120 per image; README, "The default study") — random positions
 * are scattered, so this errs long — where every-pixel noise would make it look 10× slower.
 */
export function estimateStepMs(o: {
  variant: Variant;
  width: number;
  size: number;
  batch: number;
  threads: number;
  /** model.isolatedRadius (0 = every pixel kept). */
  isolatedRadius?: number;
  /** [batch, 1, size, size] images to time on instead of the random ones (needed with isolatedRadius > 0). */
  images?: Float32Array;
}): number {
  setNumThreads(o.threads);
  manualSeed(0);
  const model = createYolo({ variant: o.variant, width: o.width, inChannels: 1, numClasses: 1, channelsLast: true, isolatedRadius: o.isolatedRadius ?? 0 });
  try {
    model.train();
    const active = isSparse(o.variant) ? Math.min(ACTIVE_PER_IMAGE, o.size * o.size) : undefined;
    const { times } = timeTrainSteps(model, o.images ?? randomImages({ batch: o.batch, size: o.size, seed: 0, active }), {
      batch: o.batch,
      size: o.size,
      steps: 2,
      warmup: 1,
    });
    // bench/train.ts's ms_per_step, rounded as it is.
    return Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(1));
  } finally {
    model.dispose();
  }
}
