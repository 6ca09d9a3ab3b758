// Inference speed (eval mode, no autograd) of the YOLOv3 topology, dense or sparse, on random or
// real images: images per second, peak RSS, active pixels per image. Used by `daqyolo bench
// infer` and bench/sparse-vs-dense.ts (as a child process, so that peak RSS is its own).
import { performance } from 'node:perf_hooks';
import { manualSeed, tensor, setNumThreads, getNumThreads, tidy, noGrad } from '../src/torch/index.js';
import { createYolo, type Variant } from '../src/model/yolo.js';
import { benchImages, type BenchInputOptions } from './inputs.js';

export interface InferBenchOptions extends Pick<BenchInputOptions, 'data' | 'active'> {
  variant: Variant;
  width: number;
  size: number;
  batch: number;
  iters: number;
  warmup: number;
  threads?: number;
  seed: number;
  /** Drop isolated pixels before the network (model.isolatedRadius). */
  isolatedRadius?: number;
}

export interface InferBenchResult {
  engine: 'daqyolo';
  variant: Variant;
  width: number;
  size: number;
  batch: number;
  iters: number;
  threads: number;
  ms_per_batch: number;
  batch_ms: number[];
  /** CPU time (user + system, all threads) of each timed batch. */
  batch_cpu_ms: number[];
  img_per_s: number;
  ms_per_image: number;
  peak_rss_mb: number;
  active_pixels_per_image: number;
  input: 'random' | 'sparse-random' | 'data';
}

export function benchInfer(o: InferBenchOptions): InferBenchResult {
  if (o.threads !== undefined) setNumThreads(o.threads);
  manualSeed(o.seed);
  const model = createYolo({ variant: o.variant, width: o.width, inChannels: 1, numClasses: 1, isolatedRadius: o.isolatedRadius ?? 0 }).eval();
  const { images, activePerImage } = benchImages(o);
  const x = tensor(images, { shape: [o.batch, 1, o.size, o.size] });
  const pass = (): void =>
    tidy(() =>
      noGrad(() => {
        model.forward(x);
      }),
    );
  for (let i = 0; i < o.warmup; i++) pass();
  const times: number[] = [],
    cpu: number[] = [];
  for (let i = 0; i < o.iters; i++) {
    const t0 = performance.now(),
      c0 = process.cpuUsage();
    pass();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const ms = times.reduce((a, b) => a + b, 0) / times.length;
  x.dispose();
  model.dispose();
  return {
    engine: 'daqyolo',
    variant: o.variant,
    width: o.width,
    size: o.size,
    batch: o.batch,
    iters: o.iters,
    threads: getNumThreads(),
    ms_per_batch: Number(ms.toFixed(2)),
    batch_ms: times.map((t) => Number(t.toFixed(2))),
    batch_cpu_ms: cpu.map((t) => Number(t.toFixed(2))),
    img_per_s: Number(((1000 * o.batch) / ms).toFixed(2)),
    ms_per_image: Number((ms / o.batch).toFixed(3)),
    peak_rss_mb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
    active_pixels_per_image: Number(activePerImage.toFixed(1)),
    input: o.data ? 'data' : o.active !== undefined ? 'sparse-random' : 'random',
  };
}
