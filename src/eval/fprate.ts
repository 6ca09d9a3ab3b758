// `fprate`: the false-positive rate of a trained run on background-only images streamed from
// the simulator straight into batched inference — nothing stored, so 10⁶ images (≈ 1 Hz per
// module of sensitivity) are possible. Every detection on a background-only image is a false
// positive. The state (images done, a fine histogram of FP scores) is saved atomically every
// chunk, so a stopped measurement resumes where it stopped. A long stream splits into shards
// (`--shard i/n`, e.g. one Slurm array task each), each with its own histogram over its block of
// whole batches of the stream; `--merge` adds the shards' counts: the same table as one stream.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDataset } from '../data/store.js';
import { FPRATE_BACKGROUND_START, streamImagesParallel, streamImages, streamPixels, type StreamedImage, type StreamedPixels } from '../data/stream.js';
import { imageLayout } from '../sim/image.js';
import { SparseTensor, tidy } from '../torch/index.js';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { readJsonAsWritten } from '../util/json-file.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { predict, detectSparseBatch } from '../infer/predict.js';
import { openRun } from '../infer/open-run.js';
import { simulatorOf } from './evaluate.js';
import { fpPerImageToHz, hzPerFpPerImage, type TriggerOptions } from './efficiency.js';
import { storedBackground, tpImportInfo, windowsNote } from '../formats/tps/import.js';
import { poissonInterval, poissonUpperLimit } from './intervals.js';
import { datasetSimulation, streamBackgroundTps } from '../trigger/baseline.js';
import { clusterTps, type Candidate, type ClusterParams } from '../trigger/cluster.js';
import { streamCount } from './stream-loop.js';
import { boxSumAdcDense, boxSumAdcPixels } from './box-adc.js';
import {
  ADC_BINS,
  adcBinOf,
  SCORE_BINS,
  shardRange,
  readFpState,
  fileDigest,
  jsonDigest,
  offerTop,
  mergeTops,
  type FpState,
  type FpShard,
} from './fprate-state.js';

export { ADC_BIN, ADC_BINS, SCORE_BINS, NOTHING_PASSES, scoreCutText, shardRange, type FpState, type FpShard } from './fprate-state.js';
/** Detections below this score are not counted at all (decode threshold). */
export const MIN_SCORE = 0.01;

export interface FpRow {
  threshold: number;
  fpCount: number;
  fpPerImage: number;
  hz: number;
  limitHz: number;
  limitKind: 'upper' | 'interval-high';
}

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
  /** Measure only shard `index` of `count` of the `images`-long stream (its own state file). */
  shard?: { index: number; count: number };
  /**
   * 'pixels': a sparse model reads the simulator's pixel lists (no dense image is made; needs
   * images at the network size); 'dense': images as for any model. Default: pixels where possible.
   */
  input?: 'pixels' | 'dense';
  /** Seconds between saves of the count so far (what a killed run resumes from). Default 10. */
  saveEverySeconds?: number;
  /** Told when a saved state is not reused (other weights or another stream): it starts over. */
  onNote?: (message: string) => void;
  /** How many of the highest-scoring images to keep in the state (`top`). Default DEFAULT_KEEP_TOP. */
  keepTop?: number;
}

/**
 * Images per inference batch of an fprate stream unless told. Larger batches were measured and
 * not taken (2026-12-07, a trained sparse-yolov3 of the lever's recipe, isolated pixels dropped,
 * 4 096 background images, `--parallel 2` as the plans run it, alternating): batch 16 275–277
 * images/s, 64 272–297 idle; beside a 2-core training 184–199 and 190–198. Only one process with
 * libtorch's two threads on a loaded machine gained (51 → 93 images/s: fewer thread hand-offs),
 * and each shard's peak RSS grows 0.57 → 0.87 GiB at 64. The counts are the same at any batch.
 */
export const DEFAULT_FP_BATCH = 16;

/** Highest-scoring background images an fprate state keeps by default: a 10⁶-image count at
 *  1.8 Hz per module has ≈ 20 FPs, so these are the images behind the lowest rates' cuts. */
export const DEFAULT_KEEP_TOP = 50;

/** Where a run's fprate count of a stream (or of one shard of it) is kept. */
export const fpStatePath = (runDir: string, seed: number, shard?: { index: number; count: number }) => statePathOf(runDir, seed, shard);
const statePathOf = (runDir: string, seed: number, shard?: { index: number; count: number }) =>
  join(runDir, 'eval', `fprate-seed${seed}${shard ? `-shard${shard.index}of${shard.count}` : ''}.json`);

/** An empty ΣADC × score histogram (FpState.adcCounts). */
export const emptyAdcCounts = (): number[][] => Array.from({ length: ADC_BINS }, () => new Array<number>(SCORE_BINS).fill(0));

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
      threshold,
      fpCount,
      fpPerImage: perImage,
      hz: fpPerImageToHz(perImage, trigger),
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
  const statePath = statePathOf(o.runDir, seed, o.shard);
  mkdirSync(join(o.runDir, 'eval'), { recursive: true });
  let shard: FpShard | undefined;
  if (o.shard) {
    const { index, count } = o.shard;
    if (!(Number.isInteger(index) && Number.isInteger(count) && count >= 1 && index >= 0 && index < count))
      throw new UserError(`--shard ${index}/${count}: expected i/n with 0 ≤ i < n`);
    shard = { index, count, totalImages: o.images, batch: o.batch, ...shardRange(index, count, o.images, o.batch) };
  }
  // What the count is of, by content: the checkpoint's bytes and the streamed configuration.
  const checkpointDigest = fileDigest(opened.checkpoint);
  const streamDigest = jsonDigest(sim.config);
  const fresh: FpState = {
    run: o.runDir,
    checkpoint: opened.checkpoint,
    checkpointDigest,
    streamDigest,
    seed,
    start: sim.numImages + FPRATE_BACKGROUND_START + (shard?.first ?? 0),
    images: 0,
    counts: new Array<number>(SCORE_BINS).fill(0),
    seconds: 0,
    adcCounts: emptyAdcCounts(),
    ...(shard ? { shard } : {}),
    top: { keep: o.keepTop ?? DEFAULT_KEEP_TOP, images: 0, list: [] },
  };
  const resume = (path: string): FpState | undefined => {
    const saved = readFpState(path);
    const other =
      saved.checkpointDigest === undefined
        ? 'no checkpoint digest (an older daqyolo wrote it)'
        : saved.checkpointDigest !== checkpointDigest
          ? `other weights (${saved.checkpoint} as it was then), not those of ${opened.checkpoint} now`
          : saved.streamDigest !== streamDigest || saved.start !== fresh.start
            ? "another simulated stream (the dataset's configuration changed)"
            : null;
    if (other) {
      o.onNote?.(`${path}: its ${saved.images} images were measured with ${other}; starting over`);
      return undefined;
    }
    if (shard && JSON.stringify(saved.shard) !== JSON.stringify(shard)) {
      throw new UserError(
        `${path} is shard ${JSON.stringify(saved.shard)}, not ${JSON.stringify(shard)} (same --images and --batch for every shard); delete it to start again`,
      );
    }
    // Reused whatever path reached it (relative, absolute, a moved run): the paths are only recorded.
    // A state of an older version has no list: it is kept from here on, over fewer images than the count.
    const keep = o.keepTop ?? saved.top?.keep ?? DEFAULT_KEEP_TOP;
    const top = saved.top ? { ...saved.top, keep, list: saved.top.list.slice(0, keep) } : { keep, images: 0, list: [] };
    return { ...saved, run: o.runDir, checkpoint: opened.checkpoint, top };
  };
  const target = shard ? shard.images : o.images;
  const layout = imageLayout(sim.config);
  const pixels = o.input !== 'dense' && opened.ctx.model.sparse && layout.height === opened.ctx.size && layout.width === opened.ctx.size;
  if (o.input === 'pixels' && !pixels)
    throw new UserError(
      `fprate: pixel-list input needs a sparse model at the image size (${opened.run.config.model.variant} at ${opened.ctx.size} px, images ${layout.height}×${layout.width})`,
    );
  const source = (from: number, count: number): AsyncIterable<StreamedImage | StreamedPixels> | Iterable<StreamedImage> => {
    const streamOpts = { config: sim.config, seed, start: fresh.start + from, count, mode: 'background' as const, reuseBuffer: o.workers === 0 };
    if (pixels) return streamPixels({ ...streamOpts, workers: o.workers, chunkSize: Math.max(o.batch, 64) });
    if (o.workers > 0) return streamImagesParallel({ ...streamOpts, workers: o.workers, chunkSize: Math.max(o.batch, 64) });
    // One simulation buffer reused for every image: keep a copy of each until its batch is run.
    return (function* () {
      for (const img of streamImages(streamOpts)) yield { ...img, image: img.image.slice() };
    })();
  };
  const ctx = opened.ctx;
  const pass = await streamCount<StreamedImage | StreamedPixels, FpState>({
    fresh,
    store: { path: statePath, resume, saveEverySeconds: o.saveEverySeconds },
    total: target,
    source,
    batch: o.batch,
    control: o.control,
    onProgress: o.onProgress,
    step: (batch, state) => {
      const detections = pixels
        ? tidy(() =>
            detectSparseBatch(
              ctx,
              SparseTensor.fromSortedPixels(batch as StreamedPixels[], layout.channels, layout.height, layout.width, ctx.inputScale, ctx.device),
              { scoreThreshold: MIN_SCORE },
            ),
          )
        : predict(ctx, batch as StreamedImage[], { scoreThreshold: MIN_SCORE });
      detections.forEach((dets, k) => {
        let best: (typeof dets)[number] | undefined;
        const im = batch[k]!;
        for (const d of dets) {
          const bin = Math.min(SCORE_BINS - 1, Math.floor(d.score * SCORE_BINS));
          state.counts[bin]!++;
          if (state.adcCounts) {
            const sumAdc = 'pixels' in im ? boxSumAdcPixels(im.pixels, im.values, im.channels, im.width, d) : boxSumAdcDense(im.image, im.width, im.height, d);
            state.adcCounts[adcBinOf(sumAdc)]![bin]!++;
          }
          if (!best || d.score > best.score) best = d;
        }
        if (best) offerTop(state.top!, { image: batch[k]!.index, score: best.score, box: [best.x1, best.y1, best.x2, best.y2] });
      });
      state.top!.images += batch.length;
    },
  });
  opened.model.dispose();
  const { state } = pass;
  const thresholds = o.thresholds ?? DEFAULT_THRESHOLDS;
  return { ...state, imagesPerSecond: pass.remaining && pass.elapsed ? pass.measured / pass.elapsed : 0, cl: 0.9, rows: fpTable(state, thresholds, o.trigger) };
}

const DEFAULT_THRESHOLDS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Whether a dataset holds imported TPs (its FP rate comes from its own background windows). */
export function isTpImport(data: string): boolean {
  const r = openDataset(data);
  try {
    return tpImportInfo(r.attrs) !== null;
  } finally {
    r.close();
  }
}

/**
 * The FP rate of a run on a stored background set: the background-only windows of an imported TP
 * dataset (images without a signal TP; every image of data without truth), all splits, at most
 * `images` of them. Hz per module with the dataset's own window.
 */
export async function measureStoredFpRate(o: {
  runDir: string;
  data: string;
  images: number;
  checkpoint?: string;
  batch: number;
  device?: string;
  thresholds?: number[];
  trigger?: TriggerOptions;
  onProgress?: (done: number, total: number) => void;
}): Promise<FpResult & { note: string }> {
  const opened = openRun(o.runDir, { checkpoint: o.checkpoint, device: o.device });
  const reader = openDataset(o.data);
  const info = tpImportInfo(reader.attrs)!;
  const counts = new Array<number>(SCORE_BINS).fill(0);
  const t0 = performance.now();
  let done = 0;
  try {
    const indices = storedBackground(
      info,
      reader,
      Array.from({ length: reader.numImages }, (_, i) => i),
    ).slice(0, o.images);
    const { channels, height, width } = reader;
    for (let at = 0; at < indices.length; at += o.batch) {
      const batch = indices.slice(at, at + o.batch);
      const dense = reader.readDense(batch);
      const plane = channels * height * width;
      const images = batch.map((_, k) => ({ image: dense.subarray(k * plane, (k + 1) * plane), channels, height, width }));
      for (const dets of predict(opened.ctx, images, { scoreThreshold: MIN_SCORE })) {
        for (const d of dets) counts[Math.min(SCORE_BINS - 1, Math.floor(d.score * SCORE_BINS))]!++;
      }
      done += batch.length;
      o.onProgress?.(done, indices.length);
    }
  } finally {
    reader.close();
    opened.model.dispose();
  }
  const trigger = { ...o.trigger, windowTicks: info.windowTicks, tickSeconds: info.tickUs * 1e-6 };
  const seconds = (performance.now() - t0) / 1000;
  const state: FpState = { run: o.runDir, checkpoint: opened.checkpoint, seed: 0, start: 0, images: done, counts, seconds };
  return {
    ...state,
    imagesPerSecond: seconds ? done / seconds : 0,
    cl: 0.9,
    rows: fpTable(state, o.thresholds ?? DEFAULT_THRESHOLDS, trigger),
    note: windowsNote(done, hzPerFpPerImage(trigger)),
  };
}

/**
 * Adds up the shards of one stream (eval/fprate-seed<seed>-shard<i>of<n>.json): every shard of the
 * split must be there, finished, measured with the same weights over the same stream. Writes the
 * sum as eval/fprate-seed<seed>.json (what one stream would have written) and returns its table.
 * Each `--parallel n` (or `--shard i/n`) split has its own files: `shards` names the split to merge;
 * without it, the one split there, or else the complete split written last (and a note says so).
 */
export function mergeFpShards(
  runDir: string,
  o: { seed?: number; shards?: number; thresholds?: number[]; trigger?: TriggerOptions; onNote?: (message: string) => void } = {},
): FpResult {
  const evalDir = join(runDir, 'eval');
  const all = existsSync(evalDir)
    ? readdirSync(evalDir)
        .filter((f) => /^fprate-seed\d+-shard\d+of\d+\.json$/.test(f))
        .sort()
    : [];
  const seeds = [...new Set(all.map((f) => Number(/seed(\d+)/.exec(f)![1])))];
  if (o.seed === undefined && seeds.length > 1) throw new UserError(`${evalDir}: shards of several streams (seeds ${seeds.join(', ')}): give --seed`);
  const seed = o.seed ?? seeds[0]!;
  const ofSeed = all.filter((f) => f.startsWith(`fprate-seed${seed}-shard`));
  if (ofSeed.length === 0) throw new UserError(`${evalDir}: no shard files fprate-seed${o.seed ?? '<seed>'}-shard<i>of<n>.json to merge`);
  const splits = [...new Set(ofSeed.map((f) => Number(/of(\d+)\.json$/.exec(f)![1])))].sort((a, b) => a - b);
  const load = (n: number) => ofSeed.filter((f) => f.endsWith(`of${n}.json`)).map((f) => ({ file: join(evalDir, f), state: readFpState(join(evalDir, f)) }));
  let count: number;
  if (o.shards !== undefined) {
    if (!splits.includes(o.shards))
      throw new UserError(`${evalDir}: no shard files fprate-seed${seed}-shard<i>of${o.shards}.json (splits there: ${splits.join(', ')} shards)`);
    count = o.shards;
  } else if (splits.length === 1) {
    count = splits[0]!;
  } else {
    const complete = splits.filter((n) => {
      try {
        checkSplit(evalDir, n, load(n));
        return true;
      } catch {
        return false;
      }
    });
    if (complete.length === 0)
      throw new UserError(`${evalDir}: shards of ${splits.join(', ')}-shard splits, none complete; give --shards n to see what one lacks`);
    const written = (n: number) => Math.max(...load(n).map((s) => statSync(s.file).mtimeMs));
    count = complete.sort((a, b) => written(b) - written(a))[0]!;
    o.onNote?.(`${evalDir}: splits of ${splits.join(', ')} shards; merging the ${count}-shard split (written last; --shards n merges another)`);
  }
  const shards = load(count);
  checkSplit(evalDir, count, shards);
  const first = shards[0]!.state;
  const counts = new Array<number>(SCORE_BINS).fill(0);
  for (const { state } of shards)
    state.counts.forEach((c, i) => {
      counts[i]! += c;
    });
  const merged: FpState = {
    run: runDir,
    checkpoint: first.checkpoint,
    checkpointDigest: first.checkpointDigest,
    streamDigest: first.streamDigest,
    seed,
    start: first.start - first.shard!.first,
    images: shards.reduce((a, s) => a + s.state.images, 0),
    counts,
    seconds: shards.reduce((a, s) => a + s.state.seconds, 0),
  };
  // The ΣADC histogram only if every shard has one (a shard resumed from an older state has none).
  if (shards.every((s) => s.state.adcCounts)) {
    const adc = emptyAdcCounts();
    for (const { state } of shards) state.adcCounts!.forEach((row, a) => row.forEach((c, i) => (adc[a]![i]! += c)));
    merged.adcCounts = adc;
  }
  const top = mergeTops(shards.map((s) => s.state.top));
  if (top) merged.top = top;
  writeJsonAtomic(statePathOf(runDir, seed), merged);
  return {
    ...merged,
    imagesPerSecond: merged.seconds ? merged.images / merged.seconds : 0,
    cl: 0.9,
    rows: fpTable(merged, o.thresholds ?? DEFAULT_THRESHOLDS, o.trigger),
  };
}

/** Throws unless the files of the `count`-shard split are every shard, finished, of one stream and one set of weights. */
function checkSplit(evalDir: string, count: number, shards: { file: string; state: FpState }[]): void {
  const first = shards[0]!.state;
  const seen = new Set<number>();
  for (const { file, state } of shards) {
    const s = state.shard;
    if (!s || s.count !== count || !file.endsWith(`shard${s.index}of${count}.json`))
      throw new UserError(`${file}: holds ${s ? `shard ${s.index}/${s.count}` : 'no shard'}, not the one its name says`);
    if (s.totalImages !== first.shard!.totalImages || s.batch !== first.shard!.batch) {
      throw new UserError(
        `${file}: shard of a different split (${JSON.stringify(s)}; expected ${count} shards of ${first.shard!.totalImages} images in batches of ${first.shard!.batch})`,
      );
    }
    if (
      state.checkpointDigest !== first.checkpointDigest ||
      state.streamDigest !== first.streamDigest ||
      state.start - s.first !== first.start - first.shard!.first
    ) {
      throw new UserError(`${file}: measured with other weights or another stream than ${shards[0]!.file}; run the shards again with one checkpoint`);
    }
    if (state.images < s.images)
      throw new UserError(`${file}: shard ${s.index}/${count} is unfinished (${state.images} of ${s.images} images); run it again to finish`);
    seen.add(s.index);
  }
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  if (missing.length)
    throw new UserError(`${evalDir}: shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing (fprate --shard i/${count})`);
}

/** The baseline trigger's FP rate on streamed background-only images: every candidate's ΣADC is kept
 *  (a few per thousand images), so any threshold can be read afterwards; resumable like the network's. */
export interface BaselineFpState {
  data: string;
  seed: number;
  start: number;
  params: ClusterParams;
  images: number;
  sumAdc: number[];
  seconds: number;
  /** Other clusterings of the same images (`--cluster-variants`): the control that asks whether a
   *  wider cluster alone does what the network's boxes do. Absent in a plain baseline stream. */
  variants?: BaselineVariantCounts[];
}

/** One other clustering's background candidates: only the largest ΣADC are kept, because a wide
 *  clustering links ³⁹Ar TPs into several candidates per image (10⁶ images would be millions). */
export interface BaselineVariantCounts {
  params: ClusterParams;
  /** At least the `keep` largest ΣADC of all its candidates so far (unordered; read with variantSumAdc). */
  sumAdc: number[];
  /** How many of the largest are kept: counts are exact above the keep-th largest. */
  keep: number;
  /** Candidates dropped below the kept ones. */
  dropped: number;
}

/** Kept per variant: 20 000 covers every rate up to ≈ 1.3 kHz per module at 10⁶ images (1.8 Hz is ≈ 27 FPs). */
export const VARIANT_KEEP = 20_000;

/** Keeps a variant's list bounded: past twice `keep`, the `keep` largest stay (the top of the top is the top). */
function trimVariant(v: BaselineVariantCounts): void {
  if (v.sumAdc.length <= 2 * v.keep) return;
  v.sumAdc.sort((a, b) => b - a);
  v.dropped += v.sumAdc.length - v.keep;
  v.sumAdc.length = v.keep;
}

/** A variant as a baseline FP state the threshold code reads: its `keep` largest ΣADC, and whether
 *  any smaller were dropped (then a cut at or below the smallest kept one cannot be counted). */
export function variantSumAdc(v: BaselineVariantCounts): { sumAdc: number[]; truncated: boolean } {
  const desc = [...v.sumAdc].sort((a, b) => b - a);
  const truncated = v.dropped > 0 || desc.length > v.keep;
  return { sumAdc: truncated ? desc.slice(0, v.keep) : desc, truncated };
}
/** A baseline-fprate state file checked when resumed: a damaged one is one line naming the file and the field. */
const clusterParamsSchema = z.object({
  channelTolerance: z.number(),
  maxDtTicks: z.number(),
  minHits: z.number(),
  minChannels: z.number(),
  minSumAdc: z.number(),
});
const baselineFpStateSchema = z.object({
  data: z.string(),
  seed: z.number().int().min(0),
  start: z.number().int().min(0),
  params: clusterParamsSchema,
  images: z.number().int().min(0),
  sumAdc: z.array(z.number()),
  seconds: z.number().min(0),
  variants: z
    .array(
      z.object({
        params: clusterParamsSchema,
        sumAdc: z.array(z.number()),
        keep: z.number().int().min(1),
        dropped: z.number().int().min(0),
      }),
    )
    .optional(),
});
// Every state the stream saves passes (the compiler checks BaselineFpState against the schema).
type Accepts<Schema extends z.ZodTypeAny, Written extends z.input<Schema>> = Written;
export type _WrittenBaselineFpStatePasses = Accepts<typeof baselineFpStateSchema, BaselineFpState>;

/** A baseline-fprate state file (e.g. a plan's endpoint/baseline-fprate.json), checked. */
export function readBaselineFpState(path: string): BaselineFpState {
  return readJsonAsWritten<BaselineFpState>(path, baselineFpStateSchema);
}

/**
 * Several baseline FP states of one stream (the same dataset's simulation, seed, start, images and
 * clustering; e.g. a grid of --cluster-variants streamed in two passes) as one: the first state's
 * counts with every file's variants. A file of another stream is refused, naming it and the field.
 */
export function readBaselineFpStates(paths: readonly string[]): BaselineFpState {
  const [first, ...rest] = paths.map((p) => ({ path: p, state: readBaselineFpState(p) }));
  if (!first) throw new UserError('no baseline FP state given');
  const merged: BaselineFpState = { ...first.state, variants: [...(first.state.variants ?? [])] };
  for (const { path, state } of rest) {
    for (const field of ['seed', 'start', 'images', 'params', 'sumAdc'] as const)
      if (JSON.stringify(state[field]) !== JSON.stringify(first.state[field]))
        throw new UserError(
          `${path}: field ${field} differs from ${first.path}'s: not the same background stream (streams to merge need the same dataset, seed, images and clustering)`,
        );
    merged.variants!.push(...(state.variants ?? []));
  }
  return merged;
}

export interface BaselineFpResult extends BaselineFpState {
  imagesPerSecond: number;
  cl: number;
  rows: FpRow[];
}

export async function measureBaselineFpRate(o: {
  data: string;
  images: number;
  params: ClusterParams;
  /** Other clusterings of the same images, counted in the same pass (their largest ΣADC kept). */
  variants?: readonly ClusterParams[];
  /** Largest ΣADC kept per variant (default VARIANT_KEEP). */
  variantKeep?: number;
  seed?: number;
  workers: number;
  state?: string;
  thresholds?: number[];
  trigger?: TriggerOptions;
  control?: { stop: boolean };
  onProgress?: (done: number, total: number) => void;
}): Promise<BaselineFpResult> {
  if (!existsSync(o.data)) throw new UserError(`${o.data}: dataset not found`);
  const reader = openDataset(o.data);
  const sim = datasetSimulation(reader);
  reader.close();
  const seed = o.seed ?? sim.seed;
  const statePath = o.state ?? join(dirname(o.data), `baseline-fprate-seed${seed}.json`);
  const keep = o.variantKeep ?? VARIANT_KEEP;
  const fresh: BaselineFpState = { data: o.data, seed, start: sim.numImages + FPRATE_BACKGROUND_START, params: o.params, images: 0, sumAdc: [], seconds: 0 };
  if (o.variants?.length) fresh.variants = o.variants.map((params) => ({ params, sumAdc: [], keep, dropped: 0 }));
  const variantsText = (v: readonly { params: ClusterParams }[] | undefined) => JSON.stringify((v ?? []).map((x) => x.params));
  // Without `variants` a saved state's own are kept and counted on (the budget plan resumes a
  // stream made with --cluster-variants); asked for, they must be the saved ones.
  let variants = o.variants;
  const resume = (path: string): BaselineFpState => {
    const saved = readBaselineFpState(path);
    if (JSON.stringify(saved.params) !== JSON.stringify(o.params))
      throw new UserError(`${path} was measured with other cluster parameters (${JSON.stringify(saved.params)}); delete it to start again`);
    if (o.variants === undefined) {
      variants = saved.variants?.map((v) => v.params);
      return saved;
    }
    if (variantsText(saved.variants) !== variantsText(fresh.variants) || saved.variants?.some((v) => v.keep !== keep))
      throw new UserError(
        `${path}: field variants holds other clusterings (${variantsText(saved.variants)}) than asked (${variantsText(fresh.variants)}); delete it to start again`,
      );
    return saved;
  };
  // Candidates come image by image (a few per thousand images); progress, saves and stops every 256.
  // Each image's TPs are clustered by the baseline and by every variant before the next is simulated.
  const pass = await streamCount<Candidate[][], BaselineFpState>({
    fresh,
    store: { path: statePath, resume },
    total: o.images,
    batch: 256,
    control: o.control,
    onProgress: o.onProgress,
    source: async function* (from, count) {
      const all = [o.params, ...(variants ?? [])];
      for await (const tps of streamBackgroundTps(sim, count, { workers: o.workers, start: fresh.start + from, seed }))
        yield all.map((p) => clusterTps(tps, tps.channel.length, p, sim.layout));
    },
    step: (batch, state) => {
      for (const [cands, ...others] of batch) {
        for (const c of cands!) state.sumAdc.push(c.sumAdc);
        others.forEach((cs, k) => {
          const v = state.variants![k]!;
          for (const c of cs) v.sumAdc.push(c.sumAdc);
        });
      }
      state.variants?.forEach(trimVariant);
    },
  });
  const { state, elapsed } = pass;
  const thresholds = o.thresholds ?? [1, 2, 4, 8, 16, 32, 64].map((f) => f * o.params.minSumAdc);
  const rows = fpRows(state.images, thresholds, (t) => state.sumAdc.filter((x) => x >= t).length, o.trigger ?? {}, 0.9);
  return { ...state, imagesPerSecond: elapsed > 0 ? pass.measured / elapsed : 0, cl: 0.9, rows };
}
