// Electronics noise and the TPs it makes on its own. The noise is Gaussian and correlated from
// sample to sample as a first-order autoregressive process, x[t] = ρ x[t−1] + √(1−ρ²) σ ε[t], a
// simple model of noise after a shaping amplifier. The TP finder (tps.ts) sees it digitised, minus a
// tracked pedestal, optionally through a 7-tap FIR. Because everything before the threshold is
// linear and Gaussian, the rate of threshold up-crossings follows analytically from the variance and
// lag-1 correlation of what the threshold sees, so noise-only TPs on channels without charge are
// drawn from that distribution instead of simulating 2 million empty samples per image.
import { Random } from './random.js';
import { FrugalMedian } from './tps.js';
import { effectiveThreshold, normalCdf, upcrossProbability } from './threshold-crossing.js';

/** Fills out[0..n) with stationary AR(1) noise (σ, ρ). */
export function ar1Noise(out: Float64Array, n: number, sigma: number, rho: number, rng: Random): void {
  if (!(sigma > 0)) {
    out.fill(0, 0, n);
    return;
  }
  const s = sigma * Math.sqrt(1 - rho * rho);
  let x = sigma * rng.normal();
  for (let i = 0; i < n; i++) {
    out[i] = x;
    x = rho * x + s * rng.normal();
  }
}

/** One noise-only TP, in the units of the finder (ticks relative to its start, ADC). */
export interface NoiseExcursion {
  tot: number;
  integral: number;
  peak: number;
  peakOffset: number;
}

/** Draws y > u from a standard normal truncated to its upper tail (Robert 1995, exponential proposal). */
function tailNormal(u: number, rng: Random): number {
  if (u < 0.5) {
    for (;;) {
      const y = rng.normal();
      if (y > u) return y;
    }
  }
  const lam = (u + Math.sqrt(u * u + 4)) / 2;
  for (;;) {
    const y = u + rng.exponential(1 / lam);
    if (rng.uniform() <= Math.exp(-0.5 * (y - lam) * (y - lam))) return y;
  }
}

/** Inverse of Φ (Acklam's rational approximation refined by one Halley step; |error| < 1e-12). */
export function normalQuantile(p: number): number {
  if (!(p > 0)) return -Infinity;
  if (!(p < 1)) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/** What the TP finder does to the noise: threshold, FIR taps (normalised to unit gain) and pedestal tracking. */
export interface NoiseFinder {
  thresholdAdc: number;
  /** [1] when there is no filter. */
  taps: readonly number[];
  /** 'frugal': the running median wanders around the true pedestal; 'ideal': it is exact. */
  pedestal: 'frugal' | 'ideal';
  frugalLimit: number;
}

/** Samples of noise used to tabulate the pedestal estimate's state (value offset, counter). */
const PEDESTAL_SAMPLES = 1 << 17;
/** Ticks of noise, conditioned on the crossing, over which the pedestal estimate is followed before it. */
const LOOKBACK_TICKS = 48;
/** Weighted crossings drawn once per model: the rate estimate and the pool noise TPs are drawn from. */
const CALIBRATION_DRAWS = 1 << 13;

/**
 * Noise-only TPs of an empty channel under the full finder. The threshold sees
 * z[t] = Σ_j h_j w[t−j] − m[t], w = x + q: x the AR(1) noise, q the rounding of the digitiser (variance
 * 1/12, only carried after a filter — without one, rounding is folded exactly into the level), m the
 * integer offset of the pedestal estimate. Without pedestal tracking (m = 0) the rate is exact: z is
 * Gaussian and stationary, and the probability of an up-crossing between two ticks is the
 * bivariate-normal expression of `upcrossProbability` with z's variance and lag-1 correlation.
 *
 * The frugal median correlates with the noise (a stretch of high noise pushes it up just before the
 * noise crosses), so a fixed-offset average over-counts for correlated noise. The rate is therefore
 * computed by importance sampling, exact up to Monte Carlo error at any threshold: a level offset k is
 * proposed with probability α_k ∝ π_k p_k (π: the estimate's stationary offset distribution, p_k: the
 * Gaussian up-crossing probability at level + k); the noise around the crossing is drawn from its
 * Gaussian law given that crossing (kriging); the pedestal estimate, started from its stationary state
 * LOOKBACK_TICKS earlier, is run over that noise; the draw counts, with weight
 * 1 / Σ_k α_k 1{crosses level + k} / p_k, if the finder really crosses there. The weighted draws are
 * also the pool noise-only TPs are sampled from. (The estimate only steps down on a sample below it, so
 * a real crossing is always one of the proposed ones.)
 */
export class NoiseTpModel {
  /** Standard deviation and lag-1 correlation of the continuous value the threshold compares. */
  readonly sigmaZ: number;
  readonly rhoZ: number;
  /** Pedestal offsets m (ADC) and their stationary probabilities. */
  readonly offsets: number[] = [];
  readonly offsetProb: number[] = [];
  /** Probability per tick of a noise TP starting. */
  readonly perTick: number;
  private readonly quantVar: number;
  private readonly states: Int32Array; // stationary (offset, counter) pairs of the frugal median
  private readonly pool: NoiseExcursion[] = [];
  private readonly poolCdf: Float64Array;
  private readonly level: number;

  constructor(
    readonly sigma: number,
    readonly rho: number,
    readonly finder: NoiseFinder,
  ) {
    const h = finder.taps;
    const L = h.length;
    this.quantVar = L > 1 ? 1 / 12 : 0;
    const cov = (lag: number) => sigma * sigma * rho ** Math.abs(lag) + (lag === 0 ? this.quantVar : 0);
    let v0 = 0,
      v1 = 0;
    for (let j = 0; j < L; j++)
      for (let k = 0; k < L; k++) {
        v0 += h[j] * h[k] * cov(j - k);
        v1 += h[j] * h[k] * cov(1 - j + k);
      }
    this.sigmaZ = Math.sqrt(v0);
    this.rhoZ = v0 > 0 ? v1 / v0 : 0;
    this.level = effectiveThreshold(finder.thresholdAdc);
    this.states = this.tabulatePedestal();
    if (!(sigma > 0)) {
      this.perTick = 0;
      this.poolCdf = new Float64Array(0);
      return;
    }
    const up = this.offsets.map((m) => upcrossProbability((this.level + m) / this.sigmaZ, this.rhoZ));
    const rng = new Random(0xc0ffee);
    const alpha = this.offsets.map((_, i) => this.offsetProb[i] * up[i]);
    const aSum = alpha.reduce((x, y) => x + y, 0);
    if (!(aSum > 0)) {
      this.perTick = 0;
      this.poolCdf = new Float64Array(0);
      return;
    }
    for (let i = 0; i < alpha.length; i++) alpha[i] /= aSum;
    // Proposal levels: offset k by α_k, then uniform over [k − ½, k + ½) (a filter averages the pedestal
    // estimate over its taps, so the real level is not always a whole ADC count away).
    const lo = this.level + this.offsets[0] - 0.5;
    const hiL = this.level + this.offsets[this.offsets.length - 1] + 0.5;
    const grid = new LevelGrid(
      lo,
      hiL,
      (lv) => upcrossProbability(lv / this.sigmaZ, this.rhoZ),
      (lv) => {
        const k = Math.round(lv - this.level);
        const i = this.offsets.indexOf(k);
        return i < 0 ? 0 : alpha[i];
      },
    );
    const sampler = new CrossingSampler(sigma, rho, h, this.quantVar, this.sigmaZ, this.rhoZ, LOOKBACK_TICKS);
    const weights: number[] = [];
    let wSum = 0;
    for (let k = 0; k < CALIBRATION_DRAWS; k++) {
      let r = rng.uniform();
      let ki = alpha.length - 1;
      for (let i = 0; i < alpha.length; i++) {
        r -= alpha[i];
        if (r < 0) {
          ki = i;
          break;
        }
      }
      const lv = finder.pedestal === 'ideal' ? this.level : this.level + this.offsets[ki] + rng.uniform() - 0.5;
      const path = sampler.draw(lv, rng);
      const ex = this.followFinder(path, sampler, rng);
      if (!ex) continue;
      const w = finder.pedestal === 'ideal' ? up[0] : 1 / grid.integral(path.zPrev, path.z);
      this.pool.push(ex);
      weights.push(w);
      wSum += w;
    }
    // With an exact pedestal the Gaussian expression is the rate itself (every proposal crosses).
    this.perTick = finder.pedestal === 'ideal' ? up[0] : wSum / CALIBRATION_DRAWS;
    this.poolCdf = new Float64Array(weights.length);
    let acc = 0;
    for (let i = 0; i < weights.length; i++) this.poolCdf[i] = acc += weights[i];
  }

  /** Expected noise-only TPs per channel in `ticks` samples. */
  perChannel(ticks: number): number {
    return this.perTick * ticks;
  }

  /** Lowest pedestal offset with any probability (for bounds on what can cross). */
  get minOffset(): number {
    return this.offsets.length ? Math.min(...this.offsets) : 0;
  }

  /** Draws a pedestal offset from its stationary distribution (used to start a simulated segment). */
  drawOffset(rng: Random): number {
    let r = rng.uniform();
    for (let i = 0; i < this.offsets.length; i++) {
      r -= this.offsetProb[i];
      if (r < 0) return this.offsets[i];
    }
    return this.offsets[this.offsets.length - 1] ?? 0;
  }

  /** One noise-only TP, drawn from the weighted calibration pool. */
  sample(rng: Random): NoiseExcursion {
    const c = this.poolCdf;
    const r = rng.uniform() * c[c.length - 1];
    let lo = 0,
      hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] <= r) lo = mid + 1;
      else hi = mid;
    }
    return this.pool[lo];
  }

  // The frugal median on digitised AR(1) noise around an integer pedestal (0): its stationary states.
  private tabulatePedestal(): Int32Array {
    if (this.finder.pedestal === 'ideal' || !(this.sigma > 0)) {
      this.offsets.push(0);
      this.offsetProb.push(1);
      return Int32Array.from([0, 0]);
    }
    const rng = new Random(0x5eed);
    const med = new FrugalMedian(0, this.finder.frugalLimit);
    const counts = new Map<number, number>();
    const s = this.sigma * Math.sqrt(1 - this.rho * this.rho);
    let x = this.sigma * rng.normal();
    const burn = 4096;
    const every = 8;
    const states = new Int32Array((2 * PEDESTAL_SAMPLES) / every);
    const sq = Math.sqrt(this.quantVar);
    for (let i = 0; i < PEDESTAL_SAMPLES + burn; i++) {
      med.update(Math.round(x + sq * rng.normal()));
      if (i >= burn) {
        counts.set(med.value, (counts.get(med.value) ?? 0) + 1);
        const j = i - burn;
        if (j % every === 0) {
          states[(2 * j) / every] = med.value;
          states[(2 * j) / every + 1] = med.acc;
        }
      }
      x = this.rho * x + s * rng.normal();
    }
    for (const [m, c] of [...counts].sort((p, q) => p[0] - q[0])) {
      this.offsets.push(m);
      this.offsetProb.push(c / PEDESTAL_SAMPLES);
    }
    return states;
  }

  // Runs the finder over a crossing-conditioned path: null unless it really crosses at the path's
  // tick t; otherwise the TP it makes, following the noise (and the pedestal estimate) until it ends.
  // The filter sees each sample minus the estimate at that sample, as in the finder.
  private followFinder(path: CrossingPath, sampler: CrossingSampler, rng: Random): NoiseExcursion | null {
    let med: FrugalMedian | null = null;
    if (this.finder.pedestal !== 'ideal') {
      const k = rng.int(this.states.length / 2);
      med = new FrugalMedian(this.states[2 * k], this.finder.frugalLimit, this.states[2 * k + 1]);
    }
    const h = this.finder.taps;
    const L = h.length;
    const raw = path.raw; // digitised samples t − W … t
    const n = raw.length;
    const mRing = new Float64Array(L + 1); // estimate at t − j, j = 0 … L
    for (let i = 0; i < n; i++) {
      med?.update(raw[i]);
      if (i >= n - 1 - L) mRing[n - 1 - i] = med ? med.value : 0;
    }
    let mPrev = 0,
      mNow = 0;
    for (let j = 0; j < L; j++) {
      mNow += h[j] * mRing[j];
      mPrev += h[j] * mRing[j + 1];
    }
    if (!(path.zPrev - mPrev <= this.level && path.z - mNow > this.level)) return null;
    let tot = 0,
      integral = 0,
      peak = -Infinity,
      peakOffset = 0;
    let z = path.z - mNow;
    sampler.resume(path);
    while (z > this.level) {
      const adc = Math.round(z);
      if (adc > peak) {
        peak = adc;
        peakOffset = tot;
      }
      integral += adc;
      tot++;
      const next = sampler.step(rng);
      med?.update(next.raw);
      for (let j = L; j > 0; j--) mRing[j] = mRing[j - 1];
      mRing[0] = med ? med.value : 0;
      let m = 0;
      for (let j = 0; j < L; j++) m += h[j] * mRing[j];
      z = next.z - m;
    }
    return { tot, integral, peak, peakOffset };
  }
}

/** ∫ g(ℓ) / p(ℓ) dℓ over a level interval, with p tabulated in log on a fine grid (trapezoid rule). */
class LevelGrid {
  private readonly step = 0.02;
  private readonly f: Float64Array; // g / p at grid points
  constructor(
    private readonly lo: number,
    private readonly hi: number,
    p: (lv: number) => number,
    g: (lv: number) => number,
  ) {
    const n = Math.ceil((hi - lo) / this.step) + 1;
    this.f = new Float64Array(n);
    // p is smooth: evaluate it every 10 grid points and interpolate its logarithm.
    const coarse = 10;
    const nc = Math.ceil((n - 1) / coarse) + 1;
    const lp = new Float64Array(nc);
    for (let c = 0; c < nc; c++) lp[c] = Math.log(p(lo + c * coarse * this.step));
    for (let i = 0; i < n; i++) {
      const c = Math.min(nc - 2, Math.floor(i / coarse));
      const w = i / coarse - c;
      const lv = lo + i * this.step;
      // g is piecewise constant with jumps at half-integers: evaluate it just inside the cell.
      this.f[i] = g(Math.min(lv, hi - 1e-9)) / Math.exp(lp[c] * (1 - w) + lp[c + 1] * w);
    }
  }
  integral(a: number, b: number): number {
    a = Math.max(a, this.lo);
    b = Math.min(b, this.hi);
    if (!(b > a)) return 0;
    const x0 = (a - this.lo) / this.step,
      x1 = (b - this.lo) / this.step;
    const at = (x: number) => {
      const i = Math.min(this.f.length - 2, Math.floor(x));
      const w = x - i;
      return this.f[i] * (1 - w) + this.f[i + 1] * w;
    };
    let acc = 0;
    let x = x0;
    while (x < x1) {
      const next = Math.min(x1, Math.floor(x) + 1);
      acc += 0.5 * (at(x) + at(next)) * (next - x);
      x = next;
    }
    return acc * this.step;
  }
}

interface CrossingPath {
  zPrev: number;
  z: number;
  /** Digitised samples (pedestal 0) at ticks t − W … t, for the pedestal estimate. */
  raw: Int32Array;
  /** The latent w = x + q at ticks t − W … t and x at t (to continue the noise). */
  w: Float64Array;
  x: number;
}

/**
 * Draws the noise around an up-crossing of level `lv` at tick t: (z[t−1], z[t]) from their joint law given
 * z[t−1] ≤ lv < z[t] (z[t] from the tail, accepted with P(z[t−1] ≤ lv | z[t]); z[t−1] from the truncated
 * conditional), then the latent x, q at ticks t − W … t by Gaussian conditioning on those two values
 * (an unconditional draw corrected by K (z − A s), K = Σ Aᵀ (A Σ Aᵀ)⁻¹); `step` continues the noise.
 */
class CrossingSampler {
  private readonly n: number; // ticks t − W … t
  private readonly D: number;
  private readonly a: Float64Array;
  private readonly krig: Float64Array;
  private readonly s: number;
  private readonly sq: number;
  private ring = new Float64Array(0); // w[t − j] at index j
  private x = 0;
  private readonly lat: Float64Array;
  /** Reused by every draw: read it before the next one. */
  private readonly path: CrossingPath;

  constructor(
    private readonly sigma: number,
    private readonly rho: number,
    private readonly h: readonly number[],
    quantVar: number,
    private readonly sigmaZ: number,
    private readonly rhoZ: number,
    lookback: number,
  ) {
    const L = h.length;
    const n = Math.max(lookback, L) + 1;
    this.n = n;
    const D = (this.D = 2 * n);
    this.lat = new Float64Array(D);
    this.path = { zPrev: 0, z: 0, raw: new Int32Array(n), w: new Float64Array(n), x: 0 };
    this.s = sigma * Math.sqrt(1 - rho * rho);
    this.sq = Math.sqrt(quantVar);
    // Latent: x at ticks t − n + 1 … t (index i ↔ tick t − n + 1 + i), then q at the same ticks.
    this.a = new Float64Array(2 * D);
    for (let j = 0; j < L; j++) {
      this.a[D + n - 1 - j] += h[j];
      this.a[D + 2 * n - 1 - j] += h[j];
      this.a[n - 2 - j] += h[j];
      this.a[2 * n - 2 - j] += h[j];
    }
    // Σ is block diagonal: AR(1) for x, quantVar·I for q; Σ Aᵀ directly.
    const sa = new Float64Array(D * 2);
    for (let r = 0; r < 2; r++)
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += sigma * sigma * rho ** Math.abs(i - k) * this.a[r * D + k];
        sa[i * 2 + r] = acc;
        sa[(n + i) * 2 + r] = quantVar * this.a[r * D + n + i];
      }
    const m = [0, 0, 0, 0];
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 2; c++) {
        let acc = 0;
        for (let k = 0; k < D; k++) acc += this.a[r * D + k] * sa[k * 2 + c];
        m[r * 2 + c] = acc;
      }
    const det = m[0] * m[3] - m[1] * m[2];
    const inv = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
    this.krig = new Float64Array(D * 2);
    for (let i = 0; i < D; i++) for (let c = 0; c < 2; c++) this.krig[i * 2 + c] = sa[i * 2] * inv[c] + sa[i * 2 + 1] * inv[2 + c];
  }

  draw(lv: number, rng: Random): CrossingPath {
    const u = lv / this.sigmaZ;
    const rz = this.rhoZ;
    const sr = Math.sqrt(1 - rz * rz);
    let zt: number;
    for (;;) {
      zt = tailNormal(u, rng);
      if (rng.uniform() <= normalCdf((u - rz * zt) / sr)) break;
    }
    const mu = rz * zt;
    const zPrev = mu + sr * normalQuantile(rng.uniform() * normalCdf((u - mu) / sr));
    const { n, D } = this;
    const lat = this.lat;
    lat[0] = this.sigma * rng.normal();
    for (let i = 1; i < n; i++) lat[i] = this.rho * lat[i - 1] + this.s * rng.normal();
    for (let i = n; i < D; i++) lat[i] = this.sq * rng.normal();
    let a0 = 0,
      a1 = 0;
    for (let k = 0; k < D; k++) {
      a0 += this.a[k] * lat[k];
      a1 += this.a[D + k] * lat[k];
    }
    const e0 = zPrev * this.sigmaZ - a0,
      e1 = zt * this.sigmaZ - a1;
    for (let k = 0; k < D; k++) lat[k] += this.krig[k * 2] * e0 + this.krig[k * 2 + 1] * e1;
    const p = this.path;
    for (let i = 0; i < n; i++) {
      p.w[i] = lat[i] + lat[n + i];
      p.raw[i] = Math.round(p.w[i]);
    }
    p.zPrev = zPrev * this.sigmaZ;
    p.z = zt * this.sigmaZ;
    p.x = lat[n - 1];
    return p;
  }

  /** Continues the noise of `path` after its tick t. */
  resume(path: CrossingPath): void {
    const L = this.h.length;
    this.ring = new Float64Array(L);
    for (let j = 0; j < L; j++) this.ring[j] = path.w[path.w.length - 1 - j];
    this.x = path.x;
  }

  step(rng: Random): { z: number; raw: number } {
    const L = this.h.length;
    this.x = this.rho * this.x + this.s * rng.normal();
    for (let j = L - 1; j > 0; j--) this.ring[j] = this.ring[j - 1];
    this.ring[0] = this.x + this.sq * rng.normal();
    let z = 0;
    for (let j = 0; j < L; j++) z += this.h[j] * this.ring[j];
    return { z, raw: Math.round(this.ring[0]) };
  }
}
