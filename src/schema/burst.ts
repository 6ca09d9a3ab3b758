// What `daqyolo burst` writes (<run>/burst/<split>.json, or beside the baseline's JSON): the supernova
// burst trigger built on a trigger's per-interaction figures, and its detection probability against
// distance, and its schema (`readBurstReport`). No native code (report/ reads it).
import { z } from 'zod';
import { readJsonAsWritten } from '../util/json-file.js';

/** One per-interaction threshold × window considered for the burst rule. */
export interface BurstRuleCandidate {
  /** The per-interaction score threshold (ΣADC for the baseline) and what the evaluation measured there. */
  threshold: number;
  /** Where the efficiency table comes from in the evaluation JSON (e.g. 'operating point 10 Hz'). */
  origin: string;
  fpHz: number;
  /** The FP rate's interval at fpCl (upper limit only when no FP was seen). */
  fpHzInterval: [number, number];
  /** Per-interaction efficiency averaged over the burst's νe-CC spectrum, and its error (Wilson half-widths of the bins, added in quadrature). */
  efficiency: number;
  efficiencyErr: number;
  windowS: number;
  /** Fewest candidates within the window that fire the burst trigger. */
  minCount: number;
  /** Fake-burst rate at the FP rate's upper edge (≤ the target by construction) and at its central value, Hz. */
  fakeRateHzUpper: number;
  fakeRateHz: number;
  /** Fraction of the burst's interactions in the best window. */
  windowFraction: number;
  /** Mean candidates per detected interaction assumed (1 unless measured, e.g. on a stream). */
  multiplicity: number;
  /** Distance at 50 % detection probability by the fixed-window approximation (what the choice maximises), kpc. */
  d50ApproxKpc: number;
}

export interface BurstCurvePoint {
  distanceKpc: number;
  /** Expected νe-CC interactions and expected trigger candidates from the burst (all modules). */
  interactions: number;
  candidates: number;
  probability: number;
  /** Band from the input errors: efficiency −1σ with the FP rate's lower edge, +1σ with its upper edge. */
  lo: number;
  hi: number;
}

export interface ValueBand {
  value: number | null;
  lo: number | null;
  hi: number | null;
}

/** A check of the computed curve by a Monte Carlo of the candidate stream (see docs/burst.md). */
export interface BurstValidationPoint {
  distanceKpc: number;
  trials: number;
  detected: number;
  measured: number;
  /** Binomial standard error of `measured`. */
  stdErr: number;
  computed: number;
  pull: number;
}

export interface BurstReport {
  /** 'published': a trigger given by its published efficiency and FP rate (`burst --efficiency --fp-hz`). */
  trigger: 'network' | 'baseline' | 'published';
  /** The evaluation JSON read. */
  source: string;
  matchRule: string;
  model: { name: string; source: string; ccPer10ktAt10Kpc: number; publishedCcPer40ktAt10Kpc: number; meanInteractionEnergyMeV: number };
  timeProfile: string;
  galaxy: string;
  /** 10 kt modules whose candidates the burst trigger counts together (1: one module's trigger). */
  modules: number;
  targetFakeRateHz: number;
  fpCl: number;
  /** The rule chosen: the candidate with the largest d50ApproxKpc. */
  rule: BurstRuleCandidate;
  considered: BurstRuleCandidate[];
  curve: BurstCurvePoint[];
  d50Kpc: ValueBand;
  d90Kpc: ValueBand;
  galacticFraction: ValueBand;
  /** Monte Carlo trials per table of P(detect | n burst candidates), and its seed. */
  trials: number;
  seed: number;
  validation?: { method: string; points: BurstValidationPoint[]; maxAbsPull: number };
  notes: string[];
}

// ---- Reading it back (report/load.ts): the fields the report and the study read are checked, others pass.
const measured = z.number().nullable(); // NaN and ±Infinity are written by JSON as null
const band = z.object({ value: measured, lo: measured, hi: measured });
const ruleSchema = z.object({
  threshold: z.number(),
  origin: z.string(),
  fpHz: z.number(),
  fpHzInterval: z.tuple([z.number(), z.number()]),
  efficiency: z.number(),
  efficiencyErr: z.number(),
  windowS: z.number(),
  minCount: z.number().int().min(0),
  fakeRateHz: measured,
  fakeRateHzUpper: measured,
  d50ApproxKpc: measured,
});

/** burst/<name>.json as `burst` writes it. */
export const burstReportSchema = z.object({
  trigger: z.enum(['network', 'baseline', 'published']),
  source: z.string(),
  matchRule: z.string(),
  model: z.object({ name: z.string(), ccPer10ktAt10Kpc: z.number() }),
  modules: z.number().int().min(1),
  targetFakeRateHz: z.number(),
  fpCl: z.number(),
  rule: ruleSchema,
  considered: z.array(ruleSchema),
  curve: z.array(
    z.object({ distanceKpc: z.number(), interactions: z.number(), candidates: z.number(), probability: z.number(), lo: z.number(), hi: z.number() }),
  ),
  d50Kpc: band,
  d90Kpc: band,
  galacticFraction: band,
  notes: z.array(z.string()),
});

// Everything `burst` writes passes (the compiler checks BurstReport against the schema).
type Accepts<Schema extends z.ZodTypeAny, Written extends z.input<Schema>> = Written;
export type _WrittenBurstReportPasses = Accepts<typeof burstReportSchema, BurstReport>;

/** A burst JSON, checked: a damaged one is one line naming the file and the field. */
export function readBurstReport(path: string): BurstReport {
  return readJsonAsWritten<BurstReport>(path, burstReportSchema);
}
