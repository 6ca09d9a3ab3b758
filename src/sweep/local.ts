// Running a sweep's points: what each run directory needs (nothing, resume, or a fresh start),
// the `daqyolo train` command for it, and a local pool of child processes, N at a time.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { SweepPlan, SweepPoint } from './plan.js';
import { runState, type RunState } from '../run/run-dir.js';

/** bin/daqyolo.js of this installation. */
export const CLI = fileURLToPath(new URL('../../../bin/daqyolo.js', import.meta.url));

export { runState, type RunState };

/** Where each point's generated training config is written. */
export const configPath = (plan: SweepPlan, p: SweepPoint) => join(plan.out, 'configs', `${p.name}.json`);
export const logPath = (plan: SweepPlan, p: SweepPoint) => join(plan.out, 'logs', `${p.name}.log`);

/** Writes one point's generated training config (and makes the logs folder). */
export function writePointConfig(plan: SweepPlan, p: SweepPoint): void {
  mkdirSync(join(plan.out, 'configs'), { recursive: true });
  mkdirSync(join(plan.out, 'logs'), { recursive: true });
  writeJsonAtomic(configPath(plan, p), p.config);
}

/** Writes the generated configs and the plan (index → name → values) for --summary and Slurm. */
export function writePlan(plan: SweepPlan): void {
  for (const p of plan.points) writePointConfig(plan, p);
  writeJsonAtomic(join(plan.out, 'plan.json'), {
    file: plan.file,
    points: plan.points.map((p) => ({ index: p.index, name: p.name, values: p.values, dir: p.dir, config: configPath(plan, p) })),
  });
}

/** The train arguments (after `node bin/daqyolo.js`) for a point in a given state. */
export function trainArgs(plan: SweepPlan, p: SweepPoint, state: RunState): string[] {
  return state === 'resume'
    ? // --data: the sweep's dataset where it is now (a moved or copied sweep folder; train checks its digest).
      ['train', '--resume', p.dir, '--epochs', String(p.config.epochs), '--data', p.config.data]
    : // --data and --out repeat the config's values: `train` asks for them as flags.
      ['train', '--config', configPath(plan, p), '--data', p.config.data, '--out', p.dir];
}

export interface PointResult {
  index: number;
  name: string;
  state: RunState;
  status: 'skipped' | 'finished' | 'failed' | 'interrupted';
  code: number | null;
  seconds: number;
}

export type SweepEvent = { kind: 'start'; point: SweepPoint; state: RunState; args: string[] } | { kind: 'end'; result: PointResult };

export interface LocalOptions {
  parallel: number;
  /** Only these point indices (default: all). */
  only?: number[];
  onEvent?: (e: SweepEvent) => void;
  /**
   * stop: start no more runs. forward: also send SIGINT to the running trainings (they save
   * `last` after the current batch) — not wanted after a terminal Ctrl-C, which already reached
   * them (a second SIGINT would make them quit at once).
   */
  control?: { stop: boolean; forward?: boolean };
}

/** Runs the plan's unfinished points, `parallel` at a time; resolves when all have ended. */
export async function runLocal(plan: SweepPlan, o: LocalOptions): Promise<PointResult[]> {
  const todo = plan.points.filter((p) => !o.only || o.only.includes(p.index));
  const results: PointResult[] = [];
  const queue: SweepPoint[] = [];
  for (const p of todo) {
    const state = runState(p.dir);
    if (state === 'done') {
      const r: PointResult = { index: p.index, name: p.name, state, status: 'skipped', code: null, seconds: 0 };
      results.push(r);
      o.onEvent?.({ kind: 'end', result: r });
    } else {
      queue.push(p);
    }
  }
  const running = new Set<ChildProcess>();
  const forward = () => {
    for (const c of running) c.kill('SIGINT');
  };
  const start = (p: SweepPoint) =>
    new Promise<void>((done) => {
      const state = runState(p.dir);
      if (state === 'restart') {
        // Killed before its first checkpoint: nothing worth keeping, and train refuses a used folder.
        rmSync(p.dir, { recursive: true, force: true });
      }
      const args = trainArgs(plan, p, state);
      o.onEvent?.({ kind: 'start', point: p, state, args });
      const log = createWriteStream(logPath(plan, p), { flags: 'a' });
      log.write(`\n$ daqyolo ${args.join(' ')}\n`);
      const t0 = performance.now();
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
      running.add(child);
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
      child.on('close', (code, signal) => {
        running.delete(child);
        log.end();
        const finished = code === 0 && runState(p.dir) === 'done';
        const r: PointResult = {
          index: p.index,
          name: p.name,
          state,
          code: code ?? (signal ? 128 : null),
          seconds: (performance.now() - t0) / 1000,
          status: finished ? 'finished' : o.control?.stop ? 'interrupted' : 'failed',
        };
        results.push(r);
        o.onEvent?.({ kind: 'end', result: r });
        done();
      });
    });
  if (o.control) {
    // Poll the flags so a stop request reaches every child once.
    const timer = setInterval(() => {
      if (o.control!.stop && o.control!.forward) {
        forward();
        clearInterval(timer);
      }
    }, 100);
    timer.unref();
  }
  const workers = Array.from({ length: Math.max(1, Math.min(o.parallel, queue.length)) }, async () => {
    while (queue.length && !o.control?.stop) await start(queue.shift()!);
  });
  await Promise.all(workers);
  return results.sort((a, b) => a.index - b.index);
}
