// The rows of the end point by matching rule (no native code: the report reads them): the
// threshold a rate allows and the efficiency there by each rule, flat and over the supernova spectrum.
import { ruleOf, type MatchRule, type TriggerReport } from '../eval/efficiency.js';

export interface RateThreshold {
  targetHz: number;
  /** Lowest histogram edge whose FP rate is ≤ target; null when the sample cannot show a rate this low. */
  threshold: number | null;
  fpCount: number;
  fpHz: number;
  /** 90 % CL interval (upper limit when no FP is seen). */
  fpHzInterval: [number, number];
}

/** The rules every end-point row is given by, the default first. */
export const ENDPOINT_RULES: readonly MatchRule[] = ['tps', 'iou', 'centre'];

/** The efficiency at a row's threshold by one matching rule: flat in 1–70 MeV and over the supernova spectrum. */
export interface RuleEfficiency {
  match: MatchRule;
  efficiency: number | null;
  efficiencyErr: number | null;
  efficiencyVisible: number | null;
  efficiencySupernova: number | null;
  efficiencySupernovaErr: number | null;
}

/** One Eν bin of a row's efficiency curve: every interaction in the bin (flat), by the row's rule. */
export interface EnergyEfficiency {
  loMeV: number;
  hiMeV: number;
  /** Interactions found, of n. */
  k: number;
  n: number;
  efficiency: number | null;
  stdErr: number;
}

export interface EndpointRow extends RateThreshold {
  /** The figures by `match` (the default TP rule; endpoint.json files written before it have none: IoU). */
  match?: MatchRule;
  efficiency: number | null;
  efficiencyErr: number | null;
  efficiencyVisible: number | null;
  efficiencySupernova?: number | null;
  efficiencySupernovaErr?: number | null;
  /** Every rule of ENDPOINT_RULES at this threshold (absent in older files). */
  byRule?: RuleEfficiency[];
  /** Efficiency against Eν at this threshold by `match` (absent in older files and unreachable rows). */
  byEnergy?: EnergyEfficiency[];
}

/** The baseline's row. Older files (IoU rows) also carry the centre rule's figure here. */
export interface BaselineEndpointRow extends EndpointRow {
  efficiencyCentre?: number | null;
  efficiencyCentreErr?: number | null;
}

/** A row's efficiencies by each rule from the trigger reports of one threshold. */
export function ruleEfficiencies(reports: readonly TriggerReport[]): RuleEfficiency[] {
  return reports.map((t) => {
    const e = t.efficiency;
    return {
      match: ruleOf(t),
      efficiency: e.integrated.all.efficiency,
      efficiencyErr: e.integrated.all.stdErr,
      efficiencyVisible: e.integrated.visible.efficiency,
      efficiencySupernova: e.supernova?.efficiency ?? null,
      efficiencySupernovaErr: e.supernova?.stdErr ?? null,
    };
  });
}

/** A trigger report's efficiency per Eν bin (every interaction of the bin). */
export function energyEfficiencies(report: Pick<TriggerReport, 'efficiency'>): EnergyEfficiency[] {
  return report.efficiency.bins.map((b) => ({ loMeV: b.loMeV, hiMeV: b.hiMeV, k: b.all.k, n: b.all.n, efficiency: b.all.efficiency, stdErr: b.all.stdErr }));
}

/** A measured row: the threshold, the default rule's figures up front, every rule's in byRule, and the default rule's per-energy curve. */
export function endpointRow(t: RateThreshold, reports: readonly TriggerReport[]): EndpointRow {
  const byRule = ruleEfficiencies(reports);
  const main = byRule[0]!;
  return { ...t, ...main, byRule, byEnergy: energyEfficiencies(reports[0]!) };
}

/** A row whose rate the sample cannot show. */
export function unreachableRow(t: RateThreshold): EndpointRow {
  return { ...t, efficiency: null, efficiencyErr: null, efficiencyVisible: null, byRule: [] };
}

/** The figure of one rule in a row: from byRule, or for older files the IoU row (and the baseline's centre column). */
export function rowByRule(r: BaselineEndpointRow, rule: MatchRule): RuleEfficiency | null {
  if (r.byRule) return r.byRule.find((x) => x.match === rule) ?? null;
  if (rule === (r.match ?? 'iou'))
    return {
      match: rule,
      efficiency: r.efficiency,
      efficiencyErr: r.efficiencyErr,
      efficiencyVisible: r.efficiencyVisible,
      efficiencySupernova: null,
      efficiencySupernovaErr: null,
    };
  if (rule === 'centre' && r.efficiencyCentre !== undefined)
    return {
      match: rule,
      efficiency: r.efficiencyCentre,
      efficiencyErr: r.efficiencyCentreErr ?? null,
      efficiencyVisible: null,
      efficiencySupernova: null,
      efficiencySupernovaErr: null,
    };
  return null;
}
