// Rendering Vega-Lite specifications in Node: Vega-Lite → Vega → headless View → SVG, and SVG →
// PNG with resvg for slides. No browser and no canvas package are needed for SVG output.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { measureText } from './text-metrics.js';

// Lay text out at the widths resvg will draw it with (text-metrics.ts), not Vega's guess. vega
// exports vega-scenegraph's textMetrics at run time; its typings leave it out.
type WidthOf = (item: object, text: unknown) => number;
const metrics = (vega as unknown as { textMetrics: { width: WidthOf; estimateWidth: WidthOf } }).textMetrics;
const vegaEstimate = metrics.estimateWidth;
metrics.width = (item, text) => measureText(item, text == null ? '' : String(text).trim()) ?? vegaEstimate(item, text);

export type Spec = TopLevelSpec;

/** House style shared by every figure (readable fonts, white background). */
export const baseConfig = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, grid: true },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Renders one Vega-Lite spec to an SVG string. */
export async function toSvg(spec: Spec): Promise<string> {
  const withConfig = { ...spec, config: { ...baseConfig, ...(spec as { config?: object }).config } } as Spec;
  const vg = compile(withConfig).spec;
  // renderer 'none': nothing is drawn on a canvas; toSVG builds the markup from the scenegraph.
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG (e.g. for slides); `zoom` 2 gives a sharp image on projectors. */
export function svgToPng(svg: string, zoom = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return Buffer.from(r.render().asPng());
}
