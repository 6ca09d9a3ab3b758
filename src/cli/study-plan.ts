// `daqyolo study --plan seed`: the plan itself is study/seed-plan-run.ts's `runSeedPlan`; this file
// supplies what study/ may not import (the trainer with Ctrl-C/SIGTERM handling, the baseline
// command, the plan report, progress bars) and prints what the plan returns.
import { join } from 'node:path';
import { runSeedPlan as runPlan, minutes, type SeedPlanOptions } from '../study/seed-plan-run.js';
import { loadPlanRuns, writePlanReport } from '../report/plan-report.js';
import { valMap } from '../report/findings.js';
import { trainStoppable } from './train.js';
import { onStopSignals } from './signals.js';
import { clusterParamsOfData, runBaseline } from './baseline.js';
import { progress } from './progress.js';

/** The plan's options as `study` parses them. */
export type PlanCliOptions = SeedPlanOptions;

export async function runSeedPlan(o: PlanCliOptions): Promise<void> {
  const r = await runPlan(o, {
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
