// `daqyolo sweep`: a grid or list of training configs, run by a local pool of processes, written
// as a Slurm job array, or summarised (see README "sweep").
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { planSweep, readSweepFile, type SweepPlan } from '../sweep/plan.js';
import { runLocal, runState, writePlan, writePointConfig, type SweepEvent } from '../sweep/local.js';
import { slurmScript, taskCommand } from '../sweep/slurm.js';
import { formatSummary, summaryRows } from '../report/sweep-summary.js';
import { buildReport } from '../report/report.js';
import { writeAtomic } from '../util/atomic-write.js';
import { integer, MAX } from './options.js';

interface Opts {
  parallel?: number;
  threads?: number;
  slurm?: boolean;
  summary?: boolean;
  task?: number;
  list?: boolean;
  report?: string;
  events: number;
}

function describe(e: SweepEvent, total: number): string {
  if (e.kind === 'start') {
    const how = { fresh: 'start', restart: 'restart (no checkpoint was saved)', resume: 'resume', done: 'skip' }[e.state];
    return `[${e.point.index + 1}/${total}] ${e.point.name}: ${how} — daqyolo ${e.args.join(' ')}`;
  }
  const r = e.result;
  if (r.status === 'skipped') return `[${r.index + 1}/${total}] ${r.name}: finished earlier (done.json), skipped`;
  return `[${r.index + 1}/${total}] ${r.name}: ${r.status}${r.code ? ` (exit ${r.code})` : ''} after ${r.seconds.toFixed(0)} s`;
}

async function local(plan: SweepPlan, parallel: number): Promise<void> {
  writePlan(plan);
  const control = { stop: false, forward: false };
  const onInt = () => {
    control.stop = true;
    console.error('sweep: stopping — running trainings save their last checkpoint; rerun the sweep to continue');
  };
  const onTerm = () => {
    control.stop = true;
    control.forward = true;
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    console.error(
      `sweep: ${plan.points.length} runs in ${plan.out}, ${parallel} at a time, ${plan.points[0]!.config.threads || 'all'} libtorch thread(s) each`,
    );
    const results = await runLocal(plan, { parallel, control, onEvent: (e) => console.error(describe(e, plan.points.length)) });
    const count = (s: string) => results.filter((r) => r.status === s).length;
    console.log(
      `sweep: ${count('finished')} finished now, ${count('skipped')} finished earlier, ${count('failed')} failed, ${count('interrupted')} interrupted; logs in ${join(plan.out, 'logs')}`,
    );
    if (count('failed') || count('interrupted')) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('train a grid or list of configs (local worker pool or a Slurm job array) and compare the finished runs')
    .argument('<file>', 'sweep.json: { out, base, grid | list, parallel, threads, slurm }')
    .option('--parallel <n>', 'runs at once on this machine (libtorch threads are divided between them)', integer({ max: MAX.processes }))
    .option('--threads <n>', 'libtorch threads to divide between parallel runs (0 = every core)', integer({ max: MAX.processes }))
    .option('--slurm', 'write <out>/sweep.sbatch (one array task per run) instead of running')
    .option('--task <i>', 'run only point i (what each Slurm array task does)', integer({ max: 1_000_000 }))
    .option('--summary', 'tabulate the finished runs and write a comparison report')
    .option('--report <file>', 'with --summary: the report file (default <out>/summary.html)')
    .option('--events <n>', 'with --summary: event displays in the report', integer({ max: 1000 }), 3)
    .option('--list', 'print the points and their state, and exit')
    .action(async (file: string, o: Opts) => {
      const sweep = readSweepFile(file);
      const parallel = o.parallel || sweep.parallel;
      const slurmThreads = Number(process.env.SLURM_CPUS_PER_TASK) || sweep.slurm.cpusPerTask;
      const total = o.threads ?? sweep.threads;
      const threadsPerRun = o.slurm || o.task !== undefined ? slurmThreads : Math.max(1, Math.floor((total || availableParallelism()) / parallel));
      const plan = planSweep(file, sweep, { threadsPerRun });
      if (o.list) {
        for (const p of plan.points) console.log(`${p.index}\t${p.name}\t${runState(p.dir)}`);
        return;
      }
      if (o.summary) {
        const rows = summaryRows(plan);
        console.log(formatSummary(rows));
        const finished = plan.points.filter((p) => runState(p.dir) === 'done').map((p) => p.dir);
        if (!finished.length) {
          console.log('no finished runs yet: no report written');
          return;
        }
        const out = o.report ?? join(plan.out, 'summary.html');
        const r = await buildReport(finished, { title: `daqyolo sweep ${plan.out}: ${finished.length} finished run(s)`, events: o.events });
        writeAtomic(out, r.html);
        console.log(`wrote ${out}: ${r.figures.length} plots comparing ${finished.length} finished run(s)`);
        return;
      }
      if (o.slurm) {
        writePlan(plan);
        const path = join(plan.out, 'sweep.sbatch');
        writeAtomic(path, slurmScript(plan));
        console.log(`wrote ${path}: ${plan.points.length} array tasks (--array=0-${plan.points.length - 1})`);
        console.log(`per-task command: ${taskCommand(plan, '$SLURM_ARRAY_TASK_ID')}`);
        console.log(`submit with: sbatch ${path}`);
        return;
      }
      if (o.task !== undefined) {
        const p = plan.points[o.task];
        if (!p) throw new UserError(`--task ${o.task}: the sweep has points 0..${plan.points.length - 1}`);
        writePointConfig(plan, p);
        const results = await runLocal(plan, { parallel: 1, only: [p.index], onEvent: (e) => console.error(describe(e, plan.points.length)) });
        if (results[0]?.status === 'failed') process.exitCode = 1;
        return;
      }
      await local(plan, parallel);
    });
}
