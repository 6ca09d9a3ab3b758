// Neutrino energy spectra for the signal: flat (efficiency curves over 1–70 MeV) and the
// pinched Fermi–Dirac form of a supernova burst, f(E) ∝ E^α exp(−(α+1) E/⟨E⟩) (Keil, Raffelt,
// Janka, ApJ 590 (2003) 971), optionally weighted by the νe-CC cross-section shape ∝ (E − Q)²
// above threshold (PHYSICS.md). One formula, `ccSpectrumDensity`, serves the simulator's
// sampler and the spectrum-averaged efficiency of the trigger figures.
import type { SimConfig } from './config.js';
import type { Random } from './random.js';

export interface EnergySampler {
  sample(rng: Random): number;
}

export interface CcSpectrumOptions {
  /** ⟨E⟩ of the νe flux, MeV. */
  meanEnergyMeV: number;
  /** Pinching α (α = 2 is a Maxwell–Boltzmann-like shape; larger = narrower). */
  alpha: number;
  /** νe-CC threshold Q on ⁴⁰Ar, MeV. */
  ccQMeV: number;
  /** Weight the flux by the cross-section shape (E − Q)² (default true: the spectrum of
   *  interactions, not of the flux). */
  weightByCrossSection?: boolean;
}

/** Defaults of the supernova spectrum: ⟨E⟩ = 11 MeV and α = 2.5, the νe values of
 *  PHYSICS.md (range 9–14 MeV), which sit in the band of the Garching 1D models' time-integrated
 *  νe spectra fitted by the pinched form in Keil, Raffelt, Janka (2003); Q = 1.5 MeV (⁴⁰Ar → ⁴⁰K). */
export const DEFAULT_CC_SPECTRUM: Required<CcSpectrumOptions> = {
  meanEnergyMeV: 11,
  alpha: 2.5,
  ccQMeV: 1.5,
  weightByCrossSection: true,
};

/** The unnormalised shape: flux × (optionally) cross-section. */
function shape(e: number, o: Required<CcSpectrumOptions>): number {
  if (!(e > 0)) return 0;
  let f = e ** o.alpha * Math.exp((-(o.alpha + 1) * e) / o.meanEnergyMeV);
  if (o.weightByCrossSection) f *= e > o.ccQMeV ? (e - o.ccQMeV) ** 2 : 0;
  return f;
}

/** Upper end of the sampler's table (as before the density was split out). */
function samplerEndMeV(meanEnergyMeV: number): number {
  return Math.max(100, 10 * meanEnergyMeV);
}

/** Upper end of the normalisation integral: exp(−(α+1)E/⟨E⟩) < e⁻⁶⁰ beyond it, so even the
 *  (E − Q)² E^α factor leaves a tail ≪ 10⁻⁹ of the integral. */
function integralEndMeV(o: Required<CcSpectrumOptions>): number {
  return o.ccQMeV + (o.meanEnergyMeV * (60 + 2 * o.alpha)) / (o.alpha + 1);
}

const normCache = new Map<string, number>();

/** ∫₀^∞ shape dE by the midpoint rule on 2·10⁵ bins over [0, integralEndMeV] (relative error
 *  ≪ 10⁻⁶ for α ≥ 0: the integrand is smooth and its tail beyond the end is negligible). */
function normalisation(o: Required<CcSpectrumOptions>): number {
  const key = `${o.meanEnergyMeV}|${o.alpha}|${o.ccQMeV}|${o.weightByCrossSection}`;
  const hit = normCache.get(key);
  if (hit !== undefined) return hit;
  const n = 200_000;
  const de = integralEndMeV(o) / n;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += shape((i + 0.5) * de, o);
  const total = sum * de;
  normCache.set(key, total);
  return total;
}

/** The supernova νe-CC spectrum as a probability density in Eν (per MeV, integrating to 1 over
 *  0…∞): pinched Fermi–Dirac flux × (optionally) the νe-CC cross-section shape (E − Q)². */
export function ccSpectrumDensity(energiesMeV: ArrayLike<number>, o: CcSpectrumOptions): Float64Array {
  const full: Required<CcSpectrumOptions> = { ...o, weightByCrossSection: o.weightByCrossSection ?? true };
  if (!(full.meanEnergyMeV > 0) || !(full.alpha >= 0) || !(full.ccQMeV >= 0)) {
    throw new RangeError(`ccSpectrumDensity: need ⟨E⟩ > 0, α ≥ 0, Q ≥ 0 (got ${full.meanEnergyMeV}, ${full.alpha}, ${full.ccQMeV})`);
  }
  const norm = normalisation(full);
  const out = new Float64Array(energiesMeV.length);
  for (let i = 0; i < out.length; i++) out[i] = shape(energiesMeV[i], full) / norm;
  return out;
}

/** Builds the sampler once per config: the Fermi–Dirac case tabulates an inverse CDF of
 *  `ccSpectrumDensity`. */
export function makeEnergySampler(cfg: SimConfig): EnergySampler {
  const s = cfg.signal;
  if (s.spectrum === 'flat') {
    return { sample: (rng) => rng.range(s.flatMinMeV, s.flatMaxMeV) };
  }
  const eMax = samplerEndMeV(s.meanEnergyMeV);
  const n = 4096;
  const de = eMax / n;
  const mids = new Float64Array(n);
  for (let i = 0; i < n; i++) mids[i] = (i + 0.5) * de;
  const density = ccSpectrumDensity(mids, {
    meanEnergyMeV: s.meanEnergyMeV,
    alpha: s.pinching,
    ccQMeV: s.ccQMeV,
    weightByCrossSection: s.weightByCrossSection,
  });
  const cdf = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) cdf[i] = cdf[i - 1] + density[i - 1];
  const total = cdf[n];
  for (let i = 0; i <= n; i++) cdf[i] /= total;
  return {
    sample(rng) {
      const r = rng.uniform();
      let lo = 0;
      let hi = n;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] < r) lo = mid;
        else hi = mid;
      }
      const span = cdf[hi] - cdf[lo];
      const frac = span > 0 ? (r - cdf[lo]) / span : 0.5;
      return (lo + frac) * de;
    },
  };
}
