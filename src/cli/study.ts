// `daqyolo study`: the default study of the README's quick start, end to end on this machine —
// simulate a small SNNu dataset, compute anchors, train a light YOLOv3 for a few epochs,
// evaluate the trained and the untrained network, and write the report. Each stage is skipped
// when its output already exists (a killed study resumes where it stopped).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { defaultSimConfig } from '../sim/config.js';
import { generateDataset } from '../data/generate.js';
import { openDataset } from '../data/store.js';
import { kmeansAnchors, assignToScales } from '../anchors/kmeans.js';
import { parseTrainConfig } from '../config/train-config.js';
import { train } from '../train/trainer.js';
import { lockRunDir, runState } from '../run/run-dir.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { parseMetrics } from '../schema/run.js';
import { evaluateRunOnData, type BaselineReport, type EvaluateReport } from '../eval/evaluate.js';
import { ruleOf, type TriggerReport } from '../eval/efficiency.js';
import { clusterParamsOfData, runBaseline } from './baseline.js';
import { sideBySide, summarize } from './evaluate.js';
import { writeStudyReport } from './report.js';
import { trainReporter } from './train.js';
import { progress } from './progress.js';
import { count, device, integer, number, oneOf, MAX } from './options.js';
import { runSeedPlan, type PlanCliOptions } from './study-plan.js';
import { scalesOf, variants, type Variant } from '../model/yolo.js';


/** Headline trigger figures (network or baseline), for study.json and the README: the rule, and at
 *  each rate the flat 1–70 MeV and the supernova-spectrum efficiencies with their errors. */
function triggerHeadline(stats: TriggerReport) {
  return {
    match: stats.match, matchRule: stats.matchRule,
    efficiency: stats.efficiency.integrated.all.efficiency, efficiencyErr: stats.efficiency.integrated.all.stdErr,
    efficiencyVisible: stats.efficiency.integrated.visible.efficiency,
    efficiencySupernova: stats.efficiency.supernova.efficiency, efficiencySupernovaErr: stats.efficiency.supernova.stdErr,
    threshold: stats.efficiency.threshold, fpHz: stats.falsePositives.hz, fpHzInterval: stats.falsePositives.intervalHz,
    operatingPoints: stats.operatingPoints.map((p) => ({
      targetHz: p.targetHz, threshold: p.threshold, fpHz: p.fpHz, fpHzInterval: p.fpHzInterval,
      efficiency: p.efficiency, efficiencyErr: p.table?.integrated.all.stdErr ?? null,
      efficiencySupernova: p.table?.supernova.efficiency ?? null, efficiencySupernovaErr: p.table?.supernova.stdErr ?? null,
    })),
  };
}

/** study.json's side by side: at each rate, the network's and the baseline's flat and supernova efficiencies by one rule. */
function comparison(network: TriggerReport, baseline: TriggerReport) {
  if (ruleOf(network) !== ruleOf(baseline)) return null;
  const n = triggerHeadline(network).operatingPoints;
  const b = triggerHeadline(baseline).operatingPoints;
  return { match: ruleOf(network), matchRule: network.matchRule, rates: n.map((p) => ({ targetHz: p.targetHz, network: p, baseline: b.find((q) => q.targetHz === p.targetHz) ?? null })) };
}

/** Headline figures of one evaluation, for study.json and the README. */
function evaluationSummary(r: EvaluateReport) {
  return { map50: r.map.map50AllPoint, mapCoco: r.map.mapCoco, ...triggerHeadline(r.trigger!) }; // the study's data are simulated
}

export function registerStudy(program: Command): void {
  program
    .command('study')
    .description('the default study: simulate, anchors, train a light YOLOv3, evaluate (trained vs untrained), report')
    .option('--out <dir>', 'study folder (dataset, run, report)', 'study')
    .option('--images <n>', 'simulated images (80/10/10 split)', integer({ min: 20, max: MAX.datasetImages }), 2000)
    .option('--epochs <n>', 'training epochs', count(MAX.epochs), 10)
    // The hybrid sparse tiny network: as accurate as the dense one within errors, several times faster (README, Figures).
    .option('--variant <name>', 'sparse-yolov3-tiny (sparse to stride 8, dense from 16), yolov3-tiny (dense), sparse-yolov3 or yolov3', oneOf(variants), 'sparse-yolov3-tiny')
    .option('--width <w>', 'channel-width multiplier', number({ min: 0, max: MAX.width, exclusiveMin: true }), 0.25)
    .option('--size <px>', 'image and network size', integer({ min: 32, max: MAX.imageSize, multipleOf: 32 }), 480)
    .option('--background <n>', 'background-only images for the network\'s FP rate (≥ 2 100 reach 100 Hz per module)', integer({ max: MAX.streamImages }), 2500)
    .option('--baseline-background <n>', 'background-only images for the baseline trigger\'s FP rate (≥ 20 500 reach 10 Hz)', integer({ max: MAX.streamImages }), 25000)
    .option('--workers <n>', 'simulation threads for the baseline\'s background', integer({ max: MAX.processes }), 2)
    .option('--seed <n>', 'seed of the simulation and the training', integer({ max: MAX.seed }), 1)
    .option('--device <name>', 'auto, cpu, cuda', device(), 'auto')
    .option('--plan <name>', "run a study plan instead: 'seed' = every comparison of the Bristol slides, with generated findings", oneOf(['seed']))
    .option('--quick', 'with --plan: the small version (about 30 min on a 2-core CPU)')
    .option('--parallel <n>', 'with --plan: runs at once on this machine', count(MAX.processes), 1)
    .option('--hours <h>', 'with --plan: the time budget; the dataset is made as large as fits (unless --images is given)', number({ min: 0, max: 100_000, exclusiveMin: true }))
    .option('--fp-images <n>', 'with --plan: background-only images for the end point\'s fprate', count(MAX.streamImages))
    .option('--warmup-epochs <n>', 'with --plan: warm-up epochs of every run (quick 1, full 3)', integer({ max: MAX.epochs }))
    .option('--endpoint-epochs <n>', 'with --plan: most epochs of the end point\'s convergence training (quick 12, full 100)', count(MAX.epochs))
    .option('--endpoint-patience <n>', 'with --plan: early-stopping patience of the end point, in epochs (quick 3, full 5)', count(MAX.epochs))
    .option('--low-stats <n>', 'with --plan: training images of the low-statistics run', count(MAX.datasetImages))
    .option('--slurm', 'with --plan: write a Slurm array script for the runs instead of running them here')
    .option('--dry-run', 'with --plan: print the runs and the expected time, and exit')
    .option('--no-endpoint', 'with --plan: skip the end point (convergence training and fprate)')
    .option('--reevaluate', 'with --plan: evaluate every finished run again even when its eval.json exists (e.g. after the matching rule changed); the end point\'s evaluations are redone on every call')
    .action(async (o, cmd: Command) => {
      if (o.plan !== undefined) {
        if (o.plan !== 'seed') throw new UserError(`--plan ${o.plan}: the known plan is 'seed'`);
        if (o.hours !== undefined && !(o.hours > 0)) throw new UserError(`--hours must be a positive number of hours, got ${o.hours}`);
        const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
        const overrides: PlanCliOptions['overrides'] = {};
        if (given('images')) overrides.images = o.images;
        if (given('epochs')) overrides.epochs = o.epochs;
        if (given('size')) overrides.size = o.size;
        if (given('variant')) overrides.variant = o.variant;
        if (given('width')) overrides.width = o.width;
        if (given('background')) overrides.background = o.background;
        if (o.fpImages !== undefined) overrides.fpImages = o.fpImages;
        if (o.lowStats !== undefined) overrides.lowStats = o.lowStats;
        if (o.warmupEpochs !== undefined) overrides.warmupEpochs = o.warmupEpochs;
        if (o.endpointEpochs !== undefined) overrides.endpointEpochs = o.endpointEpochs;
        if (o.endpointPatience !== undefined) overrides.endpointPatience = o.endpointPatience;
        await runSeedPlan({
          out: given('out') ? o.out : (o.quick ? 'study-seed-quick' : 'study-seed'), quick: Boolean(o.quick), overrides, seed: o.seed, device: o.device,
          parallel: o.parallel, hours: o.hours, slurm: Boolean(o.slurm), dryRun: Boolean(o.dryRun), endpoint: o.endpoint !== false, reevaluate: Boolean(o.reevaluate),
        });
        return;
      }
      const data = join(o.out, 'snnu.h5');
      const runDir = join(o.out, 'run');
      const t0 = performance.now();
      mkdirSync(o.out, { recursive: true });
      lockRunDir(o.out); // one study at a time on a folder (released at exit)

      // 1. Dataset.
      if (!existsSync(data)) {
        console.error(`[1/6] simulating ${o.images} SNNu images (${o.size} × ${o.size}) → ${data}`);
        const config = defaultSimConfig();
        config.image.size = o.size;
        // The TPs with their owners: the TP matching rule reads them (no regeneration at evaluation).
        config.storeTps = true;
        const bar = progress('simulate', o.images);
        await generateDataset({ out: data, config, images: o.images, seed: o.seed, handleSignals: true, onProgress: (d) => bar.update(d) });
        bar.stop();
      } else console.error(`[1/6] using the existing dataset ${data}`);

      // 2. Anchors (the trainer computes the same ones; printed here for the record).
      const reader = openDataset(data);
      const { w, h } = reader.boxSizes('train');
      reader.close();
      const k = 3 * scalesOf(o.variant as Variant);
      const km = kmeansAnchors(w, h, { k, seed: o.seed, restarts: 5 });
      console.error(`[2/6] anchors (IoU k-means over ${w.length} training boxes, mean best IoU ${km.meanBestIou.toFixed(3)}): ` +
        assignToScales(km.anchors, k / 3).map((s) => s.map(([a, b]) => `[${a.toFixed(1)},${b.toFixed(1)}]`).join(' ')).join(' | '));

      // 3. Training (resumed if a previous study was interrupted).
      const state = runState(runDir);
      if (state !== 'done') {
        const resume = state === 'resume';
        if (state === 'restart') rmSync(runDir, { recursive: true, force: true });
        console.error(`[3/6] training ${o.variant} width ${o.width} for ${o.epochs} epochs${resume ? ' (resuming)' : ''} → ${runDir}`);
        const config = parseTrainConfig({
          data, out: runDir, epochs: o.epochs, batch: 8, seed: o.seed, device: o.device,
          model: { variant: o.variant, width: o.width, size: o.size },
          optimizer: { lr: 1e-3 }, schedule: { kind: 'cosine' }, warmupEpochs: 1,
          // Mirroring either axis gives physically valid events: 4× the distinct training images.
          augment: { flipChannels: 0.5, flipTime: 0.5 },
        }, 'study');
        const control = { stop: false };
        const onSigint = () => { if (control.stop) process.exit(130); control.stop = true; console.error('\nstopping after the current batch…'); };
        process.on('SIGINT', onSigint);
        try {
          await train({ config, resume, onEvent: trainReporter(), control });
        } finally {
          process.off('SIGINT', onSigint);
        }
        if (control.stop) throw new UserError(`study interrupted; run the same command again to resume`);
      } else console.error(`[3/6] using the finished run ${runDir}`);

      // 4. Evaluation of the trained and the untrained network on the evaluation split.
      console.error(`[4/6] evaluating on the eval split with ${o.background} background-only images`);
      const evaluations: Record<string, EvaluateReport> = {};
      for (const checkpoint of ['init', 'best'] as const) {
        const bar = progress(`evaluate ${checkpoint}`, 1);
        let phase = '';
        evaluations[checkpoint] = await evaluateRunOnData({
          runDir, data, split: 'eval', checkpoint, background: o.background, batch: 8, workers: 1, device: o.device,
          onProgress: (d, t, p) => { if (p !== phase) { phase = p; bar.phase(`${checkpoint} ${p}`, t); } bar.update(d); },
        });
        bar.stop();
        // evaluate writes eval/eval.json; keep the untrained one beside it under its own name.
        writeJsonAtomic(join(runDir, 'eval', `eval-${checkpoint}.json`), evaluations[checkpoint]);
      }
      writeJsonAtomic(join(runDir, 'eval', 'eval.json'), evaluations.best);

      // 5. The baseline trigger on the same split and background stream (more images: it is cheap).
      const baselinePath = join(runDir, 'baseline', 'eval.json');
      let baseline: BaselineReport;
      if (!existsSync(baselinePath)) {
        console.error(`[5/6] baseline trigger (TDR clustering) on the eval split with ${o.baselineBackground} background-only images`);
        baseline = await runBaseline({ data, split: 'eval', params: clusterParamsOfData({}, data), background: o.baselineBackground, workers: o.workers, showProgress: true });
        mkdirSync(join(runDir, 'baseline'), { recursive: true });
        writeJsonAtomic(baselinePath, baseline);
      } else {
        console.error(`[5/6] using the existing baseline ${baselinePath}`);
        baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as BaselineReport;
      }

      // 6. Report.
      const reportPath = join(o.out, 'report.html');
      await writeStudyReport([runDir], reportPath);
      console.error(`[6/6] report → ${reportPath}`);

      const summary = {
        data, run: runDir, seconds: (performance.now() - t0) / 1000,
        untrained: evaluationSummary(evaluations.init!), trained: evaluationSummary(evaluations.best!),
        baseline: { ...triggerHeadline(baseline.trigger), backgroundImages: baseline.backgroundImages, algorithm: baseline.algorithm },
        // Network and baseline at the same rates, by the same rule (null where the rules differ: a baseline kept from an older study).
        comparison: comparison(evaluations.best!.trigger!, baseline.trigger),
        validation: lastEpochStats(runDir),
      };
      writeJsonAtomic(join(o.out, 'study.json'), summary);
      console.log(summarize(evaluations.best!));
      console.log(`\nuntrained network: mAP@0.5 ${pct(summary.untrained.map50)}, efficiency ${pct(summary.untrained.efficiency)} at score ≥ 0.5`);
      console.log(`trained network:   mAP@0.5 ${pct(summary.trained.map50)}, efficiency ${pct(summary.trained.efficiency)} at score ≥ 0.5`);
      // Side by side only by the same rule (both reports use the default, the TP rule) at the same rates.
      console.log(`\n${sideBySide(evaluations.best!.trigger!, baseline.trigger).join('\n')}`);
      console.log(`(FP rates from ${o.background} background images for the network, ${baseline.backgroundImages} for the baseline; a rate is "not reachable" where the sample cannot show it)`);
      console.log(`study: ${o.out}/study.json and ${reportPath} in ${(summary.seconds / 60).toFixed(1)} min`);
    });
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

/** Validation recall50 and mAP of the last epoch, from metrics.jsonl. */
function lastEpochStats(runDir: string) {
  const { epochs } = parseMetrics(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), join(runDir, 'metrics.jsonl'));
  const first = epochs[0];
  const last = epochs.at(-1);
  const pick = (e: typeof last) => e && { epoch: e.epoch, objective: e.val.objective, map50: e.val.map50, recall50: e.val.stats.map((s: { recall50: number | null }) => s.recall50) };
  return { first: pick(first), last: pick(last) };
}
