// ΣADC of a trigger candidate: the summed ADC integral of the TPs a box holds, by the TP rule's
// meaning of "holds" (the TP's pixel centre inside the box, edges included; efficiency.ts
// tpsHeld). A pixel's channel 0 is the ADC integral summed over its TPs (sim/image.ts
// tpsToSparse), so the sum over the pixels whose centre is in the box is the sum over those TPs.
// It is what DUNE's clustering trigger cuts on, and what a hybrid trigger asks of a network's
// candidate besides its score (docs/budget.md, "The hybrid trigger").

/** A box in dataset pixels, [x1, y1, x2, y2] as a detection gives it. */
export interface PixelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** Column (or row) range of the pixels whose centre lies in [lo, hi], clamped to 0…n−1. */
function centreRange(lo: number, hi: number, n: number): [number, number] {
  return [Math.max(0, Math.ceil(lo - 0.5)), Math.min(n - 1, Math.floor(hi - 0.5))];
}

/** ΣADC in a box of a dense [C, H, W] image (channel 0). */
export function boxSumAdcDense(image: Float32Array, width: number, height: number, box: PixelBox): number {
  const [x0, x1] = centreRange(box.x1, box.x2, width);
  const [y0, y1] = centreRange(box.y1, box.y2, height);
  let sum = 0;
  for (let y = y0; y <= y1; y++) {
    const row = y * width;
    for (let x = x0; x <= x1; x++) sum += image[row + x]!;
  }
  return sum;
}

/** ΣADC in a box of a pixel list (flat indices y·W + x, ascending as the simulator and the stream give them; values pixel-major with `channels` each). */
export function boxSumAdcPixels(pixels: Int32Array, values: Float32Array, channels: number, width: number, box: PixelBox): number {
  const [x0, x1] = centreRange(box.x1, box.x2, width);
  const [y0, y1] = centreRange(box.y1, box.y2, Number.MAX_SAFE_INTEGER);
  if (x0 > x1 || y0 > y1) return 0;
  // The list is ascending (row-major), so only the run from the box's first row to its last is read:
  // fprate sums every candidate of every image, a few hundred per image from score 0.01 up.
  const first = y0 * width;
  const end = (y1 + 1) * width;
  let lo = 0;
  let hi = pixels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pixels[mid]! < first) lo = mid + 1;
    else hi = mid;
  }
  let sum = 0;
  for (let p = lo; p < pixels.length && pixels[p]! < end; p++) {
    const x = pixels[p]! % width;
    if (x >= x0 && x <= x1) sum += values[p * channels]!;
  }
  return sum;
}
