// Loss charts: the seed's per-scale "possible overfitting" slides (every term, training vs
// validation, with the overfitting onset marked), the objective and scale totals, the warm-up
// fraction per epoch, and the per-batch training objective.
import type { RunData } from './load.js';
import { SCHEMA, epochX, runColor, type Figure } from './figure.js';
import { TERM_NAMES, objectiveSeries, scaleCount, scaleName, termSeries, type OnsetMark, type Series } from './derive.js';
import type { Spec } from './vega.js';

const SPLITS = ['training', 'validation'];

interface Panel {
  name: string;
  series: (r: RunData) => Series;
  onset: (o: OnsetMark) => boolean;
}

/** Faceted train-vs-validation curves, one panel per quantity, each with its own y axis. */
function trainValSpec(runs: readonly RunData[], panels: Panel[], onsets: readonly OnsetMark[], yTitle: string): Spec {
  const labels = runs.map((r) => r.label);
  const values: Record<string, unknown>[] = [];
  for (const p of panels) {
    for (const r of runs) {
      const s = p.series(r);
      s.epochs.forEach((epoch, i) => {
        values.push({ kind: 'curve', panel: p.name, run: r.label, split: 'training', epoch, value: s.train[i] });
        values.push({ kind: 'curve', panel: p.name, run: r.label, split: 'validation', epoch, value: s.val[i] });
      });
    }
    for (const o of onsets.filter(p.onset)) values.push({ kind: 'onset', panel: p.name, run: o.run, epoch: o.epoch, label: 'onset' });
  }
  const color = runColor(labels);
  const onPanel = (name: string, kind: string) => ({ filter: `datum.panel === ${JSON.stringify(name)} && datum.kind === '${kind}'` });
  // concat (not facet): each panel keeps its own axes right under it and its own y scale,
  // while colour and dash scales stay shared, so there is one legend for the runs.
  return {
    $schema: SCHEMA,
    data: { values },
    columns: Math.min(5, panels.length),
    concat: panels.map((p) => ({
      title: { text: p.name, anchor: 'middle', fontSize: 13 },
      width: 190,
      height: 150,
      layer: [
        {
          transform: [onPanel(p.name, 'curve')],
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: epochX,
            y: { field: 'value', type: 'quantitative', title: yTitle, scale: { zero: false }, axis: { format: '~r' } },
            color,
            strokeDash: {
              field: 'split',
              type: 'nominal',
              title: 'data',
              scale: {
                domain: SPLITS,
                range: [
                  [1, 0],
                  [6, 3],
                ],
              },
              legend: { orient: 'top', symbolType: 'stroke', symbolStrokeWidth: 2 },
            },
          },
        },
        {
          transform: [onPanel(p.name, 'curve')],
          mark: { type: 'point', filled: true, size: 20 },
          encoding: {
            x: epochX,
            y: { field: 'value', type: 'quantitative' },
            color,
            tooltip: [{ field: 'run' }, { field: 'split' }, { field: 'epoch' }, { field: 'value', format: '.4g' }],
          },
        },
        {
          transform: [onPanel(p.name, 'onset')],
          mark: { type: 'rule', strokeWidth: 2, strokeDash: [2, 2] },
          encoding: { x: { field: 'epoch', type: 'quantitative' }, color, tooltip: [{ field: 'run' }, { field: 'epoch', title: 'overfitting onset (epoch)' }] },
        },
        {
          transform: [onPanel(p.name, 'onset')],
          mark: { type: 'text', y: 2, baseline: 'top', align: 'left', dx: 3, fontSize: 10 },
          encoding: { x: { field: 'epoch', type: 'quantitative' }, text: { field: 'label' }, color },
        },
      ],
    })),
    resolve: { scale: { y: 'independent' } },
  } as Spec;
}

/** One figure per scale: xy, wh, conf1, conf2, class; training vs validation. */
export function termFigures(runs: readonly RunData[], onsets: readonly OnsetMark[]): Figure[] {
  const nScales = Math.max(0, ...runs.map(scaleCount));
  const out: Figure[] = [];
  for (let s = 0; s < nScales; s++) {
    const name = scaleName(s);
    const strides = [...new Set(runs.map((r) => r.run.strides[s]).filter((x) => x !== undefined))];
    out.push({
      id: `terms-${name}`,
      section: 'Loss terms per scale',
      title: `${name} scale (stride ${strides.join('/')} px): loss terms, training vs validation`,
      caption:
        'Each term is the mean per image over an epoch (training: the batches of that epoch, with warm-up where it applied; validation: the whole validation split, eval mode). ' +
        'A dotted vertical line marks the overfitting onset (warm-up epochs left out): the last epoch at the validation minimum, after which validation stays above it and rises while training keeps falling.',
      spec: trainValSpec(
        runs,
        TERM_NAMES.map((t) => ({
          name: t,
          series: (r) => termSeries(r, s, t),
          onset: (o) => o.scale === name && o.term === t,
        })),
        onsets,
        'loss term (per image)',
      ),
    });
  }
  return out;
}

/** The optimised objective and the total of every scale, training vs validation. */
export function objectiveFigure(runs: readonly RunData[], onsets: readonly OnsetMark[]): Figure {
  const nScales = Math.max(0, ...runs.map(scaleCount));
  const panels: Panel[] = [{ name: 'objective', series: objectiveSeries, onset: (o) => o.term === 'objective' }];
  for (let s = 0; s < nScales; s++) {
    const name = scaleName(s);
    panels.push({ name: `${name} total`, series: (r) => termSeries(r, s, 'total'), onset: (o) => o.scale === name && o.term === 'total' });
  }
  return {
    id: 'objective',
    section: 'Objective and warm-up',
    title: 'Objective and per-scale totals, training vs validation',
    caption:
      'The objective is the quantity the optimiser minimises (after the configured reduction, e.g. √ per scale), averaged over batches; the totals are the sum of the five terms of a scale, per image.',
    spec: trainValSpec(runs, panels, onsets, 'loss'),
  };
}

/** Fraction of warm-up batches per epoch (the seed's "warmup batches" plot). */
export function warmupFigure(runs: readonly RunData[]): Figure {
  const values = runs.flatMap((r) => r.epochs.map((e) => ({ run: r.label, epoch: e.epoch + 1, warm: e.warmFraction })));
  return {
    id: 'warmup',
    section: 'Objective and warm-up',
    title: 'Fraction of warm-up batches per epoch',
    caption:
      'Warm-up batches (keras-yolo3) also train the box of every prediction without a truth box towards its anchor at the cell centre; 1 = every batch of the epoch was a warm-up batch.',
    spec: {
      $schema: SCHEMA,
      width: 420,
      height: 180,
      data: { values },
      mark: { type: 'line', point: true, interpolate: 'linear' },
      encoding: {
        x: epochX,
        y: { field: 'warm', type: 'quantitative', title: 'warm-up batches / batches', scale: { domain: [0, 1] } },
        color: runColor(runs.map((r) => r.label)),
        tooltip: [{ field: 'run' }, { field: 'epoch' }, { field: 'warm', format: '.3f' }],
      },
    } as Spec,
  };
}

/** Training objective of every batch, warm-up batches marked; null when no batch was logged. */
export function batchObjectiveFigure(runs: readonly RunData[], maxPoints = 4000): Figure | null {
  const values: Record<string, unknown>[] = [];
  for (const r of runs) {
    // Thin long runs to at most maxPoints per run by striding (keeps the shape and the file small).
    const stride = Math.max(1, Math.ceil(r.batches.length / maxPoints));
    r.batches.forEach((b, i) => {
      if (i % stride === 0 || b.warm)
        values.push({
          run: r.label,
          step: b.step,
          epoch: b.epoch + 1 + b.batch / Math.max(1, r.run.batchesPerEpoch),
          objective: b.objective,
          phase: b.warm ? 'warm-up' : 'normal',
        });
    });
  }
  if (!values.length) return null;
  return {
    id: 'batch-objective',
    section: 'Objective and warm-up',
    title: 'Training objective per batch',
    caption:
      'Every training batch (thinned to a few thousand points per run); filled points are warm-up batches. The x axis is in epochs (fractional within an epoch).',
    spec: {
      $schema: SCHEMA,
      width: 620,
      height: 200,
      data: { values },
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1, opacity: 0.8 },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', title: 'epoch (fractional)' },
            y: { field: 'objective', type: 'quantitative', title: 'objective', scale: { type: 'log' } },
            color: runColor(runs.map((r) => r.label)),
          },
        },
        {
          transform: [{ filter: "datum.phase === 'warm-up'" }],
          mark: { type: 'point', filled: true, size: 12 },
          encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'objective', type: 'quantitative' }, color: runColor(runs.map((r) => r.label)) },
        },
      ],
    } as Spec,
  };
}
