// The validation pass's speed: 3000 images at 480 px through the light model in eval mode —
// loss terms, LOSS.md statistics, decoding, NMS and mAP, as the trainer runs it every epoch.
// Prints one JSON object.   node dist/bench/validation.js [--images 3000] [--variant yolov3-tiny] [--width 0.25]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { getNumThreads } from '../src/torch/index.js';

const { values: a } = parseArgs({
  options: {
    images: { type: 'string', default: '3000' },
    variant: { type: 'string', default: 'yolov3-tiny' },
    width: { type: 'string', default: '0.25' },
  },
});
const n = Number(a.images);
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-val-'));
const data = join(dir, 'd.h5');
// Nearly everything in the validation split; 16 training images for the single short epoch.
await generateDataset({ out: data, config: defaultSimConfig(), images: n + 40, seed: 1, split: [20 / (n + 40), n / (n + 40), 20 / (n + 40)] });
let t0 = 0;
let seconds = 0;
let images = 0;
await train({
  config: parseTrainConfig({
    data,
    out: join(dir, 'run'),
    epochs: 1,
    batch: 8,
    trainLimit: 16,
    valLimit: n,
    model: { variant: a.variant, width: Number(a.width) },
  }),
  onEvent: (e) => {
    if (e.kind === 'validating') t0 = performance.now();
    if (e.kind === 'epoch') {
      seconds = (performance.now() - t0) / 1000;
      images = e.record.val.images;
    }
  },
});
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'validation',
    variant: a.variant,
    width: Number(a.width),
    size: 480,
    threads: getNumThreads(),
    images,
    seconds: +seconds.toFixed(1),
    img_per_s: +(images / seconds).toFixed(2),
  }),
);
