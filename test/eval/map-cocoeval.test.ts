// The COCO figures against pycocotools' COCOeval itself (installed by `setup --test` into
// build/pyref): random images with near-miss, duplicate and wrong-class detections, boxes around
// the size limits, and the six AP figures compared to float precision.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateDetections, type MapImage, type Detection } from '../../src/infer/map.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const python = join(root, 'build', 'pyref', 'bin', 'python');
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-cocoeval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Random cases; scores are distinct (COCOeval breaks ties by input order, daqyolo by box). */
function cases(seed: number, count: number): { images: MapImage[]; classes: number }[] {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out = [];
  for (let c = 0; c < count; c++) {
    const classes = 1 + Math.floor(rnd() * 3);
    const used = new Set<number>();
    const score = () => {
      let v;
      do {
        v = Math.round(rnd() * 1e6) / 1e6;
      } while (v === 0 || used.has(v));
      used.add(v);
      return v;
    };
    const big = rnd() < 0.3 ? 150 : 40;
    const images: MapImage[] = [];
    for (let i = 0, n = 1 + Math.floor(rnd() * 6); i < n; i++) {
      const truths: { box: [number, number, number, number]; cls: number }[] = [];
      const detections: Detection[] = [];
      for (let k = 0, nt = Math.floor(rnd() * 6); k < nt; k++) {
        const w = 2 + rnd() * big,
          h = 2 + rnd() * big,
          x = rnd() * 100,
          y = rnd() * 100;
        const b = [x, y, x + w, y + h].map((v) => (rnd() < 0.5 ? Math.round(v) : v)) as [number, number, number, number];
        const cls = Math.floor(rnd() * classes);
        truths.push({ box: b, cls });
        for (let j = 0, nd = Math.floor(rnd() * 3); j < nd; j++) {
          const jx = (rnd() - 0.5) * w * 0.6,
            jy = (rnd() - 0.5) * h * 0.6,
            jw = 1 + (rnd() - 0.5) * 0.6;
          detections.push({
            x1: b[0] + jx,
            y1: b[1] + jy,
            x2: b[0] + jx + (b[2] - b[0]) * jw,
            y2: b[3] + jy,
            score: score(),
            cls: rnd() < 0.9 ? cls : Math.floor(rnd() * classes),
          });
        }
      }
      for (let j = 0, nf = Math.floor(rnd() * 4); j < nf; j++) {
        const x = rnd() * 120,
          y = rnd() * 120;
        detections.push({ x1: x, y1: y, x2: x + 3 + rnd() * 40, y2: y + 3 + rnd() * 40, score: score(), cls: Math.floor(rnd() * classes) });
      }
      images.push({ truths, detections });
    }
    out.push({ images, classes });
  }
  return out;
}

const COCOEVAL = `
import json, sys, io, contextlib
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
out = []
for c in json.load(open(sys.argv[1])):
    anns, dets = [], []
    for i, im in enumerate(c['images']):
        for t in im['truths']:
            x1, y1, x2, y2 = t['box']
            anns.append({'id': len(anns) + 1, 'image_id': i + 1, 'category_id': t['cls'] + 1, 'bbox': [x1, y1, x2 - x1, y2 - y1], 'area': (x2 - x1) * (y2 - y1), 'iscrowd': 0})
        for d in im['detections']:
            dets.append({'image_id': i + 1, 'category_id': d['cls'] + 1, 'bbox': [d['x1'], d['y1'], d['x2'] - d['x1'], d['y2'] - d['y1']], 'score': d['score']})
    if not anns or not dets:
        out.append(None); continue
    gt = COCO()
    gt.dataset = {'images': [{'id': i + 1} for i in range(len(c['images']))], 'annotations': anns, 'categories': [{'id': k + 1} for k in range(c['classes'])]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        e = COCOeval(gt, gt.loadRes(dets), 'bbox')
        e.evaluate(); e.accumulate(); e.summarize()
    out.append([None if v == -1 else float(v) for v in e.stats[:6]])
print(json.dumps(out))
`;

test('COCO mAP, AP50, AP75 and AP small/medium/large equal pycocotools COCOeval to float precision', () => {
  // Two edge cases on numpy's thresholds: a recall of exactly 7/20 = 0.35 (below 0.35000000000000003),
  // and an IoU of 0.3·3 = 0.8999999999999999 (at numpy's 9th IoU threshold, below 0.9).
  const row = (n: number) => Array.from({ length: n }, (_, i) => ({ box: [20 * i, 0, 20 * i + 10, 10] as [number, number, number, number], cls: 0 }));
  const recall35 = {
    classes: 1,
    images: [{ truths: row(20), detections: row(7).map((t, i) => ({ x1: t.box[0], y1: 0, x2: t.box[2], y2: 10, score: 0.9 - i / 100, cls: 0 })) }],
  };
  const iou09 = {
    classes: 1,
    images: [
      { truths: [{ box: [0, 0, 1, 1] as [number, number, number, number], cls: 0 }], detections: [{ x1: 0, y1: 0, x2: 1, y2: 0.3 * 3, score: 0.5, cls: 0 }] },
    ],
  };
  const all = [recall35, iou09, ...cases(11, 120)];
  const file = join(dir, 'cases.json');
  writeFileSync(file, JSON.stringify(all));
  const ref = JSON.parse(execFileSync(python, ['-c', COCOEVAL, file], { encoding: 'utf8', maxBuffer: 1 << 26 })) as ((number | null)[] | null)[];
  let compared = 0;
  all.forEach((c, k) => {
    if (ref[k] === null) return;
    const r = evaluateDetections(c.images);
    const ours = [r.mapCoco, r.ap50, r.ap75, r.apSmall, r.apMedium, r.apLarge];
    ours.forEach((v, j) => {
      const want = ref[k]![j]!;
      if (want === null) {
        assert.equal(v, null, `case ${k} figure ${j}: undefined in COCOeval`);
        return;
      }
      assert.ok(v !== null && Math.abs(v - want) < 1e-12, `case ${k} figure ${j}: ${v} vs COCOeval ${want}`);
      compared++;
    });
  });
  assert.ok(compared > 400, `${compared} figures compared`);
});
