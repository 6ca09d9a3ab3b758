// Geometry of one APA collection face and its drift volume, derived once from the config.
// Coordinates (cm): u across the collection wires (channel axis, 0 … channels·pitch),
// v along the wires (invisible to the collection view, 0 … wire length), d = drift distance
// from the anode plane (0 … drift length). Time is in ticks of the readout window.
import type { SimConfig } from './config.js';

export interface Geometry {
  readonly channels: number;
  readonly pitchCm: number;
  readonly widthCm: number;
  readonly lengthCm: number;
  readonly driftCm: number;
  readonly windowTicks: number;
  /** Drift velocity in cm per tick. */
  readonly cmPerTick: number;
  /** Active LAr mass of the drift volume, kg. */
  readonly massKg: number;
  /** Readout window length, s. */
  readonly windowS: number;
  readonly densityGPerCm3: number;
}

export function makeGeometry(cfg: SimConfig): Geometry {
  const d = cfg.detector;
  const widthCm = d.channels * d.wirePitchCm;
  const volumeCm3 = widthCm * d.wireLengthCm * d.driftLengthCm;
  return {
    channels: d.channels,
    pitchCm: d.wirePitchCm,
    widthCm,
    lengthCm: d.wireLengthCm,
    driftCm: d.driftLengthCm,
    windowTicks: d.windowTicks,
    cmPerTick: d.driftVelocityCmPerUs * d.tickUs,
    massKg: (volumeCm3 * d.densityGPerCm3) / 1000,
    windowS: d.windowTicks * d.tickUs * 1e-6,
    densityGPerCm3: d.densityGPerCm3,
  };
}

/** True when the point lies in the face's drift volume. */
export function inside(g: Geometry, u: number, v: number, d: number): boolean {
  return u >= 0 && u < g.widthCm && v >= 0 && v < g.lengthCm && d >= 0 && d < g.driftCm;
}
