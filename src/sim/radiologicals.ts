// Radiological backgrounds in the drift volume: β emitters (³⁹Ar, ⁸⁵Kr, ⁴²Ar, ⁴²K), ²²²Rn α,
// optional neutron captures (6.1 MeV γ cascade) and external γ entering through the faces.
// Decays whose charge arrives in the window are ∝ activity × mass × window (steady state), so
// arrival times are uniform over the window and positions uniform over the volume.
import type { SimConfig } from './config.js';
import { BACKGROUND_SOURCES, bgOwner } from './deposits.js';
import { ELECTRON_MASS_MEV as ME } from './materials.js';
import type { Random } from './random.js';
import type { Transport } from './transport.js';

const ALPHA_FS = 1 / 137.036;

/** A β spectrum: allowed shape p E (Q − T)² F(Z, E), times (p² + q²) for first-forbidden unique
 *  transitions (³⁹Ar, ⁸⁵Kr, ⁴²Ar, ⁴²K are all 1st-forbidden unique). Sampled by inverse CDF. */
export class BetaSpectrum {
  private readonly cdf: Float64Array;
  private readonly n = 512;
  constructor(readonly qMeV: number, readonly zDaughter: number, readonly uniqueForbidden: boolean) {
    this.cdf = new Float64Array(this.n + 1);
    for (let i = 1; i <= this.n; i++) {
      const t = ((i - 0.5) / this.n) * qMeV;
      this.cdf[i] = this.cdf[i - 1] + this.density(t);
    }
    const total = this.cdf[this.n];
    for (let i = 0; i <= this.n; i++) this.cdf[i] /= total;
  }

  /** Unnormalised dN/dT. */
  density(t: number): number {
    if (t <= 0 || t >= this.qMeV) return 0;
    const e = t + ME;
    const p = Math.sqrt(e * e - ME * ME);
    const q = this.qMeV - t;
    // Non-relativistic Fermi function F = 2πη / (1 − e^(−2πη)), η = Z α E / p (β⁻).
    const eta = (this.zDaughter * ALPHA_FS * e) / p;
    const fermi = (2 * Math.PI * eta) / (1 - Math.exp(-2 * Math.PI * eta));
    const shape = this.uniqueForbidden ? p * p + q * q : 1;
    return p * e * q * q * fermi * shape;
  }

  sample(rng: Random): number {
    const r = rng.uniform();
    let lo = 0;
    let hi = this.n;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid] < r) lo = mid;
      else hi = mid;
    }
    const span = this.cdf[hi] - this.cdf[lo];
    return ((lo + (span > 0 ? (r - this.cdf[lo]) / span : 0.5)) / this.n) * this.qMeV;
  }
}

// Q-values (PHYSICS.md; ENSDF): ³⁹Ar 0.565 MeV → ³⁹K; ⁸⁵Kr 0.687 MeV → ⁸⁵Rb; ⁴²Ar 0.599 MeV → ⁴²K;
// ⁴²K 3.525 MeV → ⁴²Ca (82 %), else 2.00 MeV β + 1.525 MeV γ (18 %).
const AR39 = new BetaSpectrum(0.565, 19, true);
const KR85 = new BetaSpectrum(0.687, 37, true);
const AR42 = new BetaSpectrum(0.599, 19, true);
const K42_GS = new BetaSpectrum(3.525, 20, true);
const K42_EX = new BetaSpectrum(2.0, 20, false);
const K42_GAMMA_MEV = 1.5246;
const K42_EXCITED_BRANCH = 0.18;
/** ²²²Rn α energy, MeV (PHYSICS.md: 5.5 MeV). */
const RN222_ALPHA_MEV = 5.49;
/** ⁴¹Ar capture cascades summing to the 6.099 MeV neutron separation energy (representative
 *  lines after the ⁴⁰Ar(n,γ) evaluation; branching approximate). */
const NCAPTURE_CASCADES: readonly (readonly [number, readonly number[]])[] = [
  [0.4, [4.745, 1.187, 0.167]],
  [0.3, [5.582, 0.517]],
  [0.2, [3.7, 1.044, 1.188, 0.167]],
  [0.1, [6.099]],
];
/** External γ lines, MeV (PHYSICS.md: ⁴⁰K 1.46, ²⁰⁸Tl 2.6). */
const EXTERNAL_LINES = [1.461, 2.614];

export const BETA_SPECTRA = { ar39: AR39, kr85: KR85, ar42: AR42, k42: K42_GS } as const;

/** Expected decays per window of each source (same order as BACKGROUND_SOURCES). */
export function expectedDecays(cfg: SimConfig, massKg: number, windowS: number): number[] {
  const b = cfg.background;
  const act = (s: { enabled: boolean; activityBqPerKg: number; scale: number }) =>
    s.enabled ? s.activityBqPerKg * s.scale * massKg * windowS : 0;
  return BACKGROUND_SOURCES.map((name) => {
    switch (name) {
      case 'ar39': return act(b.ar39);
      case 'kr85': return act(b.kr85);
      case 'ar42': return act(b.ar42);
      case 'k42': return act(b.k42);
      case 'rn222': return act(b.rn222);
      case 'ncapture': return b.neutronCapture.enabled ? b.neutronCapture.perImage : 0;
      case 'external_gamma': return b.externalGamma.enabled ? b.externalGamma.perImage : 0;
    }
  });
}

/** Simulates every background of one image; returns the number of decays per source. */
export function simulateBackgrounds(cfg: SimConfig, tr: Transport, rng: Random): Int32Array {
  const g = tr.geo;
  const expected = expectedDecays(cfg, g.massKg, g.windowS);
  const counts = new Int32Array(BACKGROUND_SOURCES.length);
  const dir = new Float64Array(3);
  for (let s = 0; s < BACKGROUND_SOURCES.length; s++) {
    const n = rng.poisson(expected[s]);
    counts[s] = n;
    const name = BACKGROUND_SOURCES[s];
    for (let i = 0; i < n; i++) {
      let u = rng.uniform() * g.widthCm;
      let v = rng.uniform() * g.lengthCm;
      let d = rng.uniform() * g.driftCm;
      // Charge from drift distance d arrives at tick t0 + d / v_drift; uniform arrival over the window.
      const arrival = rng.uniform() * g.windowTicks;
      tr.begin(arrival - d / g.cmPerTick, bgOwner(s));
      rng.isotropic(dir);
      switch (name) {
        case 'ar39': tr.electron(u, v, d, dir[0], dir[1], dir[2], AR39.sample(rng)); break;
        case 'kr85': tr.electron(u, v, d, dir[0], dir[1], dir[2], KR85.sample(rng)); break;
        case 'ar42': tr.electron(u, v, d, dir[0], dir[1], dir[2], AR42.sample(rng)); break;
        case 'k42':
          if (rng.uniform() < K42_EXCITED_BRANCH) {
            tr.electron(u, v, d, dir[0], dir[1], dir[2], K42_EX.sample(rng));
            rng.isotropic(dir);
            tr.photon(u, v, d, dir[0], dir[1], dir[2], K42_GAMMA_MEV);
          } else {
            tr.electron(u, v, d, dir[0], dir[1], dir[2], K42_GS.sample(rng));
          }
          break;
        case 'rn222': {
          // α range in LAr ≈ 40 µm: a point; quenching leaves only a few % of the charge.
          const e = RN222_ALPHA_MEV;
          tr.pointCharge(u, v, d, e, e * tr.electronsPerMeV * cfg.background.alphaChargeFraction);
          break;
        }
        case 'ncapture': {
          let r = rng.uniform();
          let cascade = NCAPTURE_CASCADES[NCAPTURE_CASCADES.length - 1][1];
          for (const [p, lines] of NCAPTURE_CASCADES) {
            r -= p;
            if (r < 0) { cascade = lines; break; }
          }
          for (const e of cascade) {
            rng.isotropic(dir);
            tr.photon(u, v, d, dir[0], dir[1], dir[2], e);
          }
          break;
        }
        case 'external_gamma': {
          // Enters through one of the six faces, chosen by area, with a cosine-weighted inward direction.
          const areas = [g.lengthCm * g.driftCm, g.widthCm * g.driftCm, g.widthCm * g.lengthCm];
          const tot = 2 * (areas[0] + areas[1] + areas[2]);
          let pick = rng.uniform() * tot;
          let axis = 0;
          while (axis < 2 && pick >= 2 * areas[axis]) { pick -= 2 * areas[axis]; axis++; }
          const high = pick >= areas[axis];
          const cosIn = Math.sqrt(rng.uniform());
          const sinIn = Math.sqrt(1 - cosIn * cosIn);
          const phi = 2 * Math.PI * rng.uniform();
          const a = sinIn * Math.cos(phi), b = sinIn * Math.sin(phi), c = high ? -cosIn : cosIn;
          const eps = 1e-6;
          if (axis === 0) { u = high ? g.widthCm - eps : eps; dir[0] = c; dir[1] = a; dir[2] = b; }
          else if (axis === 1) { v = high ? g.lengthCm - eps : eps; dir[0] = a; dir[1] = c; dir[2] = b; }
          else { d = high ? g.driftCm - eps : eps; dir[0] = a; dir[1] = b; dir[2] = c; }
          tr.begin(arrival - d / g.cmPerTick, bgOwner(s));
          tr.photon(u, v, d, dir[0], dir[1], dir[2], EXTERNAL_LINES[rng.int(EXTERNAL_LINES.length)]);
          break;
        }
      }
    }
  }
  return counts;
}
