// What every chart builder returns, and the encodings all charts share so that several runs
// always get the same colour everywhere and one legend per plot.
import type { Spec } from './vega.js';

export interface Figure {
  /** File name stem for --figures and the DOM id (letters, digits, dashes). */
  id: string;
  section: string;
  title: string;
  /** One or two sentences on how to read the plot. */
  caption: string;
  /** A Vega-Lite plot, or … */
  spec?: Spec;
  /** … an SVG drawn directly (event displays: thousands of TP markers, see event-scene.ts). */
  svg?: string;
}

/** Tableau 10: distinguishable, colour-blind-friendlier than the Vega default for ≤ 10 runs. */
export const RUN_PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** Colour of run i (cycles after 10 runs). */
export const runColorOf = (i: number): string => RUN_PALETTE[i % RUN_PALETTE.length]!;

/** The colour encoding for runs: a fixed domain so every plot agrees on which colour is which run. */
export function runColor(labels: readonly string[], extra: { domain: string[]; range: string[] } = { domain: [], range: [] }) {
  return {
    field: 'run',
    type: 'nominal' as const,
    title: 'run',
    scale: { domain: [...labels, ...extra.domain], range: [...labels.map((_, i) => runColorOf(i)), ...extra.range] },
    legend: { orient: 'top' as const, direction: 'horizontal' as const, columns: 4, symbolOpacity: 1 },
  };
}

/** x encoding for epochs (1 = the first epoch, as `daqyolo train` prints them). */
export const epochX = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Colour by FP rate ("1.8 Hz", "10 Hz", … in `domain` order), legend on top: the trigger figures' rate encoding. */
export const rateColor = (domain: readonly string[]) => ({
  field: 'rate',
  type: 'nominal',
  title: 'FP rate per module',
  scale: { domain, range: domain.map((_, i) => runColorOf(i)) },
  legend: { orient: 'top' },
});

/**
 * Pixel rows for labels that want to sit at `want` (pixels from the top) but must stay `gap` apart
 * and inside [lo, hi]: the order of `want` is kept, each label moves as little as the sweep down and
 * the sweep back up allow. Used where several horizontal lines a point or two apart carry labels
 * (the baselines and tuned clusterings of the budget curve), which would otherwise print over each other.
 */
export function dodgeLabels(want: readonly number[], gap: number, lo: number, hi: number): number[] {
  const order = want.map((_, i) => i).sort((a, b) => want[a]! - want[b]! || a - b);
  const y = order.map((i) => Math.min(hi, Math.max(lo, want[i]!)));
  for (let k = 1; k < y.length; k++) y[k] = Math.max(y[k]!, y[k - 1]! + gap);
  if (y.length) y[y.length - 1] = Math.min(y[y.length - 1]!, hi);
  for (let k = y.length - 2; k >= 0; k--) y[k] = Math.min(y[k]!, y[k + 1]! - gap);
  const out = new Array<number>(want.length);
  order.forEach((i, k) => (out[i] = Math.max(lo, y[k]!)));
  return out;
}

/**
 * The labels of horizontal lines (values of kind 'baseline' or 'tuned', efficiency `eff` on a 0–1
 * axis `height` px tall) in a column right of a plot: sets each one's `ly`, the pixel row at its
 * line's height where lines a point apart allow, dodged 12 px apart.
 */
export function placeLineLabels(values: Record<string, unknown>[], height: number): void {
  const labels = values.filter((v) => v.kind === 'baseline' || v.kind === 'tuned');
  dodgeLabels(
    labels.map((v) => (1 - (v.eff as number)) * height),
    12,
    6,
    height - 6,
  ).forEach((ly, i) => (labels[i]!.ly = ly));
}
