// Signal interactions: νe-CC on ⁴⁰Ar (electron + ⁴⁰K* de-excitation γ) and ν–e elastic scattering.
// The generators return the primary particles; transport.ts makes them deposit energy.
import type { SimConfig } from './config.js';
import { ELECTRON_MASS_MEV as ME } from './materials.js';
import type { Random } from './random.js';

export const PROCESSES = ['nueCC', 'nueES'] as const;
export type Process = (typeof PROCESSES)[number];

export interface Primaries {
  process: Process;
  /** Kinetic energy of the outgoing electron, MeV (0 when the interaction is kinematically closed). */
  electronMeV: number;
  /** Electron direction relative to the neutrino: cos θ (NaN = isotropic). */
  electronCos: number;
  /** Excitation energy of ⁴⁰K*, MeV (0 for ES). */
  excitationMeV: number;
  /** De-excitation photon energies, MeV; they sum to excitationMeV. */
  gammas: number[];
}

/**
 * νe + ⁴⁰Ar → e⁻ + ⁴⁰K*. The level is drawn among those the energy reaches, with probability ∝
 * strength × p_e E_e (allowed phase space). E_e = Eν − Q − E_x (nuclear recoil neglected).
 * Below the lowest level the CC channel is closed: no particles, recorded as an invisible interaction.
 */
export function nueCC(cfg: SimConfig, eNu: number, rng: Random): Primaries {
  const { ccQMeV: q, ccLevelsMeV: levels, ccLevelStrengths: strengths } = cfg.signal;
  const weights = levels.map((ex, i) => {
    const t = eNu - q - ex;
    if (t <= 0) return 0;
    const etot = t + ME;
    return strengths[i] * Math.sqrt(etot * etot - ME * ME) * etot;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return { process: 'nueCC', electronMeV: 0, electronCos: NaN, excitationMeV: 0, gammas: [] };
  let r = rng.uniform() * total;
  let level = weights.length - 1;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0 && weights[i] > 0) {
      level = i;
      break;
    }
  }
  const ex = levels[level];
  return { process: 'nueCC', electronMeV: eNu - q - ex, electronCos: NaN, excitationMeV: ex, gammas: deexcitation(ex, rng) };
}

/**
 * Splits an excitation energy into 1–3 γ (PHYSICS.md: "E_x released as 1–3 de-excitation γ").
 * A generic cascade (multiplicity 1/2/3 with probability 0.25/0.45/0.30, energies by uniform
 * stick-breaking) — the ⁴⁰K level scheme is not modelled line by line. Energy is conserved exactly:
 * the last γ takes the remainder.
 */
export function deexcitation(ex: number, rng: Random): number[] {
  const r = rng.uniform();
  const n = r < 0.25 ? 1 : r < 0.7 ? 2 : 3;
  const out: number[] = [];
  let left = ex;
  for (let i = 0; i < n - 1; i++) {
    const e = left * rng.range(0.2, 0.8);
    out.push(e);
    left -= e;
  }
  out.push(left);
  return out;
}

/** Weak mixing angle sin²θ_W (PDG, low Q²). */
const SIN2_W = 0.231;

/**
 * ν_e + e⁻ → ν_e + e⁻ (CC + NC): dσ/dT ∝ g_L² + g_R² (1 − T/E)² − g_L g_R m T / E², with
 * g_L = ½ + sin²θ_W, g_R = sin²θ_W ('t Hooft 1971). The electron goes forward:
 * cos θ = (1 + m/E) √(T / (T + 2m)).
 */
export function nueES(eNu: number, rng: Random): Primaries {
  const gl = 0.5 + SIN2_W;
  const gr = SIN2_W;
  const tMax = (2 * eNu * eNu) / (ME + 2 * eNu);
  const fMax = gl * gl + gr * gr;
  let t: number;
  for (;;) {
    t = tMax * rng.uniform();
    const y = t / eNu;
    const f = gl * gl + gr * gr * (1 - y) ** 2 - (gl * gr * ME * t) / (eNu * eNu);
    if (rng.uniform() * fMax <= f) break;
  }
  const cos = Math.min(1, (1 + ME / eNu) * Math.sqrt(t / (t + 2 * ME)));
  return { process: 'nueES', electronMeV: t, electronCos: cos, excitationMeV: 0, gammas: [] };
}
