// COCO instances JSON: "images" (id, file_name, width, height), "annotations" (image_id,
// category_id, bbox [x, y, w, h] in 0-based continuous pixels, iscrowd) and "categories" (id, name).
// Classes are the categories in id order (or --labels by name). Crowd regions are not objects a
// detector should find one box for, so they are dropped and counted. Several files may be given;
// a file whose name says train, val or test sets the split of its images.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { BadRecord, parseLabels, splitFromName, type Collected, type SourceBox, type SourceRecord } from './record.js';
import { labelsText, requireDir, requireFile } from './files.js';
import type { SplitName } from '../data/splits.js';

interface CocoImage {
  id: number;
  file_name: string;
  width?: number;
  height?: number;
}
interface CocoAnnotation {
  id?: number;
  image_id: number;
  category_id: number;
  bbox: number[];
  iscrowd?: number;
}
interface CocoCategory {
  id: number;
  name: string;
}
interface CocoFile {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

function readCoco(path: string): CocoFile {
  requireFile(path, '--annotations');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const d = doc as Partial<CocoFile> | null;
  for (const k of ['images', 'annotations', 'categories'] as const) {
    if (!d || !Array.isArray(d[k])) throw new UserError(`${path}: not a COCO instances file (no "${k}" list)`);
  }
  return d as CocoFile;
}

const fileSplit = (path: string): SplitName | undefined => {
  for (const token of basename(path)
    .toLowerCase()
    .split(/[^a-z]+/)) {
    const s = splitFromName(token);
    if (s) return s;
  }
  return undefined;
};

export function collectCoco(images: string, annotationFiles: string[], labels?: string): Collected {
  requireDir(images, '--images');
  const files = annotationFiles.map((p) => ({ path: p, doc: readCoco(p), split: fileSplit(p) }));
  const catKey = (c: CocoCategory[]) => JSON.stringify([...c].sort((a, b) => a.id - b.id).map((x) => [x.id, x.name]));
  const first = files[0];
  for (const f of files.slice(1))
    if (catKey(f.doc.categories) !== catKey(first.doc.categories)) throw new UserError(`${f.path}: its categories differ from ${first.path}'s`);
  const cats = [...first.doc.categories].sort((a, b) => a.id - b.id);
  const given = labels !== undefined ? parseLabels(labelsText(labels)) : null;
  const classNames = given ?? cats.map((c) => String(c.name));
  const byName = new Map(classNames.map((n, i) => [n, i]));
  const catIndex = new Map(cats.map((c) => [c.id, byName.get(String(c.name))]));
  const catName = new Map(cats.map((c) => [c.id, String(c.name)]));
  const useSplits = files.every((f) => f.split !== undefined);
  let crowd = 0;
  const records: (SourceRecord | BadRecord)[] = [];
  for (const f of files) {
    const where = (what: string) => `${f.path} (${what})`;
    const imgs = new Map<number, { img: CocoImage; boxes: SourceBox[]; bad: BadRecord | null }>();
    for (const img of f.doc.images) imgs.set(img.id, { img, boxes: [], bad: null });
    f.doc.annotations.forEach((a, k) => {
      const label = `annotation ${a.id ?? `#${k}`}`;
      const entry = imgs.get(a.image_id);
      if (!entry) {
        records.push(new BadRecord(where(label), `annotation without its image (image_id ${a.image_id} is not in "images")`));
        return;
      }
      if (entry.bad) return;
      const fail = (problem: string) => {
        entry.bad = new BadRecord(where(`image ${entry.img.id} ${entry.img.file_name}`), `${label}: ${problem}`);
      };
      if (a.iscrowd) {
        crowd++;
        return;
      }
      if (!Array.isArray(a.bbox) || a.bbox.length !== 4 || !a.bbox.every((v) => typeof v === 'number' && Number.isFinite(v)))
        return fail(`bbox ${JSON.stringify(a.bbox)} is not [x, y, w, h]`);
      if (!catName.has(a.category_id)) return fail(`unknown class: category_id ${a.category_id} is not in "categories"`);
      const cls = catIndex.get(a.category_id);
      if (cls === undefined) return fail(`unknown class "${catName.get(a.category_id)}" (not in --labels ${classNames.join(',')})`);
      const [x, y, w, h] = a.bbox;
      entry.boxes.push({ x1: x, y1: y, x2: x + w, y2: y + h, cls });
    });
    for (const { img, boxes, bad } of imgs.values()) {
      if (bad) {
        records.push(bad);
        continue;
      }
      const path = join(images, img.file_name);
      if (!existsSync(path)) {
        records.push(new BadRecord(where(`image ${img.id}`), `annotation without its image (${img.file_name} not found in ${images})`));
        continue;
      }
      const declared = typeof img.width === 'number' && typeof img.height === 'number' ? { declaredSize: { width: img.width, height: img.height } } : {};
      records.push({ image: path, name: img.file_name, annotation: f.path, boxes, units: 'pixels', split: useSplits ? f.split : undefined, ...declared });
    }
  }
  return { records, classNames, classSource: given ? '--labels' : 'COCO categories in id order', dropped: crowd ? { crowd_annotations: crowd } : {} };
}
