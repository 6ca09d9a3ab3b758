// Dataset validation. Cheap checks run whenever a dataset is opened (offsets, splits, boxes,
// energies: the small tables); the full scan (`daqyolo check DATASET`) also reads every pixel.
// Each problem names the file, the HDF5 path and the record, e.g.
// "snnu.h5: /boxes/xyxy row 17 (image 8, box 1): x2 12 < x1 30".
import { UserError } from '../errors.js';
import type { SplitName } from './splits.js';
import { PATHS } from './layout.js';

/** Collects problems; with a limit of 1 the first one is thrown (the open-time behaviour). */
export class Problems {
  readonly list: string[] = [];
  constructor(
    readonly path: string,
    readonly limit = 1,
  ) {}
  add(message: string): void {
    if (this.list.length >= this.limit) return;
    this.list.push(`${this.path}: ${message}`);
    if (this.limit === 1) throw new UserError(this.list[0]!);
  }
  get full(): boolean {
    return this.list.length >= this.limit;
  }
}

/** The small tables of a dataset, as the store loads them at open. */
export interface DatasetTablesForCheck {
  numImages: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  /** Sparse layout: /images/offsets and the row count of /images/pixel; null for dense. */
  imageOffsets: Float64Array | null;
  pixelRows: number | null;
  /** Dense layout: the shape of /images/dense. */
  denseShape: number[] | null;
  boxOffsets: Float64Array;
  interactionOffsets: Float64Array;
  xyxy: Float32Array;
  boxClass: Int32Array;
  boxEnergy: Float32Array | null;
  interactionEnergy: Float32Array;
  interactionRows: number;
  splits: Record<SplitName, Int32Array>;
}

/** Offsets into a table: num_images + 1 entries, starting at 0, never decreasing, ending at its row count. */
function checkOffsets(p: Problems, name: string, off: Float64Array, images: number, rows: number, table: string): void {
  if (off.length !== images + 1) return p.add(`/${name} has ${off.length} entries, expected num_images + 1 = ${images + 1}`);
  if (off[0] !== 0) p.add(`/${name}[0] is ${off[0]}, expected 0`);
  for (let i = 0; i < images && !p.full; i++) {
    if (!(off[i + 1]! >= off[i]!)) p.add(`/${name}[${i + 1}] = ${off[i + 1]} < /${name}[${i}] = ${off[i]} (image ${i}): offsets must not decrease`);
  }
  if (off[images] !== rows) p.add(`/${name}[${images}] = ${off[images]}, expected the row count of /${table} (${rows})`);
}

/** Image index of a row, given the offsets (binary search). */
function imageOf(off: Float64Array, row: number): number {
  let lo = 0,
    hi = off.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (off[mid]! <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The cheap checks: everything except the pixel values. */
export function checkTables(p: Problems, t: DatasetTablesForCheck): void {
  for (const [k, v] of [
    ['num_images', t.numImages],
    ['channels', t.channels],
    ['height', t.height],
    ['width', t.width],
  ] as const) {
    if (!Number.isInteger(v) || v < (k === 'num_images' ? 0 : 1))
      p.add(`root attribute "${k}" is ${v}, expected a ${k === 'num_images' ? 'non-negative' : 'positive'} integer`);
  }
  if (t.imageOffsets) checkOffsets(p, PATHS.imageOffsets, t.imageOffsets, t.numImages, t.pixelRows ?? 0, PATHS.imagePixel);
  if (t.denseShape) {
    const want = [t.numImages, t.channels, t.height, t.width];
    if (t.denseShape.join(',') !== want.join(',')) p.add(`/images/dense has shape [${t.denseShape}], expected [${want}] (num_images, channels, height, width)`);
  }
  const boxes = t.xyxy.length / 4;
  checkOffsets(p, PATHS.boxOffsets, t.boxOffsets, t.numImages, boxes, PATHS.boxXyxy);
  checkOffsets(p, PATHS.interactionOffsets, t.interactionOffsets, t.numImages, t.interactionRows, PATHS.interactionEnergy);
  if (t.boxClass.length !== boxes) p.add(`/boxes/class has ${t.boxClass.length} rows, /boxes/xyxy has ${boxes}`);
  const where = (b: number) => {
    const i = t.boxOffsets.length === t.numImages + 1 ? imageOf(t.boxOffsets, b) : -1;
    return i >= 0 ? `/boxes/xyxy row ${b} (image ${i}, box ${b - t.boxOffsets[i]!})` : `/boxes/xyxy row ${b}`;
  };
  for (let b = 0; b < boxes && !p.full; b++) {
    const [x1, y1, x2, y2] = [t.xyxy[4 * b]!, t.xyxy[4 * b + 1]!, t.xyxy[4 * b + 2]!, t.xyxy[4 * b + 3]!];
    if (![x1, y1, x2, y2].every(Number.isFinite)) p.add(`${where(b)}: non-finite coordinate [${x1}, ${y1}, ${x2}, ${y2}]`);
    else if (!(x2 > x1) || !(y2 > y1)) p.add(`${where(b)}: box [${x1}, ${y1}, ${x2}, ${y2}] has no area (expected x2 > x1 and y2 > y1)`);
    else if (x1 < 0 || y1 < 0 || x2 > t.width || y2 > t.height)
      p.add(`${where(b)}: box [${x1}, ${y1}, ${x2}, ${y2}] lies outside the ${t.width} × ${t.height} image`);
    const c = t.boxClass[b];
    if (c !== undefined && (c < 0 || c >= t.numClasses)) p.add(`/boxes/class row ${b}: class ${c} is not one of the ${t.numClasses} class_names`);
  }
  const energies = (name: string, e: Float32Array | null) => {
    if (!e) return;
    for (let k = 0; k < e.length && !p.full; k++)
      if (!(e[k]! >= 0) || !Number.isFinite(e[k]!)) p.add(`/${name} row ${k}: energy ${e[k]} MeV, expected a finite non-negative value`);
  };
  energies(PATHS.boxEnergy, t.boxEnergy);
  energies(PATHS.interactionEnergy, t.interactionEnergy);
  for (const [name, idx] of Object.entries(t.splits)) {
    for (let k = 0; k < idx.length && !p.full; k++) {
      const i = idx[k]!;
      if (i < 0 || i >= t.numImages) p.add(`/splits/${name} entry ${k}: image index ${i} is out of range 0..${t.numImages - 1}`);
    }
  }
}

/** The pixels of one sparse chunk: indices inside the image plane, values finite. */
export function checkSparsePixels(p: Problems, t: DatasetTablesForCheck, firstRow: number, pixel: Int32Array, value: Float32Array): void {
  const plane = t.height * t.width;
  const C = t.channels;
  for (let r = 0; r < pixel.length && !p.full; r++) {
    const row = firstRow + r;
    const img = () => imageOf(t.imageOffsets!, row);
    if (pixel[r]! < 0 || pixel[r]! >= plane) p.add(`/images/pixel row ${row} (image ${img()}): pixel index ${pixel[r]} is outside 0..${plane - 1}`);
    for (let c = 0; c < C; c++) {
      const v = value[r * C + c]!;
      if (!Number.isFinite(v)) p.add(`/images/value row ${row} (image ${img()}), channel ${c}: value ${v}, expected a finite number`);
    }
  }
}

/** The pixels of one dense image: finite. */
export function checkDenseImage(p: Problems, image: number, values: Float32Array, channels: number, width: number): void {
  const plane = values.length / channels;
  for (let k = 0; k < values.length && !p.full; k++) {
    if (!Number.isFinite(values[k]!)) {
      const c = Math.floor(k / plane),
        y = Math.floor((k % plane) / width),
        x = k % width;
      p.add(`/images/dense image ${image}, channel ${c}, y ${y}, x ${x}: value ${values[k]}, expected a finite number`);
    }
  }
}
