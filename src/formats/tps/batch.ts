// Batches of TPs on their way out of a reader: a growable TpBatch the readers fill row by row, and
// the time orderer that turns the rows as a file holds them (DAQ fragments of one time slice come
// link after link; LArSoft hits come channel by channel) into the stream's order (non-decreasing
// time_start), holding back only the rows that are within the reorder window of the latest time.
import { UserError } from '../../errors.js';
import { allocTpBatch, UNKNOWN_OWNER, type TpBatch, type TpInteraction } from '../../sim/tp-stream.js';

/** Rows per batch handed to consumers. */
export const BATCH_ROWS = 1 << 16;

/** Every column of a TpBatch, for copying rows generically. */
export const TP_COLUMNS = ['face', 'wire', 'channel', 'plane', 'timeStart', 'timePeak', 'timeOverThreshold', 'adcIntegral', 'adcPeak', 'detid', 'algorithm', 'flag', 'type', 'source', 'record', 'owner'] as const;
export type TpColumn = (typeof TP_COLUMNS)[number];

/** One TP as a reader parses it, before it is put in a batch. */
export type TpRow = Record<TpColumn, number>;

/** A row to fill: DAQ defaults (type TPC), no origin record, no truth. */
export const emptyRow = (source: number): TpRow => ({
  face: 0, wire: 0, channel: 0, plane: 0, timeStart: 0, timePeak: 0, timeOverThreshold: 0, adcIntegral: 0, adcPeak: 0,
  detid: 0, algorithm: 0, flag: 0, type: 1, source, record: -1, owner: UNKNOWN_OWNER,
});

/** A TpBatch that grows as rows are pushed. */
export class GrowingBatch {
  b: TpBatch;
  constructor(capacity = BATCH_ROWS) {
    this.b = allocTpBatch(capacity);
  }

  get n(): number {
    return this.b.n;
  }

  private grow(): void {
    const next = allocTpBatch(Math.max(16, this.b.face.length * 2));
    for (const c of TP_COLUMNS) (next[c] as Int32Array).set(this.b[c] as Int32Array);
    next.n = this.b.n;
    this.b = next;
  }

  push(r: TpRow): void {
    if (this.b.n === this.b.face.length) this.grow();
    const i = this.b.n++;
    for (const c of TP_COLUMNS) this.b[c][i] = r[c];
  }

  /** Appends row i of `src`. */
  pushFrom(src: TpBatch, i: number): void {
    if (this.b.n === this.b.face.length) this.grow();
    const k = this.b.n++;
    for (const c of TP_COLUMNS) this.b[c][k] = src[c][i];
  }

  /** The filled rows as an exact-size batch (copies), and the builder emptied. */
  take(): TpBatch {
    const n = this.b.n;
    const out = allocTpBatch(n);
    for (const c of TP_COLUMNS) (out[c] as Int32Array).set((this.b[c] as Int32Array).subarray(0, n));
    out.n = n;
    this.b.n = 0;
    return out;
  }
}

/** Where a raw row came from, for one-line errors: "file:line 12" or "file dataset /x/y TP 3". */
export type RowWhere = (row: number) => string;

/** What a reader yields: rows in file order, where they came from, and the interactions met so far. */
export interface RawBatch {
  tps: TpBatch;
  where: RowWhere;
  interactions: TpInteraction[];
  /** No later row may be earlier than every row so far (a TPStreamer event ended): flush everything. */
  barrier?: boolean;
}

/** Bad rows found while ordering or reading, counted and listed under --skip-bad. */
export interface BadRows {
  count: number;
  rows: { where: string; problem: string }[];
}

/** Records a bad row: throws one line unless skipping, else counts it (first 1000 listed). */
export function badRow(bad: BadRows | null, where: string, problem: string): void {
  if (!bad) throw new UserError(`${where}: ${problem} (pass --skip-bad to skip such rows)`);
  bad.count++;
  if (bad.rows.length < 1000) bad.rows.push({ where, problem });
}

/**
 * Puts rows in time order. Rows earlier than the latest time seen by at most `reorderTicks` are
 * sorted into place; a row earlier than that is bad ("time going backwards beyond the reorder
 * window"). Memory: the rows of one reorder window (and of one barrier-delimited event).
 */
export async function* orderByTime(raw: AsyncIterable<RawBatch>, reorderTicks: number, bad: BadRows | null): AsyncGenerator<{ tps: TpBatch; interactions: TpInteraction[] }> {
  const pending = new GrowingBatch();
  let sorted = true;
  let maxSeen = -Infinity;
  /** Rows up to this time have been handed out; nothing earlier may come. */
  let emitted = -Infinity;
  let interactions: TpInteraction[] = [];

  function* emit(upTo: number): Generator<{ tps: TpBatch; interactions: TpInteraction[] }> {
    const p = pending.b;
    if (p.n === 0) return;
    let order: Int32Array | null = null;
    if (!sorted) {
      const idx = Array.from({ length: p.n }, (_, i) => i);
      const t = p.timeStart;
      idx.sort((a, b) => t[a] - t[b] || a - b);
      order = Int32Array.from(idx);
    }
    const at = (k: number) => (order ? order[k] : k);
    let cut = 0;
    while (cut < p.n && p.timeStart[at(cut)] <= upTo) cut++;
    if (cut === 0) {
      if (order) reorderPending(order);
      return;
    }
    for (let start = 0; start < cut; start += BATCH_ROWS) {
      const out = new GrowingBatch(Math.min(BATCH_ROWS, cut - start));
      for (let k = start; k < Math.min(cut, start + BATCH_ROWS); k++) out.pushFrom(p, at(k));
      emitted = Math.max(emitted, p.timeStart[at(Math.min(cut, start + BATCH_ROWS) - 1)]);
      yield { tps: out.take(), interactions };
      interactions = [];
    }
    // Keep the rest, in order.
    const rest = new GrowingBatch(Math.max(16, p.n - cut));
    for (let k = cut; k < p.n; k++) rest.pushFrom(p, at(k));
    pending.b = rest.b;
    sorted = true;
  }
  function reorderPending(order: Int32Array): void {
    const rest = new GrowingBatch(Math.max(16, order.length));
    for (const i of order) rest.pushFrom(pending.b, i);
    pending.b = rest.b;
    sorted = true;
  }

  for await (const r of raw) {
    interactions.push(...r.interactions);
    const t = r.tps;
    for (let i = 0; i < t.n; i++) {
      const ts = t.timeStart[i];
      if (ts < emitted || ts < maxSeen - reorderTicks) {
        badRow(bad, r.where(i), `field time_start value ${+ts.toFixed(3)} ticks goes back ${+(maxSeen - ts).toFixed(3)} ticks, beyond the reorder window of ${reorderTicks} ticks (--reorder-ticks)`);
        continue;
      }
      if (pending.n && ts < pending.b.timeStart[pending.n - 1]) sorted = false;
      pending.pushFrom(t, i);
      if (ts > maxSeen) maxSeen = ts;
    }
    if (r.barrier) yield* emit(Infinity);
    else if (pending.n >= 2 * BATCH_ROWS) yield* emit(maxSeen - reorderTicks);
  }
  yield* emit(Infinity);
  if (interactions.length) yield { tps: new GrowingBatch(0).take(), interactions };
}
