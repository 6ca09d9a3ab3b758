// Anchors over the dataset's box sizes (the seed's coarse-scale anchors spanned [26,16] to
// [217,143]; this shows how well each scale's anchors cover the boxes it must predict).
import { basename } from 'node:path';
import type { RunData } from './load.js';
import { SCHEMA, runColor, type Figure } from './figure.js';
import { scaleName } from './derive.js';
import type { Spec } from './vega.js';

export interface BoxSample {
  path: string;
  width: number;
  height: number;
  w: ArrayLike<number>;
  h: ArrayLike<number>;
}

/** Letterbox scale of a run: dataset px × scale = network input px. */
const lbScale = (r: RunData, d: { width: number; height: number }) => Math.min(r.run.size / d.height, r.run.size / d.width);

export function anchorFigure(runs: readonly RunData[], datasets: readonly BoxSample[], maxBoxes = 4000): Figure {
  const values: Record<string, unknown>[] = [];
  for (const d of datasets) {
    const stride = Math.max(1, Math.ceil(d.w.length / maxBoxes));
    for (let i = 0; i < d.w.length; i += stride) values.push({ kind: 'box', dataset: basename(d.path), w: d.w[i], h: d.h[i] });
  }
  for (const r of runs) {
    const d = datasets.find((x) => x.path === r.run.config.data);
    const k = d ? lbScale(r, d) : 1;
    r.run.anchors.forEach((list, s) =>
      list.forEach(([w, h]) => values.push({ kind: 'anchor', run: r.label, scale: scaleName(s), w: w / k, h: h / k, wNet: w, hNet: h })),
    );
  }
  const color = runColor(runs.map((r) => r.label));
  const x = { field: 'w', type: 'quantitative', title: 'box width (channels, dataset px)', scale: { type: 'log' } };
  const y = { field: 'h', type: 'quantitative', title: 'box height (time, dataset px)', scale: { type: 'log' } };
  return {
    id: 'anchors',
    section: 'Anchors',
    title: 'Anchors of each scale over the training boxes',
    caption:
      `Grey: training boxes of ${datasets.map((d) => `${basename(d.path)} (${d.w.length} boxes${d.w.length > maxBoxes ? `, ${maxBoxes} drawn` : ''})`).join(', ') || 'no dataset found'}; ` +
      "large symbols: each run's anchors by scale, converted from network input pixels to dataset pixels.",
    spec: {
      $schema: SCHEMA,
      width: 480,
      height: 360,
      data: { values },
      layer: [
        { transform: [{ filter: "datum.kind === 'box'" }], mark: { type: 'circle', size: 9, opacity: 0.3, color: '#888' }, encoding: { x, y } },
        {
          transform: [{ filter: "datum.kind === 'anchor'" }],
          mark: { type: 'point', filled: true, size: 150, opacity: 0.9, stroke: 'black', strokeWidth: 0.7 },
          encoding: {
            x: { field: 'w', type: 'quantitative' },
            y: { field: 'h', type: 'quantitative' },
            color,
            shape: { field: 'scale', type: 'nominal', title: 'scale', sort: ['coarse', 'intermediate', 'detailed'], legend: { orient: 'top' } },
            tooltip: [{ field: 'run' }, { field: 'scale' }, { field: 'wNet', title: 'w (input px)' }, { field: 'hNet', title: 'h (input px)' }],
          },
        },
      ],
    } as Spec,
  };
}
