// Event display: one image as a PNG, channel (x) against time (y, increasing downwards), log colour
// scale, truth boxes outlined and labelled with Eν in MeV using a tiny 3×5 bitmap font.
import { PNG } from 'pngjs';
import type { DatasetBox, Interaction } from './store.js';

/** 3×5 glyphs, rows top to bottom, 3 bits per row (MSB = left column). */
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], ' ': [0, 0, 0, 0, 0], '-': [0, 0, 7, 0, 0], '#': [5, 7, 5, 7, 5],
  M: [5, 7, 7, 5, 5], e: [0, 7, 7, 4, 7], V: [5, 5, 5, 5, 2], E: [7, 4, 6, 4, 7], S: [7, 4, 7, 1, 7],
  C: [7, 4, 4, 4, 7],
};

/** Viridis-like colour map stops (t, r, g, b). */
const STOPS: [number, number, number, number][] = [
  [0, 68, 1, 84], [0.25, 59, 82, 139], [0.5, 33, 145, 140], [0.75, 94, 201, 98], [1, 253, 231, 37],
];

function colour(t: number): [number, number, number] {
  for (let i = 1; i < STOPS.length; i++) {
    if (t <= STOPS[i][0]) {
      const [t0, r0, g0, b0] = STOPS[i - 1];
      const [t1, r1, g1, b1] = STOPS[i];
      const w = (t - t0) / (t1 - t0);
      return [r0 + w * (r1 - r0), g0 + w * (g1 - g0), b0 + w * (b1 - b0)];
    }
  }
  return [253, 231, 37];
}

export interface RenderOptions {
  /** Screen pixels per image pixel. */
  scale: number;
  /** Which pixel channel to draw (0 = ADC integral). */
  channel: number;
  /** Predicted boxes, drawn in cyan and labelled with their score (truth boxes are red). */
  predictions?: { x1: number; y1: number; x2: number; y2: number; score: number }[];
}

/** Renders channel `opts.channel` of a dense [C, H, W] image with its boxes; returns PNG bytes. */
export function renderEvent(
  image: Float32Array, shape: { channels: number; height: number; width: number },
  boxes: DatasetBox[], interactions: Interaction[], opts: RenderOptions,
): Buffer {
  const { height: H, width: W } = shape;
  const s = opts.scale;
  const png = new PNG({ width: W * s, height: H * s });
  const plane = image.subarray(opts.channel * H * W, (opts.channel + 1) * H * W);
  let vmax = 0;
  for (const v of plane) vmax = Math.max(vmax, v);
  const lmax = Math.log10(1 + vmax) || 1;
  const set = (x: number, y: number, r: number, g: number, b: number) => {
    if (x < 0 || y < 0 || x >= W * s || y >= H * s) return;
    const o = (y * W * s + x) * 4;
    png.data[o] = r; png.data[o + 1] = g; png.data[o + 2] = b; png.data[o + 3] = 255;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = plane[y * W + x];
      const [r, g, b] = v > 0 ? colour(0.15 + 0.85 * (Math.log10(1 + v) / lmax)) : [12, 12, 16];
      for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) set(x * s + dx, y * s + dy, r, g, b);
    }
  }
  const outline = (b: { x1: number; y1: number; x2: number; y2: number }, r: number, g: number, bl: number) => {
    const x1 = Math.round(b.x1 * s) - 1, y1 = Math.round(b.y1 * s) - 1, x2 = Math.round(b.x2 * s), y2 = Math.round(b.y2 * s);
    for (let x = x1; x <= x2; x++) { set(x, y1, r, g, bl); set(x, y2, r, g, bl); }
    for (let y = y1; y <= y2; y++) { set(x1, y, r, g, bl); set(x2, y, r, g, bl); }
    return { x1, y1, x2, y2 };
  };
  for (const b of boxes) {
    const { x1, y1, y2 } = outline(b, 255, 60, 60);
    const it = interactions[b.interaction];
    if (it) drawText(`${it.energyMeV.toFixed(1)}MeV`, x1, y1 - 12 >= 0 ? y1 - 12 : y2 + 3, 2, set);
  }
  for (const p of opts.predictions ?? []) {
    const { x1, y2 } = outline(p, 60, 230, 255);
    drawText(p.score.toFixed(2), x1, y2 + 3, 2, set);
  }
  return PNG.sync.write(png);
}

function drawText(text: string, x0: number, y0: number, k: number, set: (x: number, y: number, r: number, g: number, b: number) => void): void {
  let x = x0;
  for (const ch of text) {
    const g = GLYPHS[ch] ?? GLYPHS[' '];
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if (!(g[row] & (4 >> col))) continue;
        for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) set(x + col * k + dx, y0 + row * k + dy, 255, 255, 255);
      }
    }
    x += 4 * k;
  }
}
