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

/** ΣADC in a box of a pixel list (flat indices y·W + x, values pixel-major with `channels` each). */
export function boxSumAdcPixels(pixels: Int32Array, values: Float32Array, channels: number, width: number, box: PixelBox): number {
  let sum = 0;
  for (let p = 0; p < pixels.length; p++) {
    const cx = (pixels[p]! % width) + 0.5;
    const cy = Math.floor(pixels[p]! / width) + 0.5;
    if (cx >= box.x1 && cx <= box.x2 && cy >= box.y1 && cy <= box.y2) sum += values[p * channels]!;
  }
  return sum;
}
