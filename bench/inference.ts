// Inference speed at 480 × 480: images per second for the light (YOLOv3-tiny) and the full
// (YOLOv3) model at batch 1 and 16, the CPU cores needed to keep up with one far-detector module
// in real time (300 faces, one image per face per 2.246 ms window), and the fprate stream's rate
// (simulation in a worker thread + inference + decoding) against bare inference. One JSON object.
//   node dist/bench/inference.js [--size 480] [--width 0.25] [--iters 3] [--stream 64]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createYolo, type Variant } from '../src/model/yolo.js';
import { noGrad, tidy, randn, getNumThreads, manualSeed } from '../src/torch/index.js';
import { defaultSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { measureFpRate } from '../src/eval/fprate.js';
import { openRun } from '../src/infer/open-run.js';
import { predict } from '../src/infer/predict.js';
import { streamImages } from '../src/data/stream.js';
import { hzPerFpPerImage } from '../src/eval/efficiency.js';

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '480' },
    width: { type: 'string', default: '0.25' },
    iters: { type: 'string', default: '3' },
    stream: { type: 'string', default: '64' },
  },
});
const size = Number(a.size);
const iters = Number(a.iters);
// Images one module produces per second: 300 faces / (4492 ticks × 0.5 µs).
const moduleImagesPerSecond = 300 / (4492 * 0.5e-6);
const threads = getNumThreads();

function forwardRate(variant: Variant, width: number, batch: number): number {
  manualSeed(0);
  const m = createYolo({ variant, width }).eval();
  const times: number[] = [];
  noGrad(() =>
    tidy(() => {
      const x = randn([batch, 1, size, size]);
      for (let i = 0; i < iters + 1; i++) {
        const t0 = performance.now();
        tidy(() => m.forward(x));
        if (i > 0) times.push(performance.now() - t0);
      }
    }),
  );
  m.dispose();
  return (1000 * batch) / (times.reduce((s, t) => s + t, 0) / times.length);
}

const models: Record<string, unknown>[] = [];
for (const [variant, width] of [
  ['yolov3-tiny', Number(a.width)],
  ['yolov3', Number(a.width)],
  ['yolov3', 1],
] as [Variant, number][]) {
  for (const batch of [1, 16]) {
    if (variant === 'yolov3' && width === 1 && batch === 16 && iters > 2) continue; // minutes per pass on 2 cores
    const ips = forwardRate(variant, width, batch);
    models.push({
      variant,
      width,
      batch,
      img_per_s: +ips.toFixed(2),
      cores_for_one_module: +((moduleImagesPerSecond / ips) * threads).toFixed(0),
    });
  }
}

// fprate stream vs bare inference + decoding on the same images (light model, batch 16).
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-inf-'));
const sim = defaultSimConfig();
sim.image.size = size;
const data = join(dir, 'd.h5');
await generateDataset({ out: data, config: sim, images: 40, seed: 1, workers: 0 });
const runDir = join(dir, 'run');
await train({
  config: parseTrainConfig({ data, out: runDir, epochs: 1, batch: 8, valLimit: 8, model: { variant: 'yolov3-tiny', width: Number(a.width), size } }),
});
const n = Number(a.stream);
const opened = openRun(runDir);
const imgs = [...streamImages({ config: sim, seed: 1, start: 5_000_000, count: n, mode: 'background' })];
const t0 = performance.now();
for (let i = 0; i < n; i += 16) predict(opened.ctx, imgs.slice(i, i + 16), { scoreThreshold: 0.01 });
const bare = n / ((performance.now() - t0) / 1000);
opened.model.dispose();
const stream = await measureFpRate({ runDir, images: n, batch: 16, workers: 1, data });
rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    bench: 'inference',
    size,
    threads,
    module_images_per_s: Math.round(moduleImagesPerSecond),
    hz_per_fp_per_image: Math.round(hzPerFpPerImage()),
    models,
    fprate: {
      stream_img_per_s: +stream.imagesPerSecond.toFixed(2),
      bare_inference_img_per_s: +bare.toFixed(2),
      ratio: +(stream.imagesPerSecond / bare).toFixed(3),
    },
  }),
);
