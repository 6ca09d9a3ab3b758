// Radiological backgrounds in the drift volume at DUNE's radiological model (config.ts cites it):
// β emitters (³⁹Ar, ⁸⁵Kr, ⁴²Ar, ⁴²K), ²²²Rn and its daughters (²¹⁸Po, ²¹⁴Pb, ²¹⁴Bi, ²¹⁴Po), neutron
// captures (6.1 MeV γ cascade) and optional external γ entering a face next to the cryostat wall.
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
  constructor(
    readonly qMeV: number,
    readonly zDaughter: number,
    readonly uniqueForbidden: boolean,
  ) {
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
/** α energies, MeV (ENSDF): ²²²Rn 5.49, ²¹⁸Po 6.00, ²¹⁴Po 7.69. */
const ALPHA_MEV = { rn222: 5.49, po218: 6.002, po214: 7.687 } as const;
/** ²¹⁴Pb β⁻ (Q = 1.019 MeV, ENSDF, rounded branches): 48 % to the 352 keV level, 42 % to 295 keV, 10 % to
 *  the ground state; the level de-excites by one γ. Treated as allowed transitions. */
const PB214_BRANCHES: readonly (readonly [number, BetaSpectrum, number])[] = [
  [0.48, new BetaSpectrum(1.019 - 0.352, 83, false), 0.352],
  [0.42, new BetaSpectrum(1.019 - 0.295, 83, false), 0.295],
  [0.1, new BetaSpectrum(1.019, 83, false), 0],
];
/** ²¹⁴Bi β⁻ (Q = 3.27 MeV): 19 % to the ground state, else (simplified) to the 609 keV level and its γ;
 *  the higher ²¹⁴Po levels and their cascades are folded into that one branch. */
const BI214_BRANCHES: readonly (readonly [number, BetaSpectrum, number])[] = [
  [0.19, new BetaSpectrum(3.27, 84, false), 0],
  [0.81, new BetaSpectrum(3.27 - 0.609, 84, false), 0.609],
];
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
export function expectedDecays(cfg: SimConfig, massKg: number, windowS: number, anodeAreaCm2 = 0): number[] {
  const b = cfg.background;
  const act = (s: { enabled: boolean; activityBqPerKg: number; scale: number }) => (s.enabled ? s.activityBqPerKg * s.scale * massKg * windowS : 0);
  return BACKGROUND_SOURCES.map((name) => {
    switch (name) {
      case 'ncapture':
        return neutronCapturesPerWindow(cfg, windowS);
      case 'external_gamma': {
        const e = b.externalGamma;
        return e.enabled ? e.gammasPerCm2PerS * e.inwardFraction * e.scale * anodeAreaCm2 * windowS : 0;
      }
      default:
        return act(b[name]);
    }
  });
}

/** Neutron captures per face per window: inward neutrons over the module's LAr boundary, shared by its faces. */
export function neutronCapturesPerWindow(cfg: SimConfig, windowS: number): number {
  const n = cfg.background.neutronCapture;
  if (!n.enabled) return 0;
  return (n.neutronsPerCm2PerS * n.inwardFraction * n.moduleSurfaceM2 * 1e4 * n.scale * windowS) / n.facesPerModule;
}

/** Draws a branch [probability, β spectrum, γ MeV] and emits its β and γ from one point. */
function betaGamma(
  tr: Transport,
  rng: Random,
  dir: Float64Array,
  u: number,
  v: number,
  d: number,
  branches: readonly (readonly [number, BetaSpectrum, number])[],
): void {
  let r = rng.uniform();
  let pick = branches[branches.length - 1];
  for (const br of branches) {
    r -= br[0];
    if (r < 0) {
      pick = br;
      break;
    }
  }
  tr.electron(u, v, d, dir[0], dir[1], dir[2], pick[1].sample(rng));
  if (pick[2] > 0) {
    rng.isotropic(dir);
    tr.photon(u, v, d, dir[0], dir[1], dir[2], pick[2]);
  }
}

/** Simulates every background of one image; returns the number of decays per source. */
export function simulateBackgrounds(cfg: SimConfig, tr: Transport, rng: Random): Int32Array {
  const g = tr.geo;
  const expected = expectedDecays(cfg, g.massKg, g.windowS, g.widthCm * g.lengthCm);
  const counts = new Int32Array(BACKGROUND_SOURCES.length);
  const dir = new Float64Array(3);
  for (let s = 0; s < BACKGROUND_SOURCES.length; s++) {
    const n = rng.poisson(expected[s]);
    counts[s] = n;
    const name = BACKGROUND_SOURCES[s];
    for (let i = 0; i < n; i++) {
      const u = rng.uniform() * g.widthCm;
      const v = rng.uniform() * g.lengthCm;
      let d = rng.uniform() * g.driftCm;
      // Charge from drift distance d arrives at tick t0 + d / v_drift; uniform arrival over the window.
      const arrival = rng.uniform() * g.windowTicks;
      tr.begin(arrival - d / g.cmPerTick, bgOwner(s));
      rng.isotropic(dir);
      switch (name) {
        case 'ar39':
          tr.electron(u, v, d, dir[0], dir[1], dir[2], AR39.sample(rng));
          break;
        case 'kr85':
          tr.electron(u, v, d, dir[0], dir[1], dir[2], KR85.sample(rng));
          break;
        case 'ar42':
          tr.electron(u, v, d, dir[0], dir[1], dir[2], AR42.sample(rng));
          break;
        case 'k42':
          if (rng.uniform() < K42_EXCITED_BRANCH) {
            tr.electron(u, v, d, dir[0], dir[1], dir[2], K42_EX.sample(rng));
            rng.isotropic(dir);
            tr.photon(u, v, d, dir[0], dir[1], dir[2], K42_GAMMA_MEV);
          } else {
            tr.electron(u, v, d, dir[0], dir[1], dir[2], K42_GS.sample(rng));
          }
          break;
        case 'rn222':
        case 'po218':
        case 'po214': {
          // α range in LAr ≈ 40–60 µm: a point; quenching leaves only a few % of the charge.
          const e = ALPHA_MEV[name];
          tr.pointCharge(u, v, d, e, e * tr.electronsPerMeV * cfg.background.alphaChargeFraction);
          break;
        }
        case 'pb214':
          betaGamma(tr, rng, dir, u, v, d, PB214_BRANCHES);
          break;
        case 'bi214':
          betaGamma(tr, rng, dir, u, v, d, BI214_BRANCHES);
          break;
        case 'ncapture': {
          let r = rng.uniform();
          let cascade = NCAPTURE_CASCADES[NCAPTURE_CASCADES.length - 1][1];
          for (const [p, lines] of NCAPTURE_CASCADES) {
            r -= p;
            if (r < 0) {
              cascade = lines;
              break;
            }
          }
          for (const e of cascade) {
            rng.isotropic(dir);
            tr.photon(u, v, d, dir[0], dir[1], dir[2], e);
          }
          break;
        }
        case 'external_gamma': {
          // Enters through the anode side (d = 0) of a face whose APA backs onto the cryostat wall, with a
          // cosine-weighted inward direction (an isotropic flux crossing a plane).
          const cosIn = Math.sqrt(rng.uniform());
          const sinIn = Math.sqrt(1 - cosIn * cosIn);
          const phi = 2 * Math.PI * rng.uniform();
          d = 1e-6;
          tr.begin(arrival - d / g.cmPerTick, bgOwner(s));
          tr.photon(u, v, d, sinIn * Math.cos(phi), sinIn * Math.sin(phi), cosIn, EXTERNAL_LINES[rng.int(EXTERNAL_LINES.length)]);
          break;
        }
      }
    }
  }
  return counts;
}
