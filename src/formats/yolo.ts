// Ultralytics YOLO layout: images/[split/]NAME.png with labels/[split/]NAME.txt beside it, one
// "class cx cy w h" line per box, normalised to the image size; class names from data.yaml
// ("names" list or {id: name} map), classes.txt or --labels. Split folders train/val/test under
// images/ become the dataset's train/val/eval. An image without a label file has no boxes.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { BadRecord, parseLabels, splitFromName, type Collected, type SourceBox, type SourceRecord } from './record.js';
import { findImage, labelsText, listFiles, requireDir, stem } from './files.js';
import { IMAGE_EXTENSIONS } from './image-io.js';
import type { SplitName } from '../data/splits.js';

/** Names from data.yaml or classes.txt in the dataset folder, or null. */
function namesFromFolder(dir: string): { names: string[]; source: string } | null {
  for (const f of ['data.yaml', 'data.yml', 'dataset.yaml']) {
    const p = join(dir, f);
    if (!existsSync(p)) continue;
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new UserError(`${p}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
    const names = (doc as { names?: unknown } | null)?.names;
    if (Array.isArray(names)) return { names: names.map(String), source: p };
    if (names && typeof names === 'object') {
      const entries = Object.entries(names as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)] as const);
      if (entries.some(([k], i) => k !== i)) throw new UserError(`${p}: "names" keys must be 0, 1, 2, … in order`);
      return { names: entries.map(([, v]) => v), source: p };
    }
    throw new UserError(`${p}: no "names" list`);
  }
  const txt = join(dir, 'classes.txt');
  if (existsSync(txt))
    return {
      names: readFileSync(txt, 'utf8')
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter(Boolean),
      source: txt,
    };
  return null;
}

/** Parses one label file; throws a one-line reason (line number and what is wrong). */
export function parseYoloLabels(text: string, numClasses: number): SourceBox[] {
  const boxes: SourceBox[] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    const t = line.trim();
    if (!t) return;
    const f = t.split(/\s+/);
    if (f.length !== 5) throw new Error(`line ${k + 1}: ${f.length} fields, expected 5 (class cx cy w h)`);
    const v = f.map(Number);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`line ${k + 1}: field ${bad + 1} "${f[bad]}" is not a number`);
    const [c, cx, cy, w, h] = v;
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new Error(`line ${k + 1}: unknown class ${f[0]} (${numClasses} class names)`);
    boxes.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, cls: c });
  });
  return boxes;
}

export function collectYolo(dir: string, labels?: string): Collected {
  requireDir(dir, 'yolo dataset');
  requireDir(join(dir, 'images'), 'yolo dataset');
  const found = labels !== undefined ? { names: parseLabels(labelsText(labels)), source: '--labels' } : namesFromFolder(dir);
  const subdirs = readdirSync(join(dir, 'images'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && splitFromName(d.name))
    .map((d) => d.name)
    .sort();
  const parts: { rel: string; split?: SplitName }[] = subdirs.length ? subdirs.map((s) => ({ rel: s, split: splitFromName(s) })) : [{ rel: '' }];
  // Without names, class ids stand for themselves: find the largest id first.
  let names = found?.names;
  if (!names) {
    let max = -1;
    for (const { rel } of parts) {
      const ld = join(dir, 'labels', rel);
      if (!existsSync(ld)) continue;
      for (const f of listFiles(ld, ['.txt']))
        for (const line of readFileSync(join(ld, f), 'utf8').split(/\r?\n/)) {
          const c = Number(line.trim().split(/\s+/)[0]);
          if (line.trim() && Number.isInteger(c) && c >= 0 && c < 10000) max = Math.max(max, c);
        }
    }
    names = Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  const records: (SourceRecord | BadRecord)[] = [];
  for (const { rel, split } of parts) {
    const imgDir = join(dir, 'images', rel),
      lblDir = join(dir, 'labels', rel);
    const images = listFiles(imgDir, IMAGE_EXTENSIONS);
    const stems = new Set(images.map(stem));
    for (const f of images) {
      const label = join(lblDir, `${stem(f)}.txt`);
      const rec: SourceRecord = {
        image: join(imgDir, f),
        name: join(rel, f),
        annotation: existsSync(label) ? label : null,
        boxes: [],
        units: 'normalised',
        split,
      };
      if (rec.annotation) {
        try {
          rec.boxes = parseYoloLabels(readFileSync(label, 'utf8'), names.length);
        } catch (e) {
          records.push(new BadRecord(label, (e as Error).message));
          continue;
        }
      }
      records.push(rec);
    }
    if (existsSync(lblDir)) {
      for (const f of listFiles(lblDir, ['.txt'])) {
        if (!stems.has(stem(f)) && !findImage(imgDir, stem(f)))
          records.push(new BadRecord(join(lblDir, f), `annotation without its image (no ${stem(f)}.png/.jpg in ${imgDir})`));
      }
    }
  }
  return { records, classNames: names, classSource: found?.source ?? 'class ids (no data.yaml, classes.txt or --labels)' };
}

/** One label file's text for boxes in pixels of a W×H image. */
export function yoloLabelText(boxes: { x1: number; y1: number; x2: number; y2: number; cls: number }[], W: number, H: number): string {
  return boxes.map((b) => [b.cls, (b.x1 + b.x2) / 2 / W, (b.y1 + b.y2) / 2 / H, (b.x2 - b.x1) / W, (b.y2 - b.y1) / H].map(String).join(' ') + '\n').join('');
}
