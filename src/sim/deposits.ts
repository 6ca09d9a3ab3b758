// Energy deposits of one image, as a growable structure of arrays (no per-deposit objects:
// an image has hundreds to thousands of them and this is the hot path). A deposit is converted
// to ionisation electrons at once (recombination), so later stages only move charge.
import type { SimConfig } from './config.js';
import { Columns } from './columns.js';

/** Who made a deposit: ≥ 0 is a signal interaction of the image, < 0 a background source. */
export type Owner = number;

/** Background sources, in the order used by every per-source table of the dataset. */
export const BACKGROUND_SOURCES = ['ar39', 'kr85', 'ar42', 'k42', 'rn222', 'po218', 'pb214', 'bi214', 'po214', 'ncapture', 'external_gamma'] as const;
export type BackgroundSource = (typeof BACKGROUND_SOURCES)[number];
/** Owner code of background source s (index into BACKGROUND_SOURCES). */
export const bgOwner = (s: number): Owner => -1 - s;
/** Index into BACKGROUND_SOURCES of a background owner code. */
export const bgIndex = (o: Owner): number => -1 - o;
/** Owner of TPs made by noise alone. */
export const NOISE_OWNER: Owner = -1000;

export class Recombination {
  private readonly a: number;
  private readonly scale: number; // k / (ρ E)
  private readonly perMeV: number; // electrons per MeV before recombination
  constructor(cfg: SimConfig) {
    const d = cfg.detector;
    this.a = d.boxA;
    this.scale = d.boxK / (d.densityGPerCm3 * d.fieldKvPerCm);
    this.perMeV = 1e6 / d.wValueEv;
  }
  /** Modified Box model (ArgoNeuT, JINST 8 P08005): R = ln(A + ξ) / ξ, ξ = k dE/dx / (ρ E). */
  survival(dedxMeVPerCm: number): number {
    const xi = this.scale * dedxMeVPerCm;
    if (xi < 1e-6) return 1;
    return Math.log(this.a + xi) / xi;
  }
  /** Free electrons from an energy deposit at the given dE/dx. */
  electrons(eMeV: number, dedxMeVPerCm: number): number {
    return eMeV * this.perMeV * this.survival(dedxMeVPerCm);
  }
  /** Electrons per MeV before recombination (1 / W). */
  get electronsPerMeV(): number {
    return this.perMeV;
  }
}

export class Deposits extends Columns {
  protected readonly columns = ['u', 'v', 'd', 't0', 'electrons', 'energy', 'owner'] as const;
  u = new Float64Array(1024);
  v = new Float64Array(1024);
  d = new Float64Array(1024);
  /** Arrival tick at the anode of charge made at drift distance 0 at the interaction time (t0 in ticks). */
  t0 = new Float64Array(1024);
  electrons = new Float64Array(1024);
  energy = new Float64Array(1024);
  owner = new Int32Array(1024);

  push(u: number, v: number, d: number, t0: number, energyMeV: number, electrons: number, owner: Owner): void {
    const i = this.addRow();
    this.u[i] = u;
    this.v[i] = v;
    this.d[i] = d;
    this.t0[i] = t0;
    this.energy[i] = energyMeV;
    this.electrons[i] = electrons;
    this.owner[i] = owner;
  }
}
