// A Slurm job array for a sweep: one array task per point (--array=0-(N-1)); each task runs
// `daqyolo sweep <file> --task $SLURM_ARRAY_TASK_ID`, which starts, resumes or skips that point
// exactly as the local pool would, so resubmitting the script after a failure only redoes what
// is unfinished.
import { basename, join } from 'node:path';
import type { SweepPlan } from './plan.js';
import { CLI } from './local.js';

/** Single-quotes a string for bash. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function slurmScript(plan: SweepPlan): string {
  const s = plan.sweep.slurm;
  const n = plan.points.length;
  const opt = (k: string, v: string | undefined) => (v ? [`#SBATCH --${k}=${v}`] : []);
  const task = `${shq(s.node)} ${shq(CLI)} sweep ${shq(plan.file)} --task "$SLURM_ARRAY_TASK_ID"`;
  return [
    '#!/bin/bash',
    `# daqyolo sweep ${plan.file}: ${n} runs, one Slurm array task each.`,
    `# Submit: sbatch ${join(plan.out, 'sweep.sbatch')}   (resubmitting redoes only unfinished runs)`,
    `#SBATCH --job-name=daqyolo-${basename(plan.out).replace(/[^A-Za-z0-9_.-]/g, '-')}`,
    `#SBATCH --array=0-${n - 1}`,
    `#SBATCH --cpus-per-task=${s.cpusPerTask}`,
    `#SBATCH --output=${join(plan.out, 'logs', 'slurm-%A_%a.out')}`,
    ...opt('partition', s.partition),
    ...opt('account', s.account),
    ...opt('time', s.time),
    ...opt('mem', s.mem),
    ...s.options.map((o) => `#SBATCH ${o}`),
    'set -euo pipefail',
    ...s.setup,
    '# Array task index → run directory:',
    'RUNS=(',
    ...plan.points.map((p) => `  ${shq(p.name)}  # ${p.index}`),
    ')',
    `echo "daqyolo sweep task \${SLURM_ARRAY_TASK_ID}: run \${RUNS[\$SLURM_ARRAY_TASK_ID]} (${plan.out})"`,
    '# The per-task command (start, resume or skip this run):',
    `exec ${task}`,
    '',
  ].join('\n');
}

/** The per-task command for an index, as a user would type it. */
export const taskCommand = (plan: SweepPlan, index: number | string) => `${plan.sweep.slurm.node} ${CLI} sweep ${plan.file} --task ${index}`;
