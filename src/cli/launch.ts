// Where a data-parallel rank learns its place: `--dist-url/--rank/--world-size`, torchrun's
// environment (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE), or Slurm's (SLURM_PROCID,
// SLURM_NTASKS, the first host of SLURM_JOB_NODELIST); `--nproc N` starts N local ranks as
// torchrun does; `--slurm` writes an sbatch script whose srun tasks are the ranks.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { writeFileAtomic } from '../util/atomic-write.js';
import { createServer } from 'node:net';
import { UserError } from '../errors.js';
import { CLI } from '../sweep/local.js';
import { shq } from '../sweep/slurm.js';

export interface RankPlace {
  url: string;
  rank: number;
  worldSize: number;
  source: string;
}

/** Expands Slurm's compressed host list far enough to give its first host: `gpu[03-05,09],cpu1` → gpu03. */
export function firstSlurmHost(nodelist: string): string {
  const m = /^([^,[]+)(?:\[([^\]]+)\])?/.exec(nodelist.trim());
  if (!m) throw new UserError(`SLURM_JOB_NODELIST '${nodelist}': cannot read its first host`);
  if (!m[2]) return m[1]!;
  const first = m[2].split(',')[0]!.split('-')[0]!;
  return m[1]! + first; // the digits keep their zero padding
}

/** This process's place in a data-parallel job, or null for an ordinary single-process run. */
export function rankPlace(o: { distUrl?: string; rank?: number; worldSize?: number }, env: NodeJS.ProcessEnv = process.env): RankPlace | null {
  if (o.distUrl !== undefined || o.rank !== undefined || o.worldSize !== undefined) {
    if (o.distUrl === undefined || o.rank === undefined || o.worldSize === undefined) {
      throw new UserError('--dist-url, --rank and --world-size go together (e.g. --dist-url tcp://node01:29500 --rank 0 --world-size 8)');
    }
    return { url: o.distUrl, rank: o.rank, worldSize: o.worldSize, source: 'flags' };
  }
  const port = env.MASTER_PORT ?? '29500';
  if (env.WORLD_SIZE && env.RANK && env.MASTER_ADDR && Number(env.WORLD_SIZE) > 1) {
    return { url: `tcp://${env.MASTER_ADDR}:${port}`, rank: Number(env.RANK), worldSize: Number(env.WORLD_SIZE), source: 'MASTER_ADDR/RANK/WORLD_SIZE' };
  }
  // A Slurm step with several tasks (srun): one rank per task. Array jobs and sbatch's batch
  // step have one task and train alone.
  if (env.SLURM_PROCID !== undefined && Number(env.SLURM_NTASKS) > 1 && env.SLURM_JOB_NODELIST) {
    const host = env.MASTER_ADDR ?? firstSlurmHost(env.SLURM_JOB_NODELIST);
    return { url: `tcp://${host}:${port}`, rank: Number(env.SLURM_PROCID), worldSize: Number(env.SLURM_NTASKS), source: 'Slurm' };
  }
  return null;
}

/**
 * The device of one rank: a plain `cuda` becomes `cuda:<local rank mod visible GPUs>` when
 * several GPUs are visible (local ranks of `--nproc`, torchrun's LOCAL_RANK, Slurm's
 * SLURM_LOCALID); with one visible GPU per task (Slurm's --gpus-per-task=1) it stays `cuda`.
 */
export function rankDevice(device: string, gpus: number, env: NodeJS.ProcessEnv = process.env): string {
  const local = env.DAQYOLO_LOCAL_RANK ?? env.LOCAL_RANK ?? env.SLURM_LOCALID;
  if (device !== 'cuda' || gpus <= 1 || local === undefined) return device;
  return `cuda:${Number(local) % gpus}`;
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs `daqyolo <args>` as `n` local ranks meeting at a free port on 127.0.0.1, each with
 * cores / n libtorch threads unless threads were chosen. Rank 0's output is shown; the other
 * ranks print only errors, prefixed with their rank. When a rank fails, the others fail on their
 * own within the c10d timeout (naming it); any still running after `graceMs` more are stopped.
 * A rank whose launcher is killed sees its IPC channel close and stops after the same step as the
 * others, saving `last`, so none trains on unattended holding the run's lock.
 * Resolves to the exit status (the first failing rank's).
 */
export async function launchLocal(n: number, args: string[], o: { graceMs: number; threads?: number }): Promise<number> {
  const port = await freePort();
  const threads = o.threads && o.threads > 0 ? o.threads : Math.max(1, Math.floor(availableParallelism() / n));
  const children = [...Array(n).keys()].map((rank) => {
    const child = spawn(process.execPath, [CLI, ...args, '--dist-url', `tcp://127.0.0.1:${port}`, '--rank', String(rank), '--world-size', String(n)], {
      // The IPC channel is how a rank sees its launcher die (SIGKILL): it then stops and saves (signals.ts).
      stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', rank === 0 ? 'inherit' : 'pipe', 'ipc'],
      env: { ...process.env, DAQYOLO_THREADS: String(threads), DAQYOLO_LOCAL_RANK: String(rank) },
    });
    child.stderr?.on('data', (d: Buffer) =>
      process.stderr.write(
        d
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => `[rank ${rank}] ${l}\n`)
          .join(''),
      ),
    );
    return child;
  });
  const forward = (sig: NodeJS.Signals) => () => children.forEach((c) => c.exitCode === null && c.kill(sig));
  // Ctrl-C reaches every rank from the terminal (same process group): the ranks agree to stop
  // after the same step. Forwarding it as well would be a second Ctrl-C (quit at once), so the
  // launcher only waits; SIGTERM (e.g. from a scheduler) is passed on.
  const onInt = () => {};
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let status = 0;
  let killer: NodeJS.Timeout | null = null;
  await Promise.all(
    children.map(
      (c, rank) =>
        new Promise<void>((resolve) => {
          c.on('close', (code, signal) => {
            if ((code !== 0 || signal) && status === 0) {
              status = code || 1;
              console.error(`daqyolo: rank ${rank} of ${n} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}`);
              killer ??= setTimeout(forward('SIGKILL'), o.graceMs);
            }
            resolve();
          });
        }),
    ),
  );
  if (killer) clearTimeout(killer);
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  return status;
}

export interface SlurmJob {
  nodes: number;
  tasksPerNode: number;
  /** GPUs per node: one rank per GPU (--gpus-per-task=1: each task sees its own as cuda:0). */
  gpusPerNode: number;
  cpusPerTask: number;
  time?: string;
  partition?: string;
  port: number;
}

/**
 * An sbatch script: one srun step whose tasks are the ranks (they read SLURM_PROCID etc.). Once
 * the run has a last checkpoint the script resumes it instead, so resubmitting (or Slurm's
 * requeue after preemption) continues the run.
 */
export function slurmTrainScript(job: SlurmJob, trainArgs: string[], out: string, runDir: string): string {
  const tasksPerNode = job.gpusPerNode > 0 ? job.gpusPerNode : job.tasksPerNode;
  const world = job.nodes * tasksPerNode;
  const opt = (k: string, v: string | number | undefined) => (v !== undefined && v !== 0 ? [`#SBATCH --${k}=${v}`] : []);
  return [
    '#!/bin/bash',
    `# daqyolo train, data-parallel: ${job.nodes} node(s) × ${tasksPerNode} rank(s)${job.gpusPerNode > 0 ? ' (one GPU each)' : ''} = ${world} ranks (written by \`daqyolo train --slurm\`).`,
    '# Submit with sbatch; resubmitting after a failure (or a requeue) resumes from the last checkpoint.',
    `#SBATCH --job-name=daqyolo-train`,
    `#SBATCH --nodes=${job.nodes}`,
    `#SBATCH --ntasks-per-node=${tasksPerNode}`,
    `#SBATCH --cpus-per-task=${job.cpusPerTask}`,
    ...opt('gpus-per-task', job.gpusPerNode > 0 ? 1 : 0),
    ...opt('time', job.time),
    ...opt('partition', job.partition),
    `#SBATCH --output=${out}.%j.out`,
    'set -euo pipefail',
    '# Rank 0 (the first host of the allocation) hosts the TCPStore on this port.',
    `export MASTER_PORT=${job.port}`,
    `export DAQYOLO_THREADS=\${SLURM_CPUS_PER_TASK:-${job.cpusPerTask}}`,
    `ARGS=(${trainArgs.map(shq).join(' ')})`,
    `if [ -f ${shq(`${runDir}/checkpoints/last.safetensors`)} ]; then ARGS=(--resume ${shq(runDir)}); fi`,
    `srun --kill-on-bad-exit=1 ${shq(process.execPath)} ${shq(CLI)} train "\${ARGS[@]}"`,
    '',
  ].join('\n');
}

export function writeScript(path: string, text: string): void {
  writeFileAtomic(path, text, { mode: 0o755 });
}
