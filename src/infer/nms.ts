// Greedy non-maximum suppression on plain typed arrays (no tensors): decoding produces a few
// thousand candidate boxes per image, and this runs per image after it.
import { UserError } from '../errors.js';
import { iouPacked } from '../geometry/box.js';
import type { Detection } from './map.js';

/** Candidate detections of one image: N boxes packed x1,y1,x2,y2 (pixels), N scores, N class ids. */
export interface DetectionSet {
  boxes: Float32Array;
  scores: Float32Array;
  classes: Int32Array;
}

/** The NMS IoU threshold of every detection daqyolo reports (decode, predict, evaluate). */
export const DEFAULT_NMS_IOU = 0.45;

export interface NmsOptions {
  /** A box is suppressed by a kept box of its class whose IoU with it is strictly greater (default 0.45). */
  iouThreshold?: number;
  /** Candidates with score below this are dropped before NMS (default 0; NaN scores are always dropped). */
  scoreThreshold?: number;
  /** Keep at most this many boxes per image (default 100). */
  maxDetections?: number;
  /** Suppress only within a class (default true); false suppresses across classes. */
  classAware?: boolean;
}

/** Indices of the boxes kept by greedy NMS, highest score first (ties: lower index first). */
export function nms(set: DetectionSet, opts: NmsOptions = {}): Int32Array {
  const iouThreshold = opts.iouThreshold ?? DEFAULT_NMS_IOU;
  const scoreThreshold = opts.scoreThreshold ?? 0;
  const maxDetections = opts.maxDetections ?? 100;
  const classAware = opts.classAware ?? true;
  const { boxes, scores, classes } = set;
  const n = scores.length;
  if (boxes.length !== 4 * n || classes.length !== n) {
    throw new UserError(`nms: ${boxes.length / 4} boxes, ${n} scores and ${classes.length} classes must agree`);
  }
  // Sort the surviving candidates once; every candidate is then compared with at most K kept boxes.
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (scores[i] >= scoreThreshold) order.push(i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxDetections) break;
    let suppressed = false;
    for (const j of kept) {
      if (classAware && classes[i] !== classes[j]) continue;
      if (iouPacked(boxes, i, j) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(i);
  }
  return Int32Array.from(kept);
}

/** NMS over a batch of images with the same options; one index array per image. */
export function nmsBatch(sets: readonly DetectionSet[], opts: NmsOptions = {}): Int32Array[] {
  return sets.map((s) => nms(s, opts));
}

/** The subset of a DetectionSet at the given indices, in that order. */
export function selectDetections(set: DetectionSet, idx: ArrayLike<number>): DetectionSet {
  const m = idx.length;
  const out: DetectionSet = { boxes: new Float32Array(4 * m), scores: new Float32Array(m), classes: new Int32Array(m) };
  for (let r = 0; r < m; r++) {
    const i = idx[r];
    out.boxes.set(set.boxes.subarray(4 * i, 4 * i + 4), 4 * r);
    out.scores[r] = set.scores[i];
    out.classes[r] = set.classes[i];
  }
  return out;
}

/** Detections at the given indices (e.g. NMS output) as the objects the mAP and trigger metrics take. */
export function toDetections(set: DetectionSet, idx: ArrayLike<number>): Detection[] {
  return Array.from(idx, (i) => ({
    x1: set.boxes[4 * i],
    y1: set.boxes[4 * i + 1],
    x2: set.boxes[4 * i + 2],
    y2: set.boxes[4 * i + 3],
    score: set.scores[i],
    cls: set.classes[i],
  }));
}
