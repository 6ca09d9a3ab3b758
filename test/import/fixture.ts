// Small detection datasets drawn in the test: filled rectangles of two kinds on a dark background,
// written as PNG (or JPEG) with VOC XML, so that the truth is known exactly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

export interface DrawnBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  name: string;
}
export interface DrawnImage {
  file: string;
  width: number;
  height: number;
  channels: 1 | 3;
  boxes: DrawnBox[];
  rgb: Uint8Array; /* [H, W, 3] */
}

/** Kind "bar": wide and flat, red (or bright in grey); kind "block": square-ish, green (mid grey). */
const COLOURS: Record<string, [number, number, number]> = { bar: [230, 40, 40], block: [40, 200, 60] };

/** A deterministic LCG so fixtures do not depend on Math.random. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

export function drawImage(file: string, width: number, height: number, rand: () => number, channels: 1 | 3 = 3): DrawnImage {
  const rgb = new Uint8Array(width * height * 3).fill(10);
  const boxes: DrawnBox[] = [];
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) {
    const name = rand() < 0.5 ? 'bar' : 'block';
    const w = name === 'bar' ? Math.floor(width * (0.3 + 0.2 * rand())) : Math.floor(Math.min(width, height) * (0.15 + 0.1 * rand()));
    const h = name === 'bar' ? Math.max(2, Math.floor(height * 0.08)) : w;
    const x1 = Math.floor(rand() * (width - w)),
      y1 = Math.floor(rand() * (height - h));
    const c = COLOURS[name];
    const grey = Math.round(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]);
    for (let y = y1; y < y1 + h; y++)
      for (let x = x1; x < x1 + w; x++) {
        for (let ch = 0; ch < 3; ch++) rgb[(y * width + x) * 3 + ch] = channels === 3 ? c[ch] : grey;
      }
    boxes.push({ x1, y1, x2: x1 + w, y2: y1 + h, name });
  }
  return { file, width, height, channels, boxes, rgb };
}

export function encodeImage(img: DrawnImage): Buffer {
  if (img.file.endsWith('.jpg')) {
    const rgba = Buffer.alloc(img.width * img.height * 4, 255);
    for (let i = 0; i < img.width * img.height; i++) for (let c = 0; c < 3; c++) rgba[4 * i + c] = img.rgb[3 * i + c];
    return jpeg.encode({ data: rgba, width: img.width, height: img.height }, 95).data;
  }
  return PNG.sync.write({ width: img.width, height: img.height, data: Buffer.from(img.rgb) } as unknown as PNG, {
    colorType: img.channels === 1 ? 0 : 2,
    inputColorType: 2,
    inputHasAlpha: false,
  });
}

export function vocXmlText(img: DrawnImage): string {
  const objs = img.boxes
    .map(
      (b) =>
        `  <object><name>${b.name}</name><difficult>0</difficult><bndbox><xmin>${b.x1 + 1}</xmin><ymin>${b.y1 + 1}</ymin><xmax>${b.x2}</xmax><ymax>${b.y2}</ymax></bndbox></object>\n`,
    )
    .join('');
  return `<annotation>\n  <filename>${img.file}</filename>\n  <size><width>${img.width}</width><height>${img.height}</height><depth>${img.channels}</depth></size>\n${objs}</annotation>\n`;
}

/** Writes <root>/JPEGImages and <root>/Annotations; sizes cycle through the given list. */
export function writeVoc(root: string, count: number, sizes: [number, number][], o: { seed?: number; channels?: 1 | 3; ext?: string } = {}): DrawnImage[] {
  const rand = lcg(o.seed ?? 1);
  mkdirSync(join(root, 'JPEGImages'), { recursive: true });
  mkdirSync(join(root, 'Annotations'), { recursive: true });
  const out: DrawnImage[] = [];
  for (let i = 0; i < count; i++) {
    const [w, h] = sizes[i % sizes.length];
    const img = drawImage(`img${String(i).padStart(3, '0')}${o.ext ?? '.png'}`, w, h, rand, o.channels ?? 3);
    writeFileSync(join(root, 'JPEGImages', img.file), encodeImage(img));
    writeFileSync(join(root, 'Annotations', img.file.replace(/\.\w+$/, '.xml')), vocXmlText(img));
    out.push(img);
  }
  return out;
}
