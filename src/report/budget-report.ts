// The training-budget curve's figure and page (`study --plan budget`, budget.json): the network's
// efficiency by the TP rule against its training images at each FP rate, the clustering baseline
// at the same rate as a dashed line, the thesis's 76.2 % at 1.8 Hz marked at its ≈ 24 000 images;
// budget.svg, budget.png and budget.html (with the points' table and what more data bought).
import { join } from 'node:path';
import { writeAtomic } from '../util/atomic-write.js';
import { SCHEMA, runColorOf, type Figure } from './figure.js';
import { pageHtml, type Table } from './html.js';
import { svgToPng, toSvg, type Spec } from './vega.js';
import type { BudgetResult } from '../study/budget-plan.js';
import { scoreCutText } from '../eval/fprate-state.js';

/** Training images of the thesis's network (≈ 24 000 LArSoft images; issue 27). */
export const THESIS_TRAIN_IMAGES = 24_000;

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
const rateLabel = (hz: number) => `${hz} Hz`;

export function budgetFigure(r: BudgetResult): Figure {
  const rates = r.settings.rates;
  const values: Record<string, unknown>[] = [];
  for (const p of r.points)
    for (const row of p.rows) {
      if (row.efficiency === null) continue;
      const err = row.efficiencyErr ?? 0;
      values.push({
        kind: 'network',
        rate: rateLabel(row.targetHz),
        n: p.trainImages,
        eff: row.efficiency,
        lo: Math.max(0, row.efficiency - err),
        hi: Math.min(1, row.efficiency + err),
      });
    }
  for (const row of r.baseline?.rows ?? [])
    if (row.efficiency !== null)
      values.push({
        kind: 'baseline',
        rate: rateLabel(row.targetHz),
        eff: row.efficiency,
        label: `baseline at ${rateLabel(row.targetHz)}: ${pct(row.efficiency)}`,
      });
  values.push({ kind: 'thesis', n: THESIS_TRAIN_IMAGES, eff: r.thesis.efficiency, label: `thesis ${pct(r.thesis.efficiency)} at ${r.thesis.hzPerModule} Hz` });
  const domain = rates.map(rateLabel);
  const color = {
    field: 'rate',
    type: 'nominal',
    title: 'FP rate per module',
    scale: { domain, range: domain.map((_, i) => runColorOf(i)) },
    legend: { orient: 'top' },
  };
  // The axis spans the whole plan, so that a curve drawn sitting by sitting keeps its frame.
  const ns = [...r.points.map((p) => p.trainImages), ...r.pending];
  const x = {
    field: 'n',
    type: 'quantitative',
    title: 'training images',
    scale: { type: 'log', domain: [Math.min(...ns, THESIS_TRAIN_IMAGES) / 1.5, Math.max(...ns, THESIS_TRAIN_IMAGES) * 1.5] },
  };
  const y = { field: 'eff', type: 'quantitative', title: 'efficiency, 1–70 MeV (TP rule)', scale: { domain: [0, 1] }, axis: { format: '%' } };
  const only = (kind: string) => [{ filter: `datum.kind === '${kind}'` }];
  const byEfficiency = (r.baseline?.rows ?? []).filter((row) => row.efficiency !== null).sort((a, b) => b.efficiency! - a.efficiency!);
  const baselineRank = (rate: string) =>
    Math.max(
      0,
      byEfficiency.findIndex((row) => rateLabel(row.targetHz) === rate),
    );
  const labelOffset = (rank: number) => (rank % 2 === 0 ? -6 - 12 * (rank / 2) : 14 + 12 * ((rank - 1) / 2));
  const spec = {
    $schema: SCHEMA,
    width: 520,
    height: 320,
    data: { values },
    layer: [
      { transform: only('baseline'), mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y, color } },
      // One label per rate: the highest baseline's above its line, the next below its own, and so
      // on outwards, so that baselines a point apart (86.5 and 87.5 %) do not print over each other's line.
      ...domain.map((rate) => ({
        transform: [...only('baseline'), { filter: `datum.rate === '${rate}'` }],
        mark: { type: 'text', align: 'left', dx: 4, dy: labelOffset(baselineRank(rate)), fontSize: 10 },
        encoding: { y, x: { datum: x.scale.domain[0], type: 'quantitative', scale: x.scale }, text: { field: 'label' }, color },
      })),
      { transform: only('network'), mark: { type: 'line', point: true }, encoding: { x, y, color } },
      { transform: only('network'), mark: 'rule', encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      { transform: only('thesis'), mark: { type: 'point', shape: 'diamond', size: 90, filled: true, color: '#222' }, encoding: { x, y } },
      {
        transform: only('thesis'),
        mark: { type: 'text', align: 'right', dx: -8, dy: -8, fontSize: 10, color: '#222' },
        encoding: { x, y, text: { field: 'label' } },
      },
    ],
  } as unknown as Spec;
  return {
    id: 'budget-curve',
    section: 'Training budget',
    title: 'Efficiency against training images at fixed FP rates per module',
    caption:
      `${r.settings.variant} width ${r.settings.width} at ${r.settings.size} px${r.settings.isolatedRadius > 0 ? `, isolated pixels dropped (radius ${r.settings.isolatedRadius})` : ''}${r.settings.positiveMinTps > 0 ? `, interactions under ${r.settings.positiveMinTps} TPs ignored in the loss` : ''}, each point trained to convergence (early stopping, patience ${r.settings.patience}; objectness loss ${r.settings.objLoss}) on the first N of one shuffle of the training split; ` +
      `efficiency by the TP rule on the ${r.evalImages} evaluation images shared by every point (± binomial error), at the score threshold each point's own FP histogram over ${r.settings.fpImages.toLocaleString('en')} background-only images allows. ` +
      `Dashed: the clustering baseline at the same rate (its own ΣADC histogram over as many images). Diamond: the thesis's ${pct(r.thesis.efficiency)} ± ${pct(r.thesis.error)} at ${r.thesis.hzPerModule} Hz (LArSoft images, ≈ ${THESIS_TRAIN_IMAGES.toLocaleString('en')} for training).` +
      (r.pending.length ? ` Not run yet: the points of ${r.pending.map((n) => n.toLocaleString('en')).join(', ')} training images.` : ''),
    spec,
  };
}

/** The points' table: per point and rate, the threshold, the FPs behind it and the efficiency flat and over the supernova spectrum. */
export function budgetTable(r: BudgetResult): Table {
  const rows: (string | number)[][] = [];
  for (const p of r.points)
    for (const row of p.rows)
      rows.push([
        p.trainImages,
        `${p.epochs} (${p.stopped})`,
        row.targetHz,
        row.threshold === null ? 'not reachable: stream more images' : scoreCutText(row.threshold),
        row.fpCount,
        row.efficiency === null ? '–' : `${pct(row.efficiency)} ± ${pct(row.efficiencyErr)}`,
        row.efficiencySupernova == null ? '–' : `${pct(row.efficiencySupernova)} ± ${pct(row.efficiencySupernovaErr)}`,
        `${((p.seconds.train + p.seconds.fprate + p.seconds.evaluate) / 60).toFixed(0)} min`,
      ]);
  for (const row of r.baseline?.rows ?? [])
    rows.push([
      'baseline',
      '–',
      row.targetHz,
      row.threshold === null ? 'not reachable' : `ΣADC ≥ ${row.threshold.toFixed(0)}`,
      row.fpCount,
      row.efficiency === null ? '–' : `${pct(row.efficiency)} ± ${pct(row.efficiencyErr)}`,
      row.efficiencySupernova == null ? '–' : `${pct(row.efficiencySupernova)} ± ${pct(row.efficiencySupernovaErr)}`,
      '–',
    ]);
  return {
    caption: `Points (FP rates from ${r.settings.fpImages.toLocaleString('en')} background-only images each; efficiency by the TP rule on ${r.evalImages} evaluation images)`,
    head: ['training images', 'epochs (stop)', 'target Hz/module', 'score threshold', 'FPs seen', 'efficiency 1–70 MeV', 'supernova spectrum', 'time'],
    rows,
  };
}

/** Writes budget.svg, budget.png and budget.html into `out`; returns their paths. */
export async function writeBudgetReport(r: BudgetResult, out: string): Promise<string[]> {
  const fig = budgetFigure(r);
  const svg = await toSvg(fig.spec!);
  const files = [join(out, 'budget.svg'), join(out, 'budget.png'), join(out, 'budget.html')];
  writeAtomic(files[0]!, svg);
  writeAtomic(files[1]!, svgToPng(svg));
  const html = pageHtml({
    title: `daqyolo training-budget curve: ${r.points.length} of ${r.points.length + r.pending.length} points`,
    subtitle: `${r.settings.variant} width ${r.settings.width}, ${r.settings.size} px — generated ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    tables: [{ caption: 'What more data bought', head: ['rate'], rows: r.summary.map((s) => [s]) }, budgetTable(r)],
    figures: [{ ...fig, svg }],
    notes: [],
  });
  writeAtomic(files[2]!, html);
  return files;
}
