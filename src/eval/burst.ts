// The supernova burst trigger on top of a per-interaction trigger (docs/burst.md): the trigger fires
// when at least N candidates fall within a sliding window of T seconds, counted over `modules` 10 kt
// modules together (default 1: each module's own burst trigger, as DUNE's module-level DAQ runs it).
//
// Fake bursts. Background candidates arrive as a Poisson process of rate r (the measured FP rate per
// module × modules). The sliding count over the last T seconds reaches N exactly when a candidate
// arrives with N−1 others in the T seconds before it, so fake bursts (upcrossings to ≥ N) occur at
//   R(N, T) = r · Poisson(N−1; rT)
// (exact for a Poisson process). plasorak/Clustering `BurstTrigger/SNBurstTrigger.cc` used
// r · P(≥ N; rT) instead, a fixed-window count: about 1 + rT/N times larger, so slightly stricter.
// N is the smallest count with R ≤ 1 per month (TargetRate = 1/(3600·24·31) Hz, SNBurstTrigger.hh)
// at the upper edge of the FP rate's interval: a threshold with no FP seen still gets a finite N.
//
// Detection. A burst at distance d yields Poisson(μ) candidates with μ = interactions(d) × ε̄, where ε̄
// is the per-energy efficiency averaged over the νe-CC interaction spectrum (sim/supernova.ts). Their
// times follow the burst's time profile, mixed with the background. P(detect | n burst candidates)
// is tabulated once by Monte Carlo of the exact sliding-window rule (the window is slid over every
// candidate); P(d) = Σₙ Poisson(n; μ(d)) · P(detect | n). The rule (threshold, T, N) is chosen by the
// fixed-window approximation P(Poisson(μF(T) + rT) ≥ N), F(T) the best window's share of the burst,
// as the one that reaches farthest at 50 %.
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { z } from 'zod';
import { checkJson, parseJson } from '../util/json-file.js';
import { triggerReportSchema } from '../schema/evaluation.js';
import { Random } from '../sim/random.js';
import {
  BURST_DURATION_S,
  GALAXY,
  TIME_PROFILE_SOURCE,
  bestWindowFraction,
  expectedInteractions,
  galacticAverage,
  interactionSpectrum,
  makeSpectrumSampler,
  sampleBurstTime,
  type BurstModel,
  type InteractionSpectrum,
} from '../sim/supernova.js';
import type { BurstReport, BurstRuleCandidate, BurstValidationPoint, ValueBand } from '../schema/burst.js';
import type { EfficiencyTable, TriggerReport } from '../schema/evaluation.js';
import { binomialSummary, energyBin, spectrumAverage } from './efficiency.js';
import { gammaP, poissonInterval } from './intervals.js';

export type { BurstCurvePoint, BurstReport, BurstRuleCandidate, BurstValidationPoint, ValueBand } from '../schema/burst.js';

/** One fake burst per month (31 days), plasorak/Clustering BurstTrigger/SNBurstTrigger.hh. */
export const ONE_PER_MONTH_HZ = 1 / (3600 * 24 * 31);
/** Largest N, and largest expected background near a burst, for the Monte Carlo table of P(detect | n). */
export const MAX_TABLE_COUNT = 20_000;
/** Windows tried for the rule, seconds (DUNE-DAQ triggeralgs' TCMakerSupernova uses 10 s). */
export const DEFAULT_WINDOWS_S: readonly number[] = [0.1, 0.2, 0.5, 1, 2, 3, 5, 10];

const LN_FACTORIAL = new Float64Array(256);
for (let i = 2; i < 256; i++) LN_FACTORIAL[i] = LN_FACTORIAL[i - 1] + Math.log(i);

function lnFactorial(k: number): number {
  if (k < 256) return LN_FACTORIAL[k];
  // Stirling with two corrections: relative error < 1e-15 from k = 256.
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

/** Poisson probability of exactly k with mean mu. */
export function poissonPmf(k: number, mu: number): number {
  if (k < 0) return 0;
  if (mu <= 0) return k === 0 ? 1 : 0;
  return Math.exp(k * Math.log(mu) - mu - lnFactorial(k));
}

/** P(X ≥ k) for X ~ Poisson(mu): the regularised lower incomplete gamma P(k, mu). */
export function poissonTail(k: number, mu: number): number {
  if (k <= 0) return 1;
  if (mu <= 0) return 0;
  return gammaP(k, mu);
}

/** Fake-burst rate (Hz) of "≥ n candidates within a sliding window of windowS" over background at rateHz. */
export function fakeBurstRateHz(rateHz: number, windowS: number, n: number): number {
  if (n <= 0) return Infinity;
  return rateHz * poissonPmf(n - 1, rateHz * windowS);
}

/** The fewest candidates in the window for a fake-burst rate ≤ targetHz. */
export function minCountForRate(rateHz: number, windowS: number, targetHz = ONE_PER_MONTH_HZ): number {
  if (rateHz <= targetHz) return 1;
  // Below the mode the rate can still rise with n: start above the mean.
  let n = Math.max(1, Math.floor(rateHz * windowS) + 1);
  while (fakeBurstRateHz(rateHz, windowS, n) > targetHz) n++;
  return n;
}

/** A per-interaction operating point read from an evaluation: its efficiency table and FP rate. */
export interface ThresholdTable {
  threshold: number;
  origin: string;
  table: EfficiencyTable;
  fpHz: number;
  fpHzInterval: [number, number];
}

/** Every threshold of a trigger report with a per-energy efficiency table: the headline threshold and
 *  each reachable operating point. (A scan with a table at every threshold is read the same way.) */
export function thresholdTables(t: TriggerReport): ThresholdTable[] {
  const fp = t.falsePositives;
  const k = t.hzPerFpPerImage;
  const interval = (count: number): [number, number] => {
    if (fp.images <= 0) return [0, Infinity];
    const mu: [number, number] = count === 0 ? [0, -Math.log(1 - fp.cl)] : poissonInterval(count, fp.cl);
    return [(mu[0] / fp.images) * k, (mu[1] / fp.images) * k];
  };
  const out: ThresholdTable[] = [
    { threshold: t.efficiency.threshold, origin: 'headline threshold', table: t.efficiency, fpHz: fp.hz, fpHzInterval: [...fp.intervalHz] },
  ];
  for (const p of t.operatingPoints) {
    if (p.table === null || p.threshold === null || p.fpCount === null || p.fpHz === null) continue;
    if (out.some((o) => o.threshold === p.threshold)) continue;
    // Reports since issue 26 carry the interval; older ones get it from the count here.
    out.push({
      threshold: p.threshold,
      origin: `operating point ${p.targetHz} Hz`,
      table: p.table,
      fpHz: p.fpHz,
      fpHzInterval: p.fpHzInterval ?? interval(p.fpCount),
    });
  }
  return out.sort((a, b) => a.threshold - b.threshold);
}

/** Efficiency of an interaction of energy e by the table: 0 below the first edge, the last bin's above the last. */
export function efficiencyAt(table: EfficiencyTable, eMeV: number): number {
  const edges = [table.bins[0].loMeV, ...table.bins.map((b) => b.hiMeV)];
  if (eMeV > edges[edges.length - 1]) return table.bins[table.bins.length - 1].all.efficiency ?? 0;
  const b = energyBin(eMeV, edges);
  return b < 0 ? 0 : (table.bins[b].all.efficiency ?? 0);
}

/** The per-interaction efficiency averaged over the burst's interaction spectrum, with its error: the
 *  bins' Wilson half-widths weighted by their share of interactions, in quadrature (bins independent). */
export function foldEfficiency(table: EfficiencyTable, spectrum: InteractionSpectrum): { efficiency: number; err: number; weights: number[] } {
  const nb = table.bins.length;
  const edges = [table.bins[0].loMeV, ...table.bins.map((b) => b.hiMeV)];
  const w = new Array<number>(nb).fill(0);
  spectrum.eMeV.forEach((e, i) => {
    const share = spectrum.per10ktAt10Kpc[i] / spectrum.total;
    if (e > edges[nb]) w[nb - 1] += share;
    else {
      const b = energyBin(e, edges);
      if (b >= 0) w[b] += share;
    }
  });
  let eff = 0;
  let v = 0;
  table.bins.forEach((b, i) => {
    eff += w[i] * (b.all.efficiency ?? 0);
    const half = b.all.n > 0 ? (b.all.wilson[1] - b.all.wilson[0]) / 2 : 0.5;
    v += (w[i] * half) ** 2;
  });
  return { efficiency: eff, err: Math.sqrt(v), weights: w };
}

/** The burst rule; `timeScale` stretches the burst's time axis (default 1; a validation on a short
 *  simulated stream compresses the burst, and its window with it); `multiplicity` is the mean number
 *  of candidates a detected interaction makes (default 1; each makes 1 + Poisson(multiplicity − 1),
 *  at its own time: a clustering trigger can split one interaction into several clusters). */
export interface BurstRule {
  minCount: number;
  windowS: number;
  timeScale?: number;
  multiplicity?: number;
}

/** Candidates of one detected interaction: 1 + Poisson(multiplicity − 1). */
function candidatesOf(rng: Random, rule: BurstRule): number {
  const extra = (rule.multiplicity ?? 1) - 1;
  return extra > 0 ? 1 + rng.poisson(extra) : 1;
}

/** Does any window of length windowS hold ≥ minCount of these (sorted) times? */
export function windowFires(sorted: ArrayLike<number>, rule: BurstRule): boolean {
  const n = rule.minCount;
  for (let i = 0; i + n - 1 < sorted.length; i++) if (sorted[i + n - 1] - sorted[i] <= rule.windowS) return true;
  return false;
}

// Background candidates around a burst: over [−T, duration + T], the only span where they can share a window with it.
function backgroundTimes(rng: Random, rateHz: number, rule: BurstRule): number[] {
  const windowS = rule.windowS;
  const span = BURST_DURATION_S * (rule.timeScale ?? 1) + 2 * windowS;
  const n = rng.poisson(rateHz * span);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(-windowS + span * rng.uniform());
  return out;
}

/** P(detect | n burst candidates) for n = 0‥table length − 1 (the last value holds beyond), by Monte
 *  Carlo of the sliding-window rule over burst times from the profile and Poisson background. */
export function detectionGivenCount(rule: BurstRule, bgRateHz: number, trials: number, seed: number): Float64Array {
  const scale = rule.timeScale ?? 1;
  const f = bestWindowFraction(rule.windowS / scale);
  const m = Math.ceil((2 * (rule.minCount + 5 * Math.sqrt(rule.minCount) + 5)) / f);
  const firstFiring = new Int32Array(m + 2);
  const rng = new Random(seed);
  // Candidate times of the interactions in draw order (an interaction's copies together), and the
  // number of candidates of the first n interactions.
  let times = new Float64Array(m);
  let prefix = new Float64Array(m);
  const upTo = new Int32Array(m + 1);
  let merged = new Float64Array(0);
  for (let t = 0; t < trials; t++) {
    let c = 0;
    for (let i = 0; i < m; i++) {
      const time = sampleBurstTime(rng) * scale;
      const k = candidatesOf(rng, rule);
      if (c + k > times.length) {
        const grown = new Float64Array(2 * (c + k));
        grown.set(times.subarray(0, c));
        times = grown;
        prefix = new Float64Array(grown.length);
      }
      for (let j = 0; j < k; j++) times[c++] = time;
      upTo[i + 1] = c;
    }
    const bg = Float64Array.from(backgroundTimes(rng, bgRateHz, rule)).sort();
    if (merged.length < c + bg.length) merged = new Float64Array(c + bg.length);
    const fires = (nInteractions: number) => {
      const n = upTo[nInteractions];
      const s = prefix.subarray(0, n);
      s.set(times.subarray(0, n));
      s.sort();
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < n || j < bg.length) merged[k++] = j >= bg.length || (i < n && s[i] <= bg[j]) ? s[i++] : bg[j++];
      return windowFires(merged.subarray(0, k), rule);
    };
    let nStar: number;
    if (fires(0)) nStar = 0;
    else if (!fires(m)) nStar = m + 1;
    else {
      // Adding candidates never removes a firing window: bisect for the first n that fires.
      let lo = 0;
      let hi = m;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (fires(mid)) hi = mid;
        else lo = mid;
      }
      nStar = hi;
    }
    firstFiring[nStar]++;
  }
  const g = new Float64Array(m + 1);
  let c = 0;
  for (let n = 0; n <= m; n++) {
    c += firstFiring[n];
    g[n] = c / trials;
  }
  return g;
}

/** P(detect) for Poisson(mu) burst candidates, from the table of detectionGivenCount. */
export function detectionProbability(g: Float64Array, mu: number): number {
  const m = g.length - 1;
  if (mu - 10 * Math.sqrt(mu) > m) return g[m];
  const lo = Math.max(0, Math.floor(mu - 10 * Math.sqrt(mu) - 5));
  const hi = Math.ceil(mu + 10 * Math.sqrt(mu) + 20);
  let p = 0;
  for (let n = lo; n <= hi; n++) p += poissonPmf(n, mu) * g[Math.min(n, m)];
  return Math.min(1, p);
}

/** The largest distance (kpc) at which a decreasing probability p(d) still reaches `level`, by bisection
 *  in log d over [0.1, 1000] kpc; null when it is not reached even at 0.1 kpc. */
export function distanceAt(p: (dKpc: number) => number, level: number): number | null {
  let lo = Math.log(0.1);
  let hi = Math.log(1000);
  if (p(Math.exp(lo)) < level) return null;
  if (p(Math.exp(hi)) >= level) return Math.exp(hi);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (p(Math.exp(mid)) >= level) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

/** f tabulated at 200 points per decade over 0.1–1000 kpc and interpolated linearly in log d
 *  (constant outside): the galactic average calls it ~10^4 times. */
function onLogGrid(f: (dKpc: number) => number): (dKpc: number) => number {
  const perDecade = 200;
  const n = 4 * perDecade + 1;
  const v = Float64Array.from({ length: n }, (_, i) => f(10 ** (-1 + i / perDecade)));
  return (d) => {
    const x = (Math.log10(d) + 1) * perDecade;
    if (!(x > 0)) return v[0];
    if (x >= n - 1) return v[n - 1];
    const i = Math.floor(x);
    return v[i] + (x - i) * (v[i + 1] - v[i]);
  };
}

export interface BurstOptions {
  modules?: number;
  targetHz?: number;
  windowsS?: readonly number[];
  /** Monte Carlo trials per P(detect | n) table (default 4000) and the seed (default 1). */
  trials?: number;
  seed?: number;
  /** The burst's time axis stretched by this factor (default 1: the model's 10 s). */
  timeScale?: number;
  /** Mean candidates per detected interaction (default 1: an evaluation does not measure it). */
  multiplicity?: number;
  /** Curve distances, kpc (default 61 points log-spaced over 1–100). */
  distancesKpc?: readonly number[];
}

/** The computed part of a BurstReport, plus what validation needs. */
export interface BurstComputation extends Pick<BurstReport, 'rule' | 'considered' | 'curve' | 'd50Kpc' | 'd90Kpc' | 'galacticFraction' | 'trials'> {
  /** The chosen threshold's table (for validation by simulation) and the background candidate rate, Hz. */
  table: EfficiencyTable;
  bgRateHz: number;
  /** The central curve as a function of distance (kpc), and how it was computed. */
  probability: (dKpc: number) => number;
  method: string;
  /** The rule as the Monte Carlo and the simulation apply it. */
  burstRule: BurstRule;
}

/** Chooses the rule over the thresholds and windows and computes P(detect) against distance with its band. */
export function computeBurst(tables: readonly ThresholdTable[], spectrum: InteractionSpectrum, o: BurstOptions = {}): BurstComputation {
  if (tables.length === 0) throw new Error('computeBurst: no threshold with an efficiency table');
  const modules = o.modules ?? 1;
  const target = o.targetHz ?? ONE_PER_MONTH_HZ;
  const trials = o.trials ?? 4000;
  const seed = o.seed ?? 1;
  const considered: (BurstRuleCandidate & { table: EfficiencyTable })[] = [];
  for (const t of tables) {
    const fold = foldEfficiency(t.table, spectrum);
    const rUp = t.fpHzInterval[1] * modules;
    const r = t.fpHz * modules;
    for (const windowS of o.windowsS ?? DEFAULT_WINDOWS_S) {
      const minCount = minCountForRate(rUp, windowS, target);
      const f = bestWindowFraction(windowS / (o.timeScale ?? 1));
      const approx = (d: number) =>
        poissonTail(minCount, expectedInteractions(spectrum, d, modules) * fold.efficiency * (o.multiplicity ?? 1) * f + r * windowS);
      considered.push({
        threshold: t.threshold,
        origin: t.origin,
        fpHz: t.fpHz,
        fpHzInterval: t.fpHzInterval,
        efficiency: fold.efficiency,
        efficiencyErr: fold.err,
        windowS,
        minCount,
        fakeRateHzUpper: fakeBurstRateHz(rUp, windowS, minCount),
        fakeRateHz: fakeBurstRateHz(r, windowS, minCount),
        windowFraction: f,
        multiplicity: o.multiplicity ?? 1,
        d50ApproxKpc: distanceAt(approx, 0.5) ?? 0,
        table: t.table,
      });
    }
  }
  const best = considered.reduce((a, b) => (b.d50ApproxKpc > a.d50ApproxKpc ? b : a));
  const { table, ...rule } = best;
  const ruleOf: BurstRule = { minCount: rule.minCount, windowS: rule.windowS, timeScale: o.timeScale, multiplicity: o.multiplicity };
  const mu = (d: number, eff: number) => expectedInteractions(spectrum, d, modules) * Math.max(0, eff);
  // The Monte Carlo table costs ~ trials × (N + background candidates near the burst): beyond
  // MAX_TABLE_COUNT the fixed-window approximation stands in (a trigger this noisy sees no galactic burst anyway).
  const exact =
    rule.minCount <= MAX_TABLE_COUNT && rule.fpHzInterval[1] * modules * (BURST_DURATION_S * (o.timeScale ?? 1) + 2 * rule.windowS) <= MAX_TABLE_COUNT;
  const curveOf = (bgHz: number, eff: number, s: number) => {
    if (!exact) return (d: number) => poissonTail(rule.minCount, mu(d, eff) * rule.multiplicity * rule.windowFraction + bgHz * rule.windowS);
    const g = detectionGivenCount(ruleOf, bgHz, trials, s);
    return (d: number) => detectionProbability(g, mu(d, eff));
  };
  const p = onLogGrid(curveOf(rule.fpHz * modules, rule.efficiency, seed));
  const pLo = onLogGrid(curveOf(rule.fpHzInterval[0] * modules, rule.efficiency - rule.efficiencyErr, seed + 1));
  const pHi = onLogGrid(curveOf(rule.fpHzInterval[1] * modules, rule.efficiency + rule.efficiencyErr, seed + 2));
  const distances = o.distancesKpc ?? Array.from({ length: 61 }, (_, i) => 10 ** (i / 30));
  const curve = distances.map((d) => ({
    distanceKpc: d,
    interactions: expectedInteractions(spectrum, d, modules),
    candidates: mu(d, rule.efficiency),
    probability: p(d),
    lo: pLo(d),
    hi: pHi(d),
  }));
  const band = (f: (q: (d: number) => number) => number | null): ValueBand => ({ value: f(p), lo: f(pLo), hi: f(pHi) });
  return {
    rule,
    considered: considered.map(({ table: _t, ...c }) => c),
    curve,
    table,
    bgRateHz: rule.fpHz * modules,
    probability: p,
    trials,
    burstRule: ruleOf,
    method: exact
      ? `sliding window: P(detect | n burst candidates) by Monte Carlo (${trials} trials per table), summed over Poisson(n)`
      : `fixed-window approximation P(Poisson(μ·F(T) + rT) ≥ N): N = ${rule.minCount} or the background near a burst exceeds ${MAX_TABLE_COUNT} candidates`,
    d50Kpc: band((q) => distanceAt(q, 0.5)),
    d90Kpc: band((q) => distanceAt(q, 0.9)),
    galacticFraction: band((q) => galacticAverage(q, 300, 90)),
  };
}

/** Stream-level Monte Carlo of the burst trigger: per trial, Poisson(interactions(d)) νe-CC
 *  interactions with energies from the spectrum and times from the profile, each kept as a candidate
 *  with the table's efficiency at its energy; Poisson background candidates at bgRateHz; the sliding
 *  rule. Independent of the fold and of the P(detect | n) table. */
export function simulateBurstTrials(o: {
  spectrum: InteractionSpectrum;
  table: EfficiencyTable;
  rule: BurstRule;
  bgRateHz: number;
  modules: number;
  distanceKpc: number;
  trials: number;
  seed: number;
}): { detected: number; trials: number } {
  const rng = new Random(o.seed);
  const sampleE = makeSpectrumSampler(o.spectrum);
  const mean = expectedInteractions(o.spectrum, o.distanceKpc, o.modules);
  let detected = 0;
  for (let t = 0; t < o.trials; t++) {
    const times = backgroundTimes(rng, o.bgRateHz, o.rule);
    const n = rng.poisson(mean);
    for (let i = 0; i < n; i++) {
      const e = sampleE(rng);
      const time = sampleBurstTime(rng) * (o.rule.timeScale ?? 1);
      if (rng.uniform() < efficiencyAt(o.table, e)) for (let k = candidatesOf(rng, o.rule); k > 0; k--) times.push(time);
    }
    if (windowFires(Float64Array.from(times).sort(), o.rule)) detected++;
  }
  return { detected, trials: o.trials };
}

/** Validation points: the simulated detection fraction beside the computed probability, with the pull. */
export function validateBurst(
  c: BurstComputation,
  spectrum: InteractionSpectrum,
  o: { distancesKpc: readonly number[]; trials: number; seed: number; modules: number },
): BurstValidationPoint[] {
  return o.distancesKpc.map((d, i) => {
    const r = simulateBurstTrials({
      spectrum,
      table: c.table,
      rule: c.burstRule,
      bgRateHz: c.bgRateHz,
      modules: o.modules,
      distanceKpc: d,
      trials: o.trials,
      seed: o.seed + 1000 + i,
    });
    const measured = r.detected / r.trials;
    const computed = c.probability(d);
    // Error of the difference: the simulation's binomial error and, at most, that of the table's trials.
    const se = Math.sqrt((computed * (1 - computed)) / r.trials + (computed * (1 - computed)) / c.trials);
    return {
      distanceKpc: d,
      trials: r.trials,
      detected: r.detected,
      measured,
      stdErr: Math.sqrt((measured * (1 - measured)) / r.trials),
      computed,
      pull: se > 0 ? (measured - computed) / se : 0,
    };
  });
}

/** The whole burst report for one trigger's evaluation (what `daqyolo burst` and the study write). */
export type BurstReportOptions = BurstOptions & { kind: BurstReport['trigger']; source: string; model: BurstModel; validate?: { trials: number } };

export function burstReport(trigger: TriggerReport, o: BurstReportOptions): BurstReport {
  return burstReportOf(thresholdTables(trigger), { matchRule: trigger.matchRule, fpCl: trigger.falsePositives.cl }, o);
}

/** A trigger known only by published figures: one efficiency, flat in Eν over 1–70 MeV, at one FP rate (its interval as given). */
export function flatThresholdTable(efficiency: number, fpHzInterval: [number, number], fpHz: number, origin: string): ThresholdTable {
  const n = 1_000_000;
  const s = binomialSummary(Math.round(efficiency * n), n);
  const none = binomialSummary(0, 0);
  const bins = [{ loMeV: 1, hiMeV: 70, all: s, visible: none }];
  return { threshold: 0, origin, fpHz, fpHzInterval, table: { threshold: 0, bins, integrated: { all: s, visible: none }, supernova: spectrumAverage(bins) } };
}

/** The burst report from per-interaction tables (thresholdTables of an evaluation, or flatThresholdTable). */
export function burstReportOf(tables: readonly ThresholdTable[], trigger: { matchRule: string; fpCl: number }, o: BurstReportOptions): BurstReport {
  const spectrum = interactionSpectrum(o.model);
  const modules = o.modules ?? 1;
  const c = computeBurst(tables, spectrum, o);
  const meanE = spectrum.eMeV.reduce((s, e, i) => s + e * spectrum.per10ktAt10Kpc[i], 0) / spectrum.total;
  const notes = [
    `burst rule: ≥ ${c.rule.minCount} candidates within ${c.rule.windowS} s, counted over ${modules === 1 ? 'one 10 kt module' : `${modules} modules together`}`,
    `N chosen at the upper edge of the FP rate's ${100 * trigger.fpCl} % interval so that the fake-burst rate stays ≤ 1 per month there`,
    "band: efficiency −1σ with the FP rate's lower edge, +1σ with its upper edge (N fixed)",
    `curve: ${c.method}`,
  ];
  let validation: BurstReport['validation'];
  if (o.validate && !c.method.startsWith('sliding'))
    notes.push('validation skipped: it checks the Monte Carlo table, which the fixed-window approximation replaced here');
  if (o.validate && c.method.startsWith('sliding')) {
    // Distances where the curve is informative: around 90 %, 50 % and 10 %.
    const ds = [0.9, 0.5, 0.1].map((q) => distanceAt(c.probability, q)).filter((d): d is number => d !== null && d <= 1000);
    const points = validateBurst(c, spectrum, { distancesKpc: ds, trials: o.validate.trials, seed: (o.seed ?? 1) + 7, modules });
    validation = {
      method:
        'stream-level Monte Carlo of the candidate stream (interactions drawn from the model, each a candidate with the measured efficiency at its energy, background candidates at the measured FP rate, the sliding-window rule); the check through the TP stream and the stream trigger is `burst --stream-check`',
      points,
      maxAbsPull: Math.max(0, ...points.map((p) => Math.abs(p.pull))),
    };
  }
  return {
    trigger: o.kind,
    source: o.source,
    matchRule: trigger.matchRule,
    model: {
      name: o.model.name,
      source: o.model.source,
      ccPer10ktAt10Kpc: spectrum.total,
      publishedCcPer40ktAt10Kpc: o.model.publishedCcPer40ktAt10Kpc,
      meanInteractionEnergyMeV: meanE,
    },
    timeProfile: TIME_PROFILE_SOURCE,
    galaxy: GALAXY.source,
    modules,
    targetFakeRateHz: o.targetHz ?? ONE_PER_MONTH_HZ,
    fpCl: trigger.fpCl,
    rule: c.rule,
    considered: c.considered,
    curve: c.curve,
    d50Kpc: c.d50Kpc,
    d90Kpc: c.d90Kpc,
    galacticFraction: c.galacticFraction,
    trials: c.trials,
    seed: o.seed ?? 1,
    validation,
    notes,
  };
}

/** The trigger section of an evaluate or baseline JSON, with one clear line when it is missing. */
export function readTriggerReport(path: string): TriggerReport {
  if (!existsSync(path))
    throw new UserError(`${path}: no such evaluation JSON (run \`daqyolo evaluate\` or \`daqyolo baseline\` first, or name one with --from)`);
  const j = parseJson(path, readFileSync(path, 'utf8')) as { trigger?: TriggerReport | null };
  if (!j.trigger)
    throw new UserError(
      `${path}: field trigger is ${j.trigger === null ? 'null (the data was not simulated)' : 'missing'}: no efficiency and FP rate to build a burst trigger on`,
    );
  checkJson(path, j, z.object({ trigger: triggerReportSchema }));
  if (j.trigger.efficiency.bins.length === 0) throw new UserError(`${path}: field trigger.efficiency.bins: no per-energy efficiency table`);
  return j.trigger;
}
