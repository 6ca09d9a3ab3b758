// Batches of TPs on their way out of a reader: a growable TpBatch the readers fill row by row, and
// the time orderer that turns the rows as a file holds them (DAQ fragments of one time slice come
// link after link; LArSoft hits come channel by channel) into the stream's order (non-decreasing
// time_start), holding back only the rows that are within the reorder window of the latest time.
import { UserError } from '../../errors.js';
import type { ChannelMap } from './channel-map.js';
import { allocTpBatch, UNKNOWN_OWNER, type TpBatch, type TpInteraction } from '../../sim/tp-stream.js';

/** Rows per batch handed to consumers. */
export const BATCH_ROWS = 1 << 16;

/** Every column of a TpBatch, for copying rows generically. */
export const TP_COLUMNS = [
  'face',
  'wire',
  'channel',
  'plane',
  'timeStart',
  'timePeak',
  'timeOverThreshold',
  'adcIntegral',
  'adcPeak',
  'detid',
  'algorithm',
  'flag',
  'type',
  'source',
  'record',
  'owner',
] as const;
export type TpColumn = (typeof TP_COLUMNS)[number];

/** One TP as a reader parses it, before it is put in a batch. */
export type TpRow = Record<TpColumn, number>;

/** A row to fill: DAQ defaults (type TPC), no origin record, no truth. */
export const emptyRow = (source: number): TpRow => ({
  face: 0,
  wire: 0,
  channel: 0,
  plane: 0,
  timeStart: 0,
  timePeak: 0,
  timeOverThreshold: 0,
  adcIntegral: 0,
  adcPeak: 0,
  detid: 0,
  algorithm: 0,
  flag: 0,
  type: 1,
  source,
  record: -1,
  owner: UNKNOWN_OWNER,
});

/** Copies row i of `src` to row k of `dst`, column by column (written out: this is the hot path). */
export function copyRow(dst: TpBatch, k: number, src: TpBatch, i: number): void {
  dst.face[k] = src.face[i]!;
  dst.wire[k] = src.wire[i]!;
  dst.channel[k] = src.channel[i]!;
  dst.plane[k] = src.plane[i]!;
  dst.timeStart[k] = src.timeStart[i]!;
  dst.timePeak[k] = src.timePeak[i]!;
  dst.timeOverThreshold[k] = src.timeOverThreshold[i]!;
  dst.adcIntegral[k] = src.adcIntegral[i]!;
  dst.adcPeak[k] = src.adcPeak[i]!;
  dst.detid[k] = src.detid[i]!;
  dst.algorithm[k] = src.algorithm[i]!;
  dst.flag[k] = src.flag[i]!;
  dst.type[k] = src.type[i]!;
  dst.source[k] = src.source[i]!;
  dst.record[k] = src.record[i]!;
  dst.owner[k] = src.owner[i]!;
}

/** A TpBatch that grows as rows are pushed. */
export class GrowingBatch {
  b: TpBatch;
  constructor(capacity = BATCH_ROWS) {
    this.b = allocTpBatch(capacity);
  }

  get n(): number {
    return this.b.n;
  }

  private reserve(rows: number): void {
    if (this.b.n + rows <= this.b.face.length) return;
    const next = allocTpBatch(Math.max(16, this.b.face.length * 2, this.b.n + rows));
    for (const c of TP_COLUMNS) (next[c] as Int32Array).set((this.b[c] as Int32Array).subarray(0, this.b.n));
    next.n = this.b.n;
    this.b = next;
  }

  push(r: TpRow): void {
    this.reserve(1);
    const b = this.b;
    const k = b.n++;
    b.face[k] = r.face;
    b.wire[k] = r.wire;
    b.channel[k] = r.channel;
    b.plane[k] = r.plane;
    b.timeStart[k] = r.timeStart;
    b.timePeak[k] = r.timePeak;
    b.timeOverThreshold[k] = r.timeOverThreshold;
    b.adcIntegral[k] = r.adcIntegral;
    b.adcPeak[k] = r.adcPeak;
    b.detid[k] = r.detid;
    b.algorithm[k] = r.algorithm;
    b.flag[k] = r.flag;
    b.type[k] = r.type;
    b.source[k] = r.source;
    b.record[k] = r.record;
    b.owner[k] = r.owner;
  }

  /** Appends row i of `src`. */
  pushFrom(src: TpBatch, i: number): void {
    this.reserve(1);
    copyRow(this.b, this.b.n++, src, i);
  }

  /** Appends rows [from, to) of `src` in one block per column. */
  pushRange(src: TpBatch, from: number, to: number): void {
    this.reserve(to - from);
    const n = this.b.n;
    for (const c of TP_COLUMNS) (this.b[c] as Int32Array).set((src[c] as Int32Array).subarray(from, to), n);
    this.b.n += to - from;
  }

  /** The filled rows as an exact-size batch (copies), and the builder emptied. */
  take(): TpBatch {
    const out = sliceBatch(this.b, 0, this.b.n);
    this.b.n = 0;
    return out;
  }
}

/** Rows [from, to) of a batch as a new exact-size batch. */
export function sliceBatch(b: TpBatch, from: number, to: number): TpBatch {
  const out = allocTpBatch(0);
  for (const c of TP_COLUMNS) (out as unknown as Record<string, ArrayBufferView>)[c] = (b[c] as Int32Array).slice(from, to);
  out.n = to - from;
  return out;
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

/** What every file reader is told. */
export interface ReaderOptions {
  file: string;
  /** The file's index in the stream's sources. */
  sourceIndex: number;
  map: ChannelMap;
  /** DAQ formats: the DTS tick of offline tick 0. */
  originDts: bigint;
  bad: BadRows | null;
  /** Stream-wide interaction ids start here (several files). */
  nextInteraction: { id: number };
  /** Only the TPs of these planes (default all). */
  planes?: ReadonlySet<number>;
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
 * Puts rows in time order (`fileTime` writes a time as the file holds it, for errors). Rows earlier than the latest time seen by at most `reorderTicks` are
 * sorted into place; a row earlier than that is bad ("time going backwards beyond the reorder
 * window"). Memory: the rows of one reorder window (and of one barrier-delimited event).
 */
export async function* orderByTime(
  raw: AsyncIterable<RawBatch>,
  reorderTicks: number,
  bad: BadRows | null,
  fileTime: (ticks: number) => string = String,
): AsyncGenerator<{ tps: TpBatch; interactions: TpInteraction[] }> {
  const pending = new GrowingBatch();
  let sorted = true;
  let maxSeen = -Infinity;
  /** Rows up to this time have been handed out; nothing earlier may come. */
  let emitted = -Infinity;
  let interactions: TpInteraction[] = [];

  function* emit(upTo: number): Generator<{ tps: TpBatch; interactions: TpInteraction[] }> {
    if (pending.n === 0) return;
    if (!sorted) {
      const p = pending.b;
      const idx = Array.from({ length: p.n }, (_, i) => i);
      const t = p.timeStart;
      idx.sort((a, b) => t[a]! - t[b]! || a - b);
      const s = new GrowingBatch(p.n);
      for (const i of idx) copyRow(s.b, s.b.n++, p, i);
      pending.b = s.b;
      sorted = true;
    }
    const p = pending.b;
    // Sorted: the rows up to `upTo` are a prefix.
    let cut = p.n;
    if (upTo !== Infinity) {
      let lo = 0,
        hi = p.n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (p.timeStart[mid]! <= upTo) lo = mid + 1;
        else hi = mid;
      }
      cut = lo;
    }
    if (cut === 0) return;
    for (let start = 0; start < cut; start += BATCH_ROWS) {
      const end = Math.min(cut, start + BATCH_ROWS);
      emitted = Math.max(emitted, p.timeStart[end - 1]!);
      yield { tps: sliceBatch(p, start, end), interactions };
      interactions = [];
    }
    const rest = new GrowingBatch(Math.max(16, 2 * (p.n - cut)));
    rest.pushRange(p, cut, p.n);
    pending.b = rest.b;
  }

  for await (const r of raw) {
    interactions.push(...r.interactions);
    const t = r.tps;
    // Rows are checked one by one, appended in runs of good rows.
    let run = 0;
    let last = pending.n ? pending.b.timeStart[pending.n - 1]! : -Infinity;
    for (let i = 0; i < t.n; i++) {
      const ts = t.timeStart[i]!;
      if (ts < emitted || ts < maxSeen - reorderTicks) {
        pending.pushRange(t, run, i);
        run = i + 1;
        badRow(
          bad,
          r.where(i),
          `field time_start value ${fileTime(ts)} goes back ${+(Math.max(maxSeen, emitted) - ts).toFixed(3)} ticks, beyond the reorder window of ${reorderTicks} ticks (--reorder-ticks)`,
        );
        continue;
      }
      if (ts < last) sorted = false;
      last = ts;
      if (ts > maxSeen) maxSeen = ts;
    }
    pending.pushRange(t, run, t.n);
    if (r.barrier) yield* emit(Infinity);
    else if (pending.n >= 2 * BATCH_ROWS) yield* emit(maxSeen - reorderTicks);
  }
  yield* emit(Infinity);
  if (interactions.length) yield { tps: new GrowingBatch(0).take(), interactions };
}
