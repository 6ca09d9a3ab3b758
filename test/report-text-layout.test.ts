// Text in the figures is laid out at the width it is drawn with: Vega's own guess without a canvas
// (0.8 × font size per character) reserved half as much again, which left a white band right of
// every figure with labels outside its plot. And the hybrid trigger's clustering labels, once
// printed over its curves and each other, sit in a column right of the plot, a line apart.
// Checked against what we did not write: resvg's own text layout (its bounding box of what it draws).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import { hybridFigure } from '../src/report/charts-hybrid-trigger.js';
import { toSvg, type Spec } from '../src/report/vega.js';
import { DEJAVU_DIR, measureText } from '../src/report/text-metrics.js';
import type { HybridReport } from '../src/study/hybrid-trigger.js';

const hasFont = existsSync(`${DEJAVU_DIR}/DejaVuSans.ttf`);

/** The drawn content's right edge, by resvg (which shapes the text itself), and the SVG's width. */
function drawnRight(svg: string): { right: number; width: number } {
  // Without the figure's white background, which spans the whole figure.
  const content = svg.replace(/<rect width="[\d.]+" height="[\d.]+" fill="white"\/>/, '');
  assert.notEqual(content, svg, 'no white background rect to drop');
  const r = new Resvg(content, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } });
  const box = r.getBBox();
  assert.ok(box, 'resvg drew nothing');
  return { right: box.x + box.width, width: r.width };
}

test(
  'text widths: DejaVu Sans advances, bold wider, size-proportional; Vega guessed half as wide again',
  { skip: !hasFont && 'fonts-dejavu-core missing' },
  () => {
    const label = 'clustering tuned at 10 Hz (gap 32, Δt 160, ΣADC ≥ 3643): 91.1 %';
    const w10 = measureText({ fontSize: 10 }, label)!;
    assert.ok(Math.abs(measureText({ fontSize: 20 }, label)! - 2 * w10) < 1e-9);
    assert.ok(measureText({ fontSize: 10, fontWeight: 'bold' }, label)! > w10 * 1.05);
    assert.ok(w10 < 0.7 * 0.8 * 10 * label.length, `${w10} px is near Vega's guess`);
    assert.equal(measureText({ fontSize: 10 }, ''), 0);
  },
);

test(
  'a label outside the plot: the figure ends where the label does (no white band), nothing cut',
  { skip: !hasFont && 'fonts-dejavu-core missing' },
  async () => {
    const label = 'a reference line’s label of some length, 12.3 % at 1.8 Hz per module';
    const spec = {
      width: 200,
      height: 100,
      data: { values: [{ y: 0.5, t: label }] },
      layer: [
        { mark: 'rule', encoding: { y: { field: 'y', type: 'quantitative', scale: { domain: [0, 1] } } } },
        { mark: { type: 'text', align: 'left', fontSize: 10 }, encoding: { x: { value: 208 }, y: { value: 50 }, text: { field: 't' } } },
      ],
    } as unknown as Spec;
    const { right, width } = drawnRight(await toSvg(spec));
    assert.ok(right <= width + 0.5, `label cut: drawn to ${right} px in a ${width} px figure`);
    assert.ok(width - right < 12, `white band of ${(width - right).toFixed(0)} px right of the label`);
  },
);

/** A hybrid report with only what the figure reads: two rates whose clusterings lie a point apart. */
function report(chosenAt = 6300): HybridReport {
  const rate = (targetHz: number, lift: number) => ({
    targetHz,
    rows: Array.from({ length: 41 }, (_, i) => ({ minSumAdc: 200 * i, val: { efficiency: 0.5 + lift + i / 100 }, eval: { efficiency: 0.5 + lift + i / 100 } })),
    chosen: { minSumAdc: chosenAt, threshold: 0.02, eval: { efficiency: 0.88 + lift } },
    baseline: {
      threshold: 3138,
      eval: { efficiency: 0.865 + lift },
      tuned: { chosen: 1, settings: [{}, { channelTolerance: 8, maxDtTicks: 160, threshold: 3660, eval: { efficiency: 0.887 + lift } }] },
    },
  });
  return {
    run: 'r',
    checkpoint: 'best',
    fprate: { file: 'f.json', images: 1e6 },
    valInteractions: 2000,
    evalInteractions: 2000,
    baseline: { variants: 32 },
    rates: [rate(1.8, 0), rate(10, 0.01)],
  } as unknown as HybridReport;
}

test(
  'hybrid figure: the clusterings’ labels right of the plot, ≥ 12 px apart, the figure ending at them',
  { skip: !hasFont && 'fonts-dejavu-core missing' },
  async () => {
    const svg = await toSvg(hybridFigure(report()).spec!);
    const labels = [...svg.matchAll(/<text[^>]*transform="translate\(([\d.]+),([\d.]+)\)"[^>]*>((?:baseline|clustering tuned) at [^<]*)</g)].map((m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
      text: m[3]!,
    }));
    assert.equal(labels.length, 4, labels.map((l) => l.text).join(' | '));
    for (const l of labels) assert.ok(l.x > 560, `${l.text} at x ${l.x}, inside the 560 px plot`);
    const ys = labels.map((l) => l.y).sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i]! - ys[i - 1]! >= 11.99, `labels ${ys[i - 1]} and ${ys[i]} overlap`);
    const { right, width } = drawnRight(svg);
    assert.ok(right <= width + 0.5 && width - right < 12, `figure ${width} px, drawn to ${right.toFixed(0)} px`);
  },
);

test(
  'hybrid figure: a requirement chosen at 0 (the network alone) keeps its label inside the plot',
  { skip: !hasFont && 'fonts-dejavu-core missing' },
  async () => {
    for (const at of [0, 6300]) {
      const svg = await toSvg(hybridFigure(report(at)).spec!);
      // The plot's left edge: the y axis and its title only (a label run out to the left pushed it to 351 px).
      const left = Number(/<g fill="none" stroke-miterlimit="4" transform="translate\(([\d.]+),/.exec(svg)![1]);
      assert.ok(left < 80, `chosen at ${at}: plot starts ${left} px from the left`);
    }
  },
);
