// Liquid-argon properties used by the particle transport: electron stopping powers, the CSDA
// range table the simulation is checked against, and photon attenuation. Per gram, so that a
// different density (config) scales them.

export const ELECTRON_MASS_MEV = 0.51099895; // PDG
/** Radiation length of argon, g/cm² (PDG: 19.55 g/cm² ≈ 14 cm in LAr, PHYSICS.md). */
export const RADIATION_LENGTH_G_CM2 = 19.55;
/** Critical energy of argon for electrons, MeV (PHYSICS.md: ≈ 32 MeV). */
export const CRITICAL_ENERGY_MEV = 32;

// Bethe formula constants for argon (PDG "Atomic and nuclear properties", liquid argon).
const Z_OVER_A = 18 / 39.948;
const I_MEV = 188.0e-6; // mean excitation energy
// Sternheimer density-effect parameters for liquid argon (PDG table).
const STERN = { C: 5.2146, x0: 0.2, x1: 3.0, a: 0.19559, k: 3.0 };
const K_BETHE = 0.307075; // 4π N_A r_e² m_e c², MeV cm²/mol

/** Collision (ionisation) stopping power of an electron of kinetic energy T (MeV), MeV cm²/g.
 *  Rohrlich–Carlson form of the Bethe formula for electrons (ICRU 37) with the density effect. */
export function electronCollisionStoppingPower(tMeV: number): number {
  const t = Math.max(tMeV, 1e-3) / ELECTRON_MASS_MEV; // τ, kinetic energy in units of m c²
  const gamma = t + 1;
  const beta2 = 1 - 1 / (gamma * gamma);
  const f = 1 - beta2 + ((t * t) / 8 - (2 * t + 1) * Math.LN2) / ((t + 1) * (t + 1));
  const x = Math.log10(Math.sqrt(gamma * gamma - 1));
  let delta = 0;
  if (x >= STERN.x1) delta = 2 * Math.LN10 * x - STERN.C;
  else if (x >= STERN.x0) delta = 2 * Math.LN10 * x - STERN.C + STERN.a * (STERN.x1 - x) ** STERN.k;
  const iRatio = I_MEV / ELECTRON_MASS_MEV;
  const bracket = Math.log((t * t * (t + 2)) / (2 * iRatio * iRatio)) + f - delta;
  return Math.max(((0.5 * K_BETHE * Z_OVER_A) / beta2) * bracket, 0.5);
}

/** Radiative stopping power, MeV cm²/g: E_total / X0 in the high-energy limit, suppressed by
 *  T / (T + 8 MeV) below, which follows ESTAR's argon radiative stopping power within ≈ 20 %
 *  (≈ ½ E/X0 at 10 MeV, ≈ 0.9 E/X0 at 70 MeV). */
export function electronRadiativeStoppingPower(tMeV: number): number {
  return ((tMeV + ELECTRON_MASS_MEV) / RADIATION_LENGTH_G_CM2) * (tMeV / (tMeV + 8));
}

/** Total stopping power, MeV cm²/g. */
export function electronTotalStoppingPower(tMeV: number): number {
  return electronCollisionStoppingPower(tMeV) + electronRadiativeStoppingPower(tMeV);
}

/** CSDA range of electrons in LAr, cm, tabulated: PHYSICS.md gives 0.47 cm (1 MeV), 4.2 cm (10 MeV),
 *  10 cm (30 MeV), 18 cm (70 MeV); the low-energy points are NIST ESTAR (argon, ρ = 1.396 g/cm³).
 *  This is the reference the stepping simulation is tested against, not what drives it. */
export const CSDA_RANGE_TABLE_CM: readonly (readonly [number, number])[] = [
  [0.01, 2.3e-4],
  [0.05, 3.9e-3],
  [0.1, 1.35e-2],
  [0.3, 7.6e-2],
  [0.5, 0.16],
  [1, 0.47],
  [3, 1.45],
  [10, 4.2],
  [30, 10],
  [70, 18],
];

/** Log–log interpolation of the CSDA range table, cm. */
export function csdaRangeCm(tMeV: number): number {
  return CSDA_FAST.at(tMeV);
}

/** Photon attenuation length in LAr, cm, by energy (MeV): PHYSICS.md gives 12 cm (1 MeV), 20 cm (3 MeV),
 *  26 cm (6 MeV); the other points are NIST XCOM (argon, total with coherent, ρ = 1.396 g/cm³). */
const PHOTON_ATTENUATION_CM: readonly (readonly [number, number])[] = [
  [0.05, 0.85],
  [0.1, 3.8],
  [0.2, 5.8],
  [0.5, 8.5],
  [1, 12],
  [3, 20],
  [6, 26],
  [10, 27.3],
  [20, 26.9],
  [50, 24],
  [100, 22.5],
];

export function photonAttenuationCm(eMeV: number): number {
  return ATTEN_FAST.at(eMeV);
}

/** Fraction of photon interactions that are pair production (XCOM, argon); the rest are Compton
 *  (photo-absorption is folded in below 0.1 MeV, where the photon is absorbed locally). */
const PAIR_FRACTION: readonly (readonly [number, number])[] = [
  [1.022, 0],
  [2, 0.02],
  [5, 0.2],
  [10, 0.42],
  [20, 0.63],
  [50, 0.82],
  [100, 0.9],
];

export function pairFraction(eMeV: number): number {
  if (eMeV <= 1.022) return 0;
  return linInterp(PAIR_FRACTION, eMeV);
}

function logLogInterp(table: readonly (readonly [number, number])[], x: number): number {
  const n = table.length;
  if (x <= table[0][0]) return table[0][1] * (x / table[0][0]) ** (Math.log(table[1][1] / table[0][1]) / Math.log(table[1][0] / table[0][0]));
  let i = 1;
  while (i < n - 1 && table[i][0] < x) i++;
  const [x0, y0] = table[i - 1];
  const [x1, y1] = table[i];
  const s = Math.log(y1 / y0) / Math.log(x1 / x0);
  return y0 * (x / x0) ** s;
}

function linInterp(table: readonly (readonly [number, number])[], x: number): number {
  const n = table.length;
  if (x <= table[0][0]) return table[0][1];
  if (x >= table[n - 1][0]) return table[n - 1][1];
  let i = 1;
  while (table[i][0] < x) i++;
  const [x0, y0] = table[i - 1];
  const [x1, y1] = table[i];
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** A log–log table resampled on a dense logarithmic grid: one Math.log per lookup instead of a
 *  search and a power (this is called at every electron step and photon flight). */
class DenseLogTable {
  private readonly y: Float64Array;
  private readonly lnLo: number;
  private readonly perLn: number;
  constructor(
    private readonly table: readonly (readonly [number, number])[],
    lo: number,
    hi: number,
    private readonly n = 2048,
  ) {
    this.lnLo = Math.log(lo);
    this.perLn = n / (Math.log(hi) - this.lnLo);
    this.y = new Float64Array(n + 1);
    for (let i = 0; i <= n; i++) this.y[i] = logLogInterp(table, Math.exp(this.lnLo + i / this.perLn));
  }
  at(x: number): number {
    const f = (Math.log(x) - this.lnLo) * this.perLn;
    if (!(f >= 0) || f >= this.n) return logLogInterp(this.table, x);
    const i = Math.floor(f);
    const w = f - i;
    return this.y[i] * (1 - w) + this.y[i + 1] * w;
  }
}

const CSDA_FAST = new DenseLogTable(CSDA_RANGE_TABLE_CM, 0.005, 200);
const ATTEN_FAST = new DenseLogTable(PHOTON_ATTENUATION_CM, 0.02, 200);
