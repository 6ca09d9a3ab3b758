// YOLOv3 target encoding, exactly as LOSS.md: each truth box goes to the anchor (of all
// scales' anchors) whose shape has the best origin-centred IoU with it, in the cell of that
// anchor's scale containing the box centre; y_true holds x, y in grid units (σ(t_x) + c_x),
// w, h as ln(box / anchor), conf 1 and a one-hot class. Pure TypeScript: no tensors here.
import { whIou } from '../geometry/box.js';

/** A truth box in network-input pixels: corners and class index. */
export interface PixelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cls: number;
  /** No positive: the box only joins trueBoxes (the ignore mask), so predictions on it cost nothing. */
  ignore?: boolean;
}

export interface EncodeSpec {
  /** Network input height and width (multiples of 32). */
  netH: number;
  netW: number;
  /** Strides of the heads, coarse first (e.g. [32, 16, 8]). */
  strides: number[];
  /** Anchors per scale in input pixels, coarse first: anchors[s][a] = [w, h]. */
  anchors: [number, number][][];
  numClasses: number;
}

export interface EncodedTargets {
  /** Per scale: Float32Array of [B, Gh, Gw, A, 5 + C]. */
  yTrue: Float32Array[];
  /** Per scale: [B, Gh, Gw, A, 5 + C] as a shape. */
  shapes: number[][];
  /** Every truth box of each image, [B, M, 4] as centre x, centre y, w, h in input pixels (0-padded). */
  trueBoxes: Float32Array;
  /** [B, M, 2]: grid width and height of the scale that owns each box (for the keras-yolo3 defect option). */
  ownerGrid: Float32Array;
  maxBoxes: number;
  /** Boxes that lost their (cell, anchor) slot to another box of the same image. */
  collisions: number;
  /** Boxes encoded per scale. */
  perScale: number[];
}

/**
 * Encodes the boxes of a batch. When two boxes of one image claim the same anchor in the same
 * cell, the box with the larger area keeps the slot (ties: the earlier box) — deterministic —
 * and the other is counted in `collisions` (it still takes part in the ignore mask via trueBoxes).
 * A box marked `ignore` takes no slot and is not counted per scale: it is in trueBoxes only.
 */
export function encodeTargets(batch: PixelBox[][], spec: EncodeSpec): EncodedTargets {
  const B = batch.length;
  const C = spec.numClasses;
  const D = 5 + C;
  const grids = spec.strides.map((s) => [Math.floor(spec.netH / s), Math.floor(spec.netW / s)] as const);
  const shapes = grids.map(([gh, gw], s) => [B, gh, gw, spec.anchors[s]!.length, D]);
  const yTrue = shapes.map((sh) => new Float32Array(sh.reduce((a, b) => a * b, 1)));
  const owner = shapes.map((sh) => new Float32Array(sh.reduce((a, b) => a * b, 1) / D).fill(0)); // area of slot owner
  const flatAnchors: { s: number; a: number; w: number; h: number }[] = [];
  spec.anchors.forEach((list, s) => list.forEach(([w, h], a) => flatAnchors.push({ s, a, w, h })));

  const maxBoxes = Math.max(1, ...batch.map((b) => b.length));
  const trueBoxes = new Float32Array(B * maxBoxes * 4);
  const ownerGrid = new Float32Array(B * maxBoxes * 2);
  let collisions = 0;
  const perScale = spec.strides.map(() => 0);

  batch.forEach((boxes, b) => {
    boxes.forEach((box, k) => {
      if (box.cls < 0 || box.cls >= C) throw new Error(`box class ${box.cls} outside 0..${C - 1}`);
      const w = box.x2 - box.x1;
      const h = box.y2 - box.y1;
      if (!(w > 0 && h > 0)) throw new Error(`box [${box.x1}, ${box.y1}, ${box.x2}, ${box.y2}] has no area`);
      const cx = (box.x1 + box.x2) / 2;
      const cy = (box.y1 + box.y2) / 2;
      // Best anchor over all scales (first one wins ties, as np.argmax / keras-yolo3).
      let best = flatAnchors[0]!;
      let bestIou = -1;
      for (const an of flatAnchors) {
        const iou = whIou(w, h, an.w, an.h);
        if (iou > bestIou) {
          bestIou = iou;
          best = an;
        }
      }
      const [gh, gw] = grids[best.s]!;
      if (box.ignore) return record(); // no slot: only trueBoxes, hence the ignore mask
      const gx = (cx / spec.netW) * gw;
      const gy = (cy / spec.netH) * gh;
      const col = Math.min(gw - 1, Math.max(0, Math.floor(gx)));
      const row = Math.min(gh - 1, Math.max(0, Math.floor(gy)));
      const A = spec.anchors[best.s]!.length;
      const slot = ((b * gh + row) * gw + col) * A + best.a;
      const area = w * h;
      const prev = owner[best.s]![slot]!;
      if (prev > 0) {
        collisions++;
        if (area <= prev) return record();
        perScale[best.s]!--; // the previous owner loses the slot
      }
      owner[best.s]![slot] = area;
      const y = yTrue[best.s]!;
      const o = slot * D;
      y.fill(0, o, o + D);
      y[o] = gx;
      y[o + 1] = gy;
      y[o + 2] = Math.log(w / best.w);
      y[o + 3] = Math.log(h / best.h);
      y[o + 4] = 1;
      y[o + 5 + box.cls] = 1;
      perScale[best.s]!++;
      return record();

      function record(): void {
        const t = (b * maxBoxes + k) * 4;
        trueBoxes[t] = cx;
        trueBoxes[t + 1] = cy;
        trueBoxes[t + 2] = w;
        trueBoxes[t + 3] = h;
        ownerGrid[(b * maxBoxes + k) * 2] = gw;
        ownerGrid[(b * maxBoxes + k) * 2 + 1] = gh;
      }
    });
  });
  return { yTrue, shapes, trueBoxes, ownerGrid, maxBoxes, collisions, perScale };
}
