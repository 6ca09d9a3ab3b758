// Running the model over a split in eval mode: every loss term (mean per image) with no
// warm-up, the LOSS.md statistics over all images (not 8), the per-box objectness and IoU
// distributions of the responsible predictions, and detections for mAP.
import { noGrad, tidy, type Tensor, type SparseTensor } from '../torch/index.js';
import { yoloLoss, readLoss, lossStatistics, TERMS } from '../loss/yolo-loss.js';
import type { LossOptions } from '../loss/options.js';
import { decodeOutputs, DEFAULT_SCORE_THRESHOLD, type DecodedBox } from './decode.js';
import { DEFAULT_NMS_IOU } from './nms.js';
import { batchOfImages } from '../data/batch.js';
import type { YoloV3 } from '../model/yolo.js';
import type { BatchRequest, LoadedBatch } from '../data/batch.js';
import type { BatchLoader } from '../data/loader.js';
import type { MapImage } from './map.js';
import { HIST_BINS, type ScaleSummary, type TermMeans, type TermRecord } from '../schema/run.js';
import { toNetworkInput, targetTensors, networkLetterbox, type TargetSpec, type Letterbox } from './prepare.js';

/** Sums of per-image terms, turned into means at the end; serialisable for mid-epoch resume. */
export class TermAccumulator {
  state = { sums: [] as TermRecord[], objective: 0, batches: 0, images: 0 };
  get images(): number {
    return this.state.images;
  }
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
  means(): TermMeans {
    const n = Math.max(1, this.state.images);
    return {
      objective: this.state.objective / Math.max(1, this.state.batches),
      scales: this.state.sums.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v / n])) as TermRecord),
    };
  }
}

/** Accumulates LOSS.md statistics over many batches. */
export class StatsAccumulator {
  #s: { count: number; obj: number[]; iou: number[]; noobjSum: number; noobjN: number }[] = [];
  /** Per-box values as typed or plain arrays (plain after travelling between ranks as JSON). */
  add(
    stats: (Omit<ReturnType<typeof lossStatistics>[number], 'objectness' | 'iou'> & { objectness: Iterable<number>; iou: Iterable<number> })[],
    cellsPerScale: number[],
  ): void {
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

export interface InferContext {
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

export interface PredictOptions {
  scoreThreshold?: number;
  nmsIou?: number;
  /** Compute loss terms and statistics (needs truth boxes); false for pure inference. */
  loss?: boolean;
}

/** Forward pass in eval mode without gradient: detections, and loss terms and statistics. */
export function predictBatch(ctx: InferContext, b: LoadedBatch, o: PredictOptions = {}): BatchResult {
  return noGrad(() =>
    tidy(() => {
      const inp = toNetworkInput(b, ctx.size, ctx.device, ctx.inputScale);
      const outputs: Tensor[] = ctx.model.forward(inp.x);
      const cellsPerScale = outputs.map((y) => ((y.shape[0]! * y.shape[1]!) / (5 + ctx.spec.numClasses)) * y.shape[2]! * y.shape[3]!);
      let values: BatchResult['values'];
      let stats: BatchResult['stats'];
      if (o.loss !== false) {
        const { targets } = targetTensors(inp.boxes, ctx.size, ctx.spec, ctx.device);
        const lctx = { anchors: ctx.spec.anchors, netH: ctx.size, netW: ctx.size, batchIndex: Number.MAX_SAFE_INTEGER, training: false };
        values = readLoss(yoloLoss(outputs, targets, lctx, ctx.loss));
        stats = lossStatistics(outputs, targets, lctx);
      }
      return { values, stats, cellsPerScale, detections: detectionsOf(ctx, outputs, inp.box, o) };
    }),
  );
}

function detectionsOf(ctx: InferContext, outputs: Tensor[], box: Letterbox, o: Omit<PredictOptions, 'loss'>): DecodedBox[][] {
  return decodeOutputs(outputs, {
    anchors: ctx.spec.anchors,
    netH: ctx.size,
    netW: ctx.size,
    scoreThreshold: o.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD,
    nms: { iouThreshold: o.nmsIou ?? DEFAULT_NMS_IOU },
  }).map((list) => list.map((d) => toDatasetPixels(d, box)));
}

/**
 * Detections of a sparse batch already at the network's size and input scale (SparseTensor.fromSortedPixels of
 * streamed pixel lists): what predictBatch with `loss: false` gives for the same images densified.
 */
export function detectSparseBatch(ctx: InferContext, x: SparseTensor, o: Omit<PredictOptions, 'loss'> = {}): DecodedBox[][] {
  if (x.grid.height !== ctx.size || x.grid.width !== ctx.size)
    throw new Error(`sparse batch ${x.grid.height}×${x.grid.width} is not at the network size ${ctx.size}`);
  return noGrad(() => tidy(() => detectionsOf(ctx, ctx.model.forward(x), networkLetterbox(ctx.size, ctx.size, ctx.size), o)));
}

/** One image at the dataset's size, planar [C, H, W], as the simulator, streamer and reader give it. */
export interface InputImage {
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Pure inference: each image's detections in dataset pixels, after NMS, highest score first. */
export function predict(ctx: InferContext, images: readonly InputImage[], o: Omit<PredictOptions, 'loss'> = {}): DecodedBox[][] {
  return predictBatch(ctx, batchOfImages(images), { ...o, loss: false }).detections;
}

/**
 * Runs the images `indices` through the model in eval mode, `batch` at a time, through the loader
 * (no augmentation), and hands each batch with its results to `onBatch`. The model is left in the
 * mode it was in. `idBase` keeps request ids apart from others queued on the same loader.
 */
export async function forEachPredictedBatch(
  loader: BatchLoader,
  ctx: InferContext,
  indices: number[],
  batch: number,
  onBatch: (b: LoadedBatch, res: BatchResult, done: number) => void,
  idBase = 0,
): Promise<void> {
  const reqs: BatchRequest[] = [];
  for (let i = 0; i < indices.length; i += batch) reqs.push({ id: idBase - (i + 1), indices: indices.slice(i, i + batch), seed: 0, augment: null });
  loader.enqueue(reqs);
  const wasTraining = ctx.model.training;
  ctx.model.eval();
  try {
    for (let r = 0; r < reqs.length; r++) {
      const b = await loader.next();
      onBatch(b, predictBatch(ctx, b), Math.min(indices.length, (r + 1) * batch));
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
