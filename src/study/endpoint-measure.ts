// The end point's measurement, shared by the plans that quote a trigger's efficiency at fixed FP
// rates: a run trained to convergence (early stopping on the validation objective), its FP score
// histogram over many background-only images streamed through `fprate` (one shard per core on a
// CPU), the score threshold each rate allows and the efficiency there on the evaluation split by
// the TP rule (IoU and centre from the same inference); the clustering baseline the same way from
// its own ΣADC stream. Every stream is resumable and every stage skips what is done, so a killed
// plan resumes. The seed plan's end point (seed-plan-run.ts) and the training-budget curve
// (budget-plan-run.ts) both measure through these functions. What study/ may not import (the
// trainer, the baseline command, progress bars, signals) comes in as hooks.
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { deepMerge, parseTrainConfig, presets, type TrainConfig } from '../config/train-config.js';
import { runState } from '../run/run-dir.js';
import { setDotted } from '../sweep/plan.js';
import { evaluateRunOnData, type BaselineReport } from '../eval/evaluate.js';
import { DEFAULT_FP_BATCH, measureBaselineFpRate, measureFpRate, type FpResult } from '../eval/fprate.js';
import { defaultFpParallel, measureFpRatePool } from '../sweep/fprate-pool.js';
import { defaultDevice } from '../torch/index.js';
import { STUDY_EVAL_LOADER, type StudyProgress } from './default-study.js';
import { ENDPOINT_RULES, baselineThresholdForRate, endpointRow, thresholdForRate, unreachableRow, type EndpointRow } from './endpoint.js';
import type { ClusterParams } from '../trigger/cluster.js';
import type { MatchRule } from '../eval/efficiency.js';
import type { Variant } from '../model/yolo.js';
import { openDataset } from '../data/store.js';
import { baselineSettings, chooseClustering } from './cluster-tuning.js';

/** What the measurement needs from the caller (the CLI supplies them; a plan's hooks extend these). */
export interface MeasureHooks {
  /** Trains one run (train/trainer.ts's `train`, with the caller's signal handling); stops after its current batch when `control.stop` is set. */
  train(config: TrainConfig, resume: boolean, control: { stop: boolean }): Promise<unknown>;
  /** The clustering baseline's parameters for a dataset (cli/baseline.ts's `clusterParamsOfData`). */
  baselineParams(data: string): ClusterParams;
  /** The baseline trigger on the eval split (cli/baseline.ts's `runBaseline`). */
  baseline(o: {
    data: string;
    split: 'eval';
    params: ClusterParams;
    background: number;
    workers: number;
    match?: MatchRule;
    otherRules?: readonly MatchRule[];
  }): Promise<BaselineReport>;
  /** Stops `control` on the caller's signals (cli/signals.ts's `onStopSignals`) until `done()`. */
  onStop(control: { stop: boolean }, what: string): { done(): void };
  log(line: string): void;
  progress(label: string, total: number): StudyProgress;
}

/** One convergence training: the seed preset under the run, `values` (dotted keys) over it. */
export interface ConvergenceRun {
  runDir: string;
  data: string;
  variant: Variant;
  width: number;
  size: number;
  /** Most epochs; training stops earlier when the validation objective has not improved for `patience` epochs. */
  maxEpochs: number;
  patience: number;
  warmupEpochs: number;
  seed: number;
  device: string;
  /** Dotted training-config keys over the seed preset (an experiment's values, a trainLimit). */
  values: Record<string, unknown>;
  /** Names the config in a bad-value error. */
  label: string;
}

/** The training config of a convergence run. */
export function convergenceConfig(r: ConvergenceRun): TrainConfig {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.values)) setDotted(patch, k, v);
  const raw = deepMerge(
    deepMerge(presets.seed, {
      data: r.data,
      out: r.runDir,
      epochs: r.maxEpochs,
      warmupEpochs: r.warmupEpochs,
      seed: r.seed,
      device: r.device,
      model: { variant: r.variant, width: r.width, size: r.size },
      schedule: { earlyStopPatience: r.patience },
    }),
    patch,
  );
  return parseTrainConfig(raw, r.label);
}

/** Trains the run to convergence unless it is done: resumes a stopped one, restarts a broken one. */
export async function trainToConvergence(r: ConvergenceRun, h: MeasureHooks): Promise<void> {
  const state = runState(r.runDir);
  if (state === 'done') return;
  if (state === 'restart') rmSync(r.runDir, { recursive: true, force: true });
  const control = { stop: false };
  await h.train(convergenceConfig(r), state === 'resume', control);
  if (control.stop) throw new UserError('study interrupted; run the same command again to resume');
}

/** The network's FP score histogram over `images` background-only images (resumable; one shard per core on a CPU). */
export async function measureRunFpRate(o: { runDir: string; data: string; images: number; device: string }, h: MeasureHooks): Promise<FpResult> {
  const parallel = defaultFpParallel(defaultDevice(o.device === 'auto' ? undefined : o.device), o.images, DEFAULT_FP_BATCH);
  return interruptibleStream(h, 'fprate', o.images, async (control, onProgress) => {
    // data: the study's own dataset (the run's config names it where it was trained: another folder if the study moved).
    if (parallel === 1)
      return measureFpRate({
        runDir: o.runDir,
        images: o.images,
        data: o.data,
        checkpoint: 'best',
        batch: DEFAULT_FP_BATCH,
        workers: 1,
        device: o.device,
        control,
        onProgress,
        onNote: (m) => h.log(`note: ${m}`),
      });
    const pool = await measureFpRatePool({
      runDir: o.runDir,
      images: o.images,
      data: o.data,
      parallel,
      batch: DEFAULT_FP_BATCH,
      checkpoint: 'best',
      device: o.device,
      control,
      onProgress,
    });
    if (pool.stopped) throw new UserError(`study interrupted during fprate at ${pool.images} of ${o.images} images; run the same command again to resume`);
    return pool.result;
  });
}

/**
 * The network's efficiency on the evaluation split at the score threshold each rate allows (from
 * `fp`): by the TP rule, IoU and centre from one inference per rate; a rate the sample cannot
 * show is an unreachable row. Evaluations are written to the run's eval/ as `<prefix>-<rate>Hz.json`.
 */
export async function efficiencyAtRates(o: {
  runDir: string;
  data: string;
  fp: FpResult;
  rates: readonly number[];
  device: string;
  prefix: string;
}): Promise<EndpointRow[]> {
  const rows: EndpointRow[] = [];
  for (const targetHz of o.rates) {
    const t = thresholdForRate(o.fp, targetHz);
    if (t.threshold === null) {
      rows.push(unreachableRow(t));
      continue;
    }
    const ev = await evaluateRunOnData({
      runDir: o.runDir,
      data: o.data,
      split: 'eval',
      checkpoint: 'best',
      background: 0,
      ...STUDY_EVAL_LOADER,
      device: o.device,
      trigger: { scoreThreshold: t.threshold, match: ENDPOINT_RULES[0] },
      otherRules: ENDPOINT_RULES.slice(1),
      outName: `${o.prefix}-${targetHz}Hz`,
    });
    // The plans' datasets are simulated, so the trigger figures are always there.
    rows.push(endpointRow(t, [ev.trigger!, ...(ev.otherRules ?? [])]));
  }
  return rows;
}

/** The baseline at fixed rates: what endpoint.json and budget.json hold for it. */
export interface BaselineAtRates {
  algorithm: string;
  fpImages: number;
  rows: EndpointRow[];
  /** The clustering tuned on validation over the stream's other clusterings (budget plan, when its stream has them). */
  tuned?: TunedClusteringRow[];
}

/** At one rate: the clustering of highest validation efficiency among `settings`, on evaluation (cluster-tuning.ts). */
export interface TunedClusteringRow {
  targetHz: number;
  /** Clusterings tuned over (the stream's own and its variants). */
  settings: number;
  channelTolerance: number | null;
  maxDtTicks: number | null;
  threshold: number | null;
  fpCount: number;
  valEfficiency: number | null;
  efficiency: number | null;
  efficiencyErr: number | null;
}

/**
 * The trigger the network would replace at the same rates: the clustering baseline's FP rate from
 * every candidate's ΣADC on `images` background-only images (resumable in `state`), and its
 * efficiency on the evaluation split at the ΣADC cut each rate allows.
 */
export async function measureBaselineAtRates(
  o: {
    data: string;
    images: number;
    rates: readonly number[];
    state: string;
    /** Other clusterings to stream beside it (absent: a saved stream's own are counted on). */
    variants?: readonly Pick<ClusterParams, 'channelTolerance' | 'maxDtTicks'>[];
    /** Tune the clustering over the stream's variants on validation (the budget plan's control). */
    tune?: boolean;
  },
  h: MeasureHooks,
): Promise<BaselineAtRates> {
  const params = h.baselineParams(o.data);
  const fp = await interruptibleStream(h, 'baseline fprate', o.images, (control, onProgress) =>
    // The simulation threads do not change the stream (image i depends only on the seed and i).
    measureBaselineFpRate({
      data: o.data,
      images: o.images,
      params,
      variants: o.variants?.map((v) => ({ ...params, ...v })),
      workers: Math.min(4, availableParallelism()),
      state: o.state,
      control,
      onProgress,
    }),
  );
  const rows: EndpointRow[] = [];
  let algorithm = '';
  for (const targetHz of o.rates) {
    const t = baselineThresholdForRate(fp, targetHz);
    if (t.threshold === null) {
      rows.push(unreachableRow(t));
      continue;
    }
    const b = await h.baseline({
      data: o.data,
      split: 'eval',
      params: { ...params, minSumAdc: t.threshold },
      background: 0,
      workers: 1,
      match: ENDPOINT_RULES[0],
      otherRules: ENDPOINT_RULES.slice(1),
    });
    algorithm = b.algorithm;
    rows.push(endpointRow(t, [b.trigger, ...(b.otherRules ?? [])]));
  }
  if (!o.tune || !fp.variants?.length) return { algorithm, fpImages: fp.images, rows };
  h.log(`  the clustering tuned on validation over ${fp.variants.length + 1} settings (channel gap, Δt)`);
  const reader = openDataset(o.data);
  try {
    const settings = baselineSettings(reader, fp);
    const tuned = o.rates.map((targetHz): TunedClusteringRow => {
      const { rows: each, chosen } = chooseClustering(settings, targetHz);
      const c = chosen >= 0 ? each[chosen]! : null;
      return {
        targetHz,
        settings: each.length,
        channelTolerance: c?.channelTolerance ?? null,
        maxDtTicks: c?.maxDtTicks ?? null,
        threshold: c?.threshold ?? null,
        fpCount: c?.fpCount ?? 0,
        valEfficiency: c?.val?.efficiency ?? null,
        efficiency: c?.eval?.efficiency ?? null,
        efficiencyErr: c?.eval?.stdErr ?? null,
      };
    });
    return { algorithm, fpImages: fp.images, rows, tuned };
  } finally {
    reader.close();
  }
}

/** A resumable background stream with a progress bar: Ctrl-C or SIGTERM stops it after its current
 *  batch (its state saved, so the same command resumes), a second signal exits at once. */
async function interruptibleStream<T>(
  h: MeasureHooks,
  what: string,
  images: number,
  measure: (control: { stop: boolean }, onProgress: (done: number) => void) => Promise<T>,
): Promise<T> {
  const bar = h.progress(what, images);
  const control = { stop: false };
  const signals = h.onStop(control, `stopping ${what} after its current batch (its state is saved)`);
  try {
    const result = await measure(control, (d) => bar.update(d));
    if (control.stop) throw new UserError(`study interrupted during ${what}; run the same command again to resume`);
    return result;
  } finally {
    signals.done();
    bar.stop();
  }
}
