// Particle transport in LAr, fast and parametric: electrons (continuous collision loss in steps,
// multiple scattering, discrete bremsstrahlung photons) and photons (exponential flights,
// Klein–Nishina Compton scattering, pair production, absorption at low energy). Everything ends
// as energy deposits converted to free electrons by recombination.
import type { SimConfig } from './config.js';
import { Deposits, Recombination, type Owner } from './deposits.js';
import { inside, type Geometry } from './geometry.js';
import {
  ELECTRON_MASS_MEV as ME,
  RADIATION_LENGTH_G_CM2,
  csdaRangeCm,
  electronCollisionStoppingPower,
  pairFraction,
  photonAttenuationCm,
} from './materials.js';
import type { Random } from './random.js';

/** Electrons below this kinetic energy deposit at a point: their CSDA range (≤ 1.6 mm) is a third of the
 *  4.79 mm wire pitch and no longer than the transverse diffusion at mid drift (σ ≈ 1.7 mm), so
 *  stepping them would not change which wires see the charge; their recombination uses the mean
 *  dE/dx over the range. This makes each ³⁹Ar decay one deposit instead of several. */
const POINT_ELECTRON_MEV = 0.5;
/** Longest electron step, cm: below half the wire pitch so a track lights every wire it crosses. */
const MAX_STEP_CM = 0.2;
/** Bremsstrahlung photons below this energy are not followed: their energy is deposited locally. */
const BREM_CUT_MEV = 0.5;
/** Photons below this energy are photo-absorbed on the spot (attenuation length < 1 cm). */
const PHOTON_ABSORB_MEV = 0.05;

export class Transport {
  private readonly x0Cm: number;
  private readonly rho: number;
  private readonly recomb: Recombination;
  /** Interaction time as the arrival tick of charge made at the anode (d = 0). */
  t0 = 0;
  owner: Owner = 0;
  /** Energy deposited inside the active volume by the current owner since the last reset. */
  visible = 0;
  /** End point of the last electron (for positron annihilation). */
  readonly end = new Float64Array(3);
  private readonly dir = new Float64Array(3);

  constructor(
    cfg: SimConfig,
    readonly geo: Geometry,
    readonly rng: Random,
    readonly deposits: Deposits,
  ) {
    this.rho = cfg.detector.densityGPerCm3;
    this.x0Cm = RADIATION_LENGTH_G_CM2 / this.rho;
    this.recomb = new Recombination(cfg);
  }

  /** Starts a new interaction (or decay): its time and owner. */
  begin(t0: number, owner: Owner): void {
    this.t0 = t0;
    this.owner = owner;
    this.visible = 0;
  }

  /** Deposits energy at a point with the given dE/dx (for recombination). */
  point(u: number, v: number, d: number, eMeV: number, dedx: number): void {
    if (eMeV <= 0 || !inside(this.geo, u, v, d)) return;
    this.visible += eMeV;
    this.deposits.push(u, v, d, this.t0, eMeV, this.recomb.electrons(eMeV, dedx), this.owner);
  }

  /** Deposits energy whose charge is given directly (quenched α). */
  pointCharge(u: number, v: number, d: number, eMeV: number, electrons: number): void {
    if (!inside(this.geo, u, v, d)) return;
    this.visible += eMeV;
    this.deposits.push(u, v, d, this.t0, eMeV, electrons, this.owner);
  }

  /** Electrons made per MeV before recombination. */
  get electronsPerMeV(): number {
    return this.recomb.electronsPerMeV;
  }

  /**
   * Tracks an electron (or positron) of kinetic energy t from (u, v, d) along the unit vector
   * (du, dv, dd). Returns its path length in cm; the end point is left in `this.end`.
   */
  electron(u: number, v: number, d: number, du: number, dv: number, dd: number, t: number): number {
    let path = 0;
    const rng = this.rng;
    while (t > POINT_ELECTRON_MEV) {
      const sCol = electronCollisionStoppingPower(t) * this.rho; // MeV/cm
      let ds = Math.min(MAX_STEP_CM, Math.max(0.01, 0.2 * csdaRangeCm(t)));
      // Bremsstrahlung (complete screening, dσ/dk ≈ (1/X0)(1/k)(4/3 − 4/3 y + y²), y = k/E), with the
      // same T/(T + 8 MeV) suppression as the radiative stopping power (materials.ts).
      const supp = t / (t + 8);
      if (t > BREM_CUT_MEV) {
        const mean = (ds / this.x0Cm) * (4 / 3) * Math.log(t / BREM_CUT_MEV) * supp;
        let n = mean < 0.05 ? (rng.uniform() < mean ? 1 : 0) : rng.poisson(mean);
        while (n-- > 0 && t > BREM_CUT_MEV) {
          const k = this.sampleBremK(t + ME, t);
          t -= k;
          this.photon(u, v, d, du, dv, dd, k);
        }
      }
      // Soft photons below the cut stay local: they add ≈ (ds/X0)·k_cut·supp to the deposit.
      let dE = sCol * ds + (ds / this.x0Cm) * BREM_CUT_MEV * supp;
      if (dE >= t) {
        ds *= t / dE;
        dE = t;
      }
      this.point(u + 0.5 * ds * du, v + 0.5 * ds * dv, d + 0.5 * ds * dd, dE, dE / ds);
      t -= dE;
      u += ds * du;
      v += ds * dv;
      d += ds * dd;
      path += ds;
      if (t <= 0) break;
      // Multiple scattering: Highland formula (PDG), θ0 = 13.6 MeV/(βcp) √(x/X0) (1 + 0.038 ln(x/X0)).
      const p = Math.sqrt(t * (t + 2 * ME));
      const beta = p / (t + ME);
      const xr = ds / this.x0Cm;
      const theta0 = (13.6 / (beta * p)) * Math.sqrt(xr) * (1 + 0.038 * Math.log(xr));
      const tx = theta0 * rng.normal();
      const ty = theta0 * rng.normal();
      const th = Math.min(Math.PI, Math.sqrt(tx * tx + ty * ty));
      this.dir[0] = du;
      this.dir[1] = dv;
      this.dir[2] = dd;
      rotate(this.dir, Math.cos(th), Math.atan2(ty, tx));
      du = this.dir[0];
      dv = this.dir[1];
      dd = this.dir[2];
    }
    if (t > 0) {
      // The rest stops within a fraction of a millimetre: one point at the mean dE/dx over its range.
      const r = csdaRangeCm(t);
      this.point(u, v, d, t, t / r);
      path += r;
    }
    this.end[0] = u;
    this.end[1] = v;
    this.end[2] = d;
    return path;
  }

  /** Photon energy k ∈ [cut, t] from the complete-screening spectrum (1/k sampling + rejection). */
  private sampleBremK(eTot: number, t: number): number {
    const lr = Math.log(t / BREM_CUT_MEV);
    for (;;) {
      const k = BREM_CUT_MEV * Math.exp(lr * this.rng.uniform());
      const y = k / eTot;
      if (this.rng.uniform() * (4 / 3) <= 4 / 3 - (4 / 3) * y + y * y) return k;
    }
  }

  /** Tracks a photon of energy e until it is absorbed or leaves the drift volume. */
  photon(u: number, v: number, d: number, du: number, dv: number, dd: number, e: number): void {
    const rng = this.rng;
    const dir = new Float64Array([du, dv, dd]);
    for (let guard = 0; guard < 1000; guard++) {
      if (e < PHOTON_ABSORB_MEV) {
        this.point(u, v, d, e, 10);
        return;
      }
      const s = rng.exponential(photonAttenuationCm(e));
      u += s * dir[0];
      v += s * dir[1];
      d += s * dir[2];
      if (!inside(this.geo, u, v, d)) return; // escapes this face's volume
      if (e < 0.1) {
        // Photo-absorption dominates below ≈ 0.1 MeV in argon: one local electron.
        this.point(u, v, d, e, e / csdaRangeCm(e));
        return;
      }
      if (rng.uniform() < pairFraction(e)) {
        const avail = e - 2 * ME;
        const te = avail * rng.uniform();
        // Leptons go forward within ≈ m/E; the positron annihilates at rest into two back-to-back 511 keV γ.
        this.electron(u, v, d, dir[0], dir[1], dir[2], te);
        const pu = this.electron(u, v, d, dir[0], dir[1], dir[2], avail - te);
        void pu;
        const a = this.end[0],
          b = this.end[1],
          c = this.end[2];
        const iso = rng.isotropic(new Float64Array(3));
        this.photon(a, b, c, iso[0], iso[1], iso[2], ME);
        this.photon(a, b, c, -iso[0], -iso[1], -iso[2], ME);
        return;
      }
      // Compton scattering: Klein–Nishina (the Geant4 G4KleinNishinaCompton sampling).
      const kappa = e / ME;
      const eps0 = 1 / (1 + 2 * kappa);
      const eps0sq = eps0 * eps0;
      const a1 = -Math.log(eps0);
      const a2 = (1 - eps0sq) / 2;
      let eps: number, onecost: number, sint2: number;
      for (;;) {
        if (a1 / (a1 + a2) > rng.uniform()) {
          eps = Math.exp(-a1 * rng.uniform());
        } else {
          eps = Math.sqrt(eps0sq + (1 - eps0sq) * rng.uniform());
        }
        onecost = (1 - eps) / (eps * kappa);
        sint2 = onecost * (2 - onecost);
        const g = 1 - (eps * sint2) / (1 + eps * eps);
        if (g >= rng.uniform()) break;
      }
      const ePrime = eps * e;
      const cosT = 1 - onecost;
      const phi = 2 * Math.PI * rng.uniform();
      const oldU = dir[0] * e,
        oldV = dir[1] * e,
        oldD = dir[2] * e;
      rotate(dir, cosT, phi);
      // The electron takes the momentum difference (p_e = p_γ − p_γ').
      let eu = oldU - ePrime * dir[0],
        ev = oldV - ePrime * dir[1],
        ed = oldD - ePrime * dir[2];
      const norm = Math.hypot(eu, ev, ed) || 1;
      eu /= norm;
      ev /= norm;
      ed /= norm;
      this.electron(u, v, d, eu, ev, ed, e - ePrime);
      e = ePrime;
    }
  }
}

/** Rotates unit vector `dir` by polar angle acos(cosT) and azimuth phi about itself. */
export function rotate(dir: Float64Array, cosT: number, phi: number): void {
  const sinT = Math.sqrt(Math.max(0, 1 - cosT * cosT));
  const cp = Math.cos(phi);
  const sp = Math.sin(phi);
  const [x, y, z] = dir;
  const s = Math.sqrt(Math.max(0, 1 - z * z));
  if (s > 1e-6) {
    dir[0] = x * cosT + (sinT * (x * z * cp - y * sp)) / s;
    dir[1] = y * cosT + (sinT * (y * z * cp + x * sp)) / s;
    dir[2] = z * cosT - sinT * cp * s;
  } else {
    dir[0] = sinT * cp;
    dir[1] = sinT * sp;
    dir[2] = (z >= 0 ? 1 : -1) * cosT;
  }
  const n = Math.hypot(dir[0], dir[1], dir[2]);
  dir[0] /= n;
  dir[1] /= n;
  dir[2] /= n;
}
