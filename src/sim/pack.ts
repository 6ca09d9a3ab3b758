// Packs the records of consecutive images into flat typed arrays (one per dataset column), so a
// worker can hand a chunk to the writer with zero-copy transfer and the writer appends columns.
// Per-image counts (not offsets) are carried: offsets depend on what came before, which only the
// writer knows, so the bytes do not depend on how the work was split.
import { BACKGROUND_SOURCES } from './deposits.js';
import { TP_SOURCES, type ImageRecord } from './event.js';

export interface PackedChunk {
  start: number;
  count: number;
  channels: number;
  seeds: Uint32Array;
  pixelCounts: Int32Array;
  pixels: Int32Array;
  values: Float32Array;
  boxCounts: Int32Array;
  boxes: Float32Array;
  boxClass: Int32Array;
  boxInteraction: Int32Array;
  boxEnergy: Float32Array;
  boxVisible: Float32Array;
  boxProcess: Int32Array;
  boxNTps: Int32Array;
  interactionCounts: Int32Array;
  intEnergy: Float32Array;
  intProcess: Int32Array;
  intVisible: Float32Array;
  intNTps: Int32Array;
  intBox: Int32Array;
  intVertex: Float32Array; // [n, 3]: channel, tick, drift cm
  decays: Int32Array; // [count, BACKGROUND_SOURCES.length]
  tpsBySource: Int32Array; // [count, TP_SOURCES.length]
  tpCounts?: Int32Array;
  tps?: {
    channel: Int32Array;
    timeStart: Int32Array;
    timePeak: Int32Array;
    timeOverThreshold: Int32Array;
    adcIntegral: Float32Array;
    adcPeak: Float32Array;
    owner: Int32Array;
  };
}

const cat = <T extends Int32Array | Float32Array>(parts: T[], make: (n: number) => T): T => {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = make(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export function packRecords(start: number, recs: ImageRecord[], channels: number, keepTps: boolean): PackedChunk {
  const n = recs.length;
  const nb = recs.reduce((a, r) => a + r.boxClass.length, 0);
  const ni = recs.reduce((a, r) => a + r.interactions.length, 0);
  const c: PackedChunk = {
    start,
    count: n,
    channels,
    seeds: Uint32Array.from(recs, (r) => r.seed),
    pixelCounts: Int32Array.from(recs, (r) => r.sparse.pixels.length),
    pixels: cat(
      recs.map((r) => r.sparse.pixels),
      (k) => new Int32Array(k),
    ),
    values: cat(
      recs.map((r) => r.sparse.values),
      (k) => new Float32Array(k),
    ),
    boxCounts: Int32Array.from(recs, (r) => r.boxClass.length),
    boxes: cat(
      recs.map((r) => r.boxes),
      (k) => new Float32Array(k),
    ),
    boxClass: cat(
      recs.map((r) => r.boxClass),
      (k) => new Int32Array(k),
    ),
    boxInteraction: cat(
      recs.map((r) => r.boxInteraction),
      (k) => new Int32Array(k),
    ),
    boxEnergy: new Float32Array(nb),
    boxVisible: new Float32Array(nb),
    boxProcess: new Int32Array(nb),
    boxNTps: new Int32Array(nb),
    interactionCounts: Int32Array.from(recs, (r) => r.interactions.length),
    intEnergy: new Float32Array(ni),
    intProcess: new Int32Array(ni),
    intVisible: new Float32Array(ni),
    intNTps: new Int32Array(ni),
    intBox: new Int32Array(ni),
    intVertex: new Float32Array(3 * ni),
    decays: cat(
      recs.map((r) => r.decays),
      (k) => new Int32Array(k),
    ),
    tpsBySource: cat(
      recs.map((r) => r.tpsBySource),
      (k) => new Int32Array(k),
    ),
  };
  let b = 0;
  let i = 0;
  for (const r of recs) {
    for (let k = 0; k < r.boxInteraction.length; k++, b++) {
      const t = r.interactions[r.boxInteraction[k]];
      c.boxEnergy[b] = t.energyMeV;
      c.boxVisible[b] = t.visibleEnergyMeV;
      c.boxProcess[b] = t.process;
      c.boxNTps[b] = t.nTps;
    }
    for (const t of r.interactions) {
      c.intEnergy[i] = t.energyMeV;
      c.intProcess[i] = t.process;
      c.intVisible[i] = t.visibleEnergyMeV;
      c.intNTps[i] = t.nTps;
      c.intBox[i] = t.box;
      c.intVertex[3 * i] = t.vertexChannel;
      c.intVertex[3 * i + 1] = t.vertexTick;
      c.intVertex[3 * i + 2] = t.driftCm;
      i++;
    }
  }
  if (keepTps) {
    const lists = recs.map((r) => r.tps!);
    c.tpCounts = Int32Array.from(lists, (t) => t.n);
    c.tps = {
      channel: cat(
        lists.map((t) => t.channel.subarray(0, t.n)),
        (k) => new Int32Array(k),
      ),
      timeStart: cat(
        lists.map((t) => t.timeStart.subarray(0, t.n)),
        (k) => new Int32Array(k),
      ),
      timePeak: cat(
        lists.map((t) => t.timePeak.subarray(0, t.n)),
        (k) => new Int32Array(k),
      ),
      timeOverThreshold: cat(
        lists.map((t) => t.timeOverThreshold.subarray(0, t.n)),
        (k) => new Int32Array(k),
      ),
      adcIntegral: cat(
        lists.map((t) => t.adcIntegral.subarray(0, t.n)),
        (k) => new Float32Array(k),
      ),
      adcPeak: cat(
        lists.map((t) => t.adcPeak.subarray(0, t.n)),
        (k) => new Float32Array(k),
      ),
      owner: cat(
        lists.map((t) => t.owner.subarray(0, t.n)),
        (k) => new Int32Array(k),
      ),
    };
  }
  return c;
}

/** The ArrayBuffers of a chunk, for postMessage transfer lists. */
export function chunkBuffers(c: PackedChunk): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const visit = (v: unknown) => {
    if (ArrayBuffer.isView(v)) out.push(v.buffer as ArrayBuffer);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) visit(x);
  };
  visit(c);
  return [...new Set(out)];
}

export const SOURCE_COLUMNS = { decays: BACKGROUND_SOURCES, tps: TP_SOURCES } as const;
