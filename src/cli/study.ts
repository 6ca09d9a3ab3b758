// `daqyolo study`: the default study of the README's quick start, end to end on this machine —
// simulate a small SNNu dataset, compute anchors, train a light YOLOv3 for a few epochs,
// evaluate the trained and the untrained network, and write the report. Each stage is skipped
// when its output already exists (a killed study resumes where it stopped).
// The stages themselves are study/default-study.ts's `runDefaultStudy`; this file parses and prints.
// `--plan NAME` runs a study plan instead: the plans, their own options (a help group of their own)
// and the check that refuses an option the chosen plan or the default study does not read are in
// study-plan.ts.
import { Command } from 'commander';
import { clusterParamsOfData, runBaseline } from './baseline.js';
import { sideBySide, summarize } from './evaluate.js';
import { writeStudyReport } from './report.js';
import { trainStoppable } from './train.js';
import { progress } from './progress.js';
import { count, device, integer, number, oneOf, MAX } from './options.js';
import { PLANS, PLAN_NAMES, checkPlanOptions, registerPlanOptions, type PlanName } from './study-plan.js';
import { runDefaultStudy } from '../study/default-study.js';
import { variants } from '../model/yolo.js';

export function registerStudy(program: Command): void {
  const study = program
    .command('study')
    .description('the default study: simulate, anchors, train a light YOLOv3, evaluate (trained vs untrained), report')
    .option('--out <dir>', 'study folder (dataset, run, report)', 'study')
    .option('--images <n>', 'simulated images (80/10/10 split)', integer({ min: 20, max: MAX.datasetImages }), 2000)
    .option('--epochs <n>', 'training epochs', count(MAX.epochs), 10)
    // The hybrid sparse tiny network: as accurate as the dense one within errors, several times faster (README, Figures).
    .option(
      '--variant <name>',
      'sparse-yolov3-tiny (sparse to stride 8, dense from 16), yolov3-tiny (dense), sparse-yolov3 or yolov3',
      oneOf(variants),
      'sparse-yolov3-tiny',
    )
    .option('--width <w>', 'channel-width multiplier', number({ min: 0, max: MAX.width, exclusiveMin: true }), 0.25)
    .option('--size <px>', 'image and network size', integer({ min: 32, max: MAX.imageSize, multipleOf: 32 }), 480)
    .option('--background <n>', "background-only images for the network's FP rate (≥ 2 100 reach 100 Hz per module)", integer({ max: MAX.streamImages }), 2500)
    .option(
      '--baseline-background <n>',
      "background-only images for the baseline trigger's FP rate (≥ 20 500 reach 10 Hz)",
      integer({ max: MAX.streamImages }),
      25000,
    )
    .option('--workers <n>', "simulation threads for the baseline's background", integer({ max: MAX.processes }), 2)
    .option('--seed <n>', 'seed of the simulation and the training', integer({ max: MAX.seed }), 1)
    .option('--device <name>', 'auto, cpu, cuda', device(), 'auto')
    .option('--plan <name>', `run a study plan instead: ${PLAN_NAMES.map((n) => PLANS[n].summary).join('; ')}`, oneOf(PLAN_NAMES));
  // Each plan's own options, under their own help heading; refused where the plan (or the default study) does not read them.
  registerPlanOptions(study);
  study.hook('preAction', (cmd) => checkPlanOptions(cmd));
  study.action(async (o, cmd: Command) => {
    const plan = o.plan as PlanName | undefined;
    if (plan !== undefined) return PLANS[plan].run(o, (k) => cmd.getOptionValueSource(k) === 'cli');
    const { summary, evaluations, baseline, bursts, reportPath } = await runDefaultStudy(
      {
        out: o.out,
        images: o.images,
        epochs: o.epochs,
        variant: o.variant,
        width: o.width,
        size: o.size,
        background: o.background,
        baselineBackground: o.baselineBackground,
        workers: o.workers,
        seed: o.seed,
        device: o.device,
      },
      {
        train: trainStoppable,
        baseline: (data, background, workers) =>
          runBaseline({ data, split: 'eval', params: clusterParamsOfData({}, data), background, workers, showProgress: true }),
        writeReport: writeStudyReport,
        log: (line) => console.error(line),
        progress,
      },
    );
    console.log(summarize(evaluations.best!));
    console.log(`\nuntrained network: mAP@0.5 ${pct(summary.untrained.map50)}, efficiency ${pct(summary.untrained.efficiency)} at score ≥ 0.5`);
    console.log(`trained network:   mAP@0.5 ${pct(summary.trained.map50)}, efficiency ${pct(summary.trained.efficiency)} at score ≥ 0.5`);
    // Side by side only by the same rule (both reports use the default, the TP rule) at the same rates.
    console.log(`\n${sideBySide(evaluations.best!.trigger!, baseline.trigger).join('\n')}`);
    console.log(
      `(FP rates from ${o.background} background images for the network, ${baseline.backgroundImages} for the baseline; a rate is "not reachable" where the sample cannot show it)`,
    );
    const kpc = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} kpc`);
    for (const [name, b] of Object.entries(bursts)) {
      console.log(
        `supernova burst (${name}, ≥ ${b.rule.minCount} candidates in ${b.rule.windowS} s per module, ≤ 1 fake burst per month): 50 % at ${kpc(b.d50Kpc.value)}, 90 % at ${kpc(b.d90Kpc.value)}, galactic supernovae caught ${pct(b.galacticFraction.value)}`,
      );
    }
    console.log(`study: ${o.out}/study.json and ${reportPath} in ${(summary.seconds / 60).toFixed(1)} min`);
  });
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
