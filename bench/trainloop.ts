// Training-loop overhead: images per second of the full trainer (loading in worker threads,
// augmentation, target encoding, per-batch metrics) against the bare engine step of the same
// model (forward, loss, backward, Adam on a fixed batch), alternating in one process; and the
// validation pass's images per second. Prints one JSON object.
//   node dist/bench/trainloop.js [--images 400] [--size 480] [--variant yolov3-tiny] [--width 0.25] [--batch 8] [--rounds 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { openDataset } from '../src/data/store.js';
import { loadBatch } from '../src/data/batch.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { resolveRun } from '../src/train/resolve.js';
import { buildModel } from '../src/model/build.js';
import { toNetworkInput, targetTensors } from '../src/infer/prepare.js';
import { yoloLoss, readLoss } from '../src/loss/yolo-loss.js';
import { Adam, tidy, manualSeed, getNumThreads } from '../src/torch/index.js';

const { values: a } = parseArgs({
  options: {
    images: { type: 'string', default: '400' },
    size: { type: 'string', default: '480' },
    variant: { type: 'string', default: 'yolov3-tiny' },
    width: { type: 'string', default: '0.25' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    'no-augment': { type: 'boolean', default: false },
  },
});
const size = Number(a.size);
const batch = Number(a.batch);
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-loop-'));
const data = join(dir, 'd.h5');
const sim = defaultSimConfig();
sim.image.size = size;
await generateDataset({ out: data, config: sim, images: Number(a.images), seed: 1 });

const base = {
  data,
  epochs: 1,
  batch,
  seed: 1,
  workers: 1,
  threads: 0,
  valLimit: 8,
  model: { variant: a.variant, width: Number(a.width), size },
  augment: !a['no-augment'] ? { timeJitter: 0.05, flipChannels: 0.5, flipTime: 0.5, tpDropout: 0.05 } : {},
};

/** ms per training step of the full trainer (first 2 steps excluded: allocation warm-up). */
async function loopRun(round: number): Promise<{ msPerStep: number; valImgPerS: number }> {
  const stamps: number[] = [];
  let valStart = 0;
  let valEnd = 0;
  let valImages = 0;
  await train({
    config: parseTrainConfig({ ...base, out: join(dir, `run-${round}`) }),
    onEvent: (e) => {
      if (e.kind === 'batch') stamps.push(performance.now());
      if (e.kind === 'validating') valStart = performance.now();
      if (e.kind === 'epoch') {
        valEnd = performance.now();
        valImages = e.record.val.images;
      }
    },
  });
  const steps = stamps.slice(2);
  return { msPerStep: (steps.at(-1)! - steps[0]!) / (steps.length - 1), valImgPerS: valImages / ((valEnd - valStart) / 1000) };
}

/** ms per bare engine step of the same model on one fixed batch. */
function bareRun(steps: number): number {
  const reader = openDataset(data);
  const run = resolveRun(parseTrainConfig({ ...base, out: join(dir, 'bare') }), reader);
  manualSeed(1);
  const model = buildModel(run);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const idx = Array.from(reader.split('train')).slice(0, batch);
  const b = loadBatch(reader, { id: 0, indices: idx, seed: 0, augment: null }, []);
  reader.close();
  const spec = { anchors: run.anchors, strides: run.strides, numClasses: run.classNames.length };
  const times: number[] = [];
  tidy(() => {
    const inp = toNetworkInput(b, size, 'cpu', run.inputScale);
    const { targets } = targetTensors(inp.boxes, size, spec, 'cpu');
    for (let s = 0; s < steps + 2; s++) {
      const t0 = performance.now();
      tidy(() => {
        const r = yoloLoss(model.forward(inp.x), targets, { anchors: run.anchors, netH: size, netW: size, batchIndex: s, training: true });
        readLoss(r);
        opt.zeroGrad();
        r.objective.backward();
        opt.step();
      });
      if (s >= 2) times.push(performance.now() - t0);
    }
  });
  model.dispose();
  return times.reduce((x, y) => x + y, 0) / times.length;
}

const loop: number[] = [];
const bare: number[] = [];
const val: number[] = [];
const stepsPerEpoch = Math.floor(Math.floor(Number(a.images) * 0.8) / batch);
for (let r = 0; r < Number(a.rounds); r++) {
  bare.push(bareRun(Math.max(4, stepsPerEpoch - 2)));
  const l = await loopRun(r);
  loop.push(l.msPerStep);
  val.push(l.valImgPerS);
}
rmSync(dir, { recursive: true, force: true });
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
const ms = { loop: mean(loop), bare: mean(bare) };
console.log(
  JSON.stringify({
    bench: 'trainloop',
    variant: a.variant,
    width: Number(a.width),
    size,
    batch,
    threads: getNumThreads(),
    augment: !a['no-augment'],
    loop_ms_per_step: +ms.loop.toFixed(1),
    bare_ms_per_step: +ms.bare.toFixed(1),
    loop_img_per_s: +((1000 * batch) / ms.loop).toFixed(2),
    bare_img_per_s: +((1000 * batch) / ms.bare).toFixed(2),
    loop_over_bare_throughput: +(ms.bare / ms.loop).toFixed(3),
    validation_img_per_s: +mean(val).toFixed(2),
    rounds: { loop: loop.map((x) => +x.toFixed(1)), bare: bare.map((x) => +x.toFixed(1)) },
  }),
);
