// `daqyolo compare`: two trained runs on the same evaluation images, paired (issue 27, "accuracy
// parity": sparse-yolov3 against yolov3 on the same data and seed). For A, B and Δ = B − A: mAP@0.5,
// and the trigger efficiency (flat in 1–70 MeV and over the supernova spectrum) at FP rates per
// module, each run at its own score threshold for the rate; errors by a paired bootstrap over the
// evaluation images with the thresholds held fixed (eval/paired.ts).
//
// Each run's threshold for a rate comes from its own FP histogram when it has one — an `fprate`
// state (eval/fprate-seed<seed>.json, one stream or merged shards) measured with the same
// checkpoint on this dataset's simulated stream — and otherwise from `background` background-only
// images streamed here (the images `evaluate` streams), the same images for both runs.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { openDataset, type DatasetIdentity } from '../data/store.js';
import { BatchLoader } from '../data/loader.js';
import { EVALUATE_BACKGROUND_START, streamImages, type StreamedImage } from '../data/stream.js';
import type { SplitName } from '../data/splits.js';
import { forEachPredictedBatch, mapImage, predict } from '../infer/predict.js';
import { openRun, checkCompatible, type OpenedRun } from '../infer/open-run.js';
import { evaluateDetections, type MapImage } from '../infer/map.js';
import { readResolvedRun, type ResolvedRun } from '../schema/run.js';
import { datasetImageTps, datasetSimulation, pixelTps, triggerInteractions } from '../trigger/baseline.js';
import { storedBackground, tpImportInfo } from '../formats/tps/import.js';
import { isSimulated, simulatorOf } from '../eval/evaluate.js';
import { countAbove, MIN_SCORE, NOTHING_PASSES, SCORE_BINS } from '../eval/fprate.js';
import { fileDigest, jsonDigest, readFpState } from '../eval/fprate-state.js';
import { streamCount } from '../eval/stream-loop.js';
import {
  DEFAULT_ENERGY_EDGES_MEV,
  DEFAULT_MATCH,
  efficiencyByEnergy,
  energyBin,
  fpPerImageToHz,
  hzPerFpPerImage,
  matchRuleText,
  scoreImage,
  spectrumBinWeights,
  SPECTRUM_MODEL,
  type ScoredImage,
  type TriggerImage,
  type TriggerOptions,
} from '../eval/efficiency.js';
import {
  efficiencyOf,
  mapDigest,
  mapOf,
  pairedBinomialStdErr,
  pairedBootstrap,
  type DeltaBootstrap,
  type MapDigest,
  type Multiplicity,
  type PairedInteractions,
  type PairedStatistic,
} from '../eval/paired.js';
import { normalQuantile, studentTQuantile } from '../eval/intervals.js';
import { thresholdForRate } from './endpoint.js';

/** The floor: fewer evaluation interactions than this and the comparison says so. */
export const MIN_EVAL_INTERACTIONS = 1000;
export const DEFAULT_COMPARE_RATES_HZ: readonly number[] = [10, 100];

export interface CompareOptions {
  runA: string;
  runB: string;
  /** Evaluation dataset (default: the one both runs were trained on). */
  data?: string;
  split?: SplitName;
  checkpoint?: string;
  ratesHz?: readonly number[];
  /** Bootstrap resamples (0: none). */
  bootstrap: number;
  seed: number;
  /** Background-only images to stream for a run without a usable fprate histogram. */
  background: number;
  batch: number;
  workers: number;
  device?: string;
  /** Images of the split to use at most (0 = all). */
  limit?: number;
  trigger?: TriggerOptions;
  onProgress?: (done: number, total: number, phase: string) => void;
  onNote?: (message: string) => void;
}

/** Where a run's threshold for the rates came from. */
export interface ThresholdSource {
  /** fprate: a run's fprate state; background: streamed here; stored: the split's own background windows (imported TPs). */
  kind: 'fprate' | 'background' | 'stored';
  /** The fprate state file (kind fprate). */
  file?: string;
  images: number;
}

export interface RunSide {
  run: string;
  checkpoint: string;
  variant: string;
  thresholdSource: ThresholdSource;
}

/** A/B/Δ of one figure on the whole sample, with the bootstrap of Δ. */
export interface FigureComparison {
  a: number | null;
  b: number | null;
  delta: number | null;
  bootstrap: DeltaBootstrap | null;
  /** |Δ| ≤ 2 σ(Δ) (null without a bootstrap error). */
  withinTwoSigma: boolean | null;
}

export interface RateSide {
  threshold: number | null;
  fpCount: number;
  fpHz: number;
  fpHzInterval: [number, number];
  /** Why the rate has no threshold (null when it has one). */
  unreachable: string | null;
  /** Why the threshold passes nothing, when it does: the top score bin alone exceeds the rate (null otherwise). */
  nothingPasses: string | null;
  /** Binomial errors of the run's own figures (as evaluate prints them). */
  flatStdErr: number | null;
  supernovaStdErr: number | null;
  /**
   * The flat efficiency where the cut would sit were the true FP rate at this one either end of
   * its 90 % interval: then the target's cut is where the histogram counts target × counted / upper
   * (a tighter cut) or target × counted / lower (a looser one). The bootstrap holds thresholds fixed,
   * so this is the part of the figure's uncertainty the background sample adds: with a few FPs
   * (3 at 10 Hz from 30 000 images) it can exceed the bootstrap's. Null where the rate has no cut;
   * an end is null where the histogram cannot show its rate.
   */
  flatOverFpInterval: [number | null, number | null] | null;
}

/** An Eν bin of the evaluation interactions and how many it holds. */
export interface EnergyRange {
  loMeV: number;
  hiMeV: number;
  interactions: number;
}

export interface RateComparison {
  targetHz: number;
  a: RateSide;
  b: RateSide;
  flat: FigureComparison & { analyticDeltaStdErr: number | null };
  supernova: FigureComparison;
  /** The efficiency in each Eν bin, A, B and Δ with the same bootstrap (empty where a run has no cut): where one network finds more. */
  byEnergy: (FigureComparison & EnergyRange)[];
}

/** What a comparison was made on, pair or groups: the sample, the rule and the bootstrap. */
export interface ComparisonSample {
  data: string;
  split: SplitName;
  images: number;
  /** Evaluation interactions inside the Eν range (those every efficiency is over). */
  interactions: number;
  energyRangeMeV: [number, number];
  match: string;
  matchRule: string;
  spectrum: string;
  hzPerFpPerImage: number;
  bootstrap: { resamples: number; seed: number; unit: string; seconds: number };
  warnings: string[];
}

export interface CompareReport extends ComparisonSample {
  a: RunSide;
  b: RunSide;
  map: FigureComparison & { definition: string };
  rates: RateComparison[];
}

/** The dataset a run was trained on: its path and, for runs that recorded it, its identity (digest, split sizes). */
function trainedOn(runDir: string): { cfgPath: string; run: ResolvedRun & { dataPath?: string; dataset?: DatasetIdentity }; path: string } {
  const cfgPath = join(runDir, 'config.json');
  if (!existsSync(cfgPath)) throw new UserError(`${runDir}: not a run directory (no config.json)`);
  // What train wrote beside the resolved run: the dataset's path and identity (resolvedRunSchema checks both).
  const run = readResolvedRun(cfgPath) as ResolvedRun & { dataPath?: string; dataset?: DatasetIdentity };
  return { cfgPath, run, path: run.dataPath ?? resolve(run.config.data) };
}

/**
 * Refuses two runs not trained on one dataset with one evaluation split: a paired comparison is
 * only a comparison of networks when everything else is the same. Runs that recorded the dataset's
 * identity are compared by its digest (content and splits); older runs by the dataset's path.
 */
export function checkSameData(runA: string, runB: string): string {
  const a = trainedOn(runA);
  const b = trainedOn(runB);
  const show = (t: typeof a) => {
    const id = t.run.dataset;
    return id ? `${t.path} (digest ${id.digest}, splits train/val/eval ${id.splits.train}/${id.splits.val}/${id.splits.eval})` : t.path;
  };
  const idA = a.run.dataset;
  const idB = b.run.dataset;
  const same = idA && idB ? idA.digest === idB.digest : a.path === b.path;
  if (!same) {
    const what =
      idA && idB && idA.images === idB.images && idA.boxes === idB.boxes && JSON.stringify(idA.splits) !== JSON.stringify(idB.splits)
        ? 'evaluation splits'
        : 'datasets';
    throw new UserError(
      `compare: different ${what}: ${a.cfgPath} was trained on ${show(a)}, ${b.cfgPath} on ${show(b)}; a paired comparison needs both runs trained on one dataset and split`,
    );
  }
  return a.path;
}

/** A run's usable fprate histogram: a state of this checkpoint on this simulated stream, the one with the most images. */
function fpHistogram(opened: OpenedRun, streamDigest: string, note: (m: string) => void): { file: string; images: number; counts: number[] } | null {
  const dir = join(opened.dir, 'eval');
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => /^fprate-seed\d+\.json$/.test(f))
    .sort();
  if (files.length === 0) return null;
  const digest = fileDigest(opened.checkpoint);
  let best: { file: string; images: number; counts: number[] } | null = null;
  for (const f of files) {
    const file = join(dir, f);
    const s = readFpState(file);
    if (s.checkpointDigest !== digest) {
      note(`${file}: measured with other weights than ${opened.checkpoint}: not used`);
      continue;
    }
    if (s.streamDigest !== streamDigest) {
      note(`${file}: measured on another simulated stream than the evaluation dataset's: not used`);
      continue;
    }
    if (!best || s.images > best.images) best = { file, images: s.images, counts: s.counts };
  }
  return best;
}

/** One run's pass over the evaluation images: per image its detections (mAP) and its trigger candidates. */
async function predictSplit(
  opened: OpenedRun,
  loader: BatchLoader,
  indices: number[],
  o: Pick<CompareOptions, 'batch' | 'onProgress'>,
  idBase: number,
  label: string,
): Promise<{ map: MapImage[]; candidates: TriggerImage['detections'][] }> {
  const map: MapImage[] = [];
  const candidates: TriggerImage['detections'][] = [];
  await forEachPredictedBatch(
    loader,
    opened.ctx,
    indices,
    o.batch,
    (b, res, done) => {
      res.detections.forEach((dets, k) => {
        map.push(mapImage(dets, b.boxes[k]!));
        candidates.push(map[map.length - 1]!.detections);
      });
      o.onProgress?.(done, indices.length, label);
    },
    idBase,
  );
  return { map, candidates };
}

/** One run at one rate: the threshold its FP histogram allows (or why there is none) and the binomial errors of its figures there. */
function rateSide(
  targetHz: number,
  images: number,
  counts: number[],
  signal: readonly TriggerImage[],
  scored: readonly ScoredImage[],
  runDir: string,
  trigger: TriggerOptions,
): RateSide {
  const r = thresholdForRate({ images, counts }, targetHz, trigger);
  // Detections below MIN_SCORE are not in an FP histogram: no threshold is taken below it.
  const threshold = r.threshold === null ? null : Math.max(r.threshold, MIN_SCORE);
  const table = threshold === null ? null : efficiencyByEnergy(signal, threshold, trigger, scored);
  const unreachable =
    threshold !== null
      ? null
      : images === 0
        ? `no FP histogram (run \`daqyolo fprate ${runDir}\`, or give --background n)`
        : `not reachable with ${images} background images (90 % upper limit with no FP: ${r.fpHzInterval[1].toPrecision(3)} Hz; stream more with fprate)`;
  const top = countAbove(counts, (SCORE_BINS - 1) / SCORE_BINS);
  const nothingPasses =
    threshold === NOTHING_PASSES
      ? `the top score bin [${((SCORE_BINS - 1) / SCORE_BINS).toFixed(3)}, 1] alone holds ${top} FP → ${fpPerImageToHz(top / images, trigger).toPrecision(3)} Hz: the scores saturate, and no cut reaches ${targetHz} Hz but passing nothing`
      : null;
  const flatAt = (hz: number): number | null => {
    const t = thresholdForRate({ images, counts }, hz, trigger).threshold;
    return t === null ? null : efficiencyByEnergy(signal, Math.max(t, MIN_SCORE), trigger, scored).integrated.all.efficiency;
  };
  const [lower, upper] = r.fpHzInterval;
  const flatOverFpInterval: [number | null, number | null] | null =
    threshold === null || threshold === NOTHING_PASSES || r.fpCount === 0
      ? null
      : [flatAt((targetHz * r.fpHz) / upper), lower > 0 ? flatAt((targetHz * r.fpHz) / lower) : null];
  return {
    threshold,
    fpCount: r.fpCount,
    fpHz: r.fpHz,
    fpHzInterval: r.fpHzInterval,
    unreachable,
    nothingPasses,
    flatStdErr: table?.integrated.all.stdErr ?? null,
    supernovaStdErr: table?.supernova.stdErr ?? null,
    flatOverFpInterval,
  };
}

/** Everything a comparison takes but its runs. */
export type CompareSettings = Omit<CompareOptions, 'runA' | 'runB'>;

/** One run's pass over the evaluation split, reduced to what its figures and the bootstrap need. */
interface EvaluatedRun {
  side: RunSide;
  /** Its FP histogram (SCORE_BINS bins), from its fprate state, the streamed background or the split's background windows. */
  counts: number[];
  signal: TriggerImage[];
  scored: ScoredImage[];
  /** Each in-range interaction's best matched score (the order of `EvaluatedRuns.interactions`). */
  best: Float64Array;
  digest: MapDigest;
  /** mAP@0.5 on the whole split. */
  map: number | null;
}

/** Every run of a comparison over the same evaluation images. */
interface EvaluatedRuns {
  data: string;
  split: SplitName;
  images: number;
  trigger: TriggerOptions;
  edges: readonly number[];
  binWeights: Float64Array;
  /** The evaluation interactions inside the Eν range: their image and Eν bin. */
  interactions: Pick<PairedInteractions, 'image' | 'bin'>;
  runs: EvaluatedRun[];
  warnings: string[];
}

/**
 * Runs every run over the same evaluation images (one loader, one after the other) and gives each
 * its FP histogram: its own fprate state, or the background images streamed here (once, for all
 * runs that need them), or for imported TPs the split's own background windows.
 */
async function evaluateRuns(dirs: readonly string[], o: CompareSettings): Promise<EvaluatedRuns> {
  const note = o.onNote ?? (() => {});
  let trainedData = '';
  for (const dir of dirs.slice(1)) trainedData = checkSameData(dirs[0]!, dir);
  const data = o.data ?? trainedData;
  if (!existsSync(data)) throw new UserError(`${data}: dataset not found (give --data with the simulated dataset to evaluate on)`);
  const split = o.split ?? 'eval';
  const reader = openDataset(data);
  const tp = tpImportInfo(reader.attrs);
  const simulated = isSimulated(reader.attrs);
  if (!simulated && !tp?.hasTruth) {
    reader.close();
    throw new UserError(
      tp
        ? `${data}: imported TPs without truth files: no interactions to find, so nothing to compare (evaluate gives each run's FP rate on it)`
        : `${data}: no truth interactions (imported from pictures): compare needs a simulated dataset or imported TPs with truth`,
    );
  }
  let indices = Array.from(reader.split(split));
  if (o.limit) indices = indices.slice(0, o.limit);
  if (indices.length === 0) {
    reader.close();
    throw new UserError(`${data}: split '${split}' is empty`);
  }
  // Imported TPs: Hz per module with the dataset's own window, as evaluate converts them.
  const trigger: TriggerOptions = {
    ...o.trigger,
    match: o.trigger?.match ?? DEFAULT_MATCH,
    ...(tp ? { windowTicks: tp.windowTicks, tickSeconds: tp.tickUs * 1e-6 } : {}),
  };
  const edges = trigger.energyEdgesMeV ?? DEFAULT_ENERGY_EDGES_MEV;
  const stream = simulated ? simulatorOf(reader.attrs, data) : null;
  const sim = datasetSimulation(reader);
  const opened: OpenedRun[] = [];
  try {
    for (const dir of dirs) opened.push(openRun(dir, { checkpoint: o.checkpoint, device: o.device }));
    for (const r of opened) checkCompatible(r, reader);

    // The truth of every evaluation image once: interactions and (for the TP rule) the TPs' pixels and owners.
    const simCache = {};
    const truth = indices.map((idx) => ({
      interactions: triggerInteractions(reader, idx),
      ...(trigger.match === 'tps' ? { tps: pixelTps(sim.layout, datasetImageTps(reader, sim, idx, simCache)) } : {}),
    }));

    // Every run over the same images, one after the other through one loader.
    const label = (k: number) => (dirs.length === 2 ? ['A', 'B'][k]! : `run ${k + 1}/${dirs.length}`);
    const loader = new BatchLoader({ path: data, workers: o.workers, prefetch: 2, pool: new Int32Array(0) });
    const passes: Awaited<ReturnType<typeof predictSplit>>[] = [];
    try {
      for (let k = 0; k < opened.length; k++) passes.push(await predictSplit(opened[k]!, loader, indices, o, -k * (10 * indices.length + 10), label(k)));
    } finally {
      await loader.close();
    }
    const signal = passes.map((p) => truth.map((t, k): TriggerImage => ({ ...t, detections: p.candidates[k]! })));
    const scored: ScoredImage[][] = signal.map((images) => images.map((im) => scoreImage(im, trigger)));

    // The interactions inside the Eν range, each with its image, bin and best matched score per run.
    const image: number[] = [];
    const bin: number[] = [];
    const best: number[][] = opened.map(() => []);
    truth.forEach((t, i) =>
      t.interactions.forEach((it, j) => {
        const b = energyBin(it.energyMeV, edges);
        if (b < 0) return;
        image.push(i);
        bin.push(b);
        scored.forEach((s, k) => best[k]!.push(s[i]!.best[j]!));
      }),
    );
    const binWeights = spectrumBinWeights(
      edges.slice(0, -1).map((lo, b) => ({ loMeV: lo, hiMeV: edges[b + 1]! })),
      trigger.spectrum,
    );

    // Each run's FP histogram: its own fprate state, or the background images streamed here (once,
    // for all). Imported TPs have no stream: the split's own background windows (images without a
    // signal TP, as evaluate takes them), whose candidates the passes above already hold.
    const histograms = stream ? opened.map((r) => fpHistogram(r, jsonDigest(stream.config), note)) : opened.map(() => null);
    const sources: ThresholdSource[] = histograms.map((h) =>
      h ? { kind: 'fprate', file: h.file, images: h.images } : { kind: stream ? 'background' : 'stored', images: 0 },
    );
    const counts = histograms.map((h) => h?.counts ?? new Array<number>(SCORE_BINS).fill(0));
    if (tp) {
      const windows = new Set(storedBackground(tp, reader, indices));
      passes.forEach((p, s) => {
        p.candidates.forEach((dets, k) => {
          if (!windows.has(indices[k]!)) return;
          // As fprate counts: every candidate ≥ MIN_SCORE in a background window is a false positive.
          for (const d of dets) if (d.score >= MIN_SCORE) counts[s]![Math.min(SCORE_BINS - 1, Math.floor(d.score * SCORE_BINS))]!++;
        });
        sources[s]!.images = windows.size;
      });
      if (windows.size === 0) note(`${data} [${split}]: no background window (every image holds a signal TP): no FP rate, so no cut`);
    }
    const needBackground = opened.map((_, s) => histograms[s] === null && stream !== null);
    if (stream && needBackground.some(Boolean) && o.background > 0) {
      const { state } = await streamCount<StreamedImage, { images: number; seconds: number }>({
        fresh: { images: 0, seconds: 0 },
        total: o.background,
        batch: o.batch,
        source: (from, n) =>
          streamImages({ config: stream.config, seed: stream.seed, start: stream.numImages + EVALUATE_BACKGROUND_START + from, count: n, mode: 'background' }),
        step: (images) => {
          opened.forEach((r, s) => {
            if (!needBackground[s]) return;
            // As fprate counts: every detection ≥ MIN_SCORE on a background-only image is a false positive.
            for (const dets of predict(r.ctx, images, { scoreThreshold: MIN_SCORE }))
              for (const d of dets) counts[s]![Math.min(SCORE_BINS - 1, Math.floor(d.score * SCORE_BINS))]!++;
          });
        },
        onProgress: (done, total) => o.onProgress?.(done, total, 'background'),
      });
      needBackground.forEach((need, s) => {
        if (need) sources[s]!.images = state.images;
      });
    }

    const warnings: string[] = [];
    if (image.length < MIN_EVAL_INTERACTIONS)
      warnings.push(
        `only ${image.length} evaluation interactions in ${edges[0]}–${edges[edges.length - 1]} MeV (issue 27 asks for ≥ ${MIN_EVAL_INTERACTIONS}): simulate more images or a larger evaluation split`,
      );
    return {
      data,
      split,
      images: indices.length,
      trigger,
      edges,
      binWeights,
      interactions: { image: Int32Array.from(image), bin: Int32Array.from(bin) },
      runs: opened.map((r, s) => ({
        side: { run: r.dir, checkpoint: r.checkpoint, variant: r.run.config.model.variant, thresholdSource: sources[s]! },
        counts: counts[s]!,
        signal: signal[s]!,
        scored: scored[s]!,
        best: Float64Array.from(best[s]!),
        digest: mapDigest(passes[s]!.map),
        map: evaluateDetections(passes[s]!.map).map50AllPoint,
      })),
      warnings,
    };
  } finally {
    for (const r of opened) r.model.dispose();
    reader.close();
  }
}

/** One run at each rate: its cut, FP count and errors (rateSide). */
const rateSides = (e: EvaluatedRuns, r: EvaluatedRun, ratesHz: readonly number[]) =>
  ratesHz.map((hz) => rateSide(hz, r.side.thresholdSource.images, r.counts, r.signal, r.scored, r.side.run, e.trigger));

/** The evaluation interactions of one Eν bin, and each run's best scores restricted to them. */
interface EnergySlice extends EnergyRange {
  it: Pick<PairedInteractions, 'image' | 'bin'>;
  /** Per run (the order of EvaluatedRuns.runs): its best matched scores of this bin's interactions. */
  best: Float64Array[];
}

/** The interactions cut into the Eν bins, for the per-bin figures of both kinds of comparison. */
function energySlices(e: EvaluatedRuns): EnergySlice[] {
  return e.edges.slice(0, -1).map((loMeV, b) => {
    const pick = <T extends Int32Array | Float64Array>(xs: T): T => xs.filter((_, i) => e.interactions.bin[i] === b) as T;
    const image = pick(e.interactions.image);
    return {
      loMeV,
      hiMeV: e.edges[b + 1]!,
      interactions: image.length,
      it: { image, bin: pick(e.interactions.bin) },
      best: e.runs.map((r) => pick(r.best)),
    };
  });
}

/** The sample, rule and bootstrap fields of a report. */
function sampleOf(e: EvaluatedRuns, bootstrap: ComparisonSample['bootstrap']): ComparisonSample {
  return {
    data: e.data,
    split: e.split,
    images: e.images,
    interactions: e.interactions.image.length,
    energyRangeMeV: [e.edges[0]!, e.edges[e.edges.length - 1]!],
    match: e.trigger.match!,
    matchRule: matchRuleText(e.trigger),
    spectrum: SPECTRUM_MODEL,
    hzPerFpPerImage: hzPerFpPerImage(e.trigger),
    bootstrap,
    warnings: e.warnings,
  };
}

export async function compareRuns(o: CompareOptions): Promise<CompareReport> {
  const e = await evaluateRuns([o.runA, o.runB], o);
  const [A, B] = [e.runs[0]!, e.runs[1]!];
  const paired: PairedInteractions = { ...e.interactions, bestA: A.best, bestB: B.best };
  const ratesHz = o.ratesHz ?? DEFAULT_COMPARE_RATES_HZ;
  const [sidesA, sidesB] = [rateSides(e, A, ratesHz), rateSides(e, B, ratesHz)];

  // Full-sample figures by the project's own functions; the bootstrap recomputes them per resample.
  const statistics = [(m: Int32Array | null) => [mapOf(A.digest, m), mapOf(B.digest, m)] as [number | null, number | null]];
  const slices = energySlices(e);
  const rates = ratesHz.map((targetHz, k) => {
    const sides = [sidesA[k]!, sidesB[k]!];
    const [ta, tb] = sides.map((x) => x.threshold);
    const eff = (best: Float64Array, t: number, m: Int32Array | null = null) => efficiencyOf(paired, best, t, e.binWeights, m);
    const reachable = ta !== null && tb !== null;
    const full = [ta === null ? null : eff(paired.bestA, ta), tb === null ? null : eff(paired.bestB, tb)];
    const at = statistics.length;
    if (reachable) {
      statistics.push((m) => [eff(paired.bestA, ta, m).flat, eff(paired.bestB, tb, m).flat]);
      statistics.push((m) => [eff(paired.bestA, ta, m).supernova, eff(paired.bestB, tb, m).supernova]);
    }
    const analytic = reachable
      ? pairedBinomialStdErr(
          Array.from(paired.bestA, (x) => x >= ta),
          Array.from(paired.bestB, (x) => x >= tb),
        )
      : null;
    // Each Eν bin's efficiency: the flat efficiency over that bin's interactions alone.
    const byEnergy = reachable
      ? slices.map((sl) => {
          const inBin = (run: number, t: number, m: Int32Array | null = null) => efficiencyOf(sl.it, sl.best[run]!, t, e.binWeights, m).flat;
          statistics.push((m) => [inBin(0, ta, m), inBin(1, tb, m)]);
          return { range: { loMeV: sl.loMeV, hiMeV: sl.hiMeV, interactions: sl.interactions }, a: inBin(0, ta), b: inBin(1, tb), at: statistics.length - 1 };
        })
      : [];
    return { targetHz, sides, full, at: reachable ? at : null, analytic, byEnergy };
  });

  // The paired bootstrap: every figure on the same resamples.
  const t0 = performance.now();
  const boot = o.bootstrap > 0 ? pairedBootstrap(e.images, statistics, { resamples: o.bootstrap, seed: o.seed }) : null;
  const seconds = (performance.now() - t0) / 1000;
  const figure = (a: number | null, b: number | null, k: number | null): FigureComparison => {
    const bs = boot && k !== null ? boot[k]! : null;
    const delta = a !== null && b !== null ? b - a : null;
    return { a, b, delta, bootstrap: bs, withinTwoSigma: bs?.stdErr != null && delta !== null ? Math.abs(delta) <= 2 * bs.stdErr : null };
  };
  return {
    ...sampleOf(e, { resamples: o.bootstrap, seed: o.seed, unit: 'evaluation images, drawn with replacement; thresholds held fixed', seconds }),
    a: A.side,
    b: B.side,
    map: { definition: "mAP@0.5, VOC all-point (evaluate's headline mAP; infer/map.ts)", ...figure(A.map, B.map, 0) },
    rates: rates.map((r) => ({
      targetHz: r.targetHz,
      a: r.sides[0]!,
      b: r.sides[1]!,
      flat: { ...figure(r.full[0]?.flat ?? null, r.full[1]?.flat ?? null, r.at), analyticDeltaStdErr: r.analytic },
      supernova: figure(r.full[0]?.supernova ?? null, r.full[1]?.supernova ?? null, r.at === null ? null : r.at + 1),
      byEnergy: r.byEnergy.map((x) => ({ ...x.range, ...figure(x.a, x.b, x.at) })),
    })),
  };
}

/** Several trainings per side: two recipes, each run with several seeds. */
export interface GroupCompareOptions extends CompareSettings {
  groupA: readonly string[];
  groupB: readonly string[];
}

/**
 * One figure over two groups of runs. Δ = mean B − mean A; its error has two parts:
 * - the training's: the runs' spread about their own group's mean, pooled over both groups
 *   (nA + nB − 2 degrees of freedom, both recipes taken to scatter alike), × √(1/nA + 1/nB);
 * - the evaluation sample's: the paired bootstrap of mean B − mean A, every run on the same resamples.
 * σ = √(σ_training² + σ_sample²). The runs' spread on one sample already holds part of that sample's
 * noise (two trainings catch partly different interactions), so the sum errs on the wide side.
 */
export interface GroupFigure {
  /** Each run's figure on the whole evaluation sample, in the order given (null: the run has none, e.g. no cut for the rate). */
  a: (number | null)[];
  b: (number | null)[];
  /** Each group's mean (null when a run of it has no figure). */
  meanA: number | null;
  meanB: number | null;
  delta: number | null;
  /** Each group's own spread (sample standard deviation), null below two runs. */
  spreadA: number | null;
  spreadB: number | null;
  /** The spread pooled over both groups, and its degrees of freedom nA + nB − 2. */
  pooledSpread: number | null;
  runDegreesOfFreedom: number;
  /** σ of Δ from the training: pooledSpread × √(1/nA + 1/nB). */
  trainingStdErr: number | null;
  /** σ of Δ from the evaluation sample, with its intervals. */
  sampleBootstrap: DeltaBootstrap | null;
  /** √(σ_training² + σ_sample²) (the sample's part 0 without a bootstrap). */
  stdErr: number | null;
  /** Welch–Satterthwaite degrees of freedom of stdErr, the bootstrap's taken as infinite; null: infinite (no training spread). */
  degreesOfFreedom: number | null;
  /** Δ ± t σ, t Student's 97.5 % quantile at degreesOfFreedom (the normal one where infinite). */
  interval95: [number, number] | null;
  /** Whether interval95 holds 0: no difference at 95 % confidence. */
  zeroInInterval95: boolean | null;
}

export interface GroupRateComparison {
  targetHz: number;
  /** Each run's cut for the rate (as the pair comparison's A and B). */
  a: RateSide[];
  b: RateSide[];
  flat: GroupFigure;
  supernova: GroupFigure;
  /** The efficiency in each Eν bin over the groups (empty where a run has no cut). */
  byEnergy: (GroupFigure & EnergyRange)[];
}

export interface GroupCompareReport extends ComparisonSample {
  a: RunSide[];
  b: RunSide[];
  map: GroupFigure & { definition: string };
  rates: GroupRateComparison[];
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sumSquares = (xs: readonly number[]) => {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0);
};

/** Δ, its two errors and the 95 % interval of one figure from each run's value and the bootstrap of the means. */
export function groupFigure(a: readonly (number | null)[], b: readonly (number | null)[], sampleBootstrap: DeltaBootstrap | null): GroupFigure {
  const df = a.length + b.length - 2;
  const complete = (xs: readonly (number | null)[]): xs is number[] => xs.every((x) => x !== null);
  const spread = (xs: readonly (number | null)[]) => (complete(xs) && xs.length >= 2 ? Math.sqrt(sumSquares(xs) / (xs.length - 1)) : null);
  const none: GroupFigure = {
    a: [...a],
    b: [...b],
    meanA: complete(a) ? mean(a) : null,
    meanB: complete(b) ? mean(b) : null,
    delta: null,
    spreadA: spread(a),
    spreadB: spread(b),
    pooledSpread: null,
    runDegreesOfFreedom: df,
    trainingStdErr: null,
    sampleBootstrap,
    stdErr: null,
    degreesOfFreedom: null,
    interval95: null,
    zeroInInterval95: null,
  };
  if (!complete(a) || !complete(b) || df < 1) return none;
  const pooled = Math.sqrt((sumSquares(a) + sumSquares(b)) / df);
  const training = pooled * Math.sqrt(1 / a.length + 1 / b.length);
  const sample = sampleBootstrap?.stdErr ?? 0;
  const stdErr = Math.sqrt(training ** 2 + sample ** 2);
  const delta = mean(b) - mean(a);
  // Welch–Satterthwaite: ν = σ⁴ / (σ_training⁴ / df), the sample's term with infinite degrees of freedom.
  const dof = training > 0 ? stdErr ** 4 / (training ** 4 / df) : null;
  const t = dof === null ? normalQuantile(0.975) : studentTQuantile(0.975, dof);
  const interval95: [number, number] = [delta - t * stdErr, delta + t * stdErr];
  return {
    ...none,
    delta,
    pooledSpread: pooled,
    trainingStdErr: training,
    stdErr,
    degreesOfFreedom: dof,
    interval95,
    zeroInInterval95: interval95[0] <= 0 && 0 <= interval95[1],
  };
}

/** Mean of the values, null if one is null (a group's figure needs every run's). */
const groupMean = (xs: readonly (number | null)[]) => (xs.some((x) => x === null) ? null : mean(xs as number[]));

/** The bootstrap statistic of a group comparison's mAP: each group's mean mAP@0.5 on the resample. */
export function groupMapStatistic(a: readonly MapDigest[], b: readonly MapDigest[]): PairedStatistic {
  return (m) => [groupMean(a.map((d) => mapOf(d, m))), groupMean(b.map((d) => mapOf(d, m)))];
}

/** One run of a group at one rate: each interaction's best matched score and the run's own cut. */
export interface RunAtCut {
  best: Float64Array;
  cut: number;
}

/** The bootstrap statistics of a group comparison at one rate: each group's mean flat, then supernova, efficiency, each run at its own cut. */
export function groupEfficiencyStatistics(
  it: Pick<PairedInteractions, 'image' | 'bin'>,
  a: readonly RunAtCut[],
  b: readonly RunAtCut[],
  binWeights: Float64Array,
): [PairedStatistic, PairedStatistic] {
  const meanOf = (runs: readonly RunAtCut[], which: 'flat' | 'supernova', m: Multiplicity) =>
    groupMean(runs.map((r) => efficiencyOf(it, r.best, r.cut, binWeights, m)[which]));
  return [(m) => [meanOf(a, 'flat', m), meanOf(b, 'flat', m)], (m) => [meanOf(a, 'supernova', m), meanOf(b, 'supernova', m)]];
}

/**
 * Two recipes, each trained with several seeds, on the same evaluation images: each run's figures
 * at its own cuts, the groups' means and Δ with the training's and the sample's errors (GroupFigure).
 * A comparison between single trainings holds only the sample's error; at a tight rate two seeds of
 * one recipe can differ by several times that (docs/engine.md, "The dense network's own seed scatter").
 */
export async function compareGroups(o: GroupCompareOptions): Promise<GroupCompareReport> {
  const dirs = [...o.groupA, ...o.groupB];
  if (o.groupA.length === 0 || o.groupB.length === 0) throw new UserError('compare: each side needs at least one run');
  if (dirs.length < 3) throw new UserError('compare: a group comparison needs at least two runs on one side (one run each: give them as A B)');
  const seen = new Map<string, number>();
  for (const d of dirs) {
    const key = resolve(d);
    if (seen.has(key)) throw new UserError(`compare: ${d} is given twice; each run counts once in its group's spread`);
    seen.set(key, 1);
  }
  const e = await evaluateRuns(dirs, o);
  const nA = o.groupA.length;
  const [A, B] = [e.runs.slice(0, nA), e.runs.slice(nA)];
  const ratesHz = o.ratesHz ?? DEFAULT_COMPARE_RATES_HZ;
  const sides = e.runs.map((r) => rateSides(e, r, ratesHz));
  // The statistics the bootstrap recomputes per resample: each group's mean of the figure.
  const statistics: PairedStatistic[] = [
    groupMapStatistic(
      A.map((r) => r.digest),
      B.map((r) => r.digest),
    ),
  ];
  const slices = energySlices(e);
  const rates = ratesHz.map((targetHz, k) => {
    const cuts = e.runs.map((_, s) => sides[s]![k]!.threshold);
    const reachable = cuts.every((t) => t !== null);
    const at = statistics.length;
    if (reachable) {
      const side = (runs: EvaluatedRun[], first: number) => runs.map((r, s) => ({ best: r.best, cut: cuts[first + s]! }));
      statistics.push(...groupEfficiencyStatistics(e.interactions, side(A, 0), side(B, nA), e.binWeights));
    }
    const full = (which: 'flat' | 'supernova') =>
      e.runs.map((r, s) => (cuts[s] === null ? null : efficiencyOf(e.interactions, r.best, cuts[s]!, e.binWeights)[which]));
    // Each Eν bin's efficiency: the flat efficiency over that bin's interactions alone.
    const byEnergy = reachable
      ? slices.map((sl) => {
          const side = (first: number, n: number) => sl.best.slice(first, first + n).map((best, s) => ({ best, cut: cuts[first + s]! }));
          statistics.push(groupEfficiencyStatistics(sl.it, side(0, nA), side(nA, e.runs.length - nA), e.binWeights)[0]);
          const values = e.runs.map((_, s) => efficiencyOf(sl.it, sl.best[s]!, cuts[s]!, e.binWeights).flat);
          return { range: { loMeV: sl.loMeV, hiMeV: sl.hiMeV, interactions: sl.interactions }, values, at: statistics.length - 1 };
        })
      : [];
    return { targetHz, at: reachable ? at : null, flat: full('flat'), supernova: full('supernova'), byEnergy };
  });

  const t0 = performance.now();
  const boot = o.bootstrap > 0 ? pairedBootstrap(e.images, statistics, { resamples: o.bootstrap, seed: o.seed }) : null;
  const seconds = (performance.now() - t0) / 1000;
  const split = (xs: (number | null)[]) => [xs.slice(0, nA), xs.slice(nA)] as const;
  const figure = (xs: (number | null)[], k: number | null) => groupFigure(...split(xs), boot && k !== null ? boot[k]! : null);
  return {
    ...sampleOf(e, {
      resamples: o.bootstrap,
      seed: o.seed,
      unit: "evaluation images, drawn with replacement, the same draw for every run; thresholds held fixed; the statistic is each group's mean",
      seconds,
    }),
    a: A.map((r) => r.side),
    b: B.map((r) => r.side),
    map: {
      definition: "mAP@0.5, VOC all-point (evaluate's headline mAP; infer/map.ts)",
      ...figure(
        e.runs.map((r) => r.map),
        0,
      ),
    },
    rates: rates.map((r, k) => ({
      targetHz: r.targetHz,
      a: A.map((_, s) => sides[s]![k]!),
      b: B.map((_, s) => sides[nA + s]![k]!),
      flat: figure(r.flat, r.at),
      supernova: figure(r.supernova, r.at === null ? null : r.at + 1),
      byEnergy: r.byEnergy.map((x) => ({ ...x.range, ...figure(x.values, x.at) })),
    })),
  };
}
