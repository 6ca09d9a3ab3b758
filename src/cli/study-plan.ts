// `daqyolo study --plan NAME`: the study plans as the CLI knows them. Each plan is one entry of
// PLANS: its help line, the default study's options it reads, its own options and its run. The
// plan's own options are registered on `study` (by `registerPlanOptions`, under their own help
// heading) and refused, as one line naming the option, without --plan or with a plan that does
// not read them (`checkPlanOptions`). The plans themselves are in study/ (seed-plan-run.ts's
// `runSeedPlan`, budget-plan-run.ts's `runBudgetPlan`); this file supplies what study/ may not
// import (the trainer with Ctrl-C/SIGTERM handling, the baseline command, the plan report, progress
// bars) and prints what the seed plan returns; study-budget.ts does both for the budget plan.
//
// Adding a plan: one entry in PLANS. An option two plans share is declared in both lists with the
// same flags (e.g. one function making it, called in both): it is registered once, under a heading
// naming both plans.
import { join } from 'node:path';
import { Option, type Command, type OptionValues } from 'commander';
import { runSeedPlan, minutes, type SeedPlanOptions } from '../study/seed-plan-run.js';
import { loadPlanRuns, writePlanReport } from '../report/plan-report.js';
import { valMap } from '../report/findings.js';
import { UserError } from '../errors.js';
import { trainStoppable } from './train.js';
import { onStopSignals } from './signals.js';
import { clusterParamsOfData, runBaseline } from './baseline.js';
import { progress } from './progress.js';
import { clusterVariantsList, count, custom, integer, number, oneOf, MAX, OptionValueError } from './options.js';
import { budgetOptions, runBudgetPlanCli } from './study-budget.js';

/** One plan of `study --plan NAME`. */
export interface StudyPlanCli {
  /** What the plan runs: --plan's help line. */
  summary: string;
  /** The default study's options (attribute names) the plan reads; another of them given with this plan is refused. */
  studyOptions: readonly string[];
  /** The plan's own options, made fresh for every command (commander keeps state in them). */
  options(): Option[];
  /** Runs the plan; `given(attribute)` says whether an option was on the command line (not its default). */
  run(o: OptionValues, given: (attribute: string) => boolean): Promise<void>;
  /** Why the plan does not read an option (by attribute name) and what to give instead: added to its refusal. */
  instead?: Readonly<Record<string, string>>;
}

// The options the seed and the budget plan share (the same flags in both lists: one heading).
const fpImagesOption = () =>
  new Option('--fp-images <n>', "background-only images for the end point's fprate (budget: each point's, default 10⁶)").argParser(count(MAX.streamImages));
const warmupEpochsOption = () =>
  new Option('--warmup-epochs <n>', 'warm-up epochs of every run (quick 1, full 3; budget 1)').argParser(integer({ max: MAX.epochs }));
const endpointEpochsOption = () =>
  new Option('--endpoint-epochs <n>', "most epochs of the end point's convergence training (quick 12, full 100; budget: each point's, 100)").argParser(
    count(MAX.epochs),
  );
const endpointPatienceOption = () =>
  new Option('--endpoint-patience <n>', 'early-stopping patience of the end point, in epochs (quick 3, full 5; budget 5)').argParser(count(MAX.epochs));
const slurmOption = () => new Option('--slurm', 'write a Slurm array script for the runs (budget: one task per point) instead of running them here');
const dryRunOption = () => new Option('--dry-run', 'print the runs and the expected time, and exit');

/** "500,2000,8000" → numbers, each checked by `ok`. */
const listOf = (kind: string, ok: (n: number) => boolean) =>
  custom(`comma-separated ${kind}`, (v) => {
    const xs = v.split(',').map((x) => Number(x.trim()));
    if (!xs.length || xs.some((x) => !Number.isFinite(x) || !ok(x))) throw new OptionValueError(`expected comma-separated ${kind}, got "${v}"`);
    return xs;
  });

/** The default study's options that override the seed plan's setting of the same name when given. */
const SEED_OVERRIDES = ['images', 'epochs', 'size', 'variant', 'width', 'background'] as const;
/** The seed plan's own options that override its setting of the same name (no default of their own). */
const SEED_OWN_OVERRIDES = ['fpImages', 'lowStats', 'warmupEpochs', 'endpointEpochs', 'endpointPatience'] as const;

export const PLANS = {
  seed: {
    summary: "'seed' = every comparison of the Bristol slides, with generated findings",
    studyOptions: ['out', ...SEED_OVERRIDES, 'seed', 'device'],
    options: () => [
      new Option('--quick', 'the small version (about 10 min on a 2-core CPU)'),
      new Option('--parallel <n>', 'runs at once on this machine').argParser(count(MAX.processes)).default(1),
      new Option('--hours <h>', 'the time budget; the dataset is made as large as fits (unless --images is given)').argParser(
        number({ min: 0, max: 100_000, exclusiveMin: true }),
      ),
      fpImagesOption(),
      warmupEpochsOption(),
      endpointEpochsOption(),
      endpointPatienceOption(),
      new Option('--low-stats <n>', 'training images of the low-statistics run').argParser(count(MAX.datasetImages)),
      slurmOption(),
      dryRunOption(),
      new Option('--no-endpoint', 'skip the end point (convergence training and fprate)'),
      new Option(
        '--reevaluate',
        "evaluate every finished run again even when its eval.json exists (e.g. after the matching rule changed); the end point's evaluations are redone on every call",
      ),
    ],
    run: async (o, given) => {
      const overrides: SeedPlanOptions['overrides'] = {};
      for (const k of SEED_OVERRIDES) if (given(k)) Object.assign(overrides, { [k]: o[k] });
      for (const k of SEED_OWN_OVERRIDES) if (o[k] !== undefined) Object.assign(overrides, { [k]: o[k] });
      await runSeed({
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
    },
  },
  budget: {
    summary: "'budget' = efficiency against training images (docs/budget.md)",
    // --variant: sparse-yolov3 or sparse-yolov3-tiny (checked by the run); --out defaults to study-budget.
    studyOptions: ['out', 'size', 'variant', 'width', 'seed', 'device'],
    options: () => [
      new Option('--budget-points <list>', 'training-set sizes of the curve (default 500,2000,8000,20000)').argParser(
        listOf('training-image counts ≥ 1', (n) => Number.isInteger(n) && n >= 1 && n <= MAX.datasetImages),
      ),
      new Option(
        '--budget-seeds <list>',
        "training seeds: each point trained once per seed (its own draw of N training images, initial weights and batch order), the curve their mean and spread (default: --seed's one)",
      ).argParser(listOf('seeds ≥ 0', (n) => Number.isInteger(n) && n >= 0 && n <= MAX.seed)),
      new Option('--budget-rates <list>', 'FP rates per 10 kt module, Hz (default 1.8,10)').argParser(listOf('rates > 0 Hz', (x) => x > 0 && x <= 1e9)),
      new Option('--budget-val-images <n>', 'validation images shared by every point (default 2000)').argParser(integer({ min: 1, max: MAX.datasetImages })),
      new Option('--budget-eval-images <n>', 'evaluation images shared by every point (default 2000)').argParser(integer({ min: 1, max: MAX.datasetImages })),
      new Option(
        '--budget-obj-loss <kind>',
        "objectness loss of every point: bce (default) or mse (the thesis's; its scores saturate, docs/budget.md)",
      ).argParser(oneOf(['mse', 'bce'] as const)),
      new Option(
        '--budget-isolated-radius <px>',
        'drop pixels with no other active pixel within this many channels and ticks before the network, at every point (default 0: keep all; docs/budget.md)',
      ).argParser(integer({ max: MAX.imageSize })),
      new Option(
        '--budget-positive-min-tps <n>',
        'interactions with fewer TPs are no training positives, only ignored in the loss, at every point (default 0: every box a positive; docs/budget.md)',
      ).argParser(integer({ max: MAX.interactionTps })),
      new Option(
        '--budget-cluster-variants <list>',
        'other clusterings for the baseline stream as gap:Δt pairs (e.g. 4:80,8:160): the clustering tuned on validation over them is drawn beside the TDR baseline (the control; docs/budget.md)',
      ).argParser(clusterVariantsList),
      new Option('--budget-task <i>', "run only point i of a plan written by --slurm (a Slurm array task's index)").argParser(integer({ max: MAX.processes })),
      new Option('--budget-finished', 'the baseline, budget.json and the chart from the points finished so far; trains no other'),
      fpImagesOption(),
      warmupEpochsOption(),
      endpointEpochsOption(),
      endpointPatienceOption(),
      slurmOption(),
      dryRunOption(),
    ],
    instead: {
      images: 'the dataset is the largest point + --budget-val-images + --budget-eval-images',
      epochs: 'each point trains to convergence: --endpoint-epochs is the most',
      background: "each point's FP rate is from --fp-images",
      baselineBackground: "the baseline's FP rate is from --fp-images",
      quick: 'give smaller --budget-points and --fp-images',
      parallel: 'points run one after another here; --slurm runs them at once',
      hours: '--dry-run says what each point takes',
      lowStats: 'the points are --budget-points',
      endpoint: 'every point is measured like an end point',
      reevaluate: 'delete a point.json to measure that point again',
    },
    run: (o, given) => runBudgetPlanCli(budgetOptions(o, given)),
  },
} satisfies Record<string, StudyPlanCli>;

export type PlanName = keyof typeof PLANS;
export const PLAN_NAMES = Object.keys(PLANS) as PlanName[];

/** The plans declaring each plan option, by its long flag. */
function planOptions(): Map<string, { option: Option; plans: PlanName[] }> {
  const byFlag = new Map<string, { option: Option; plans: PlanName[] }>();
  for (const name of PLAN_NAMES)
    for (const option of (PLANS[name] as StudyPlanCli).options()) {
      const seen = byFlag.get(option.long!);
      if (seen && seen.option.flags !== option.flags)
        throw new Error(`study --plan ${name}: ${option.long} is declared as '${option.flags}' and as '${seen.option.flags}'`);
      if (seen) seen.plans.push(name);
      else byFlag.set(option.long!, { option, plans: [name] });
    }
  return byFlag;
}

const planList = (plans: readonly string[]) => `--plan ${plans.join(' or ')}`;

/** Registers every plan's own options on `study`, each under the heading "Options of --plan NAME:". */
export function registerPlanOptions(study: Command): void {
  for (const { option, plans } of planOptions().values()) study.addOption(option.helpGroup(`Options of ${planList(plans)}:`));
}

/**
 * Refuses (UserError, one line naming the option) an option given on the command line that the
 * chosen plan, or the default study without --plan, does not read. `study`'s preAction hook.
 */
export function checkPlanOptions(study: Command): void {
  const plan = study.getOptionValue('plan') as PlanName | undefined;
  const ofPlans = planOptions();
  for (const option of study.options) {
    if (option.long === '--plan' || study.getOptionValueSource(option.attributeName()) !== 'cli') continue;
    const attribute = option.attributeName();
    const plans = ofPlans.get(option.long!)?.plans;
    const instead = plan === undefined ? undefined : (PLANS[plan] as StudyPlanCli).instead?.[attribute];
    const why = instead ? `; ${instead}` : '';
    if (plans && plan === undefined) throw new UserError(`${option.long}: only with ${planList(plans)}`);
    if (plans && !plans.includes(plan!)) throw new UserError(`${option.long}: not read by --plan ${plan} (only with ${planList(plans)})${why}`);
    if (!plans && plan !== undefined && !PLANS[plan].studyOptions.includes(attribute)) {
      const readers = PLAN_NAMES.filter((n) => PLANS[n].studyOptions.includes(attribute));
      throw new UserError(`${option.long}: not read by --plan ${plan} (only by the default study${readers.length ? ` and ${planList(readers)}` : ''})${why}`);
    }
  }
}

/** `study --plan seed`: runs the plan with the CLI's hooks and prints what it returns. */
async function runSeed(o: SeedPlanOptions): Promise<void> {
  const r = await runSeedPlan(o, {
    train: trainStoppable,
    baselineParams: (data) => clusterParamsOfData({}, data),
    baseline: runBaseline,
    validationMaps: (m) => [...loadPlanRuns(m).values()].map(({ experiment, run }) => ({ experiment, valMap: valMap(run) })),
    writeReport: writePlanReport,
    onStop: onStopSignals,
    log: (line) => console.error(line),
    progress,
  });
  if (r.kind === 'dry-run') {
    for (const e of r.experiments)
      console.log(`${e.name}\t${e.group}\t${JSON.stringify(e.values)}\t~${minutes(r.estimate.perRun.find((x) => x.name === e.name)!.seconds)}`);
  } else if (r.kind === 'slurm') {
    console.log(`wrote ${r.script}: ${r.runs} array tasks. Submit with: sbatch ${r.script}`);
    console.log(`when the array has finished, run this command again without --slurm: it evaluates the runs, measures the end point and writes the report`);
  } else {
    for (const f of r.report.findings) console.log(`- ${f.question} [${f.verdict}]\n  ${f.answer}`);
    console.log(`\nreport: ${r.report.path} (comparisons: ${r.report.comparisons.length} reports in ${join(r.out, 'comparisons')}); findings.json beside it`);
  }
}
