// Writes a daqyolo dataset back out as VOC, YOLO or COCO, images as 8-bit PNG at the stored size
// (letterboxed imports are exported letterboxed, with boxes in stored pixels; /import/transform
// in the dataset maps back to the original files). Everything is written into a temporary folder
// that is renamed to --out at the end.
import { existsSync, rmSync, statSync } from 'node:fs';
import { commitTemp, makeDir, removeStaleTemps, tempName, writeError, writeFileSynced } from '../util/atomic-write.js';
import { basename, dirname, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { UserError } from '../errors.js';
import { openDataset, type DatasetReader } from '../data/store.js';
import { PATHS } from '../data/layout.js';
import { h5wasm, type H5Dataset } from '../data/h5.js';
import { SPLIT_NAMES, type SplitName } from '../data/splits.js';
import { encodePng } from './image-io.js';
import { uniqueStems } from './files.js';
import { vocXml } from './voc.js';
import { yoloLabelText } from './yolo.js';

export type ExportFormat = 'voc' | 'yolo' | 'coco';

export interface ExportOptions {
  format: ExportFormat;
  dataset: string;
  out: string;
  force: boolean;
  scale?: number | 'auto';
}

export interface ExportReport {
  format: ExportFormat;
  dataset: string;
  out: string;
  images: number;
  boxes: number;
  scale: number;
  clampedPixels: number;
  splits: Record<string, number>;
}

/** The export folder names the eval split "test", as the three formats do. */
const OUT_SPLIT: Record<SplitName, string> = { train: 'train', val: 'val', eval: 'test' };

/** Source file names stored by an import (null for simulated datasets). */
function sourceNames(path: string, n: number): string[] | null {
  const f = new h5wasm.File(path, 'r');
  try {
    const d = f.get(PATHS.importSourceFile) as H5Dataset | null;
    if (!d) return null;
    const v = d.value as unknown;
    const names = (Array.isArray(v) ? v : [v]).map(String);
    return names.length === n ? names : null;
  } finally {
    f.close();
  }
}

/** 255 / the largest pixel value, for datasets whose values are not 8-bit (simulated ADC sums). */
function autoScale(r: DatasetReader): number {
  let max = 0;
  for (let i = 0; i < r.numImages; i++) {
    const px = r.readDense([i]);
    for (let k = 0; k < px.length; k++) if (px[k] > max) max = px[k];
  }
  return max > 0 ? 255 / max : 1;
}

export function exportDataset(o: ExportOptions): ExportReport {
  if (existsSync(o.out)) {
    if (!o.force) throw new UserError(`${o.out} already exists; pass --force to replace it`);
    if (!statSync(o.out).isDirectory()) throw new UserError(`${o.out} exists and is not a folder`);
  }
  if (!existsSync(dirname(o.out) || '.')) throw new UserError(`${o.out}: folder ${dirname(o.out)} does not exist`);
  const r = openDataset(o.dataset);
  removeStaleTemps(o.out);
  const tmp = tempName(o.out, 'partial');
  rmSync(tmp, { recursive: true, force: true });
  try {
    if (r.channels !== 1 && r.channels !== 3) throw new UserError(`${o.dataset}: ${r.channels} image channels; PNG export needs 1 (grey) or 3 (RGB)`);
    const imported = String(r.attrs.generator ?? '').startsWith('daqyolo import');
    const scale = o.scale === 'auto' || (o.scale === undefined && !imported) ? autoScale(r) : (o.scale ?? 1);
    const n = r.numImages;
    const stems = uniqueStems(sourceNames(o.dataset, n) ?? Array.from({ length: n }, (_, i) => `image_${String(i).padStart(6, '0')}`));
    const splitOf: SplitName[] = new Array(n);
    for (const s of SPLIT_NAMES) for (const i of r.split(s)) splitOf[i] = s;
    const split = (i: number) => OUT_SPLIT[splitOf[i] ?? 'train'];
    const W = r.width,
      H = r.height,
      C = r.channels;
    const imgDir = (i: number) => (o.format === 'voc' ? join(tmp, 'JPEGImages') : o.format === 'yolo' ? join(tmp, 'images', split(i)) : join(tmp, 'images'));
    const dirs = new Set<string>();
    const mk = (d: string) => {
      if (!dirs.has(d)) {
        makeDir(d);
        dirs.add(d);
      }
    };
    let clamped = 0,
      boxes = 0;
    const coco = new Map<string, { images: object[]; annotations: object[] }>(Object.values(OUT_SPLIT).map((s) => [s, { images: [], annotations: [] }]));
    let annId = 1;
    for (let i = 0; i < n; i++) {
      const px = r.readDense([i]);
      if (scale !== 1) for (let k = 0; k < px.length; k++) px[k] *= scale;
      const { png, clamped: c } = encodePng(px, C, H, W);
      clamped += c;
      const file = `${stems[i]}.png`;
      mk(imgDir(i));
      writeFileSynced(join(imgDir(i), file), png);
      const bx = r.boxes(i);
      boxes += bx.length;
      if (o.format === 'voc') {
        mk(join(tmp, 'Annotations'));
        writeFileSynced(
          join(tmp, 'Annotations', `${stems[i]}.xml`),
          vocXml({ filename: file, width: W, height: H, depth: C, boxes: bx.map((b) => ({ ...b, name: r.classNames[b.cls]! })) }),
        );
      } else if (o.format === 'yolo') {
        mk(join(tmp, 'labels', split(i)));
        writeFileSynced(join(tmp, 'labels', split(i), `${stems[i]}.txt`), yoloLabelText(bx, W, H));
      } else {
        const c = coco.get(split(i))!;
        c.images.push({ id: i + 1, file_name: file, width: W, height: H });
        for (const b of bx)
          c.annotations.push({
            id: annId++,
            image_id: i + 1,
            category_id: b.cls + 1,
            bbox: [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1],
            area: (b.x2 - b.x1) * (b.y2 - b.y1),
            iscrowd: 0,
          });
      }
    }
    const names = r.classNames;
    if (o.format === 'voc') {
      mk(join(tmp, 'ImageSets', 'Main'));
      for (const s of Object.values(OUT_SPLIT))
        writeFileSynced(
          join(tmp, 'ImageSets', 'Main', `${s}.txt`),
          stems
            .filter((_, i) => split(i) === s)
            .map((x) => `${x}\n`)
            .join(''),
        );
      writeFileSynced(join(tmp, 'labels.txt'), names.map((x) => `${x}\n`).join(''));
    } else if (o.format === 'yolo') {
      const present = Object.values(OUT_SPLIT).filter((s) => dirs.has(join(tmp, 'images', s)));
      writeFileSynced(
        join(tmp, 'data.yaml'),
        toYaml({ path: '.', ...Object.fromEntries(present.map((s) => [s, `images/${s}`])), names: Object.fromEntries(names.map((x, k) => [k, x])) }),
      );
      writeFileSynced(join(tmp, 'classes.txt'), names.map((x) => `${x}\n`).join(''));
    } else {
      mk(join(tmp, 'annotations'));
      const categories = names.map((x, k) => ({ id: k + 1, name: x, supercategory: 'none' }));
      for (const [s, c] of coco) {
        if (!c.images.length) continue;
        writeFileSynced(
          join(tmp, 'annotations', `instances_${s}.json`),
          JSON.stringify({ info: { description: `daqyolo export of ${basename(o.dataset)}` }, images: c.images, annotations: c.annotations, categories }),
        );
      }
    }
    const report: ExportReport = {
      format: o.format,
      dataset: o.dataset,
      out: o.out,
      images: n,
      boxes,
      scale,
      clampedPixels: clamped,
      splits: Object.fromEntries(Object.values(OUT_SPLIT).map((s) => [s, stems.filter((_, i) => split(i) === s).length])),
    };
    writeFileSynced(join(tmp, 'export.json'), JSON.stringify(report, null, 2) + '\n');
    if (existsSync(o.out)) rmSync(o.out, { recursive: true });
    commitTemp(tmp, o.out);
    return report;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeError(e, o.out);
  } finally {
    r.close();
  }
}
