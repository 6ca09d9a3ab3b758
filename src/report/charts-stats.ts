// Statistics of the responsible predictions on the validation split (the seed's "obj scores"
// and "IoU scores for predicted boxes" slides, but over every validation image and epoch):
// avgObj / avgNoobj / avgIou / recall curves, the latest distributions, and their evolution.
import { HIST_BINS } from '../schema/run.js';
import type { RunData } from './load.js';
import { SCHEMA, epochX, runColor, type Figure } from './figure.js';
import { quantile, scaleCount, scaleName } from './derive.js';
import type { Spec } from './vega.js';

const STATS = [
  { key: 'avgObj', title: 'avgObj (responsible)' },
  { key: 'avgNoobj', title: 'avgNoobj (others)' },
  { key: 'avgIou', title: 'avgIou' },
  { key: 'recall50', title: 'recall50' },
  { key: 'recall75', title: 'recall75' },
] as const;

const scalesOf = (runs: readonly RunData[]) => Array.from({ length: Math.max(0, ...runs.map(scaleCount)) }, (_, s) => scaleName(s));

/** A grid of panels (rows × columns) built with concat so each keeps its axes; shared colour. */
function grid(rows: string[], cols: string[], panel: (row: string, col: string) => Record<string, unknown>): Record<string, unknown> {
  return { columns: cols.length, concat: rows.flatMap((r) => cols.map((c) => panel(r, c))), resolve: { scale: { y: 'shared' } } };
}

export function statsFigure(runs: readonly RunData[]): Figure {
  const values: Record<string, unknown>[] = [];
  for (const r of runs) {
    for (const e of r.epochs) {
      e.val.stats.forEach((st, s) => {
        for (const k of STATS) values.push({ run: r.label, scale: scaleName(s), stat: k.key, epoch: e.epoch + 1, value: st[k.key] });
      });
    }
  }
  const color = runColor(runs.map((r) => r.label));
  return {
    id: 'val-stats',
    section: 'Responsible predictions',
    title: 'Objectness, IoU and recall of the responsible predictions (validation) per epoch',
    caption:
      'Per scale (rows): avgObj = mean objectness of the predictions that own a truth box, avgNoobj = mean objectness of all other predictions, avgIou = mean IoU of the owners with their truth box, recall50/75 = fraction of truth boxes whose owner has objectness ≥ 0.5 and IoU ≥ 0.5 / 0.75.',
    spec: {
      $schema: SCHEMA,
      data: { values },
      ...grid(
        scalesOf(runs),
        STATS.map((k) => k.key),
        (row, col) => ({
          title: { text: `${row}: ${STATS.find((k) => k.key === col)!.title}`, fontSize: 11, anchor: 'middle' },
          width: 150,
          height: 110,
          transform: [{ filter: `datum.scale === '${row}' && datum.stat === '${col}' && isValid(datum.value)` }],
          mark: { type: 'line', point: { filled: true, size: 18 } },
          encoding: {
            x: epochX,
            y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
            color,
            tooltip: [{ field: 'run' }, { field: 'epoch' }, { field: 'value', format: '.3f' }],
          },
        }),
      ),
    } as Spec,
  };
}

/** Histograms of objectness and IoU of the responsible predictions at each run's latest epoch. */
export function distributionFigure(runs: readonly RunData[]): Figure {
  const values: Record<string, unknown>[] = [];
  const counts: string[] = [];
  for (const r of runs) {
    const last = r.epochs.at(-1);
    if (!last) continue;
    last.val.stats.forEach((st, s) => {
      counts.push(`${r.label} ${scaleName(s)}: ${st.count}`);
      for (const [quantity, hist] of [
        ['objectness', st.objHist],
        ['IoU', st.iouHist],
      ] as const) {
        const n = hist.reduce((a, b) => a + b, 0);
        hist.forEach((c, b) =>
          values.push({ run: r.label, scale: scaleName(s), quantity, lo: b / HIST_BINS, hi: (b + 1) / HIST_BINS, fraction: n ? c / n : 0 }),
        );
      }
    });
  }
  const color = runColor(runs.map((r) => r.label));
  return {
    id: 'val-distributions',
    section: 'Responsible predictions',
    title: 'Objectness and IoU of the responsible predictions at the latest epoch (validation)',
    caption: `Fraction of truth boxes per bin of ${1 / HIST_BINS} (each run normalised to its own count, so runs of different sizes compare). Truth boxes per scale: ${counts.join('; ')}.`,
    spec: {
      $schema: SCHEMA,
      data: { values },
      ...grid(['objectness', 'IoU'], scalesOf(runs), (row, col) => ({
        title: { text: `${col} scale`, fontSize: 11, anchor: 'middle' },
        width: 220,
        height: 120,
        transform: [{ filter: `datum.scale === '${col}' && datum.quantity === '${row}'` }],
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'lo', type: 'quantitative', title: row === 'IoU' ? 'IoU with the truth box' : 'objectness score', scale: { domain: [0, 1] } },
          y: { field: 'fraction', type: 'quantitative', title: 'fraction of boxes' },
          color,
          tooltip: [{ field: 'run' }, { field: 'lo', title: 'bin from' }, { field: 'fraction', format: '.3f' }],
        },
      })),
    } as Spec,
  };
}

/** Median and 10–90 % band of objectness and IoU per epoch: how the distributions evolve. */
export function evolutionFigure(runs: readonly RunData[]): Figure {
  const values: Record<string, unknown>[] = [];
  for (const r of runs) {
    for (const e of r.epochs) {
      e.val.stats.forEach((st, s) => {
        for (const [quantity, v] of [
          ['objectness', st.objectness],
          ['IoU', st.iou],
        ] as const) {
          if (!v.length) continue;
          values.push({ run: r.label, scale: scaleName(s), quantity, epoch: e.epoch + 1, q10: quantile(v, 0.1), q50: quantile(v, 0.5), q90: quantile(v, 0.9) });
        }
      });
    }
  }
  const color = runColor(runs.map((r) => r.label));
  return {
    id: 'val-evolution',
    section: 'Responsible predictions',
    title: 'Evolution of objectness and IoU of the responsible predictions (validation)',
    caption:
      'Line: median over the truth boxes of a scale; band: 10th to 90th percentile. The seed saw objectness decay to 0 almost at once; here the whole distribution per epoch is shown.',
    spec: {
      $schema: SCHEMA,
      data: { values },
      ...grid(['objectness', 'IoU'], scalesOf(runs), (row, col) => ({
        title: { text: `${col} scale: ${row}`, fontSize: 11, anchor: 'middle' },
        width: 220,
        height: 120,
        transform: [{ filter: `datum.scale === '${col}' && datum.quantity === '${row}'` }],
        layer: [
          {
            mark: { type: 'area', opacity: 0.18 },
            encoding: { x: epochX, y: { field: 'q10', type: 'quantitative', title: row, scale: { domain: [0, 1] } }, y2: { field: 'q90' }, color },
          },
          {
            mark: { type: 'line', point: { filled: true, size: 18 } },
            encoding: {
              x: epochX,
              y: { field: 'q50', type: 'quantitative' },
              color,
              tooltip: [
                { field: 'run' },
                { field: 'epoch' },
                { field: 'q10', format: '.3f' },
                { field: 'q50', format: '.3f' },
                { field: 'q90', format: '.3f' },
              ],
            },
          },
        ],
      })),
    } as Spec,
  };
}
