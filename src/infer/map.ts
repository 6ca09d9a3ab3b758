// Detection metrics: average precision per class and its means, in the VOC and COCO flavours.
// Each flavour keeps its own reference's matching, because the two give different AP:
// - VOC (Pascal devkit, VOCevaldet / voc_eval.py): detections of a class by descending score over
//   all images, no per-image cap; each goes to the truth box of highest IoU overall; IoU > 0.5
//   strictly; if that truth is taken the detection is a false positive (even when another truth
//   would fit); a detection whose best truth is `difficult` counts neither way, and difficult
//   truths are not in the recall's denominator. 11-point AP at numpy's arange(0, 1.1, 0.1).
// - COCO (pycocotools COCOeval.evaluateImg/accumulate): per image at most 100 detections per class,
//   each takes the unmatched truth of highest IoU ≥ threshold (counted truths before ignored
//   ones), precision sampled at numpy's linspace(0, 1, 101) recall points, IoU thresholds
//   linspace(0.5, 0.95, 10), both as numpy stores them (0.35000000000000003, 0.8999999999999999).
// Boxes are continuous with exclusive x2/y2; the devkit's "+1" on inclusive integer pixels is the
// same IoU once VOC's 1-based inclusive coordinates are imported as [xmin − 1, xmax).
import { boxArea, iouCoords, type Box } from '../geometry/box.js';
import type { ClassAp, MapReport, PrCurve } from '../schema/evaluation.js';

export type { ClassAp, MapReport, PrCurve };

/** One detection in image pixels with its score and class id. */
export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  cls: number;
}
/** One truth box with its class id; `difficult` (VOC) truths are neither required nor penalised. */
export interface TruthBox {
  box: Box;
  cls: number;
  difficult?: boolean;
}
/** Detections and truths of one image. */
export interface MapImage {
  detections: readonly Detection[];
  truths: readonly TruthBox[];
}

export type ApMethod = 'voc11' | 'allpoint' | 'coco101';

export interface MapOptions {
  /** COCO figures: detections kept per image and class, highest scores first (default 100, as COCO). */
  maxDetectionsPerImage?: number;
  /** Small/medium area limits in pixels² (default COCO's 32² and 96²). */
  areaLimits?: readonly [number, number];
}

/** numpy.linspace(start, stop, num) value for value: start + i·((stop − start)/(num − 1)), the last exactly stop. */
export function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : start + i * step));
}

/** COCO's ten IoU thresholds, np.linspace(.5, 0.95, 10) as pycocotools builds them. */
export const COCO_IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
/** COCO's 101 recall points, np.linspace(.0, 1.00, 101). */
export const COCO_RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, 101);
/** The devkit's 11 recall points, np.arange(0., 1.1, 0.1) = i·0.1 (0.30000000000000004, …). */
export const VOC11_RECALL_THRESHOLDS: readonly number[] = Array.from({ length: 11 }, (_, i) => i * 0.1);

/** AP of one ranked list: recall/precision after each detection in descending-score order. */
export function averagePrecision(recall: ArrayLike<number>, precision: ArrayLike<number>, method: ApMethod): number {
  const n = recall.length;
  if (method === 'voc11') {
    // VOC2007: mean over the 11 points r of the best precision at recall ≥ r (0 where none).
    let s = 0;
    for (const t of VOC11_RECALL_THRESHOLDS) {
      let p = 0;
      for (let i = 0; i < n; i++) if (recall[i] >= t) p = Math.max(p, precision[i]);
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
      if (recall[i] > prev) {
        s += (recall[i] - prev) * env[i];
        prev = recall[i];
      }
    }
    return s;
  }
  // COCO: envelope at the first rank whose recall reaches r (searchsorted 'left'), 0 beyond the last.
  let s = 0;
  let i = 0;
  for (const r of COCO_RECALL_THRESHOLDS) {
    while (i < n && recall[i] < r) i++;
    if (i < n) s += env[i];
  }
  return s / COCO_RECALL_THRESHOLDS.length;
}

/** One class in one image: its detections (canonical order), truths, and their IoU matrix. */
interface ClassImage {
  dets: Detection[];
  gts: Box[];
  difficult: boolean[];
  iou: Float64Array; // dets × gts
  gtArea: Float64Array;
}

interface Ranked {
  score: number;
  tp: boolean;
  ignored: boolean;
}

/** Every metric of the report above, for all classes seen in the truths or detections. */
export function evaluateDetections(images: readonly MapImage[], opts: MapOptions = {}): MapReport {
  const maxDets = opts.maxDetectionsPerImage ?? 100;
  const [aSmall, aLarge] = opts.areaLimits ?? [32 * 32, 96 * 96];
  const ranges: Record<'all' | 'small' | 'medium' | 'large', [number, number]> = {
    all: [0, Infinity],
    small: [0, aSmall],
    medium: [aSmall, aLarge],
    large: [aLarge, Infinity],
  };
  const classSet = new Set<number>();
  for (const im of images) {
    for (const t of im.truths) classSet.add(t.cls);
    for (const d of im.detections) if (d.score > 0) classSet.add(d.cls);
  }
  const perClass: ClassAp[] = [...classSet]
    .sort((a, b) => a - b)
    .map((cls) => {
      const all = images.map((im) => prepare(im, cls, Infinity));
      const capped = all.map((c) => capDetections(c, maxDets));
      const voc = vocCurve(all);
      const cocoOrder = globalOrder(capped);
      const coco = (thr: number, range: [number, number]) => {
        const c = cocoCurve(capped, cocoOrder, thr, range);
        return c.nTruth === 0 ? null : averagePrecision(c.recall, c.precision, 'coco101');
      };
      const cocoOver = (range: [number, number]) => meanOrNull(COCO_IOU_THRESHOLDS.map((t) => coco(t, range)));
      const has = voc.nTruth > 0;
      return {
        cls,
        nTruth: voc.nTruth,
        nDifficult: all.reduce((s, c) => s + c.difficult.filter(Boolean).length, 0),
        nDetections: all.reduce((s, c) => s + c.dets.length, 0),
        ap50Voc11: has ? averagePrecision(voc.recall, voc.precision, 'voc11') : null,
        ap50AllPoint: has ? averagePrecision(voc.recall, voc.precision, 'allpoint') : null,
        ap50: coco(0.5, ranges.all),
        ap75: coco(0.75, ranges.all),
        apCoco: cocoOver(ranges.all),
        apSmall: cocoOver(ranges.small),
        apMedium: cocoOver(ranges.medium),
        apLarge: cocoOver(ranges.large),
        pr: { recall: voc.recall, precision: voc.precision, score: voc.score },
      };
    });
  const mean = (f: (c: ClassAp) => number | null) => meanOrNull(perClass.map(f));
  return {
    definitions: {
      vocMatching:
        'VOC devkit: per class, detections by descending score over all images (no cap) each go to the truth of highest IoU; IoU > 0.5 and that truth not yet taken → TP, taken → FP; a detection whose best truth is difficult counts neither way; difficult truths are not counted in recall',
      cocoMatching:
        'pycocotools: per image and class the best-scoring maxDetectionsPerImage detections each take the unmatched truth of highest IoU ≥ threshold; difficult truths and truths outside the size range are ignored (matchable, neither TP nor FN)',
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
  const dets = im.detections
    .filter((d) => d.cls === cls && d.score > 0)
    .sort(byScoreThenBox)
    .slice(0, maxDets);
  const truths = im.truths.filter((t) => t.cls === cls);
  const gts = truths.map((t) => t.box);
  const iou = new Float64Array(dets.length * gts.length);
  dets.forEach((d, i) =>
    gts.forEach((g, j) => {
      iou[i * gts.length + j] = iouCoords(d.x1, d.y1, d.x2, d.y2, g[0], g[1], g[2], g[3]);
    }),
  );
  return { dets, gts, difficult: truths.map((t) => t.difficult === true), iou, gtArea: Float64Array.from(gts, (g) => boxArea(g)) };
}

/** The first `maxDets` detections of an image (they are in descending-score order); the IoU rows follow. */
function capDetections(c: ClassImage, maxDets: number): ClassImage {
  if (c.dets.length <= maxDets) return c;
  return { ...c, dets: c.dets.slice(0, maxDets), iou: c.iou.subarray(0, maxDets * c.gts.length) };
}

/** Recall and precision after each ranked entry that is not ignored. */
function curveOf(ranked: readonly Ranked[], order: ArrayLike<number>, nTruth: number, eps: number): PrCurve {
  const recall: number[] = [];
  const precision: number[] = [];
  const score: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const r = ranked[order[k]!]!;
    if (r.ignored) continue;
    if (r.tp) tp++;
    else fp++;
    recall.push(nTruth > 0 ? tp / nTruth : 0);
    precision.push(tp / (tp + fp + eps));
    score.push(r.score);
  }
  return { recall, precision, score };
}

/** VOC devkit matching at IoU > 0.5 over every detection of the class. */
function vocCurve(ci: readonly ClassImage[]): PrCurve & { nTruth: number } {
  const order = globalOrder(ci);
  const owner: { image: number; det: number }[] = [];
  ci.forEach((c, image) => c.dets.forEach((_, det) => owner.push({ image, det })));
  const taken = ci.map((c) => new Uint8Array(c.gts.length));
  const ranked: Ranked[] = new Array(owner.length);
  for (const k of order) {
    const { image, det } = owner[k]!;
    const c = ci[image]!;
    const ng = c.gts.length;
    let best = -1;
    let bestIou = -Infinity;
    for (let j = 0; j < ng; j++) {
      const v = c.iou[det * ng + j]!;
      if (v > bestIou) {
        bestIou = v;
        best = j;
      } // first of equal maxima, as numpy's argmax
    }
    const score = c.dets[det]!.score;
    if (best >= 0 && bestIou > 0.5) {
      if (c.difficult[best]) ranked[k] = { score, tp: false, ignored: true };
      else if (!taken[image]![best]) {
        taken[image]![best] = 1;
        ranked[k] = { score, tp: true, ignored: false };
      } else ranked[k] = { score, tp: false, ignored: false };
    } else ranked[k] = { score, tp: false, ignored: false };
  }
  const nTruth = ci.reduce((s, c) => s + c.difficult.filter((d) => !d).length, 0);
  return { ...curveOf(ranked, order, nTruth, 0), nTruth };
}

// COCO area rule: truths outside the range (and difficult ones) are "ignored": matchable, but
// neither TP nor FN; a detection matched to one is ignored, and so is an unmatched detection
// outside the range.
function cocoMatchImage(c: ClassImage, thr: number, range: [number, number], out: Ranked[]): number {
  const ng = c.gts.length;
  const gIgnored = Array.from(c.gtArea, (a, j) => c.difficult[j] || a < range[0] || a > range[1]);
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

function cocoCurve(ci: readonly ClassImage[], order: Int32Array, thr: number, range: [number, number]): PrCurve & { nTruth: number } {
  // `ranked` holds every image's detections back to back: the layout `order` indexes.
  const ranked: Ranked[] = [];
  let nTruth = 0;
  for (const c of ci) nTruth += cocoMatchImage(c, thr, range, ranked);
  // pycocotools: precision = tp / (tp + fp + np.spacing(1)).
  return { ...curveOf(ranked, order, nTruth, Number.EPSILON), nTruth };
}

// The global ranking does not depend on the IoU threshold or size range: sort once per class.
// Stable: equal scores keep image order (and the canonical order within an image).
function globalOrder(ci: readonly ClassImage[]): Int32Array {
  const scores = ci.flatMap((c) => c.dets.map((d) => d.score));
  const order = Int32Array.from(scores, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}
