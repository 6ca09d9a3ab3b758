// Neutrino energy spectra for the signal: flat (efficiency curves over 1–70 MeV) and the
// pinched Fermi–Dirac form of a supernova burst, f(E) ∝ E^α exp(−(α+1) E/⟨E⟩) (Keil, Raffelt,
// Janka 2003), optionally weighted by the νe-CC cross-section shape ∝ (E − Q)² (PHYSICS.md).
import type { SimConfig } from './config.js';
import type { Random } from './random.js';

export interface EnergySampler {
  sample(rng: Random): number;
}

/** Builds the sampler once per config: the Fermi–Dirac case tabulates an inverse CDF. */
export function makeEnergySampler(cfg: SimConfig): EnergySampler {
  const s = cfg.signal;
  if (s.spectrum === 'flat') {
    return { sample: (rng) => rng.range(s.flatMinMeV, s.flatMaxMeV) };
  }
  const alpha = s.pinching;
  const mean = s.meanEnergyMeV;
  const q = s.ccQMeV;
  const eMax = Math.max(100, 10 * mean);
  const n = 4096;
  const cdf = new Float64Array(n + 1);
  const de = eMax / n;
  for (let i = 1; i <= n; i++) {
    const e = (i - 0.5) * de;
    let f = e ** alpha * Math.exp((-(alpha + 1) * e) / mean);
    if (s.weightByCrossSection) f *= e > q ? (e - q) ** 2 : 0;
    cdf[i] = cdf[i - 1] + f;
  }
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
