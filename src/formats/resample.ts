// Resampling imported images into the dataset's one size: the pixels of the project's one
// letterbox, whose placement and box transform are geometry/letterbox.ts's (as keras-yolo3:
// aspect kept, centred). Here the padding is 0 (an empty detector pixel, not keras' grey 128) and
// the resampling is PIL's antialiased bilinear (a triangle filter widened by the shrink factor, so
// downscaling averages instead of aliasing).
// Resampled values are rounded to integers so that an exported 8-bit PNG holds them exactly.
import type { Raster } from './image-io.js';
import { letterboxTransform, type Transform } from '../geometry/letterbox.js';

/** Converts a raster to planar floats [C, H, W] with C = 1 (ITU-R 601 luma, as PIL 'L') or 3. */
export function toPlanar(r: Raster, channels: 1 | 3): Float32Array {
  const n = r.width * r.height;
  const out = new Float32Array(channels * n);
  if (channels === r.channels) {
    for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) out[c * n + i] = r.data[i * channels + c];
  } else if (channels === 3) {
    for (let i = 0; i < n; i++) out[i] = out[n + i] = out[2 * n + i] = r.data[i];
  } else {
    for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * r.data[3 * i] + 0.587 * r.data[3 * i + 1] + 0.114 * r.data[3 * i + 2]);
  }
  return out;
}

/** Per output index: first source index and normalised weights of the triangle filter. */
function filterTaps(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Float64Array; maxTaps: number } {
  const scale = inSize / outSize;
  const support = Math.max(1, scale); // triangle half-width in source pixels
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize),
    count = new Int32Array(outSize),
    weights = new Float64Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support)),
      hi = Math.min(inSize, Math.ceil(centre + support));
    let sum = 0,
      k = 0;
    for (let i = lo; i < hi && k < maxTaps; i++, k++) {
      const w = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
      weights[o * maxTaps + k] = w;
      sum += w;
    }
    for (let j = 0; j < k; j++) weights[o * maxTaps + j] /= sum || 1;
    start[o] = lo;
    count[o] = k;
  }
  return { start, count, weights, maxTaps };
}

/** Resizes planar [C, h, w] to [C, nh, nw] (separable: rows, then columns), values rounded. */
export function resizePlanar(src: Float32Array, channels: number, h: number, w: number, nh: number, nw: number): Float32Array {
  if (nh === h && nw === w) return src;
  const fx = filterTaps(w, nw),
    fy = filterTaps(h, nh);
  const tmp = new Float64Array(h * nw);
  const out = new Float32Array(channels * nh * nw);
  for (let c = 0; c < channels; c++) {
    const base = c * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < nw; x++) {
        let s = 0;
        for (let k = 0; k < fx.count[x]; k++) s += fx.weights[x * fx.maxTaps + k] * src[base + y * w + fx.start[x] + k];
        tmp[y * nw + x] = s;
      }
    }
    const ob = c * nh * nw;
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        let s = 0;
        for (let k = 0; k < fy.count[y]; k++) s += fy.weights[y * fy.maxTaps + k] * tmp[(fy.start[y] + k) * nw + x];
        out[ob + y * nw + x] = Math.round(s);
      }
    }
  }
  return out;
}

/** Letterboxes planar [C, h, w] into [C, S, S] with zero padding; returns the pixels and the box transform. */
export function letterboxImage(src: Float32Array, channels: number, h: number, w: number, size: number): { pixels: Float32Array; transform: Transform } {
  const t = letterboxTransform(w, h, size);
  const resized = resizePlanar(src, channels, h, w, t.nh, t.nw);
  const out = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < t.nh; y++) out.set(resized.subarray((c * t.nh + y) * t.nw, (c * t.nh + y + 1) * t.nw), (c * size + y + t.dy) * size + t.dx);
  }
  return { pixels: out, transform: { sx: t.sx, sy: t.sy, dx: t.dx, dy: t.dy } };
}
