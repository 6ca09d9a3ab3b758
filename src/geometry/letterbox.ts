// The one letterbox of the project (import, training, evaluation, detection): scale a w×h image by
// min(S/w, S/h) keeping the aspect ratio, round the resized size to whole pixels, centre it in an
// S×S square. The box transform is the pixel transform exactly: per-axis factors nw/w and nh/h
// (not the unrounded min(S/w, S/h)), so a box edge on an image edge lands on the resized edge.

/** How one source image maps into the letterboxed one: x' = x·sx + dx, y' = y·sy + dy. */
export interface Transform {
  sx: number;
  sy: number;
  dx: number;
  dy: number;
}

export const IDENTITY: Transform = { sx: 1, sy: 1, dx: 0, dy: 0 };

/** The letterbox placement of a w×h image in an S×S square, with the resized size nw×nh. */
export function letterboxTransform(w: number, h: number, size: number): Transform & { nw: number; nh: number } {
  const scale = Math.min(size / w, size / h);
  const nw = Math.max(1, Math.min(size, Math.round(w * scale)));
  const nh = Math.max(1, Math.min(size, Math.round(h * scale)));
  return { sx: nw / w, sy: nh / h, dx: Math.floor((size - nw) / 2), dy: Math.floor((size - nh) / 2), nw, nh };
}
