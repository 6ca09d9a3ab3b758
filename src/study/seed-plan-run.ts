// The seed plan (`daqyolo study --plan seed`) as a library: the slides' experiments as one resumable sweep on one dataset
// (local pool, or a Slurm array with --slurm), then evaluation of every finished run, the end
// point (the best configuration trained to convergence, FP rate over many background images,
// efficiency at 1, 1.8, 10 and 100 Hz per module beside the thesis) and the report with its
// generated findings. Every stage skips what is already done, so the same call resumes. What
// study/ may not import (the trainer, the baseline command, the report, progress bars, signal
// handling) comes in as hooks; cli/study-plan.ts parses, supplies them and prints.
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { openDataset } from '../data/store.js';
import { lockRunDir, runState } from '../run/run-dir.js';
import { writeAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { planSweep, readSweepFile } from '../sweep/plan.js';
import { runLocal, writePlan } from '../sweep/local.js';
import { slurmScript } from '../sweep/slurm.js';
import { evaluateRunOnData } from '../eval/evaluate.js';
import {
  estimatePlan,
  revisedEstimate,
  seedExperiments,
  seedPlanDefaults,
  seedSweep,
  readStudyManifest,
  type Experiment,
  type SeedPlanSettings,
  type StudyManifest,
  type TimeEstimate,
} from './seed-plan.js';
import { readDoneRecord } from '../schema/run.js';
import { ENDPOINT_RATES_HZ, THESIS, readEndpointResult, type EndpointResult } from './endpoint.js';
import { efficiencyAtRates, measureBaselineAtRates, measureRunFpRate, trainToConvergence, type MeasureHooks } from './endpoint-measure.js';
import { estimateStepMs } from './step-time.js';
import { REFERENCE_BATCH } from './experiments.js';
import { STUDY_EVAL_LOADER, simulateStudyData } from './default-study.js';

export interface SeedPlanOptions {
  out: string;
  quick: boolean;
  /** Settings given explicitly on the command line (they override the plan's defaults). */
  overrides: Partial<
    Pick<
      SeedPlanSettings,
      'images' | 'epochs' | 'warmupEpochs' | 'size' | 'variant' | 'width' | 'background' | 'fpImages' | 'lowStats' | 'endpointEpochs' | 'endpointPatience'
    >
  >;
  seed: number;
  device: string;
  parallel: number;
  hours?: number;
  slurm: boolean;
  dryRun: boolean;
  endpoint: boolean;
  /** Evaluate every finished run again (by the current matching rule) even when its eval.json exists. */
  reevaluate?: boolean;
}

export const minutes = (s: number) => (s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

/** Settings of the plan, the estimate behind them, and (with --hours) the dataset size that fits. */
function resolveSettings(o: SeedPlanOptions): { settings: SeedPlanSettings; experiments: Experiment[]; estimate: ReturnType<typeof estimatePlan> } {
  const settings = { ...seedPlanDefaults(o.quick), ...o.overrides };
  if (settings.warmupEpochs >= settings.epochs)
    throw new UserError(
      `--warmup-epochs ${settings.warmupEpochs}: must be fewer than the plan's ${settings.epochs} epochs (warm-up epochs are excluded from the findings)`,
    );
  if (settings.size % 32) throw new UserError(`--size ${settings.size}: the network input must be a multiple of 32`);
  const threads = Math.max(1, Math.floor(availableParallelism() / o.parallel));
  // One measured training step of the plan's network on this machine makes the estimate.
  const msPerStep = estimateStepMs({ variant: settings.variant, width: settings.width, size: settings.size, batch: REFERENCE_BATCH, threads });
  const experiments = seedExperiments(settings);
  let estimate = estimatePlan(settings, experiments, msPerStep);
  if (o.hours !== undefined && o.overrides.images === undefined) {
    // The largest dataset (in hundreds, at most the seed's 30 000) whose plan fits the budget.
    const budget = o.hours * 3600 * o.parallel;
    const perImage = estimate.seconds / settings.images;
    settings.images = Math.max(500, Math.min(30_000, Math.floor(budget / perImage / 100) * 100));
    estimate = estimatePlan(settings, experiments, msPerStep);
  }
  return { settings, experiments, estimate };
}

/** What the plan needs from later folders and from the caller (the CLI supplies them). */
export interface SeedPlanHooks<R extends { findings: unknown[] }> extends MeasureHooks {
  /** Validation AP@0.5 after the last epoch of every plan run with a finished epoch (report/'s `loadPlanRuns`, `valMap`). */
  validationMaps(manifest: StudyManifest): { experiment: Experiment; valMap: number | null }[];
  /** Writes the plan's report (report/plan-report.ts's `writePlanReport`); its findings go to findings.json. */
  writeReport(manifest: StudyManifest, out: string, endpoint: EndpointResult | null): Promise<R>;
}

/** What a call did: printed the plan (dry run), wrote a Slurm script, or ran (or resumed) the plan to its report. */
export type SeedPlanResult<R> =
  | { kind: 'dry-run'; experiments: Experiment[]; estimate: TimeEstimate }
  | { kind: 'slurm'; script: string; runs: number }
  | { kind: 'done'; out: string; report: R; endpoint: EndpointResult | null };

export async function runSeedPlan<R extends { findings: unknown[] }>(o: SeedPlanOptions, h: SeedPlanHooks<R>): Promise<SeedPlanResult<R>> {
  const out = resolve(o.out);
  // A dry run only prints: it makes no folder. One study at a time on a folder: a second would
  // train and evaluate the same runs under the first (issue 30).
  if (!o.dryRun) {
    mkdirSync(out, { recursive: true });
    lockRunDir(out);
  }
  const manifestPath = join(out, 'study-plan.json');
  let manifest: StudyManifest;
  if (existsSync(manifestPath)) {
    // A plan in progress keeps its settings: resuming must not change the experiments under it.
    manifest = atStudy(out, readStudyManifest(manifestPath));
    if (manifest.settings.quick !== o.quick)
      throw new UserError(
        `${manifestPath}: this folder holds a ${manifest.settings.quick ? 'quick' : 'full'} plan; use the same --quick setting or another --out`,
      );
    h.log(`study plan: resuming ${manifestPath} (${manifest.experiments.length} runs)`);
  } else {
    const { settings, experiments, estimate } = resolveSettings(o);
    const perRun = Math.max(...estimate.perRun.map((r) => r.seconds));
    h.log(
      `study plan seed${o.quick ? ' (quick)' : ''}: ${experiments.length} runs of ${settings.variant} width ${settings.width} at ${settings.size} px, ${settings.epochs} epochs, on ${settings.images} simulated images`,
    );
    h.log(
      `expected time: ${minutes(estimate.seconds / o.parallel)} for the runs on this machine (${o.parallel} at a time; the longest run ${minutes(perRun)}), from ${estimate.basis}` +
        (o.endpoint ? `; then the end point: up to ${settings.endpointEpochs} epochs and fprate over ${settings.fpImages.toLocaleString('en')} images` : ''),
    );
    if (o.dryRun) return { kind: 'dry-run', experiments, estimate };
    // Paths relative to the study folder (sweep.json's are taken from its own folder): a moved or
    // copied study folder uses its own dataset and runs (issue 30).
    const threads = o.slurm ? 0 : Math.max(1, Math.floor(availableParallelism() / o.parallel));
    writeJsonAtomic(join(out, 'sweep.json'), { ...seedSweep(settings, 'snnu.h5', 'runs', threads), parallel: o.parallel });
    const estimatedSeconds = Object.fromEntries(estimate.perRun.map((r) => [r.name, r.seconds]));
    const written: StudyManifest = { plan: 'seed', settings, data: 'snnu.h5', sweepFile: 'sweep.json', runsDir: 'runs', experiments, estimatedSeconds };
    writeJsonAtomic(manifestPath, written);
    manifest = atStudy(out, written);
  }
  const s = manifest.settings;

  // 1. The dataset.
  if (!existsSync(manifest.data)) {
    h.log(`[1/5] simulating ${s.images} SNNu images (${s.size} × ${s.size}) → ${manifest.data}`);
    await simulateStudyData(manifest.data, s.images, s.size, o.seed, h.progress('simulate', s.images));
  } else h.log(`[1/5] using the dataset ${manifest.data}`);

  // 2. The runs, as a sweep.
  const sweep = readSweepFile(manifest.sweepFile);
  const threadsPerRun = Math.max(1, Math.floor(availableParallelism() / o.parallel));
  const plan = planSweep(manifest.sweepFile, sweep, { threadsPerRun });
  if (o.slurm) {
    writePlan(plan);
    const script = join(out, 'sweep.sbatch');
    writeAtomic(script, slurmScript(plan));
    return { kind: 'slurm', script, runs: plan.points.length };
  }
  writePlan(plan);
  const control = { stop: false, forward: false };
  const signals = h.onStop(control, 'study: stopping — running trainings save their last checkpoint; run the same command to continue');
  try {
    h.log(`[2/5] training ${plan.points.length} runs in ${manifest.runsDir}, ${o.parallel} at a time (logs in ${join(manifest.runsDir, 'logs')})`);
    // As runs finish, the expected time of the rest is corrected by what they measured (whole runs
    // only: a resumed run's seconds cover part of it).
    const ended = new Set<string>();
    const measured: { name: string; seconds: number }[] = [];
    const results = await runLocal(plan, {
      parallel: o.parallel,
      control,
      onEvent: (e) => {
        if (e.kind === 'start') {
          h.log(`  ${e.point.name}: ${e.state === 'resume' ? 'resuming' : 'training'}`);
          return;
        }
        ended.add(e.result.name);
        if (e.result.status === 'skipped') return;
        h.log(`  ${e.result.name}: ${e.result.status} after ${minutes(e.result.seconds)}`);
        if (e.result.status !== 'finished' || e.result.state === 'resume' || !manifest.estimatedSeconds) return;
        measured.push({ name: e.result.name, seconds: e.result.seconds });
        const remaining = plan.points.map((p) => p.name).filter((n) => !ended.has(n));
        const r = revisedEstimate(manifest.estimatedSeconds, measured, remaining, o.parallel);
        if (r && remaining.length)
          h.log(`  (finished runs took ${r.ratio.toFixed(2)}× their estimate: the other ${remaining.length} ≈ ${minutes(r.remainingSeconds)})`);
      },
    });
    if (control.stop) throw new UserError('study interrupted; run the same command again to resume');
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length)
      h.log(
        `study: ${failed.length} run(s) failed (${failed.map((r) => r.name).join(', ')}); their logs are in ${join(manifest.runsDir, 'logs')}; the report covers the others`,
      );
  } finally {
    signals.done();
  }

  // 3. Evaluation of every finished run on the evaluation split.
  const finished = plan.points.filter((p) => runState(p.dir) === 'done');
  for (const p of finished) {
    if (existsSync(join(p.dir, 'eval', 'eval.json')) && !o.reevaluate) continue;
    h.log(`[3/5] evaluating ${p.name} (eval split, ${s.background} background-only images)`);
    await evaluateRunOnData({
      runDir: p.dir,
      data: manifest.data,
      split: 'eval',
      checkpoint: 'best',
      background: s.background,
      ...STUDY_EVAL_LOADER,
      device: o.device,
    });
  }

  // 4. The end point.
  let endpoint: EndpointResult | null = null;
  const endpointPath = join(out, 'endpoint.json');
  if (o.endpoint) endpoint = await measureEndpoint(manifest, out, endpointPath, o, h);
  else if (existsSync(endpointPath)) endpoint = readEndpointResult(endpointPath);

  // 5. The report with its findings.
  h.log('[5/5] writing the report');
  const report = await h.writeReport(manifest, out, endpoint);
  writeJsonAtomic(join(out, 'findings.json'), { findings: report.findings, endpoint });
  return { kind: 'done', out, report, endpoint };
}

/** The manifest with its paths taken from the study folder `out` (older manifests hold absolute ones). */
function atStudy(out: string, m: StudyManifest): StudyManifest {
  const at = (p: string) => (isAbsolute(p) ? p : join(out, p));
  return { ...m, data: at(m.data), sweepFile: at(m.sweepFile), runsDir: at(m.runsDir) };
}

/** Best configuration by validation AP@0.5 (never by the evaluation split it is then measured on). */
function selectBest(manifest: StudyManifest, h: SeedPlanHooks<{ findings: unknown[] }>): Experiment {
  let best: { e: Experiment; m: number } | null = null;
  for (const { experiment, valMap: m } of h.validationMaps(manifest)) {
    // The low-statistics and extra-seed runs are not configurations to choose from.
    if (experiment.group === 'statistics' || experiment.group === 'spread') continue;
    if (m !== null && (!best || m > best.m)) best = { e: experiment, m };
  }
  if (!best) throw new UserError('the end point needs at least one finished run of the plan');
  return best.e;
}

async function measureEndpoint(
  manifest: StudyManifest,
  out: string,
  path: string,
  o: SeedPlanOptions,
  h: SeedPlanHooks<{ findings: unknown[] }>,
): Promise<EndpointResult> {
  const s = manifest.settings;
  const chosen = selectBest(manifest, h);
  const runDir = join(out, 'endpoint', chosen.name);
  // 4a. The chosen configuration trained to convergence (early stopping on validation).
  if (runState(runDir) !== 'done')
    h.log(
      `[4/5] end point: training ${chosen.name} (best validation AP@0.5) for up to ${s.endpointEpochs} epochs with early stopping (patience ${s.endpointPatience})`,
    );
  await trainToConvergence(
    {
      runDir,
      data: manifest.data,
      variant: s.variant,
      width: s.width,
      size: s.size,
      maxEpochs: s.endpointEpochs,
      patience: s.endpointPatience,
      warmupEpochs: s.warmupEpochs,
      seed: s.seeds[0] ?? 1,
      device: o.device,
      values: chosen.values,
      label: `end point (${chosen.name})`,
    },
    h,
  );
  // 4b. The FP rate over many background-only images (resumable by itself).
  h.log(`[4/5] end point: fprate over ${s.fpImages.toLocaleString('en')} background-only images`);
  const fp = await measureRunFpRate({ runDir, data: manifest.data, images: s.fpImages, device: o.device }, h);
  // 4c. The efficiency on the evaluation split at the threshold each rate allows.
  // Every rule from one inference per rate: the TP rule (the default) first, then IoU and centre.
  const rows = await efficiencyAtRates({ runDir, data: manifest.data, fp, rates: ENDPOINT_RATES_HZ, device: o.device, prefix: 'endpoint' });
  h.log(`[4/5] end point: the baseline trigger's FP rate over ${s.fpImages.toLocaleString('en')} background-only images`);
  const baseline = await measureBaselineAtRates(
    { data: manifest.data, images: s.fpImages, rates: ENDPOINT_RATES_HZ, state: join(out, 'endpoint', 'baseline-fprate.json') },
    h,
  );
  const reader = openDataset(manifest.data);
  const window = `${reader.width} × ${reader.height} px`;
  const evalImages = reader.split('eval').length;
  reader.close();
  const done = readDoneRecord(join(runDir, 'done.json'));
  const result: EndpointResult = {
    experiment: chosen.name,
    selectedBy: 'best validation AP@0.5 of the plan',
    run: runDir,
    checkpoint: 'best',
    epochs: done.epochs,
    stopped: done.reason,
    evalImages,
    fpImages: fp.images,
    fpImagesPerSecond: fp.imagesPerSecond,
    rows,
    baseline,
    thesis: THESIS,
    differences: [
      `simulation: daqyolo's parametric TP simulation (${window} images), not LArSoft`,
      `network: ${s.variant} at width ${s.width} (the thesis: the full YOLOv3)`,
      `statistics: ${Math.floor(s.images * 0.8)} simulated training images (the thesis: ~24 000 LArSoft images)`,
      `FP rate measured on ${fp.images.toLocaleString('en')} background-only images (1.8 Hz per module ≈ one FP per ~50 000 images)`,
    ],
  };
  writeJsonAtomic(path, result);
  return result;
}
