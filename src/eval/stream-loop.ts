// The one streaming-evaluation loop (the validator pattern) under `fprate`, `fprate --baseline` and
// evaluate's background pass: images come from a stream in batches, each batch is folded into a
// state that counts what was seen (`images`, `seconds` and whatever the caller keeps), and the state
// can live in a file — loaded and checked by the caller's `resume`, written atomically every
// `saveEverySeconds` and at the end — so a killed or stopped pass resumes where it stopped. A stop
// request (`control.stop`, set by a Ctrl-C handler) ends the pass after the current batch.
import { existsSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomic-write.js';

/** What every streamed state holds: images folded in so far and the seconds spent on them, over all passes. */
export interface StreamState {
  images: number;
  seconds: number;
}

export interface StreamLoopOptions<T, S extends StreamState> {
  /** The state to start from when there is no saved one (or `resume` declines it). */
  fresh: S;
  /**
   * Where the state is kept between passes; absent: the pass is not resumable (nothing written).
   * `resume` reads and checks a saved file: the state to continue, `undefined` to start over, or a
   * throw (a UserError naming the file) when it cannot be used.
   */
  store?: { path: string; resume: (path: string) => S | undefined; saveEverySeconds?: number };
  /** Images the whole pass should reach; the loop asks `source` only for those not yet in the state. */
  total: number;
  /** The images from `from` (images already in the state) on, `count` of them. */
  source: (from: number, count: number) => Iterable<T> | AsyncIterable<T>;
  batch: number;
  /** Folds one batch into the state (the loop itself adds the batch to `state.images`). */
  step: (items: T[], state: S) => void;
  control?: { stop: boolean };
  onProgress?: (done: number, total: number) => void;
}

export interface StreamLoopResult<S> {
  state: S;
  /** Images folded in by this pass, and the seconds it took. */
  measured: number;
  elapsed: number;
  /** Images the pass still had to do when it began (0 when the saved state had them all). */
  remaining: number;
}

export async function streamCount<T, S extends StreamState>(o: StreamLoopOptions<T, S>): Promise<StreamLoopResult<S>> {
  const state = (o.store && existsSync(o.store.path) ? o.store.resume(o.store.path) : undefined) ?? o.fresh;
  const before = state.images;
  const remaining = Math.max(0, o.total - state.images);
  const t0 = performance.now();
  const secondsBefore = state.seconds;
  const save = () => {
    state.seconds = secondsBefore + (performance.now() - t0) / 1000;
    if (o.store) writeJsonAtomic(o.store.path, state);
  };
  const step = (items: T[]) => {
    o.step(items, state);
    state.images += items.length;
    o.onProgress?.(state.images, o.total);
  };
  let pending: T[] = [];
  let lastSave = performance.now();
  for await (const item of o.source(state.images, remaining)) {
    pending.push(item);
    if (pending.length < o.batch) continue;
    step(pending);
    pending = [];
    if (o.store && performance.now() - lastSave > 1000 * (o.store.saveEverySeconds ?? 10)) {
      save();
      lastSave = performance.now();
    }
    // Simulating on this thread never returns to the event loop by itself: yield so that a Ctrl-C
    // handler can set control.stop.
    if (o.control) await new Promise<void>((r) => setImmediate(r));
    if (o.control?.stop) break;
  }
  if (pending.length) step(pending);
  save();
  return { state, measured: state.images - before, elapsed: (performance.now() - t0) / 1000, remaining };
}
