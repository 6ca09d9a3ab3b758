// `daqyolo detect`: detections of a trained run on dataset images or a folder of PNGs, as JSON
// (pixels, and detector channels / ticks for simulated data) and PNG event displays.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { makeDir, writeFileAtomic } from '../util/atomic-write.js';
import { basename, extname, join } from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import { UserError } from '../errors.js';
import { openDataset, type DatasetBox, type Interaction } from '../data/store.js';
import { datasetScene, eventPng, pixelTps, sceneDetections, sceneMatchRule, type EventScene } from '../report/event-scene.js';
import { DEFAULT_NMS_IOU } from '../infer/nms.js';
import { drawOptions } from './show.js';
import { openRun, checkCompatible } from '../infer/open-run.js';
import { predict } from '../infer/predict.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { device, integer, oneOf, probability, text } from './options.js';
import { SPLIT_NAMES } from '../data/splits.js';

interface Item {
  name: string;
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
  boxes: DatasetBox[];
  interactions: Interaction[];
  scene?: EventScene;
}

/** "0,3,10-12" → [0, 3, 10, 11, 12]. */
export function parseIndices(spec: string, limit: number): number[] {
  const out: number[] = [];
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UserError(`--indices: "${part}" is not an index or a range a-b`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= limit) throw new UserError(`--indices: ${part} is outside 0..${limit - 1}`);
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** A PNG as a [C, H, W] float image: grey (luminance) for 1 channel, RGB for 3; raw 8/16-bit values. */
export function pngToImage(path: string, channels: number): Omit<Item, 'name' | 'boxes' | 'interactions'> {
  let png: PNG;
  try {
    png = PNG.sync.read(readFileSync(path), { skipRescale: true });
  } catch (e) {
    throw new UserError(`${path}: cannot decode PNG (${(e as Error).message})`);
  }
  const { width: W, height: H, data } = png;
  const stride = data.length / (W * H); // 4 channels (RGBA) after decoding
  const img = new Float32Array(channels * H * W);
  for (let p = 0; p < H * W; p++) {
    const r = data[p * stride]!,
      g = data[p * stride + 1]!,
      b = data[p * stride + 2]!;
    if (channels === 1) img[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    else if (channels === 3) {
      img[p] = r;
      img[H * W + p] = g;
      img[2 * H * W + p] = b;
    } else throw new UserError(`${path}: the run expects ${channels} channels; PNG input gives 1 (grey) or 3 (RGB)`);
  }
  return { image: img, channels, height: H, width: W };
}

export function registerDetect(program: Command): void {
  program
    .command('detect <run> <input>')
    .description('detections of a trained run on a dataset (with --indices) or a folder of PNG images: JSON and event displays')
    .requiredOption('--out <dir>', 'output folder (detections.json and one PNG per image)')
    .option('--indices <list>', 'dataset images, e.g. 0,3,10-12 (default: the first 8 of --split)')
    .option('--split <name>', 'with a dataset and no --indices: which split', oneOf(SPLIT_NAMES), 'eval')
    .option('--score <x>', 'minimum score', probability(), 0.3)
    .option('--checkpoint <name>', 'best, last, init or a .safetensors path', text(), 'best')
    .option('--no-png', 'skip the event displays')
    .option('--zoom [window]', 'event displays framing the interaction (no value), or a window "C0-C1,T0-T1" in channels and ticks', text())
    .option('--width <px>', "width of the event displays' plotting area in screen pixels", integer({ min: 200, max: 4000 }), 760)
    .option('--device <name>', 'auto, cpu, cuda', device(), 'auto')
    .action((run: string, input: string, o) => {
      if (!existsSync(input)) throw new UserError(`${input}: no such dataset or folder`);
      const opened = openRun(run, { checkpoint: o.checkpoint, device: o.device });
      const items: Item[] = [];
      let units: { wiresPerPixel: number; ticksPerPixel: number } | null = null;
      if (statSync(input).isDirectory()) {
        const files = readdirSync(input)
          .filter((f) => extname(f).toLowerCase() === '.png')
          .sort();
        if (!files.length) throw new UserError(`${input}: no .png images in the folder`);
        for (const f of files) {
          const img = pngToImage(join(input, f), opened.run.channels);
          items.push({
            name: f,
            ...img,
            boxes: [],
            interactions: [],
            scene: {
              title: f,
              width: img.width,
              height: img.height,
              units: null,
              tps: pixelTps(img.image, img.width, img.height),
              rawTps: false,
              truths: [],
              detections: [],
            },
          });
        }
      } else {
        const reader = openDataset(input);
        checkCompatible(opened, reader);
        const indices = o.indices ? parseIndices(o.indices, reader.numImages) : Array.from(reader.split(o.split)).slice(0, 8);
        if (typeof reader.attrs.wires_per_pixel === 'number' && typeof reader.attrs.ticks_per_pixel === 'number') {
          units = { wiresPerPixel: reader.attrs.wires_per_pixel, ticksPerPixel: reader.attrs.ticks_per_pixel };
        }
        for (const i of indices) {
          items.push({
            name: `image-${i}`,
            image: reader.readDense([i]),
            channels: reader.channels,
            height: reader.height,
            width: reader.width,
            boxes: reader.boxes(i),
            interactions: reader.interactions(i),
            scene: o.png ? datasetScene(reader, i, `${basename(input)} image ${i}: ${basename(run)}`) : undefined,
          });
        }
        reader.close();
      }
      makeDir(o.out);
      const results = items.map((it) => {
        const dets = predict(opened.ctx, [it], { scoreThreshold: o.score })[0]!;
        const detections = dets.map((d) => ({
          x1: d.x1,
          y1: d.y1,
          x2: d.x2,
          y2: d.y2,
          score: d.score,
          cls: d.cls,
          class: opened.run.classNames[d.cls],
          scale: d.scale,
          ...(units
            ? { channels: [d.x1 * units.wiresPerPixel, d.x2 * units.wiresPerPixel], ticks: [d.y1 * units.ticksPerPixel, d.y2 * units.ticksPerPixel] }
            : {}),
        }));
        if (o.png && it.scene) {
          // The detections evaluate counts (NMS as evaluate runs it), each marked matched or false
          // positive by evaluate's matching rule on simulated images (they carry the truth).
          const scene = { ...it.scene, detections: sceneDetections(dets, it.scene.units ? it.boxes : null, it.scene.tps) };
          scene.detectionNote = `detections: score ≥ ${o.score}, after NMS (IoU ${DEFAULT_NMS_IOU} per class, as evaluate)${scene.detections[0]?.matched != null ? `; on an interaction = ${sceneMatchRule(it.scene.tps)}` : ''}`;
          writeFileAtomic(join(o.out, `${basename(it.name, extname(it.name))}.png`), eventPng(scene, drawOptions(scene, o)));
        }
        return { image: it.name, width: it.width, height: it.height, truth: it.boxes, detections };
      });
      writeJsonAtomic(join(o.out, 'detections.json'), {
        run,
        checkpoint: opened.checkpoint,
        input,
        scoreThreshold: o.score,
        units: units ? 'boxes in pixels; channels and ticks from the dataset binning (wires_per_pixel, ticks_per_pixel)' : 'boxes in pixels',
        images: results,
      });
      opened.model.dispose();
      const n = results.reduce((k, r) => k + r.detections.length, 0);
      console.log(`${n} detections in ${results.length} images → ${join(o.out, 'detections.json')}${o.png ? ` and ${results.length} PNG displays` : ''}`);
    });
}
