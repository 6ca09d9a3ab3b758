// The trigger figure of merit (PHYSICS.md): neutrino detection efficiency versus Eν at a
// false-positive rate in Hz per far-detector module, obtained by scanning the score threshold.
//
// The matching here is deliberately not one-to-one (unlike mAP): an interaction is detected if
// ANY detection above threshold matches it, and a detection is a false positive only if it
// matches NO interaction. A trigger fires on the first, and a second box on a real neutrino is
// not a false trigger. Detection classes are ignored: any box is a trigger candidate.
//
// The default rule is the one of DUNE's TDR-era clustering studies (duneana
// DAQQuickClustering_module.cc; plasorak/Clustering TDRPlots/EfficiencyPlotMarley.hh): a
// candidate detects an interaction when it holds ≥ 2 of that interaction's TPs, the TP's owner
// (the simulator's truth) deciding which interaction a TP belongs to. It judges a network box
// and a baseline cluster by the same thing — did the trigger fire on the interaction's charge —
// where a box rule (IoU, centre) favours whichever candidate is shaped like the truth box.
import { containsPoint, iouCoords, type Box } from '../geometry/box.js';
import type { Detection } from '../infer/map.js';
import { ccSpectrumDensity, DEFAULT_CC_SPECTRUM } from '../sim/spectrum.js';
import { binomialStdErr, clopperPearson, ONE_SIGMA_CL, poissonInterval, wilsonInterval } from './intervals.js';

import type {
  BinomialSummary,
  EfficiencyTable,
  EnergyBin,
  FpSummary,
  MatchRule,
  OperatingPoint,
  ScanPoint,
  SpectrumAverage,
  SpectrumOptions,
  TriggerOptions,
  TriggerReport,
} from '../schema/evaluation.js';

export type { Detection } from '../infer/map.js';
export type {
  BinomialSummary,
  EfficiencyTable,
  EnergyBin,
  FpSummary,
  MatchRule,
  OperatingPoint,
  ScanPoint,
  SpectrumAverage,
  SpectrumOptions,
  TriggerOptions,
  TriggerReport,
};

/** One simulated neutrino interaction: true energy and its truth box, null when it left nothing visible. */
export interface Interaction {
  energyMeV: number;
  box: [number, number, number, number] | null;
}

/** The TPs of one image, for the TP rule: pixel column and row of each TP and its owner (≥ 0: the
 *  index of the interaction in the image's list; < 0: a background source or noise). */
export interface ImageTps {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  owner: ArrayLike<number>;
}

/** A trigger candidate: a box with a score, and for a cluster the indices (into the image's TPs)
 *  of the TPs it holds. Without `tps`, the TP rule counts the TPs whose pixel centre lies inside the box. */
export interface TriggerDetection extends Detection {
  tps?: ArrayLike<number>;
}

/** Detections and simulated interactions of one image (a background-only image has no interactions).
 *  `tps` is needed by the TP rule on images that have interactions. */
export interface TriggerImage {
  detections: readonly TriggerDetection[];
  interactions: readonly Interaction[];
  tps?: ImageTps;
}

/** Default Eν edges: 1–70 MeV in 5 MeV steps; the last bin, 66–70, is 4 MeV wide. */
export const DEFAULT_ENERGY_EDGES_MEV: readonly number[] = [1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 51, 56, 61, 66, 70];

/** The rules, default first (CLI choices). */
export const MATCH_RULES: readonly MatchRule[] = ['tps', 'iou', 'centre'];
export const DEFAULT_MATCH: MatchRule = 'tps';
/** TPs of one interaction a candidate must hold under the TP rule (the TDR-era studies' 2). */
export const DEFAULT_MIN_TPS = 2;

/** The matching rule in words, as stated in every report. */
export function matchRuleText(opts: TriggerOptions = {}): string {
  const rule = opts.match ?? DEFAULT_MATCH;
  if (rule === 'tps') {
    return `≥ ${opts.minTps ?? DEFAULT_MIN_TPS} of the interaction's TPs in the candidate (a box holds the TPs whose pixel centre lies inside it, a cluster its own TPs; TP owner from the simulation's truth)`;
  }
  return rule === 'centre' ? 'detection centre inside the interaction truth box' : `IoU ≥ ${opts.minIou ?? 0.1} with the interaction truth box`;
}

/** The rule a trigger report used (older reports: IoU unless their text says centre). */
export function ruleOf(t: TriggerReport): MatchRule {
  return t.match ?? (t.matchRule.startsWith('detection centre') ? 'centre' : 'iou');
}

/** The report of a given rule among a main report and its other rules, or null. */
export function byRule(main: TriggerReport, others: readonly TriggerReport[] | undefined, rule: MatchRule): TriggerReport | null {
  return [main, ...(others ?? [])].find((t) => ruleOf(t) === rule) ?? null;
}

/** Short name of a rule for tables and plot legends. */
export function matchRuleShort(rule: MatchRule): string {
  return rule === 'tps' ? '≥ 2 TPs' : rule === 'centre' ? 'centre' : 'IoU ≥ 0.1';
}

/** Does a detection match a truth box under a box rule (IoU or centre)? */
export function detectionMatches(d: Detection, box: Box, opts: TriggerOptions = {}): boolean {
  if ((opts.match ?? DEFAULT_MATCH) === 'centre') return containsPoint(box, (d.x1 + d.x2) / 2, (d.y1 + d.y2) / 2);
  return iouCoords(d.x1, d.y1, d.x2, d.y2, box[0], box[1], box[2], box[3]) >= (opts.minIou ?? 0.1);
}

/** How many TPs of each interaction a candidate holds (index = interaction). `signalTps` lists the
 *  image's TPs that belong to an interaction (owner ≥ 0), for boxes. */
export function tpsHeld(d: TriggerDetection, tps: ImageTps, nInteractions: number, signalTps: readonly number[]): Int32Array {
  const counts = new Int32Array(nInteractions);
  if (d.tps) {
    for (let k = 0; k < d.tps.length; k++) {
      const o = tps.owner[d.tps[k]];
      if (o >= 0 && o < nInteractions) counts[o]++;
    }
    return counts;
  }
  for (const i of signalTps) {
    const cx = tps.x[i] + 0.5;
    const cy = tps.y[i] + 0.5;
    const o = tps.owner[i];
    if (cx >= d.x1 && cx <= d.x2 && cy >= d.y1 && cy <= d.y2 && o < nInteractions) counts[o]++;
  }
  return counts;
}

/** APA faces of a 10 kt FD-HD module that see drift charge (PHYSICS.md). */
export const DEFAULT_FACES = 200;

/** Hz per module for one false positive per image: faces / (window ticks × tick seconds). */
export function hzPerFpPerImage(opts: TriggerOptions = {}): number {
  return (opts.faces ?? DEFAULT_FACES) / ((opts.windowTicks ?? 4492) * (opts.tickSeconds ?? 0.5e-6));
}

/** FP per image → Hz per far-detector module. */
export function fpPerImageToHz(fpPerImage: number, opts: TriggerOptions = {}): number {
  return fpPerImage * hzPerFpPerImage(opts);
}

/** Threshold-free digest of one image: the best matching score of each interaction (−∞ if none) and the FP scores. */
export interface ScoredImage {
  best: Float64Array;
  fpScores: number[];
}

/** Matches every detection against every interaction of an image once; thresholds are applied later. */
export function scoreImage(image: TriggerImage, opts: TriggerOptions = {}): ScoredImage {
  const best = new Float64Array(image.interactions.length).fill(-Infinity);
  const fpScores: number[] = [];
  const rule = opts.match ?? DEFAULT_MATCH;
  const n = image.interactions.length;
  if (rule === 'tps' && n > 0) {
    const tps = image.tps;
    if (!tps) throw new Error('the TP matching rule needs the TPs (pixel and owner) of every image with interactions');
    const minTps = opts.minTps ?? DEFAULT_MIN_TPS;
    const signalTps: number[] = [];
    for (let i = 0; i < tps.owner.length; i++) if (tps.owner[i] >= 0) signalTps.push(i);
    for (const d of image.detections) {
      const held = tpsHeld(d, tps, n, signalTps);
      let matched = false;
      for (let j = 0; j < n; j++) {
        if (held[j] >= minTps) {
          matched = true;
          if (d.score > best[j]) best[j] = d.score;
        }
      }
      if (!matched) fpScores.push(d.score);
    }
    return { best, fpScores };
  }
  for (const d of image.detections) {
    let matched = false;
    if (rule !== 'tps') {
      image.interactions.forEach((it, j) => {
        if (it.box !== null && detectionMatches(d, it.box, opts)) {
          matched = true;
          if (d.score > best[j]) best[j] = d.score;
        }
      });
    }
    if (!matched) fpScores.push(d.score);
  }
  return { best, fpScores };
}

/** k of n with standard error, Wilson and Clopper–Pearson intervals at `cl`. */
export function binomialSummary(k: number, n: number, cl = ONE_SIGMA_CL): BinomialSummary {
  return { k, n, efficiency: n > 0 ? k / n : null, stdErr: binomialStdErr(k, n), wilson: wilsonInterval(k, n, cl), clopperPearson: clopperPearson(k, n, cl) };
}

/** Efficiency per Eν bin and integrated, at one score threshold, over all and over visible interactions. */
export function efficiencyByEnergy(
  images: readonly TriggerImage[],
  threshold: number,
  opts: TriggerOptions = {},
  scored?: readonly ScoredImage[],
): EfficiencyTable {
  const edges = opts.energyEdgesMeV ?? DEFAULT_ENERGY_EDGES_MEV;
  const cl = opts.efficiencyCl ?? ONE_SIGMA_CL;
  const nb = edges.length - 1;
  const c = {
    nAll: new Array<number>(nb + 1).fill(0),
    kAll: new Array<number>(nb + 1).fill(0),
    nVis: new Array<number>(nb + 1).fill(0),
    kVis: new Array<number>(nb + 1).fill(0),
  };
  const s = scored ?? images.map((im) => scoreImage(im, opts));
  images.forEach((im, i) =>
    im.interactions.forEach((it, j) => {
      const b = energyBin(it.energyMeV, edges);
      if (b < 0) return;
      const hit = s[i].best[j] >= threshold ? 1 : 0;
      // Slot nb accumulates the integrated totals.
      for (const slot of [b, nb]) {
        c.nAll[slot]++;
        c.kAll[slot] += hit;
        if (it.box !== null) {
          c.nVis[slot]++;
          c.kVis[slot] += hit;
        }
      }
    }),
  );
  const bins: EnergyBin[] = [];
  for (let b = 0; b < nb; b++) {
    bins.push({ loMeV: edges[b], hiMeV: edges[b + 1], all: binomialSummary(c.kAll[b], c.nAll[b], cl), visible: binomialSummary(c.kVis[b], c.nVis[b], cl) });
  }
  return {
    threshold,
    bins,
    integrated: { all: binomialSummary(c.kAll[nb], c.nAll[nb], cl), visible: binomialSummary(c.kVis[nb], c.nVis[nb], cl) },
    supernova: spectrumAverage(bins, opts.spectrum),
  };
}

/** The supernova spectrum's settings with their defaults filled in. */
export function spectrumSettings(o: SpectrumOptions = {}): Required<SpectrumOptions> {
  return {
    meanEnergyMeV: o.meanEnergyMeV ?? DEFAULT_CC_SPECTRUM.meanEnergyMeV,
    alpha: o.alpha ?? DEFAULT_CC_SPECTRUM.alpha,
    ccQMeV: o.ccQMeV ?? DEFAULT_CC_SPECTRUM.ccQMeV,
    weightByCrossSection: o.weightByCrossSection ?? DEFAULT_CC_SPECTRUM.weightByCrossSection,
  };
}

/** Fraction of the spectrum in each [lo, hi] bin, normalised over the bins' whole range (the spectrum
 *  outside it — below 1 MeV, above 70 MeV — is left out: ≈ 0 below the 1.5 MeV threshold, < 10⁻⁴ above). */
export function spectrumBinWeights(bins: readonly { loMeV: number; hiMeV: number }[], o: SpectrumOptions = {}): Float64Array {
  const s = spectrumSettings(o);
  const steps = 1000; // midpoint rule inside each bin (relative error ~10⁻⁷: the density is smooth on the MeV scale)
  const w = new Float64Array(bins.length);
  bins.forEach((b, i) => {
    const de = (b.hiMeV - b.loMeV) / steps;
    const es = Float64Array.from({ length: steps }, (_, k) => b.loMeV + (k + 0.5) * de);
    w[i] =
      ccSpectrumDensity(es, { meanEnergyMeV: s.meanEnergyMeV, alpha: s.alpha, ccQMeV: s.ccQMeV, weightByCrossSection: s.weightByCrossSection }).reduce(
        (a, x) => a + x,
        0,
      ) * de;
  });
  const total = w.reduce((a, x) => a + x, 0);
  return total > 0 ? w.map((x) => x / total) : w;
}

/**
 * Efficiency averaged over the supernova νe-CC interaction spectrum: Σ_b w_b ε_b over the Eν bins,
 * w_b the spectrum's fraction in bin b, with the error sqrt(Σ w_b² σ_b²), σ_b the half-width of bin
 * b's 68.3 % Wilson interval. Not the Wald σ_b² = ε_b(1 − ε_b)/n_b: that is 0 in a bin at 0 or 100 %,
 * and with ~20 interactions per 5-MeV bin the low-energy bins the spectrum weighs most are often at 0
 * %, so Wald made the average look more precise than its flat counterpart; Wilson's σ_b tends to
 * Wald's for large n_b. Bins without interactions are left out and the weights of the others
 * renormalised; their weight is reported (`weightWithoutEvents`) so a sample too thin at low Eν shows.
 */
export function spectrumAverage(bins: readonly EnergyBin[], o: SpectrumOptions = {}): SpectrumAverage {
  const s = spectrumSettings(o);
  const w = spectrumBinWeights(bins, s);
  const avg = (pick: (b: EnergyBin) => BinomialSummary) => {
    let sw = 0,
      e = 0,
      v = 0,
      missing = 0;
    bins.forEach((b, i) => {
      const x = pick(b);
      if (x.n === 0 || x.efficiency === null) {
        missing += w[i];
        return;
      }
      sw += w[i];
      e += w[i] * x.efficiency;
      const [lo, hi] = wilsonInterval(x.k, x.n, ONE_SIGMA_CL);
      v += w[i] * w[i] * ((hi - lo) / 2) ** 2;
    });
    return sw > 0 ? { efficiency: e / sw, stdErr: Math.sqrt(v) / sw, missing } : { efficiency: null, stdErr: null, missing };
  };
  const all = avg((b) => b.all);
  const visible = avg((b) => b.visible);
  return {
    model: SPECTRUM_MODEL,
    ...s,
    efficiency: all.efficiency,
    stdErr: all.stdErr,
    weightWithoutEvents: all.missing,
    efficiencyVisible: visible.efficiency,
    stdErrVisible: visible.stdErr,
  };
}

/** Where the default spectrum comes from, as every report states it. */
export const SPECTRUM_MODEL = 'supernova νe-CC interactions: pinched Fermi–Dirac flux (Keil, Raffelt, Janka 2003) × (Eν − Q)² cross-section shape';

/** Index of the Eν bin holding e, or −1 outside [first edge, last edge]. */
export function energyBin(e: number, edges: readonly number[]): number {
  const last = edges.length - 1;
  if (!(e >= edges[0] && e <= edges[last])) return -1;
  if (e === edges[last]) return last - 1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (e >= edges[mid]) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** False positives at a threshold: count, per image, Hz per module, and a Poisson interval (upper limit when 0). */
export function falsePositives(scored: readonly ScoredImage[], threshold: number, opts: TriggerOptions = {}): FpSummary {
  let count = 0;
  for (const s of scored) for (const x of s.fpScores) if (x >= threshold) count++;
  return fpSummary(count, scored.length, threshold, opts);
}

function fpSummary(count: number, images: number, threshold: number, opts: TriggerOptions): FpSummary {
  const cl = opts.fpCl ?? 0.9;
  const k = hzPerFpPerImage(opts);
  // Zero seen: one-sided limit (2.303 / N at 90 %); otherwise a central interval.
  const mu: [number, number] = count === 0 ? [0, -Math.log(1 - cl)] : poissonInterval(count, cl);
  const perImage = images > 0 ? count / images : 0;
  const intervalPerImage: [number, number] = images > 0 ? [mu[0] / images, mu[1] / images] : [0, Infinity];
  return {
    threshold,
    count,
    images,
    perImage,
    hz: perImage * k,
    cl,
    upperLimitOnly: count === 0,
    intervalPerImage,
    intervalHz: [intervalPerImage[0] * k, intervalPerImage[1] * k],
  };
}

/** Efficiency and FP rate at every distinct score (descending thresholds), from threshold-free digests. */
export function thresholdScan(
  signal: readonly TriggerImage[],
  scoredSignal: readonly ScoredImage[],
  scoredBackground: readonly ScoredImage[],
  opts: TriggerOptions = {},
): ScanPoint[] {
  const edges = opts.energyEdgesMeV ?? DEFAULT_ENERGY_EDGES_MEV;
  const hits: { s: number; vis: boolean }[] = [];
  let nAll = 0;
  let nVis = 0;
  signal.forEach((im, i) =>
    im.interactions.forEach((it, j) => {
      if (energyBin(it.energyMeV, edges) < 0) return;
      nAll++;
      if (it.box !== null) nVis++;
      const b = scoredSignal[i].best[j];
      if (b > -Infinity) hits.push({ s: b, vis: it.box !== null });
    }),
  );
  hits.sort((a, b) => b.s - a.s);
  const fps = scoredBackground.flatMap((s) => s.fpScores).sort((a, b) => b - a);
  const thresholds = [...new Set([...hits.map((h) => h.s), ...fps])].sort((a, b) => b - a);
  const nImages = scoredBackground.length;
  const k = hzPerFpPerImage(opts);
  const out: ScanPoint[] = [];
  let ih = 0;
  let iv = 0;
  let kv = 0;
  for (const t of thresholds) {
    while (ih < hits.length && hits[ih].s >= t) {
      if (hits[ih].vis) kv++;
      ih++;
    }
    while (iv < fps.length && fps[iv] >= t) iv++;
    const fpPerImage = nImages > 0 ? iv / nImages : 0;
    out.push({
      threshold: t,
      efficiency: nAll > 0 ? ih / nAll : 0,
      efficiencyVisible: nVis > 0 ? kv / nVis : 0,
      fpCount: iv,
      fpPerImage,
      fpHz: fpPerImage * k,
    });
  }
  return out;
}

/**
 * Best efficiency whose FP rate is ≤ target: the lowest scanned threshold with fpHz ≤ target.
 * Unreachable (null) when that point has no FPs but the sample's 90 % upper limit exceeds the target.
 */
export function operatingPoint(
  scan: readonly ScanPoint[],
  targetHz: number,
  nBackgroundImages: number,
  opts: TriggerOptions = {},
): Omit<OperatingPoint, 'table' | 'fpHzInterval'> {
  let chosen: ScanPoint | null = null;
  for (const p of scan) if (p.fpHz <= targetHz) chosen = p; // thresholds descend, so the last one wins
  const fpCount = chosen ? chosen.fpCount : 0;
  const limitHz = fpSummary(0, nBackgroundImages, 0, opts).intervalHz[1];
  if (fpCount === 0 && !(limitHz <= targetHz)) {
    return { targetHz, threshold: null, efficiency: null, efficiencyVisible: null, fpCount: null, fpHz: null };
  }
  if (chosen === null) {
    // Every scanned threshold exceeds the rate (the top-scored box is a false positive): only "nothing" passes.
    const top = scan.length > 0 ? scan[0].threshold : 0;
    return { targetHz, threshold: nextUp(top), efficiency: 0, efficiencyVisible: 0, fpCount: 0, fpHz: 0 };
  }
  return {
    targetHz,
    threshold: chosen.threshold,
    efficiency: chosen.efficiency,
    efficiencyVisible: chosen.efficiencyVisible,
    fpCount: chosen.fpCount,
    fpHz: chosen.fpHz,
  };
}

function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  u[0] += x > 0 ? 1n : -1n;
  return f[0];
}

/**
 * The whole trigger evaluation. FPs are counted on `background` (background-only images) when given,
 * otherwise on the evaluated images themselves (stated in `fpSource`).
 */
export function evaluateTrigger(images: readonly TriggerImage[], opts: TriggerOptions = {}, background?: readonly TriggerImage[]): TriggerReport {
  const scored = images.map((im) => scoreImage(im, opts));
  const scoredBg = background ? background.map((im) => scoreImage(im, opts)) : scored;
  const threshold = opts.scoreThreshold ?? 0.5;
  const scan = thresholdScan(images, scored, scoredBg, opts);
  const operatingPoints = (opts.targetRatesHz ?? [1, 10, 100]).map((hz) => {
    const p = operatingPoint(scan, hz, scoredBg.length, opts);
    return {
      ...p,
      fpHzInterval: p.threshold === null ? null : falsePositives(scoredBg, p.threshold, opts).intervalHz,
      table: p.threshold === null ? null : efficiencyByEnergy(images, p.threshold, opts, scored),
    };
  });
  return {
    match: opts.match ?? DEFAULT_MATCH,
    matchRule: matchRuleText(opts),
    energyEdgesMeV: [...(opts.energyEdgesMeV ?? DEFAULT_ENERGY_EDGES_MEV)],
    hzPerFpPerImage: hzPerFpPerImage(opts),
    conversion: `Hz per module = FP per image × ${opts.faces ?? DEFAULT_FACES} faces / (${opts.windowTicks ?? 4492} ticks × ${(opts.tickSeconds ?? 0.5e-6) * 1e6} µs)`,
    fpSource: background ? 'background images' : 'evaluated images',
    efficiency: efficiencyByEnergy(images, threshold, opts, scored),
    falsePositives: falsePositives(scoredBg, threshold, opts),
    scan: thin(scan, opts.maxScanPoints ?? 200),
    operatingPoints,
  };
}

// Evenly spaced subset that always keeps the first and last points.
function thin<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max || max < 2) return [...xs];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (max - 1))]);
  return out;
}
