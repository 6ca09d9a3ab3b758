// `fprate`: the false-positive rate of a trained run on background-only images streamed from
// the simulator straight into batched inference — nothing stored, so 10⁶ images (≈ 1 Hz per
// module of sensitivity) are possible. Every detection on a background-only image is a false
// positive. The state (images done, a fine histogram of FP scores) is saved atomically every
// chunk, so a stopped measurement resumes where it stopped.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDataset } from '../data/store.js';
import { FPRATE_BACKGROUND_START, streamImagesParallel, streamImages, type StreamedImage } from '../data/stream.js';
import { batchOfImages } from '../data/batch.js';
import { UserError } from '../errors.js';
import { writeJsonAtomic } from '../train/run-dir.js';
import { evaluateBatch } from '../train/validate.js';
import { openRun } from './run.js';
import { simulatorOf } from './evaluate.js';
import { fpPerImageToHz, type TriggerOptions } from './efficiency.js';
import { poissonInterval, poissonUpperLimit } from './intervals.js';
import { datasetSimulation, streamBaselineBackground } from '../trigger/baseline.js';
import type { ClusterParams } from '../trigger/cluster.js';

/** Score histogram resolution: thresholds are exact to 1/SCORE_BINS. */
export const SCORE_BINS = 1000;
/** Detections below this score are not counted at all (decode threshold). */
export const MIN_SCORE = 0.01;

export interface FpState {
  run: string;
  checkpoint: string;
  seed: number;
  /** Index of the first streamed image (past the dataset's own images). */
  start: number;
  images: number;
  /** counts[i] = detections with score in [i, i+1) / SCORE_BINS. */
  counts: number[];
  seconds: number;
}

export interface FpRow { threshold: number; fpCount: number; fpPerImage: number; hz: number; limitHz: number; limitKind: 'upper' | 'interval-high' }

export interface FpResult extends FpState {
  imagesPerSecond: number;
  cl: number;
  rows: FpRow[];
}

export interface FpRateOptions {
  runDir: string;
  images: number;
  seed?: number;
  checkpoint?: string;
  /** Dataset whose simulator config to stream (default: the run's training data). */
  data?: string;
  batch: number;
  /** Simulation worker threads (0 = simulate on the inference thread). */
  workers: number;
  device?: string;
  thresholds?: number[];
  trigger?: TriggerOptions;
  control?: { stop: boolean };
  onProgress?: (done: number, total: number) => void;
}

/** FP count at score ≥ threshold from the histogram. */
export function countAbove(counts: number[], threshold: number): number {
  let n = 0;
  for (let i = Math.max(0, Math.ceil(threshold * SCORE_BINS - 1e-9)); i < counts.length; i++) n += counts[i]!;
  return n;
}

/** FP per image and Hz per module per threshold, with a 90 % upper limit when none are seen. */
export function fpTable(state: Pick<FpState, 'images' | 'counts'>, thresholds: number[], trigger: TriggerOptions = {}, cl = 0.9): FpRow[] {
  return fpRows(state.images, thresholds, (t) => countAbove(state.counts, t), trigger, cl);
}

function fpRows(images: number, thresholds: number[], countAt: (threshold: number) => number, trigger: TriggerOptions, cl: number): FpRow[] {
  const state = { images };
  return thresholds.map((threshold) => {
    const fpCount = countAt(threshold);
    const perImage = state.images ? fpCount / state.images : 0;
    const high = fpCount === 0 ? poissonUpperLimit(0, cl) : poissonInterval(fpCount, cl)[1];
    return {
      threshold, fpCount, fpPerImage: perImage, hz: fpPerImageToHz(perImage, trigger),
      limitHz: state.images ? fpPerImageToHz(high / state.images, trigger) : Infinity,
      limitKind: fpCount === 0 ? 'upper' : 'interval-high',
    };
  });
}

export async function measureFpRate(o: FpRateOptions): Promise<FpResult> {
  const opened = openRun(o.runDir, { checkpoint: o.checkpoint, device: o.device });
  const dataPath = o.data ?? opened.run.config.data;
  if (!existsSync(dataPath)) throw new UserError(`${dataPath}: dataset not found (give --data with the simulated dataset whose configuration to stream)`);
  const reader = openDataset(dataPath);
  const sim = simulatorOf(reader.attrs, dataPath);
  reader.close();
  const seed = o.seed ?? sim.seed;
  const statePath = join(o.runDir, 'eval', `fprate-seed${seed}.json`);
  mkdirSync(join(o.runDir, 'eval'), { recursive: true });
  let state: FpState = {
    run: o.runDir, checkpoint: opened.checkpoint, seed, start: sim.numImages + FPRATE_BACKGROUND_START, images: 0,
    counts: new Array<number>(SCORE_BINS).fill(0), seconds: 0,
  };
  if (existsSync(statePath)) {
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as FpState;
    if (saved.checkpoint !== opened.checkpoint) {
      throw new UserError(`${statePath} was measured with ${saved.checkpoint}, not ${opened.checkpoint}; delete it to start again`);
    }
    state = saved;
  }
  const remaining = Math.max(0, o.images - state.images);
  const t0 = performance.now();
  const secondsBefore = state.seconds;
  const save = () => {
    state.seconds = secondsBefore + (performance.now() - t0) / 1000;
    writeJsonAtomic(statePath, state);
  };
  let pending: StreamedImage[] = [];
  const flush = () => {
    if (!pending.length) return;
    for (const dets of evaluateBatch(opened.ctx, batchOfImages(pending), { loss: false, scoreThreshold: MIN_SCORE }).detections) {
      for (const d of dets) state.counts[Math.min(SCORE_BINS - 1, Math.floor(d.score * SCORE_BINS))]!++;
    }
    state.images += pending.length;
    pending = [];
  };
  const streamOpts = { config: sim.config, seed, start: state.start + state.images, count: remaining, mode: 'background' as const, reuseBuffer: o.workers === 0 };
  const stream = o.workers > 0 ? streamImagesParallel({ ...streamOpts, workers: o.workers, chunkSize: Math.max(o.batch, 64) }) : toAsync(streamImages(streamOpts));
  let lastSave = performance.now();
  for await (const img of stream) {
    pending.push(o.workers === 0 ? { ...img, image: img.image.slice() } : img);
    if (pending.length === o.batch) {
      flush();
      o.onProgress?.(state.images, o.images);
      if (performance.now() - lastSave > 10_000) { save(); lastSave = performance.now(); }
      if (o.control?.stop) break;
    }
  }
  flush();
  save();
  opened.model.dispose();
  const elapsed = (performance.now() - t0) / 1000;
  const thresholds = o.thresholds ?? [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
  return { ...state, imagesPerSecond: remaining && elapsed ? (state.images - (o.images - remaining)) / elapsed : 0, cl: 0.9, rows: fpTable(state, thresholds, o.trigger) };
}

async function* toAsync<T>(g: Generator<T>): AsyncGenerator<T> {
  yield* g;
}

/** The baseline trigger's FP rate on streamed background-only images: every candidate's ΣADC is kept
 *  (a few per thousand images), so any threshold can be read afterwards; resumable like the network's. */
export interface BaselineFpState { data: string; seed: number; start: number; params: ClusterParams; images: number; sumAdc: number[]; seconds: number }
export interface BaselineFpResult extends BaselineFpState { imagesPerSecond: number; cl: number; rows: FpRow[] }

export async function measureBaselineFpRate(o: { data: string; images: number; params: ClusterParams; seed?: number; workers: number; state?: string;
  thresholds?: number[]; trigger?: TriggerOptions; control?: { stop: boolean }; onProgress?: (done: number, total: number) => void }): Promise<BaselineFpResult> {
  if (!existsSync(o.data)) throw new UserError(`${o.data}: dataset not found`);
  const reader = openDataset(o.data);
  const sim = datasetSimulation(reader);
  reader.close();
  const seed = o.seed ?? sim.seed;
  const statePath = o.state ?? join(dirname(o.data), `baseline-fprate-seed${seed}.json`);
  let state: BaselineFpState = { data: o.data, seed, start: sim.numImages + FPRATE_BACKGROUND_START, params: o.params, images: 0, sumAdc: [], seconds: 0 };
  if (existsSync(statePath)) {
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as BaselineFpState;
    if (JSON.stringify(saved.params) !== JSON.stringify(o.params)) throw new UserError(`${statePath} was measured with other cluster parameters (${JSON.stringify(saved.params)}); delete it to start again`);
    state = saved;
  }
  const remaining = Math.max(0, o.images - state.images);
  const t0 = performance.now();
  const before = state.seconds;
  const save = () => { state.seconds = before + (performance.now() - t0) / 1000; writeJsonAtomic(statePath, state); };
  let last = performance.now();
  for await (const cands of streamBaselineBackground(sim, remaining, o.params, { workers: o.workers, start: state.start + state.images, seed })) {
    for (const c of cands) state.sumAdc.push(c.sumAdc);
    state.images++;
    if (state.images % 256 === 0) {
      o.onProgress?.(state.images, o.images);
      if (performance.now() - last > 10_000) { save(); last = performance.now(); }
      if (o.control?.stop) break;
    }
  }
  save();
  const elapsed = (performance.now() - t0) / 1000;
  const thresholds = o.thresholds ?? [1, 2, 4, 8, 16, 32, 64].map((f) => f * o.params.minSumAdc);
  const rows = fpRows(state.images, thresholds, (t) => state.sumAdc.filter((x) => x >= t).length, o.trigger ?? {}, 0.9);
  return { ...state, imagesPerSecond: elapsed > 0 ? (state.images - (o.images - remaining)) / elapsed : 0, cl: 0.9, rows };
}
