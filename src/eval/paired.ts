// A paired comparison of two runs on the same evaluation images (`daqyolo compare`, issue 27): the
// figures of each run reduced to what a bootstrap needs, and the paired bootstrap itself.
//
// The bootstrap resamples the evaluation images with replacement; a resample is a multiplicity per
// image (how many times it was drawn), the same for both runs, and each figure is recomputed from
// those multiplicities with every score threshold held fixed. So that 1 000 resamples of 1 000
// images take seconds, nothing is matched or sorted again per resample:
// - efficiency: each interaction's best matched score per run (`scoreImage`'s `best`) decides
//   whether it is detected at a threshold, so a resample only adds up multiplicities per Eν bin;
// - mAP@0.5 (VOC all-point, the headline of `evaluate`): under VOC matching a detection's TP/FP
//   status depends only on its own image (truths are taken in score order inside the image), so
//   each class's detections are matched and ranked once; a resample walks that ranking with each
//   detection repeated as often as its image was drawn. With every multiplicity 1 the result is
//   `evaluateDetections(...).map50AllPoint` to the last bit (test/compare-stats.test.ts).
import { iouCoords } from '../geometry/box.js';
import type { Detection, MapImage } from '../infer/map.js';
import { mulberry32 } from '../util/rng.js';

/** Per-image multiplicities of a resample; null = the sample itself (every image once). */
export type Multiplicity = Int32Array | null;

/** The evaluation interactions inside the Eν range: their image, Eν bin and best matched score per run (−∞: never matched). */
export interface PairedInteractions {
  image: Int32Array;
  bin: Int32Array;
  bestA: Float64Array;
  bestB: Float64Array;
}

/** Flat (1–70 MeV) and supernova-spectrum-averaged efficiency of one run at one threshold. */
export interface EfficiencyPair {
  flat: number | null;
  supernova: number | null;
}

/**
 * Efficiency of one run at `threshold` over the interactions, each counted as often as its image
 * was drawn. The supernova average is Σ_b w_b ε_b / Σ_b w_b over the bins holding interactions,
 * as `spectrumAverage` (eval/efficiency.ts) computes it; `binWeights` are its `spectrumBinWeights`.
 */
export function efficiencyOf(
  it: Pick<PairedInteractions, 'image' | 'bin'>,
  best: Float64Array,
  threshold: number,
  binWeights: Float64Array,
  m: Multiplicity = null,
): EfficiencyPair {
  const nb = binWeights.length;
  const n = new Float64Array(nb);
  const k = new Float64Array(nb);
  for (let i = 0; i < best.length; i++) {
    const w = m ? m[it.image[i]!]! : 1;
    if (w === 0) continue;
    const b = it.bin[i]!;
    n[b] += w;
    if (best[i]! >= threshold) k[b] += w;
  }
  let nAll = 0;
  let kAll = 0;
  let sw = 0;
  let e = 0;
  for (let b = 0; b < nb; b++) {
    nAll += n[b]!;
    kAll += k[b]!;
    if (n[b] === 0) continue;
    sw += binWeights[b]!;
    e += binWeights[b]! * (k[b]! / n[b]!);
  }
  return { flat: nAll > 0 ? kAll / nAll : null, supernova: sw > 0 ? e / sw : null };
}

/**
 * The analytic standard error of a paired difference of two efficiencies over the same n
 * interactions (each one Bernoulli trial per run, interactions independent): with b interactions
 * detected by A only and c by B only, var(Δ) = (b + c − (b − c)²/n) / n².
 */
export function pairedBinomialStdErr(hitA: ArrayLike<boolean>, hitB: ArrayLike<boolean>): number {
  const n = hitA.length;
  let b = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    if (hitA[i] && !hitB[i]) b++;
    else if (!hitA[i] && hitB[i]) c++;
  }
  return n > 0 ? Math.sqrt(b + c - (b - c) ** 2 / n) / n : 0;
}

/** One class's detections over all images, ranked once (descending score; ties by image, then the image's own order). */
interface RankedClass {
  image: Int32Array;
  /** 1 = true positive, 0 = false positive, −1 = ignored (its best truth is difficult). */
  kind: Int8Array;
  /** Counted (not difficult) truths of the class in each image. */
  truthsPerImage: Int32Array;
}

/** Each run's detections matched and ranked once per class, for mAP@0.5 on any resample. */
export interface MapDigest {
  images: number;
  classes: RankedClass[];
}

// The canonical order inside an image (infer/map.ts): score, then the box's corners.
const byScoreThenBox = (a: Detection, b: Detection) => b.score - a.score || a.x1 - b.x1 || a.y1 - b.y1 || a.x2 - b.x2 || a.y2 - b.y2;

/** VOC devkit matching at IoU > 0.5 (infer/map.ts's definition), done once per image and class. */
export function mapDigest(images: readonly MapImage[]): MapDigest {
  const classSet = new Set<number>();
  for (const im of images) for (const t of im.truths) classSet.add(t.cls);
  const classes = [...classSet]
    .sort((a, b) => a - b)
    .map((cls) => {
      const entries: { score: number; image: number; order: number; kind: number }[] = [];
      const truthsPerImage = new Int32Array(images.length);
      images.forEach((im, image) => {
        const truths = im.truths.filter((t) => t.cls === cls);
        truthsPerImage[image] = truths.filter((t) => !t.difficult).length;
        const taken = new Uint8Array(truths.length);
        const dets = im.detections.filter((d) => d.cls === cls && d.score > 0).sort(byScoreThenBox);
        dets.forEach((d, order) => {
          let best = -1;
          let bestIou = -Infinity;
          truths.forEach((t, j) => {
            const v = iouCoords(d.x1, d.y1, d.x2, d.y2, t.box[0], t.box[1], t.box[2], t.box[3]);
            if (v > bestIou) {
              bestIou = v;
              best = j;
            }
          });
          let kind = 0;
          if (best >= 0 && bestIou > 0.5) {
            if (truths[best]!.difficult) kind = -1;
            else if (!taken[best]) {
              taken[best] = 1;
              kind = 1;
            }
          }
          entries.push({ score: d.score, image, order, kind });
        });
      });
      entries.sort((a, b) => b.score - a.score || a.image - b.image || a.order - b.order);
      return {
        image: Int32Array.from(entries, (e) => e.image),
        kind: Int8Array.from(entries, (e) => e.kind),
        truthsPerImage,
      };
    });
  return { images: images.length, classes };
}

/** mAP@0.5, VOC all-point, of a digest on a resample: the mean AP over the classes that have truths in it (null when none). */
export function mapOf(d: MapDigest, m: Multiplicity = null): number | null {
  let sum = 0;
  let count = 0;
  for (const c of d.classes) {
    let nTruth = 0;
    for (let i = 0; i < d.images; i++) nTruth += c.truthsPerImage[i]! * (m ? m[i]! : 1);
    if (nTruth === 0) continue;
    // Recall and precision after each ranked (not ignored) entry, an entry repeated once per draw of its image.
    let ranks = 0;
    for (let k = 0; k < c.kind.length; k++) if (c.kind[k] !== -1) ranks += m ? m[c.image[k]!]! : 1;
    const recall = new Float64Array(ranks);
    const precision = new Float64Array(ranks);
    let tp = 0;
    let fp = 0;
    let r = 0;
    for (let k = 0; k < c.kind.length; k++) {
      const kind = c.kind[k]!;
      if (kind === -1) continue;
      const w = m ? m[c.image[k]!]! : 1;
      for (let rep = 0; rep < w; rep++) {
        if (kind === 1) tp++;
        else fp++;
        recall[r] = tp / nTruth;
        precision[r] = tp / (tp + fp + 0);
        r++;
      }
    }
    // All-point AP: area under the monotone envelope, summed where recall steps (as averagePrecision).
    for (let i = ranks - 2; i >= 0; i--) precision[i] = Math.max(precision[i]!, precision[i + 1]!);
    let ap = 0;
    let prev = 0;
    for (let i = 0; i < ranks; i++) {
      if (recall[i]! > prev) {
        ap += (recall[i]! - prev) * precision[i]!;
        prev = recall[i]!;
      }
    }
    sum += ap;
    count++;
  }
  return count > 0 ? sum / count : null;
}

/** The multiplicities of one bootstrap resample: n draws of n images with replacement. */
export function drawResample(n: number, rng: () => number, out = new Int32Array(n)): Int32Array {
  out.fill(0);
  for (let i = 0; i < n; i++) out[Math.min(n - 1, Math.floor(rng() * n))]!++;
  return out;
}

/** What the bootstrap says about Δ = B − A of one figure. */
export interface DeltaBootstrap {
  /** Resamples on which both runs' figure was defined (a resample without e.g. any truth of a class leaves it undefined). */
  resamples: number;
  stdErr: number | null;
  stdErrA: number | null;
  stdErrB: number | null;
  /** Central 68 % and 95 % intervals of Δ over the resamples (percentiles, numpy's linear interpolation). */
  interval68: [number, number] | null;
  interval95: [number, number] | null;
}

/** A figure of both runs on a resample: [A, B], null where undefined. */
export type PairedStatistic = (m: Multiplicity) => [number | null, number | null];

/** Percentile q ∈ [0, 100] of sorted values, linear between closest ranks (numpy.percentile's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = ((n - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Sample standard deviation (n − 1), null below two values. */
function stdDev(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
}

/**
 * The paired bootstrap: `resamples` resamples of `images` evaluation images (mulberry32 seeded with
 * `seed`), every statistic evaluated on each with the same multiplicities for both runs.
 */
export function pairedBootstrap(images: number, statistics: readonly PairedStatistic[], o: { resamples: number; seed: number }): DeltaBootstrap[] {
  const rng = mulberry32(o.seed);
  const m = new Int32Array(images);
  const seen = statistics.map(() => ({ a: [] as number[], b: [] as number[], d: [] as number[] }));
  for (let r = 0; r < o.resamples && images > 0; r++) {
    drawResample(images, rng, m);
    statistics.forEach((stat, s) => {
      const [a, b] = stat(m);
      if (a === null || b === null) return;
      seen[s]!.a.push(a);
      seen[s]!.b.push(b);
      seen[s]!.d.push(b - a);
    });
  }
  return seen.map(({ a, b, d }) => {
    const sorted = Float64Array.from(d).sort();
    const interval = (cl: number): [number, number] | null =>
      sorted.length ? [percentile(sorted, (100 * (1 - cl)) / 2), percentile(sorted, (100 * (1 + cl)) / 2)] : null;
    return { resamples: d.length, stdErr: stdDev(d), stdErrA: stdDev(a), stdErrB: stdDev(b), interval68: interval(0.68), interval95: interval(0.95) };
  });
}
