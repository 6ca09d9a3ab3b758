// Reading one training batch from a dataset: dense images, boxes, and the augmentations.
// Used both in the loader's worker threads and in-process; it depends only on the reader.
import type { DatasetReader } from './store.js';
import { augment, isAugmenting, type AugBox, type AugmentLog, type AugmentOptions } from './augment.js';
import { mulberry32 } from '../util/rng.js';
import { UserError } from '../errors.js';

export interface BatchRequest {
  id: number;
  indices: number[];
  /** Seed of this batch's augmentation choices (derived from run seed, epoch, batch). */
  seed: number;
  augment: AugmentOptions | null;
  /**
   * Each image's position in its (global) batch, default 0…n−1. Every image draws its
   * augmentation from its own stream seeded by (seed, position), so a data-parallel rank that
   * loads positions 1, 3, 5… augments them exactly as one process loading the whole batch.
   */
  positions?: number[];
}

export interface LoadedBatch {
  id: number;
  indices: number[];
  /** [B, C, H, W] at the dataset's image size. */
  images: Float32Array;
  channels: number;
  height: number;
  width: number;
  boxes: AugBox[][];
  augLog: AugmentLog;
}

/** How truth boxes become training targets (the training loader's; inference loaders mark nothing). */
export interface TargetMarks {
  /**
   * Boxes of interactions with fewer TPs than this are marked `ignore`: no positive, but in the
   * ignore mask, so a prediction on one is neither rewarded nor penalised (0: none marked).
   */
  positiveMinTps: number;
}

/** Reads and augments one batch. `pool` lists images eligible as overlay backgrounds. */
export function loadBatch(reader: DatasetReader, req: BatchRequest, pool: ArrayLike<number>, marks?: TargetMarks): LoadedBatch {
  const { channels: C, height: H, width: W } = reader;
  const plane = C * H * W;
  const pixels: (Int32Array | null)[] = [];
  const images = reader.readDense(req.indices, undefined, pixels);
  const minTps = marks?.positiveMinTps ?? 0;
  const boxes: AugBox[][] = req.indices.map((i) => {
    const interactions = minTps > 0 ? reader.interactions(i) : [];
    return reader.boxes(i).map(({ x1, y1, x2, y2, cls, difficult, interaction }, k) => {
      let ignore = false;
      if (minTps > 0) {
        const owner = interactions[interaction];
        if (!owner)
          throw new UserError(
            `${reader.path}: image ${i} box ${k} has no simulated interaction (boxes/interaction = ${interaction}), so positiveMinTps ${minTps} cannot count its TPs; train with positiveMinTps 0`,
          );
        ignore = owner.nTps < minTps;
      }
      return { x1, y1, x2, y2, cls, ...(difficult ? { difficult } : {}), ...(ignore ? { ignore } : {}) };
    });
  });
  const augLog: AugmentLog = {};
  const names = reader.attrs.channel_names;
  const channelNames = Array.isArray(names) ? names.map(String) : typeof names === 'string' ? [names] : undefined;
  if (req.augment && isAugmenting(req.augment)) {
    req.indices.forEach((_, b) => {
      const rng = mulberry32((Math.imul(req.seed ^ (req.positions?.[b] ?? b), 0x9e3779b1) + 0x632be5ab) >>> 0);
      const img = { data: images.subarray(b * plane, (b + 1) * plane), nonzero: pixels[b], channels: C, height: H, width: W, boxes: boxes[b]!, channelNames };
      const other = () => {
        if (pool.length === 0) return null;
        const j = pool[Math.floor(rng() * pool.length)]!;
        return { data: reader.readDense([j]), channels: C, height: H, width: W, boxes: reader.boxes(j) };
      };
      const log = augment(img, req.augment!, rng, other);
      if (img.data.buffer !== images.buffer || img.data.byteOffset !== b * plane * 4) images.set(img.data, b * plane);
      boxes[b] = img.boxes;
      for (const [k, v] of Object.entries(log)) augLog[k as keyof AugmentLog] = (augLog[k as keyof AugmentLog] ?? 0) + v;
    });
  }
  return { id: req.id, indices: req.indices, images, channels: C, height: H, width: W, boxes, augLog };
}

/** A batch (without truth boxes) from dense images of one shape, e.g. streamed background. */
export function batchOfImages(list: readonly { image: Float32Array; channels: number; height: number; width: number; index?: number }[]): LoadedBatch {
  const { channels, height, width } = list[0]!;
  const plane = channels * height * width;
  const images = new Float32Array(list.length * plane);
  list.forEach((p, i) => images.set(p.image, i * plane));
  return { id: 0, indices: list.map((p, i) => p.index ?? i), images, channels, height, width, boxes: list.map(() => []), augLog: {} };
}
