// Pascal VOC: one XML per image (<annotation> with <filename>, <size> and <object>s holding
// <name> and <bndbox>), the format keras-yolo3's voc_annotation.py reads. VOC pixel indices are
// 1-based and inclusive, so xmin..xmax covers [xmin − 1, xmax) in daqyolo's continuous, exclusive
// convention; export writes xmin = x1 + 1, xmax = x2 (exact for integer boxes, and floats round-trip).
// Splits come from ImageSets/Main/{train,val,test}.txt beside the Annotations folder when present.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { splitFromName, BadRecord, parseLabels, type Collected, type SourceBox, type SourceRecord } from './record.js';
import { findImage, labelsText, listFiles, requireDir, stem } from './files.js';
import type { SplitName } from '../data/splits.js';

export interface VocSource {
  images: string;
  annotations: string;
  labels?: string;
}

interface VocObject {
  name: string;
  box: [number, number, number, number];
  difficult: boolean;
}

/** Parses one VOC XML text; throws a one-line reason when it is not a VOC annotation. */
export function parseVocXml(text: string): { filename: string | null; objects: VocObject[] } {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  const doc = new XMLParser({ parseTagValue: false, ignoreAttributes: true, isArray: (name) => name === 'object' }).parse(text) as Record<string, unknown>;
  const ann = doc.annotation as Record<string, unknown> | undefined;
  if (!ann || typeof ann !== 'object')
    throw new Error(`not a VOC annotation (root element is <${Object.keys(doc).find((k) => k !== '?xml') ?? 'none'}>, expected <annotation>)`);
  const objects: VocObject[] = [];
  const list = (ann.object ?? []) as Record<string, unknown>[];
  list.forEach((o, k) => {
    const name = typeof o?.name === 'string' ? o.name.trim() : '';
    if (!name) throw new Error(`not a VOC annotation: <object> ${k + 1} has no <name>`);
    const bb = o.bndbox as Record<string, unknown> | undefined;
    if (!bb || typeof bb !== 'object') throw new Error(`not a VOC annotation: <object> ${k + 1} (${name}) has no <bndbox>`);
    const box = (['xmin', 'ymin', 'xmax', 'ymax'] as const).map((f) => {
      const v = bb[f];
      const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(x))
        throw new Error(`not a VOC annotation: <object> ${k + 1} (${name}) <${f}> is ${v === undefined ? 'missing' : `"${String(v)}", not a number`}`);
      return x;
    }) as [number, number, number, number];
    // <difficult>1</difficult>: the devkit leaves such objects out of recall and never counts them as errors.
    const difficult = typeof o.difficult === 'string' && o.difficult.trim() === '1';
    objects.push({ name, box, difficult });
  });
  const filename = typeof ann.filename === 'string' && ann.filename.trim() ? ann.filename.trim() : null;
  return { filename, objects };
}

/** Split of each image stem from ImageSets/Main/{train,val,test}.txt, if that folder exists. */
function vocSplits(annotationsDir: string): Map<string, SplitName> {
  const out = new Map<string, SplitName>();
  const main = join(dirname(annotationsDir), 'ImageSets', 'Main');
  for (const name of ['train', 'val', 'test']) {
    const p = join(main, `${name}.txt`);
    if (!existsSync(p)) continue;
    for (const line of readFileSync(p, 'utf8').split(/\r?\n/)) if (line.trim()) out.set(line.trim().split(/\s+/)[0], splitFromName(name)!);
  }
  return out;
}

export function collectVoc(src: VocSource): Collected {
  requireDir(src.images, '--images');
  requireDir(src.annotations, '--annotations');
  const files = listFiles(src.annotations, ['.xml']);
  const given = src.labels !== undefined ? parseLabels(labelsText(src.labels)) : null;
  const parsed: ({ xml: string; filename: string | null; objects: VocObject[] } | BadRecord)[] = files.map((f) => {
    const xml = join(src.annotations, f);
    try {
      return { xml, ...parseVocXml(readFileSync(xml, 'utf8')) };
    } catch (e) {
      return new BadRecord(xml, (e as Error).message);
    }
  });
  // Without --labels the classes are every name seen, sorted (independent of file order).
  const classNames = given ?? [...new Set(parsed.flatMap((p) => (p instanceof BadRecord ? [] : p.objects.map((o) => o.name))))].sort();
  const index = new Map(classNames.map((n, i) => [n, i]));
  const splits = vocSplits(src.annotations);
  const records = parsed.map((p): SourceRecord | BadRecord => {
    if (p instanceof BadRecord) return p;
    const s = stem(p.xml);
    const image = (p.filename && existsSync(join(src.images, p.filename)) ? join(src.images, p.filename) : null) ?? findImage(src.images, s);
    if (!image) return new BadRecord(p.xml, `annotation without its image (${p.filename ?? `${s}.png/.jpg`} not found in ${src.images})`);
    const boxes: SourceBox[] = [];
    for (const o of p.objects) {
      const cls = index.get(o.name);
      if (cls === undefined) return new BadRecord(p.xml, `unknown class "${o.name}" (not in --labels ${classNames.join(',')})`);
      const [xmin, ymin, xmax, ymax] = o.box;
      boxes.push({ x1: xmin - 1, y1: ymin - 1, x2: xmax, y2: ymax, cls, ...(o.difficult ? { difficult: true } : {}) });
    }
    return { image, name: relative(src.images, image), annotation: p.xml, boxes, units: 'pixels', split: splits.get(s) };
  });
  return { records, classNames, classSource: given ? '--labels' : 'names in the XML files, sorted' };
}

/** One VOC XML document for an exported image. */
export function vocXml(o: {
  filename: string;
  width: number;
  height: number;
  depth: number;
  boxes: { x1: number; y1: number; x2: number; y2: number; name: string; difficult?: boolean }[];
}): string {
  const num = (v: number) => String(v); // shortest text that reads back as the same double
  const doc = {
    annotation: {
      folder: 'JPEGImages',
      filename: o.filename,
      source: { database: 'daqyolo export' },
      size: { width: o.width, height: o.height, depth: o.depth },
      segmented: 0,
      object: o.boxes.map((b) => ({
        name: b.name,
        pose: 'Unspecified',
        truncated: 0,
        difficult: b.difficult ? 1 : 0,
        bndbox: { xmin: num(b.x1 + 1), ymin: num(b.y1 + 1), xmax: num(b.x2), ymax: num(b.y2) },
      })),
    },
  };
  return new XMLBuilder({ format: true, indentBy: '  ' }).build(doc) as string;
}
