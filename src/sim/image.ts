// Image synthesis from TPs. Convention (the rest of the project relies on it): tensor layout
// [C, H, W]; x / width = channel (wire), y / height = time bin. A TP lands in the pixel of its
// channel and its peak time. Channel 0 = sum of adc_integral; optional extra channels: peak ADC
// (max) and time over threshold (sum). Truth boxes are [x1, y1, x2, y2] in continuous pixel
// coordinates: a box over columns i0..i1 has x1 = i0, x2 = i1 + 1 (a one-pixel blip is 1×1).
import type { SimConfig } from './config.js';
import type { TpList } from './tps.js';

export type ExtraChannel = 'peak_adc' | 'tot';

export interface ImageLayout {
  channels: number;
  height: number;
  width: number;
  channelNames: string[];
  /** Detector channels per pixel column and ticks per pixel row. */
  wiresPerPixel: number;
  ticksPerPixel: number;
  extras: ExtraChannel[];
}

export function imageLayout(cfg: SimConfig): ImageLayout {
  const ticks = cfg.detector.windowTicks;
  const width = cfg.image.size;
  const height = cfg.image.timeDownsample ? Math.ceil(ticks / cfg.image.timeDownsample) : cfg.image.size;
  const extras = [...cfg.image.extraChannels];
  return {
    channels: 1 + extras.length,
    height,
    width,
    channelNames: ['adc_integral', ...extras],
    wiresPerPixel: cfg.detector.channels / width,
    ticksPerPixel: ticks / height,
    extras,
  };
}

/** Pixel column of a detector channel. */
export function pixelX(layout: ImageLayout, channel: number): number {
  return Math.min(layout.width - 1, Math.floor(channel / layout.wiresPerPixel));
}

/** Pixel row of a tick. */
export function pixelY(layout: ImageLayout, tick: number): number {
  return Math.min(layout.height - 1, Math.max(0, Math.floor(tick / layout.ticksPerPixel)));
}

export interface SparseImage {
  /** Flat pixel index y·W + x, ascending. */
  pixels: Int32Array;
  /** Values, pixel-major: values[p·C + c]. */
  values: Float32Array;
}

/** The TP columns an image is made of (a TpList, or a stream window's TPs). */
export interface PixelTps {
  n: number;
  channel: ArrayLike<number>;
  timePeak: ArrayLike<number>;
  adcIntegral: ArrayLike<number>;
  adcPeak: ArrayLike<number>;
  timeOverThreshold: ArrayLike<number>;
}

/** Accumulates the TPs into a sparse image (a pixel's TPs summed in their list order). */
export function tpsToSparse(layout: ImageLayout, tps: PixelTps): SparseImage {
  const n = tps.n;
  // Pixel index and TP index in one key: a typed-array sort without a comparator (several times
  // faster than sorting indices with one), same order as by (pixel, index).
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = (pixelY(layout, tps.timePeak[i]) * layout.width + pixelX(layout, tps.channel[i])) * 1048576 + i;
  key.sort();
  let unique = 0;
  for (let k = 0; k < n; k++) if (k === 0 || Math.floor(key[k] / 1048576) !== Math.floor(key[k - 1] / 1048576)) unique++;
  const C = layout.channels;
  const pixels = new Int32Array(unique);
  const values = new Float32Array(unique * C);
  let p = -1;
  for (let k = 0; k < n; k++) {
    const px = Math.floor(key[k] / 1048576),
      i = key[k] % 1048576;
    if (p < 0 || px !== pixels[p]) pixels[++p] = px;
    values[p * C] += tps.adcIntegral[i];
    for (let e = 0; e < layout.extras.length; e++) {
      const slot = p * C + 1 + e;
      if (layout.extras[e] === 'peak_adc') values[slot] = Math.max(values[slot], tps.adcPeak[i]);
      else values[slot] += tps.timeOverThreshold[i];
    }
  }
  return { pixels, values };
}

/** Scatters a sparse image into a dense [C, H, W] array at `offset` (which must be zero-filled). */
export function densify(layout: { channels: number; height: number; width: number }, img: SparseImage, out: Float32Array, offset = 0): void {
  const C = layout.channels;
  const plane = layout.height * layout.width;
  for (let p = 0; p < img.pixels.length; p++) {
    for (let c = 0; c < C; c++) out[offset + c * plane + img.pixels[p]] = img.values[p * C + c];
  }
}

/** Smallest box holding every TP of `owner`: [x1, y1, x2, y2] or null when it has none. */
export function boxOf(layout: ImageLayout, tps: TpList, owner: number): [number, number, number, number] | null {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i < tps.n; i++) {
    if (tps.owner[i] !== owner) continue;
    const x = pixelX(layout, tps.channel[i]);
    const y = pixelY(layout, tps.timePeak[i]);
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return x0 === Infinity ? null : [x0, y0, x1 + 1, y1 + 1];
}
