// A budget plan's training seeds, and a point's figures over them (`study --plan budget
// --budget-seeds`): kept apart from budget-plan.ts so that the report reads them without the
// native code the plan's measuring reaches.
import type { EndpointRow } from './endpoint-rows.js';

/** What these functions read of a finished training (budget-plan.ts's BudgetPoint). */
interface PointRows {
  trainImages: number;
  rows: EndpointRow[];
}

/** The training seeds of a plan: its trainSeeds, or its one seed. */
export const trainSeedsOf = (s: { seed: number; trainSeeds?: number[] }): number[] => s.trainSeeds ?? [s.seed];

/** One point at one rate over its training seeds: the mean efficiency, its error and, with several seeds, their spread. */
export interface OverSeeds {
  trainImages: number;
  /** Seeds with a reachable efficiency at this rate. */
  seeds: number;
  mean: number | null;
  /** One seed: its binomial error; several: the standard error of their mean (s.d. / √seeds). */
  err: number | null;
  min: number | null;
  max: number | null;
  /** Sample standard deviation between seeds (null with fewer than two). */
  sd: number | null;
  supernova: number | null;
}

/** Every point's trainings (one per seed) at a rate, as one figure per point, sorted by training images. */
export function pointsOverSeeds(points: readonly PointRows[], hz: number): OverSeeds[] {
  const sizes = [...new Set(points.map((p) => p.trainImages))].sort((a, b) => a - b);
  return sizes.map((n) => {
    const rows = points
      .filter((p) => p.trainImages === n)
      .map((p) => p.rows.find((r) => r.targetHz === hz))
      .filter((r): r is EndpointRow => r?.efficiency != null);
    const e = rows.map((r) => r.efficiency!);
    const k = e.length;
    const mean = k ? e.reduce((a, x) => a + x, 0) / k : null;
    const sd = k >= 2 ? Math.sqrt(e.reduce((a, x) => a + (x - mean!) ** 2, 0) / (k - 1)) : null;
    const sn = rows.map((r) => r.efficiencySupernova).filter((x): x is number => x != null);
    return {
      trainImages: n,
      seeds: k,
      mean,
      err: k === 1 ? (rows[0]!.efficiencyErr ?? null) : sd === null ? null : sd / Math.sqrt(k),
      min: k ? Math.min(...e) : null,
      max: k ? Math.max(...e) : null,
      sd,
      supernova: sn.length ? sn.reduce((a, x) => a + x, 0) / sn.length : null,
    };
  });
}
