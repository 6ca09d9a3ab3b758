// The seed's study as a plan: every comparison of the Bristol slides (low vs high statistics,
// MSE vs BCE objectness, target 1 vs IoU, warm-up, augmentation, batch size × learning rate,
// keras-yolo3's owner-grid defect) as named runs of one sweep on one dataset, around the `seed`
// preset as the reference, with the reference repeated over seeds to measure the run-to-run
// spread that every other difference is judged against. The plan is data: the sweep machinery
// (local pool, Slurm array, resume) runs it, and the findings read it back.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SweepFile } from '../sweep/plan.js';
import { trainConfigSchema } from '../config/train-config.js';
import { checkJson, parseJson } from '../util/json-file.js';
import type { Variant } from '../model/yolo.js';
import { NAME_KEY } from '../sweep/plan.js';
import { EXPERIMENTS, experimentGroups, REFERENCE_BATCH, type ExperimentGroup, type ExperimentSettings } from './experiments.js';

export type { ExperimentGroup } from './experiments.js';
export { SEED_AUGMENTATION } from './experiments.js';

/** One run of the plan: a row of {@link EXPERIMENTS} for the plan's settings. */
export interface Experiment {
  /** Run directory name inside the plan's runs folder. */
  name: string;
  group: ExperimentGroup;
  /** One line for the report. */
  description: string;
  /** Dotted training-config keys that differ from the reference. */
  values: Record<string, unknown>;
}

export interface SeedPlanSettings extends ExperimentSettings {
  quick: boolean;
  /** Simulated images (80/10/10 split). */
  images: number;
  size: number;
  variant: Variant;
  width: number;
  epochs: number;
  warmupEpochs: number;
  /** Background-only images streamed by `evaluate` for each run's FP rate. */
  background: number;
  /** The end point: epochs at most, early-stopping patience, background images for `fprate`. */
  endpointEpochs: number;
  endpointPatience: number;
  fpImages: number;
}

/**
 * Defaults. `quick` is sized to finish in about half an hour on a 2-core CPU (256 px images,
 * the hybrid sparse YOLOv3-tiny — daqyolo's fastest network, as accurate as the dense tiny one
 * within errors — 6 epochs); the full plan is the seed's (480 px, the seed's 30 000 images,
 * YOLOv3 at width 0.25 so that a CPU cluster can afford it, 30 epochs).
 */
export function seedPlanDefaults(quick: boolean): SeedPlanSettings {
  return quick
    ? {
        quick,
        images: 1200,
        size: 256,
        variant: 'sparse-yolov3-tiny',
        width: 0.25,
        epochs: 6,
        warmupEpochs: 1,
        lowStats: 200,
        seeds: [1, 2, 3],
        batches: [4, 8, 16],
        lrs: [1e-4, 3e-4, 1e-3],
        background: 500,
        endpointEpochs: 12,
        endpointPatience: 3,
        fpImages: 20_000,
      }
    : {
        quick,
        images: 30_000,
        size: 480,
        variant: 'yolov3',
        width: 0.25,
        epochs: 30,
        warmupEpochs: 3,
        lowStats: 500,
        seeds: [1, 2, 3],
        batches: [4, 8, 16],
        lrs: [1e-4, 3e-4, 1e-3],
        background: 2000,
        endpointEpochs: 100,
        endpointPatience: 5,
        fpImages: 1_000_000,
      };
}

/** The experiments, reference first: every row of {@link EXPERIMENTS} for these settings. */
export function seedExperiments(s: SeedPlanSettings): Experiment[] {
  return experimentGroups.flatMap((group) => EXPERIMENTS[group].runs(s).map((r) => ({ name: r.name, group, description: r.description, values: r.values })));
}

/** The sweep file of the plan: the seed preset under every run, one list entry per experiment. */
export function seedSweep(s: SeedPlanSettings, data: string, runsOut: string, threads: number): SweepFile {
  return {
    out: runsOut,
    preset: 'seed',
    base: {
      data,
      epochs: s.epochs,
      warmupEpochs: s.warmupEpochs,
      seed: s.seeds[0] ?? 1,
      model: { variant: s.variant, width: s.width, size: s.size },
    },
    grid: {},
    list: seedExperiments(s).map((e) => ({ [NAME_KEY]: e.name, ...e.values })),
    parallel: 1,
    threads,
    slurm: { cpusPerTask: 4, options: [], setup: [], node: 'node' },
  };
}

const count = z.number().int().min(0);
/** What `study --plan seed` writes beside the runs, so that the findings know which run is which:
 * study-plan.json, checked when a plan resumes (`readStudyManifest`). */
export const studyManifestSchema = z
  .object({
    plan: z.literal('seed'),
    settings: z
      .object({
        quick: z.boolean(),
        images: count,
        size: z.number().int().positive(),
        variant: trainConfigSchema.shape.model.unwrap().shape.variant.unwrap(),
        width: z.number().positive(),
        epochs: z.number().int().positive(),
        warmupEpochs: z.number().min(0),
        lowStats: count,
        seeds: z.array(count).min(1),
        batches: z.array(z.number().int().positive()),
        lrs: z.array(z.number().positive()),
        background: count,
        endpointEpochs: count,
        endpointPatience: count,
        fpImages: count,
      })
      .strict(),
    data: z.string().min(1),
    sweepFile: z.string().min(1),
    runsDir: z.string().min(1),
    experiments: z.array(
      z
        .object({
          name: z.string().min(1),
          group: z.enum(experimentGroups),
          description: z.string(),
          values: z.record(z.string(), z.unknown()),
        })
        .strict(),
    ),
    estimatedSeconds: z.record(z.string(), z.number()).optional(),
  })
  .strict();

/** A plan's study-plan.json, checked against {@link studyManifestSchema} and returned as written. */
export function readStudyManifest(path: string): StudyManifest {
  const raw = parseJson(path, readFileSync(path, 'utf8'));
  checkJson(path, raw, studyManifestSchema);
  return raw as StudyManifest;
}

export interface StudyManifest {
  plan: 'seed';
  settings: SeedPlanSettings;
  data: string;
  sweepFile: string;
  runsDir: string;
  experiments: Experiment[];
  /** The estimate of each run's seconds made before the plan started (absent in older plans). */
  estimatedSeconds?: Record<string, number>;
}

export interface TimeEstimate {
  seconds: number;
  perRun: { name: string; seconds: number }[];
  basis: string;
}

/**
 * Expected wall time of the plan on this machine, from a measured training step: training is
 * steps × ms per step (scaled linearly with batch size), validation and evaluation a forward
 * pass per image (≈ a third of a training step's time per image), one validation pass per epoch.
 */
export function estimatePlan(s: SeedPlanSettings, experiments: readonly Experiment[], msPerStepAtBatch8: number): TimeEstimate {
  const trainImages = Math.floor(s.images * 0.8);
  const valImages = Math.round(s.images * 0.1);
  const msPerImage = msPerStepAtBatch8 / 8;
  const perRun = experiments.map((e) => {
    const n = typeof e.values.trainLimit === 'number' ? Math.min(e.values.trainLimit, trainImages) : trainImages;
    const batch = typeof e.values.batch === 'number' ? e.values.batch : REFERENCE_BATCH;
    const steps = Math.floor(n / batch);
    const train = s.epochs * steps * batch * msPerImage;
    const forward = ((s.epochs * valImages + valImages + s.background) * msPerImage) / 3;
    return { name: e.name, seconds: (train + forward) / 1000 + 10 };
  });
  return {
    seconds: perRun.reduce((a, r) => a + r.seconds, 0),
    perRun,
    basis: `${msPerStepAtBatch8.toFixed(0)} ms per training step of ${s.variant} width ${s.width} at ${s.size} px, batch 8, measured on this machine`,
  };
}

/**
 * The estimate corrected by the runs that have finished: the estimate comes from a bare training
 * step measured alone, but a run also pays for the loss's bookkeeping, the data and validation,
 * and shares the machine with the other runs of the pool — on a 2-core machine a sparse run took
 * twice its estimate. `ratio` is the finished runs' measured seconds over their estimate;
 * `remainingSeconds` the other runs' estimate times that ratio, `parallel` at a time.
 */
export function revisedEstimate(
  estimated: Record<string, number>,
  finished: readonly { name: string; seconds: number }[],
  remaining: readonly string[],
  parallel: number,
): { ratio: number; remainingSeconds: number } | null {
  let measured = 0;
  let expected = 0;
  for (const f of finished) {
    const e = estimated[f.name];
    if (e === undefined) continue;
    measured += f.seconds;
    expected += e;
  }
  if (expected === 0) return null;
  const ratio = measured / expected;
  const rest = remaining.reduce((a, name) => a + (estimated[name] ?? 0), 0);
  return { ratio, remainingSeconds: (rest * ratio) / Math.max(1, parallel) };
}
