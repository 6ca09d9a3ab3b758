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
import { efficiencyOf, mapDigest, mapOf, pairedBinomialStdErr, pairedBootstrap, type DeltaBootstrap, type PairedInteractions } from '../eval/paired.js';
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

export interface RateComparison {
  targetHz: number;
  a: RateSide;
  b: RateSide;
  flat: FigureComparison & { analyticDeltaStdErr: number | null };
  supernova: FigureComparison;
}

export interface CompareReport {
  a: RunSide;
  b: RunSide;
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
  map: FigureComparison & { definition: string };
  rates: RateComparison[];
  bootstrap: { resamples: number; seed: number; unit: string; seconds: number };
  warnings: string[];
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
  o: CompareOptions,
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

export async function compareRuns(o: CompareOptions): Promise<CompareReport> {
  const note = o.onNote ?? (() => {});
  const trainedData = checkSameData(o.runA, o.runB);
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
  const runs: OpenedRun[] = [];
  try {
    for (const dir of [o.runA, o.runB]) runs.push(openRun(dir, { checkpoint: o.checkpoint, device: o.device }));
    const opened = [runs[0]!, runs[1]!] as const;
    for (const r of opened) checkCompatible(r, reader);

    // The truth of every evaluation image once: interactions and (for the TP rule) the TPs' pixels and owners.
    const simCache = {};
    const truth = indices.map((idx) => ({
      interactions: triggerInteractions(reader, idx),
      ...(trigger.match === 'tps' ? { tps: pixelTps(sim.layout, datasetImageTps(reader, sim, idx, simCache)) } : {}),
    }));

    // Both runs over the same images, one after the other through one loader.
    const loader = new BatchLoader({ path: data, workers: o.workers, prefetch: 2, pool: new Int32Array(0) });
    const passes: Awaited<ReturnType<typeof predictSplit>>[] = [];
    try {
      passes.push(await predictSplit(opened[0], loader, indices, o, 0, 'A'));
      passes.push(await predictSplit(opened[1], loader, indices, o, -10 * indices.length - 10, 'B'));
    } finally {
      await loader.close();
    }
    const signal = passes.map((p) => truth.map((t, k): TriggerImage => ({ ...t, detections: p.candidates[k]! })));
    const scored: ScoredImage[][] = signal.map((images) => images.map((im) => scoreImage(im, trigger)));

    // The interactions inside the Eν range, each with its image, bin and best matched score per run.
    const image: number[] = [];
    const bin: number[] = [];
    const bestA: number[] = [];
    const bestB: number[] = [];
    truth.forEach((t, i) =>
      t.interactions.forEach((it, j) => {
        const b = energyBin(it.energyMeV, edges);
        if (b < 0) return;
        image.push(i);
        bin.push(b);
        bestA.push(scored[0]![i]!.best[j]!);
        bestB.push(scored[1]![i]!.best[j]!);
      }),
    );
    const paired: PairedInteractions = {
      image: Int32Array.from(image),
      bin: Int32Array.from(bin),
      bestA: Float64Array.from(bestA),
      bestB: Float64Array.from(bestB),
    };
    const binWeights = spectrumBinWeights(
      edges.slice(0, -1).map((lo, b) => ({ loMeV: lo, hiMeV: edges[b + 1]! })),
      trigger.spectrum,
    );

    // Each run's FP histogram: its own fprate state, or the background images streamed here (once,
    // for both). Imported TPs have no stream: the split's own background windows (images without a
    // signal TP, as evaluate takes them), whose candidates both passes above already hold.
    const histograms = stream ? opened.map((r) => fpHistogram(r, jsonDigest(stream.config), note)) : [null, null];
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
    if (paired.image.length < MIN_EVAL_INTERACTIONS)
      warnings.push(
        `only ${paired.image.length} evaluation interactions in ${edges[0]}–${edges[edges.length - 1]} MeV (issue 27 asks for ≥ ${MIN_EVAL_INTERACTIONS}): simulate more images or a larger evaluation split`,
      );

    // Full-sample figures by the project's own functions; the bootstrap recomputes them per resample.
    const mapAll = passes.map((p) => evaluateDetections(p.map).map50AllPoint);
    const digests = passes.map((p) => mapDigest(p.map));
    const statistics = [(m: Int32Array | null) => [mapOf(digests[0]!, m), mapOf(digests[1]!, m)] as [number | null, number | null]];
    const rates = (o.ratesHz ?? DEFAULT_COMPARE_RATES_HZ).map((targetHz) => {
      const sides = [0, 1].map((s) => rateSide(targetHz, sources[s]!.images, counts[s]!, signal[s]!, scored[s]!, opened[s]!.dir, trigger));
      const [ta, tb] = sides.map((x) => x.threshold);
      const eff = (best: Float64Array, t: number, m: Int32Array | null = null) => efficiencyOf(paired, best, t, binWeights, m);
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
      return { targetHz, sides, full, at: reachable ? at : null, analytic };
    });

    // The paired bootstrap: every figure on the same resamples.
    const t0 = performance.now();
    const boot = o.bootstrap > 0 ? pairedBootstrap(indices.length, statistics, { resamples: o.bootstrap, seed: o.seed }) : null;
    const seconds = (performance.now() - t0) / 1000;
    const figure = (a: number | null, b: number | null, k: number | null): FigureComparison => {
      const bs = boot && k !== null ? boot[k]! : null;
      const delta = a !== null && b !== null ? b - a : null;
      return { a, b, delta, bootstrap: bs, withinTwoSigma: bs?.stdErr != null && delta !== null ? Math.abs(delta) <= 2 * bs.stdErr : null };
    };
    const figures: CompareReport['rates'] = rates.map((r) => ({
      targetHz: r.targetHz,
      a: r.sides[0]!,
      b: r.sides[1]!,
      flat: { ...figure(r.full[0]?.flat ?? null, r.full[1]?.flat ?? null, r.at), analyticDeltaStdErr: r.analytic },
      supernova: figure(r.full[0]?.supernova ?? null, r.full[1]?.supernova ?? null, r.at === null ? null : r.at + 1),
    }));
    const side = (s: number): RunSide => ({
      run: opened[s]!.dir,
      checkpoint: opened[s]!.checkpoint,
      variant: opened[s]!.run.config.model.variant,
      thresholdSource: sources[s]!,
    });
    return {
      a: side(0),
      b: side(1),
      data,
      split,
      images: indices.length,
      interactions: paired.image.length,
      energyRangeMeV: [edges[0]!, edges[edges.length - 1]!],
      match: trigger.match!,
      matchRule: matchRuleText(trigger),
      spectrum: SPECTRUM_MODEL,
      hzPerFpPerImage: hzPerFpPerImage(trigger),
      map: {
        definition: "mAP@0.5, VOC all-point (evaluate's headline mAP; infer/map.ts)",
        ...figure(mapAll[0] ?? null, mapAll[1] ?? null, 0),
      },
      rates: figures,
      bootstrap: { resamples: o.bootstrap, seed: o.seed, unit: 'evaluation images, drawn with replacement; thresholds held fixed', seconds },
      warnings,
    };
  } finally {
    for (const r of runs) r.model.dispose();
    reader.close();
  }
}
