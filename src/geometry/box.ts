// Box geometry shared by anchors, NMS and evaluation.
// Convention (whole project): a box is [x1, y1, x2, y2] in continuous image pixels,
// x along the channel/wire axis, y along the time-bin axis, x2 > x1 and y2 > y1.

/** A corner box [x1, y1, x2, y2] in image pixels. */
export type Box = readonly [number, number, number, number];

/** Area of a corner box; 0 for degenerate (inverted or empty) boxes. */
export function boxArea(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/** Intersection over union of two corner boxes; 0 when the union is empty. */
export function iou(a: Box, b: Box): number {
  return iouCoords(a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]);
}

/** IoU from eight scalars: the hot-path form the vectorised helpers share. */
export function iouCoords(ax1: number, ay1: number, ax2: number, ay2: number, bx1: number, by1: number, bx2: number, by2: number): number {
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = Math.max(0, ax2 - ax1) * Math.max(0, ay2 - ay1) + Math.max(0, bx2 - bx1) * Math.max(0, by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

/** IoU of boxes i and j of one packed N×4 array (rows x1,y1,x2,y2). */
export function iouPacked(boxes: ArrayLike<number>, i: number, j: number): number {
  const a = 4 * i;
  const b = 4 * j;
  return iouCoords(boxes[a], boxes[a + 1], boxes[a + 2], boxes[a + 3], boxes[b], boxes[b + 1], boxes[b + 2], boxes[b + 3]);
}

/** IoU of every box of packed `a` (N×4) with every box of packed `b` (M×4), row-major N×M. */
export function iouMatrix(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const n = a.length >> 2;
  const m = b.length >> 2;
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const p = 4 * i;
    for (let j = 0; j < m; j++) {
      const q = 4 * j;
      out[i * m + j] = iouCoords(a[p], a[p + 1], a[p + 2], a[p + 3], b[q], b[q + 1], b[q + 2], b[q + 3]);
    }
  }
  return out;
}

/** IoU of two boxes of sizes (w1,h1) and (w2,h2) both centred at the origin: the anchor similarity. */
export function whIou(w1: number, h1: number, w2: number, h2: number): number {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  const union = w1 * h1 + w2 * h2 - inter;
  return union > 0 ? inter / union : 0;
}

/** Origin-centred IoU of every (w[i], h[i]) with every anchor, row-major N×K. */
export function whIouMatrix(w: ArrayLike<number>, h: ArrayLike<number>, anchors: readonly (readonly [number, number])[]): Float32Array {
  const n = w.length;
  const k = anchors.length;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) out[i * k + j] = whIou(w[i], h[i], anchors[j][0], anchors[j][1]);
  }
  return out;
}

/** True when the point (x, y) lies inside the box (edges included). */
export function containsPoint(b: Box, x: number, y: number): boolean {
  return x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
}
