// `daqyolo study --plan budget`: the training-budget curve (study/budget-plan-run.ts's
// `runBudgetPlan`). The plan's options are its entry in study-plan.ts's PLANS (which also refuses
// the options it does not read); this file turns the parsed ones into the plan's, supplies the
// hooks (the trainer with Ctrl-C/SIGTERM handling, the baseline command, the chart) and prints
// what the plan returns.
import type { OptionValues } from 'commander';
import { UserError } from '../errors.js';
import { runBudgetPlan, type BudgetPlanOptions } from '../study/budget-plan-run.js';
import { budgetVariants, hms, SITTING_SECONDS, type BudgetSettings, type BudgetVariant } from '../study/budget-plan.js';
import { trainSeedsOf } from '../study/budget-seeds.js';
import { writeBudgetReport } from '../report/budget-report.js';
import { trainStoppable } from './train.js';
import { onStopSignals } from './signals.js';
import { clusterParamsOfData, runBaseline } from './baseline.js';
import { progress } from './progress.js';

/** The plan's options from `study`'s parsed ones: what was given on the command line overrides the defaults. */
export function budgetOptions(o: OptionValues, given: (key: string) => boolean): BudgetPlanOptions {
  const overrides: Partial<BudgetSettings> = {};
  if (given('variant')) {
    if (!(budgetVariants as readonly string[]).includes(o.variant as string))
      throw new UserError(`--variant ${o.variant as string}: the budget plan draws the curve for ${budgetVariants.join(' or ')}`);
    overrides.variant = o.variant as BudgetVariant;
  }
  if (given('size')) overrides.size = o.size as number;
  if (given('width')) overrides.width = o.width as number;
  if (given('seed')) overrides.seed = o.seed as number;
  if (o.fpImages !== undefined) overrides.fpImages = o.fpImages as number;
  if (o.endpointEpochs !== undefined) overrides.maxEpochs = o.endpointEpochs as number;
  if (o.endpointPatience !== undefined) overrides.patience = o.endpointPatience as number;
  if (o.warmupEpochs !== undefined) overrides.warmupEpochs = o.warmupEpochs as number;
  if (o.budgetPoints !== undefined) overrides.points = o.budgetPoints as number[];
  if (o.budgetSeeds !== undefined) overrides.trainSeeds = o.budgetSeeds as number[];
  if (o.budgetRates !== undefined) overrides.rates = o.budgetRates as number[];
  if (o.budgetValImages !== undefined) overrides.valImages = o.budgetValImages as number;
  if (o.budgetEvalImages !== undefined) overrides.evalImages = o.budgetEvalImages as number;
  if (o.budgetObjLoss !== undefined) overrides.objLoss = o.budgetObjLoss as 'mse' | 'bce';
  if (o.budgetIsolatedRadius !== undefined) overrides.isolatedRadius = o.budgetIsolatedRadius as number;
  if (o.budgetPositiveMinTps !== undefined) overrides.positiveMinTps = o.budgetPositiveMinTps as number;
  if (o.budgetClusterVariants !== undefined) overrides.clusterVariants = o.budgetClusterVariants as BudgetSettings['clusterVariants'];
  if (o.budgetFinished && (o.budgetTask !== undefined || o.slurm || o.dryRun))
    throw new UserError('--budget-finished draws the points already finished: not with --budget-task, --slurm or --dry-run');
  return {
    out: given('out') ? (o.out as string) : 'study-budget',
    overrides,
    device: o.device as string,
    dryRun: Boolean(o.dryRun),
    slurm: Boolean(o.slurm),
    task: o.budgetTask as number | undefined,
    finished: Boolean(o.budgetFinished),
  };
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

export async function runBudgetPlanCli(o: BudgetPlanOptions): Promise<void> {
  const r = await runBudgetPlan(o, {
    train: trainStoppable,
    baselineParams: (data) => clusterParamsOfData({}, data),
    baseline: runBaseline,
    writeReport: writeBudgetReport,
    onStop: onStopSignals,
    log: (line) => console.error(line),
    progress,
  });
  if (r.kind === 'dry-run') {
    const s = r.settings;
    const e = r.estimate;
    console.log(
      `budget plan: ${s.variant} width ${s.width} at ${s.size} px; points ${s.points.join(', ')} training images${trainSeedsOf(s).length > 1 ? `, each with training seeds ${trainSeedsOf(s).join(', ')}` : ''}; ${s.valImages} validation and ${s.evalImages} evaluation images; ` +
        `up to ${s.maxEpochs} epochs, patience ${s.patience}, objectness ${s.objLoss}${s.isolatedRadius > 0 ? `, isolated pixels dropped (radius ${s.isolatedRadius})` : ''}${s.positiveMinTps > 0 ? `, interactions under ${s.positiveMinTps} TPs ignored in the loss` : ''}; fprate over ${s.fpImages.toLocaleString('en')} images per point; rates ${s.rates.join(', ')} Hz`,
    );
    console.log(`run\ttrain images\tepochs (est.)\ttraining\tfprate\tevaluation\ttotal\tfits a ${SITTING_SECONDS / 3600} h sitting`);
    for (const p of e.points)
      console.log(
        `${p.name}\t${p.trainImages}\t${p.epochs}\t${hms(p.trainSeconds)}\t${hms(p.fprateSeconds)}\t${hms(p.evaluateSeconds)}\t${hms(p.seconds)}\t${p.fits ? 'yes' : `no (${(p.seconds / SITTING_SECONDS).toFixed(1)} sittings)`}`,
      );
    console.log(`dataset (once)\t${hms(e.datasetSeconds)}`);
    console.log(`baseline (once)\t${hms(e.baselineSeconds)}`);
    console.log(`total\t${hms(e.seconds)} on this machine`);
    console.log(`basis: ${e.basis}`);
    if (r.slurm) console.log(`\nthe Slurm array (--slurm without --dry-run writes it as budget.sbatch after simulating the dataset):\n${r.slurm}`);
  } else if (r.kind === 'slurm') {
    console.log(
      `wrote ${r.script}: ${r.points} array tasks, one per ${r.seeds > 1 ? `training (${r.points / r.seeds} points × ${r.seeds} seeds)` : 'point'}. Submit with: sbatch ${r.script}`,
    );
    console.log('when the array has finished, run this command again without --slurm: it measures the baseline and writes budget.json and the chart');
  } else if (r.kind === 'task') {
    console.log(
      `point ${r.point.trainImages}${r.seeds > 1 ? ` seed ${r.point.seed}` : ''}: ${r.point.rows.map((x) => `${x.targetHz} Hz ${pct(x.efficiency)}`).join(', ')} (${r.point.run}/point.json)`,
    );
  } else {
    for (const line of r.result.summary) console.log(`- ${line}`);
    console.log(`\nwritten: ${r.files.join(', ')}`);
  }
}
