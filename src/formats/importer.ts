// Writes collected records (from the VOC, YOLO or COCO readers) into a daqyolo dataset with dense
// storage. Two passes: headers first (sizes and colours fix the dataset shape before anything is
// written, and bad boxes are found without decoding), then decode, convert, letterbox and write in
// chunks. Bad records stop the import with "file: problem" unless skipBad, which skips and lists them.
// Images of one size are stored as they are; images of mixed sizes (photos as they come) are
// letterboxed into DEFAULT_MIXED_SIZE² unless --size says otherwise, and the report says which.
// Files the decoder read with warnings (a JPEG without its end-of-image marker) are imported and
// their warnings listed in the report.
// The dataset is written under a temporary name and renamed at the end (DatasetWriter), and so is
// the import report beside it.
import { readFileSync } from 'node:fs';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { DatasetWriter, type WriterChunk } from '../data/writer.js';
import { PATHS } from '../data/layout.js';
import { makeSplits, SPLIT_NAMES, type SplitName } from '../data/splits.js';
import { BACKGROUND_SOURCES } from '../sim/deposits.js';
import { TP_SOURCES } from '../sim/event.js';
import { decodeImage, readImageHeader, type ImageHeader } from './image-io.js';
import { IDENTITY, type Transform } from '../geometry/letterbox.js';
import { letterboxImage, toPlanar } from './resample.js';
import { BadRecord, type Collected, type SourceBox, type SourceRecord } from './record.js';

export type ChannelMode = 'keep' | 'grey' | 'rgb';

/** The letterbox size for images of mixed sizes without --size: keras-yolo3's input size (train.py, 416×416). */
export const DEFAULT_MIXED_SIZE = 416;

export interface ImportOptions {
  format: 'voc' | 'yolo' | 'coco';
  /** What was imported (folders/files), for the report. */
  source: Record<string, string>;
  out: string;
  /** Letterbox every image into size × size; without it images of one size are kept, mixed sizes go to DEFAULT_MIXED_SIZE. */
  size?: number;
  channels: ChannelMode;
  skipBad: boolean;
  force: boolean;
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportReport {
  output: string;
  format: string;
  source: Record<string, string>;
  images: number;
  boxes: number;
  classNames: string[];
  classSource: string;
  channels: number;
  height: number;
  width: number;
  resize: string;
  splits: Record<SplitName, number>;
  splitSource: 'source' | 'seeded 80/10/10';
  dropped: Record<string, number>;
  skipped: { count: number; files: { file: string; problem: string }[] };
  /** Images imported although the decoder warned (e.g. a truncated JPEG decoded as libjpeg does). */
  warnings: { count: number; files: { file: string; warning: string }[] };
  seconds: number;
}

interface Checked {
  rec: SourceRecord;
  head: ImageHeader;
  boxes: SourceBox[];
}

/** Boxes in source pixels, checked against the image: inside it and with positive width and height. */
function checkBoxes(rec: SourceRecord, head: ImageHeader, classNames: string[]): SourceBox[] | BadRecord {
  const file = rec.annotation ?? rec.image;
  const out: SourceBox[] = [];
  const sx = rec.units === 'normalised' ? head.width : 1,
    sy = rec.units === 'normalised' ? head.height : 1;
  // Rounding in normalised or float sources can put an edge a hair outside; allow 1e-3 px.
  const tol = 1e-3;
  for (let k = 0; k < rec.boxes.length; k++) {
    const b = rec.boxes[k];
    const box: SourceBox = { x1: b.x1 * sx, y1: b.y1 * sy, x2: b.x2 * sx, y2: b.y2 * sy, cls: b.cls, ...(b.difficult ? { difficult: true } : {}) };
    const text = `box ${k + 1} (${classNames[b.cls] ?? b.cls}) [${[b.x1, b.y1, b.x2, b.y2].map((v) => +v.toFixed(4)).join(', ')}]`;
    if (![box.x1, box.y1, box.x2, box.y2].every(Number.isFinite)) return new BadRecord(file, `${text} has a coordinate that is not a number`);
    if (box.x2 <= box.x1) return new BadRecord(file, `${text}: xmax ≤ xmin`);
    if (box.y2 <= box.y1) return new BadRecord(file, `${text}: ymax ≤ ymin`);
    if (box.x1 < -tol || box.y1 < -tol || box.x2 > head.width + tol || box.y2 > head.height + tol) {
      return new BadRecord(file, `${text} is outside its ${head.width}×${head.height} image`);
    }
    box.x1 = Math.max(0, box.x1);
    box.y1 = Math.max(0, box.y1);
    box.x2 = Math.min(head.width, box.x2);
    box.y2 = Math.min(head.height, box.y2);
    out.push(box);
  }
  return out;
}

export async function importRecords(collected: Collected, o: ImportOptions): Promise<ImportReport> {
  const t0 = performance.now();
  const skipped: BadRecord[] = [];
  const bad = (b: BadRecord): void => {
    if (!o.skipBad) throw new UserError(`${b.message} (pass --skip-bad to skip such records)`);
    skipped.push(b);
  };
  const { classNames } = collected;
  if (classNames.length === 0) throw new UserError(`${o.format} import: no class names (no boxes found and no --labels)`);

  // Pass 1: headers and boxes.
  const good: Checked[] = [];
  for (const r of collected.records) {
    if (r instanceof BadRecord) {
      bad(r);
      continue;
    }
    let head: ImageHeader;
    try {
      head = readImageHeader(r.image);
    } catch (e) {
      bad(new BadRecord(r.image, `image cannot be decoded (${(e as Error).message})`));
      continue;
    }
    if (r.declaredSize && (r.declaredSize.width !== head.width || r.declaredSize.height !== head.height)) {
      bad(
        new BadRecord(
          r.annotation ?? r.image,
          `image ${r.name} declares width ${r.declaredSize.width}, height ${r.declaredSize.height} but the file is ${head.width}×${head.height}`,
        ),
      );
      continue;
    }
    const boxes = checkBoxes(r, head, classNames);
    if (boxes instanceof BadRecord) {
      bad(boxes);
      continue;
    }
    good.push({ rec: r, head, boxes });
  }
  // One order whatever the source layout (split folders, several JSON files): by file name, so a
  // dataset exported and imported again keeps its image indices.
  const key = (g: Checked) => basename(g.rec.name);
  good.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.rec.name < b.rec.name ? -1 : a.rec.name > b.rec.name ? 1 : 0));
  if (good.length === 0) throw new UserError(`${o.format} import: no image left to import${skipped.length ? ` (${skipped.length} skipped)` : ''}`);

  const C: 1 | 3 = o.channels === 'grey' ? 1 : o.channels === 'rgb' ? 3 : good.every((g) => g.head.channels === 1) ? 1 : 3;
  const mixed = good.some((g) => g.head.width !== good[0].head.width || g.head.height !== good[0].head.height);
  const size = o.size ?? (mixed ? DEFAULT_MIXED_SIZE : undefined);
  const H = size ?? good[0].head.height,
    W = size ?? good[0].head.width;
  const resize =
    size === undefined
      ? 'none (all images share one size)'
      : `letterbox into ${size}×${size} (${o.size !== undefined ? '--size' : `images differ in size; the default for mixed sizes, choose with --size`}; aspect kept, zero padding, antialiased bilinear, values rounded)`;

  const writer = new DatasetWriter({
    path: o.out,
    force: o.force,
    layout: 'dense',
    channels: C,
    height: H,
    width: W,
    storeTps: false,
    attrs: {
      generator: `daqyolo import ${o.format}`,
      class_names: classNames,
      process_names: ['none'],
      channel_names: C === 1 ? ['grey'] : ['red', 'green', 'blue'],
      seed: o.seed,
      split_fractions: '0.8,0.1,0.1',
      import_source: JSON.stringify(o.source),
      pixel_range: '0..255 (8-bit image values)',
      resize: size !== undefined ? `letterbox ${size}` : 'none',
      image_convention:
        "tensor [C, H, W]; x/width = image column, y/height = image row; boxes [x1, y1, x2, y2] in pixels, x2/y2 exclusive; /import/transform maps source pixels: x' = x·sx + dx, y' = y·sy + dy",
    },
  });
  try {
    // Pass 2: decode, convert, letterbox, write in chunks.
    const written: Checked[] = [];
    const warned: { file: string; warning: string }[] = [];
    const transforms: Transform[] = [];
    const CHUNK = 16;
    const per = C * H * W;
    let pending: { pixels: Float32Array; boxes: SourceBox[] }[] = [];
    const flush = () => {
      if (!pending.length) return;
      writer.appendChunk(denseChunk(writer.imagesWritten, pending, per));
      pending = [];
    };
    // One file at a time: libvips reports warnings per process, not per image, so a second decode in
    // flight would take the first one's warnings.
    for (const g of good) {
      const decoded = await decodeImage(readFileSync(g.rec.image)).catch((e: Error) => e);
      let pixels: Float32Array;
      let t: Transform = IDENTITY;
      try {
        if (decoded instanceof Error) throw decoded;
        const { raster } = decoded;
        if (raster.width !== g.head.width || raster.height !== g.head.height)
          throw new Error(`decoded ${raster.width}×${raster.height}, header says ${g.head.width}×${g.head.height}`);
        const planar = toPlanar(raster, C);
        if (size !== undefined) {
          ({ pixels, transform: t } = letterboxImage(planar, C, raster.height, raster.width, size));
        } else pixels = planar;
      } catch (e) {
        if (e instanceof UserError) throw e;
        bad(new BadRecord(g.rec.image, `image cannot be decoded (${(e as Error).message})`));
        continue;
      }
      for (const w of decoded.warnings) warned.push({ file: g.rec.image, warning: w });
      const boxes = g.boxes.map((b) => ({ ...b, x1: b.x1 * t.sx + t.dx, y1: b.y1 * t.sy + t.dy, x2: b.x2 * t.sx + t.dx, y2: b.y2 * t.sy + t.dy }));
      pending.push({ pixels, boxes });
      written.push(g);
      transforms.push(t);
      if (pending.length === CHUNK) flush();
      o.onProgress?.(written.length, good.length);
    }
    flush();
    const n = written.length;
    if (n === 0) throw new UserError(`${o.format} import: no image could be decoded (${skipped.length} skipped)`);

    const fromSource = written.every((g) => g.rec.split !== undefined);
    const splits = fromSource ? sourceSplits(written.map((g) => g.rec.split!)) : makeSplits(n, [0.8, 0.1, 0.1], o.seed);
    writer.addDataset(
      PATHS.importSourceFile,
      written.map((g) => g.rec.name),
    );
    writer.addDataset(PATHS.importSourceSize, Int32Array.from(written.flatMap((g) => [g.head.width, g.head.height])), [n, 2]);
    // VOC difficult flags, one per box in /boxes order (1 = difficult: left out of the mAP figures).
    writer.addDataset(PATHS.boxDifficult, Int32Array.from(written.flatMap((g) => g.boxes.map((b) => (b.difficult ? 1 : 0)))));
    writer.addDataset(PATHS.importTransform, Float32Array.from(transforms.flatMap((t) => [t.sx, t.sy, t.dx, t.dy])), [n, 4]);
    const report: ImportReport = {
      output: o.out,
      format: o.format,
      source: o.source,
      images: n,
      boxes: written.reduce((a, g) => a + g.boxes.length, 0),
      classNames,
      classSource: collected.classSource,
      channels: C,
      height: H,
      width: W,
      resize,
      splits: Object.fromEntries(SPLIT_NAMES.map((s) => [s, splits[s].length])) as Record<SplitName, number>,
      splitSource: fromSource ? 'source' : 'seeded 80/10/10',
      dropped: collected.dropped ?? {},
      skipped: { count: skipped.length, files: skipped.map((b) => ({ file: b.file, problem: b.problem })) },
      warnings: { count: warned.length, files: warned },
      seconds: 0,
    };
    writer.addDataset(PATHS.importReport, [JSON.stringify({ ...report, seconds: undefined })]);
    writer.finish(splits, { decays: BACKGROUND_SOURCES, tps: TP_SOURCES });
    report.seconds = +((performance.now() - t0) / 1000).toFixed(3);
    writeReport(reportPath(o.out), report);
    return report;
  } catch (e) {
    writer.abort();
    throw e;
  }
}

export const reportPath = (out: string): string => `${out}.import.json`;

function writeReport(path: string, report: ImportReport): void {
  writeJsonAtomic(path, report);
}

function sourceSplits(of: SplitName[]): Record<SplitName, Int32Array> {
  const idx = (s: SplitName) => Int32Array.from(of.flatMap((x, i) => (x === s ? [i] : [])));
  return { train: idx('train'), val: idx('val'), eval: idx('eval') };
}

/** A writer chunk of imported images: boxes and pixels, no interactions, no simulated background. */
function denseChunk(start: number, items: { pixels: Float32Array; boxes: SourceBox[] }[], per: number): WriterChunk {
  const count = items.length;
  const boxes = items.flatMap((it) => it.boxes);
  const nb = boxes.length;
  const dense = new Float32Array(count * per);
  items.forEach((it, i) => dense.set(it.pixels, i * per));
  return {
    start,
    count,
    channels: per,
    dense,
    seeds: new Uint32Array(count),
    pixelCounts: new Int32Array(count),
    pixels: new Int32Array(0),
    values: new Float32Array(0),
    boxCounts: Int32Array.from(items, (it) => it.boxes.length),
    boxes: Float32Array.from(boxes.flatMap((b) => [b.x1, b.y1, b.x2, b.y2])),
    boxClass: Int32Array.from(boxes, (b) => b.cls),
    boxInteraction: new Int32Array(nb).fill(-1), // no simulated interaction behind an imported box
    boxEnergy: new Float32Array(nb),
    boxVisible: new Float32Array(nb),
    boxProcess: new Int32Array(nb),
    boxNTps: new Int32Array(nb),
    interactionCounts: new Int32Array(count),
    intEnergy: new Float32Array(0),
    intProcess: new Int32Array(0),
    intVisible: new Float32Array(0),
    intNTps: new Int32Array(0),
    intBox: new Int32Array(0),
    intVertex: new Float32Array(0),
    decays: new Int32Array(count * BACKGROUND_SOURCES.length),
    tpsBySource: new Int32Array(count * TP_SOURCES.length),
  };
}
