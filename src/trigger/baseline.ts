// The baseline trigger on a dataset and on streamed background-only images. The TPs of a dataset
// image are read when the dataset stores them, otherwise regenerated from the image's seed (image i
// depends only on config, seed and i) and checked against the stored truth boxes, so a dataset made
// by another simulator version is refused instead of silently compared with different images.
import type { DatasetReader, DatasetTables } from '../data/store.js';
import { EVALUATE_BACKGROUND_START } from '../data/stream.js';
import { UserError } from '../errors.js';
import { parseSimConfig, type SimConfig } from '../sim/config.js';
import { Simulator } from '../sim/event.js';
import { imageLayout, pixelX, pixelY, type ImageLayout } from '../sim/image.js';
import { generateChunks } from '../sim/pool.js';
import { clusterTps, type Candidate, type ClusterParams, type TpColumns } from './cluster.js';
import { importConfig, tpImportInfo } from '../formats/tps/import.js';

/** The TPs of one image for the TP matching rule: pixel column and row, and owner (≥ 0: the
 *  interaction's index in the image; < 0: background or noise). */
export interface PixelTps {
  x: Int32Array;
  y: Int32Array;
  owner: Int32Array;
}

/** One image for the trigger: its candidates, its interactions (Eν, truth box or null) and its TPs. */
export interface BaselineImage {
  candidates: Candidate[];
  interactions: { energyMeV: number; box: [number, number, number, number] | null }[];
  tps: PixelTps;
}

/** An image's TP columns with their truth owners. */
export type OwnedTps = TpColumns & { owner: ArrayLike<number> };

export interface DatasetSimulation {
  config: SimConfig;
  seed: number;
  numImages: number;
  layout: ImageLayout;
}

/** The simulator behind a dataset (its config and seed are in its attributes). */
export function datasetSimulation(reader: DatasetReader): DatasetSimulation {
  const a = reader.attrs;
  // Imported TPs (import tps): their images' layout and window; their TPs are stored.
  const tp = tpImportInfo(a);
  if (tp) {
    const config = importConfig(tp.windowTicks, { image: (JSON.parse(String(a.tp_import)) as { image?: unknown }).image ?? {} });
    return { config, seed: 0, numImages: reader.numImages, layout: imageLayout(config) };
  }
  if (!a.config || typeof a.config !== 'object') {
    throw new UserError(`${reader.path}: no simulator config in its attributes (an imported dataset?); the baseline needs the TPs, stored or regenerated`);
  }
  const config = parseSimConfig(a.config, `${reader.path} attribute config`);
  return { config, seed: Number(a.seed ?? 0), numImages: reader.numImages, layout: imageLayout(config) };
}

/**
 * The TPs of dataset image i with their owners: stored in the dataset, or regenerated from the
 * image's seed (image i depends only on config, seed and i) and checked against its stored boxes.
 * `cache` keeps the simulator between calls.
 */
export function datasetImageTps(reader: DatasetReader & DatasetTables, sim: DatasetSimulation, i: number, cache: { simulator?: Simulator } = {}): OwnedTps {
  const stored = reader.tps(i);
  if (stored) return stored;
  cache.simulator ??= new Simulator(sim.config, sim.seed);
  const rec = cache.simulator.image(i, { keepTps: true });
  const boxes = reader.boxes(i);
  const same =
    rec.boxes.length === 4 * boxes.length && boxes.every((b, k) => [b.x1, b.y1, b.x2, b.y2].every((v, c) => Math.abs(v - rec.boxes[4 * k + c]) < 1e-3));
  if (!same) {
    throw new UserError(
      `${reader.path}: image ${i}: the TPs regenerated from its seed do not reproduce its stored boxes (made by another simulator version or config?); simulate it again, or with --store-tps`,
    );
  }
  const t = rec.tps!;
  return {
    channel: t.channel.subarray(0, t.n),
    timePeak: t.timePeak.subarray(0, t.n),
    adcIntegral: t.adcIntegral.subarray(0, t.n),
    owner: t.owner.subarray(0, t.n),
  };
}

/** Pixel column and row of each TP (the image's binning) and its owner. */
export function pixelTps(layout: ImageLayout, tps: OwnedTps): PixelTps {
  const n = tps.channel.length;
  const out = { x: new Int32Array(n), y: new Int32Array(n), owner: Int32Array.from(tps.owner) };
  for (let i = 0; i < n; i++) {
    out.x[i] = pixelX(layout, tps.channel[i]);
    out.y[i] = pixelY(layout, tps.timePeak[i]);
  }
  return out;
}

/** Clustering candidates as trigger detections: scored by their ΣADC, holding their own TPs (the TP rule). */
export const candidateDetections = (c: readonly Candidate[]) => c.map((d) => ({ x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, score: d.sumAdc, cls: 0, tps: d.tps }));

/** Image i's interactions as the trigger figures take them: Eν and truth box (null when it left nothing visible). */
export function triggerInteractions(reader: DatasetReader, i: number): { energyMeV: number; box: [number, number, number, number] | null }[] {
  const boxes = reader.boxes(i);
  return reader.interactions(i).map((it) => {
    const b = it.box >= 0 ? boxes[it.box] : undefined;
    return { energyMeV: it.energyMeV, box: b ? [b.x1, b.y1, b.x2, b.y2] : null };
  });
}

/** Candidates, interactions and TPs of the images of a split (at most `limit` when > 0). */
export function datasetBaselineImages(
  reader: DatasetReader & DatasetTables,
  split: 'train' | 'val' | 'eval',
  params: ClusterParams,
  limit = 0,
  onProgress?: (done: number, total: number) => void,
): BaselineImage[] {
  return datasetBaselineImagesEach(reader, split, [params], limit, onProgress)[0]!;
}

/** The same for several clusterings at once (one list per clustering, in `params` order): each
 *  image's TPs are read, or regenerated, once. */
export function datasetBaselineImagesEach(
  reader: DatasetReader & DatasetTables,
  split: 'train' | 'val' | 'eval',
  params: readonly ClusterParams[],
  limit = 0,
  onProgress?: (done: number, total: number) => void,
): BaselineImage[][] {
  const sim = datasetSimulation(reader);
  let indices = Array.from(reader.split(split));
  if (limit > 0) indices = indices.slice(0, limit);
  const cache = {};
  const out: BaselineImage[][] = params.map(() => []);
  indices.forEach((i, done) => {
    const interactions = triggerInteractions(reader, i);
    const tps = datasetImageTps(reader, sim, i, cache);
    const pixels = pixelTps(sim.layout, tps);
    params.forEach((p, k) => out[k]!.push({ candidates: clusterTps(tps, tps.channel.length, p, sim.layout), interactions, tps: pixels }));
    onProgress?.(done + 1, indices.length);
  });
  return out;
}

/** Candidates of `count` background-only images streamed from the dataset's simulator: the images
 *  `evaluate` uses for the network's FP rate (same indices), or from `start` when given. */
export async function* streamBaselineBackground(
  sim: DatasetSimulation,
  count: number,
  params: ClusterParams,
  o: { workers?: number; start?: number; seed?: number } = {},
): AsyncGenerator<Candidate[]> {
  for await (const tps of streamBackgroundTps(sim, count, o)) yield clusterTps(tps, tps.channel.length, params, sim.layout);
}

/** The TPs of `count` background-only images streamed from the dataset's simulator, one image at a
 *  time (views into the chunk: cluster them before asking for the next). Simulating is the cost;
 *  clustering one image's TPs several ways (fprate --baseline --cluster-variants) is nearly free. */
export async function* streamBackgroundTps(
  sim: DatasetSimulation,
  count: number,
  o: { workers?: number; start?: number; seed?: number } = {},
): AsyncGenerator<TpColumns> {
  for await (const c of generateChunks({
    config: sim.config,
    seed: o.seed ?? sim.seed,
    start: o.start ?? sim.numImages + EVALUATE_BACKGROUND_START,
    count,
    workers: o.workers ?? 1,
    keepTps: true,
    signal: false,
    chunkSize: 64,
  })) {
    let off = 0;
    const t = c.tps!;
    for (let k = 0; k < c.count; k++) {
      const n = c.tpCounts![k];
      yield {
        channel: t.channel.subarray(off, off + n),
        timePeak: t.timePeak.subarray(off, off + n),
        adcIntegral: t.adcIntegral.subarray(off, off + n),
      };
      off += n;
    }
  }
}
