// Import benchmark; prints one JSON object.
//   node dist/bench/import.js [--images 200] [--size 480] [--letterbox 416]
// Draws N size×size RGB PNGs with VOC XML (a few filled rectangles each), then times: PNG
// decoding alone, a VOC import at the stored size, and a VOC import letterboxed to --letterbox.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { collectVoc } from '../src/formats/voc.js';
import { importRecords } from '../src/formats/importer.js';
import { decodeImage } from '../src/formats/image-io.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const images = Number(arg('images', '200'));
const size = Number(arg('size', '480'));
const lbox = Number(arg('letterbox', '416'));
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-import-'));
try {
  const img = join(dir, 'JPEGImages'), ann = join(dir, 'Annotations');
  mkdirSync(img); mkdirSync(ann);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let bytes = 0;
  for (let i = 0; i < images; i++) {
    const data = Buffer.alloc(size * size * 3, 12);
    const objs: string[] = [];
    for (let k = 0; k < 3; k++) {
      const w = 20 + Math.floor(rnd() * 100), h = 20 + Math.floor(rnd() * 100);
      const x1 = Math.floor(rnd() * (size - w)), y1 = Math.floor(rnd() * (size - h));
      const c = [Math.floor(rnd() * 255), Math.floor(rnd() * 255), Math.floor(rnd() * 255)];
      for (let y = y1; y < y1 + h; y++) for (let x = x1; x < x1 + w; x++) for (let ch = 0; ch < 3; ch++) data[(y * size + x) * 3 + ch] = (c[ch] + ((x * 7 + y * 3) & 31)) & 255;
      objs.push(`<object><name>${k % 2 ? 'a' : 'b'}</name><bndbox><xmin>${x1 + 1}</xmin><ymin>${y1 + 1}</ymin><xmax>${x1 + w}</xmax><ymax>${y1 + h}</ymax></bndbox></object>`);
    }
    const png = PNG.sync.write({ width: size, height: size, data } as unknown as PNG, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
    bytes += png.length;
    const name = `i${String(i).padStart(5, '0')}`;
    writeFileSync(join(img, `${name}.png`), png);
    writeFileSync(join(ann, `${name}.xml`), `<annotation><filename>${name}.png</filename>${objs.join('')}</annotation>`);
  }
  const t0 = performance.now();
  for (let i = 0; i < images; i++) decodeImage(readFileSync(join(img, `i${String(i).padStart(5, '0')}.png`)));
  const decodeS = (performance.now() - t0) / 1000;
  const run = async (out: string, letterbox?: number) => {
    const t = performance.now();
    const rep = await importRecords(collectVoc({ images: img, annotations: ann }), { format: 'voc', source: {}, out, size: letterbox, channels: 'keep', skipBad: false, force: false, seed: 0 });
    const sec = (performance.now() - t) / 1000;
    if (rep.images !== images) throw new Error(`imported ${rep.images} of ${images}`);
    return sec;
  };
  const plainS = await run(join(dir, 'plain.h5'));
  const lboxS = await run(join(dir, 'lbox.h5'), lbox);
  const rate = (sec: number) => +(images / sec).toFixed(1);
  console.log(JSON.stringify({
    bench: 'import', images, size, channels: 3, meanPngKiB: +(bytes / images / 1024).toFixed(1),
    decodeOnly: { seconds: +decodeS.toFixed(2), imagesPerSecond: rate(decodeS) },
    importVoc: { seconds: +plainS.toFixed(2), imagesPerSecond: rate(plainS) },
    importVocLetterbox: { size: lbox, seconds: +lboxS.toFixed(2), imagesPerSecond: rate(lboxS) },
    cpu: cpus()[0]?.model, cores: cpus().length, node: process.version,
  }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
