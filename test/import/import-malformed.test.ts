// Malformed inputs: each stops the import with one line naming the file and the problem and leaves
// no output; with --skip-bad each is skipped, counted and listed in the report. The import API is
// called in-process (a CLI start loads libtorch: ~2 s); the CLI's own one-line output and exit code
// are checked on the first case and on --force.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDataset } from '../../src/data/store.js';
import { UserError } from '../../src/errors.js';
import { collectVoc } from '../../src/formats/voc.js';
import { collectYolo } from '../../src/formats/yolo.js';
import { collectCoco } from '../../src/formats/coco.js';
import { importRecords, type ImportReport } from '../../src/formats/importer.js';
import type { Collected } from '../../src/formats/record.js';
import { writeVoc, encodeImage, drawImage, lcg } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bad-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
/** Runs an import in-process: the one-line error it stops with, or its report. */
async function runImport(
  format: 'voc' | 'yolo' | 'coco',
  collect: () => Collected,
  out: string,
  skipBad = false,
): Promise<{ error?: string; report?: ImportReport }> {
  try {
    return { report: await importRecords(collect(), { format, source: {}, out, channels: 'keep', skipBad, force: false, seed: 0 }) };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    assert.ok(!e.message.includes('\n'), 'one line');
    return { error: e.message };
  }
}
const daqyolo = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, DAQYOLO_CPU_ALLOCATOR: 'system' } });

/** A clean VOC folder of 6 images plus one broken record made by `spoil`. */
function vocCase(name: string, spoil: (ann: string, img: string) => string): { root: string; bad: string } {
  const root = join(dir, name);
  writeVoc(root, 6, [[64, 48]], { seed: 11 });
  return { root, bad: spoil(join(root, 'Annotations'), join(root, 'JPEGImages')) };
}
const xml = (file: string, objects: string) =>
  `<annotation><filename>${file}</filename><size><width>64</width><height>48</height><depth>3</depth></size>${objects}</annotation>`;
const obj = (name: string, b: number[]) =>
  `<object><name>${name}</name><bndbox><xmin>${b[0]}</xmin><ymin>${b[1]}</ymin><xmax>${b[2]}</xmax><ymax>${b[3]}</ymax></bndbox></object>`;
/** Adds image bad.png (a valid picture) and the given XML as bad.xml. */
const withXml = (text: string) => (ann: string, img: string) => {
  writeFileSync(join(img, 'bad.png'), encodeImage(drawImage('bad.png', 64, 48, lcg(2))));
  writeFileSync(join(ann, 'bad.xml'), text);
  return join(ann, 'bad.xml');
};

const vocCases: [string, (ann: string, img: string) => string, RegExp, string[]?][] = [
  ['not-voc', withXml('<html><body>hello</body></html>'), /not a VOC annotation \(root element is <html>/],
  ['not-xml', withXml('<annotation><object>'), /not well-formed XML/],
  ['no-bndbox', withXml(xml('bad.png', '<object><name>bar</name></object>')), /<object> 1 \(bar\) has no <bndbox>/],
  ['outside', withXml(xml('bad.png', obj('bar', [10, 10, 80, 20]))), /box 1 \(bar\) .* is outside its 64×48 image/],
  ['xmax-lt-xmin', withXml(xml('bad.png', obj('bar', [30, 10, 20, 20]))), /xmax ≤ xmin/],
  ['unknown-class', withXml(xml('bad.png', obj('dog', [1, 1, 10, 10]))), /unknown class "dog" \(not in --labels bar,block\)/, ['--labels', 'bar,block']],
  [
    'undecodable',
    (ann, img) => {
      writeFileSync(
        join(img, 'bad.png'),
        Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage that is not a PNG stream at all...')]),
      );
      writeFileSync(join(ann, 'bad.xml'), xml('bad.png', obj('bar', [1, 1, 10, 10])));
      return join(img, 'bad.png');
    },
    /image cannot be decoded/,
  ],
  [
    'truncated-png',
    (ann, img) => {
      const full = encodeImage(drawImage('bad.png', 64, 48, lcg(2)));
      writeFileSync(join(img, 'bad.png'), full.subarray(0, 60)); // header intact, pixel data cut
      writeFileSync(join(ann, 'bad.xml'), xml('bad.png', obj('bar', [1, 1, 10, 10])));
      return join(img, 'bad.png');
    },
    /image cannot be decoded/,
  ],
  [
    'no-image',
    (ann) => {
      writeFileSync(join(ann, 'bad.xml'), xml('missing.png', obj('bar', [1, 1, 10, 10])));
      return join(ann, 'bad.xml');
    },
    /annotation without its image \(missing\.png not found/,
  ],
];

vocCases.forEach(([name, spoil, problem, extra], caseIndex) => {
  test(`VOC ${name}: stops with the file and the problem; --skip-bad skips and lists it`, async () => {
    const { root, bad } = vocCase(name, spoil);
    const out = join(root, 'out.h5');
    let report: ImportReport;
    if (caseIndex === 0) {
      const args = ['import', 'voc', '--images', join(root, 'JPEGImages'), '--annotations', join(root, 'Annotations'), '--out', out, ...(extra ?? [])];
      const r = daqyolo(...args);
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].startsWith(`daqyolo: ${bad}: `), lines[0]);
      assert.match(lines[0], problem);
      assert.ok(!existsSync(out) && !readdirSync(root).some((f) => f.includes('partial')), 'nothing written');
      const s = daqyolo(...args, '--skip-bad');
      assert.equal(s.status, 0, s.stderr);
      report = JSON.parse(s.stdout);
    } else {
      const collect = () => collectVoc({ images: join(root, 'JPEGImages'), annotations: join(root, 'Annotations'), labels: extra?.[1] });
      const r = await runImport('voc', collect, out);
      assert.ok(r.error?.startsWith(`${bad}: `), r.error);
      assert.match(r.error!, problem);
      assert.ok(!existsSync(out) && !readdirSync(root).some((f) => f.includes('partial')), 'nothing written');
      report = (await runImport('voc', collect, out, true)).report!;
    }
    assert.deepEqual(JSON.parse(readFileSync(`${out}.import.json`, 'utf8')), report);
    assert.equal(report.skipped.count, 1);
    assert.equal(report.skipped.files[0].file, bad);
    assert.match(report.skipped.files[0].problem, problem);
    assert.equal(report.images, 6);
    const d = openDataset(out);
    assert.equal(d.numImages, 6);
    d.close();
  });
});

/** A YOLO folder with images/train and labels/train. */
function yoloCase(name: string): string {
  const root = join(dir, name);
  const rand = lcg(4);
  for (const sub of ['images/train', 'labels/train']) mkdirSync(join(root, sub), { recursive: true });
  writeFileSync(join(root, 'classes.txt'), 'bar\nblock\n');
  for (let i = 0; i < 4; i++) {
    const img = drawImage(`a${i}.png`, 64, 48, rand);
    writeFileSync(join(root, 'images/train', img.file), encodeImage(img));
    writeFileSync(
      join(root, 'labels/train', `a${i}.txt`),
      img.boxes.map((b) => `${b.name === 'bar' ? 0 : 1} ${(b.x1 + b.x2) / 128} ${(b.y1 + b.y2) / 96} ${(b.x2 - b.x1) / 64} ${(b.y2 - b.y1) / 48}\n`).join(''),
    );
  }
  return root;
}

const yoloCases: [string, string, RegExp][] = [
  ['fields', '0 0.5 0.5 0.2\n', /line 1: 4 fields, expected 5 \(class cx cy w h\)/],
  ['class', '0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n', /line 2: unknown class 7 \(2 class names\)/],
  ['outside', '1 0.95 0.5 0.2 0.2\n', /box 1 \(block\) .* is outside its 64×48 image/],
  ['number', '1 0.5 abc 0.2 0.2\n', /line 1: field 3 "abc" is not a number/],
];

for (const [name, text, problem] of yoloCases) {
  test(`YOLO label ${name}: stops with the file and the problem; --skip-bad skips and lists it`, async () => {
    const root = yoloCase(`yolo-${name}`);
    writeFileSync(join(root, 'labels/train/a1.txt'), text);
    const out = join(root, 'out.h5');
    const r = await runImport('yolo', () => collectYolo(root), out);
    assert.ok(r.error?.startsWith(`${join(root, 'labels/train/a1.txt')}: `), r.error);
    assert.match(r.error!, problem);
    assert.ok(!existsSync(out));
    const report = (await runImport('yolo', () => collectYolo(root), out, true)).report!;
    assert.equal(report.images, 3);
    assert.deepEqual(
      report.skipped.files.map((f) => f.file),
      [join(root, 'labels/train/a1.txt')],
    );
  });
}

test('YOLO label without its image, and every bad record of a folder listed with --skip-bad', async () => {
  const root = yoloCase('yolo-many');
  writeFileSync(join(root, 'labels/train/orphan.txt'), '0 0.5 0.5 0.2 0.2\n');
  writeFileSync(join(root, 'labels/train/a2.txt'), '0 0.5\n');
  unlinkSync(join(root, 'images/train/a3.png'));
  writeFileSync(join(root, 'images/train/a3.png'), 'not an image');
  const out = join(root, 'out.h5');
  const r = await runImport('yolo', () => collectYolo(root), out);
  assert.match(r.error!, /a2\.txt: line 1: 2 fields/); // the first bad record in file order
  const report = (await runImport('yolo', () => collectYolo(root), out, true)).report!;
  assert.equal(report.skipped.count, 3);
  assert.deepEqual(report.skipped.files.map((f) => f.file).sort(), [
    join(root, 'images/train/a3.png'),
    join(root, 'labels/train/a2.txt'),
    join(root, 'labels/train/orphan.txt'),
  ]);
  assert.match(report.skipped.files.find((f) => f.file.endsWith('orphan.txt'))!.problem, /annotation without its image/);
  assert.equal(report.images, 2);
});

test('COCO: annotation whose image is missing, unknown category, bad bbox; crowd boxes dropped and counted', async () => {
  const root = join(dir, 'coco');
  mkdirSync(join(root, 'images'), { recursive: true });
  const rand = lcg(8);
  const images = [];
  for (let i = 0; i < 4; i++) {
    const img = drawImage(`c${i}.png`, 64, 48, rand);
    writeFileSync(join(root, 'images', img.file), encodeImage(img));
    images.push({ id: i + 1, file_name: img.file, width: 64, height: 48 });
  }
  images.push({ id: 9, file_name: 'gone.png', width: 64, height: 48 });
  const annotations = [
    { id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 10, 10], iscrowd: 0 },
    { id: 2, image_id: 2, category_id: 5, bbox: [1, 1, 10, 10], iscrowd: 0 },
    { id: 3, image_id: 3, category_id: 2, bbox: [1, 1, 10], iscrowd: 0 },
    { id: 4, image_id: 77, category_id: 1, bbox: [1, 1, 10, 10], iscrowd: 0 },
    { id: 5, image_id: 4, category_id: 1, bbox: [0, 0, 64, 48], iscrowd: 1 },
  ];
  const json = join(root, 'instances.json');
  writeFileSync(
    json,
    JSON.stringify({
      images,
      annotations,
      categories: [
        { id: 1, name: 'bar' },
        { id: 2, name: 'block' },
      ],
    }),
  );
  const out = join(root, 'out.h5');
  const collect = () => collectCoco(join(root, 'images'), [json]);
  const r = await runImport('coco', collect, out);
  assert.match(r.error!, /instances\.json \(annotation 4\): annotation without its image \(image_id 77/);
  const report = (await runImport('coco', collect, out, true)).report!;
  const problems = report.skipped.files.map((f) => f.problem).join('\n');
  assert.equal(report.skipped.count, 4);
  assert.match(problems, /category_id 5 is not in "categories"/);
  assert.match(problems, /bbox \[1,1,10\] is not \[x, y, w, h\]/);
  assert.match(problems, /image_id 77/);
  assert.match(problems, /gone\.png not found/);
  assert.deepEqual(report.dropped, { crowd_annotations: 1 });
  assert.equal(report.images, 2);
});

test('COCO: an image whose declared width/height differ from the file stops the import, or is skipped with --skip-bad', async () => {
  const root = join(dir, 'coco-size');
  mkdirSync(join(root, 'images'), { recursive: true });
  const rand = lcg(9);
  const images = [];
  for (let i = 0; i < 3; i++) {
    const img = drawImage(`s${i}.png`, 64, 48, rand);
    writeFileSync(join(root, 'images', img.file), encodeImage(img));
    images.push({ id: i + 1, file_name: img.file, width: 64, height: i === 1 ? 64 : 48 });
  }
  const json = join(root, 'instances.json');
  const annotations = images.map((im, k) => ({ id: k + 1, image_id: im.id, category_id: 1, bbox: [1, 1, 10, 10], iscrowd: 0 }));
  writeFileSync(json, JSON.stringify({ images, annotations, categories: [{ id: 1, name: 'bar' }] }));
  const out = join(root, 'out.h5');
  const collect = () => collectCoco(join(root, 'images'), [json]);
  const r = await runImport('coco', collect, out);
  assert.equal(r.error, `${json}: image s1.png declares width 64, height 64 but the file is 64×48 (pass --skip-bad to skip such records)`);
  assert.ok(!existsSync(out));
  const report = (await runImport('coco', collect, out, true)).report!;
  assert.equal(report.images, 2);
  assert.deepEqual(
    report.skipped.files.map((f) => f.file),
    [json],
  );
});

test('an existing output is kept unless --force', async () => {
  const { root } = vocCase('force', (ann) => join(ann, 'none'));
  const out = join(root, 'out.h5');
  writeFileSync(out, 'keep me');
  const args = ['import', 'voc', '--images', join(root, 'JPEGImages'), '--annotations', join(root, 'Annotations'), '--out', out];
  const r = daqyolo(...args);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already exists; pass --force/);
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
  assert.equal(daqyolo(...args, '--force').status, 0);
  assert.equal(openDataset(out).numImages, 6);
});
