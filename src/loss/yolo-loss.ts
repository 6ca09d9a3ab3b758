// The YOLOv3 loss as a pure function, term by term (LOSS.md). Default semantics reproduce the
// experiencor keras-yolo3 YoloLayer quoted in the seed; every alternative is an option.
// Imports only the tensor engine.
import { Tensor, tensor, arange, stack, meshgrid, noGrad, functional as F } from '../torch/index.js';
import { type LossOptions, resolveLossOptions } from './options.js';

export const TERMS = ['xy', 'wh', 'conf1', 'conf2', 'class'] as const;
export type Term = (typeof TERMS)[number];

export interface LossContext {
  /** Anchors per scale in input pixels, coarse first: anchors[s][a] = [w, h]. */
  anchors: [number, number][][];
  netH: number;
  netW: number;
  /** 0-based index of this training batch (counts training batches only). */
  batchIndex: number;
  /** Validation/evaluation passes never use warm-up targets. */
  training: boolean;
}

export interface LossTargets {
  /** Per scale [B, Gh, Gw, A, 5 + C] (see data/targets.ts). */
  yTrue: Tensor[];
  /** [B, M, 4]: every truth box as centre x, centre y, w, h in input pixels. */
  trueBoxes: Tensor;
  /** [B, M, 2]: the owning scale's grid (Gw, Gh) of each box; only for compat 'owner-grid'. */
  ownerGrid?: Tensor;
}

/** One scale's terms, each [B] (per image, summed over cells and anchors), with autograd. */
export type ScaleTerms = Record<Term, Tensor> & { total: Tensor };

/** Statistics of one scale (LOSS.md), computed without gradient over the whole batch. */
export interface ScaleStats {
  count: number;
  avgObj: number;
  avgNoobj: number;
  avgIou: number;
  recall50: number;
  recall75: number;
  /** Objectness and IoU of each responsible prediction (one per truth box encoded at this scale). */
  objectness: Float32Array;
  iou: Float32Array;
}

export interface LossResult {
  /** The optimised objective (scalar, with autograd). */
  objective: Tensor;
  scales: ScaleTerms[];
  /** 1 when this batch used warm-up targets. */
  warm: 0 | 1;
}

/** Corner-free IoU of boxes given as centre (…,2) and size (…,2) tensors, broadcasting. */
function iouCentreSize(xy1: Tensor, wh1: Tensor, xy2: Tensor, wh2: Tensor): Tensor {
  const half1 = wh1.div(2);
  const half2 = wh2.div(2);
  const lo = xy1.sub(half1).maximum(xy2.sub(half2));
  const hi = xy1.add(half1).minimum(xy2.add(half2));
  const inter = hi.sub(lo).clamp(0);
  const interArea = inter.select(-1, 0).mul(inter.select(-1, 1));
  const a1 = wh1.select(-1, 0).mul(wh1.select(-1, 1));
  const a2 = wh2.select(-1, 0).mul(wh2.select(-1, 1));
  return interArea.div(a1.add(a2).sub(interArea).clamp(1e-12));
}

/** Cell offsets [1, Gh, Gw, 1, 2] with (…, 0) = column (x) and (…, 1) = row (y). */
function cellGrid(gh: number, gw: number, device: string): Tensor {
  const [rows, cols] = meshgrid([arange(gh, undefined, 1, { device }), arange(gw, undefined, 1, { device })], 'ij');
  return stack([cols!, rows!], -1).reshape(1, gh, gw, 1, 2);
}

/**
 * Computes every term of the loss for a batch. Call inside tidy(); returned tensors carry the
 * autograd graph. Terms are per image so that callers can average or sum as they need.
 */
export function yoloLoss(outputs: Tensor[], targets: LossTargets, ctx: LossContext, options: Partial<LossOptions> = {}): LossResult {
  const o = resolveLossOptions(options);
  if (outputs.length !== ctx.anchors.length) throw new Error(`loss: ${outputs.length} head outputs but anchors for ${ctx.anchors.length} scales`);
  if (targets.yTrue.length !== outputs.length) throw new Error(`loss: ${targets.yTrue.length} target tensors for ${outputs.length} heads`);
  const warm = ctx.training && ctx.batchIndex < o.warmupBatches;
  const scales = outputs.map((out, s) => scaleTerms(out, s, targets, ctx, o, warm));
  const objective = objectiveOf(
    scales.map((t) => t.total.sum()),
    outputs[0]!.size(0),
    o.reduction,
  );
  return { objective, scales, warm: warm ? 1 : 0 };
}

/**
 * The optimised objective from each scale's total over a batch of `batch` images. Data-parallel
 * training calls it with totals summed over all ranks, so every reduction keeps its meaning.
 */
export function objectiveOf(totals: Tensor[], batch: number, reduction: LossOptions['reduction']): Tensor {
  switch (reduction) {
    case 'sqrt-per-scale':
      return totals.map(safeSqrt).reduce((a, b) => a.add(b));
    case 'sqrt-total':
      return safeSqrt(totals.reduce((a, b) => a.add(b)));
    case 'sum':
      return totals.reduce((a, b) => a.add(b));
    case 'mean':
      return totals.reduce((a, b) => a.add(b)).div(batch);
  }
}

/**
 * √x with gradient 0 at x = 0 instead of ∞·0 = NaN: a scale whose loss is exactly zero (no boxes
 * with noobjScale 0, a zero gridScales weight) must not poison every parameter's gradient. The
 * clamp keeps 1/√x finite; the mask makes the value and the gradient exactly 0 there.
 */
function safeSqrt(x: Tensor): Tensor {
  return x.clamp(1e-30).sqrt().mul(x.gt(0).to(x.dtype));
}

interface ScaleView {
  pred: Tensor; // [B, Gh, Gw, A, 5+C] raw outputs
  yt: Tensor; // targets, same shape
  objMask: Tensor; // [B, Gh, Gw, A, 1]
  predXY: Tensor; // grid units
  anchors: Tensor; // [1, 1, 1, A, 2] pixels
  net: Tensor; // [2] (net_w, net_h)
  grid: Tensor; // [2] (Gw, Gh)
  cell: Tensor;
}

function view(out: Tensor, s: number, targets: LossTargets, ctx: LossContext): ScaleView {
  const [B, ch, gh, gw] = out.shape as [number, number, number, number];
  const A = ctx.anchors[s]!.length;
  const D = ch / A;
  if (!Number.isInteger(D) || D < 5) throw new Error(`loss: head ${s} has ${ch} channels, not a multiple of ${A} anchors × (5 + classes)`);
  const yt = targets.yTrue[s]!;
  const want = [B, gh, gw, A, D].join(',');
  if (yt.shape.join(',') !== want) throw new Error(`loss: targets of scale ${s} have shape [${yt.shape}], the head needs [${want}]`);
  const device = out.device;
  // keras-yolo3 reshapes [B, G, G, A·(5+C)] to [B, G, G, A, 5+C]: channel = a·(5+C) + k.
  const pred = out.permute(0, 2, 3, 1).reshape(B, gh, gw, A, D);
  const cell = cellGrid(gh, gw, device);
  return {
    pred,
    yt,
    cell,
    objMask: yt.narrow(-1, 4, 1),
    predXY: cell.add(pred.narrow(-1, 0, 2).sigmoid()),
    anchors: tensor(ctx.anchors[s]!.flat(), { device }).reshape(1, 1, 1, A, 2),
    net: tensor([ctx.netW, ctx.netH], { device }),
    grid: tensor([gw, gh], { device }),
  };
}

/** Max IoU of each prediction with any truth box of its image → ignore = 1 where below threshold. */
function ignoreMask(v: ScaleView, targets: LossTargets, o: LossOptions): Tensor {
  return noGrad(() => {
    const [B, gh, gw, A] = v.pred.shape as number[];
    const M = targets.trueBoxes.size(1);
    const tb = targets.trueBoxes.reshape(B!, 1, 1, 1, M, 4);
    let trueXY = tb.narrow(-1, 0, 2).div(v.net); // normalised
    if (o.compat.trueBoxUnits === 'owner-grid') {
      if (!targets.ownerGrid) throw new Error("loss: compat.trueBoxUnits 'owner-grid' needs targets.ownerGrid");
      // keras-yolo3 stores centres in the owner's grid units and divides by this scale's grid.
      trueXY = trueXY.mul(targets.ownerGrid.reshape(B!, 1, 1, 1, M, 2)).div(v.grid);
    }
    const trueWH = tb.narrow(-1, 2, 2).div(v.net);
    const predXY = v.predXY.div(v.grid).unsqueeze(4);
    const predWH = v.pred.narrow(-1, 2, 2).exp().mul(v.anchors).div(v.net).unsqueeze(4);
    const best = iouCentreSize(predXY, predWH, trueXY, trueWH).amax(-1, false); // [B, Gh, Gw, A]
    void gh;
    void gw;
    void A;
    return best.lt(o.ignoreThresh).to('float32').unsqueeze(-1);
  });
}

/** IoU of each prediction with the truth box encoded in its own (cell, anchor) slot. */
function slotIou(v: ScaleView): Tensor {
  return noGrad(() => {
    const pXY = v.predXY.div(v.grid);
    const pWH = v.pred.narrow(-1, 2, 2).exp().mul(v.anchors).div(v.net);
    const tXY = v.yt.narrow(-1, 0, 2).div(v.grid);
    const tWH = v.yt.narrow(-1, 2, 2).exp().mul(v.anchors).div(v.net);
    return iouCentreSize(pXY, pWH, tXY, tWH).unsqueeze(-1);
  });
}

function scaleTerms(out: Tensor, s: number, targets: LossTargets, ctx: LossContext, o: LossOptions, warm: boolean): ScaleTerms {
  const v = view(out, s, targets, ctx);
  const noObj = v.objMask.rsub(1);
  const ignore = ignoreMask(v, targets, o);

  let trueXY = v.yt.narrow(-1, 0, 2);
  const trueWH = v.yt.narrow(-1, 2, 2);
  let xywhMask = v.objMask;
  if (warm) {
    // Warm-up: cells without a box are pulled to their centre with the anchor's shape (t_wh = 0).
    trueXY = trueXY.add(v.cell.add(0.5).mul(noObj));
    xywhMask = v.objMask.mul(0).add(1);
  }
  const whArea = trueWH.exp().mul(v.anchors).div(v.net);
  const whScale = whArea.select(-1, 0).mul(whArea.select(-1, 1)).rsub(2).unsqueeze(-1);
  const k = whScale.mul(xywhMask).mul(o.xywhScale);
  const xyDelta = v.predXY.sub(trueXY).mul(k);
  const whDelta = v.pred.narrow(-1, 2, 2).sub(trueWH).mul(k);

  const logit = v.pred.narrow(-1, 4, 1);
  const trueConf = o.objTarget === 'iou' ? slotIou(v).mul(v.objMask) : v.objMask;
  let conf1: Tensor;
  let conf2: Tensor;
  if (o.objLoss === 'mse') {
    const conf = logit.sigmoid();
    conf1 = conf.sub(trueConf).mul(v.objMask).mul(o.objScale).square();
    conf2 = conf.mul(noObj).mul(ignore).mul(o.noobjScale).square();
  } else {
    // Stable BCE from logits: finite for any logit.
    const bce1 = F.binaryCrossEntropyWithLogits(logit, trueConf, { reduction: 'none' });
    const bce0 = F.binaryCrossEntropyWithLogits(logit, v.objMask.mul(0), { reduction: 'none' });
    conf1 = bce1.mul(v.objMask).mul(o.objScale);
    conf2 = bce0.mul(noObj).mul(ignore).mul(o.noobjScale);
  }
  // Softmax cross-entropy against the one-hot class; exactly 0 with a single class.
  const D = v.pred.size(-1);
  const cls = v.pred.narrow(-1, 5, D - 5);
  const ce = cls
    .logSoftmax(-1)
    .mul(v.yt.narrow(-1, 5, D - 5))
    .sum(-1, true)
    .neg();
  const classDelta = ce.mul(v.objMask).mul(o.classScale);

  // The scale's weight multiplies each term, so the logged terms always add up to the logged total.
  const g = o.gridScales[s] ?? 1;
  const perImage = (t: Tensor) => (g === 1 ? t.sum([1, 2, 3, 4]) : t.sum([1, 2, 3, 4]).mul(g));
  const terms = {
    xy: perImage(xyDelta.square()),
    wh: perImage(whDelta.square()),
    conf1: perImage(conf1),
    conf2: perImage(conf2),
    class: perImage(classDelta),
  };
  const total = terms.xy.add(terms.wh).add(terms.conf1).add(terms.conf2).add(terms.class);
  return { ...terms, total };
}

/**
 * Statistics of LOSS.md for each scale: count, avgObj, avgNoobj, avgIou, recall50, recall75,
 * and the per-box objectness and IoU arrays of the responsible predictions.
 */
export function lossStatistics(outputs: Tensor[], targets: LossTargets, ctx: LossContext): ScaleStats[] {
  return noGrad(() =>
    outputs.map((out, s) => {
      const v = view(out, s, targets, ctx);
      const mask = v.objMask.gt(0.5);
      const conf = v.pred.narrow(-1, 4, 1).sigmoid();
      const iou = slotIou(v);
      const objectness = conf.maskedSelect(mask).dataSync() as Float32Array;
      const ious = iou.maskedSelect(mask).dataSync() as Float32Array;
      const noobj = conf.maskedSelect(mask.logicalNot());
      const count = objectness.length;
      let r50 = 0,
        r75 = 0,
        sumObj = 0,
        sumIou = 0;
      for (let i = 0; i < count; i++) {
        sumObj += objectness[i]!;
        sumIou += ious[i]!;
        if (objectness[i]! >= 0.5 && ious[i]! >= 0.5) r50++;
        if (objectness[i]! >= 0.5 && ious[i]! >= 0.75) r75++;
      }
      const nNo = noobj.numel;
      return {
        count,
        avgObj: count ? sumObj / count : NaN,
        avgNoobj: nNo ? noobj.mean().item() : NaN,
        avgIou: count ? sumIou / count : NaN,
        recall50: count ? r50 / count : NaN,
        recall75: count ? r75 / count : NaN,
        objectness,
        iou: ious,
      };
    }),
  );
}

/** Every term as plain numbers: per scale, per term, per image (one device sync). */
export interface LossValues {
  objective: number;
  warm: 0 | 1;
  /** scales[s][term] = per-image values; scales[s].total likewise. */
  scales: (Record<Term, number[]> & { total: number[] })[];
}

export function readLoss(r: LossResult): LossValues {
  return noGrad(() => {
    const names = [...TERMS, 'total'] as const;
    const rows = r.scales.flatMap((s) => names.map((n) => s[n]));
    const B = rows[0]!.size(0);
    const flat = stack([...rows, r.objective.reshape(1).expand(B)], 0).toNumbers();
    const scales = r.scales.map((_, si) => {
      const rec = {} as Record<Term | 'total', number[]>;
      names.forEach((n, ti) => {
        const off = (si * names.length + ti) * B;
        rec[n] = flat.slice(off, off + B);
      });
      return rec;
    });
    return { objective: flat[rows.length * B]!, warm: r.warm, scales };
  });
}
