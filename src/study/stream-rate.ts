// Short measured samples of the streams a plan's end point runs, for its time estimate beside the
// training step (step-time.ts): the network's fprate stream (simulation of background-only images
// and the sparse network's forward pass, one core per shard as sweep/fprate-pool.ts runs it), the
// baseline's background stream and the dataset's simulation. Each is a few seconds on this machine.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { defaultSimConfig, type SimConfig } from '../sim/config.js';
import { imageLayout } from '../sim/image.js';
import { generateChunks } from '../sim/pool.js';
import { streamPixels } from '../data/stream.js';
import { DEFAULT_FP_BATCH } from '../eval/fprate.js';
import { createYolo, type Variant } from '../model/yolo.js';
import { SparseTensor, getNumThreads, manualSeed, noGrad, setNumThreads, tidy } from '../torch/index.js';
import { streamBaselineBackground } from '../trigger/baseline.js';
import { defaultClusterParams } from '../trigger/cluster.js';

/** The default simulation at `size` px (what the plans simulate). */
function simAt(size: number): SimConfig {
  const config = defaultSimConfig();
  config.image.size = size;
  return config;
}

/**
 * `count` images of the default simulation at `size` px (signal and background, as a dataset
 * holds them), dense [count, 1, size, size]: what a training step sees, for a step-time estimate
 * whose network drops isolated pixels (random scattered pixels would all be dropped).
 */
export async function simulatedImages(size: number, count: number, seed = 1): Promise<Float32Array> {
  const plane = size * size;
  const out = new Float32Array(count * plane);
  for await (const p of streamPixels({ config: simAt(size), seed, start: 0, count, mode: 'mixed', workers: 0, chunkSize: count })) {
    if (p.channels !== 1) throw new Error(`simulatedImages: expected 1 channel, got ${p.channels}`);
    for (let i = 0; i < p.pixels.length; i++) out[p.index * plane + p.pixels[i]!] = p.values[i]!;
  }
  return out;
}

/**
 * Images per second of the network's fprate stream on this machine: `images` background-only
 * images simulated and run through the (untrained) sparse network in fprate's batches (DEFAULT_FP_BATCH) on one thread,
 * the way one shard runs, times the shards a CPU runs at once (one per core). The decoding of
 * detections is left out: a trained network leaves few boxes above the cut, an untrained one
 * thousands.
 */
export async function fpStreamImagesPerSecond(o: {
  variant: Variant;
  width: number;
  size: number;
  images?: number;
  seed?: number;
  /** model.isolatedRadius of the network (0 = every pixel kept). */
  isolatedRadius?: number;
}): Promise<number> {
  const images = o.images ?? 2 * DEFAULT_FP_BATCH;
  const config = simAt(o.size);
  const layout = imageLayout(config);
  const threads = getNumThreads();
  setNumThreads(1);
  manualSeed(0);
  const model = createYolo({
    variant: o.variant,
    width: o.width,
    inChannels: layout.channels,
    numClasses: 1,
    channelsLast: true,
    isolatedRadius: o.isolatedRadius ?? 0,
  });
  model.eval();
  try {
    const run = async (count: number, start: number) => {
      let batch: { pixels: Int32Array; values: Float32Array }[] = [];
      const forward = () => noGrad(() => tidy(() => void model.forward(SparseTensor.fromSortedPixels(batch, layout.channels, layout.height, layout.width))));
      for await (const p of streamPixels({ config, seed: o.seed ?? 1, start, count, mode: 'background', workers: 0, chunkSize: DEFAULT_FP_BATCH })) {
        batch.push({ pixels: p.pixels.slice(), values: p.values.slice() });
        if (batch.length === DEFAULT_FP_BATCH) {
          forward();
          batch = [];
        }
      }
      if (batch.length) forward();
    };
    await run(DEFAULT_FP_BATCH, 0); // untimed: oneDNN picks its kernels on the first calls
    const t0 = performance.now();
    await run(images, DEFAULT_FP_BATCH);
    const perShard = images / ((performance.now() - t0) / 1000);
    return perShard * availableParallelism();
  } finally {
    model.dispose();
    setNumThreads(threads);
  }
}

/** Images per second of the baseline's background stream (simulation with TPs kept, clustering), on the workers the plans give it. */
export async function baselineStreamImagesPerSecond(o: { size: number; images?: number; seed?: number }): Promise<number> {
  const images = o.images ?? 1024;
  const config = simAt(o.size);
  const sim = { config, seed: o.seed ?? 1, numImages: 0, layout: imageLayout(config) };
  const t0 = performance.now();
  let n = 0;
  for await (const _ of streamBaselineBackground(sim, images, defaultClusterParams(config.electronics.adcBits), {
    workers: Math.min(4, availableParallelism()),
    start: 0,
  }))
    n++;
  return n / ((performance.now() - t0) / 1000);
}

/** Images per second of simulating a study dataset (signal and TPs kept, in this thread as the plans do). */
export async function simulationImagesPerSecond(o: { size: number; images?: number; seed?: number }): Promise<number> {
  const images = o.images ?? 32;
  const t0 = performance.now();
  for await (const _ of generateChunks({ config: simAt(o.size), seed: o.seed ?? 1, count: images, workers: 0, chunkSize: 16, keepTps: true, signal: true }));
  return images / ((performance.now() - t0) / 1000);
}
