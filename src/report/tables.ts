// The summary tables: headline figures per run, configuration differences, overfitting onsets.
import type { Table } from './html.js';
import { primaryBaseline, primaryEval, type RunData } from './load.js';
import { byRule, matchRuleShort, ruleOf, type EfficiencyTable, type OperatingPoint } from '../eval/efficiency.js';
import { SALIENT_KEYS, configDifferences, flatten, type Headline, type OnsetMark } from './derive.js';

const pct = (x: number | null, err?: number | null) =>
  x === null ? null : `${(100 * x).toFixed(1)} %${err !== undefined && err !== null ? ` ± ${(100 * err).toFixed(1)}` : ''}`;
const num = (x: number | null, d = 4) => (x === null ? null : Number(x.toPrecision(d)));
const show = (v: unknown): string => (v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v));

export function headlineTable(h: readonly Headline[]): Table {
  const ops = [...new Set(h.flatMap((x) => x.operatingPoints.map((p) => p.targetHz)))].sort((a, b) => a - b);
  return {
    caption: 'Headline figures',
    head: [
      'run',
      'epochs',
      'finished',
      'best val loss per image (epoch)',
      'val mAP@0.5 (last epoch)',
      'evaluated split',
      'mAP@0.5',
      'COCO mAP',
      'rule',
      'efficiency (score ≥ threshold), flat 1–70 MeV',
      'supernova spectrum',
      'FP rate (Hz / module)',
      ...ops.map((hz) => `efficiency @ ${hz} Hz`),
      'overfitting onsets',
    ],
    rows: h.map((x) => [
      x.run,
      x.epochs,
      x.finished ? 'yes' : 'no',
      x.bestValLoss === null ? null : `${x.bestValLoss.toPrecision(4)} (${x.bestEpoch})`,
      pct(x.valMap50),
      x.evalSplit,
      pct(x.map50),
      pct(x.mapCoco),
      x.match,
      x.efficiency === null ? null : `${pct(x.efficiency, x.efficiencyErr)} (≥ ${x.threshold})`,
      pct(x.efficiencySupernova, x.efficiencySupernovaErr),
      x.fpHz === null ? null : `${x.fpUpperLimit ? '< ' : ''}${x.fpHz.toExponential(2)}`,
      ...ops.map((hz) => {
        const p = x.operatingPoints.find((q) => q.targetHz === hz);
        return p ? (p.efficiency === null ? 'not reachable' : pct(p.efficiency)) : null;
      }),
      x.onsets,
    ]),
  };
}

/** "flat ± err · SN ± err" of an operating point's table. */
function flatSn(t: EfficiencyTable | null | undefined): string | null {
  if (!t) return null;
  const sn = t.supernova;
  return `${pct(t.integrated.all.efficiency, t.integrated.all.stdErr)} · ${sn ? (pct(sn.efficiency, sn.stdErr) ?? '–') : '–'}`;
}

/**
 * Network and baseline side by side at the same FP rates per module and by the same matching rule
 * (the network's; the baseline's figures by that rule, or "not measured by this rule").
 */
export function triggerComparisonTable(runs: readonly RunData[]): Table | null {
  const rows: (string | number | null)[][] = [];
  for (const r of runs) {
    const t = primaryEval(r)?.trigger;
    const b = primaryBaseline(r);
    if (!t || !b) continue;
    const rule = ruleOf(t);
    const bt = byRule(b.trigger, b.otherRules, rule);
    const at = (ops: readonly OperatingPoint[] | undefined, hz: number) => {
      const p = ops?.find((q) => q.targetHz === hz);
      return !p ? null : p.threshold === null ? 'not reachable' : flatSn(p.table);
    };
    for (const p of t.operatingPoints) {
      rows.push([
        r.label,
        matchRuleShort(rule),
        p.targetHz,
        at(t.operatingPoints, p.targetHz),
        bt ? at(bt.operatingPoints, p.targetHz) : `not measured by this rule (${matchRuleShort(ruleOf(b.trigger))})`,
        `${t.falsePositives.images} / ${b.backgroundImages}`,
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    caption:
      'Network and baseline at the same FP rate per module, by the same matching rule: efficiency flat in 1–70 MeV · averaged over the supernova νe-CC spectrum (± binomial errors)',
    head: ['run', 'rule', 'Hz / module', 'network', 'baseline (TDR clustering)', 'background images (network / baseline)'],
    rows,
  };
}

/** Differences between runs; for one run, its salient settings. */
export function configTable(runs: readonly RunData[]): Table {
  if (runs.length === 1) {
    const f = flatten(runs[0]!.run);
    return { caption: 'Configuration (config.json)', head: ['key', runs[0]!.label], rows: SALIENT_KEYS.filter((k) => k in f).map((k) => [k, show(f[k])]) };
  }
  const diff = configDifferences(runs);
  return {
    caption: diff.length
      ? 'Configuration differences (config.json keys whose values differ)'
      : 'Configuration differences: none (the runs share every setting)',
    head: ['key', ...runs.map((r) => r.label)],
    rows: diff.map((d) => [d.key, ...d.values.map(show)]),
  };
}

export function onsetTable(onsets: readonly OnsetMark[]): Table {
  return {
    caption: onsets.length ? 'Overfitting onsets (validation minimum, then a persistent rise while training falls)' : 'Overfitting onsets: none found',
    head: ['run', 'scale', 'term', 'onset epoch', 'validation rise since', 'training change since'],
    rows: onsets.map((o) => [o.run, o.scale, o.term, o.epoch, pct(o.relRise), pct(o.trainChange)]),
  };
}

export { num };
