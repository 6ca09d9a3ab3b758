// Streaming images without storing them: for false-positive rates over ~10⁶ background-only
// images. Image i is identical to image i of a dataset written with the same config and seed
// (or, background-only, to the same image without its signal draw), whatever the chunking.
import type { SimConfig } from '../sim/config.js';
import { Simulator, type ImageRecord } from '../sim/event.js';
import { densify, imageLayout } from '../sim/image.js';
import { PROCESSES } from '../sim/interactions.js';
import type { PackedChunk } from '../sim/pack.js';
import { generateChunks } from '../sim/pool.js';
import type { DatasetBox, Interaction } from './store.js';

/** Background-only images of `evaluate` start this far past a dataset's own images (new images, the
 *  same for the network and the baseline trigger); `fprate` streams from FPRATE_BACKGROUND_START on. */
export const EVALUATE_BACKGROUND_START = 10_000_000;
export const FPRATE_BACKGROUND_START = 20_000_000;

export interface StreamedImage {
  index: number;
  /** Dense [C, H, W]. */
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
  boxes: DatasetBox[];
  interactions: Interaction[];
}

export interface StreamOptions {
  config: SimConfig;
  seed: number;
  start?: number;
  count: number;
  /** 'background' = no signal interactions; 'mixed' = as configured. */
  mode?: 'background' | 'mixed';
  /** Reuse one output buffer for every image (fastest; copy it if you keep it). */
  reuseBuffer?: boolean;
}

/** Synchronous stream in this thread. */
export function* streamImages(o: StreamOptions): Generator<StreamedImage> {
  const sim = new Simulator(o.config, o.seed);
  const { channels, height, width } = sim.layout;
  const plane = height * width;
  const start = o.start ?? 0;
  let buf = new Float32Array(channels * plane);
  let prev: ImageRecord | null = null;
  for (let i = start; i < start + o.count; i++) {
    const r = sim.image(i, { signal: o.mode !== 'background' });
    if (!o.reuseBuffer) buf = new Float32Array(channels * plane);
    else if (prev) {
      // Zero only the pixels the previous image set: far cheaper than refilling 230 k floats.
      for (const p of prev.sparse.pixels) for (let c = 0; c < channels; c++) buf[c * plane + p] = 0;
    }
    densify(sim.layout, r.sparse, buf);
    prev = r;
    yield { index: i, image: buf, channels, height, width, boxes: recordBoxes(r), interactions: recordInteractions(r) };
  }
}

/** Parallel stream on worker threads (chunks in index order); same images as streamImages. */
export async function* streamImagesParallel(o: StreamOptions & { workers: number; chunkSize?: number }): AsyncGenerator<StreamedImage> {
  const sim = new Simulator(o.config, o.seed);
  const { channels, height, width } = sim.layout;
  for await (const c of generateChunks({
    config: o.config,
    seed: o.seed,
    start: o.start,
    count: o.count,
    workers: o.workers,
    chunkSize: o.chunkSize ?? 100,
    signal: o.mode !== 'background',
  })) {
    yield* unpackChunk(c, channels, height, width);
  }
}

/** One streamed image as its pixel list (no dense image): what a sparse model reads. */
export interface StreamedPixels {
  index: number;
  /** Flat pixel indices y·W + x, ascending and unique. */
  pixels: Int32Array;
  /** Values, pixel-major: values[p·C + c]. */
  values: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/**
 * Background/mixed images as pixel lists, in index order: the same images as streamImages
 * without the dense [C, H, W] array. workers > 0: on worker threads (the lists are views into
 * the workers' chunks, no copy); 0: in this thread.
 */
export async function* streamPixels(o: StreamOptions & { workers: number; chunkSize?: number }): AsyncGenerator<StreamedPixels> {
  const { channels, height, width } = imageLayout(o.config);
  for await (const c of generateChunks({
    config: o.config,
    seed: o.seed,
    start: o.start,
    count: o.count,
    workers: o.workers,
    chunkSize: o.chunkSize ?? 100,
    signal: o.mode !== 'background',
  })) {
    let p = 0;
    for (let i = 0; i < c.count; i++) {
      const n = c.pixelCounts[i]!;
      yield { index: c.start + i, pixels: c.pixels.subarray(p, p + n), values: c.values.subarray(p * channels, (p + n) * channels), channels, height, width };
      p += n;
    }
  }
}

function* unpackChunk(c: PackedChunk, C: number, H: number, W: number): Generator<StreamedImage> {
  let p = 0,
    b = 0,
    k = 0;
  const plane = H * W;
  for (let i = 0; i < c.count; i++) {
    const image = new Float32Array(C * plane);
    for (let q = 0; q < c.pixelCounts[i]; q++, p++) for (let ch = 0; ch < C; ch++) image[ch * plane + c.pixels[p]] = c.values[p * C + ch];
    const boxes: DatasetBox[] = [];
    for (let j = 0; j < c.boxCounts[i]; j++, b++) {
      boxes.push({
        x1: c.boxes[4 * b],
        y1: c.boxes[4 * b + 1],
        x2: c.boxes[4 * b + 2],
        y2: c.boxes[4 * b + 3],
        cls: c.boxClass[b],
        interaction: c.boxInteraction[b],
      });
    }
    const interactions: Interaction[] = [];
    for (let j = 0; j < c.interactionCounts[i]; j++, k++) {
      interactions.push({
        energyMeV: c.intEnergy[k],
        process: PROCESSES[c.intProcess[k]],
        visibleEnergyMeV: c.intVisible[k],
        nTps: c.intNTps[k],
        box: c.intBox[k],
      });
    }
    yield { index: c.start + i, image, channels: C, height: H, width: W, boxes, interactions };
  }
}

function recordBoxes(r: ImageRecord): DatasetBox[] {
  const out: DatasetBox[] = [];
  for (let b = 0; b < r.boxClass.length; b++) {
    out.push({
      x1: r.boxes[4 * b],
      y1: r.boxes[4 * b + 1],
      x2: r.boxes[4 * b + 2],
      y2: r.boxes[4 * b + 3],
      cls: r.boxClass[b],
      interaction: r.boxInteraction[b],
    });
  }
  return out;
}

function recordInteractions(r: ImageRecord): Interaction[] {
  return r.interactions.map((t) => ({ energyMeV: t.energyMeV, process: PROCESSES[t.process], visibleEnergyMeV: t.visibleEnergyMeV, nTps: t.nTps, box: t.box }));
}
