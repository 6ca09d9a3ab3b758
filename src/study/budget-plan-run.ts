// The training-budget curve (`daqyolo study --plan budget`) as a library: settings and the time
// estimate against a 3-hour sitting (--dry-run stops there), one dataset, each point trained to
// convergence and measured at the plan's FP rates through the end point's machinery
// (endpoint-measure.ts), the baseline once, then budget.json and the chart. Every stage skips what
// is done (a finished point has its point.json), so the same call resumes a killed plan; with
// --slurm the points become an array (budget-plan.ts), and --budget-task runs one of them.
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { openDataset } from '../data/store.js';
import { generateDataset } from '../data/generate.js';
import { defaultSimConfig } from '../sim/config.js';
import { lockRunDir, runState } from '../run/run-dir.js';
import { readDoneRecord } from '../schema/run.js';
import { readEvaluateReport } from '../schema/evaluation.js';
import { ruleOf } from '../eval/efficiency.js';
import { writeAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/json-file.js';
import { CLI } from '../sweep/local.js';
import { revisedEstimate } from './seed-plan.js';
import { THESIS } from './endpoint.js';
import {
  efficiencyAtRates,
  measureBaselineAtRates,
  measureRunFpRate,
  trainToConvergence,
  type BaselineAtRates,
  type MeasureHooks,
} from './endpoint-measure.js';
import { energyEfficiencies } from './endpoint-rows.js';
import { trainSeedsOf } from './budget-seeds.js';
import { hybridMissing, measureHybrid } from './hybrid-trigger.js';
import { estimateStepMs } from './step-time.js';
import { baselineStreamImagesPerSecond, fpStreamImagesPerSecond, simulatedImages, simulationImagesPerSecond } from './stream-rate.js';
import {
  budgetDataset,
  budgetPointSchema,
  budgetDefaults,
  budgetSlurmScript,
  budgetSummary,
  estimateBudget,
  hms,
  budgetRuns,
  readBudgetManifest,
  type BudgetEstimate,
  type BudgetHybridRow,
  type BudgetManifest,
  type BudgetPoint,
  type BudgetResult,
  type BudgetRun,
  type BudgetSettings,
} from './budget-plan.js';

export interface BudgetPlanOptions {
  out: string;
  /** Settings given on the command line (over budgetDefaults; a resumed plan keeps its manifest's). */
  overrides: Partial<BudgetSettings>;
  device: string;
  dryRun: boolean;
  slurm: boolean;
  /** Run only this point (a Slurm array task's index), without the baseline and the chart. */
  task?: number;
  /**
   * The curve so far: the baseline, budget.json and the chart from the points already finished
   * (their point.json), training and measuring no other. A point per sitting (`--budget-task i`)
   * shows its curve at the end of each sitting this way.
   */
  finished?: boolean;
}

export interface BudgetPlanHooks extends MeasureHooks {
  /** Writes the chart and the page (report/budget-report.ts's `writeBudgetReport`); returns the files written. */
  writeReport(result: BudgetResult, out: string): Promise<string[]>;
}

export type BudgetPlanResult =
  | { kind: 'dry-run'; settings: BudgetSettings; estimate: BudgetEstimate; slurm: string | null }
  | { kind: 'slurm'; script: string; points: number; seeds: number }
  | { kind: 'task'; point: BudgetPoint; seeds: number }
  | { kind: 'done'; out: string; result: BudgetResult; files: string[] };

export const MANIFEST = 'budget-plan.json';

/** The settings with the command line's over the defaults, checked. */
export function budgetSettings(overrides: Partial<BudgetSettings>): BudgetSettings {
  const s = { ...budgetDefaults(), ...overrides };
  s.points = [...new Set(s.points)].sort((a, b) => a - b);
  if (s.trainSeeds) s.trainSeeds = [...new Set(s.trainSeeds)];
  if (s.size % 32) throw new UserError(`--size ${s.size}: the network input must be a multiple of 32`);
  if (s.warmupEpochs >= s.maxEpochs)
    throw new UserError(`--warmup-epochs ${s.warmupEpochs}: must be fewer than the ${s.maxEpochs} epochs at most of each point (--endpoint-epochs)`);
  return s;
}

/** Measures the rates the estimate rests on (a few seconds of each stream and a training step) and estimates. */
export async function measureBudgetEstimate(s: BudgetSettings): Promise<BudgetEstimate> {
  const msPerStep = estimateStepMs({
    variant: s.variant,
    width: s.width,
    size: s.size,
    batch: 8,
    threads: availableParallelism(),
    isolatedRadius: s.isolatedRadius,
    // Random scattered pixels are all isolated: with the filter, time the simulation's own images.
    images: s.isolatedRadius > 0 ? await simulatedImages(s.size, 8) : undefined,
  });
  return estimateBudget(s, {
    msPerStep,
    fpImagesPerSecond: await fpStreamImagesPerSecond({ variant: s.variant, width: s.width, size: s.size, isolatedRadius: s.isolatedRadius }),
    baselineImagesPerSecond: await baselineStreamImagesPerSecond({ size: s.size }),
    simImagesPerSecond: await simulationImagesPerSecond({ size: s.size }),
    load: { average: loadavg()[0]!, cores: availableParallelism() },
  });
}

export async function runBudgetPlan(o: BudgetPlanOptions, h: BudgetPlanHooks): Promise<BudgetPlanResult> {
  const out = resolve(o.out);
  const manifestPath = join(out, MANIFEST);
  if (existsSync(join(out, 'study-plan.json'))) throw new UserError(`${out} holds a seed plan (study-plan.json); give the budget plan another --out`);
  if (!o.dryRun) {
    mkdirSync(out, { recursive: true });
    // One plan at a time on a folder (taken before the manifest is written), except the array's
    // tasks: each holds only its own point's run.
    if (o.task === undefined) lockRunDir(out);
  }
  const slurmOf = (estimate: BudgetEstimate) => budgetSlurmScript({ out, cli: CLI, node: 'node', estimate, cpusPerTask: 2 });
  let manifest: BudgetManifest;
  let estimate: BudgetEstimate | null = null;
  if (existsSync(manifestPath)) {
    // A plan in progress keeps its settings: resuming must not change the points under it.
    manifest = readBudgetManifest(manifestPath);
    checkSameSettings(manifestPath, manifest.settings, o.overrides);
    const seeds = trainSeedsOf(manifest.settings).length;
    if (!o.dryRun) h.log(`budget plan: resuming ${manifestPath} (${manifest.settings.points.length} points${seeds > 1 ? ` × ${seeds} training seeds` : ''})`);
  } else {
    if (o.task !== undefined) throw new UserError(`${manifestPath}: not found; --budget-task runs a point of a plan that --slurm has written`);
    const s = budgetSettings(o.overrides);
    h.log(`budget plan: measuring a training step and the streams of ${s.variant} width ${s.width} at ${s.size} px for the time estimate`);
    estimate = await measureBudgetEstimate(s);
    manifest = {
      plan: 'budget',
      settings: s,
      data: 'snnu.h5',
      pointsDir: 'points',
      estimatedSeconds: Object.fromEntries(estimate.points.map((p) => [p.name, p.seconds])),
    };
    if (!o.dryRun) writeJsonAtomic(manifestPath, manifest);
  }
  if (o.dryRun) {
    estimate ??= await measureBudgetEstimate(manifest.settings);
    return { kind: 'dry-run', settings: manifest.settings, estimate, slurm: o.slurm ? slurmOf(estimate) : null };
  }
  const s = manifest.settings;
  const at = (p: string) => (isAbsolute(p) ? p : join(out, p));
  const data = at(manifest.data);
  const pointsDir = at(manifest.pointsDir);

  // 1. The dataset: the largest point's training images, the shared validation and evaluation splits.
  if (!existsSync(data)) {
    if (o.task !== undefined) throw new UserError(`${data}: not found; the --slurm call simulates it before the array is submitted`);
    const { images, split } = budgetDataset(s);
    h.log(
      `[1/4] simulating ${images} images (${s.size} × ${s.size}): ${Math.max(...s.points)} training, ${s.valImages} validation, ${s.evalImages} evaluation → ${data}`,
    );
    const config = defaultSimConfig();
    config.image.size = s.size;
    config.storeTps = true;
    const bar = h.progress('simulate', images);
    await generateDataset({ out: data, config, images, seed: s.seed, split, handleSignals: true, onProgress: (d) => bar.update(d) });
    bar.stop();
  } else h.log(`[1/4] using the dataset ${data}`);
  checkSplits(data, s);

  if (o.slurm) {
    const script = join(out, 'budget.sbatch');
    mkdirSync(join(out, 'logs'), { recursive: true });
    writeAtomic(script, slurmOf(estimate ?? (await measureBudgetEstimate(s))));
    return { kind: 'slurm', script, points: budgetRuns(s).length, seeds: trainSeedsOf(s).length };
  }

  // 2. The points, smallest first (with several training seeds: every point with each seed in turn).
  const runs = budgetRuns(s);
  if (o.task !== undefined && !(Number.isInteger(o.task) && o.task >= 0 && o.task < runs.length))
    throw new UserError(
      `--budget-task ${o.task}: the plan has ${runs.length === s.points.length ? 'points' : `trainings (${s.points.length} points × ${trainSeedsOf(s).length} seeds)`} 0–${runs.length - 1}`,
    );
  const todo = o.task === undefined ? runs : [runs[o.task]!];
  const measured: { name: string; seconds: number }[] = [];
  const points: BudgetPoint[] = [];
  const unfinished: BudgetRun[] = [];
  for (const [at, { trainImages: n, seed, name }] of todo.entries()) {
    const runDir = join(pointsDir, name);
    const pointPath = join(runDir, 'point.json');
    if (existsSync(pointPath)) {
      points.push(await withHybrid(withEnergyCurves(readPoint(pointPath), runDir), pointPath, data, s.rates, o.device, h));
      h.log(`[2/4] ${name}: finished (${pointPath})`);
      continue;
    }
    if (o.finished) {
      unfinished.push(todo[at]!);
      h.log(`[2/4] ${name}: not finished, left out of the curve (--budget-finished)`);
      continue;
    }
    const t0 = performance.now();
    if (runState(runDir) !== 'done')
      h.log(
        `[2/4] ${name}: training on ${n} images (seed ${seed}) for up to ${s.maxEpochs} epochs, early stopping with patience ${s.patience} (expected ${hms(manifest.estimatedSeconds[name] ?? 0)} for the point)`,
      );
    await trainToConvergence(
      {
        runDir,
        data,
        variant: s.variant,
        width: s.width,
        size: s.size,
        maxEpochs: s.maxEpochs,
        patience: s.patience,
        warmupEpochs: s.warmupEpochs,
        seed,
        device: o.device,
        // The first N of one seeded shuffle of the training split: the points are nested.
        values: { trainLimit: n, 'loss.objLoss': s.objLoss, 'model.isolatedRadius': s.isolatedRadius, positiveMinTps: s.positiveMinTps },
        label: `budget point ${name}`,
      },
      h,
    );
    const t1 = performance.now();
    h.log(`[2/4] ${name}: fprate over ${s.fpImages.toLocaleString('en')} background-only images`);
    const fp = await measureRunFpRate({ runDir, data, images: s.fpImages, device: o.device }, h);
    const t2 = performance.now();
    h.log(`[2/4] ${name}: efficiency on the evaluation split at ${s.rates.join(', ')} Hz per module`);
    const rows = await efficiencyAtRates({ runDir, data, fp, rates: s.rates, device: o.device, prefix: 'budget' });
    const t3 = performance.now();
    const hybrid = await hybridOfPoint(runDir, data, s.rates, o.device, h);
    const done = readDoneRecord(join(runDir, 'done.json'));
    const point: BudgetPoint = {
      trainImages: n,
      seed,
      run: runDir,
      epochs: done.epochs,
      stopped: done.reason,
      fpImages: fp.images,
      fpImagesPerSecond: fp.imagesPerSecond,
      rows,
      ...(hybrid ? { hybrid } : {}),
      seconds: {
        train: (t1 - t0) / 1000,
        fprate: (t2 - t1) / 1000,
        evaluate: (t3 - t2) / 1000,
        ...(hybrid ? { hybrid: (performance.now() - t3) / 1000 } : {}),
      },
    };
    writeJsonAtomic(pointPath, point);
    points.push(point);
    const took = point.seconds.train + point.seconds.fprate + point.seconds.evaluate + (point.seconds.hybrid ?? 0);
    h.log(
      `[2/4] ${name}: ${rows.map((r) => `${r.targetHz} Hz ${r.efficiency === null ? 'not reachable' : `${(100 * r.efficiency).toFixed(1)} %`}`).join(', ')}${hybrid ? `; hybrid ${hybrid.map((r) => (r.efficiency === null ? '–' : `${(100 * r.efficiency).toFixed(1)} %`)).join(', ')}` : ''} after ${hms(took)}`,
    );
    measured.push({ name, seconds: took });
    const remaining = todo.slice(at + 1).map((r) => r.name);
    const r = revisedEstimate(manifest.estimatedSeconds, measured, remaining, 1);
    if (r && remaining.length)
      h.log(`  (finished points took ${r.ratio.toFixed(2)}× their estimate: the other ${remaining.length} ≈ ${hms(r.remainingSeconds)})`);
  }
  if (o.task !== undefined) return { kind: 'task', point: points[0]!, seeds: trainSeedsOf(s).length };

  // 3. The baseline once, from its own background stream of as many images.
  h.log(`[3/4] the baseline trigger: FP rate over ${s.fpImages.toLocaleString('en')} background-only images, efficiency at ${s.rates.join(', ')} Hz`);
  mkdirSync(join(out, 'baseline'), { recursive: true });
  const baseline: BaselineAtRates = await measureBaselineAtRates(
    { data, images: s.fpImages, rates: s.rates, state: join(out, 'baseline', 'baseline-fprate.json'), variants: s.clusterVariants, tune: true },
    h,
  );

  // 4. budget.json, the chart and the summary.
  const reader = openDataset(data);
  const evalImages = reader.split('eval').length;
  reader.close();
  // A point with no finished training is not on the curve yet; one with some seeds finished is, and its other seeds are listed.
  const onCurve = new Set(points.map((p) => p.trainImages));
  const pending = [...new Set(unfinished.filter((r) => !onCurve.has(r.trainImages)).map((r) => r.trainImages))];
  const pendingSeeds = unfinished.filter((r) => onCurve.has(r.trainImages)).map((r) => r.name);
  const result: BudgetResult = {
    settings: s,
    evalImages,
    points,
    pending,
    ...(pendingSeeds.length ? { pendingSeeds } : {}),
    baseline,
    thesis: THESIS,
    summary: budgetSummary(points, baseline, s.rates, pending, pendingSeeds),
  };
  writeJsonAtomic(join(out, 'budget.json'), result);
  h.log('[4/4] writing the chart');
  const files = await h.writeReport(result, out);
  return { kind: 'done', out, result, files: [join(out, 'budget.json'), ...files] };
}

/**
 * The hybrid trigger at a point (hybrid-trigger.ts, ≈ 1.5 min at the plan's size): the point's own
 * candidates with a ΣADC requirement chosen on validation, at its own FP histogram's cut. Null,
 * said in the log, where the point's fprate kept no ΣADC (a point measured by an older version).
 */
async function hybridOfPoint(runDir: string, data: string, rates: readonly number[], device: string, h: MeasureHooks): Promise<BudgetHybridRow[] | null> {
  const missing = hybridMissing(runDir, data);
  if (missing) {
    h.log(`  hybrid trigger left out: ${missing}`);
    return null;
  }
  h.log(`[2/4] ${basename(runDir)}: the hybrid trigger (a ΣADC requirement on its candidates, chosen on validation) at ${rates.join(', ')} Hz per module`);
  const r = await measureHybrid({ runDir, data, rates, batch: 8, workers: 1, device });
  return r.rates.map((x) => ({
    targetHz: x.targetHz,
    minSumAdc: x.chosen?.minSumAdc ?? 0,
    threshold: x.chosen?.threshold ?? null,
    fpCount: x.chosen?.fpCount ?? 0,
    efficiency: x.chosen?.eval?.efficiency ?? null,
    efficiencyErr: x.chosen?.eval?.stdErr ?? null,
    gain: x.gain,
  }));
}

/** A finished point without the hybrid rows gets them once its fprate has the ΣADC histogram (point.json rewritten). */
async function withHybrid(p: BudgetPoint, pointPath: string, data: string, rates: readonly number[], device: string, h: MeasureHooks): Promise<BudgetPoint> {
  if (p.hybrid) return p;
  const t0 = performance.now();
  const hybrid = await hybridOfPoint(dirname(pointPath), data, rates, device, h);
  if (!hybrid) return p;
  const q = { ...p, hybrid, seconds: { ...p.seconds, hybrid: (performance.now() - t0) / 1000 } };
  writeJsonAtomic(pointPath, q);
  return q;
}

/** A setting given on the command line that differs from the folder's plan: refused (it would not be applied). */
function checkSameSettings(path: string, kept: BudgetSettings, given: Partial<BudgetSettings>): void {
  const asked = budgetSettings({ ...kept, ...given });
  for (const key of Object.keys(given) as (keyof BudgetSettings)[])
    if (JSON.stringify(asked[key]) !== JSON.stringify(kept[key]))
      throw new UserError(
        `${path}: this folder's plan has ${key} ${JSON.stringify(kept[key])}, the command line ${JSON.stringify(asked[key])}; a plan keeps its settings: give the same ones or another --out`,
      );
}

/** The dataset must hold the plan's splits (a dataset made for other settings would silently change the points). */
function checkSplits(data: string, s: BudgetSettings): void {
  const reader = openDataset(data);
  try {
    const [train, val, ev] = (['train', 'val', 'eval'] as const).map((k) => reader.split(k).length);
    const want = Math.max(...s.points);
    if (train! < want || val !== s.valImages || ev !== s.evalImages)
      throw new UserError(
        `${data}: splits train ${train}, val ${val}, eval ${ev}; the plan needs ≥ ${want}, ${s.valImages}, ${s.evalImages} (delete it to simulate it again)`,
      );
  } finally {
    reader.close();
  }
}

/** A finished point's point.json, checked (one line naming the file and the field when it is not one). */
function readPoint(path: string): BudgetPoint {
  return readJsonFile(path, budgetPointSchema);
}

/**
 * A point finished before rows carried their per-energy curve gets it from the evaluation that
 * measured the row (eval/budget-<rate>Hz.json in its run), when that file is there and was made at
 * the row's threshold; otherwise the row stays without one (the report leaves it out).
 */
function withEnergyCurves(p: BudgetPoint, runDir: string): BudgetPoint {
  const rows = p.rows.map((row) => {
    if (row.byEnergy || row.threshold === null) return row;
    const path = join(runDir, 'eval', `budget-${row.targetHz}Hz.json`);
    if (!existsSync(path)) return row;
    const trigger = readEvaluateReport(path).trigger;
    if (!trigger || trigger.efficiency.threshold !== row.threshold || ruleOf(trigger) !== (row.match ?? 'iou')) return row;
    return { ...row, byEnergy: energyEfficiencies(trigger) };
  });
  return { ...p, rows };
}
