// The training-budget curve's figure and page (`study --plan budget`, budget.json): the network's
// efficiency by the TP rule against its training images at each FP rate, the clustering baseline
// at the same rate as a dashed line, the hybrid trigger (each point's boxes cut on ΣADC) dotted with
// triangles, the thesis's 76.2 % at 1.8 Hz marked at its ≈ 24 000 images;
// budget.svg, budget.png and budget.html (with the points' table and what more data bought); and
// where the network loses by energy: budget-energy.svg/png and one table per rate.
import { join } from 'node:path';
import { writeAtomic } from '../util/atomic-write.js';
import { SCHEMA, placeLineLabels, rateColor, runColorOf, type Figure } from './figure.js';
import { pageHtml, type Table } from './html.js';
import { svgToPng, toSvg, type Spec } from './vega.js';
import type { BudgetResult } from '../study/budget-plan.js';
import { pointsOverSeeds, trainSeedsOf } from '../study/budget-seeds.js';
import { scoreCutText } from '../eval/fprate-state.js';

/** Training images of the thesis's network (≈ 24 000 LArSoft images; issue 27). */
export const THESIS_TRAIN_IMAGES = 24_000;

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);
const rateLabel = (hz: number) => `${hz} Hz`;

/** The budget curve's plot size in pixels (its line labels sit in a column right of it). */
const WIDTH = 520;
const HEIGHT = 320;

export function budgetFigure(r: BudgetResult): Figure {
  const rates = r.settings.rates;
  const values: Record<string, unknown>[] = [];
  // A point trained with several seeds: the line through their mean, the bar their range, each seed a ring.
  const severalSeeds = r.points.some((p) => r.points.some((q) => q !== p && q.trainImages === p.trainImages));
  for (const hz of rates)
    for (const p of pointsOverSeeds(r.points, hz)) {
      if (p.mean === null) continue;
      const err = p.err ?? 0;
      values.push({
        kind: 'network',
        rate: rateLabel(hz),
        n: p.trainImages,
        eff: p.mean,
        lo: p.seeds >= 2 ? p.min : Math.max(0, p.mean - err),
        hi: p.seeds >= 2 ? p.max : Math.min(1, p.mean + err),
      });
    }
  // The hybrid trigger per training: each seed's own triangle (a point's seeds are not averaged here).
  for (const p of r.points)
    for (const h of p.hybrid ?? [])
      if (h.efficiency !== null)
        values.push({ kind: 'hybrid', rate: rateLabel(h.targetHz), n: p.trainImages, seed: p.seed ?? r.settings.seed, eff: h.efficiency });
  const hasHybrid = values.some((v) => v.kind === 'hybrid');
  if (severalSeeds)
    for (const p of r.points)
      for (const row of p.rows)
        if (row.efficiency !== null) values.push({ kind: 'seed', rate: rateLabel(row.targetHz), n: p.trainImages, eff: row.efficiency });
  for (const row of r.baseline?.rows ?? [])
    if (row.efficiency !== null)
      values.push({
        kind: 'baseline',
        rate: rateLabel(row.targetHz),
        eff: row.efficiency,
        label: `baseline at ${rateLabel(row.targetHz)}: ${pct(row.efficiency)}`,
      });
  // The control: the clustering tuned on validation over other channel gaps and Δt (where the stream had them).
  for (const t of r.baseline?.tuned ?? [])
    if (t.efficiency !== null)
      values.push({
        kind: 'tuned',
        rate: rateLabel(t.targetHz),
        eff: t.efficiency,
        label: `clustering tuned at ${rateLabel(t.targetHz)} (gap ${t.channelTolerance}, Δt ${t.maxDtTicks}): ${pct(t.efficiency)}`,
      });
  const hasTuned = values.some((v) => v.kind === 'tuned');
  values.push({ kind: 'thesis', n: THESIS_TRAIN_IMAGES, eff: r.thesis.efficiency, label: `thesis ${pct(r.thesis.efficiency)} at ${r.thesis.hzPerModule} Hz` });
  const domain = rates.map(rateLabel);
  const color = rateColor(domain);
  // The axis spans the whole plan, so that a curve drawn sitting by sitting keeps its frame.
  const ns = [...r.points.map((p) => p.trainImages), ...r.pending];
  const x = {
    field: 'n',
    type: 'quantitative',
    title: 'training images',
    scale: { type: 'log', domain: [Math.min(...ns, THESIS_TRAIN_IMAGES) / 1.5, Math.max(...ns, THESIS_TRAIN_IMAGES) * 1.5] },
    // Ticks at the plan's sizes, each labelled: a log axis's own ticks (2 000, 3 000, …) left
    // 8 000 unlabelled where their labels crowded. The thesis's diamond carries its own label.
    axis: { values: [...new Set(ns)].sort((a, b) => a - b), format: ',' },
  };
  const y = { field: 'eff', type: 'quantitative', title: 'efficiency, 1–70 MeV (TP rule)', scale: { domain: [0, 1] }, axis: { format: '%' } };
  const only = (kind: string) => [{ filter: `datum.kind === '${kind}'` }];
  // The horizontal lines' labels in a column right of the plot, each at its line's height where
  // lines a point apart allow (dodged 12 px apart): inside the plot they printed over the points.
  placeLineLabels(values, HEIGHT);
  const spec = {
    $schema: SCHEMA,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      { transform: only('baseline'), mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y, color } },
      // The tuned clustering's lines dotted.
      { transform: only('tuned'), mark: { type: 'rule', strokeDash: [2, 3], strokeWidth: 1.5 }, encoding: { y, color } },
      {
        transform: [{ filter: "datum.kind === 'baseline' || datum.kind === 'tuned'" }],
        mark: { type: 'text', align: 'left', fontSize: 10 },
        encoding: { x: { value: WIDTH + 8 }, y: { field: 'ly', type: 'quantitative', scale: null }, text: { field: 'label' }, color },
      },
      { transform: only('network'), mark: { type: 'line', point: true }, encoding: { x, y, color } },
      { transform: only('network'), mark: 'rule', encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      { transform: only('seed'), mark: { type: 'point', filled: false, size: 30 }, encoding: { x, y, color } },
      {
        transform: only('hybrid'),
        mark: { type: 'line', strokeDash: [2, 2], point: { shape: 'triangle-up', filled: true, size: 60 } },
        encoding: { x, y, color, detail: { field: 'seed', type: 'nominal' } },
      },
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
      (severalSeeds
        ? `Points trained with several seeds (${trainSeedsOf(r.settings).join(', ')}; each its own draw of the N images, initial weights and batch order): the line through their mean, the bar their range, each seed a ring. `
        : '') +
      (hasHybrid
        ? `Triangles, dotted: the hybrid trigger, each point's own candidates with a ΣADC requirement on what their boxes hold, chosen on validation, at the score cut the same FP histogram allows (hybrid-trigger). `
        : '') +
      `Dashed: the clustering baseline at the same rate (its own ΣADC histogram over as many images). ` +
      (hasTuned
        ? `Dotted lines: the same clustering with its channel gap and Δt tuned on validation over ${r.baseline!.tuned![0]!.settings} settings, each at its own ΣADC cut from the same background stream (the control). `
        : '') +
      `Diamond: the thesis's ${pct(r.thesis.efficiency)} ± ${pct(r.thesis.error)} at ${r.thesis.hzPerModule} Hz (LArSoft images, ≈ ${THESIS_TRAIN_IMAGES.toLocaleString('en')} for training).` +
      (r.pending.length ? ` Not run yet: the points of ${r.pending.map((n) => n.toLocaleString('en')).join(', ')} training images.` : '') +
      (r.pendingSeeds?.length ? ` Seeds still to run: ${r.pendingSeeds.join(', ')}.` : ''),
    spec,
  };
}

/** The points' table: per training (point and seed) and rate, the threshold, the FPs behind it and the efficiency flat and over the supernova spectrum. */
export function budgetTable(r: BudgetResult): Table {
  const rows: (string | number)[][] = [];
  for (const p of r.points)
    for (const row of p.rows)
      rows.push([
        p.trainImages,
        p.seed ?? r.settings.seed,
        `${p.epochs} (${p.stopped})`,
        row.targetHz,
        row.threshold === null ? 'not reachable: stream more images' : scoreCutText(row.threshold),
        row.fpCount,
        row.efficiency === null ? '–' : `${pct(row.efficiency)} ± ${pct(row.efficiencyErr)}`,
        row.efficiencySupernova == null ? '–' : `${pct(row.efficiencySupernova)} ± ${pct(row.efficiencySupernovaErr)}`,
        `${((p.seconds.train + p.seconds.fprate + p.seconds.evaluate) / 60).toFixed(0)} min`,
      ]);
  for (const p of r.points)
    for (const h of p.hybrid ?? [])
      rows.push([
        `${p.trainImages}, hybrid`,
        p.seed ?? r.settings.seed,
        `${p.epochs} (${p.stopped})`,
        h.targetHz,
        h.threshold === null ? 'not reachable' : `box ΣADC ≥ ${h.minSumAdc}, ${scoreCutText(h.threshold)}`,
        h.fpCount,
        h.efficiency === null ? '–' : `${pct(h.efficiency)} ± ${pct(h.efficiencyErr)}`,
        '–',
        p.seconds.hybrid === undefined ? '–' : `${(p.seconds.hybrid / 60).toFixed(0)} min`,
      ]);
  for (const row of r.baseline?.rows ?? [])
    rows.push([
      'baseline',
      '–',
      '–',
      row.targetHz,
      row.threshold === null ? 'not reachable' : `ΣADC ≥ ${row.threshold.toFixed(0)}`,
      row.fpCount,
      row.efficiency === null ? '–' : `${pct(row.efficiency)} ± ${pct(row.efficiencyErr)}`,
      row.efficiencySupernova == null ? '–' : `${pct(row.efficiencySupernova)} ± ${pct(row.efficiencySupernovaErr)}`,
      '–',
    ]);
  for (const t of r.baseline?.tuned ?? [])
    rows.push([
      `clustering tuned over ${t.settings} settings`,
      '–',
      t.channelTolerance === null ? '–' : `gap ${t.channelTolerance}, Δt ${t.maxDtTicks}`,
      t.targetHz,
      t.threshold === null ? 'not reachable' : `ΣADC ≥ ${t.threshold.toFixed(0)}`,
      t.fpCount,
      t.efficiency === null ? '–' : `${pct(t.efficiency)} ± ${pct(t.efficiencyErr)}`,
      '–',
      '–',
    ]);
  return {
    caption: `Points (FP rates from ${r.settings.fpImages.toLocaleString('en')} background-only images each; efficiency by the TP rule on ${r.evalImages} evaluation images)`,
    head: [
      'training images',
      'training seed',
      'epochs (stop)',
      'target Hz/module',
      'score threshold',
      'FPs seen',
      'efficiency 1–70 MeV',
      'supernova spectrum',
      'time',
    ],
    rows,
  };
}

/** A series of the per-energy figure: the baseline or a point (by its training images). */
const seriesOf = (n: number | null) => (n === null ? 'baseline (ΣADC)' : `network, ${n.toLocaleString('en')} images`);

type EnergyBins = NonNullable<BudgetResult['points'][number]['rows'][number]['byEnergy']>;

/**
 * The per-energy curves at a rate: the baseline's, then each point's, its training seeds pooled
 * (found and interactions added up per Eν bin over the seeds: every seed evaluates the same
 * interactions). Rows without a curve (unreachable rates; points from before the curves whose
 * evaluation file is gone) are left out.
 */
function energySeries(r: BudgetResult, rate: number): { n: number | null; seeds: number; bins: EnergyBins }[] {
  const out: { n: number | null; seeds: number; bins: EnergyBins }[] = [];
  const base = r.baseline?.rows.find((row) => row.targetHz === rate);
  if (base?.byEnergy) out.push({ n: null, seeds: 0, bins: base.byEnergy });
  for (const n of [...new Set(r.points.map((p) => p.trainImages))].sort((a, b) => a - b)) {
    const curves = r.points
      .filter((p) => p.trainImages === n)
      .map((p) => p.rows.find((row) => row.targetHz === rate)?.byEnergy)
      .filter((c): c is EnergyBins => c !== undefined);
    if (curves.length === 0) continue;
    const bins = curves[0]!.map((b, i) => {
      const k = curves.reduce((a, c) => a + c[i]!.k, 0);
      const m = curves.reduce((a, c) => a + c[i]!.n, 0);
      const efficiency = m ? k / m : null;
      return { loMeV: b.loMeV, hiMeV: b.hiMeV, k, n: m, efficiency, stdErr: efficiency === null ? 0 : Math.sqrt((efficiency * (1 - efficiency)) / m) };
    });
    out.push({ n, seeds: curves.length, bins });
  }
  return out;
}

/**
 * Where the network loses, by energy: at each rate, the efficiency against Eν of the baseline and of
 * every point (each at its own threshold for that rate; a point's seeds pooled), by the TP rule,
 * ± binomial error.
 */
export function budgetEnergyFigure(r: BudgetResult): Figure {
  const values: Record<string, unknown>[] = [];
  for (const rate of r.settings.rates)
    for (const { n, bins } of energySeries(r, rate)) {
      for (const b of bins) {
        if (b.efficiency === null) continue;
        values.push({
          series: seriesOf(n),
          rate: rateLabel(rate),
          e: (b.loMeV + b.hiMeV) / 2,
          eff: b.efficiency,
          lo: Math.max(0, b.efficiency - b.stdErr),
          hi: Math.min(1, b.efficiency + b.stdErr),
        });
      }
    }
  const networks = [...new Set(r.points.map((p) => p.trainImages))].sort((a, b) => a - b).map(seriesOf);
  const domain = [seriesOf(null), ...networks];
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain, range: ['#222', ...networks.map((_, i) => runColorOf(i))] },
    legend: { orient: 'top', columns: 3 },
  };
  const dash = { field: 'series', type: 'nominal', scale: { domain, range: [[6, 4], ...networks.map(() => [1, 0])] }, title: null };
  const x = { field: 'e', type: 'quantitative', title: 'neutrino energy, MeV (bin centre)', scale: { domain: [0, 70] } };
  const y = { field: 'eff', type: 'quantitative', title: 'efficiency (TP rule)', scale: { domain: [0, 1] }, axis: { format: '%' } };
  const spec = {
    $schema: SCHEMA,
    data: { values },
    vconcat: r.settings.rates.map((rate) => ({
      title: `at ${rateLabel(rate)} per module`,
      width: 520,
      height: 220,
      transform: [{ filter: `datum.rate === '${rateLabel(rate)}'` }],
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x, y, color, strokeDash: dash } },
        { mark: 'rule', encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
      ],
    })),
  } as unknown as Spec;
  const seeds = trainSeedsOf(r.settings).length;
  return {
    id: 'budget-energy',
    section: 'Training budget',
    title: 'Efficiency against neutrino energy, baseline and every point, at each FP rate',
    caption:
      `The same rows as the curve: each trigger at its own threshold for the rate (the baseline's ΣADC cut dashed; each point's score cut), ` +
      `by the TP rule on the ${r.evalImages} evaluation images, ± binomial error per Eν bin${seeds > 1 ? `; a point's ${seeds} training seeds pooled (found and interactions added up)` : ''}. ` +
      `Where a point's line lies under the dashed one, the network loses there.`,
    spec,
  };
}

/** The per-energy curves as numbers: one table per rate, a row per Eν bin, a column per trigger (k/n and %). */
export function budgetEnergyTables(r: BudgetResult): Table[] {
  return r.settings.rates.map((rate) => {
    const series = energySeries(r, rate);
    const edges = series[0]?.bins ?? [];
    return {
      caption: `Efficiency against Eν at ${rateLabel(rate)} per module (found / interactions, TP rule)`,
      head: ['Eν, MeV', ...series.map((x) => `${seriesOf(x.n)}${x.seeds > 1 ? ` (${x.seeds} seeds pooled)` : ''}`)],
      rows: edges.map((b, i) => [
        `${b.loMeV}–${b.hiMeV}`,
        ...series.map((x) => {
          const c = x.bins[i];
          return c && c.loMeV === b.loMeV ? `${c.k}/${c.n} = ${pct(c.efficiency)}` : '–';
        }),
      ]),
    };
  });
}

/** Writes budget.svg, budget.png and budget.html into `out`; returns their paths. */
export async function writeBudgetReport(r: BudgetResult, out: string): Promise<string[]> {
  const fig = budgetFigure(r);
  const svg = await toSvg(fig.spec!);
  const energy = budgetEnergyFigure(r);
  const energySvg = await toSvg(energy.spec!);
  const files = [join(out, 'budget.svg'), join(out, 'budget.png'), join(out, 'budget-energy.svg'), join(out, 'budget-energy.png'), join(out, 'budget.html')];
  writeAtomic(files[0]!, svg);
  writeAtomic(files[1]!, svgToPng(svg));
  writeAtomic(files[2]!, energySvg);
  writeAtomic(files[3]!, svgToPng(energySvg));
  const html = pageHtml({
    title: `daqyolo training-budget curve: ${new Set(r.points.map((p) => p.trainImages)).size} of ${r.settings.points.length} points`,
    subtitle: `${r.settings.variant} width ${r.settings.width}, ${r.settings.size} px — generated ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    tables: [{ caption: 'What more data bought', head: ['rate'], rows: r.summary.map((s) => [s]) }, budgetTable(r), ...budgetEnergyTables(r)],
    figures: [
      { ...fig, svg },
      { ...energy, svg: energySvg },
    ],
    notes: [],
  });
  writeAtomic(files[4]!, html);
  return files;
}
