// DUNE-DAQ HDF5 raw-data files of trigger primitives, read and written with h5wasm.
//
// Layout (DUNE-DAQ/hdf5libs src/HDF5FileLayout.cpp and src/HDF5RawDataFile.cpp at 1de7a46): one
// dataset of raw bytes (HighFive `char`, shape [nbytes, 1]) per fragment at
// <Record>/RawData/<SourceID>_<FragmentType>, records named TimeSlice + 6 digits (TP-stream files)
// or TriggerRecord + digits + "." + 4-digit sequence. DUNE-DAQ/trgtools python/trgtools/TPReader.py
// (e4b4aa8) reads every fragment whose path contains "Trigger_Primitive"; so does this reader, of
// both record kinds.
//
// A fragment is a FragmentHeader (DUNE-DAQ/daqdataformats include/daqdataformats/FragmentHeader.hpp
// at 3f617d5, 72 bytes, little-endian; the offsets are that header's static_asserts): marker u32 @0
// (0x11112222), version u32 @4 (5), size u64 @8 (header included), trigger_number u64 @16,
// trigger_timestamp u64 @24, window_begin u64 @32, window_end u64 @40, run_number u32 @48,
// error_bits u32 @52, fragment_type u32 @56 (kTriggerPrimitive = 6), sequence_number u16 @60,
// detector_id u16 @62, element_id = SourceID @64 (SourceID.hpp: version u16, subsystem u16
// (kTrigger = 3), id u32) — then the payload, packed TriggerPrimitives:
//
// v1 (DUNE-DAQ/trgdataformats include/trgdataformats/TriggerPrimitive.hpp at d2b2701, tag v1.2.0;
// Types.hpp: version_t u16, timestamp_t u64, channel_t i32, detid_t u16), 56 bytes with the
// compiler's padding: version u16 @0, time_start u64 @8, time_peak u64 @16, time_over_threshold u64
// @24, channel i32 @32, adc_integral u32 @36, adc_peak u16 @40, detid u16 @42, type i32 @44,
// algorithm i32 @48, flag u16 @52. Times and ToT in DTS ticks.
//
// v2 (the same header at 90d351f): 24 bytes of uint64 bitfields, allocated from the low bit on a
// little-endian machine (as the header's static_asserts require): word @0 = version:8 | flag:8 |
// detid:8 | channel:24 | samples_over_threshold:16; time_start u64 @8; word @16 = samples_to_peak:16
// | adc_integral:32 | adc_peak:16. ToT and peak are in ADC samples of 32 DTS ticks (Types.hpp).
//
// DTS ticks become offline ticks through DTS_PER_TICK, counted from the stream's origin.
// daqyolo's exporter also writes the truth of its TPs into the file at /daqyolo_truth (owners in
// fragment order, interactions as JSON), which DUNE's readers ignore.
import { rmSync } from 'node:fs';
import { UserError } from '../../errors.js';
import { h5wasm, h5Cause, type H5Dataset, type H5File, type H5Group } from '../../data/h5.js';
import { commitTemp, tempName } from '../../util/atomic-write.js';
import { DTS_PER_TICK, faceId, UNKNOWN_OWNER, type TpInteraction, type TpStream } from '../../sim/tp-stream.js';
import { badRow, GrowingBatch, type RawBatch, type ReaderOptions, emptyRow } from './batch.js';

export const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
export const FRAGMENT_HEADER_BYTES = 72;
export const FRAGMENT_MARKER = 0x11112222;
export const FRAGMENT_VERSION = 5;
export const FRAGMENT_TYPE_TP = 6;
export const SUBSYSTEM_TRIGGER = 3;
export const TP_BYTES = { 1: 56, 2: 24 } as const;
/** DTS ticks per ADC sample (trgdataformats Types.hpp; dunetrigger ADC_SAMPLING_RATE_IN_DTS). */
export const DTS_PER_SAMPLE = 32;
export const TRUTH_OWNERS = 'daqyolo_truth/owners';
export const TRUTH_INTERACTIONS = 'daqyolo_truth/interactions';

function openRead(file: string): H5File {
  try {
    return new h5wasm.File(file, 'r');
  } catch (e) {
    throw new UserError(`${file}: cannot be read as HDF5 (${h5Cause(e)})`);
  }
}

/** The record's number from its group name: TimeSlice000012 → 12, TriggerRecord00003.0001 → 3. */
const recordNumber = (name: string): number => {
  const m = /(\d+)(?:\.\d+)?$/.exec(name);
  return m ? Number(m[1]) : -1;
};

/** Every TP fragment's dataset path, record by record (by number), fragments by name. */
export function tpFragmentPaths(f: H5File): string[] {
  const out: string[] = [];
  const records = f.keys().filter((k) => /^(TimeSlice|TriggerRecord)\d/.test(k));
  records.sort((a, b) => recordNumber(a) - recordNumber(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const r of records) {
    const g = f.get(r) as H5Group | null;
    if (!g || !('keys' in g)) continue;
    const walk = (group: H5Group, prefix: string) => {
      for (const k of [...group.keys()].sort()) {
        const e = group.get(k);
        const path = `${prefix}/${k}`;
        if (e && 'keys' in e) walk(e as H5Group, path);
        else if (k.includes('Trigger_Primitive')) out.push(path);
      }
    };
    walk(g, r);
  }
  return out;
}

const bytesOf = (ds: H5Dataset): Uint8Array => {
  const v = ds.value as ArrayBufferView;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
};

/** A fragment's header checked, its TP version and count; or the problem in one line. */
export function checkFragment(bytes: Uint8Array): { version: 1 | 2; count: number; payload: DataView } | string {
  if (bytes.length < FRAGMENT_HEADER_BYTES) return `fragment of ${bytes.length} bytes is shorter than a FragmentHeader (${FRAGMENT_HEADER_BYTES} bytes)`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const marker = dv.getUint32(0, true);
  if (marker !== FRAGMENT_MARKER)
    return `field fragment_header_marker value 0x${marker.toString(16).padStart(8, '0')} is not 0x${FRAGMENT_MARKER.toString(16)}`;
  const size = dv.getBigUint64(8, true);
  if (size !== BigInt(bytes.length)) return `field size value ${size} differs from the dataset's ${bytes.length} bytes`;
  const type = dv.getUint32(56, true);
  if (type !== FRAGMENT_TYPE_TP) return `field fragment_type value ${type} is not kTriggerPrimitive (${FRAGMENT_TYPE_TP})`;
  const payloadBytes = bytes.length - FRAGMENT_HEADER_BYTES;
  const payload = new DataView(bytes.buffer, bytes.byteOffset + FRAGMENT_HEADER_BYTES, payloadBytes);
  if (payloadBytes === 0) return { version: 2, count: 0, payload };
  // v1 starts with a u16 version, v2 with a u8 one: the first byte is the version either way
  // (v1's second byte is 0, v2's second byte is its flag).
  const v = payload.getUint8(0);
  if (v !== 1 && v !== 2) return `field version value ${v} of TP 0 is not a known TriggerPrimitive version (1 or 2)`;
  const size1 = TP_BYTES[v];
  if (payloadBytes % size1 !== 0) return `payload of ${payloadBytes} bytes is not a whole number of ${size1}-byte v${v} TriggerPrimitives`;
  return { version: v, count: payloadBytes / size1, payload };
}

/** The first TP timestamp of a file's first record (the earliest over its fragments), or null. */
export function firstDaqTimestamp(file: string): bigint | null {
  const f = openRead(file);
  try {
    const paths = tpFragmentPaths(f);
    if (!paths.length) return null;
    const rec = paths[0]!.split('/')[0];
    let min: bigint | null = null;
    for (const p of paths.filter((q) => q.split('/')[0] === rec)) {
      const c = checkFragment(bytesOf(f.get(p) as H5Dataset));
      if (typeof c === 'string' || c.count === 0) continue;
      const t = c.payload.getBigUint64(8, true);
      if (min === null || t < min) min = t;
    }
    return min;
  } finally {
    f.close();
  }
}

export function daqHasTruth(file: string): boolean {
  const f = openRead(file);
  try {
    return !!f.get(TRUTH_OWNERS) && !!f.get(TRUTH_INTERACTIONS);
  } finally {
    f.close();
  }
}

export interface DaqReadOptions extends ReaderOptions {
  /** The file holds daqyolo's /daqyolo_truth. */
  truth: boolean;
}

/** Reads every TP fragment of a file, fragment by fragment. */
export async function* readDaqHdf5(o: DaqReadOptions): AsyncGenerator<RawBatch> {
  const f = openRead(o.file);
  try {
    const paths = tpFragmentPaths(f);
    let interactions: TpInteraction[] = [];
    let owners: H5Dataset | null = null;
    let ownerAt = 0;
    const base = o.nextInteraction.id;
    if (o.truth) {
      owners = f.get(TRUTH_OWNERS) as H5Dataset;
      const list = JSON.parse(String((f.get(TRUTH_INTERACTIONS) as H5Dataset).value)) as TpInteraction[];
      interactions = list.map((t) => ({ ...t, id: t.id + base, electronMeV: t.electronMeV ?? NaN }));
      o.nextInteraction.id = interactions.reduce((a, t) => Math.max(a, t.id + 1), base);
    }
    const row = emptyRow(o.sourceIndex);
    const originHi = o.originDts;
    const toTicks = (t: bigint) => Number(t - originHi) / DTS_PER_TICK;
    for (const path of paths) {
      const where = `${o.file} dataset /${path}`;
      const c = checkFragment(bytesOf(f.get(path) as H5Dataset));
      if (typeof c === 'string') {
        badRow(o.bad, where, c);
        continue;
      }
      const { version, count, payload: p } = c;
      const ownerOf = owners && count ? (owners.slice([[ownerAt, ownerAt + count]]) as Int32Array) : null;
      if (owners) ownerAt += count;
      const record = recordNumber(path.split('/')[0]!);
      const out = new GrowingBatch(Math.max(16, count));
      const index: number[] = [];
      const size = TP_BYTES[version];
      for (let k = 0; k < count; k++) {
        const at = k * size;
        const tpWhere = () => `${where} TP ${k}`;
        let channel: number;
        if (version === 1) {
          const v = p.getUint16(at, true);
          if (v !== 1) {
            badRow(o.bad, tpWhere(), `field version value ${v} is not 1 like the fragment's first TP`);
            continue;
          }
          row.timeStart = toTicks(p.getBigUint64(at + 8, true));
          row.timePeak = toTicks(p.getBigUint64(at + 16, true));
          row.timeOverThreshold = Number(p.getBigUint64(at + 24, true)) / DTS_PER_TICK;
          channel = p.getInt32(at + 32, true);
          row.adcIntegral = p.getUint32(at + 36, true);
          row.adcPeak = p.getUint16(at + 40, true);
          row.detid = p.getUint16(at + 42, true);
          row.type = p.getInt32(at + 44, true);
          row.algorithm = p.getInt32(at + 48, true);
          row.flag = p.getUint16(at + 52, true);
        } else {
          const v = p.getUint8(at);
          if (v !== 2) {
            badRow(o.bad, tpWhere(), `field version value ${v} is not 2 like the fragment's first TP`);
            continue;
          }
          row.flag = p.getUint8(at + 1);
          row.detid = p.getUint8(at + 2);
          channel = p.getUint8(at + 3) | (p.getUint8(at + 4) << 8) | (p.getUint8(at + 5) << 16);
          const sot = p.getUint16(at + 6, true);
          row.timeStart = toTicks(p.getBigUint64(at + 8, true));
          const stp = p.getUint16(at + 16, true);
          row.adcIntegral = p.getUint32(at + 18, true);
          row.adcPeak = p.getUint16(at + 22, true);
          row.timeOverThreshold = (sot * DTS_PER_SAMPLE) / DTS_PER_TICK;
          row.timePeak = row.timeStart + (stp * DTS_PER_SAMPLE) / DTS_PER_TICK;
          row.type = 1;
          row.algorithm = 0;
        }
        const place = o.map.place(channel);
        if (!place) {
          badRow(o.bad, tpWhere(), `field channel value ${channel} is outside the channel map (${o.map.name})`);
          continue;
        }
        if (o.planes && !o.planes.has(place.plane)) continue;
        row.channel = channel;
        row.face = faceId(place.apa, place.face);
        row.wire = place.wire;
        row.plane = place.plane;
        row.record = record;
        row.owner = ownerOf ? (ownerOf[k]! >= 0 ? ownerOf[k]! + base : ownerOf[k]!) : UNKNOWN_OWNER;
        out.push(row);
        index.push(k);
      }
      yield { tps: out.take(), where: (i) => `${where} TP ${index[i]}`, interactions };
      interactions = [];
    }
    if (interactions.length) yield { tps: new GrowingBatch(0).take(), where: () => o.file, interactions };
  } finally {
    f.close();
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** A fragment: header + packed TPs of `version`, rows [from, to) of a batch-like set of columns. */
export function encodeFragment(
  rows: FragmentRows,
  version: 1 | 2,
  h: { record: number; windowBegin: bigint; windowEnd: bigint; sourceId: number },
): Uint8Array {
  const n = rows.timeStart.length;
  const size = FRAGMENT_HEADER_BYTES + n * TP_BYTES[version];
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, FRAGMENT_MARKER, true);
  dv.setUint32(4, FRAGMENT_VERSION, true);
  dv.setBigUint64(8, BigInt(size), true);
  dv.setBigUint64(16, BigInt(h.record), true);
  dv.setBigUint64(24, h.windowBegin, true);
  dv.setBigUint64(32, h.windowBegin, true);
  dv.setBigUint64(40, h.windowEnd, true);
  dv.setUint32(48, 1, true); // run number
  dv.setUint32(52, 0, true);
  dv.setUint32(56, FRAGMENT_TYPE_TP, true);
  dv.setUint16(60, 0, true);
  dv.setUint16(62, 0, true);
  dv.setUint16(64, 2, true); // SourceID version
  dv.setUint16(66, SUBSYSTEM_TRIGGER, true);
  dv.setUint32(68, h.sourceId, true);
  for (let i = 0; i < n; i++) {
    const at = FRAGMENT_HEADER_BYTES + i * TP_BYTES[version];
    if (version === 1) {
      dv.setUint16(at, 1, true);
      dv.setBigUint64(at + 8, rows.timeStart[i]!, true);
      dv.setBigUint64(at + 16, rows.timePeak[i]!, true);
      dv.setBigUint64(at + 24, BigInt(Math.round(rows.tot[i]! * DTS_PER_TICK)), true);
      dv.setInt32(at + 32, rows.channel[i]!, true);
      dv.setUint32(at + 36, Math.round(rows.adcIntegral[i]!), true);
      dv.setUint16(at + 40, Math.round(rows.adcPeak[i]!), true);
      dv.setUint16(at + 42, rows.detid[i]!, true);
      dv.setInt32(at + 44, rows.type[i]!, true);
      dv.setInt32(at + 48, rows.algorithm[i]!, true);
      dv.setUint16(at + 52, rows.flag[i]!, true);
    } else {
      const ch = rows.channel[i]!;
      dv.setUint8(at, 2);
      dv.setUint8(at + 1, rows.flag[i]! & 0xff);
      dv.setUint8(at + 2, rows.detid[i]! & 0xff);
      dv.setUint8(at + 3, ch & 0xff);
      dv.setUint8(at + 4, (ch >> 8) & 0xff);
      dv.setUint8(at + 5, (ch >> 16) & 0xff);
      dv.setUint16(at + 6, Math.min(0xffff, Math.round((rows.tot[i]! * DTS_PER_TICK) / DTS_PER_SAMPLE)), true);
      dv.setBigUint64(at + 8, rows.timeStart[i]!, true);
      dv.setUint16(at + 16, Math.min(0xffff, Math.round(Number(rows.timePeak[i]! - rows.timeStart[i]!) / DTS_PER_SAMPLE)), true);
      dv.setUint32(at + 18, Math.round(rows.adcIntegral[i]!), true);
      dv.setUint16(at + 22, Math.round(rows.adcPeak[i]!), true);
    }
  }
  return buf;
}

export interface FragmentRows {
  timeStart: bigint[];
  timePeak: bigint[];
  tot: number[];
  channel: number[];
  adcIntegral: number[];
  adcPeak: number[];
  detid: number[];
  type: number[];
  algorithm: number[];
  flag: number[];
  owner: number[];
}
const emptyRows = (): FragmentRows => ({
  timeStart: [],
  timePeak: [],
  tot: [],
  channel: [],
  adcIntegral: [],
  adcPeak: [],
  detid: [],
  type: [],
  algorithm: [],
  flag: [],
  owner: [],
});

/**
 * Writes a stream as a DAQ HDF5 TP-stream file: TimeSlice records of `sliceTicks` (numbered from 1
 * at the origin), in each one fragment per face (SourceID kTrigger, id = face), TPs in time order.
 * Written to a temporary name and renamed.
 */
export async function writeDaqHdf5(stream: TpStream, out: string, o: { tpVersion: 1 | 2; sliceTicks: number }): Promise<{ tps: number; interactions: number }> {
  const tmp = tempName(out);
  rmSync(tmp, { force: true });
  let f: H5File | null = null;
  const origin = stream.header.originDts;
  const dts = (t: number) => origin + BigInt(Math.round(t * DTS_PER_TICK));
  const sliceDts = BigInt(Math.round(o.sliceTicks * DTS_PER_TICK));
  const truth = stream.header.hasTruth;
  const interactions: TpInteraction[] = [];
  let owners: H5Dataset | null = null;
  let ownersRows = 0;
  let tps = 0;
  try {
    f = new h5wasm.File(tmp, 'w');
    f.create_attribute('record_type', 'TimeSlice');
    f.create_attribute('application_name', 'daqyolo export tps');
    if (truth) {
      f.create_group('daqyolo_truth');
      owners = f.create_dataset({ name: TRUTH_OWNERS, data: new Int32Array(0), shape: [0], maxshape: [null], chunks: [1 << 15], dtype: '<i' }) as H5Dataset;
    }
    let slice: number | null = null;
    let faces = new Map<number, FragmentRows>();
    const flush = () => {
      if (slice === null) return;
      const name = `TimeSlice${pad(slice + 1, 6)}`;
      f!.create_group(name);
      f!.create_group(`${name}/RawData`);
      const begin = origin + BigInt(slice) * sliceDts;
      for (const face of [...faces.keys()].sort((a, b) => a - b)) {
        const rows = faces.get(face)!;
        const bytes = encodeFragment(rows, o.tpVersion, { record: slice + 1, windowBegin: begin, windowEnd: begin + sliceDts, sourceId: face });
        f!.create_dataset({
          name: `${name}/RawData/Trigger_0x${face.toString(16).padStart(8, '0')}_Trigger_Primitive`,
          data: new Int8Array(bytes.buffer),
          shape: [bytes.length, 1],
          dtype: '<b',
        });
        if (owners && rows.owner.length) {
          owners.resize([ownersRows + rows.owner.length]);
          owners.write_slice([[ownersRows, ownersRows + rows.owner.length]], Int32Array.from(rows.owner));
          ownersRows += rows.owner.length;
        }
      }
      faces = new Map();
    };
    for await (const { tps: b, interactions: list } of stream.batches) {
      interactions.push(...list);
      for (let i = 0; i < b.n; i++) {
        const s = Math.floor(b.timeStart[i]! / o.sliceTicks);
        if (slice !== null && s < slice)
          throw new UserError(`writing ${out}: TP ${tps + i} at ${b.timeStart[i]} ticks is earlier than the time slice already written`);
        if (s !== slice) {
          flush();
          slice = s;
        }
        let r = faces.get(b.face[i]!);
        if (!r) faces.set(b.face[i]!, (r = emptyRows()));
        r.timeStart.push(dts(b.timeStart[i]!));
        r.timePeak.push(dts(b.timePeak[i]!));
        r.tot.push(b.timeOverThreshold[i]!);
        r.channel.push(b.channel[i]!);
        r.adcIntegral.push(b.adcIntegral[i]!);
        r.adcPeak.push(b.adcPeak[i]!);
        r.detid.push(b.detid[i]!);
        r.type.push(b.type[i]!);
        r.algorithm.push(b.algorithm[i]!);
        r.flag.push(b.flag[i]!);
        r.owner.push(b.owner[i]!);
      }
      tps += b.n;
    }
    flush();
    if (truth) f.create_dataset({ name: TRUTH_INTERACTIONS, data: [JSON.stringify(interactions)] });
    f.close();
    f = null;
    commitTemp(tmp, out);
  } catch (e) {
    try {
      f?.close();
    } catch {
      /* removing it is what matters */
    }
    rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(`writing ${out}: ${h5Cause(e)}`);
  }
  return { tps, interactions: interactions.length };
}
