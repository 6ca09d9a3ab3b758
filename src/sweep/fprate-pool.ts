// fprate on every core of this machine: the stream split into shards (blocks of whole batches,
// eval/fprate.ts), one child process per shard, each simulating its own images and running the
// network on one thread, then the shards' histograms added up (`mergeFpShards`). One process with
// a simulation worker leaves a core half idle: its inference thread (decoding, NMS, the sparse
// rulebooks) is serial, and the simulation waits for it. The shards are the same batches of the
// same stream, so the merged histogram is the single stream's. Each shard resumes from its own
// state file, so a stopped pool continues where each child stopped.
//
// Stopping: the children run in their own process group, so a terminal's Ctrl-C reaches only this
// process, which passes one SIGINT to each child (each finishes its batch and saves its count). A
// child whose parent is gone (killed, or exited on a second Ctrl-C) sees its IPC channel close and
// stops the same way, so no child runs on unattended and no count is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { mergeFpShards, type FpResult } from '../eval/fprate.js';
import { readFpState, type FpState } from '../eval/fprate-state.js';
import type { TriggerOptions } from '../eval/efficiency.js';
import { CLI } from './local.js';

export interface FpPoolOptions {
  runDir: string;
  images: number;
  /** Child processes (shards) at once: the cores to use. */
  parallel: number;
  batch: number;
  checkpoint?: string;
  seed?: number;
  data?: string;
  device?: string;
  trigger?: TriggerOptions;
  /** Each shard's seconds between saves of its count. */
  saveEverySeconds?: number;
  /** Highest-scoring images each shard keeps (the merged state keeps the best of them). */
  keepTop?: number;
  /** Set stop to have every child stop after its batch and save its count. */
  control?: { readonly stop: boolean };
  onProgress?: (done: number, total: number) => void;
}

/** The saved shard states of `parallel` shards of this run's stream (this seed, if given), readable now. */
function savedShardStates(o: Pick<FpPoolOptions, 'runDir' | 'parallel' | 'seed'>): FpState[] {
  const dir = join(o.runDir, 'eval');
  if (!existsSync(dir)) return [];
  const states: FpState[] = [];
  for (const f of readdirSync(dir)) {
    const m = new RegExp(`^fprate-seed(\\d+)-shard\\d+of${o.parallel}\\.json$`).exec(f);
    if (!m || (o.seed !== undefined && Number(m[1]) !== o.seed)) continue;
    try {
      states.push(readFpState(join(dir, f)));
    } catch {
      /* being renamed into place, or damaged: the child that owns it says so */
    }
  }
  return states;
}

/** Images done so far over the shards' state files of this split (the same --images and --batch; a child refuses any other). */
function shardProgress(o: FpPoolOptions): number {
  return savedShardStates(o)
    .filter((state) => state.shard?.totalImages === o.images && state.shard.batch === o.batch)
    .reduce((done, state) => done + state.images, 0);
}

/**
 * The batch of the split whose shard counts are already saved (`images` in all), if any. Shards
 * are blocks of whole batches, so a saved count belongs to its batch size: a pool resumed with
 * another (a changed default, another `--batch`) continues at the saved one rather than refusing
 * the counts.
 */
function savedSplitBatch(o: FpPoolOptions): number | undefined {
  return savedShardStates(o).find((state) => state.shard?.totalImages === o.images && state.images > 0)?.shard?.batch;
}

/** What a failed child said: its daqyolo error lines, else its last line that is not progress. */
function childError(stderr: string): string {
  const lines = stderr
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => l.startsWith('daqyolo: ')).map((l) => l.slice('daqyolo: '.length));
  if (errors.length) return errors.join(' | ');
  return lines.filter((l) => !/^[^:]*: \d+\/\d+\b/.test(l)).slice(-1)[0] ?? '(no message)';
}

/**
 * How many shards to run at once when not told: one per core on a CPU (see the top of this file),
 * never more than the stream has batches; one process on a GPU, whose single stream the shards
 * would only queue on.
 */
export function defaultFpParallel(device: string, images: number, batch: number): number {
  if (device.startsWith('cuda')) return 1;
  return Math.max(1, Math.min(availableParallelism(), Math.ceil(images / batch)));
}

/** Runs `parallel` shards of the stream as child processes and merges them; the merged table. */
export type FpPoolResult =
  { stopped: false; result: FpResult; wallSeconds: number; imagesThisSession: number } | { stopped: true; images: number; wallSeconds: number };

export async function measureFpRatePool(asked: FpPoolOptions): Promise<FpPoolResult> {
  const n = asked.parallel;
  if (!(Number.isInteger(n) && n >= 1)) throw new UserError(`--parallel ${n}: expected a whole number ≥ 1`);
  const savedBatch = savedSplitBatch(asked);
  if (savedBatch !== undefined && savedBatch !== asked.batch)
    console.error(
      `note: ${join(asked.runDir, 'eval')}: continuing the saved counts of ${n} shards at their batch ${savedBatch}, not ${asked.batch} (delete them to start again)`,
    );
  const o = { ...asked, batch: savedBatch ?? asked.batch };
  const args = (i: number) => [
    'fprate',
    o.runDir,
    '--images',
    String(o.images),
    '--batch',
    String(o.batch),
    '--workers',
    '0',
    '--json',
    '--shard',
    `${i}/${n}`,
    ...(o.checkpoint ? ['--checkpoint', o.checkpoint] : []),
    ...(o.seed !== undefined ? ['--seed', String(o.seed)] : []),
    ...(o.data ? ['--data', o.data] : []),
    ...(o.device ? ['--device', o.device] : []),
    ...(o.trigger?.faces ? ['--faces', String(o.trigger.faces)] : []),
    ...(o.saveEverySeconds !== undefined ? ['--save-every', String(o.saveEverySeconds)] : []),
    ...(o.keepTop !== undefined ? ['--keep-top', String(o.keepTop)] : []),
  ];
  const before = shardProgress(o);
  const t0 = performance.now();
  const running = new Set<ChildProcess>();
  const failures: string[] = [];
  const notes = new Set<string>();
  let forwarded = false;
  const timer = setInterval(() => {
    o.onProgress?.(shardProgress(o), o.images);
    if (o.control?.stop && !forwarded) {
      forwarded = true;
      for (const c of running) c.kill('SIGINT');
    }
  }, 1000);
  try {
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<void>((done) => {
            // One core each: one libtorch thread, the simulation on the same thread (--workers 0).
            const child = spawn(process.execPath, [CLI, ...args(i)], {
              detached: true,
              stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
              env: { ...process.env, DAQYOLO_THREADS: '1', OMP_NUM_THREADS: '1' },
            });
            running.add(child);
            let err = '';
            let partial = '';
            child.stderr!.on('data', (d: Buffer) => {
              err = (err + d.toString()).slice(-4000);
              // A child's notes (a state not reused: other weights) are the pool's: said once for every shard.
              const lines = (partial + d.toString()).split('\n');
              partial = lines.pop()!;
              for (const l of lines) {
                const note = l.startsWith('note: ') ? l.replace(/shard\d+of(\d+)/g, 'shard*of$1') : null;
                if (note && !notes.has(note)) {
                  notes.add(note);
                  console.error(note);
                }
              }
            });
            child.on('close', (code, signal) => {
              running.delete(child);
              if (code !== 0 && !o.control?.stop && !forwarded) {
                failures.push(`shard ${i}/${n} exited with ${code ?? signal}: ${childError(err)}`);
                // The others stop too (saving their counts): the error is reported now, not at their end.
                forwarded = true;
                for (const c of running) c.kill('SIGINT');
              }
              done();
            });
          }),
      ),
    );
  } finally {
    clearInterval(timer);
  }
  if (failures.length) throw new UserError(`fprate --parallel ${n}: ${failures.join('; ')} (the finished shards are kept; run the same command to continue)`);
  const wallSeconds = (performance.now() - t0) / 1000;
  const done = shardProgress(o);
  if (done < o.images) {
    // Stopped: no merge yet (mergeFpShards needs every shard finished); the shards resume.
    return { stopped: true, images: done, wallSeconds };
  }
  const merged = mergeFpShards(o.runDir, { seed: o.seed, shards: n, trigger: o.trigger });
  // The pool's rate: images this session over its wall time (the merge's is per process).
  const imagesThisSession = done - before;
  return { stopped: false, result: { ...merged, imagesPerSecond: wallSeconds > 0 ? imagesThisSession / wallSeconds : 0 }, wallSeconds, imagesThisSession };
}
