// The summary tables: headline figures per run, configuration differences, overfitting onsets.
import type { Table } from './html.js';
import type { RunData } from './load.js';
import { SALIENT_KEYS, configDifferences, flatten, type Headline, type OnsetMark } from './derive.js';

const pct = (x: number | null, err?: number | null) =>
  x === null ? null : `${(100 * x).toFixed(1)} %${err !== undefined && err !== null ? ` ± ${(100 * err).toFixed(1)}` : ''}`;
const num = (x: number | null, d = 4) => (x === null ? null : Number(x.toPrecision(d)));
const show = (v: unknown): string => (v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v));

export function headlineTable(h: readonly Headline[]): Table {
  const ops = [...new Set(h.flatMap((x) => x.operatingPoints.map((p) => p.targetHz)))].sort((a, b) => a - b);
  return {
    caption: 'Headline figures',
    head: ['run', 'epochs', 'finished', 'best val loss per image (epoch)', 'val mAP@0.5 (last epoch)', 'evaluated split', 'mAP@0.5', 'COCO mAP',
      'efficiency (score ≥ threshold)', 'FP rate (Hz / module)', ...ops.map((hz) => `efficiency @ ${hz} Hz`), 'overfitting onsets'],
    rows: h.map((x) => [
      x.run, x.epochs, x.finished ? 'yes' : 'no',
      x.bestValLoss === null ? null : `${x.bestValLoss.toPrecision(4)} (${x.bestEpoch})`,
      pct(x.valMap50), x.evalSplit, pct(x.map50), pct(x.mapCoco),
      x.efficiency === null ? null : `${pct(x.efficiency, x.efficiencyErr)} (≥ ${x.threshold})`,
      x.fpHz === null ? null : `${x.fpUpperLimit ? '< ' : ''}${x.fpHz.toExponential(2)}`,
      ...ops.map((hz) => {
        const p = x.operatingPoints.find((q) => q.targetHz === hz);
        return p ? (p.efficiency === null ? 'not reachable' : pct(p.efficiency)) : null;
      }),
      x.onsets,
    ]),
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
    caption: diff.length ? 'Configuration differences (config.json keys whose values differ)' : 'Configuration differences: none (the runs share every setting)',
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
