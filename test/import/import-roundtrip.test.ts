// Import of VOC, YOLO and COCO into a daqyolo dataset, and the round trips import → export →
// import for each format: same images (bit for bit), same boxes, classes and splits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset, type DatasetReader } from '../../src/data/store.js';
import { collectVoc } from '../../src/formats/voc.js';
import { collectYolo } from '../../src/formats/yolo.js';
import { collectCoco } from '../../src/formats/coco.js';
import { importRecords, reportPath, DEFAULT_MIXED_SIZE, type ImportOptions } from '../../src/formats/importer.js';
import { exportDataset } from '../../src/formats/exporter.js';
import { letterboxTransform } from '../../src/geometry/letterbox.js';
import { writeVoc } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const opts = (out: string, more: Partial<ImportOptions> = {}): ImportOptions => ({
  format: 'voc',
  source: {},
  out,
  channels: 'keep',
  skipBad: false,
  force: false,
  seed: 0,
  ...more,
});

/** Every image, box, class name and split of two datasets agree (boxes within tol pixels). */
function assertSameDataset(a: DatasetReader, b: DatasetReader, tol = 0): void {
  assert.equal(b.numImages, a.numImages);
  assert.deepEqual([b.channels, b.height, b.width], [a.channels, a.height, a.width]);
  for (let i = 0; i < a.numImages; i++) {
    const pa = a.readDense([i]),
      pb = b.readDense([i]);
    const k = pa.findIndex((v, j) => v !== pb[j]);
    assert.equal(k, -1, `image ${i} pixel ${k}: ${pa[k]} vs ${pb[k]}`);
    const ba = a.boxes(i),
      bb = b.boxes(i);
    assert.equal(bb.length, ba.length, `image ${i} box count`);
    ba.forEach((x, k) => {
      const y = bb[k];
      assert.equal(b.classNames[y.cls], a.classNames[x.cls], `image ${i} box ${k} class`);
      for (const f of ['x1', 'y1', 'x2', 'y2'] as const) assert.ok(Math.abs(x[f] - y[f]) <= tol, `image ${i} box ${k} ${f}: ${x[f]} vs ${y[f]}`);
    });
  }
  for (const s of ['train', 'val', 'eval'] as const) assert.deepEqual(b.split(s), a.split(s), `split ${s}`);
}

// Source: 12 RGB images of three sizes, letterboxed into 64 × 64.
const src = join(dir, 'voc');
const drawn = writeVoc(
  src,
  12,
  [
    [96, 64],
    [64, 128],
    [80, 80],
  ],
  { seed: 3 },
);
const base = join(dir, 'base.h5');

test('VOC import letterboxes images of different sizes into one size, boxes following', async () => {
  const report = await importRecords(collectVoc({ images: join(src, 'JPEGImages'), annotations: join(src, 'Annotations') }), opts(base, { size: 64 }));
  assert.equal(report.images, 12);
  assert.deepEqual(report.classNames, ['bar', 'block']);
  assert.deepEqual(report.splits, { train: 10, val: 1, eval: 1 });
  assert.equal(report.skipped.count, 0);
  assert.deepEqual(JSON.parse(readFileSync(reportPath(base), 'utf8')).images, 12);
  const r = openDataset(base);
  assert.deepEqual([r.channels, r.height, r.width], [3, 64, 64]);
  for (let i = 0; i < 12; i++) {
    const d = drawn[i];
    const t = letterboxTransform(d.width, d.height, 64);
    const px = r.readDense([i]);
    const boxes = r.boxes(i);
    assert.equal(boxes.length, d.boxes.length);
    d.boxes.forEach((b, k) => {
      const got = boxes[k];
      assert.equal(r.classNames[got.cls], b.name);
      assert.ok(Math.abs(got.x1 - (b.x1 * t.sx + t.dx)) < 1e-4 && Math.abs(got.y2 - (b.y2 * t.sy + t.dy)) < 1e-4, `image ${i} box ${k}`);
    });
    // Padding is zero; the letterboxed content keeps the background value (10) away from boxes.
    if (t.dx > 0) assert.equal(px[32 * 64 + 0], 0);
    if (t.dy > 0) assert.equal(px[0 * 64 + 32], 0);
    // Every value is an integer in 0..255 (rounded resampling), so PNG export is exact.
    assert.ok(px.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  }
  r.close();
});

for (const format of ['voc', 'yolo', 'coco'] as const) {
  test(`${format}: import → export → import gives the same images, boxes, classes and splits`, async () => {
    const out = join(dir, `export-${format}`);
    const rep = exportDataset({ format, dataset: base, out, force: false });
    assert.equal(rep.images, 12);
    assert.equal(rep.clampedPixels, 0);
    const again = join(dir, `again-${format}.h5`);
    const collected =
      format === 'voc'
        ? collectVoc({ images: join(out, 'JPEGImages'), annotations: join(out, 'Annotations'), labels: join(out, 'labels.txt') })
        : format === 'yolo'
          ? collectYolo(out)
          : collectCoco(
              join(out, 'images'),
              readdirSync(join(out, 'annotations')).map((f) => join(out, 'annotations', f)),
            );
    const report = await importRecords(collected, opts(again, { format }));
    assert.equal(report.splitSource, 'source');
    const a = openDataset(base),
      b = openDataset(again);
    // YOLO stores normalised decimals; the others store pixels exactly.
    assertSameDataset(a, b, format === 'yolo' ? 1e-4 : 0);
    a.close();
    b.close();
  });
}

test('grey sources stay grey with --channels keep, become 3 equal planes with rgb; JPEG decodes', async () => {
  const g = join(dir, 'grey');
  writeVoc(g, 4, [[64, 64]], { seed: 5, channels: 1 });
  const out1 = join(dir, 'grey.h5'),
    out3 = join(dir, 'grey3.h5');
  await importRecords(collectVoc({ images: join(g, 'JPEGImages'), annotations: join(g, 'Annotations') }), opts(out1));
  await importRecords(collectVoc({ images: join(g, 'JPEGImages'), annotations: join(g, 'Annotations') }), opts(out3, { channels: 'rgb' }));
  const r1 = openDataset(out1),
    r3 = openDataset(out3);
  assert.equal(r1.channels, 1);
  assert.equal(r3.channels, 3);
  const a = r1.readDense([0]),
    b = r3.readDense([0]);
  for (let c = 0; c < 3; c++) assert.deepEqual(b.subarray(c * 4096, (c + 1) * 4096), a);
  r1.close();
  r3.close();

  const j = join(dir, 'jpeg');
  const imgs = writeVoc(j, 2, [[64, 64]], { seed: 6, ext: '.jpg' });
  const outj = join(dir, 'jpeg.h5');
  await importRecords(collectVoc({ images: join(j, 'JPEGImages'), annotations: join(j, 'Annotations') }), opts(outj, { channels: 'grey' }));
  const rj = openDataset(outj);
  const px = rj.readDense([0]);
  const b0 = imgs[0].boxes[0];
  const cx = Math.floor((b0.x1 + b0.x2) / 2),
    cy = Math.floor((b0.y1 + b0.y2) / 2);
  const want = b0.name === 'bar' ? Math.round(0.299 * 230 + 0.587 * 40 + 0.114 * 40) : Math.round(0.299 * 40 + 0.587 * 200 + 0.114 * 60);
  assert.ok(Math.abs(px[cy * 64 + cx] - want) <= 6, `JPEG pixel ${px[cy * 64 + cx]} vs ${want}`); // lossy codec
  rj.close();
});

test('images of different sizes import without --size: letterboxed into the default 416 × 416, and the report says so', async () => {
  const out = join(dir, 'nosize.h5');
  const report = await importRecords(collectVoc({ images: join(src, 'JPEGImages'), annotations: join(src, 'Annotations') }), opts(out));
  assert.equal(DEFAULT_MIXED_SIZE, 416);
  assert.deepEqual([report.height, report.width], [416, 416]);
  assert.match(report.resize, /letterbox into 416×416 \(images differ in size; the default for mixed sizes, choose with --size/);
  const r = openDataset(out);
  assert.deepEqual([r.height, r.width], [416, 416]);
  const d = drawn[0];
  const t = letterboxTransform(d.width, d.height, 416);
  const b = r.boxes(0)[0];
  assert.ok(Math.abs(b.x1 - (d.boxes[0].x1 * t.sx + t.dx)) < 1e-3 && Math.abs(b.y2 - (d.boxes[0].y2 * t.sy + t.dy)) < 1e-3);
  r.close();
});

test('a JPEG without its end-of-image marker, or cut inside its scan, imports as libjpeg decodes it, with the warning in the report', async () => {
  const root = join(dir, 'cut');
  const imgs = writeVoc(root, 3, [[64, 48]], { seed: 8, ext: '.jpg' });
  const file = (k: number) => join(root, 'JPEGImages', imgs[k].file);
  const whole = readFileSync(file(1));
  assert.deepEqual([...whole.subarray(-2)], [0xff, 0xd9]);
  writeFileSync(file(1), whole.subarray(0, whole.length - 2)); // no EOI marker
  const other = readFileSync(file(2));
  writeFileSync(file(2), other.subarray(0, Math.floor(other.length * 0.8))); // the last rows of the scan are missing
  const out = join(dir, 'cut.h5');
  const report = await importRecords(collectVoc({ images: join(root, 'JPEGImages'), annotations: join(root, 'Annotations') }), opts(out));
  assert.equal(report.images, 3);
  assert.equal(report.skipped.count, 0);
  assert.deepEqual(
    report.warnings.files.map((w) => w.file),
    [file(1), file(2)],
  );
  for (const w of report.warnings.files) assert.match(w.warning, /premature end of JPEG/i);
  assert.deepEqual(JSON.parse(readFileSync(reportPath(out), 'utf8')).warnings, report.warnings);
  // The image without EOI decodes completely: its box centre has the box colour (lossy codec).
  const r = openDataset(out);
  const px = r.readDense([1]);
  const b0 = imgs[1].boxes[0];
  const cx = Math.floor((b0.x1 + b0.x2) / 2),
    cy = Math.floor((b0.y1 + b0.y2) / 2);
  const want = b0.name === 'bar' ? [230, 40, 40] : [40, 200, 60];
  for (let c = 0; c < 3; c++)
    assert.ok(Math.abs(px[c * 64 * 48 + cy * 64 + cx] - want[c]) <= 12, `channel ${c}: ${px[c * 64 * 48 + cy * 64 + cx]} vs ${want[c]}`);
  r.close();
});

test('VOC difficult flags are kept on import (/boxes/difficult), reach the reader and survive export', async () => {
  const root = join(dir, 'difficult');
  const imgs = writeVoc(root, 2, [[64, 64]], { seed: 9 });
  const xmlPath = join(root, 'Annotations', imgs[0].file.replace(/\.\w+$/, '.xml'));
  writeFileSync(xmlPath, readFileSync(xmlPath, 'utf8').replace('<difficult>0</difficult>', '<difficult>1</difficult>'));
  const out = join(dir, 'difficult.h5');
  await importRecords(collectVoc({ images: join(root, 'JPEGImages'), annotations: join(root, 'Annotations') }), opts(out));
  const r = openDataset(out);
  const flags = [0, 1].flatMap((i) => r.boxes(i).map((b) => b.difficult === true));
  assert.deepEqual(flags, [true, ...flags.slice(1).map(() => false)]);
  r.close();
  // VOC export writes the flag back, so import → export → import keeps it.
  const exported = join(dir, 'difficult-voc');
  exportDataset({ format: 'voc', dataset: out, out: exported, force: false });
  const again = join(dir, 'difficult-again.h5');
  await importRecords(collectVoc({ images: join(exported, 'JPEGImages'), annotations: join(exported, 'Annotations') }), opts(again));
  const r2 = openDataset(again);
  assert.deepEqual(
    [0, 1].flatMap((i) => r2.boxes(i).map((b) => b.difficult === true)),
    flags,
  );
  r2.close();
});
