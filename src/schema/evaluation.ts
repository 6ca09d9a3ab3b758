// The evaluation JSON written by `evaluate` (eval/<name>.json) and `baseline` (baseline/<name>.json):
// detection metrics (MapReport), the trigger figures (TriggerReport) and the options that shape
// them, with the zod schemas that check them when read back (`readEvaluateReport`,
// `readBaselineReport`). No native code: report/ and sweep/ rely on that.
import { z } from 'zod';
import { readJsonAsWritten } from '../util/json-file.js';
import type { TermMeans } from './run.js';

/** Precision–recall points of one class (VOC matching, IoU > 0.5), in descending-score order. */
export interface PrCurve {
  recall: number[];
  precision: number[];
  score: number[];
}

export interface ClassAp {
  cls: number;
  /** Truth boxes that count (difficult ones left out). */
  nTruth: number;
  nDifficult: number;
  nDetections: number;
  /** null when the class has no truth boxes (AP is undefined then, and left out of the means). */
  ap50Voc11: number | null;
  ap50AllPoint: number | null;
  ap50: number | null;
  ap75: number | null;
  apCoco: number | null;
  apSmall: number | null;
  apMedium: number | null;
  apLarge: number | null;
  pr: PrCurve;
}

export interface MapReport {
  definitions: {
    vocMatching: string;
    cocoMatching: string;
    scoreRule: string;
    maxDetectionsPerImage: number;
    cocoIouThresholds: number[];
    areaRangesPx2: { small: [number, number]; medium: [number, number]; large: [number, number | null] };
  };
  perClass: ClassAp[];
  /** Means over classes that have truth boxes; null when none has. VOC matching. */
  map50Voc11: number | null;
  map50AllPoint: number | null;
  /** COCO matching. */
  ap50: number | null;
  ap75: number | null;
  mapCoco: number | null;
  apSmall: number | null;
  apMedium: number | null;
  apLarge: number | null;
}

/** How a candidate is matched to an interaction: 'tps' (default) — it holds ≥ minTps of the
 *  interaction's TPs; 'iou' — IoU ≥ minIou with the truth box; 'centre' — its centre inside the truth box. */
export type MatchRule = 'tps' | 'iou' | 'centre';

/** The supernova νe-CC spectrum the efficiency is averaged over (sim/spectrum.ts `ccSpectrumDensity`). */
export interface SpectrumOptions {
  /** ⟨E⟩ of the νe flux, MeV (default 11). */
  meanEnergyMeV?: number;
  /** Pinching α (default 2.5). */
  alpha?: number;
  /** νe-CC threshold, MeV (default 1.5). */
  ccQMeV?: number;
  /** Weight the flux by the cross-section shape (Eν − Q)² (default true). */
  weightByCrossSection?: boolean;
}

/** The efficiency averaged over the supernova spectrum (beside the flat 1–70 MeV `integrated`). */
export interface SpectrumAverage extends Required<SpectrumOptions> {
  model: string;
  /** Σ w_b ε_b over the Eν bins (w_b: the spectrum's fraction in bin b); null when no bin has interactions. */
  efficiency: number | null;
  /** sqrt(Σ w_b² ε_b (1 − ε_b) / n_b). */
  stdErr: number | null;
  /** The spectrum's weight in bins without interactions (left out, the rest renormalised). */
  weightWithoutEvents: number;
  /** The same over visible interactions. */
  efficiencyVisible: number | null;
  stdErrVisible: number | null;
}

export interface TriggerOptions {
  /** Matching rule (default 'tps'). */
  match?: MatchRule;
  /** TPs of one interaction a candidate must hold under the 'tps' rule (default 2). */
  minTps?: number;
  /** IoU needed by the 'iou' rule (default 0.1). */
  minIou?: number;
  /** The supernova spectrum of `supernova` in every efficiency table. */
  spectrum?: SpectrumOptions;
  /** Eν bin edges in MeV (default 1, 6, …, 66, 70); bins are [lo, hi) except the last, which is [lo, hi]. */
  energyEdgesMeV?: readonly number[];
  /** Threshold of the headline efficiency table (default 0.5); detections count when score ≥ it. */
  scoreThreshold?: number;
  /** Readout window in ticks (default 4492) and tick length in seconds (default 0.5 µs). */
  windowTicks?: number;
  tickSeconds?: number;
  /** Images per module per window: APA faces that see drift charge (default 200: 3 rows of 50 APAs and
   *  4 drift volumes, the outer rows reading one drift volume each; PHYSICS.md). */
  faces?: number;
  /** FP rates in Hz per module at which to quote the efficiency (default 1, 10, 100). */
  targetRatesHz?: readonly number[];
  /** Confidence of the Poisson FP interval / upper limit (default 0.9). */
  fpCl?: number;
  /** Two-sided confidence of the Wilson and Clopper–Pearson efficiency intervals (default 68.27 %). */
  efficiencyCl?: number;
  /** Keep at most this many points of the threshold scan in the report (default 200; operating points use all). */
  maxScanPoints?: number;
}

/** k of n with the plain binomial error and two exact-ish intervals; efficiency null when n = 0. */
export interface BinomialSummary {
  k: number;
  n: number;
  efficiency: number | null;
  stdErr: number;
  wilson: [number, number];
  clopperPearson: [number, number];
}

export interface EnergyBin {
  loMeV: number;
  hiMeV: number;
  all: BinomialSummary;
  visible: BinomialSummary;
}

export interface EfficiencyTable {
  threshold: number;
  bins: EnergyBin[];
  /** Over every interaction with first edge ≤ Eν ≤ last edge (flat in Eν over 1–70 MeV by default). */
  integrated: { all: BinomialSummary; visible: BinomialSummary };
  /** The per-bin efficiencies averaged over the supernova νe-CC spectrum. */
  supernova: SpectrumAverage;
}

export interface FpSummary {
  threshold: number;
  count: number;
  images: number;
  perImage: number;
  hz: number;
  cl: number;
  /** When count is 0: [0, one-sided upper limit]; otherwise the central (Garwood) Poisson interval. */
  upperLimitOnly: boolean;
  intervalPerImage: [number, number];
  intervalHz: [number, number];
}

export interface ScanPoint {
  threshold: number;
  efficiency: number;
  efficiencyVisible: number;
  fpCount: number;
  fpPerImage: number;
  fpHz: number;
}

export interface OperatingPoint {
  targetHz: number;
  /** null where unreachable: too few background images to show a rate this low (90 % upper limit above it). */
  threshold: number | null;
  efficiency: number | null;
  efficiencyVisible: number | null;
  fpCount: number | null;
  fpHz: number | null;
  /** The FP rate's Poisson interval at the report's fpCl (upper limit from 0 when fpCount is 0); null where unreachable. */
  fpHzInterval: [number, number] | null;
  /** Per-Eν efficiency (k, n, errors), flat and supernova-spectrum averages at this threshold. */
  table: EfficiencyTable | null;
}

export interface TriggerReport {
  /** The rule used (older reports lack it: they used 'iou' unless matchRule says otherwise). */
  match?: MatchRule;
  matchRule: string;
  energyEdgesMeV: number[];
  hzPerFpPerImage: number;
  conversion: string;
  fpSource: 'background images' | 'evaluated images';
  efficiency: EfficiencyTable;
  falsePositives: FpSummary;
  scan: ScanPoint[];
  operatingPoints: OperatingPoint[];
}

/** What `daqyolo baseline` writes: the clustering trigger's figures in the trigger schema of `evaluate`. */
export interface BaselineReport {
  algorithm: string;
  params: { channelTolerance: number; maxDtTicks: number; minHits: number; minChannels: number; minSumAdc: number };
  data: string;
  split: string;
  images: number;
  backgroundImages: number;
  seconds: number;
  trigger: TriggerReport;
  /** The same figures by other matching rules, when asked for (the end point shows every rule). */
  otherRules?: TriggerReport[];
}

export interface EvaluateReport {
  run: string;
  checkpoint: string;
  checkpointMeta: Record<string, unknown>;
  data: string;
  split: string;
  images: number;
  backgroundImages: number;
  /** Loss terms on this split (means per image), eval mode, no warm-up. */
  loss: TermMeans;
  detections: { perScale: number[]; scoreThreshold: number; nmsIou: number };
  map: MapReport;
  /** Efficiency and false-positive rate; null for data that was not simulated (see triggerNote). */
  trigger: TriggerReport | null;
  /** The same figures by other matching rules, when asked for (the end point shows every rule). */
  otherRules?: TriggerReport[];
  /** Why trigger is null: those figures need simulated interactions and background. */
  triggerNote?: string;
}

// ---- Reading them back --------------------------------------------------------------------------
// The schemas check the fields the report, the study, burst and evaluate --baseline read; other
// fields pass unchecked (z.object ignores unknown keys, and the readers return the file as written).
// Files written before the TP rule (issue 26) lack `match`, the tables' `supernova` and the
// operating points' `fpHzInterval`: those are optional here, and the readers fall back (IoU, '–').
// A computed float that was NaN or ±Infinity is written by JSON as null: `measured` allows that.

const measured = z.number().nullable();
const count = z.number().int().min(0);
const interval = z.tuple([measured, measured]);
const fraction = z.number().min(0).max(1);
const matchRule = z.enum(['tps', 'iou', 'centre']);

const binomialSchema = z.object({ k: count, n: count, efficiency: fraction.nullable(), stdErr: measured, wilson: interval, clopperPearson: interval });
const efficiencyTableSchema = z.object({
  threshold: z.number(),
  bins: z.array(z.object({ loMeV: z.number(), hiMeV: z.number(), all: binomialSchema, visible: binomialSchema })),
  integrated: z.object({ all: binomialSchema, visible: binomialSchema }),
  supernova: z
    .object({ model: z.string(), efficiency: fraction.nullable(), stdErr: measured, efficiencyVisible: fraction.nullable(), stdErrVisible: measured })
    .optional(),
});
const operatingPointSchema = z.object({
  targetHz: z.number(),
  threshold: z.number().nullable(),
  efficiency: fraction.nullable(),
  efficiencyVisible: fraction.nullable(),
  fpCount: count.nullable(),
  fpHz: measured,
  fpHzInterval: interval.nullable().optional(),
  table: efficiencyTableSchema.nullable(),
});

/** The trigger section of an evaluate or baseline JSON (also read by `burst`). */
export const triggerReportSchema = z.object({
  match: matchRule.optional(),
  matchRule: z.string(),
  energyEdgesMeV: z.array(z.number()),
  hzPerFpPerImage: z.number(),
  efficiency: efficiencyTableSchema,
  falsePositives: z.object({
    threshold: z.number(),
    count: count,
    images: count,
    perImage: measured,
    hz: measured,
    upperLimitOnly: z.boolean(),
    intervalHz: interval,
  }),
  scan: z.array(
    z.object({
      threshold: z.number(),
      efficiency: fraction.nullable(),
      efficiencyVisible: fraction.nullable(),
      fpCount: count,
      fpPerImage: measured,
      fpHz: measured,
    }),
  ),
  operatingPoints: z.array(operatingPointSchema),
});

const apValue = fraction.nullable();
const mapReportSchema = z.object({
  perClass: z.array(
    z.object({
      cls: count,
      nTruth: count,
      nDetections: count,
      ap50: apValue,
      ap50AllPoint: apValue,
      pr: z.object({ recall: z.array(measured), precision: z.array(measured), score: z.array(z.number()) }),
    }),
  ),
  map50Voc11: apValue,
  map50AllPoint: apValue,
  ap50: apValue,
  ap75: apValue,
  mapCoco: apValue,
});

/** eval/<name>.json as `evaluate` writes it. */
export const evaluateReportSchema = z.object({
  run: z.string(),
  checkpoint: z.string(),
  data: z.string(),
  split: z.string(),
  images: count,
  backgroundImages: count,
  loss: z.object({ objective: measured, scales: z.array(z.record(z.string(), measured)) }),
  detections: z.object({ perScale: z.array(count), scoreThreshold: z.number(), nmsIou: z.number() }),
  map: mapReportSchema,
  trigger: triggerReportSchema.nullable(),
  otherRules: z.array(triggerReportSchema).optional(),
});

/** baseline/<name>.json as `baseline` writes it. */
export const baselineReportSchema = z.object({
  algorithm: z.string(),
  params: z.object({ channelTolerance: z.number(), maxDtTicks: z.number(), minHits: z.number(), minChannels: z.number(), minSumAdc: z.number() }),
  data: z.string(),
  split: z.string(),
  images: count,
  backgroundImages: count,
  trigger: triggerReportSchema,
  otherRules: z.array(triggerReportSchema).optional(),
});

// Everything the code writes passes: the compiler checks the record types against the schemas.
type Accepts<Schema extends z.ZodTypeAny, Written extends z.input<Schema>> = Written;
export type _WrittenEvaluateReportPasses = Accepts<typeof evaluateReportSchema, EvaluateReport>;
export type _WrittenBaselineReportPasses = Accepts<typeof baselineReportSchema, BaselineReport>;

/** An evaluate JSON (eval/<name>.json), checked: a damaged one is one line naming the file and the field. */
export function readEvaluateReport(path: string): EvaluateReport {
  return readJsonAsWritten<EvaluateReport>(path, evaluateReportSchema);
}

/** A baseline JSON (baseline/<name>.json, a study's baseline), checked like {@link readEvaluateReport}. */
export function readBaselineReport(path: string): BaselineReport {
  return readJsonAsWritten<BaselineReport>(path, baselineReportSchema);
}
