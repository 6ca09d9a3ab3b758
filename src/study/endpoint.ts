// The thesis's end point measured: efficiency at fixed false-positive rates in Hz per module,
// with the FP rate taken from `fprate` over many background-only images (the evaluation's own
// background sample is far too small below ~100 Hz) and the efficiency from the evaluation
// split at the score threshold that rate allows.
import { countAbove, NOTHING_PASSES, SCORE_BINS, variantSumAdc, type BaselineVariantCounts, type FpState } from '../eval/fprate.js';
import { fpPerImageToHz, type TriggerOptions } from '../eval/efficiency.js';
import { poissonInterval, poissonUpperLimit } from '../eval/intervals.js';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { readJsonAsWritten } from '../util/json-file.js';
import type { BaselineEndpointRow, EndpointRow, RateThreshold } from './endpoint-rows.js';

// The rows by rule live in endpoint-rows.ts (the report reads them without loading native code).
export * from './endpoint-rows.js';

/** The thesis's figure (Bristol PhD thesis, 1–70 MeV). */
export const THESIS = { efficiency: 0.762, error: 0.002, hzPerModule: 1.8, energyMeV: [1, 70] as const };

/** Rates at which the end point quotes the efficiency (the thesis's 1.8 Hz among them). */
export const ENDPOINT_RATES_HZ = [1, 1.8, 10, 100] as const;

/**
 * The score threshold at which a target FP rate is met, from an fprate histogram. Thresholds are
 * histogram edges (1/SCORE_BINS apart). When no FP is left at that threshold, the target is only
 * reachable if the sample's 90 % upper limit is below it (otherwise null: stream more images).
 * When even the top bin [0.999, 1] holds more FPs than the rate allows (a network whose scores
 * saturate at 1), the threshold is NOTHING_PASSES: the rate is met only by firing on nothing.
 */
export function thresholdForRate(state: Pick<FpState, 'images' | 'counts'>, targetHz: number, trigger: TriggerOptions = {}, cl = 0.9): RateThreshold {
  const hz = (n: number) => fpPerImageToHz(state.images ? n / state.images : Infinity, trigger);
  let bin = SCORE_BINS; // no edge meets the rate: nothing may pass
  for (let i = 0; i < SCORE_BINS; i++) {
    if (hz(countAbove(state.counts, i / SCORE_BINS)) <= targetHz) {
      bin = i;
      break;
    }
  }
  // Not bin / SCORE_BINS = 1 for the last case: boxes of score exactly 1 (saturated) would pass it
  // uncounted, since the histogram holds them in its top bin.
  const t = bin === SCORE_BINS ? NOTHING_PASSES : bin / SCORE_BINS;
  const n = bin === SCORE_BINS ? 0 : countAbove(state.counts, t);
  const interval: [number, number] = n === 0 ? [0, hz(poissonUpperLimit(0, cl))] : (poissonInterval(n, cl).map(hz) as [number, number]);
  return { targetHz, threshold: n === 0 && interval[1] > targetHz ? null : t, fpCount: n, fpHz: hz(n), fpHzInterval: interval };
}

/** The smallest double above x: a "score > x" cut written as "score ≥ threshold". */
function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  u[0] = u[0]! + (x > 0 ? 1n : -1n);
  return b[0]!;
}

/**
 * The baseline trigger's ΣADC threshold for a target FP rate, from every candidate's ΣADC on a
 * background-only stream (`fprate --baseline`): the lowest cut that leaves at most the allowed
 * number of candidates. Null when even one FP would exceed the target and the sample's 90 % upper
 * limit at zero cannot show the rate (stream more images).
 */
export function baselineThresholdForRate(state: { images: number; sumAdc: number[] }, targetHz: number, trigger: TriggerOptions = {}, cl = 0.9): RateThreshold {
  const hz = (n: number) => fpPerImageToHz(state.images ? n / state.images : Infinity, trigger);
  const desc = [...state.sumAdc].sort((a, b) => b - a);
  let allowed = 0; // most FPs whose rate is within the target
  while (allowed < desc.length && hz(allowed + 1) <= targetHz) allowed++;
  // Everything allowed: no cut is needed (0 passes every candidate); else just above the first one cut.
  const t = allowed >= desc.length ? 0 : nextUp(desc[allowed]!);
  const n = desc.filter((x) => x >= t).length;
  const interval: [number, number] = n === 0 ? [0, hz(poissonUpperLimit(0, cl))] : (poissonInterval(n, cl).map(hz) as [number, number]);
  return { targetHz, threshold: n === 0 && interval[1] > targetHz ? null : t, fpCount: n, fpHz: hz(n), fpHzInterval: interval };
}

/** The same for one of a baseline stream's other clusterings (fprate --baseline --cluster-variants),
 *  whose list holds only its largest ΣADC: a rate that would need a cut below them is refused. */
export function variantThresholdForRate(
  state: { images: number },
  v: BaselineVariantCounts,
  targetHz: number,
  trigger: TriggerOptions = {},
  cl = 0.9,
): RateThreshold {
  const { sumAdc, truncated } = variantSumAdc(v);
  const t = baselineThresholdForRate({ images: state.images, sumAdc }, targetHz, trigger, cl);
  if (truncated && t.threshold !== null && t.threshold <= sumAdc[sumAdc.length - 1]!)
    throw new UserError(
      `clustering gap ${v.params.channelTolerance}, Δt ${v.params.maxDtTicks}: ${targetHz} Hz per module needs more than its ${v.keep} largest background ΣADC kept; measure it with a larger keep or choose a lower rate`,
    );
  return t;
}

export interface EndpointResult {
  experiment: string;
  selectedBy: string;
  run: string;
  checkpoint: string;
  epochs: number;
  stopped: string;
  evalImages: number;
  fpImages: number;
  fpImagesPerSecond: number;
  rows: EndpointRow[];
  /** The clustering trigger it would replace, at the same rates on its own background stream of as many images. */
  baseline: { algorithm: string; fpImages: number; rows: BaselineEndpointRow[] } | null;
  thesis: typeof THESIS;
  /** What differs from the thesis, in plain words. */
  differences: string[];
}

// ---- endpoint.json read back (a plan run again with --no-endpoint reports the one it has): the
// fields the plan report and the findings read are checked, others pass. Files written before the
// TP rule (issue 26) lack `match`, `byRule` and the supernova figures (read as IoU, '–'); before the
// baseline end point, `baseline`.
const measured = z.number().nullable(); // NaN and ±Infinity are written by JSON as null
const efficiency = z.number().min(0).max(1).nullable();
const matchRule = z.enum(['tps', 'iou', 'centre']);
const ruleEfficiency = {
  efficiency,
  efficiencyErr: measured,
  efficiencyVisible: efficiency,
  efficiencySupernova: efficiency.optional(),
  efficiencySupernovaErr: measured.optional(),
};
const endpointRowSchema = z.object({
  targetHz: z.number(),
  threshold: z.number().nullable(),
  fpCount: z.number().int().min(0),
  fpHz: measured,
  fpHzInterval: z.tuple([measured, measured]),
  match: matchRule.optional(),
  ...ruleEfficiency,
  byRule: z.array(z.object({ match: matchRule, ...ruleEfficiency })).optional(),
  efficiencyCentre: efficiency.optional(),
  efficiencyCentreErr: measured.optional(),
});
export const endpointResultSchema = z.object({
  experiment: z.string(),
  selectedBy: z.string(),
  run: z.string(),
  checkpoint: z.string(),
  epochs: z.number().int().min(0),
  stopped: z.string(),
  evalImages: z.number().int().min(0),
  fpImages: z.number().int().min(0),
  fpImagesPerSecond: measured,
  rows: z.array(endpointRowSchema),
  baseline: z
    .object({ algorithm: z.string(), fpImages: z.number().int().min(0), rows: z.array(endpointRowSchema) })
    .nullable()
    .optional(),
  thesis: z.object({ efficiency: z.number(), error: z.number(), hzPerModule: z.number() }),
  differences: z.array(z.string()),
});
// Everything the plan writes passes (the compiler checks EndpointResult against the schema).
type Accepts<Schema extends z.ZodTypeAny, Written extends z.input<Schema>> = Written;
export type _WrittenEndpointPasses = Accepts<typeof endpointResultSchema, EndpointResult>;

/** A plan's endpoint.json, checked: a damaged one is one line naming the file and the field. */
export function readEndpointResult(path: string): EndpointResult {
  return readJsonAsWritten<EndpointResult>(path, endpointResultSchema);
}
