// Detection metrics: average precision per class and its means, in the VOC and COCO flavours.
// One matching routine serves all of them (COCO's evaluateImg logic): detections of a class are
// taken by descending score, each takes the unmatched truth with the highest IoU ≥ threshold,
// each truth is matched at most once, so duplicates are false positives.
import { boxArea, iouCoords, type Box } from '../geometry/box.js';

/** One detection in image pixels with its score and class id. */
export interface Detection { x1: number; y1: number; x2: number; y2: number; score: number; cls: number }
/** One truth box with its class id. */
export interface TruthBox { box: Box; cls: number }
/** Detections and truths of one image. */
export interface MapImage { detections: readonly Detection[]; truths: readonly TruthBox[] }

export type ApMethod = 'voc11' | 'allpoint' | 'coco101';

export interface MapOptions {
  /** Detections kept per image and class, highest scores first (default 100, as COCO). */
  maxDetectionsPerImage?: number;
  /** Small/medium area limits in pixels² (default COCO's 32² and 96²). */
  areaLimits?: readonly [number, number];
}

/** Precision–recall points of one class at IoU 0.5, in descending-score order. */
export interface PrCurve { recall: number[]; precision: number[]; score: number[] }

export interface ClassAp {
  cls: number;
  nTruth: number;
  nDetections: number;
  /** null when the class has no truth boxes (AP is undefined then, and left out of the means). */
  ap50Voc11: number | null;
  ap50AllPoint: number | null;
  ap50: number | null;
  ap75: number | null;
  apCoco: number | null;
  apSmall: number | null;
  apMedium: number | null;
  apLarge: number | null;
  pr: PrCurve;
}

export interface MapReport {
  definitions: {
    matching: string;
    scoreRule: string;
    maxDetectionsPerImage: number;
    cocoIouThresholds: number[];
    areaRangesPx2: { small: [number, number]; medium: [number, number]; large: [number, number | null] };
  };
  perClass: ClassAp[];
  /** Means over classes that have truth boxes; null when none has. */
  map50Voc11: number | null;
  map50AllPoint: number | null;
  ap50: number | null;
  ap75: number | null;
  mapCoco: number | null;
  apSmall: number | null;
  apMedium: number | null;
  apLarge: number | null;
}

/** COCO's ten IoU thresholds 0.50:0.05:0.95. */
export const COCO_IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) => (50 + 5 * i) / 100);

/** AP of one ranked list: recall/precision after each detection in descending-score order. */
export function averagePrecision(recall: ArrayLike<number>, precision: ArrayLike<number>, method: ApMethod): number {
  const n = recall.length;
  if (method === 'voc11') {
    // VOC2007: mean over r ∈ {0, 0.1, …, 1} of the best precision at recall ≥ r.
    let s = 0;
    for (let t = 0; t <= 10; t++) {
      let p = 0;
      for (let i = 0; i < n; i++) if (recall[i] >= t / 10) p = Math.max(p, precision[i]);
      s += p;
    }
    return s / 11;
  }
  // Monotone envelope: precision at rank i becomes the best precision at any later rank.
  const env = Float64Array.from(precision as ArrayLike<number>);
  for (let i = n - 2; i >= 0; i--) env[i] = Math.max(env[i], env[i + 1]);
  if (method === 'allpoint') {
    // VOC2010+: exact area under the envelope, summed where recall steps.
    let s = 0;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      if (recall[i] > prev) { s += (recall[i] - prev) * env[i]; prev = recall[i]; }
    }
    return s;
  }
  // COCO: envelope sampled at r ∈ {0, 0.01, …, 1} (first rank reaching r), 0 beyond the last recall.
  let s = 0;
  let i = 0;
  for (let t = 0; t <= 100; t++) {
    const r = t / 100;
    while (i < n && recall[i] < r) i++;
    if (i < n) s += env[i];
  }
  return s / 101;
}

interface ClassImage {
  dets: Detection[];
  gts: Box[];
  iou: Float64Array; // dets × gts
  gtArea: Float64Array;
}

interface Ranked { score: number; tp: boolean; ignored: boolean }

/** Every metric of the report above, for all classes seen in the truths or detections. */
export function evaluateDetections(images: readonly MapImage[], opts: MapOptions = {}): MapReport {
  const maxDets = opts.maxDetectionsPerImage ?? 100;
  const [aSmall, aLarge] = opts.areaLimits ?? [32 * 32, 96 * 96];
  const ranges: Record<'all' | 'small' | 'medium' | 'large', [number, number]> = {
    all: [0, Infinity], small: [0, aSmall], medium: [aSmall, aLarge], large: [aLarge, Infinity],
  };
  const classSet = new Set<number>();
  for (const im of images) {
    for (const t of im.truths) classSet.add(t.cls);
    for (const d of im.detections) if (d.score > 0) classSet.add(d.cls);
  }
  const perClass: ClassAp[] = [...classSet].sort((a, b) => a - b).map((cls) => {
    const ci = images.map((im) => prepare(im, cls, maxDets));
    const nTruth = ci.reduce((s, c) => s + c.gts.length, 0);
    const nDetections = ci.reduce((s, c) => s + c.dets.length, 0);
    const order = globalOrder(ci);
    const curve = (thr: number, range: [number, number]) => rankedCurve(ci, order, thr, range);
    const ap = (thr: number, range: [number, number], method: ApMethod) => {
      const c = curve(thr, range);
      return c.nTruth === 0 ? null : averagePrecision(c.recall, c.precision, method);
    };
    const cocoOver = (range: [number, number]) => meanOrNull(COCO_IOU_THRESHOLDS.map((t) => ap(t, range, 'coco101')));
    const c50 = curve(0.5, ranges.all);
    const has = nTruth > 0;
    return {
      cls, nTruth, nDetections,
      ap50Voc11: has ? averagePrecision(c50.recall, c50.precision, 'voc11') : null,
      ap50AllPoint: has ? averagePrecision(c50.recall, c50.precision, 'allpoint') : null,
      ap50: has ? averagePrecision(c50.recall, c50.precision, 'coco101') : null,
      ap75: ap(0.75, ranges.all, 'coco101'),
      apCoco: cocoOver(ranges.all),
      apSmall: cocoOver(ranges.small),
      apMedium: cocoOver(ranges.medium),
      apLarge: cocoOver(ranges.large),
      pr: { recall: c50.recall, precision: c50.precision, score: c50.score },
    };
  });
  const mean = (f: (c: ClassAp) => number | null) => meanOrNull(perClass.map(f));
  return {
    definitions: {
      matching: 'per class, detections by descending score each take the unmatched truth of highest IoU ≥ threshold; a truth is matched at most once, so duplicates are false positives',
      scoreRule: 'detections with score ≤ 0 are ignored; ties in score are broken by image order, then box coordinates',
      maxDetectionsPerImage: maxDets,
      cocoIouThresholds: [...COCO_IOU_THRESHOLDS],
      areaRangesPx2: { small: [0, aSmall], medium: [aSmall, aLarge], large: [aLarge, null] },
    },
    perClass,
    map50Voc11: mean((c) => c.ap50Voc11),
    map50AllPoint: mean((c) => c.ap50AllPoint),
    ap50: mean((c) => c.ap50),
    ap75: mean((c) => c.ap75),
    mapCoco: mean((c) => c.apCoco),
    apSmall: mean((c) => c.apSmall),
    apMedium: mean((c) => c.apMedium),
    apLarge: mean((c) => c.apLarge),
  };
}

function meanOrNull(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

// Canonical order inside an image, so that the input order of detections can never matter.
function byScoreThenBox(a: Detection, b: Detection): number {
  return b.score - a.score || a.x1 - b.x1 || a.y1 - b.y1 || a.x2 - b.x2 || a.y2 - b.y2;
}

function prepare(im: MapImage, cls: number, maxDets: number): ClassImage {
  const dets = im.detections.filter((d) => d.cls === cls && d.score > 0).sort(byScoreThenBox).slice(0, maxDets);
  const gts = im.truths.filter((t) => t.cls === cls).map((t) => t.box);
  const iou = new Float64Array(dets.length * gts.length);
  dets.forEach((d, i) => gts.forEach((g, j) => {
    iou[i * gts.length + j] = iouCoords(d.x1, d.y1, d.x2, d.y2, g[0], g[1], g[2], g[3]);
  }));
  return { dets, gts, iou, gtArea: Float64Array.from(gts, (g) => boxArea(g)) };
}

// COCO area rule: truths outside the range are "ignored" (matchable, but neither TP nor FN);
// a detection matched to one is ignored, and so is an unmatched detection outside the range.
function matchImage(c: ClassImage, thr: number, range: [number, number], out: Ranked[]): number {
  const ng = c.gts.length;
  const gIgnored = Array.from(c.gtArea, (a) => a < range[0] || a > range[1]);
  // Non-ignored truths first, as COCO sorts them, so that a match to a counted truth is preferred.
  const gOrder = Array.from({ length: ng }, (_, j) => j).sort((a, b) => Number(gIgnored[a]) - Number(gIgnored[b]) || a - b);
  const matched = new Uint8Array(ng);
  c.dets.forEach((d, i) => {
    let best = -1;
    let bestIou = Math.min(thr, 1 - 1e-10);
    for (const j of gOrder) {
      if (matched[j]) continue;
      if (best >= 0 && !gIgnored[best] && gIgnored[j]) break;
      const v = c.iou[i * ng + j];
      if (v < bestIou) continue;
      bestIou = v;
      best = j;
    }
    if (best >= 0) {
      matched[best] = 1;
      out.push({ score: d.score, tp: !gIgnored[best], ignored: gIgnored[best] });
    } else {
      const a = (d.x2 - d.x1) * (d.y2 - d.y1);
      out.push({ score: d.score, tp: false, ignored: a < range[0] || a > range[1] });
    }
  });
  return gIgnored.filter((x) => !x).length;
}

function rankedCurve(ci: readonly ClassImage[], order: Int32Array, thr: number, range: [number, number]): PrCurve & { nTruth: number } {
  // `ranked` holds every image's detections back to back: the layout `order` indexes.
  const ranked: Ranked[] = [];
  let nTruth = 0;
  for (const c of ci) nTruth += matchImage(c, thr, range, ranked);
  const recall: number[] = [];
  const precision: number[] = [];
  const score: number[] = [];
  let tp = 0;
  let fp = 0;
  for (const i of order) {
    const r = ranked[i];
    if (r.ignored) continue;
    if (r.tp) tp++; else fp++;
    recall.push(nTruth > 0 ? tp / nTruth : 0);
    precision.push(tp / (tp + fp));
    score.push(r.score);
  }
  return { recall, precision, score, nTruth };
}

// The global ranking does not depend on the IoU threshold or size range: sort once per class.
// Stable: equal scores keep image order (and the canonical order within an image).
function globalOrder(ci: readonly ClassImage[]): Int32Array {
  const scores = ci.flatMap((c) => c.dets.map((d) => d.score));
  const order = Int32Array.from(scores, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}
