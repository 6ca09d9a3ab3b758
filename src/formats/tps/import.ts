// `daqyolo import tps`: DUNE TP files → a daqyolo dataset of images, one per APA face × window,
// made by the simulator's own TP → pixel rule (sim/image.ts tpsToSparse, boxOf), so a network
// trained on simulation reads imported data unchanged.
//
// Streaming: TPs arrive in time order (openTpStream); only the current window's TPs are held. A
// window closes when the first TP of a later one arrives; it becomes one image per face seen so far
// (faces first seen later have no images of earlier windows). Windows without any TP are skipped (a
// DAQ file's gaps between time slices are not images).
//
// Truth: each signal interaction (owner ≥ 0) is listed in every image where it has TPs, with its
// box from those TPs; an interaction without TPs on a face goes, unseen, into the image of its
// time. The images' TPs (tps/*) keep image-local owners, as the simulator's, so evaluate's TP-based
// matching works on them; the whole TP table with stream-wide owners and origin is under import/.
import { UserError } from '../../errors.js';
import { DatasetWriter } from '../../data/writer.js';
import { PATHS, TP_IMPORT_COLUMNS, TP_INTERACTION_COLUMNS } from '../../data/layout.js';
import { makeSplits, SPLIT_NAMES, type SplitName } from '../../data/splits.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import { mergeConfig, parseSimConfig, type SimConfig } from '../../sim/config.js';
import { BACKGROUND_SOURCES, bgIndex, NOISE_OWNER } from '../../sim/deposits.js';
import { classNames, TP_SOURCES, type ImageRecord, type InteractionTruth } from '../../sim/event.js';
import { boxOf, imageLayout, tpsToSparse, type ImageLayout } from '../../sim/image.js';
import { PROCESSES } from '../../sim/interactions.js';
import { packRecords } from '../../sim/pack.js';
import { TpList } from '../../sim/tps.js';
import type { TpBatch, TpInteraction } from '../../sim/tp-stream.js';
import { GrowingBatch } from './batch.js';
import { openTpStream, type OpenTpOptions, type TpFormat } from './index.js';
import { reportPath } from '../importer.js';

/** The default window: 2.246 ms, the far detector's readout window (4 492 ticks of 0.5 µs). */
export const DEFAULT_WINDOW_MS = 2.246;

export interface TpImportOptions {
  files: string[];
  out: string;
  format?: TpFormat;
  channelMap?: OpenTpOptions['channelMap'];
  windowMs: number;
  /** Planes made into images (default: collection, as the simulator). */
  planes?: number[];
  /** Image settings as a simulator config patch (image.size, image.timeDownsample, image.extraChannels), e.g. from the training dataset. */
  imageConfig?: Record<string, unknown>;
  reorderTicks?: number;
  skipBad: boolean;
  force: boolean;
  seed: number;
  split: [number, number, number];
  onProgress?: (tps: number) => void;
}

export interface TpImportReport {
  output: string;
  format: TpFormat;
  sources: string[];
  channelMap: string;
  hasTruth: boolean;
  originDts: string;
  windowTicks: number;
  windowMs: number;
  /** Every TP read, and those of the imaged planes. */
  tps: number;
  tpsImaged: number;
  images: number;
  /** Images without a signal TP (all of them without truth): the FP-rate sample. */
  backgroundImages: number;
  faces: number[];
  windows: number;
  interactions: number;
  boxes: number;
  height: number;
  width: number;
  channels: number;
  splits: Record<SplitName, number>;
  skipped: { count: number; rows: { where: string; problem: string }[] };
  seconds: number;
}

/** What an imported TP dataset says about itself (root attribute tp_import), or null for other datasets. */
export interface TpImportInfo {
  format: TpFormat;
  hasTruth: boolean;
  windowTicks: number;
  tickUs: number;
  sources: string[];
}
export function tpImportInfo(attrs: Record<string, unknown>): TpImportInfo | null {
  if (typeof attrs.tp_import !== 'string') return null;
  return JSON.parse(attrs.tp_import) as TpImportInfo;
}

/** The stored background set of an imported TP dataset among `indices`: the images without a signal
 *  TP (with truth; the signal column of background/tps_by_source), every image (without truth: real
 *  data of a supernova-free run). */
export function storedBackground(
  info: TpImportInfo,
  reader: { numImages: number; table(name: 'tps_by_source'): { columns: string[]; data: Int32Array } | null },
  indices: ArrayLike<number>,
): number[] {
  if (!info.hasTruth) return Array.from(indices);
  const t = reader.table('tps_by_source')!;
  const col = t.columns.indexOf('signal');
  const w = t.columns.length;
  return Array.from(indices).filter((i) => t.data[i * w + col] === 0);
}

/** How many background windows a rate needs: with none seen, the 90 % upper limit is 2.3 FP over N windows. */
export function windowsNote(windows: number, hzPerFpPerWindow: number): string {
  const limit = windows ? (2.3 / windows) * hzPerFpPerWindow : Infinity;
  return `${windows} background windows: one FP per window is ${hzPerFpPerWindow.toFixed(0)} Hz per module, so with none seen the 90 % upper limit is ${limit.toPrecision(3)} Hz; reaching 1 Hz needs ≈ ${Math.ceil(2.3 * hzPerFpPerWindow)} windows`;
}

interface Listed {
  it: TpInteraction;
  window: number;
  hadTps: boolean;
}

/** The simulator config whose image layout imported windows take. */
export function importConfig(windowTicks: number, imageConfig: Record<string, unknown> = {}): SimConfig {
  return parseSimConfig(mergeConfig(imageConfig, { detector: { windowTicks } }), 'import window and image settings');
}

export async function importTps(o: TpImportOptions): Promise<TpImportReport> {
  const t0 = performance.now();
  const probe = importConfig(4492, o.imageConfig);
  const windowTicks = Math.round((o.windowMs * 1000) / probe.detector.tickUs);
  if (!(windowTicks >= 16)) throw new UserError(`--window: ${o.windowMs} ms is shorter than 16 ticks`);
  const cfg = importConfig(windowTicks, o.imageConfig);
  const layout = imageLayout(cfg);
  const planes = new Set(o.planes ?? [2]);
  const stream = await openTpStream(o.files, {
    format: o.format,
    channelMap: o.channelMap,
    reorderTicks: o.reorderTicks,
    skipBad: o.skipBad,
    alignTicks: windowTicks,
    eventTicks: windowTicks,
  });
  const writer = new DatasetWriter({
    path: o.out,
    force: o.force,
    layout: 'sparse',
    channels: layout.channels,
    height: layout.height,
    width: layout.width,
    storeTps: true,
    attrs: {
      generator: `daqyolo import tps (${stream.format})`,
      class_names: classNames(cfg),
      process_names: [...PROCESSES],
      channel_names: layout.channelNames,
      seed: o.seed,
      split_fractions: o.split.join(','),
      ticks_per_pixel: layout.ticksPerPixel,
      wires_per_pixel: layout.wiresPerPixel,
      window_ticks: windowTicks,
      detector_channels: cfg.detector.channels,
      tp_origin_dts: stream.header.originDts.toString(),
      tp_import: JSON.stringify({
        format: stream.format,
        sources: stream.header.sources,
        hasTruth: stream.header.hasTruth,
        windowTicks,
        windowMs: o.windowMs,
        tickUs: cfg.detector.tickUs,
        planes: [...planes],
        channelMap: stream.channelMap.name,
        image: cfg.image,
      }),
      image_convention:
        'tensor [C, H, W]; x/width = wire within the APA face, y/height = time bin of the window; boxes [x1, y1, x2, y2] in pixels, x2/y2 exclusive; import/tp_window = [window, face]',
    },
  });
  for (const c of TP_IMPORT_COLUMNS) writer.addColumn(c.path, c.type);
  try {
    const state = new Windows(layout, windowTicks, planes, writer);
    let tps = 0;
    for await (const { tps: b, interactions } of stream.batches) {
      state.list(interactions);
      state.add(b);
      tps += b.n;
      o.onProgress?.(tps);
    }
    state.close();
    const n = writer.imagesWritten;
    if (n === 0) throw new UserError(`${o.files.join(', ')}: no TP to import${stream.bad.count ? ` (${stream.bad.count} bad rows skipped)` : ''}`);
    const splits = makeSplits(n, o.split, o.seed);
    writer.addDataset(PATHS.importTpWindow, Int32Array.from(state.windowOf), [n, 2]);
    writer.addDataset(PATHS.importTpInteractions, Float64Array.from(state.interactionRows), [
      state.interactionRows.length / TP_INTERACTION_COLUMNS.length,
      TP_INTERACTION_COLUMNS.length,
    ]);
    writer.addDataset(PATHS.importTpInteractionOrigin, state.interactionOrigins.length ? state.interactionOrigins : ['']);
    writer.addDataset(PATHS.importTpSources, [...stream.header.sources]);
    const report: TpImportReport = {
      output: o.out,
      format: stream.format,
      sources: stream.header.sources,
      channelMap: stream.channelMap.name,
      hasTruth: stream.header.hasTruth,
      originDts: stream.header.originDts.toString(),
      windowTicks,
      windowMs: o.windowMs,
      tps,
      tpsImaged: state.tpsImaged,
      images: n,
      backgroundImages: state.backgroundImages,
      faces: [...state.faces].sort((a, b) => a - b),
      windows: state.windows,
      interactions: state.interactionCount,
      boxes: state.boxes,
      height: layout.height,
      width: layout.width,
      channels: layout.channels,
      splits: Object.fromEntries(SPLIT_NAMES.map((s) => [s, splits[s].length])) as Record<SplitName, number>,
      skipped: { count: stream.bad.count, rows: stream.bad.rows },
      seconds: 0,
    };
    writer.addDataset(PATHS.importReport, [JSON.stringify({ ...report, seconds: undefined })]);
    writer.finish(splits, { decays: BACKGROUND_SOURCES, tps: TP_SOURCES });
    report.seconds = +((performance.now() - t0) / 1000).toFixed(3);
    writeJsonAtomic(reportPath(o.out), report);
    return report;
  } catch (e) {
    writer.abort();
    throw e;
  }
}

/** The open window's TPs and what closing it writes. */
class Windows {
  readonly faces = new Set<number>();
  readonly windowOf: number[] = [];
  readonly interactionRows: number[] = [];
  readonly interactionOrigins: string[] = [];
  interactionCount = 0;
  boxes = 0;
  windows = 0;
  tpsImaged = 0;
  backgroundImages = 0;
  private current: number | null = null;
  private readonly rows = new GrowingBatch();
  private readonly listed = new Map<string, Listed>();
  private readonly byId = new Map<number, TpInteraction>();

  constructor(
    readonly layout: ImageLayout,
    readonly windowTicks: number,
    readonly planes: Set<number>,
    readonly writer: DatasetWriter,
  ) {}

  list(interactions: TpInteraction[]): void {
    for (const it of interactions) {
      this.listed.set(`${it.id}/${it.face}`, { it, window: Math.floor(it.time / this.windowTicks), hadTps: false });
      this.byId.set(it.id, it);
    }
  }

  add(b: TpBatch): void {
    for (let i = 0; i < b.n; i++) {
      const w = Math.floor(b.timeStart[i]! / this.windowTicks);
      if (w !== this.current) {
        this.close();
        this.current = w;
      }
      this.rows.pushFrom(b, i);
      if (this.planes.has(b.plane[i]!)) this.faces.add(b.face[i]!);
    }
  }

  /** Writes the open window's images (one per face seen so far) and its TP table rows. */
  close(): void {
    if (this.current === null) return;
    const w = this.current;
    const r = this.rows.b;
    const W = this.windowTicks;
    const base = w * W;
    const faces = [...this.faces].sort((a, b) => a - b);
    const slot = new Map(faces.map((f, k) => [f, k]));
    const lists = faces.map(() => new TpList());
    const image = new Int32Array(r.n).fill(-1);
    const first = this.writer.imagesWritten;
    for (let i = 0; i < r.n; i++) {
      if (!this.planes.has(r.plane[i]!)) continue;
      const k = slot.get(r.face[i]!)!;
      image[i] = first + k;
      // Image-relative whole ticks, as the simulator's TPs.
      const ts = Math.round(r.timeStart[i]! - base);
      lists[k]!.push(r.wire[i]!, ts, Math.round(r.timePeak[i]! - base), Math.round(r.timeOverThreshold[i]!), r.adcIntegral[i]!, r.adcPeak[i]!, r.owner[i]!);
      this.tpsImaged++;
    }
    const recs = faces.map((face, k) => this.record(first + k, face, w, lists[k]!));
    this.writer.appendChunk(packRecords(first, recs, this.layout.channels, true));
    for (const c of TP_IMPORT_COLUMNS) {
      const col = c.field === 'image' ? image : r[c.field];
      const data =
        c.type === 'f8'
          ? Float64Array.from(col.subarray(0, r.n))
          : c.type === 'f4'
            ? Float32Array.from(col.subarray(0, r.n))
            : Int32Array.from(col.subarray(0, r.n));
      this.writer.appendColumn(c.path, data);
    }
    for (const f of faces) this.windowOf.push(w, f);
    this.windows++;
    this.rows.b.n = 0;
    // Interactions listed long ago are done with (a TP more than 16 windows after its interaction's time is not expected).
    for (const [key, l] of this.listed)
      if (l.window < w - 16) {
        this.listed.delete(key);
        this.byId.delete(l.it.id);
      }
    this.current = null;
  }

  /** One image: the face's TPs of window w, truth from their owners. */
  private record(index: number, face: number, w: number, list: TpList): ImageRecord {
    const ids = new Set<number>();
    for (let i = 0; i < list.n; i++) if (list.owner[i]! >= 0) ids.add(list.owner[i]!);
    for (const id of ids) {
      const l = this.listed.get(`${id}/${face}`);
      if (l) l.hadTps = true;
    }
    // Listed here without any TP on this face: an unseen interaction of this image.
    for (const l of this.listed.values())
      if (l.it.face === face && l.window === w && !l.hadTps) {
        ids.add(l.it.id);
        l.hadTps = true;
      }
    const order = [...ids].sort((a, b) => a - b);
    const local = new Map(order.map((id, k) => [id, k]));
    const tpsBySource = new Int32Array(TP_SOURCES.length);
    const truths: InteractionTruth[] = order.map((id) => {
      const it = this.byId.get(id);
      return {
        energyMeV: it?.energyMeV ?? NaN,
        process: 0,
        visibleEnergyMeV: NaN,
        nTps: 0,
        box: -1,
        vertexChannel: NaN,
        vertexTick: it ? it.time - w * this.windowTicks : NaN,
        driftCm: NaN,
      };
    });
    for (let i = 0; i < list.n; i++) {
      const o = list.owner[i]!;
      if (o >= 0) {
        const k = local.get(o)!;
        list.owner[i] = k;
        truths[k]!.nTps++;
        tpsBySource[0]!++;
      } else if (o === NOISE_OWNER) tpsBySource[TP_SOURCES.length - 1]!++;
      else if (bgIndex(o) >= 0 && bgIndex(o) < BACKGROUND_SOURCES.length) tpsBySource[1 + bgIndex(o)]!++;
    }
    const boxes: number[] = [];
    const boxInteraction: number[] = [];
    truths.forEach((t, k) => {
      if (t.nTps === 0) return;
      t.box = boxInteraction.length;
      boxes.push(...boxOf(this.layout, list, k)!);
      boxInteraction.push(k);
    });
    order.forEach((id) => {
      const it = this.byId.get(id);
      this.interactionRows.push(id, face, it?.time ?? NaN, it?.energyMeV ?? NaN, it?.electronMeV ?? NaN, index);
      this.interactionOrigins.push(it?.origin ?? '');
    });
    this.interactionCount += order.length;
    this.boxes += boxInteraction.length;
    if (!tpsBySource[0]) this.backgroundImages++;
    return {
      index,
      seed: 0,
      sparse: tpsToSparse(this.layout, list),
      boxes: Float32Array.from(boxes),
      boxClass: new Int32Array(boxInteraction.length),
      boxInteraction: Int32Array.from(boxInteraction),
      interactions: truths,
      decays: new Int32Array(BACKGROUND_SOURCES.length),
      tpsBySource,
      tps: list,
    };
  }
}
