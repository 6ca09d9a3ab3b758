// Event displays a physicist reads as one of their own: every trigger primitive (TP) as a marker at
// (channel, peak time) at least MIN_MARKER_PX screen pixels wide whatever the zoom, coloured by its
// ΣADC on a log scale with a colour bar; the marker's shape says who made it when the truth is
// known (signal, ³⁹Ar, ⁸⁵Kr, the Rn chain, neutron capture, noise, other); axes in detector
// channels and in ticks and µs; truth boxes labelled with Eν, the process and the sources of the
// TPs inside them; detections with their score, as evaluate counts them (after NMS, each one
// matched to an interaction or a false positive under evaluate's matching rule). One scene, drawn
// as SVG (the report) and rasterised to PNG (show, detect) by the report's SVG rasteriser.
//
// Positions are image pixels (floats: a TP on channel c sits at x = (c + ½) / wires per pixel),
// the frame boxes use, so boxes, TPs and detections need no conversion among themselves; the
// axes convert to channels and ticks with the dataset's binning.
import { BACKGROUND_SOURCES, NOISE_OWNER, bgIndex } from '../sim/deposits.js';
import type { DatasetBox, DatasetReader, DatasetTables, Interaction } from '../data/store.js';
import { detectionMatches } from '../eval/efficiency.js';
import { escapeHtml } from './html.js';
import { svgToPng } from './vega.js';

/** Who made a TP, as the display groups the simulator's owners. */
export const TP_KINDS = ['signal', 'ar39', 'kr85', 'rn', 'ncapture', 'other', 'noise', 'unknown'] as const;
export type TpKind = (typeof TP_KINDS)[number];
const KIND_LABEL: Record<TpKind, string> = {
  signal: 'ν interaction',
  ar39: '³⁹Ar',
  kr85: '⁸⁵Kr',
  rn: 'Rn chain (²²²Rn…²¹⁴Po)',
  ncapture: 'neutron capture',
  other: 'other bkg (⁴²Ar, ⁴²K, ext. γ)',
  noise: 'noise',
  unknown: 'TP (no truth)',
};
const RN_CHAIN = new Set(['rn222', 'po218', 'pb214', 'bi214', 'po214']);

/** The display kind of a simulator owner code (≥ 0: an interaction; < 0: a background source). */
export function kindOfOwner(owner: number): TpKind {
  if (owner >= 0) return 'signal';
  if (owner === NOISE_OWNER) return 'noise';
  const s = BACKGROUND_SOURCES[bgIndex(owner)];
  if (s === 'ar39' || s === 'kr85' || s === 'ncapture') return s;
  if (s && RN_CHAIN.has(s)) return 'rn';
  return s ? 'other' : 'unknown';
}

export interface SceneUnits {
  wiresPerPixel: number;
  ticksPerPixel: number;
  tickUs: number;
}
/** A TP as drawn: continuous position, ΣADC and source; stored TPs also carry their truth owner
 *  (≥ 0: the image's interaction index) and pixel (column, row), for the TP matching rule. */
export interface SceneTp {
  x: number;
  y: number;
  adc: number;
  kind: TpKind;
  owner?: number;
  px?: number;
  py?: number;
}
export interface SceneBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}
export interface SceneTruth extends SceneBox {
  energyMeV: number;
  process: string;
  kinds: Partial<Record<TpKind, number>>;
}
export interface SceneDetection extends SceneBox {
  score: number;
  cls: number;
  matched: boolean | null;
}

export interface EventScene {
  title: string;
  /** Image size in pixels. */
  width: number;
  height: number;
  /** Channels and ticks per pixel, µs per tick; null when unknown (imported images: pixel axes). */
  units: SceneUnits | null;
  tps: SceneTp[];
  /** Whether the TPs are the dataset's own (true) or the image's non-zero pixels (false). */
  rawTps: boolean;
  truths: SceneTruth[];
  detections: SceneDetection[];
  /** How the detections were selected (drawn under the plot). */
  detectionNote?: string;
}

/** Dataset binning and tick length; null for datasets without them (imports). */
export function unitsOf(attrs: Record<string, unknown>): SceneUnits | null {
  const w = attrs.wires_per_pixel,
    t = attrs.ticks_per_pixel;
  if (typeof w !== 'number' || typeof t !== 'number') return null;
  const cfg = attrs.config as { detector?: { tickUs?: number } } | undefined;
  return { wiresPerPixel: w, ticksPerPixel: t, tickUs: cfg?.detector?.tickUs ?? 0.5 };
}

/** The TPs of one image: the stored ones with their owners, else the non-zero pixels of channel 0 (ΣADC per pixel). */
export function sceneTps(
  reader: DatasetReader & Partial<Pick<DatasetTables, 'tps'>>,
  index: number,
  image: Float32Array | null,
  units: SceneUnits | null,
): { tps: SceneTp[]; raw: boolean } {
  const stored = units && reader.tps ? reader.tps(index) : null;
  if (stored && units) {
    const tps: SceneTp[] = [];
    for (let i = 0; i < stored.channel.length; i++) {
      tps.push({
        x: (stored.channel[i]! + 0.5) / units.wiresPerPixel,
        y: Math.min(reader.height - 1e-3, Math.max(0, (stored.timePeak[i]! + 0.5) / units.ticksPerPixel)),
        adc: stored.adcIntegral[i]!,
        kind: kindOfOwner(stored.owner[i]!),
        owner: stored.owner[i]!,
        // The image's binning (sim/image.ts pixelX, pixelY), so the TP rule counts what evaluate counts.
        px: Math.min(reader.width - 1, Math.floor(stored.channel[i]! / units.wiresPerPixel)),
        py: Math.min(reader.height - 1, Math.max(0, Math.floor(stored.timePeak[i]! / units.ticksPerPixel))),
      });
    }
    return { tps, raw: true };
  }
  return { tps: pixelTps(image ?? reader.readDense([index]), reader.width, reader.height), raw: false };
}

/** Non-zero pixels of channel 0 as markers (images without stored TPs). */
export function pixelTps(image: Float32Array, width: number, height: number): SceneTp[] {
  const tps: SceneTp[] = [];
  for (let p = 0; p < width * height; p++) {
    const v = image[p]!;
    if (v > 0) tps.push({ x: (p % width) + 0.5, y: Math.floor(p / width) + 0.5, adc: v, kind: 'unknown' });
  }
  return tps;
}

/** Truth boxes with their interaction's Eν and process and the kinds of the TPs inside them. */
export function sceneTruths(boxes: readonly DatasetBox[], interactions: readonly Interaction[], tps: readonly SceneTp[], raw: boolean): SceneTruth[] {
  return boxes.map((b) => {
    const it = interactions[b.interaction];
    const kinds: Partial<Record<TpKind, number>> = {};
    if (raw) for (const t of tps) if (t.x >= b.x1 && t.x < b.x2 && t.y >= b.y1 && t.y < b.y2) kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
    return { x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, energyMeV: it?.energyMeV ?? NaN, process: it?.process ?? '', kinds };
  });
}

/** Detections marked as evaluate counts them, on an interaction or a false positive; null without truth.
 *  With stored TPs (owners known) by evaluate's default rule, the TP rule: a detection is on an
 *  interaction when its box holds the pixel centres of ≥ 2 of that interaction's TPs (eval/efficiency.ts
 *  tpsHeld). Without them (imported pictures) by IoU ≥ 0.1 with a truth box, and `sceneMatchRule` says so. */
export function sceneDetections(
  dets: readonly { x1: number; y1: number; x2: number; y2: number; score: number; cls: number }[],
  truths: readonly SceneBox[] | null,
  tps: readonly SceneTp[] = [],
): SceneDetection[] {
  const owned = tps.filter((t) => t.owner !== undefined && t.owner >= 0 && t.px !== undefined);
  const byTps = (d: SceneBox) => {
    const counts = new Map<number, number>();
    for (const t of owned) {
      const cx = t.px! + 0.5,
        cy = t.py! + 0.5;
      if (cx >= d.x1 && cx <= d.x2 && cy >= d.y1 && cy <= d.y2) counts.set(t.owner!, (counts.get(t.owner!) ?? 0) + 1);
    }
    return [...counts.values()].some((n) => n >= 2);
  };
  return dets.map((d) => ({
    x1: d.x1,
    y1: d.y1,
    x2: d.x2,
    y2: d.y2,
    score: d.score,
    cls: d.cls,
    matched: !truths
      ? null
      : owned.length > 0 || tps.some((t) => t.owner !== undefined)
        ? byTps(d)
        : truths.some((t) => detectionMatches(d, [t.x1, t.y1, t.x2, t.y2], { match: 'iou' })),
  }));
}

/** The rule sceneDetections used, for the display's note. */
export function sceneMatchRule(tps: readonly SceneTp[]): string {
  // Short forms of matchRuleText's (eval/efficiency.ts), to fit under the plot.
  return tps.some((t) => t.owner !== undefined)
    ? "the TP rule: ≥ 2 of the interaction's TPs inside the box"
    : 'IoU ≥ 0.1 with a truth box (no TPs stored, not the TP rule)';
}

/** A whole dataset image as a scene (show, detect, the report). */
export function datasetScene(reader: DatasetReader & Partial<Pick<DatasetTables, 'tps'>>, index: number, title: string): EventScene {
  const units = unitsOf(reader.attrs);
  const image = reader.readDense([index]);
  const { tps, raw } = sceneTps(reader, index, image, units);
  return {
    title,
    width: reader.width,
    height: reader.height,
    units,
    tps,
    rawTps: raw,
    truths: sceneTruths(reader.boxes(index), reader.interactions(index), tps, raw),
    detections: [],
  };
}

/** A window in image pixels. */
export interface View {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * The window that frames the interaction: the truth box of the highest Eν (else the best
 * detection, else every TP) with a margin of `margin` × its size on each side, at least `minPx`
 * image pixels wide and high.
 */
export function frameInteraction(scene: EventScene, margin = 0.6, minPx = 12): View {
  const top = <T extends SceneBox>(xs: readonly T[], key: (x: T) => number) => (xs.length ? [xs.reduce((a, b) => (key(b) > key(a) ? b : a))] : []);
  const boxes: SceneBox[] = scene.truths.length
    ? top(scene.truths, (t) => t.energyMeV || 0)
    : scene.detections.length
      ? top(scene.detections, (d) => d.score)
      : scene.tps.map((t) => ({ x1: t.x, y1: t.y, x2: t.x, y2: t.y }));
  if (!boxes.length) return { x0: 0, x1: scene.width, y0: 0, y1: scene.height };
  let x0 = Math.min(...boxes.map((b) => b.x1)),
    x1 = Math.max(...boxes.map((b) => b.x2));
  let y0 = Math.min(...boxes.map((b) => b.y1)),
    y1 = Math.max(...boxes.map((b) => b.y2));
  const grow = (lo: number, hi: number, max: number): [number, number] => {
    const c = (lo + hi) / 2,
      half = Math.max(minPx, (hi - lo) * (1 + 2 * margin)) / 2;
    const a = Math.max(0, c - half),
      b = Math.min(max, c + half);
    return [a, b];
  };
  [x0, x1] = grow(x0, x1, scene.width);
  [y0, y1] = grow(y0, y1, scene.height);
  return { x0, x1, y0, y1 };
}

/**
 * `--zoom` values: "interaction" (frameInteraction) or "C0-C1,T0-T1", a window in detector
 * channels and ticks (pixels for images without binning). Throws a message naming the value.
 */
export function parseZoom(spec: string, scene: EventScene): View {
  if (spec === 'interaction' || spec === '' || spec === 'true') return frameInteraction(scene);
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(spec.replace(/\s/g, ''));
  if (!m) throw new Error(`--zoom: expected "interaction" or a window "C0-C1,T0-T1" (channels, ticks), got "${spec}"`);
  const [c0, c1, t0, t1] = m.slice(1).map(Number) as [number, number, number, number];
  if (c1 <= c0 || t1 <= t0) throw new Error(`--zoom: "${spec}" is an empty window (C1 must exceed C0 and T1 T0)`);
  const u = scene.units;
  return u ? { x0: c0 / u.wiresPerPixel, x1: c1 / u.wiresPerPixel, y0: t0 / u.ticksPerPixel, y1: t1 / u.ticksPerPixel } : { x0: c0, x1: c1, y0: t0, y1: t1 };
}

// ---- drawing ----------------------------------------------------------------------------------

/** Viridis stops (matplotlib's, sampled at 0, ⅛ … 1), cut at 0.9 so the brightest TPs stay visible on white. */
const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];
const CMAP_TOP = 0.9;

/** Colour of t ∈ [0, 1] on the display's colour scale (viridis up to CMAP_TOP), as [r, g, b] bytes. */
export function colourOf(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * CMAP_TOP * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const w = u - i;
  const a = VIRIDIS[i]!,
    b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + w * (b[k]! - a[k]!))) as [number, number, number];
}
const hex = (c: [number, number, number]) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Log colour scale over ΣADC: position in [0, 1] of a value between lo and hi. */
export interface ColourScale {
  lo: number;
  hi: number;
  t(v: number): number;
}
export function logScale(values: readonly number[]): ColourScale {
  const pos = values.filter((v) => v > 0);
  let lo = pos.length ? Math.min(...pos) : 1,
    hi = pos.length ? Math.max(...pos) : 10;
  if (hi <= lo) {
    lo /= 2;
    hi *= 2;
  }
  const a = Math.log10(lo),
    b = Math.log10(hi);
  return { lo, hi, t: (v) => (Math.log10(Math.max(v, lo)) - a) / (b - a) };
}

/** The smallest a TP marker is drawn, in screen pixels. */
export const MIN_MARKER_PX = 6;

/** Marker outline of each kind around (0, 0), radius r (filled; the centre is always inside). */
function markerPath(kind: TpKind, r: number): string {
  const p = (pts: [number, number][]) => `M${pts.map(([x, y]) => `${(x * r).toFixed(2)},${(y * r).toFixed(2)}`).join('L')}Z`;
  switch (kind) {
    case 'ar39':
      return `M${-r},0a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
    case 'kr85':
      return p([
        [0, -1.25],
        [1.25, 0],
        [0, 1.25],
        [-1.25, 0],
      ]);
    case 'rn':
      return p([
        [0, -1.2],
        [1.15, 0.9],
        [-1.15, 0.9],
      ]);
    case 'ncapture':
      return p([
        [0, 1.2],
        [1.15, -0.9],
        [-1.15, -0.9],
      ]);
    case 'noise':
      return p([
        [-0.4, -1.1],
        [0.4, -1.1],
        [0.4, -0.4],
        [1.1, -0.4],
        [1.1, 0.4],
        [0.4, 0.4],
        [0.4, 1.1],
        [-0.4, 1.1],
        [-0.4, 0.4],
        [-1.1, 0.4],
        [-1.1, -0.4],
        [-0.4, -0.4],
      ]);
    case 'other':
      return p([
        [0, -1.15],
        [1.1, -0.35],
        [0.68, 0.95],
        [-0.68, 0.95],
        [-1.1, -0.35],
      ]);
    default:
      return p([
        [-1, -1],
        [1, -1],
        [1, 1],
        [-1, 1],
      ]);
  }
}

/** Drawn last = on top: background first, the interaction's own TPs last. */
const DRAW_ORDER: Record<TpKind, number> = { noise: 0, ar39: 1, kr85: 2, other: 3, rn: 4, ncapture: 5, unknown: 6, signal: 7 };

/** Nice tick values covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count,
    mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(6))));

export interface DrawOptions {
  /** The window to draw (image pixels); default the whole image. */
  view?: View;
  /** Width of the plotting area in screen pixels (default 760). */
  plotWidth?: number;
}

/** Where a scene's markers land: screen geometry of a drawing (tests use it to find a TP's pixel). */
export interface Layout {
  left: number;
  top: number;
  plotW: number;
  plotH: number;
  view: View;
  sx: number;
  sy: number;
  marker: number;
  width: number;
  height: number;
}

export function layoutOf(scene: EventScene, o: DrawOptions = {}): Layout {
  const view = o.view ?? { x0: 0, x1: scene.width, y0: 0, y1: scene.height };
  const plotW = o.plotWidth ?? 760;
  const vw = view.x1 - view.x0,
    vh = view.y1 - view.y0;
  const plotH = Math.round(Math.min(1.3 * plotW, Math.max(0.5 * plotW, plotW * (vh / vw))));
  const left = 78,
    top = 44;
  const sx = plotW / vw,
    sy = plotH / vh;
  const marker = Math.max(MIN_MARKER_PX, Math.min(16, Math.min(sx, sy)));
  return { left, top, plotW, plotH, view, sx, sy, marker, width: left + plotW + 200, height: top + plotH + 132 };
}

/** The scene as a self-contained SVG document. */
export function eventSvg(scene: EventScene, o: DrawOptions = {}): string {
  const L = layoutOf(scene, o);
  const { left, top, plotW, plotH, view, sx, sy } = L;
  const X = (x: number) => left + (x - view.x0) * sx;
  const Y = (y: number) => top + (y - view.y0) * sy;
  const inView = (t: { x: number; y: number }) => t.x >= view.x0 && t.x <= view.x1 && t.y >= view.y0 && t.y <= view.y1;
  const shown = scene.tps.filter(inView);
  const scale = logScale(shown.map((t) => t.adc));
  const out: string[] = [];
  const font = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" ${font} font-size="12">`);
  out.push(`<rect width="${L.width}" height="${L.height}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeHtml(scene.title)}</text>`);
  out.push(`<defs><clipPath id="plot"><rect x="${left}" y="${top}" width="${plotW}" height="${plotH}"/></clipPath></defs>`);
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fbfbfb" stroke="#444"/>`);

  // Axes: channel below, tick left, µs right (pixels when the binning is unknown).
  const u = scene.units;
  const xs = u ? u.wiresPerPixel : 1,
    ys = u ? u.ticksPerPixel : 1;
  for (const c of niceTicks(view.x0 * xs, view.x1 * xs, 8)) {
    const x = X(c / xs);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${top + plotH}" y2="${top + plotH + 5}" stroke="#444"/><line x1="${x}" x2="${x}" y1="${top}" y2="${top + plotH}" stroke="#e4e4e4"/>`,
    );
    out.push(`<text x="${x}" y="${top + plotH + 18}" text-anchor="middle">${fmt(c)}</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">${u ? 'channel (detector wire)' : 'x (pixel)'}</text>`);
  for (const t of niceTicks(view.y0 * ys, view.y1 * ys, 8)) {
    const y = Y(t / ys);
    out.push(
      `<line x1="${left - 5}" x2="${left}" y1="${y}" y2="${y}" stroke="#444"/><line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`,
    );
    out.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(
    `<text transform="translate(${left - 58},${top + plotH / 2}) rotate(-90)" text-anchor="middle">${u ? 'time (tick), increasing downwards' : 'y (pixel)'}</text>`,
  );
  if (u) {
    for (const us of niceTicks(view.y0 * ys * u.tickUs, view.y1 * ys * u.tickUs, 8)) {
      const y = Y(us / u.tickUs / ys);
      out.push(
        `<line x1="${left + plotW}" x2="${left + plotW + 5}" y1="${y}" y2="${y}" stroke="#444"/><text x="${left + plotW + 8}" y="${y + 4}">${fmt(us)}</text>`,
      );
    }
    out.push(`<text transform="translate(${left + plotW + 58},${top + plotH / 2}) rotate(90)" text-anchor="middle">time (µs, ${u.tickUs} µs per tick)</text>`);
  }

  // Box outlines under the TPs (a TP on a box's edge stays visible), labels over them.
  out.push(`<g clip-path="url(#plot)">`);
  const halo = 'paint-order="stroke" stroke="white" stroke-width="3" stroke-linejoin="round"';
  const detColour = (d: SceneDetection) => (d.matched === false ? '#ff7f0e' : '#1f5fbf');
  // Truth boxes: dashed red. Detections: matched (blue) or false positive (orange).
  for (const b of scene.truths) {
    out.push(
      `<rect x="${X(b.x1)}" y="${Y(b.y1)}" width="${(b.x2 - b.x1) * sx}" height="${(b.y2 - b.y1) * sy}" fill="none" stroke="#d62728" stroke-width="2" stroke-dasharray="6 3"/>`,
    );
  }
  for (const d of scene.detections) {
    out.push(
      `<rect x="${X(d.x1)}" y="${Y(d.y1)}" width="${(d.x2 - d.x1) * sx}" height="${(d.y2 - d.y1) * sy}" fill="none" stroke="${detColour(d)}" stroke-width="1.6"/>`,
    );
  }
  // TPs (one group, classed as Vega classes its marks, so the report's checks count them).
  out.push('<g class="role-mark">');
  const r = L.marker / 2;
  const order = [...shown].sort((a, b) => DRAW_ORDER[a.kind] - DRAW_ORDER[b.kind] || a.adc - b.adc);
  const paths = new Map<TpKind, string>();
  for (const t of order) {
    let d = paths.get(t.kind);
    if (!d) paths.set(t.kind, (d = markerPath(t.kind, r)));
    out.push(
      `<path transform="translate(${X(t.x).toFixed(2)},${Y(t.y).toFixed(2)})" d="${d}" fill="${hex(colourOf(scale.t(t.adc)))}" stroke="#222" stroke-width="0.6" stroke-opacity="0.7"/>`,
    );
  }
  out.push('</g>');
  // Truth labels: Eν, process and the sources of the box's TPs, above the box (below at the top edge).
  for (const b of scene.truths) {
    const kinds = TP_KINDS.filter((k) => b.kinds[k])
      .map((k) => `${b.kinds[k]} ${k === 'signal' ? 'ν' : KIND_LABEL[k].split(' ')[0]}`)
      .join(', ');
    const above = Y(b.y1) - 8 > top + 28;
    const y0 = above ? Y(b.y1) - 20 : Y(b.y2) + 14;
    out.push(
      `<text x="${X(b.x1)}" y="${y0}" fill="#b01515" font-weight="bold" ${halo}>${escapeHtml(`${Number.isFinite(b.energyMeV) ? `Eν ${b.energyMeV.toFixed(1)} MeV` : 'truth'}${b.process ? ` ${b.process}` : ''}`)}</text>`,
    );
    if (kinds) out.push(`<text x="${X(b.x1)}" y="${y0 + 13}" fill="#b01515" font-size="11" ${halo}>${escapeHtml(`TPs: ${kinds}`)}</text>`);
  }
  // Detection scores at the lower left inside the box, kept inside the plot when the box leaves it.
  for (const d of scene.detections) {
    const x = Math.max(X(d.x1), left) + 2,
      y = Math.min(Y(d.y2), top + plotH) - 3;
    out.push(`<text x="${x}" y="${y}" fill="${detColour(d)}" font-size="11" font-weight="bold" ${halo}>${d.score.toFixed(2)}</text>`);
  }
  out.push('</g>');

  // Colour bar: log ΣADC.
  const cbX = left + plotW + (u ? 84 : 30),
    cbH = Math.min(plotH, 300),
    cbW = 14;
  out.push(
    `<defs><linearGradient id="cmap" x1="0" y1="1" x2="0" y2="0">${Array.from({ length: 11 }, (_, k) => `<stop offset="${k / 10}" stop-color="${hex(colourOf(k / 10))}"/>`).join('')}</linearGradient></defs>`,
  );
  out.push(`<rect x="${cbX}" y="${top}" width="${cbW}" height="${cbH}" fill="url(#cmap)" stroke="#444"/>`);
  const a = Math.log10(scale.lo),
    b = Math.log10(scale.hi);
  const decade = [1, 2, 5];
  for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
    for (const m of decade) {
      const v = m * 10 ** e;
      if (v < scale.lo * 0.999 || v > scale.hi * 1.001) continue;
      const y = top + cbH * (1 - scale.t(v));
      out.push(
        `<line x1="${cbX + cbW}" x2="${cbX + cbW + 4}" y1="${y}" y2="${y}" stroke="#444"/><text x="${cbX + cbW + 6}" y="${y + 4}" font-size="11">${fmt(v)}</text>`,
      );
    }
  }
  out.push(`<text x="${cbX - 4}" y="${top + cbH + 18}" font-size="11">ΣADC${scene.rawTps ? ' per TP' : ' per pixel'} (log)</text>`);

  // Legend: marker shapes with their counts in view, box styles, how detections were chosen.
  const counts = new Map<TpKind, number>();
  for (const t of shown) counts.set(t.kind, (counts.get(t.kind) ?? 0) + 1);
  let lx = left,
    ly = top + plotH + 62;
  const mid = hex(colourOf(0.5));
  for (const k of TP_KINDS) {
    const n = counts.get(k);
    if (!n) continue;
    const label = `${KIND_LABEL[k]}: ${n}`;
    const w = 26 + label.length * 6.6;
    if (lx + w > left + plotW + 180) {
      lx = left;
      ly += 18;
    }
    out.push(
      `<path transform="translate(${lx + 6},${ly - 4})" d="${markerPath(k, 5)}" fill="${mid}" stroke="#222" stroke-width="0.6"/><text x="${lx + 16}" y="${ly}">${escapeHtml(label)}</text>`,
    );
    lx += w;
  }
  ly += 20;
  const tp = scene.rawTps
    ? `${shown.length} TPs in view (marker ≥ ${MIN_MARKER_PX} px at any zoom)`
    : `${shown.length} non-empty pixels in view (no TPs stored)`;
  const matched = scene.detections.filter((d) => d.matched).length,
    fp = scene.detections.filter((d) => d.matched === false).length;
  const det = scene.detections.length
    ? ` · ${scene.detections.length} detection(s)${scene.detections[0]!.matched !== null ? `: ${matched} on an interaction (blue), ${fp} false positive(s) (orange)` : ''}`
    : '';
  out.push(`<text x="${left}" y="${ly}" font-size="11" fill="#333">${escapeHtml(`${tp} · dashed red: truth box${det}`)}</text>`);
  if (scene.detectionNote) out.push(`<text x="${left}" y="${ly + 15}" font-size="11" fill="#333">${escapeHtml(scene.detectionNote)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** The scene as PNG bytes (one screen pixel per SVG unit). */
export function eventPng(scene: EventScene, o: DrawOptions = {}): Buffer {
  return svgToPng(eventSvg(scene, o), 1);
}
