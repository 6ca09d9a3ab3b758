// Running the model over a split in eval mode: every loss term (mean per image) with no
// warm-up, the LOSS.md statistics over all images (not 8), the per-box objectness and IoU
// distributions of the responsible predictions, and detections for mAP.
import { noGrad, tidy, type Tensor, type SparseTensor } from '../torch/index.js';
import { yoloLoss, readLoss, lossStatistics, TERMS, type Term } from '../loss/yolo-loss.js';
import type { LossOptions } from '../loss/options.js';
import { decodeOutputs, type DecodedBox } from '../eval/decode.js';
import type { YoloV3 } from '../model/yolo.js';
import type { BatchRequest, LoadedBatch } from '../data/batch.js';
import type { BatchLoader } from '../data/loader.js';
import type { MapImage } from '../eval/map.js';
import { toNetworkInput, targetTensors, letterbox, type TargetSpec, type Letterbox } from './prepare.js';

export type TermRecord = Record<Term | 'total', number>;

/** Sums of per-image terms, turned into means at the end; serialisable for mid-epoch resume. */
export class TermAccumulator {
  state = { sums: [] as TermRecord[], objective: 0, batches: 0, images: 0 };
  get images(): number { return this.state.images; }
  add(v: ReturnType<typeof readLoss>): void {
    const st = this.state;
    v.scales.forEach((s, i) => {
      const acc = (st.sums[i] ??= { xy: 0, wh: 0, conf1: 0, conf2: 0, class: 0, total: 0 });
      for (const k of [...TERMS, 'total'] as const) acc[k] += s[k].reduce((a, b) => a + b, 0);
    });
    st.objective += v.objective;
    st.batches++;
    st.images += v.scales[0]!.xy.length;
  }
  /** Terms as means per image; the objective as the mean over batches. */
  means(): { objective: number; scales: TermRecord[] } {
    const n = Math.max(1, this.state.images);
    return {
      objective: this.state.objective / Math.max(1, this.state.batches),
      scales: this.state.sums.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v / n])) as TermRecord),
    };
  }
}

export const HIST_BINS = 50;

export interface ScaleSummary {
  count: number;
  avgObj: number | null;
  avgNoobj: number | null;
  avgIou: number | null;
  recall50: number | null;
  recall75: number | null;
  /** Histograms over [0, 1] in HIST_BINS bins. */
  objHist: number[];
  iouHist: number[];
  /** The per-box values themselves (rounded to 1e-4), coarse scale first. */
  objectness: number[];
  iou: number[];
}

/** Accumulates LOSS.md statistics over many batches. */
export class StatsAccumulator {
  #s: { count: number; obj: number[]; iou: number[]; noobjSum: number; noobjN: number }[] = [];
  /** Per-box values as typed or plain arrays (plain after travelling between ranks as JSON). */
  add(stats: (Omit<ReturnType<typeof lossStatistics>[number], 'objectness' | 'iou'> & { objectness: Iterable<number>; iou: Iterable<number> })[], cellsPerScale: number[]): void {
    stats.forEach((st, i) => {
      const a = (this.#s[i] ??= { count: 0, obj: [], iou: [], noobjSum: 0, noobjN: 0 });
      a.count += st.count;
      for (const v of st.objectness) a.obj.push(v);
      for (const v of st.iou) a.iou.push(v);
      const nNo = cellsPerScale[i]! - st.count;
      if (nNo > 0 && Number.isFinite(st.avgNoobj)) {
        a.noobjSum += st.avgNoobj * nNo;
        a.noobjN += nNo;
      }
    });
  }
  summary(): ScaleSummary[] {
    const hist = (v: number[]) => {
      const h = new Array<number>(HIST_BINS).fill(0);
      for (const x of v) h[Math.min(HIST_BINS - 1, Math.max(0, Math.floor(x * HIST_BINS)))]!++;
      return h;
    };
    const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
    const frac = (pred: (i: number) => boolean, n: number) => {
      if (!n) return null;
      let k = 0;
      for (let i = 0; i < n; i++) if (pred(i)) k++;
      return k / n;
    };
    return this.#s.map((a) => ({
      count: a.count,
      avgObj: mean(a.obj),
      avgNoobj: a.noobjN ? a.noobjSum / a.noobjN : null,
      avgIou: mean(a.iou),
      recall50: frac((i) => a.obj[i]! >= 0.5 && a.iou[i]! >= 0.5, a.count),
      recall75: frac((i) => a.obj[i]! >= 0.5 && a.iou[i]! >= 0.75, a.count),
      objHist: hist(a.obj),
      iouHist: hist(a.iou),
      objectness: a.obj.map((x) => Math.round(x * 1e4) / 1e4),
      iou: a.iou.map((x) => Math.round(x * 1e4) / 1e4),
    }));
  }
}

export interface EvalContext {
  model: YoloV3;
  /** Multiplies pixel values before the network (see ResolvedRun.inputScale). */
  inputScale: number;
  spec: TargetSpec;
  size: number;
  device: string;
  loss: Partial<LossOptions>;
}

export interface BatchResult {
  /** Loss terms and statistics; absent when called with `loss: false`. */
  values?: ReturnType<typeof readLoss>;
  stats?: ReturnType<typeof lossStatistics>;
  cellsPerScale: number[];
  /** Detections per image in dataset pixels (after NMS). */
  detections: DecodedBox[][];
}

/** Undoes the letterbox: network pixels → dataset pixels. */
export function toDatasetPixels(d: DecodedBox, lb: Letterbox): DecodedBox {
  return { ...d, x1: (d.x1 - lb.dx) / lb.sx, y1: (d.y1 - lb.dy) / lb.sy, x2: (d.x2 - lb.dx) / lb.sx, y2: (d.y2 - lb.dy) / lb.sy };
}

export interface BatchEvalOptions {
  scoreThreshold?: number;
  nmsIou?: number;
  /** Compute loss terms and statistics (needs truth boxes); false for pure inference. */
  loss?: boolean;
}

/** Forward pass in eval mode without gradient: detections, and loss terms and statistics. */
export function evaluateBatch(ctx: EvalContext, b: LoadedBatch, o: BatchEvalOptions = {}): BatchResult {
  return noGrad(() => tidy(() => {
    const inp = toNetworkInput(b, ctx.size, ctx.device, ctx.inputScale);
    const outputs: Tensor[] = ctx.model.forward(inp.x);
    const cellsPerScale = outputs.map((y) => (y.shape[0]! * y.shape[1]! / (5 + ctx.spec.numClasses)) * y.shape[2]! * y.shape[3]!);
    let values: BatchResult['values'];
    let stats: BatchResult['stats'];
    if (o.loss !== false) {
      const { targets } = targetTensors(inp.boxes, ctx.size, ctx.spec, ctx.device);
      const lctx = { anchors: ctx.spec.anchors, netH: ctx.size, netW: ctx.size, batchIndex: Number.MAX_SAFE_INTEGER, training: false };
      values = readLoss(yoloLoss(outputs, targets, lctx, ctx.loss));
      stats = lossStatistics(outputs, targets, lctx);
    }
    return { values, stats, cellsPerScale, detections: detectionsOf(ctx, outputs, inp.box, o) };
  }));
}

function detectionsOf(ctx: EvalContext, outputs: Tensor[], box: Letterbox, o: BatchEvalOptions): DecodedBox[][] {
  return decodeOutputs(outputs, {
    anchors: ctx.spec.anchors, netH: ctx.size, netW: ctx.size,
    scoreThreshold: o.scoreThreshold ?? 0.005, nms: { iouThreshold: o.nmsIou ?? 0.45 },
  }).map((list) => list.map((d) => toDatasetPixels(d, box)));
}

/**
 * Detections of a sparse batch already at the network's size and input scale (SparseTensor.fromSortedPixels of
 * streamed pixel lists): what evaluateBatch with `loss: false` gives for the same images densified.
 */
export function detectSparseBatch(ctx: EvalContext, x: SparseTensor, o: BatchEvalOptions = {}): DecodedBox[][] {
  if (x.grid.height !== ctx.size || x.grid.width !== ctx.size) throw new Error(`sparse batch ${x.grid.height}×${x.grid.width} is not at the network size ${ctx.size}`);
  return noGrad(() => tidy(() => detectionsOf(ctx, ctx.model.forward(x), letterbox(ctx.size, ctx.size, ctx.size), o)));
}

/**
 * Runs the images `indices` through the model in eval mode, `batch` at a time, through the loader
 * (no augmentation), and hands each batch with its results to `onBatch`. The model is left in the
 * mode it was in. `idBase` keeps request ids apart from others queued on the same loader.
 */
export async function forEachEvaluatedBatch(loader: BatchLoader, ctx: EvalContext, indices: number[], batch: number,
  onBatch: (b: LoadedBatch, res: BatchResult, done: number) => void, idBase = 0): Promise<void> {
  const reqs: BatchRequest[] = [];
  for (let i = 0; i < indices.length; i += batch) reqs.push({ id: idBase - (i + 1), indices: indices.slice(i, i + batch), seed: 0, augment: null });
  loader.enqueue(reqs);
  const wasTraining = ctx.model.training;
  ctx.model.eval();
  try {
    for (let r = 0; r < reqs.length; r++) {
      const b = await loader.next();
      onBatch(b, evaluateBatch(ctx, b), Math.min(indices.length, (r + 1) * batch));
    }
  } finally {
    ctx.model.train(wasTraining);
  }
}

/** One image's detections and truth boxes, as the mAP functions take them. */
export function mapImage(dets: DecodedBox[], truth: { x1: number; y1: number; x2: number; y2: number; cls: number; difficult?: boolean }[]): MapImage {
  return {
    detections: dets.map((d) => ({ x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, score: d.score, cls: d.cls })),
    truths: truth.map((t) => ({ box: [t.x1, t.y1, t.x2, t.y2] as const, cls: t.cls, ...(t.difficult ? { difficult: true } : {}) })),
  };
}
