// DUNE trigger-primitive files in and out as TpStreams (sim/tp-stream.ts): openTpStream reads text8,
// text11, TPStreamer dumps and DAQ HDF5 raw-data files (the format found from the content), in
// batches, in time order, with constant memory; writeTpStream writes any of them atomically.
// The formats and their upstream sources: text.ts, daq-hdf5.ts, docs/tps.md.
import { openSync, readSync, closeSync, rmSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { commitTemp, tempName, writeFileAtomic } from '../../util/atomic-write.js';
import { DTS_PER_TICK, type TpInteraction, type TpStream } from '../../sim/tp-stream.js';
import { orderByTime, type BadRows, type RawBatch } from './batch.js';
import { FD_HD_OFFLINE, type ChannelMap } from './channel-map.js';
import { daqTextLine, firstDataLine, LineWriter, peekStdin, readText, streamerLine, TEXT_COLUMNS, type TextFormat } from './text.js';
import { hasTruthSidecar, interactionsPath, ownersPath, TruthSidecar, TruthWriter } from './truth.js';
import { daqHasTruth, HDF5_SIGNATURE, firstDaqTimestamp, readDaqHdf5, writeDaqHdf5 } from './daq-hdf5.js';

export { FD_HD_OFFLINE, readChannelMap, type ChannelMap } from './channel-map.js';
export type { BadRows } from './batch.js';

export const TP_FORMATS = ['text8', 'text11', 'tpstreamer', 'hdf5'] as const;
export type TpFormat = (typeof TP_FORMATS)[number];

/** Offline ticks a DAQ stream's rows may come back in time and still be sorted into place (5 ms:
 *  more than a 2.246 ms time slice, whose fragments come link after link). */
export const DEFAULT_REORDER_TICKS = 10_000;

export interface OpenTpOptions {
  format?: TpFormat;
  channelMap?: ChannelMap;
  /** See DEFAULT_REORDER_TICKS; TPStreamer files are sorted within each event whatever this is. */
  reorderTicks?: number;
  /** Count and list bad rows (stream.bad) instead of stopping at the first. */
  skipBad?: boolean;
  /** DAQ formats: the origin is the first timestamp rounded down to a multiple of this many offline
   *  ticks (a window, so windows fall on whole multiples of it in DTS time); default: not rounded. */
  alignTicks?: number;
  /** TPStreamer: events are laid end to end, each starting on a multiple of this many ticks (default 4492, 2.246 ms). */
  eventTicks?: number;
  /** Only the TPs of these planes (0 U, 1 V, 2 collection); default all. */
  planes?: number[];
}

export interface TpFileStream extends TpStream {
  format: TpFormat;
  channelMap: ChannelMap;
  /** Bad rows met so far (filled as the batches are read, with skipBad). */
  bad: BadRows;
}

/** The format of a file from its first bytes: HDF5's signature, else the column count of the first data line. */
export async function detectTpFormat(file: string): Promise<TpFormat> {
  let head: Buffer;
  if (file === '-') head = (await peekStdin()).subarray(0, 1 << 16);
  else {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw new UserError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const buf = Buffer.alloc(1 << 16);
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    head = buf.subarray(0, n);
  }
  if (head.subarray(0, 8).equals(HDF5_SIGNATURE)) return 'hdf5';
  const first = firstDataLine(head.toString('latin1'));
  if (!first) throw new UserError(`${file}: no TP line found (empty, or not a TP file)`);
  const f = (Object.entries(TEXT_COLUMNS) as [TextFormat, number][]).find(([, n]) => n === first.cols);
  if (!f)
    throw new UserError(
      `${file}:${first.line}: ${first.cols} columns, not a known TP format (text8: 8, text11: 11, tpstreamer: 24 columns; DAQ HDF5); pass --format to choose one`,
    );
  return f[0];
}

/** Opens TP files ('-' = standard input) as one stream, in the order given. */
export async function openTpStream(files: string[], o: OpenTpOptions = {}): Promise<TpFileStream> {
  if (!files.length) throw new UserError('no TP file given');
  const formats = o.format ? files.map(() => o.format!) : await Promise.all(files.map(detectTpFormat));
  const format = formats[0]!;
  const other = formats.findIndex((f) => f !== format);
  if (other >= 0) throw new UserError(`${files[other]}: format ${formats[other]}, but ${files[0]} is ${format}: give files of one format`);
  if (format === 'hdf5' && files.includes('-')) throw new UserError('DAQ HDF5 cannot be read from standard input: give the file');
  const map = o.channelMap ?? FD_HD_OFFLINE;
  const bad: BadRows = { count: 0, rows: [] };
  const badSink = o.skipBad ? bad : null;
  const planes = o.planes ? new Set(o.planes) : undefined;
  const alignDts = o.alignTicks ? BigInt(Math.round(o.alignTicks * DTS_PER_TICK)) : 1n;
  const align = (t: bigint) => (t / alignDts) * alignDts;

  let originDts = 0n;
  let hasTruth = format === 'tpstreamer';
  if (format === 'text8' || format === 'text11') {
    hasTruth = files.every(hasTruthSidecar);
    const head = files[0] === '-' ? (await peekStdin()).toString('latin1') : null;
    const first = head !== null ? firstDataLine(head) : await firstTextLine(files[0]!);
    const t = first?.fields[0];
    if (t && /^\d+$/.test(t)) originDts = align(BigInt(t));
  } else if (format === 'hdf5') {
    const t = firstDaqTimestamp(files[0]!);
    if (t !== null) originDts = align(t);
    hasTruth = files.every(daqHasTruth);
  }
  const reorder = o.reorderTicks ?? (format === 'tpstreamer' ? Infinity : DEFAULT_REORDER_TICKS);

  async function* raw(): AsyncGenerator<RawBatch> {
    const nextInteraction = { id: 0 };
    for (let s = 0; s < files.length; s++) {
      const file = files[s]!;
      if (format === 'hdf5') {
        yield* readDaqHdf5({ file, sourceIndex: s, map, originDts, bad: badSink, nextInteraction, truth: hasTruth, planes });
        continue;
      }
      let truth: TruthSidecar | null = null;
      if (hasTruth && format !== 'tpstreamer') {
        truth = new TruthSidecar(file, nextInteraction.id);
        nextInteraction.id = truth.lastId + 1;
      }
      yield* readText({
        format: format as TextFormat,
        file,
        sourceIndex: s,
        map,
        originDts,
        bad: badSink,
        nextInteraction,
        truth,
        eventTicks: o.eventTicks ?? 4492,
        planes,
      });
    }
  }
  return {
    format,
    channelMap: map,
    bad,
    header: { originDts, sources: [...files], hasTruth },
    batches: orderByTime(raw(), reorder, badSink, (t) =>
      format === 'tpstreamer' ? `${+t.toFixed(3)} (ticks from the first event)` : (originDts + BigInt(Math.round(t * DTS_PER_TICK))).toString(),
    ),
  };
}

async function firstTextLine(file: string) {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 16);
  const n = readSync(fd, buf, 0, buf.length, 0);
  closeSync(fd);
  return firstDataLine(buf.subarray(0, n).toString('latin1'));
}

export interface WriteTpOptions {
  /** tpstreamer: each event covers this many offline ticks (default 4492, 2.246 ms). */
  eventTicks?: number;
  /** hdf5: TriggerPrimitive version 1 (56 B, DTS-tick times: exact round trips) or 2 (24 B: ToT and peak in whole ADC samples of 0.512 µs); default 1. */
  tpVersion?: 1 | 2;
  /** hdf5: ticks per TimeSlice record (default 4492). */
  sliceTicks?: number;
}

/** Writes a stream in a format to `out` (temporary name, then renamed; truth sidecars beside text8/text11). */
export async function writeTpStream(stream: TpStream, format: TpFormat, out: string, o: WriteTpOptions = {}): Promise<{ tps: number; interactions: number }> {
  if (format === 'hdf5') return writeDaqHdf5(stream, out, { tpVersion: o.tpVersion ?? 1, sliceTicks: o.sliceTicks ?? 4492 });
  const tmp = tempName(out);
  const ownersTmp = tempName(ownersPath(out));
  const withSidecar = stream.header.hasTruth && format !== 'tpstreamer';
  const w = new LineWriter(tmp);
  const truth = withSidecar ? new TruthWriter(out, ownersTmp) : null;
  const energies = new Map<number, TpInteraction>();
  let tps = 0,
    interactions = 0;
  try {
    const eventTicks = o.eventTicks ?? 4492;
    for await (const { tps: b, interactions: list } of stream.batches) {
      interactions += list.length;
      truth?.addInteractions(list);
      if (format === 'tpstreamer') for (const t of list) energies.set(t.id, t);
      for (let i = 0; i < b.n; i++) {
        const line = format === 'tpstreamer' ? streamerLine(b, i, eventTicks, energies) : daqTextLine(b, i, stream.header.originDts, format === 'text11');
        const wait = w.write(line);
        if (wait) await wait;
        const ownerWait = truth?.owner(b.owner[i]!);
        if (ownerWait) await ownerWait;
      }
      tps += b.n;
    }
    await w.close();
    if (truth) {
      const csv = await truth.close();
      writeFileAtomic(interactionsPath(out), csv);
      commitTemp(ownersTmp, ownersPath(out));
    }
    commitTemp(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    rmSync(ownersTmp, { force: true });
    throw e;
  }
  return { tps, interactions };
}
