// Options of the YOLOv3 loss (LOSS.md), their defaults, and the `seed` preset (the Bristol study).

export type ObjLoss = 'mse' | 'bce';
export type ObjTarget = 'one' | 'iou';
/**
 * How per-scale losses become the optimised objective:
 * - 'sqrt-per-scale': Σ_s sqrt(Σ_b loss_s(b))  (keras-yolo3: dummy_loss = sqrt(sum) per output)
 * - 'sqrt-total':     sqrt(Σ_s Σ_b loss_s(b))
 * - 'sum':            Σ_s Σ_b loss_s(b)
 * - 'mean':           (1/B) Σ_s Σ_b loss_s(b)
 */
export type Reduction = 'sqrt-per-scale' | 'sqrt-total' | 'sum' | 'mean';

export interface LossOptions {
  objLoss: ObjLoss;
  objTarget: ObjTarget;
  reduction: Reduction;
  ignoreThresh: number;
  objScale: number;
  noobjScale: number;
  xywhScale: number;
  classScale: number;
  /** Per-scale weight, coarse first. */
  gridScales: number[];
  /** Training batches (0-based index below this) that use warm-up targets. */
  warmupBatches: number;
  compat: {
    /**
     * 'pixels': every truth box in one unit (correct). 'owner-grid': keras-yolo3's defect —
     * centres in the owning scale's grid units, divided by every scale's grid in the ignore mask.
     */
    trueBoxUnits: 'pixels' | 'owner-grid';
  };
}

export const defaultLossOptions: LossOptions = {
  objLoss: 'mse',
  objTarget: 'one',
  reduction: 'sqrt-per-scale',
  ignoreThresh: 0.5,
  objScale: 5,
  noobjScale: 1,
  xywhScale: 1,
  classScale: 1,
  gridScales: [1, 1, 1],
  warmupBatches: 0,
  compat: { trueBoxUnits: 'pixels' },
};

/**
 * The Bristol configuration of the seed: obj_scale 50, ignore 0.33, MSE objectness, target 1,
 * sqrt per scale. Its 3 warm-up epochs become warm-up batches in the trainer (epochs × batches).
 */
export const seedLossPreset: Partial<LossOptions> & { warmupEpochs: number } = {
  objLoss: 'mse',
  objTarget: 'one',
  reduction: 'sqrt-per-scale',
  ignoreThresh: 0.33,
  objScale: 50,
  noobjScale: 1,
  xywhScale: 1,
  classScale: 1,
  warmupEpochs: 3,
};

export function resolveLossOptions(o: Partial<LossOptions> = {}): LossOptions {
  return { ...defaultLossOptions, ...o, compat: { ...defaultLossOptions.compat, ...(o.compat ?? {}) } };
}
