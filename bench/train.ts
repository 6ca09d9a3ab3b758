// Training speed of the YOLOv3 topology (dense or sparse) on random or real images: one
// JSON-able record per run.
// Used by `daqyolo bench train` and by bench/engine-vs-pytorch.ts (which runs it as a child
// process so that its peak RSS is its own). The loss is the sum of squares of the head outputs:
// it exercises forward, backward and the optimiser like the real loss, without its bookkeeping.
import { manualSeed, setNumThreads, getNumThreads } from '../src/torch/index.js';
import { timeTrainSteps } from '../src/study/step-time.js';
import { benchImages, type BenchInputOptions } from './inputs.js';
import { createYolo, type Variant } from '../src/model/yolo.js';

export interface TrainBenchOptions extends Pick<BenchInputOptions, 'data' | 'active'> {
  variant: Variant;
  width: number;
  size: number;
  batch: number;
  steps: number;
  /** Untimed steps first (oneDNN picks and caches its kernels on the first calls). */
  warmup: number;
  threads?: number;
  channelsLast: boolean;
  seed: number;
  /** Drop isolated pixels before the network (model.isolatedRadius). */
  isolatedRadius?: number;
}

export interface TrainBenchResult {
  engine: 'daqyolo';
  variant: Variant;
  width: number;
  size: number;
  batch: number;
  steps: number;
  threads: number;
  channels_last: boolean;
  params: number;
  gflop_per_image: number;
  ms_per_step: number;
  /** Each timed step, so a reader can see the spread, not only the mean. */
  step_ms: number[];
  /** CPU time (user + system, all threads) of each timed step: the work, less sensitive than wall time to a shared machine's load. */
  step_cpu_ms: number[];
  img_per_s: number;
  peak_rss_mb: number;
  /** Mean non-zero input pixels per image (the sparse variants' cost grows with it). */
  active_pixels_per_image: number;
  input: 'random' | 'sparse-random' | 'data';
  final_loss: number;
}

export function benchTrain(o: TrainBenchOptions): TrainBenchResult {
  if (o.threads !== undefined) setNumThreads(o.threads);
  manualSeed(o.seed);
  const model = createYolo({
    variant: o.variant,
    width: o.width,
    inChannels: 1,
    numClasses: 1,
    channelsLast: o.channelsLast,
    isolatedRadius: o.isolatedRadius ?? 0,
  });
  model.train();
  // The dense network's FLOPs (the sparse network does the work of its active sites only).
  const gflop = (model.sparse ? denseFlops(o) : model.flops(o.size, o.size)) / 1e9;
  const { images, activePerImage } = benchImages(o);
  // The timed steps are the study's estimate's own (src/study/step-time.ts).
  const { times, cpu, last } = timeTrainSteps(model, images, o);
  const ms = times.reduce((a, b) => a + b, 0) / times.length;
  const result: TrainBenchResult = {
    engine: 'daqyolo',
    variant: o.variant,
    width: o.width,
    size: o.size,
    batch: o.batch,
    steps: o.steps,
    threads: getNumThreads(),
    channels_last: o.channelsLast,
    params: model.numParameters(),
    gflop_per_image: Number(gflop.toFixed(3)),
    ms_per_step: Number(ms.toFixed(1)),
    step_ms: times.map((t) => Number(t.toFixed(1))),
    step_cpu_ms: cpu.map((t) => Number(t.toFixed(1))),
    img_per_s: Number(((1000 * o.batch) / ms).toFixed(2)),
    // maxRSS is in KiB on Linux, like Python's resource.getrusage.
    peak_rss_mb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
    active_pixels_per_image: Number(activePerImage.toFixed(1)),
    input: o.data ? 'data' : o.active !== undefined ? 'sparse-random' : 'random',
    final_loss: last,
  };
  model.dispose();
  return result;
}

/** FLOPs of the dense network of a sparse variant (the sparse one computes only at its sites). */
function denseFlops(o: TrainBenchOptions): number {
  const m = createYolo({ variant: o.variant.replace('sparse-', '') as Variant, width: o.width, inChannels: 1, numClasses: 1 });
  const f = m.flops(o.size, o.size);
  m.dispose();
  return f;
}
