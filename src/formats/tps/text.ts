// The text TP formats, read and written line by line (constant memory).
//
// - text8: DUNE-DAQ/trigger's TriggerPrimitiveMaker input (plugins/TriggerPrimitiveMaker.cpp before
//   Jan 2024, and the trigger README): time_start time_over_threshold time_peak channel adc_integral
//   adc_peak detid type; times in DTS ticks (16 ns).
// - text11: DUNE-DAQ/tpgtools apps/streamed_TPs_to_text.cxx (commit 335b00e): the 8 above, then
//   algorithm version flag (the fields of a v1 TriggerPrimitive, trgdataformats
//   include/trgdataformats/TriggerPrimitive.hpp at d2b2701).
// - tpstreamer: DUNE/duneana duneana/DAQSimAna/SNPointingTools/TPStreamer_module.cc (commit
//   e83992d), LArSoft hits with MC truth, 24 columns: start tick, ToT, peak tick, channel, summed
//   ADC, peak amplitude, channel/2560, type 1, algorithm 1, version 1, flag 0, ptype (the module's
//   `enum PType`: 1 MARLEY), event, view, true x y z, nElectrons, the track's ptype, Eν, Ee (GeV),
//   px py pz. Ticks are offline 0.5 µs ticks, counted from the start of each event.
//
// Text formats carry no truth of their own except TPStreamer's; daqyolo's exporter writes the
// truth of a text8/text11 file beside it (FILE.truth, see truth.ts).
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { UserError } from '../../errors.js';
import { bgIndex, bgOwner, BACKGROUND_SOURCES, NOISE_OWNER, type BackgroundSource } from '../../sim/deposits.js';
import { DTS_PER_TICK, faceId, UNKNOWN_OWNER, type TpBatch, type TpInteraction } from '../../sim/tp-stream.js';
import { badRow, GrowingBatch, BATCH_ROWS, type RawBatch, type ReaderOptions, emptyRow } from './batch.js';

export type TextFormat = 'text8' | 'text11' | 'tpstreamer';
export const TEXT_COLUMNS: Record<TextFormat, number> = { text8: 8, text11: 11, tpstreamer: 24 };
const FIELD_NAMES = ['time_start', 'time_over_threshold', 'time_peak', 'channel', 'adc_integral', 'adc_peak', 'detid', 'type', 'algorithm', 'version', 'flag'];
const STREAMER_NAMES = [
  'start_tick',
  'time_over_threshold',
  'peak_tick',
  'channel',
  'adc_integral',
  'adc_peak',
  'detid',
  'type',
  'algorithm',
  'version',
  'flag',
  'ptype',
  'event',
  'view',
  'x',
  'y',
  'z',
  'n_electrons',
  'track_ptype',
  'e_nu',
  'e_e',
  'px',
  'py',
  'pz',
];

/** TPStreamer's generator types (PType) and daqyolo's background sources: the ³⁹Ar…²²²Rn-chain
 *  LAr generators map one to one; Pb210 has no daqyolo source; the CPA/APA/PDS generators are
 *  gammas from outside the argon (external_gamma) and rock neutrons are neutron captures. */
export const PTYPE_MARLEY = 1;
const PTYPE_SOURCE: Record<number, BackgroundSource> = {
  2: 'ar39',
  3: 'kr85',
  4: 'ar42',
  5: 'k42',
  6: 'rn222',
  7: 'po218',
  8: 'pb214',
  9: 'bi214',
  11: 'external_gamma',
  12: 'external_gamma',
  13: 'external_gamma',
  14: 'external_gamma',
  15: 'external_gamma',
  16: 'external_gamma',
  17: 'external_gamma',
  18: 'external_gamma',
  19: 'external_gamma',
  20: 'external_gamma',
  21: 'external_gamma',
  22: 'ncapture',
};
/** The PType written for each daqyolo background source (po214 follows its parent, Bi214). */
const SOURCE_PTYPE: Record<BackgroundSource, number> = {
  ar39: 2,
  kr85: 3,
  ar42: 4,
  k42: 5,
  rn222: 6,
  po218: 7,
  pb214: 8,
  bi214: 9,
  po214: 9,
  external_gamma: 19,
  ncapture: 22,
};

export function ownerOfPtype(ptype: number): number {
  if (ptype === 0) return NOISE_OWNER;
  const s = PTYPE_SOURCE[ptype];
  return s ? bgOwner(BACKGROUND_SOURCES.indexOf(s)) : UNKNOWN_OWNER;
}

export function ptypeOfOwner(owner: number): number {
  if (owner >= 0) return PTYPE_MARLEY;
  if (owner === NOISE_OWNER || owner === UNKNOWN_OWNER) return 0;
  const s = BACKGROUND_SOURCES[bgIndex(owner)];
  return s ? SOURCE_PTYPE[s] : 0;
}

/** Lines of a file or stdin ('-'), in chunks, with the number of the first line of each chunk. */
export async function* readLines(file: string): AsyncGenerator<{ lines: string[]; first: number }> {
  const input: AsyncIterable<Buffer | string> = file === '-' ? stdinChunks() : createReadStream(file, { highWaterMark: 1 << 22 });
  let rest = '';
  let lineNo = 1;
  try {
    for await (const chunk of input) {
      const text = rest + (typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('latin1'));
      const lines = text.split('\n');
      rest = lines.pop()!;
      yield { lines, first: lineNo };
      lineNo += lines.length;
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  if (rest) yield { lines: [rest], first: lineNo };
}

// Standard input can be read once: its first chunk is kept for format detection and then read again.
let stdinIter: AsyncIterator<Buffer> | null = null;
let stdinFirst: Buffer | null = null;

/** The first chunk of standard input (kept, not consumed). */
export async function peekStdin(): Promise<Buffer> {
  if (!stdinIter) {
    stdinIter = (process.stdin as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const r = await stdinIter.next();
    stdinFirst = r.done ? Buffer.alloc(0) : r.value;
  }
  return stdinFirst!;
}

async function* stdinChunks(): AsyncGenerator<Buffer> {
  const first = await peekStdin();
  if (first.length) yield first;
  for (let r = await stdinIter!.next(); !r.done; r = await stdinIter!.next()) yield r.value;
}

/** The column count of the first data line of a text (blank lines and '#' comments skipped), or null. */
export function firstDataLine(text: string): { cols: number; line: number; fields: string[] } | null {
  const lines = text.split('\n');
  for (let k = 0; k < lines.length - 1 || (k === lines.length - 1 && lines[k]); k++) {
    const l = lines[k]!.trim();
    if (!l || l.startsWith('#')) continue;
    const fields = l.split(/\s+/);
    return { cols: fields.length, line: k + 1, fields };
  }
  return null;
}

/** Per-row truth read beside a text file (truth.ts's TruthSidecar): its interactions, then the
 *  owner of each data row in order. An interface here, so that text.ts and truth.ts do not import
 *  each other (truth.ts reads its sidecar with readLines). */
export interface TruthSource {
  readonly interactions: TpInteraction[];
  next(where: string): Promise<number>;
  end(): Promise<void>;
}

export interface TextReadOptions extends ReaderOptions {
  format: TextFormat;
  truth: TruthSource | null;
  /** TPStreamer: each event starts on a multiple of this many ticks, after the previous event's TPs. */
  eventTicks: number;
}

/** GeV → MeV without the binary noise of ×1000 (12 significant digits: more than the file holds). */
const gevToMeV = (gev: number): number => Number((gev * 1000).toPrecision(12));

/** Parses a DTS timestamp string into offline ticks from the origin (BigInt beyond 2^53); NaN unless a whole number ≥ 0. */
function dtsToTicks(s: string, origin: bigint, originNumber: number): number {
  if (s.length <= 15) {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0 || s.charCodeAt(0) > 57) return NaN;
    if (Number.isSafeInteger(originNumber)) return (v - originNumber) / DTS_PER_TICK;
  }
  if (!/^\d+$/.test(s)) return NaN;
  return Number(BigInt(s) - origin) / DTS_PER_TICK;
}

/** Reads one text file into raw batches in file order. */
export async function* readText(o: TextReadOptions): AsyncGenerator<RawBatch> {
  const ncol = TEXT_COLUMNS[o.format];
  const names = o.format === 'tpstreamer' ? STREAMER_NAMES : FIELD_NAMES;
  const streamer = o.format === 'tpstreamer';
  const out = new GrowingBatch();
  let lines: Float64Array = new Float64Array(BATCH_ROWS);
  let interactions: TpInteraction[] = [];
  const row = emptyRow(o.sourceIndex);
  // TPStreamer events laid end to end.
  let event: number | null = null,
    firstEvent = 0,
    eventBase = 0,
    eventMax = -Infinity;
  let signal = new Map<string, { id: number; faces: Set<number> }>();
  const where = (ln: number) => `${o.file}:${ln}`;
  const flush = (barrier: boolean): RawBatch => {
    const ls = lines;
    const b: RawBatch = { tps: out.take(), where: (i) => where(ls[i]!), interactions, barrier };
    lines = new Float64Array(BATCH_ROWS);
    interactions = [];
    return b;
  };
  if (o.truth) interactions.push(...o.truth.interactions);
  const nums = new Float64Array(ncol);
  const originNumber = o.originDts <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(o.originDts) : NaN;
  for await (const { lines: chunk, first } of readLines(o.file)) {
    for (let k = 0; k < chunk.length; k++) {
      const text = chunk[k]!.trim();
      if (!text || text.charCodeAt(0) === 35 /* # */) continue;
      const ln = first + k;
      // The sidecar's owners pair with every TP line, good or bad.
      const owner = o.truth ? await o.truth.next(where(ln)) : UNKNOWN_OWNER;
      const f = text.indexOf('\t') < 0 && text.indexOf('  ') < 0 ? text.split(' ') : text.split(/\s+/);
      if (f.length !== ncol) {
        badRow(o.bad, where(ln), `expected ${ncol} columns (${o.format}), got ${f.length}`);
        continue;
      }
      let ok = true;
      for (let c = 0; c < ncol; c++) {
        // DAQ times may exceed 2^53 DTS ticks: parsed against the origin below.
        if (!streamer && (c === 0 || c === 2)) {
          nums[c] = dtsToTicks(f[c]!, o.originDts, originNumber);
          if (Number.isNaN(nums[c])) {
            badRow(o.bad, where(ln), `field ${names[c]} value "${f[c]}" is not a whole number of DTS ticks`);
            ok = false;
            break;
          }
          continue;
        }
        const v = Number(f[c]);
        if (!Number.isFinite(v) || f[c] === '') {
          badRow(o.bad, where(ln), `field ${names[c]} value "${f[c]}" is not a number`);
          ok = false;
          break;
        }
        nums[c] = v;
      }
      if (!ok) continue;
      if (nums[1]! < 0) {
        badRow(o.bad, where(ln), `field time_over_threshold value ${f[1]} is negative`);
        continue;
      }
      const channel = nums[3]!;
      const place = o.map.place(channel);
      if (!place) {
        badRow(o.bad, where(ln), `field channel value ${f[3]} is outside the channel map (${o.map.name})`);
        continue;
      }
      if (o.planes && !o.planes.has(place.plane)) continue;
      row.channel = channel;
      row.face = faceId(place.apa, place.face);
      row.wire = place.wire;
      row.plane = place.plane;
      row.adcIntegral = nums[4]!;
      row.adcPeak = nums[5]!;
      row.detid = nums[6]!;
      row.type = nums[7]!;
      row.algorithm = ncol > 8 ? nums[8]! : 0;
      row.flag = ncol > 8 ? nums[10]! : 0;
      if (streamer) {
        const ev = nums[12]!;
        if (event === null) {
          event = firstEvent = ev;
        } else if (ev !== event) {
          // A new event: it starts after the previous one, on a multiple of eventTicks, and no
          // earlier than its own number says (so exported events keep their spacing).
          const after = eventBase + Math.ceil((eventMax + 1) / o.eventTicks) * o.eventTicks;
          eventBase = Math.max(after, (ev - firstEvent) * o.eventTicks);
          event = ev;
          eventMax = -Infinity;
          signal = new Map();
          if (out.n) yield flush(true);
        }
        const t0 = nums[0]!;
        if (t0 < 0) {
          badRow(o.bad, where(ln), `field start_tick value ${f[0]} is negative`);
          continue;
        }
        row.timeStart = eventBase + t0;
        row.timePeak = eventBase + nums[2]!;
        row.timeOverThreshold = nums[1]!;
        // The event's extent is that of its start ticks: a TP crossing its end does not push the next event on.
        if (t0 > eventMax) eventMax = t0;
        row.record = ev;
        const ptype = nums[11]!;
        if (ptype === PTYPE_MARLEY) {
          const key = `${f[19]}|${f[20]}`;
          let s = signal.get(key);
          if (!s) signal.set(key, (s = { id: o.nextInteraction.id++, faces: new Set() }));
          row.owner = s.id;
          if (!s.faces.has(row.face)) {
            s.faces.add(row.face);
            interactions.push({
              id: s.id,
              face: row.face,
              time: row.timeStart,
              energyMeV: gevToMeV(nums[19]!),
              electronMeV: gevToMeV(nums[20]!),
              origin: `${o.file} event ${ev}`,
            });
          }
        } else row.owner = ownerOfPtype(ptype);
      } else {
        row.timeStart = nums[0]!;
        row.timePeak = nums[2]!;
        row.timeOverThreshold = nums[1]! / DTS_PER_TICK;
        row.owner = owner;
      }
      lines[out.n] = ln;
      out.push(row);
      if (out.n === BATCH_ROWS) yield flush(false);
    }
  }
  if (o.truth) await o.truth.end();
  if (out.n || interactions.length) yield flush(streamer);
}

// ---- writers ----

/** Writes text lines with back-pressure. */
export class LineWriter {
  private readonly ws: WriteStream;
  private buf: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.ws = createWriteStream(path);
  }
  /** Adds a line; a promise only when the buffer went out (await it then: back-pressure). */
  write(line: string): Promise<void> | undefined {
    this.buf.push(line);
    this.size += line.length;
    return this.size > 1 << 20 ? this.flush() : undefined;
  }
  async flush(): Promise<void> {
    if (!this.buf.length) return;
    const ok = this.ws.write(this.buf.join('\n') + '\n');
    this.buf = [];
    this.size = 0;
    if (!ok) await once(this.ws, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.ws.end();
    await once(this.ws, 'finish');
  }
}

const dts = (originDts: bigint, ticks: number): string => (originDts + BigInt(Math.round(ticks * DTS_PER_TICK))).toString();

/** One text8/text11 line of row i (times as DTS ticks from the origin). */
export function daqTextLine(b: TpBatch, i: number, originDts: bigint, eleven: boolean): string {
  const head = `${dts(originDts, b.timeStart[i]!)} ${Math.round(b.timeOverThreshold[i]! * DTS_PER_TICK)} ${dts(originDts, b.timePeak[i]!)} ${b.channel[i]} ${b.adcIntegral[i]} ${b.adcPeak[i]} ${b.detid[i]} ${b.type[i]}`;
  return eleven ? `${head} ${b.algorithm[i]} 1 ${b.flag[i]}` : head;
}

/** One TPStreamer line of row i; event = which eventTicks-long span it is in, ticks within it. */
export function streamerLine(b: TpBatch, i: number, eventTicks: number, energies: Map<number, TpInteraction>): string {
  const ev = Math.floor(b.timeStart[i]! / eventTicks);
  const base = ev * eventTicks;
  const owner = b.owner[i]!;
  const ptype = ptypeOfOwner(owner);
  const it = owner >= 0 ? energies.get(owner) : undefined;
  // GeV with 12 decimals (upstream writes 8): enough that float32 MeV values come back exactly.
  const gev = (mev: number | undefined) => (mev !== undefined && Number.isFinite(mev) ? (mev / 1000).toFixed(12) : '0.000000000000');
  return `${Math.round(b.timeStart[i]! - base)} ${Math.round(b.timeOverThreshold[i]!)} ${Math.round(b.timePeak[i]! - base)} ${b.channel[i]} ${b.adcIntegral[i]} ${b.adcPeak[i]} ${Math.floor(b.channel[i]! / 2560)} 1 1 1 0 ${ptype} ${ev} ${b.plane[i]} 0 0 0 0 ${ptype} ${gev(it?.energyMeV)} ${gev(it?.electronMeV)} 0 0 0`;
}
