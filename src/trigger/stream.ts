// The trigger as DUNE would run it (`daqyolo trigger`): a continuous TP stream per APA face is cut
// into windows of the network's input length, slid with an overlap that a ≤ 70 MeV interaction
// fits in (docs/trigger.md "Overlap"); each window becomes the image the network was trained on
// (the simulator's TP → pixel rule), windows of all faces are detected in batches, detections are
// mapped back to absolute channels and times, a detection seen by two overlapping windows is kept
// once, and the candidates leave in time order across faces as soon as they are final.
//
// Order and finality. TPs wait in a reorder buffer until the stream has moved `reorderTicks` past
// them (the input may be slightly out of order across faces and within one); a window is complete
// when the stream's watermark (latest TP start − reorderTicks) has passed its end. A detection
// belongs to the window whose core (the window less half the overlap at each side; the cores tile
// time) holds its centre, and is merged with an intersecting one of the previous window on the same
// face (union box, best score). A candidate of window w is final when window w + 1 is done (no later
// window reaches it: overlap ≤ half a window), and candidates are released in time_start order once
// no face can still produce an earlier one. Memory holds a few windows of TPs per face whatever the
// stream's length.
import type { TpBatch, TpInteraction } from '../sim/tp-stream.js';
import { DTS_PER_TICK } from '../sim/tp-stream.js';
import type { ImageLayout } from '../sim/image.js';
import { Columns } from '../sim/columns.js';

/** The TPs of one face window, times relative to the window's start (ticks). */
export interface FaceWindow {
  face: number;
  /** Absolute start, offline ticks from the stream's origin. */
  start: number;
  n: number;
  wire: Int32Array;
  timePeak: Float64Array;
  timeOverThreshold: Float64Array;
  adcIntegral: Float32Array;
  adcPeak: Float32Array;
  owner: Int32Array;
}

/** A detection in the window's image pixels (x = wire, y = time row), as the network and the baseline give them. */
export interface WindowDetection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

/** Something that finds candidates in face windows: the network or the baseline clustering. */
export interface WindowDetector {
  /** TriggerCandidateData::Algorithm of its candidates (trgdataformats: kSupernova = 1, kCustom = 8). */
  algorithm: number;
  name: string;
  /** Lowest score it reports (the efficiency scan starts there). */
  minScore: number;
  /** Score histogram: linear over [0, 1] for network scores, logarithmic for ΣADC. */
  scoreScale: 'unit' | 'log';
  detect(windows: readonly FaceWindow[]): WindowDetection[][] | Promise<WindowDetection[][]>;
}

/** A trigger candidate: DUNE-DAQ TriggerCandidateData's fields (times in DTS ticks) and the box. */
export interface TriggerCandidate {
  version: number;
  time_start: bigint;
  time_end: bigint;
  time_candidate: bigint;
  detid: number;
  type: number;
  algorithm: number;
  channel_start: number;
  channel_end: number;
  face: number;
  score: number;
}

/** trgdataformats TriggerCandidateData: s_trigger_candidate_version 3, Type::kSupernova = 3. */
export const TC_VERSION = 3;
export const TC_TYPE_SUPERNOVA = 3;
export const TC_ALGORITHM_SUPERNOVA = 1;
export const TC_ALGORITHM_CUSTOM = 8;
/** detdataformats DetID::Subdetector::kHD_TPC: the far detector's horizontal-drift TPC. */
export const DETID_HD_TPC = 3;

/** One line of candidates.jsonl (bigint times as JSON integers). */
export function candidateJson(c: TriggerCandidate): string {
  return `{"version":${c.version},"time_start":${c.time_start},"time_end":${c.time_end},"time_candidate":${c.time_candidate},"detid":${c.detid},"type":${c.type},"algorithm":${c.algorithm},"channel_start":${c.channel_start},"channel_end":${c.channel_end},"face":${c.face},"score":${Number(c.score.toPrecision(6))}}`;
}

export interface StreamTriggerOptions {
  layout: ImageLayout;
  /** Window length (the network's input), ticks. */
  windowTicks: number;
  /** Overlap of consecutive windows, ticks (≤ half a window). */
  overlapTicks: number;
  /** How far the input may go back in time (ticks) before a TP is late (dropped and counted). */
  reorderTicks: number;
  /** Windows detected together (across faces). */
  batchWindows: number;
  detector: WindowDetector;
  /** DTS timestamp of tick 0. */
  originDts?: bigint;
  /** Map a face's wire to the channel number written in candidates (default: the wire). */
  channelOf?: (face: number, wire: number) => number;
  /** Skip windows the pre-filter says hold nothing (counted; docs/trigger.md measures its cost). */
  prefilter?: (w: FaceWindow) => boolean;
  /** Keep the figures from truth (owners ≥ 0 are interactions). */
  truth?: boolean;
  /** Eν bin edges of the efficiency table. */
  energyEdgesMeV?: readonly number[];
  /** Candidates scored below this are kept for the figures but not written. */
  emitThreshold?: number;
  onCandidate: (c: TriggerCandidate) => void;
}

/** One face's TPs waiting for their windows (a growable column store). */
class FaceBuffer extends Columns {
  protected readonly columns = ['wire', 'timeStart', 'timePeak', 'tot', 'adc', 'peak', 'owner'] as const;
  wire = new Int32Array(1024);
  timeStart = new Float64Array(1024);
  timePeak = new Float64Array(1024);
  tot = new Float64Array(1024);
  adc = new Float32Array(1024);
  peak = new Float32Array(1024);
  owner = new Int32Array(1024);
  /** Index of the next window of this face (its start is nextWindow · stride). */
  nextWindow = -1;
  /** Candidates of the last detected window, not final yet. */
  pending: Internal[] = [];
  constructor(readonly face: number) {
    super();
  }
  push(b: TpBatch, i: number): void {
    const k = this.addRow();
    this.wire[k] = b.wire[i];
    this.timeStart[k] = b.timeStart[i];
    this.timePeak[k] = b.timePeak[i];
    this.tot[k] = b.timeOverThreshold[i];
    this.adc[k] = b.adcIntegral[i];
    this.peak[k] = b.adcPeak[i];
    this.owner[k] = b.owner[i];
  }
  /** The TPs with peak in [start, start + len), copied out (times relative to start). */
  window(start: number, len: number): FaceWindow {
    let n = 0;
    for (let i = 0; i < this.n; i++) if (this.timePeak[i] >= start && this.timePeak[i] < start + len) n++;
    const w: FaceWindow = {
      face: this.face,
      start,
      n,
      wire: new Int32Array(n),
      timePeak: new Float64Array(n),
      timeOverThreshold: new Float64Array(n),
      adcIntegral: new Float32Array(n),
      adcPeak: new Float32Array(n),
      owner: new Int32Array(n),
    };
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      const t = this.timePeak[i];
      if (t < start || t >= start + len) continue;
      w.wire[k] = this.wire[i];
      w.timePeak[k] = t - start;
      w.timeOverThreshold[k] = this.tot[i];
      w.adcIntegral[k] = this.adc[i];
      w.adcPeak[k] = this.peak[i];
      w.owner[k] = this.owner[i];
      k++;
    }
    return w;
  }
  /** Drops the TPs whose peak is before `t` (no later window holds them). */
  dropBefore(t: number): void {
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.timePeak[i] < t) continue;
      if (k !== i) {
        this.wire[k] = this.wire[i];
        this.timeStart[k] = this.timeStart[i];
        this.timePeak[k] = this.timePeak[i];
        this.tot[k] = this.tot[i];
        this.adc[k] = this.adc[i];
        this.peak[k] = this.peak[i];
        this.owner[k] = this.owner[i];
      }
      k++;
    }
    this.n = k;
  }
}

/** A candidate before release: absolute box in wires and ticks, and truth (TPs held per interaction). */
interface Internal {
  face: number;
  wire0: number;
  wire1: number;
  t0: number;
  t1: number;
  score: number;
  /** Interaction id → TPs of it inside the box. */
  held: Map<number, number>;
}

/** A histogram of scores: 1 000 bins over [0, 1] ('unit') or over 10^0 … 10^7 ('log'). */
export class ScoreHistogram {
  static readonly BINS = 1000;
  readonly counts = new Float64Array(ScoreHistogram.BINS);
  constructor(readonly scale: 'unit' | 'log') {}
  bin(score: number): number {
    const B = ScoreHistogram.BINS;
    const x = this.scale === 'unit' ? score : Math.log10(Math.max(1, score)) / 7;
    return Math.min(B - 1, Math.max(0, Math.floor(x * B)));
  }
  /** The lowest score of bin b. */
  lowEdge(b: number): number {
    const x = b / ScoreHistogram.BINS;
    return this.scale === 'unit' ? x : 10 ** (7 * x);
  }
  add(score: number, w = 1): void {
    this.counts[this.bin(score)] += w;
  }
  /** Entries with score ≥ threshold (exact to the bin). */
  above(threshold: number): number {
    let n = 0;
    for (let b = this.bin(threshold); b < ScoreHistogram.BINS; b++) n += this.counts[b];
    return n;
  }
}

/** Live truth of one interaction: TPs seen, best score of a candidate holding ≥ 2 of them. */
interface Live {
  energyMeV: number;
  tps: number;
  best: number;
  closeAt: number;
}

export interface StreamFigures {
  /** Interactions closed, their Eν bin (−1 outside) and best score histogram per bin, plus "visible" (≥ 1 TP). */
  energyEdgesMeV: number[];
  /** best[bin] = histogram of the best matching score (−∞ → not added; counted in n). */
  n: number[];
  nVisible: number[];
  nDetectable: number[];
  best: ScoreHistogram[];
  fp: ScoreHistogram;
}

export interface LatencyStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StreamSummary {
  tps: number;
  lateTps: number;
  faces: number;
  windows: number;
  windowsSkipped: number;
  candidates: number;
  /** Stream time covered (ticks, per face). */
  streamTicks: number;
  /** Seconds spent by the trigger (inside push and finish; reading or simulating the stream excluded). */
  wallSeconds: number;
  /** Seconds inside the detector (network or clustering). */
  detectSeconds: number;
  /** Wall time from the push that completed a window to its detections. */
  latency: LatencyStats;
}

const DEFAULT_EDGES = [1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 51, 56, 61, 66, 70];

export class StreamTrigger {
  private readonly faces = new Map<number, FaceBuffer>();
  private readonly stride: number;
  private watermark = -Infinity;
  private maxStart = -Infinity;
  /** Final candidates waiting for the faces' horizon, kept sorted by t0 on release. */
  private final: Internal[] = [];
  private readonly live = new Map<number, Live>();
  /** Complete windows in the order they are decided; `run` = passed the pre-filter (to the detector). */
  private ready: { w: FaceWindow; at: number; run: boolean }[] = [];
  private readyToRun = 0;
  private readonly latencies: number[] = [];
  readonly figures: StreamFigures;
  readonly summary: StreamSummary = {
    tps: 0,
    lateTps: 0,
    faces: 0,
    windows: 0,
    windowsSkipped: 0,
    candidates: 0,
    streamTicks: 0,
    wallSeconds: 0,
    detectSeconds: 0,
    latency: { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
  };
  /** Milliseconds spent inside push and finish (the stream's own production excluded). */
  private busy = 0;
  private firstTick = Infinity;
  private lastTick = -Infinity;

  constructor(private readonly o: StreamTriggerOptions) {
    if (!(o.overlapTicks >= 0 && o.overlapTicks <= o.windowTicks / 2))
      throw new Error(`overlap ${o.overlapTicks} ticks: must be between 0 and half the window (${o.windowTicks / 2})`);
    this.stride = o.windowTicks - o.overlapTicks;
    const edges = [...(o.energyEdgesMeV ?? DEFAULT_EDGES)];
    const nb = edges.length - 1;
    this.figures = {
      energyEdgesMeV: edges,
      n: new Array(nb).fill(0),
      nVisible: new Array(nb).fill(0),
      nDetectable: new Array(nb).fill(0),
      best: Array.from({ length: nb }, () => new ScoreHistogram(o.detector.scoreScale)),
      fp: new ScoreHistogram(o.detector.scoreScale),
    };
  }

  /** Takes one batch of the stream; detects and releases what it completes. */
  async push(batch: TpBatch, interactions: readonly TpInteraction[] = []): Promise<void> {
    const began = performance.now();
    for (const it of interactions) {
      if (!this.live.has(it.id)) this.live.set(it.id, { energyMeV: it.energyMeV, tps: 0, best: -Infinity, closeAt: Infinity });
    }
    for (let i = 0; i < batch.n; i++) {
      const f = batch.face[i];
      let fb = this.faces.get(f);
      if (!fb) {
        fb = new FaceBuffer(f);
        // A face met late starts at the first window still open.
        fb.nextWindow = Math.max(0, Math.floor((Math.max(this.watermark, batch.timePeak[i]) - this.o.windowTicks) / this.stride) + 1);
        if (!Number.isFinite(this.watermark)) fb.nextWindow = Math.max(0, Math.floor(batch.timePeak[i] / this.stride) - 1);
        this.faces.set(f, fb);
      }
      const ts = batch.timeStart[i];
      // Late: the window holding its peak has been detected already.
      if (batch.timePeak[i] < fb.nextWindow * this.stride) {
        this.summary.lateTps++;
        continue;
      }
      fb.push(batch, i);
      this.summary.tps++;
      if (ts > this.maxStart) this.maxStart = ts;
      if (ts < this.firstTick) this.firstTick = ts;
      if (batch.timePeak[i] > this.lastTick) this.lastTick = batch.timePeak[i];
      const o = batch.owner[i];
      if (this.o.truth && o >= 0) {
        const l = this.live.get(o);
        if (l) l.tps++;
      }
    }
    this.watermark = this.maxStart - this.o.reorderTicks;
    await this.advance(false);
    this.busy += performance.now() - began;
  }

  /** Detects every window the watermark has completed (all of them at the end). */
  private async advance(end: boolean): Promise<void> {
    const W = this.o.windowTicks;
    const now = performance.now();
    for (;;) {
      // The earliest-starting complete window over the faces, so batches follow time.
      let pick: FaceBuffer | null = null;
      for (const fb of this.faces.values()) {
        const s = fb.nextWindow * this.stride;
        const complete = end ? s <= this.lastTick : s + W <= this.watermark;
        if (complete && (!pick || s < pick.nextWindow * this.stride)) pick = fb;
      }
      if (!pick) break;
      const s = pick.nextWindow * this.stride;
      const w = pick.window(s, W);
      pick.nextWindow++;
      // The pre-filter decides as the window completes, so that a batch holds `batchWindows`
      // windows for the detector however many are skipped between them.
      const run = !this.o.prefilter || this.o.prefilter(w);
      if (!run) this.summary.windowsSkipped++;
      this.ready.push({ w: run ? w : emptyWindow(w.face, s), at: now, run });
      if (run) this.readyToRun++;
      if (this.readyToRun >= this.o.batchWindows || this.ready.length >= 8 * this.o.batchWindows) await this.detectReady(end);
    }
    // Windows left over wait for the next push to fill their batch: flushing them after every
    // push ran the network on batches of one window per face (4 to 8 on the bench's 4 faces),
    // ≈ 0.6 ms more per window than full batches (docs/trigger.md). At the stream's end, all go.
    if (end) await this.detectReady(end);
  }

  private async detectReady(end: boolean): Promise<void> {
    if (!this.ready.length) {
      this.release(end);
      return;
    }
    const batch = this.ready;
    this.ready = [];
    this.readyToRun = 0;
    const run = batch.filter((r) => r.run).map((r) => r.w);
    const t = performance.now();
    const dets = run.length ? await this.o.detector.detect(run) : [];
    const done = performance.now();
    this.summary.detectSeconds += (done - t) / 1000;
    for (const r of batch) {
      this.latencies.push(done - r.at);
      if (this.latencies.length > 100_000) this.latencies.splice(0, 50_000);
    }
    let k = 0;
    for (const r of batch) this.windowDone(r.w, r.run ? (dets[k++] ?? []) : []);
    this.summary.windows += batch.length;
    this.release(end);
  }

  /** Maps a window's detections to candidates; merges them with the previous window's; finalises. */
  private windowDone(w: FaceWindow, dets: WindowDetection[]): void {
    const fb = this.faces.get(w.face)!;
    const L = this.o.layout;
    const W = this.o.windowTicks;
    const half = this.o.overlapTicks / 2;
    // The window's core: its centre part, except at the stream's edges where it extends to the window's.
    const coreLo = w.start === 0 ? 0 : w.start + half;
    const coreHi = w.start + W - half;
    const isLast = w.start + this.stride > this.lastTick && this.watermark === Infinity;
    const fresh: Internal[] = [];
    for (const d of dets) {
      const t0 = w.start + d.y1 * L.ticksPerPixel,
        t1 = w.start + d.y2 * L.ticksPerPixel;
      const c = (t0 + t1) / 2;
      if (c < coreLo || (c >= coreHi && !isLast)) continue;
      const wire0 = Math.max(0, Math.floor(d.x1 * L.wiresPerPixel)),
        wire1 = Math.max(wire0, Math.ceil(d.x2 * L.wiresPerPixel) - 1);
      const held = new Map<number, number>();
      if (this.o.truth) {
        for (let i = 0; i < w.n; i++) {
          const o = w.owner[i];
          if (o < 0) continue;
          const t = w.start + w.timePeak[i];
          if (w.wire[i] >= wire0 && w.wire[i] <= wire1 && t >= t0 && t <= t1) held.set(o, (held.get(o) ?? 0) + 1);
        }
      }
      fresh.push({ face: w.face, wire0, wire1, t0, t1, score: d.score, held });
    }
    // A detection on both sides of an overlap: one candidate (union box, best score).
    const kept: Internal[] = [];
    for (const c of fresh) {
      const twin = fb.pending.find((p) => p.wire0 <= c.wire1 && c.wire0 <= p.wire1 && p.t0 <= c.t1 && c.t0 <= p.t1);
      if (!twin) {
        kept.push(c);
        continue;
      }
      twin.wire0 = Math.min(twin.wire0, c.wire0);
      twin.wire1 = Math.max(twin.wire1, c.wire1);
      twin.t0 = Math.min(twin.t0, c.t0);
      twin.t1 = Math.max(twin.t1, c.t1);
      twin.score = Math.max(twin.score, c.score);
      for (const [id, n] of c.held) twin.held.set(id, Math.max(n, twin.held.get(id) ?? 0));
    }
    // The previous window's candidates are final now.
    for (const p of fb.pending) this.final.push(p);
    fb.pending = kept;
    fb.dropBefore(fb.nextWindow * this.stride);
    this.summary.streamTicks = Math.max(this.summary.streamTicks, w.start + this.stride);
  }

  /** Releases final candidates in time order up to the horizon no face can go below. */
  private release(end: boolean): void {
    let horizon = Infinity;
    if (!end) {
      for (const fb of this.faces.values()) {
        horizon = Math.min(horizon, fb.nextWindow * this.stride - this.stride);
        for (const p of fb.pending) horizon = Math.min(horizon, p.t0);
      }
      // A face not met yet can only start after the watermark.
      horizon = Math.min(horizon, this.watermark - this.o.windowTicks);
    } else {
      for (const fb of this.faces.values()) {
        this.final.push(...fb.pending);
        fb.pending = [];
      }
    }
    if (!this.final.length && !this.o.truth) return;
    this.final.sort((a, b) => a.t0 - b.t0 || a.face - b.face);
    let k = 0;
    while (k < this.final.length && this.final[k].t0 <= horizon) {
      this.emit(this.final[k]);
      k++;
    }
    if (k) this.final.splice(0, k);
    if (this.o.truth) this.closeInteractions(horizon);
  }

  private emit(c: Internal): void {
    if (this.o.truth) this.score(c);
    if (c.score < (this.o.emitThreshold ?? -Infinity)) return;
    const origin = this.o.originDts ?? 0n;
    const dts = (t: number) => origin + BigInt(Math.round(t * DTS_PER_TICK));
    const chan = this.o.channelOf ?? ((_: number, w: number) => w);
    this.o.onCandidate({
      version: TC_VERSION,
      time_start: dts(c.t0),
      time_end: dts(c.t1),
      time_candidate: dts((c.t0 + c.t1) / 2),
      detid: DETID_HD_TPC,
      type: TC_TYPE_SUPERNOVA,
      algorithm: this.o.detector.algorithm,
      channel_start: chan(c.face, c.wire0),
      channel_end: chan(c.face, c.wire1),
      face: c.face,
      score: c.score,
    });
    this.summary.candidates++;
  }

  /** The stream's matching rule: an interaction is detected by a candidate whose box holds ≥ 2 of
   *  its TPs; a candidate holding ≥ 2 TPs of none is a false positive. */
  private score(c: Internal): void {
    let matched = false;
    for (const [id, n] of c.held) {
      if (n < 2) continue;
      matched = true;
      const l = this.live.get(id);
      if (l && c.score > l.best) l.best = c.score;
    }
    if (!matched) this.figures.fp.add(c.score);
  }

  /** Interactions no unreleased candidate can reach any more go into the efficiency histograms. */
  private closeInteractions(horizon: number): void {
    const f = this.figures;
    for (const [id, l] of this.live) {
      // Its TPs lie within ~3 000 ticks of its time (sim/stream-sim.ts SIGNAL_MARGIN_TICKS); a
      // candidate holding them starts at most a window before.
      if (horizon !== Infinity && !(l.closeAt < horizon)) {
        if (l.closeAt === Infinity) l.closeAt = this.maxStart + 2 * this.o.windowTicks + 3000;
        continue;
      }
      this.live.delete(id);
      const b = energyBinOf(l.energyMeV, f.energyEdgesMeV);
      if (b < 0) continue;
      f.n[b]++;
      if (l.tps > 0) f.nVisible[b]++;
      if (l.tps >= 2) f.nDetectable[b]++;
      if (l.best > -Infinity) f.best[b].add(l.best);
    }
  }

  /** Detects what is left, releases everything; the summary with its timings. */
  async finish(): Promise<StreamSummary> {
    const began = performance.now();
    this.watermark = Infinity;
    await this.advance(true);
    this.release(true);
    this.busy += performance.now() - began;
    const s = this.summary;
    s.faces = this.faces.size;
    s.wallSeconds = this.busy / 1000;
    if (Number.isFinite(this.firstTick)) s.streamTicks = Math.max(0, this.lastTick - Math.min(0, this.firstTick));
    const lat = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
    s.latency = { count: lat.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: lat.length ? lat[lat.length - 1] : 0 };
    return s;
  }
}

/** A skipped window: its place only (its TPs are not needed again). */
function emptyWindow(face: number, start: number): FaceWindow {
  return {
    face,
    start,
    n: 0,
    wire: new Int32Array(0),
    timePeak: new Float64Array(0),
    timeOverThreshold: new Float64Array(0),
    adcIntegral: new Float32Array(0),
    adcPeak: new Float32Array(0),
    owner: new Int32Array(0),
  };
}

export function energyBinOf(e: number, edges: readonly number[]): number {
  const last = edges.length - 1;
  if (!(e >= edges[0] && e <= edges[last])) return -1;
  for (let b = 0; b < last; b++) if (e < edges[b + 1]) return b;
  return last - 1;
}

/** Faces of a 10 kt FD-HD module (eval/efficiency.ts DEFAULT_FACES). */
export const MODULE_FACES = 200;

export interface StreamEfficiencyBin {
  loMeV: number;
  hiMeV: number;
  n: number;
  nVisible: number;
  k: number;
  efficiency: number | null;
  stdErr: number | null;
}

export interface StreamTriggerReport {
  matchRule: string;
  threshold: number;
  efficiency: { bins: StreamEfficiencyBin[]; integrated: Omit<StreamEfficiencyBin, 'loMeV' | 'hiMeV'> };
  falsePositives: { count: number; faceSeconds: number; hzPerModule: number; hzPerModuleUpper90: number };
  operatingPoints: { targetHz: number; threshold: number | null; efficiency: number | null; fpHz: number | null }[];
}

const binom = (k: number, n: number) => ({ efficiency: n ? k / n : null, stdErr: n ? Math.sqrt(((k / n) * (1 - k / n)) / n) : null });

/** Efficiency vs Eν and the FP rate in Hz per module at `threshold`, from the stream's own truth. */
export function streamTriggerReport(
  f: StreamFigures,
  faces: number,
  streamSeconds: number,
  threshold: number,
  targetsHz: readonly number[] = [1.8, 10],
): StreamTriggerReport {
  const faceSeconds = faces * streamSeconds;
  const hz = (count: number) => (faceSeconds > 0 ? (count / faceSeconds) * MODULE_FACES : 0);
  const table = (t: number) => {
    const bins: StreamEfficiencyBin[] = [];
    let n = 0,
      nv = 0,
      k = 0;
    for (let b = 0; b < f.n.length; b++) {
      const kb = f.best[b].above(t);
      bins.push({ loMeV: f.energyEdgesMeV[b], hiMeV: f.energyEdgesMeV[b + 1], n: f.n[b], nVisible: f.nVisible[b], k: kb, ...binom(kb, f.n[b]) });
      n += f.n[b];
      nv += f.nVisible[b];
      k += kb;
    }
    return { bins, integrated: { n, nVisible: nv, k, ...binom(k, n) } };
  };
  const fpCount = f.fp.above(threshold);
  const operatingPoints = targetsHz.map((targetHz) => {
    // The lowest score bin whose FP rate stays at or under the target.
    for (let b = 0; b < ScoreHistogram.BINS; b++) {
      const t = f.fp.lowEdge(b);
      const count = f.fp.above(t);
      const fp = hz(count);
      // None seen: only a target above the 90 % upper limit of the sample is reachable.
      if (count === 0 && hz(2.303) > targetHz) break;
      if (fp <= targetHz) return { targetHz, threshold: t, efficiency: table(t).integrated.efficiency, fpHz: fp };
    }
    return { targetHz, threshold: null, efficiency: null, fpHz: null };
  });
  return {
    matchRule: 'a candidate holding ≥ 2 TPs of the interaction inside its channel × time box detects it; one holding ≥ 2 TPs of none is a false positive',
    threshold,
    efficiency: table(threshold),
    // 90 % upper limit of a Poisson count (2.303 for none seen; else count + 1.28 √count + 1, a simple bound).
    falsePositives: {
      count: fpCount,
      faceSeconds,
      hzPerModule: hz(fpCount),
      hzPerModuleUpper90: hz(fpCount === 0 ? 2.303 : fpCount + 1.2816 * Math.sqrt(fpCount) + 1),
    },
    operatingPoints,
  };
}

export interface RealTimeFigures {
  tpsPerSecond: number;
  faceWindowsPerSecond: number;
  /** Face-seconds of stream per wall second: how many faces this process keeps up with. */
  realTimeFactorPerFace: number;
  /** Face windows a module makes per second at this overlap (200 faces, one window per stride). */
  moduleFaceWindowsPerSecond: number;
  /** Cores a 10 kt module needs: 200 faces / real-time factor × cores this process used. */
  coresPerModule: number;
  latencyMs: LatencyStats;
  /** Share of the wall time inside the detector. */
  detectShare: number;
}

export function realTimeFigures(s: StreamSummary, tickSeconds: number, strideTicks: number, cores: number): RealTimeFigures {
  const wall = Math.max(1e-9, s.wallSeconds);
  const rtf = (s.faces * s.streamTicks * tickSeconds) / wall;
  return {
    tpsPerSecond: s.tps / wall,
    faceWindowsPerSecond: s.windows / wall,
    realTimeFactorPerFace: rtf,
    moduleFaceWindowsPerSecond: MODULE_FACES / (strideTicks * tickSeconds),
    coresPerModule: rtf > 0 ? (MODULE_FACES / rtf) * cores : Infinity,
    latencyMs: s.latency,
    detectShare: s.detectSeconds / wall,
  };
}

/**
 * DUNE-DAQ's in-memory TriggerCandidate (trgdataformats TriggerObjectOverlay<TriggerCandidateData,
 * TriggerActivityData>) with no input activities, as x86-64 GCC lays it out: version u16 @0,
 * time_start u64 @8, time_end u64 @16, time_candidate u64 @24, detid u16 @32, type (enum, int) @36,
 * algorithm (enum, int) @40, padding to 48, n_inputs u64 @48 (0), no inputs: 56 bytes, little-endian.
 * The daqyolo fields (channels, face, score) have no place in it; the JSON lines carry them.
 */
export const TC_BINARY_BYTES = 56;

export function candidateBinary(c: TriggerCandidate): Uint8Array {
  const b = new Uint8Array(TC_BINARY_BYTES);
  const v = new DataView(b.buffer);
  v.setUint16(0, c.version, true);
  v.setBigUint64(8, c.time_start, true);
  v.setBigUint64(16, c.time_end, true);
  v.setBigUint64(24, c.time_candidate, true);
  v.setUint16(32, c.detid, true);
  v.setInt32(36, c.type, true);
  v.setInt32(40, c.algorithm, true);
  v.setBigUint64(48, 0n, true);
  return b;
}
