// The baseline trigger on a dataset and on streamed background-only images. The TPs of a dataset
// image are read when the dataset stores them, otherwise regenerated from the image's seed (image i
// depends only on config, seed and i) and checked against the stored truth boxes, so a dataset made
// by another simulator version is refused instead of silently compared with different images.
import type { DatasetReader, DatasetTables } from '../data/store.js';
import { EVALUATE_BACKGROUND_START } from '../data/stream.js';
import { UserError } from '../errors.js';
import { parseSimConfig, type SimConfig } from '../sim/config.js';
import { Simulator } from '../sim/event.js';
import { imageLayout, type ImageLayout } from '../sim/image.js';
import { generateChunks } from '../sim/pool.js';
import { clusterTps, type Candidate, type ClusterParams } from './cluster.js';
import { importConfig, tpImportInfo } from '../formats/tps/import.js';

/** One image for the trigger: its candidates and its interactions (Eν, truth box or null). */
export interface BaselineImage {
  candidates: Candidate[];
  interactions: { energyMeV: number; box: [number, number, number, number] | null }[];
}

export interface DatasetSimulation { config: SimConfig; seed: number; numImages: number; layout: ImageLayout }

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

/** Candidates and interactions of the images of a split (at most `limit` when > 0). */
export function datasetBaselineImages(reader: DatasetReader & DatasetTables, split: 'train' | 'val' | 'eval', params: ClusterParams, limit = 0,
  onProgress?: (done: number, total: number) => void): BaselineImage[] {
  const sim = datasetSimulation(reader);
  let indices = Array.from(reader.split(split));
  if (limit > 0) indices = indices.slice(0, limit);
  let simulator: Simulator | null = null;
  const out: BaselineImage[] = [];
  for (const i of indices) {
    const boxes = reader.boxes(i);
    const interactions = reader.interactions(i).map((it) => {
      const b = it.box >= 0 ? boxes[it.box] : null;
      return { energyMeV: it.energyMeV, box: b ? [b.x1, b.y1, b.x2, b.y2] as [number, number, number, number] : null };
    });
    const stored = reader.tps(i);
    let candidates: Candidate[];
    if (stored) {
      candidates = clusterTps(stored, stored.channel.length, params, sim.layout);
    } else {
      simulator ??= new Simulator(sim.config, sim.seed);
      const rec = simulator.image(i, { keepTps: true });
      const same = rec.boxes.length === 4 * boxes.length && boxes.every((b, k) => [b.x1, b.y1, b.x2, b.y2].every((v, c) => Math.abs(v - rec.boxes[4 * k + c]) < 1e-3));
      if (!same) {
        throw new UserError(`${reader.path}: image ${i}: the TPs regenerated from its seed do not reproduce its stored boxes (made by another simulator version or config?); simulate it again, or with --store-tps`);
      }
      candidates = clusterTps(rec.tps!, rec.tps!.n, params, sim.layout);
    }
    out.push({ candidates, interactions });
    onProgress?.(out.length, indices.length);
  }
  return out;
}

/** Candidates of `count` background-only images streamed from the dataset's simulator: the images
 *  `evaluate` uses for the network's FP rate (same indices), or from `start` when given. */
export async function* streamBaselineBackground(sim: DatasetSimulation, count: number, params: ClusterParams, o: { workers?: number; start?: number; seed?: number } = {}): AsyncGenerator<Candidate[]> {
  for await (const c of generateChunks({
    config: sim.config, seed: o.seed ?? sim.seed, start: o.start ?? sim.numImages + EVALUATE_BACKGROUND_START, count,
    workers: o.workers ?? 1, keepTps: true, signal: false, chunkSize: 64,
  })) {
    let off = 0;
    const t = c.tps!;
    for (let k = 0; k < c.count; k++) {
      const n = c.tpCounts![k];
      const view = { channel: t.channel.subarray(off, off + n), timePeak: t.timePeak.subarray(off, off + n), adcIntegral: t.adcIntegral.subarray(off, off + n) };
      off += n;
      yield clusterTps(view, n, params, sim.layout);
    }
  }
}
