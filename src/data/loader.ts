// The batch loader: worker threads read and augment batches ahead of the network (prefetch),
// so the training step never waits on I/O. Batches come back in request order. A worker that
// dies (an uncaught exception, out of memory, an exit) fails the loader: every waiting and later
// next() rejects with that worker's error, instead of waiting for a batch that never comes.
import { Worker } from 'node:worker_threads';
import { openDataset, type DatasetReader } from './store.js';
import { UserError } from '../errors.js';
import { loadBatch, type BatchRequest, type LoadedBatch, type TargetMarks } from './batch.js';

export interface LoaderOptions {
  path: string;
  /** Worker threads; 0 loads on the calling thread when a batch is asked for. */
  workers: number;
  /** Batches in flight ahead of the consumer. */
  prefetch: number;
  /** Images eligible as overlay backgrounds (the training split). */
  pool: Int32Array;
  /** How boxes become training targets (training's loader; absent: every box a positive). */
  marks?: TargetMarks;
  /** Testing hook: worker 0 fails after answering this many requests ('exit': process.exit(3); 'throw': an uncaught exception). */
  injectWorkerFailure?: { afterRequests: number; kind: 'exit' | 'throw' };
}

/** A loader worker died; the message names the worker and what killed it. */
export class LoaderWorkerError extends Error {}

type Pending = { resolve: (b: LoadedBatch) => void; reject: (e: Error) => void; promise: Promise<LoadedBatch> };

export class BatchLoader {
  readonly #o: LoaderOptions;
  readonly #workers: Worker[] = [];
  #reader: DatasetReader | null = null;
  #queue: BatchRequest[] = [];
  readonly #inFlight = new Map<number, Pending>();
  #next = 0;
  #failed: LoaderWorkerError | null = null;
  #closing = false;

  constructor(o: LoaderOptions) {
    this.#o = o;
    if (o.workers === 0) this.#reader = openDataset(o.path);
    for (let i = 0; i < o.workers; i++) {
      const inject = i === 0 ? o.injectWorkerFailure : undefined;
      const w = new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: { path: o.path, pool: o.pool, marks: o.marks, inject } });
      w.on('message', (m: { ok: true; batch: LoadedBatch } | { ok: false; id: number; error: string; userFacing?: boolean }) => {
        const id = m.ok ? m.batch.id : m.id;
        const p = this.#inFlight.get(id);
        if (!p) return;
        if (m.ok) p.resolve({ ...m.batch, images: new Float32Array(m.batch.images.buffer) });
        else p.reject(m.userFacing ? new UserError(m.error) : new Error(m.error)); // a bad record stays a one-line error
      });
      w.on('error', (e) => this.#fail(new LoaderWorkerError(`data loader worker ${i} died: ${e.message}`)));
      w.on('exit', (code) => this.#fail(new LoaderWorkerError(`data loader worker ${i} exited with code ${code}`)));
      this.#workers.push(w);
    }
  }

  // The first failure is the one reported ('error' comes before its 'exit'); closing is not a failure.
  #fail(e: LoaderWorkerError): void {
    if (this.#closing || this.#failed) return;
    this.#failed = e;
    for (const p of this.#inFlight.values()) p.reject(e);
  }

  /** Queues requests (e.g. an epoch's batches); they start loading up to `prefetch` ahead. */
  enqueue(reqs: BatchRequest[]): void {
    this.#queue.push(...reqs);
    this.#pump();
  }

  #pump(): void {
    if (this.#o.workers === 0 || this.#failed) return;
    while (this.#inFlight.size < this.#o.prefetch && this.#queue.length) {
      const req = this.#queue.shift()!;
      let resolve!: (b: LoadedBatch) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<LoadedBatch>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => {}); // handled by the consumer in next()
      this.#inFlight.set(req.id, { resolve, reject, promise });
      this.#workers[this.#next++ % this.#workers.length]!.postMessage(req);
    }
  }

  /** The next batch in request order. */
  async next(): Promise<LoadedBatch> {
    if (this.#o.workers === 0) {
      const req = this.#queue.shift();
      if (!req) throw new Error('loader: no batch requested');
      return loadBatch(this.#reader!, req, this.#o.pool, this.#o.marks);
    }
    if (this.#failed) throw this.#failed;
    const first = [...this.#inFlight.keys()][0];
    if (first === undefined) throw new Error('loader: no batch requested');
    const p = this.#inFlight.get(first)!;
    try {
      return await p.promise;
    } finally {
      this.#inFlight.delete(first);
      this.#pump();
    }
  }

  /** Drops queued requests (not those in flight). */
  clear(): void {
    this.#queue = [];
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#reader?.close();
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
