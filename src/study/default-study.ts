// The default study (`daqyolo study`, the quick start) as a library: simulate a small SNNu
// dataset, compute anchors, train a light YOLOv3, evaluate the trained and the untrained network,
// the baseline trigger and the burst trigger on both, then the report. Each stage is skipped when
// its output already exists, so a killed study resumes where it stopped. What study/ may not
// import (the trainer, the baseline command, the report, progress bars) comes in as hooks, so a
// test or a script calls it as the CLI does.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { defaultSimConfig } from '../sim/config.js';
import { generateDataset } from '../data/generate.js';
import { openDataset } from '../data/store.js';
import { kmeansAnchors, assignToScales } from '../anchors/kmeans.js';
import { parseTrainConfig, type TrainConfig } from '../config/train-config.js';
import { lockRunDir, runState } from '../run/run-dir.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { parseMetrics } from '../schema/run.js';
import { evaluateRunOnData, type BaselineReport, type EvaluateReport } from '../eval/evaluate.js';
import { readBaselineReport } from '../schema/evaluation.js';
import { ruleOf, type TriggerReport } from '../eval/efficiency.js';
import { burstHeadline, writeRunBursts } from './burst.js';
import { scalesOf, type Variant } from '../model/yolo.js';
import type { BurstReport } from '../eval/burst.js';

/** How the study's runs are evaluated: batches of 8 images, one loader worker (the default study, the plan's runs and its end point). */
export const STUDY_EVAL_LOADER = { batch: 8, workers: 1 } as const;

export interface DefaultStudyOptions {
  /** The study folder (dataset snnu.h5, run/, report.html, study.json). */
  out: string;
  images: number;
  epochs: number;
  variant: Variant;
  width: number;
  size: number;
  /** Background-only images for the network's FP rate. */
  background: number;
  /** Background-only images for the baseline trigger's FP rate. */
  baselineBackground: number;
  /** Simulation threads for the baseline's background. */
  workers: number;
  seed: number;
  device: string;
}

/** A progress display (cli/progress.ts's, or none). */
export interface StudyProgress {
  update(done: number): void;
  phase(label: string, total: number): void;
  stop(): void;
}

/** What the study needs from later folders and from the caller. */
export interface DefaultStudyHooks {
  /**
   * Trains one run (train/trainer.ts's `train`; study/ does not import the trainer). It stops after
   * its current batch when `control.stop` is set (the CLI sets it on SIGINT/SIGTERM); the study then
   * throws, and resumes when called again.
   */
  train(config: TrainConfig, resume: boolean, control: { stop: boolean }): Promise<unknown>;
  /** The baseline trigger on the eval split and `background` streamed background-only images (cli/baseline.ts's `runBaseline`). */
  baseline(data: string, background: number, workers: number): Promise<BaselineReport>;
  /** Writes the HTML report of the run to `path`. */
  writeReport(runDirs: string[], path: string): Promise<void>;
  /** One line on the study's progress (stage by stage). */
  log?(line: string): void;
  progress?(label: string, total: number): StudyProgress;
}

export interface DefaultStudyResult {
  /** What study.json holds. */
  summary: ReturnType<typeof studySummary>;
  evaluations: { init: EvaluateReport; best: EvaluateReport };
  baseline: BaselineReport;
  bursts: Partial<Record<'network' | 'baseline', BurstReport>>;
  reportPath: string;
}

const NO_PROGRESS: StudyProgress = { update() {}, phase() {}, stop() {} };

/**
 * A study's dataset: the default simulation at `size` px with the TPs and their owners stored
 * (the TP matching rule reads them: no regeneration at each evaluation). The default study and
 * the seed plan both make theirs here.
 */
export async function simulateStudyData(path: string, images: number, size: number, seed: number, bar: StudyProgress): Promise<void> {
  const config = defaultSimConfig();
  config.image.size = size;
  config.storeTps = true;
  await generateDataset({ out: path, config, images, seed, handleSignals: true, onProgress: (d) => bar.update(d) });
  bar.stop();
}

/** Runs (or resumes) the default study in `o.out`; holds the folder's lock until the process exits. */
export async function runDefaultStudy(o: DefaultStudyOptions, hooks: DefaultStudyHooks): Promise<DefaultStudyResult> {
  const log = hooks.log ?? (() => {});
  const progress = hooks.progress ?? (() => NO_PROGRESS);
  const data = join(o.out, 'snnu.h5');
  const runDir = join(o.out, 'run');
  const t0 = performance.now();
  mkdirSync(o.out, { recursive: true });
  lockRunDir(o.out); // one study at a time on a folder (released at exit)

  // 1. Dataset.
  if (!existsSync(data)) {
    log(`[1/6] simulating ${o.images} SNNu images (${o.size} × ${o.size}) → ${data}`);
    await simulateStudyData(data, o.images, o.size, o.seed, progress('simulate', o.images));
  } else log(`[1/6] using the existing dataset ${data}`);

  // 2. Anchors (the trainer computes the same ones; printed here for the record).
  const reader = openDataset(data);
  const { w, h } = reader.boxSizes('train');
  reader.close();
  const k = 3 * scalesOf(o.variant);
  const km = kmeansAnchors(w, h, { k, seed: o.seed, restarts: 5 });
  log(
    `[2/6] anchors (IoU k-means over ${w.length} training boxes, mean best IoU ${km.meanBestIou.toFixed(3)}): ` +
      assignToScales(km.anchors, k / 3)
        .map((s) => s.map(([a, b]) => `[${a.toFixed(1)},${b.toFixed(1)}]`).join(' '))
        .join(' | '),
  );

  // 3. Training (resumed if a previous study was interrupted).
  const state = runState(runDir);
  if (state !== 'done') {
    const resume = state === 'resume';
    if (state === 'restart') rmSync(runDir, { recursive: true, force: true });
    log(`[3/6] training ${o.variant} width ${o.width} for ${o.epochs} epochs${resume ? ' (resuming)' : ''} → ${runDir}`);
    const config = parseTrainConfig(
      {
        data,
        out: runDir,
        epochs: o.epochs,
        batch: 8,
        seed: o.seed,
        device: o.device,
        model: { variant: o.variant, width: o.width, size: o.size },
        optimizer: { lr: 1e-3 },
        schedule: { kind: 'cosine' },
        warmupEpochs: 1,
        // Mirroring either axis gives physically valid events: 4× the distinct training images.
        augment: { flipChannels: 0.5, flipTime: 0.5 },
      },
      'study',
    );
    const control = { stop: false };
    await hooks.train(config, resume, control);
    if (control.stop) throw new UserError(`study interrupted; run the same command again to resume`);
  } else log(`[3/6] using the finished run ${runDir}`);

  // 4. Evaluation of the trained and the untrained network on the evaluation split.
  log(`[4/6] evaluating on the eval split with ${o.background} background-only images`);
  const evaluations: Partial<Record<'init' | 'best', EvaluateReport>> = {};
  for (const checkpoint of ['init', 'best'] as const) {
    const bar = progress(`evaluate ${checkpoint}`, 1);
    let phase = '';
    evaluations[checkpoint] = await evaluateRunOnData({
      runDir,
      data,
      split: 'eval',
      checkpoint,
      background: o.background,
      ...STUDY_EVAL_LOADER,
      device: o.device,
      onProgress: (d, t, p) => {
        if (p !== phase) {
          phase = p;
          bar.phase(`${checkpoint} ${p}`, t);
        }
        bar.update(d);
      },
    });
    bar.stop();
    // evaluate writes eval/eval.json; keep the untrained one beside it under its own name.
    writeJsonAtomic(join(runDir, 'eval', `eval-${checkpoint}.json`), evaluations[checkpoint]);
  }
  writeJsonAtomic(join(runDir, 'eval', 'eval.json'), evaluations.best);
  const evaluated = { init: evaluations.init!, best: evaluations.best! };

  // 5. The baseline trigger on the same split and background stream (more images: it is cheap).
  const baselinePath = join(runDir, 'baseline', 'eval.json');
  let baseline: BaselineReport;
  if (!existsSync(baselinePath)) {
    log(`[5/6] baseline trigger (TDR clustering) on the eval split with ${o.baselineBackground} background-only images`);
    baseline = await hooks.baseline(data, o.baselineBackground, o.workers);
    mkdirSync(join(runDir, 'baseline'), { recursive: true });
    writeJsonAtomic(baselinePath, baseline);
  } else {
    log(`[5/6] using the existing baseline ${baselinePath}`);
    baseline = readBaselineReport(baselinePath);
  }

  // 5b. The supernova burst trigger on both evaluations: detection probability vs distance at ≤ 1 fake burst per month.
  log('[5/6] burst trigger (network and baseline): detection probability vs supernova distance (docs/burst.md)');
  const bursts = writeRunBursts(runDir, 'eval');

  // 6. Report.
  const reportPath = join(o.out, 'report.html');
  await hooks.writeReport([runDir], reportPath);
  log(`[6/6] report → ${reportPath}`);

  const summary = studySummary(data, runDir, (performance.now() - t0) / 1000, evaluated, baseline, bursts);
  writeJsonAtomic(join(o.out, 'study.json'), summary);
  return { summary, evaluations: evaluated, baseline, bursts, reportPath };
}

/** study.json: the headline figures of the study. */
function studySummary(
  data: string,
  runDir: string,
  seconds: number,
  evaluations: { init: EvaluateReport; best: EvaluateReport },
  baseline: BaselineReport,
  bursts: Partial<Record<'network' | 'baseline', BurstReport>>,
) {
  return {
    data,
    run: runDir,
    seconds,
    untrained: evaluationSummary(evaluations.init),
    trained: evaluationSummary(evaluations.best),
    baseline: { ...triggerHeadline(baseline.trigger), backgroundImages: baseline.backgroundImages, algorithm: baseline.algorithm },
    // Network and baseline at the same rates, by the same rule (null where the rules differ: a baseline kept from an older study).
    comparison: comparison(evaluations.best.trigger!, baseline.trigger),
    validation: lastEpochStats(runDir),
    burst: { network: bursts.network ? burstHeadline(bursts.network) : null, baseline: bursts.baseline ? burstHeadline(bursts.baseline) : null },
  };
}

/** Headline trigger figures (network or baseline), for study.json and the README: the rule, and at
 *  each rate the flat 1–70 MeV and the supernova-spectrum efficiencies with their errors. */
function triggerHeadline(stats: TriggerReport) {
  return {
    match: stats.match,
    matchRule: stats.matchRule,
    efficiency: stats.efficiency.integrated.all.efficiency,
    efficiencyErr: stats.efficiency.integrated.all.stdErr,
    efficiencyVisible: stats.efficiency.integrated.visible.efficiency,
    efficiencySupernova: stats.efficiency.supernova.efficiency,
    efficiencySupernovaErr: stats.efficiency.supernova.stdErr,
    threshold: stats.efficiency.threshold,
    fpHz: stats.falsePositives.hz,
    fpHzInterval: stats.falsePositives.intervalHz,
    operatingPoints: stats.operatingPoints.map((p) => ({
      targetHz: p.targetHz,
      threshold: p.threshold,
      fpHz: p.fpHz,
      fpHzInterval: p.fpHzInterval,
      efficiency: p.efficiency,
      efficiencyErr: p.table?.integrated.all.stdErr ?? null,
      efficiencySupernova: p.table?.supernova.efficiency ?? null,
      efficiencySupernovaErr: p.table?.supernova.stdErr ?? null,
    })),
  };
}

/** study.json's side by side: at each rate, the network's and the baseline's flat and supernova efficiencies by one rule. */
function comparison(network: TriggerReport, baseline: TriggerReport) {
  if (ruleOf(network) !== ruleOf(baseline)) return null;
  const n = triggerHeadline(network).operatingPoints;
  const b = triggerHeadline(baseline).operatingPoints;
  return {
    match: ruleOf(network),
    matchRule: network.matchRule,
    rates: n.map((p) => ({ targetHz: p.targetHz, network: p, baseline: b.find((q) => q.targetHz === p.targetHz) ?? null })),
  };
}

/** Headline figures of one evaluation, for study.json and the README. */
function evaluationSummary(r: EvaluateReport) {
  return { map50: r.map.map50AllPoint, mapCoco: r.map.mapCoco, ...triggerHeadline(r.trigger!) }; // the study's data are simulated
}

/** Validation recall50 and mAP of the last epoch, from metrics.jsonl. */
function lastEpochStats(runDir: string) {
  const { epochs } = parseMetrics(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), join(runDir, 'metrics.jsonl'));
  const first = epochs[0];
  const last = epochs.at(-1);
  const pick = (e: typeof last) =>
    e && { epoch: e.epoch, objective: e.val.objective, map50: e.val.map50, recall50: e.val.stats.map((s: { recall50: number | null }) => s.recall50) };
  return { first: pick(first), last: pick(last) };
}
