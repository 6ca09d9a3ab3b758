// The hybrid trigger's scan as a figure (`daqyolo hybrid-trigger`, eval/hybrid-trigger.svg and .png): at each FP rate, the
// efficiency on the validation and evaluation splits against the ΣADC requirement on the network's
// candidates, the chosen requirement ringed, the clustering baseline dashed where it was given, and
// the clustering tuned over other channel gaps and Δt dotted (the control) where it differs.
// Requirement 0 is the network alone, so the curve's left end is the budget point's own figure.
import { join } from 'node:path';
import { writeAtomic } from '../util/atomic-write.js';
import { SCHEMA, placeLineLabels, rateColor, type Figure } from './figure.js';
import { svgToPng, toSvg, type Spec } from './vega.js';
import type { HybridReport } from '../study/hybrid-trigger.js';

const WIDTH = 560;
const HEIGHT = 320;
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

export function hybridFigure(r: HybridReport): Figure {
  const values: Record<string, unknown>[] = [];
  for (const rate of r.rates) {
    const label = `${rate.targetHz} Hz`;
    for (const row of rate.rows) {
      if (row.val?.efficiency != null) values.push({ kind: 'scan', rate: label, split: 'validation', a: row.minSumAdc, eff: row.val.efficiency });
      if (row.eval?.efficiency != null) values.push({ kind: 'scan', rate: label, split: 'evaluation', a: row.minSumAdc, eff: row.eval.efficiency });
    }
    if (rate.chosen?.eval?.efficiency != null)
      values.push({
        kind: 'chosen',
        rate: label,
        a: rate.chosen.minSumAdc,
        eff: rate.chosen.eval.efficiency,
        text: `chosen at ${label}: ΣADC ≥ ${rate.chosen.minSumAdc}, score ≥ ${rate.chosen.threshold!.toFixed(2)}: ${pct(rate.chosen.eval.efficiency)}`,
      });
    const b = rate.baseline;
    if (b?.eval?.efficiency != null)
      values.push({
        kind: 'baseline',
        rate: label,
        eff: b.eval.efficiency,
        text: `baseline at ${label} (ΣADC ≥ ${b.threshold!.toFixed(0)}): ${pct(b.eval.efficiency)}`,
      });
    // The control: another clustering chosen on validation (drawn only where it is not the default's).
    const t = b?.tuned && b.tuned.chosen > 0 ? b.tuned.settings[b.tuned.chosen]! : null;
    if (t?.eval?.efficiency != null)
      values.push({
        kind: 'tuned',
        rate: label,
        eff: t.eval.efficiency,
        text: `clustering tuned at ${label} (gap ${t.channelTolerance}, Δt ${t.maxDtTicks}, ΣADC ≥ ${t.threshold!.toFixed(0)}): ${pct(t.eval.efficiency)}`,
      });
  }
  const domain = r.rates.map((x) => `${x.targetHz} Hz`);
  const color = rateColor(domain);
  const x = { field: 'a', type: 'quantitative', title: 'ΣADC requirement on the network’s candidates (0 = the network alone)' };
  const y = { field: 'eff', type: 'quantitative', title: 'efficiency, 1–70 MeV (TP rule)', scale: { domain: [0, 1] }, axis: { format: '%' } };
  const only = (kind: string) => [{ filter: `datum.kind === '${kind}'` }];
  // The clusterings' labels in a column right of the plot, each at its line's height where lines a
  // point apart allow (dodged 12 px apart): inside the plot they printed over the scan's curves,
  // which end on those lines.
  placeLineLabels(values, HEIGHT);
  const maxA = Math.max(0, ...values.filter((v) => v.kind === 'scan').map((v) => v.a as number));
  const spec = {
    $schema: SCHEMA,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      { transform: only('baseline'), mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y, color } },
      { transform: only('tuned'), mark: { type: 'rule', strokeDash: [2, 3], strokeWidth: 1.5 }, encoding: { y, color } },
      {
        transform: [{ filter: "datum.kind === 'baseline' || datum.kind === 'tuned'" }],
        mark: { type: 'text', align: 'left', fontSize: 10 },
        encoding: { x: { value: WIDTH + 8 }, y: { field: 'ly', type: 'quantitative', scale: null }, text: { field: 'text' }, color },
      },
      {
        transform: only('scan'),
        mark: { type: 'line' },
        encoding: {
          x,
          y,
          color,
          strokeDash: {
            field: 'split',
            type: 'nominal',
            title: 'split',
            // Above the plot beside the rates: the right is the clusterings' labels' column.
            legend: { orient: 'top' },
            scale: {
              domain: ['evaluation', 'validation'],
              range: [
                [1, 0],
                [2, 2],
              ],
            },
          },
        },
      },
      { transform: only('chosen'), mark: { type: 'point', size: 90, filled: false, strokeWidth: 2 }, encoding: { x, y, color } },
      // Labels in the empty lower band, one line per rate, ending under their ring: rings close
      // together (at the right, where requirements land) would print over the curves and each other.
      // A ring in the left half (a low requirement, or the network alone) starts its label instead,
      // which would otherwise run out of the plot to the left.
      ...domain.flatMap((rate, i) =>
        (['left', 'right'] as const).map((align) => ({
          transform: [...only('chosen'), { filter: `datum.rate === '${rate}' && (datum.a < ${maxA / 2}) === ${align === 'left'}` }],
          mark: { type: 'text', align, fontSize: 10 },
          encoding: { x, y: { datum: 0.3 - 0.06 * i, type: 'quantitative', scale: y.scale }, text: { field: 'text' }, color },
        })),
      ),
    ],
  } as unknown as Spec;
  return {
    id: 'hybrid-trigger-scan',
    section: 'Hybrid trigger',
    title: 'Efficiency against the ΣADC requirement on the network’s candidates, at fixed FP rates per module',
    caption:
      `${r.run} (${r.checkpoint}): each requirement's score cut from ${r.fprate.images.toLocaleString('en')} background-only images (${r.fprate.file}); ` +
      `efficiency by the TP rule on ${r.valInteractions} validation (dotted) and ${r.evalInteractions} evaluation interactions (solid); ` +
      `the requirement chosen on validation ringed on the evaluation curve${r.baseline ? '; the clustering baseline at the same rate dashed' : ''}` +
      `${r.baseline?.variants ? `; the clustering of channel gap and Δt tuned on validation over ${r.baseline.variants + 1} settings dotted, where it is not the default` : ''}.`,
    spec,
  };
}

/** Writes hybrid-trigger.svg and hybrid-trigger.png into `dir`; returns their paths. */
export async function writeHybridFigure(r: HybridReport, dir: string): Promise<string[]> {
  const svg = await toSvg(hybridFigure(r).spec!);
  const files = [join(dir, 'hybrid-trigger.svg'), join(dir, 'hybrid-trigger.png')];
  writeAtomic(files[0]!, svg);
  writeAtomic(files[1]!, svgToPng(svg));
  return files;
}
