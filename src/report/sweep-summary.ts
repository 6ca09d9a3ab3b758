// `sweep --summary`: the finished runs of a sweep side by side (swept values and headline
// figures) as a text table, and the comparison report of those runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadRun } from './load.js';
import { headline, onsetsOf } from './derive.js';
import type { SweepPlan } from '../sweep/plan.js';
import { runState } from '../run/run-dir.js';

export interface SummaryRow {
  name: string;
  values: Record<string, unknown>;
  state: string;
  epochs: number | null;
  bestValLoss: number | null;
  bestEpoch: number | null;
  valMap50: number | null;
  map50: number | null;
  efficiency: number | null;
  fpHz: number | null;
}

export function summaryRows(plan: SweepPlan): SummaryRow[] {
  return plan.points.map((p) => {
    const state = runState(p.dir);
    const empty = {
      name: p.name,
      values: p.values,
      state,
      epochs: null,
      bestValLoss: null,
      bestEpoch: null,
      valMap50: null,
      map50: null,
      efficiency: null,
      fpHz: null,
    };
    if (!existsSync(join(p.dir, 'config.json'))) return empty;
    const r = loadRun(p.dir);
    r.label = p.name;
    const h = headline(r, onsetsOf(r));
    return {
      ...empty,
      epochs: h.epochs,
      bestValLoss: h.bestValLoss,
      bestEpoch: h.bestEpoch,
      valMap50: h.valMap50,
      map50: h.map50,
      efficiency: h.efficiency,
      fpHz: h.fpHz,
    };
  });
}

/** Fixed-width text table (stdout of `sweep --summary`). */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const f = (x: number | null, d = 4) => (x === null ? '–' : x.toPrecision(d));
  const p = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
  const head = [...keys, 'status', 'epochs', 'best val loss/img (epoch)', 'val mAP50', 'mAP50', 'efficiency', 'FP Hz'];
  const body = rows.map((r) => [
    ...keys.map((k) => (k in r.values ? (typeof r.values[k] === 'string' ? String(r.values[k]) : JSON.stringify(r.values[k])) : '–')),
    r.state === 'done' ? 'finished' : r.state === 'fresh' ? 'not started' : 'unfinished',
    r.epochs === null ? '–' : String(r.epochs),
    r.bestValLoss === null ? '–' : `${f(r.bestValLoss)} (${r.bestEpoch})`,
    p(r.valMap50),
    p(r.map50),
    p(r.efficiency),
    r.fpHz === null ? '–' : r.fpHz.toExponential(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
