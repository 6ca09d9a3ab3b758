// IoU k-means for YOLO anchors (YOLOv2 paper, §"Dimension Clusters"): cluster box shapes
// (w, h) with distance 1 − IoU of the two boxes centred at the origin, so that large boxes
// do not dominate as they would with Euclidean distance. k-means++ seeding and several seeded
// restarts (keep the best mean IoU) make the result good and reproducible.
import { UserError } from '../errors.js';
import { whIou } from '../geometry/box.js';
import { mulberry32, type Rng } from '../util/rng.js';

export interface KmeansOptions {
  /** Number of anchors (default 9: three per scale of YOLOv3). */
  k?: number;
  /** Independent k-means++ runs; the one with the best mean IoU wins (default 10). */
  restarts?: number;
  /** Seed of the whole procedure (default 0). */
  seed?: number;
  /** Lloyd iterations per run at most (default 300). */
  maxIter?: number;
}

export interface KmeansResult {
  /** Anchor shapes [w, h] in the units of the input, sorted by area ascending. */
  anchors: [number, number][];
  /** Mean over boxes of the best origin-centred IoU with any anchor. */
  meanBestIou: number;
  /** How many boxes each anchor (same order) has the best IoU with. */
  counts: number[];
}

/** IoU k-means over box widths and heights; deterministic for a seed. Throws UserError on unusable input. */
export function kmeansAnchors(w: Float32Array, h: Float32Array, opts: KmeansOptions = {}): KmeansResult {
  const k = opts.k ?? 9;
  const restarts = opts.restarts ?? 10;
  const maxIter = opts.maxIter ?? 300;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new UserError(`anchors: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(restarts) || restarts < 1) throw new UserError(`anchors: restarts must be a positive integer, got ${restarts}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new UserError(`anchors: maxIter must be a positive integer, got ${maxIter}`);
  if (w.length !== h.length) throw new UserError(`anchors: ${w.length} widths but ${h.length} heights`);
  validateSizes(w, h);
  if (w.length < k) throw new UserError(`anchors: ${w.length} boxes are fewer than the ${k} anchors asked for`);

  const rng = mulberry32(seed);
  let best: { centres: Float64Array; meanIou: number } | null = null;
  for (let r = 0; r < restarts; r++) {
    const centres = lloyd(w, h, seedPlusPlus(w, h, k, rng), maxIter);
    const meanIou = assign(w, h, centres, new Int32Array(w.length));
    // Strictly better only: ties keep the earlier restart, so the result cannot depend on float noise order.
    if (best === null || meanIou > best.meanIou) best = { centres, meanIou };
  }
  return summarise(w, h, best!.centres);
}

/** Split anchors into `scales` equal groups by area, largest group first (YOLOv3 heads are coarse first). */
export function assignToScales(anchors: readonly (readonly [number, number])[], scales = 3): [number, number][][] {
  if (!Number.isInteger(scales) || scales < 1) throw new UserError(`anchors: scales must be a positive integer, got ${scales}`);
  if (anchors.length % scales !== 0) {
    throw new UserError(`anchors: ${anchors.length} anchors cannot be split evenly over ${scales} scales`);
  }
  const per = anchors.length / scales;
  const sorted = anchors.map((a) => [a[0], a[1]] as [number, number]).sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  const groups: [number, number][][] = [];
  for (let s = scales - 1; s >= 0; s--) groups.push(sorted.slice(s * per, (s + 1) * per));
  return groups;
}

function validateSizes(w: Float32Array, h: Float32Array): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < w.length; i++) {
    if (!(w[i] > 0 && h[i] > 0 && Number.isFinite(w[i]) && Number.isFinite(h[i]))) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new UserError(
      `anchors: ${bad} box(es) have a non-positive or non-finite size (first: box ${first}, w=${w[first]}, h=${h[first]}); drop empty boxes before clustering`,
    );
  }
}

// k-means++: each new centre is a box drawn with probability ∝ d², d = 1 − IoU to its nearest centre.
function seedPlusPlus(w: Float32Array, h: Float32Array, k: number, rng: Rng): Float64Array {
  const n = w.length;
  const c = new Float64Array(2 * k);
  const first = Math.floor(rng() * n);
  c[0] = w[first];
  c[1] = h[first];
  const d2 = new Float64Array(n);
  for (let i = 0; i < n; i++) d2[i] = (1 - whIou(w[i], h[i], c[0], c[1])) ** 2;
  for (let j = 1; j < k; j++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += d2[i];
    if (!(total > 0)) {
      throw new UserError(`anchors: the boxes have fewer than ${k} distinct shapes; ask for fewer anchors`);
    }
    let target = rng() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      target -= d2[i];
      if (target < 0) {
        pick = i;
        break;
      }
    }
    // Float rounding can land on a zero-weight box; step back to the last box with weight.
    while (d2[pick] === 0 && pick > 0) pick--;
    c[2 * j] = w[pick];
    c[2 * j + 1] = h[pick];
    for (let i = 0; i < n; i++) d2[i] = Math.min(d2[i], (1 - whIou(w[i], h[i], c[2 * j], c[2 * j + 1])) ** 2);
  }
  return c;
}

// Assigns each box to its best-IoU centre (ties → lower index); returns the mean best IoU.
function assign(w: Float32Array, h: Float32Array, c: Float64Array, owner: Int32Array): number {
  const k = c.length / 2;
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    let bi = 0;
    let bv = -1;
    for (let j = 0; j < k; j++) {
      const v = whIou(w[i], h[i], c[2 * j], c[2 * j + 1]);
      if (v > bv) {
        bv = v;
        bi = j;
      }
    }
    owner[i] = bi;
    sum += bv;
  }
  return sum / w.length;
}

// Lloyd iterations: centre = mean (w, h) of its boxes. An emptied cluster is re-seeded with the
// box worst served by the current centres, which always raises the mean IoU.
function lloyd(w: Float32Array, h: Float32Array, c: Float64Array, maxIter: number): Float64Array {
  const n = w.length;
  const k = c.length / 2;
  const owner = new Int32Array(n).fill(-1);
  const prev = new Int32Array(n);
  for (let it = 0; it < maxIter; it++) {
    prev.set(owner);
    assign(w, h, c, owner);
    if (it > 0 && owner.every((o, i) => o === prev[i])) break;
    const sw = new Float64Array(k);
    const sh = new Float64Array(k);
    const cnt = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      sw[owner[i]] += w[i];
      sh[owner[i]] += h[i];
      cnt[owner[i]]++;
    }
    for (let j = 0; j < k; j++) {
      if (cnt[j] > 0) {
        c[2 * j] = sw[j] / cnt[j];
        c[2 * j + 1] = sh[j] / cnt[j];
      } else {
        const worst = worstServed(w, h, c);
        c[2 * j] = w[worst];
        c[2 * j + 1] = h[worst];
      }
    }
  }
  return c;
}

function worstServed(w: Float32Array, h: Float32Array, c: Float64Array): number {
  const k = c.length / 2;
  let worst = 0;
  let worstIou = Infinity;
  for (let i = 0; i < w.length; i++) {
    let b = 0;
    for (let j = 0; j < k; j++) b = Math.max(b, whIou(w[i], h[i], c[2 * j], c[2 * j + 1]));
    if (b < worstIou) {
      worstIou = b;
      worst = i;
    }
  }
  return worst;
}

function summarise(w: Float32Array, h: Float32Array, c: Float64Array): KmeansResult {
  const k = c.length / 2;
  const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => c[2 * a] * c[2 * a + 1] - c[2 * b] * c[2 * b + 1] || a - b);
  const sorted = new Float64Array(2 * k);
  order.forEach((j, r) => {
    sorted[2 * r] = c[2 * j];
    sorted[2 * r + 1] = c[2 * j + 1];
  });
  const owner = new Int32Array(w.length);
  const meanBestIou = assign(w, h, sorted, owner);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < owner.length; i++) counts[owner[i]]++;
  const anchors: [number, number][] = [];
  for (let r = 0; r < k; r++) anchors.push([sorted[2 * r], sorted[2 * r + 1]]);
  return { anchors, meanBestIou, counts };
}
