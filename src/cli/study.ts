// `daqyolo study`: the default study of the README's quick start, end to end on this machine —
// simulate a small SNNu dataset, compute anchors, train a light YOLOv3 for a few epochs,
// evaluate the trained and the untrained network, and write the report. Each stage is skipped
// when its output already exists (a killed study resumes where it stopped).
// The stages themselves are study/default-study.ts's `runDefaultStudy`; this file parses and prints.
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { clusterParamsOfData, runBaseline } from './baseline.js';
import { sideBySide, summarize } from './evaluate.js';
import { writeStudyReport } from './report.js';
import { trainStoppable } from './train.js';
import { progress } from './progress.js';
import { count, device, integer, number, oneOf, MAX } from './options.js';
import { runSeedPlan, type PlanCliOptions } from './study-plan.js';
import { addBudgetOptions, budgetOptions, runBudgetPlanCli } from './study-budget.js';
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
    .option(
      '--plan <name>',
      "run a study plan instead: 'seed' = every comparison of the Bristol slides, with generated findings; 'budget' = efficiency against training images (docs/budget.md)",
      oneOf(['seed', 'budget']),
    )
    .option('--quick', 'with --plan: the small version (about 30 min on a 2-core CPU)')
    .option('--parallel <n>', 'with --plan: runs at once on this machine', count(MAX.processes), 1)
    .option(
      '--hours <h>',
      'with --plan: the time budget; the dataset is made as large as fits (unless --images is given)',
      number({ min: 0, max: 100_000, exclusiveMin: true }),
    )
    .option('--fp-images <n>', "with --plan: background-only images for the end point's fprate", count(MAX.streamImages))
    .option('--warmup-epochs <n>', 'with --plan: warm-up epochs of every run (quick 1, full 3)', integer({ max: MAX.epochs }))
    .option('--endpoint-epochs <n>', "with --plan: most epochs of the end point's convergence training (quick 12, full 100)", count(MAX.epochs))
    .option('--endpoint-patience <n>', 'with --plan: early-stopping patience of the end point, in epochs (quick 3, full 5)', count(MAX.epochs))
    .option('--low-stats <n>', 'with --plan: training images of the low-statistics run', count(MAX.datasetImages))
    .option('--slurm', 'with --plan: write a Slurm array script for the runs instead of running them here')
    .option('--dry-run', 'with --plan: print the runs and the expected time, and exit')
    .option('--no-endpoint', 'with --plan: skip the end point (convergence training and fprate)')
    .option(
      '--reevaluate',
      "with --plan: evaluate every finished run again even when its eval.json exists (e.g. after the matching rule changed); the end point's evaluations are redone on every call",
    )
    .action(async (o, cmd: Command) => {
      if (o.plan === 'budget') return runBudgetPlanCli(budgetOptions(o, (k) => cmd.getOptionValueSource(k) === 'cli'));
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
          out: given('out') ? o.out : o.quick ? 'study-seed-quick' : 'study-seed',
          quick: Boolean(o.quick),
          overrides,
          seed: o.seed,
          device: o.device,
          parallel: o.parallel,
          hours: o.hours,
          slurm: Boolean(o.slurm),
          dryRun: Boolean(o.dryRun),
          endpoint: o.endpoint !== false,
          reevaluate: Boolean(o.reevaluate),
        });
        return;
      }
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
  addBudgetOptions(study);
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
