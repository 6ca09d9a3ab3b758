// Generates images in chunks on worker threads and hands the chunks back in index order.
// Each image depends only on (config, seed, index), so the result is the same for any number of
// workers (0 = in this thread, for tests and tiny runs).
import { Worker } from 'node:worker_threads';
import type { SimConfig } from './config.js';
import { Simulator } from './event.js';
import { packRecords, type PackedChunk } from './pack.js';

export interface GenerateOptions {
  config: SimConfig;
  seed: number;
  start?: number;
  count: number;
  workers: number;
  chunkSize?: number;
  keepTps?: boolean;
  /** false = background-only images. */
  signal?: boolean;
}

export interface WorkerInit {
  config: SimConfig;
  seed: number;
  keepTps: boolean;
  signal: boolean;
}

export interface WorkerTask {
  start: number;
  count: number;
}

/** Makes one chunk in this thread. */
export function makeChunk(sim: Simulator, start: number, count: number, keepTps: boolean, signal: boolean): PackedChunk {
  const recs = [];
  for (let i = start; i < start + count; i++) recs.push(sim.image(i, { keepTps, signal }));
  return packRecords(start, recs, sim.layout.channels, keepTps);
}

/** Yields chunks in index order. Stopping the iteration (break / return) terminates the workers. */
export async function* generateChunks(opts: GenerateOptions): AsyncGenerator<PackedChunk> {
  const start = opts.start ?? 0;
  const chunkSize = opts.chunkSize ?? 200;
  const keepTps = opts.keepTps ?? false;
  const signal = opts.signal ?? true;
  // Tasks are made as they are needed, not listed up front: a list of 10⁹/chunkSize tasks would
  // fill the heap before the first image (issue 30).
  const nTasks = Math.ceil(opts.count / chunkSize);
  const taskAt = (i: number): WorkerTask => ({ start: start + i * chunkSize, count: Math.min(chunkSize, opts.count - i * chunkSize) });
  if (opts.workers <= 0) {
    const sim = new Simulator(opts.config, opts.seed);
    for (let i = 0; i < nTasks; i++) {
      const t = taskAt(i);
      yield makeChunk(sim, t.start, t.count, keepTps, signal);
    }
    return;
  }
  const init: WorkerInit = { config: opts.config, seed: opts.seed, keepTps, signal };
  const nWorkers = Math.min(opts.workers, nTasks);
  const workers: Worker[] = [];
  const done = new Map<number, PackedChunk>();
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let next = 0;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const feed = (w: Worker) => {
    if (next < nTasks) w.postMessage(taskAt(next++));
  };
  for (let k = 0; k < nWorkers; k++) {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    w.on('message', (c: PackedChunk) => {
      done.set(c.start, c);
      feed(w);
      notify();
    });
    w.on('error', (e) => {
      failure = e;
      notify();
    });
    w.on('exit', (code) => {
      if (code !== 0 && !failure) failure = new Error(`simulation worker exited with code ${code}`);
      notify();
    });
    workers.push(w);
  }
  try {
    // Two tasks in flight per worker keeps them busy while the consumer writes.
    for (const w of workers) {
      feed(w);
      feed(w);
    }
    for (let i = 0; i < nTasks; i++) {
      const t = taskAt(i);
      while (!done.has(t.start)) {
        if (failure) throw failure;
        await new Promise<void>((r) => (wake = r));
      }
      const c = done.get(t.start)!;
      done.delete(t.start);
      yield c;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
