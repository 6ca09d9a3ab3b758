// Text widths for Vega's layout, measured from the font the figures are drawn in. Without a canvas
// package Vega guesses 0.8 × font size per character, half as wide again as DejaVu Sans (a 53-character
// label at 10 px: guessed 424 px, drawn 276 px). Labels outside the plot then reserve that guess,
// which left a wide white band at the right of every figure, and labels truncated by `limit` were
// cut too early. resvg draws the PNGs in DejaVu Sans (vega.ts), so its glyph advances, with kerning,
// are the widths to lay out with. Vega supports a user-defined width function for this (as vl-convert
// installs one): see widthGetter in vega-scenegraph.
import { existsSync } from 'node:fs';
import { openSync, type Font } from 'fontkit';

/** Debian's fonts-dejavu-core, which setup installs for the figures. */
export const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';
const FACES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf', oblique: 'DejaVuSans-Oblique.ttf', boldOblique: 'DejaVuSans-BoldOblique.ttf' };

/** The fields of a Vega text item that decide its width. */
export interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  fontStyle?: string;
  limit?: number;
}

const fonts = new Map<string, Font | null>();
function face(item: TextItem): Font | null {
  const w = item.fontWeight;
  const bold = w === 'bold' || w === 'bolder' || (w !== undefined && Number(w) >= 600);
  const oblique = item.fontStyle === 'italic' || item.fontStyle === 'oblique';
  const name = bold ? (oblique ? FACES.boldOblique : FACES.bold) : oblique ? FACES.oblique : FACES.regular;
  if (!fonts.has(name)) {
    const path = `${DEJAVU_DIR}/${name}`;
    fonts.set(name, existsSync(path) ? (openSync(path) as Font) : null);
  }
  return fonts.get(name)!;
}

const cache = new Map<string, number>();

/**
 * The drawn width in px of `text` in DejaVu Sans at the item's size, weight and style, or null
 * where the font is not installed (the caller keeps Vega's estimate then). The text is measured
 * whole: Vega's own truncation to `limit` calls this for each candidate prefix, so cutting here
 * would make every text fit and none be cut. Only a label longer than its limit gets a bound wider
 * than what is drawn.
 */
export function measureText(item: TextItem, text: string): number | null {
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11; // Vega's default size
  if (size <= 0 || text === '') return 0;
  const font = face(item);
  if (!font) return null;
  const key = `${font.postscriptName} ${text}`;
  let units = cache.get(key);
  if (units === undefined) {
    units = font.layout(text).advanceWidth / font.unitsPerEm;
    cache.set(key, units);
  }
  return units * size;
}
