// Import benchmark; prints one JSON object.
//   node dist/bench/import.js [--images 200] [--size 480] [--letterbox 416] [--rounds 3]
// Draws N size×size RGB PNGs with VOC XML (a few filled rectangles each) and the same images as
// JPEGs (quality 90), then times: decoding alone with sharp (libvips, the importer's decoder) and
// with the pure-JS decoders it replaced (pngjs, jpeg-js), in alternating rounds (medians and the
// ratio); a VOC import at the stored size; and a VOC import letterboxed to --letterbox.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
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
const rounds = Number(arg('rounds', '3'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The decoders the importer used before sharp: RGBA out, as they give it. */
function decodePureJs(buf: Buffer, kind: 'png' | 'jpeg'): number {
  const d = kind === 'png' ? PNG.sync.read(buf).data : jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 }).data;
  return d.length;
}
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-import-'));
try {
  const img = join(dir, 'JPEGImages'),
    ann = join(dir, 'Annotations');
  mkdirSync(img);
  mkdirSync(ann);
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  let bytes = 0;
  const jpegs: Buffer[] = [];
  for (let i = 0; i < images; i++) {
    const data = Buffer.alloc(size * size * 3, 12);
    const objs: string[] = [];
    for (let k = 0; k < 3; k++) {
      const w = 20 + Math.floor(rnd() * 100),
        h = 20 + Math.floor(rnd() * 100);
      const x1 = Math.floor(rnd() * (size - w)),
        y1 = Math.floor(rnd() * (size - h));
      const c = [Math.floor(rnd() * 255), Math.floor(rnd() * 255), Math.floor(rnd() * 255)];
      for (let y = y1; y < y1 + h; y++)
        for (let x = x1; x < x1 + w; x++) for (let ch = 0; ch < 3; ch++) data[(y * size + x) * 3 + ch] = (c[ch] + ((x * 7 + y * 3) & 31)) & 255;
      objs.push(
        `<object><name>${k % 2 ? 'a' : 'b'}</name><bndbox><xmin>${x1 + 1}</xmin><ymin>${y1 + 1}</ymin><xmax>${x1 + w}</xmax><ymax>${y1 + h}</ymax></bndbox></object>`,
      );
    }
    const png = PNG.sync.write({ width: size, height: size, data } as unknown as PNG, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
    bytes += png.length;
    const name = `i${String(i).padStart(5, '0')}`;
    writeFileSync(join(img, `${name}.png`), png);
    const rgba = Buffer.alloc(size * size * 4, 255);
    for (let p = 0; p < size * size; p++) for (let ch = 0; ch < 3; ch++) rgba[4 * p + ch] = data[3 * p + ch]!;
    jpegs.push(jpeg.encode({ data: rgba, width: size, height: size }, 90).data);
    writeFileSync(join(ann, `${name}.xml`), `<annotation><filename>${name}.png</filename>${objs.join('')}</annotation>`);
  }
  const pngs = Array.from({ length: images }, (_, i) => readFileSync(join(img, `i${String(i).padStart(5, '0')}.png`)));
  const time = async (f: () => Promise<unknown> | unknown) => {
    const t = performance.now();
    await f();
    return (performance.now() - t) / 1000;
  };
  const decode: Record<string, number[]> = { sharpPng: [], pureJsPng: [], sharpJpeg: [], pureJsJpeg: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which decoder goes first, so that neither always runs on a warmer machine.
    const order = r % 2 ? ['pureJs', 'sharp'] : ['sharp', 'pureJs'];
    for (const who of order) {
      decode[`${who}Png`]!.push(
        await time(async () => {
          for (const b of pngs) await (who === 'sharp' ? decodeImage(b) : decodePureJs(b, 'png'));
        }),
      );
      decode[`${who}Jpeg`]!.push(
        await time(async () => {
          for (const b of jpegs) await (who === 'sharp' ? decodeImage(b) : decodePureJs(b, 'jpeg'));
        }),
      );
    }
  }
  const rateOf = (k: string) => +(images / median(decode[k]!)).toFixed(1);
  const run = async (out: string, letterbox?: number) => {
    const t = performance.now();
    const rep = await importRecords(collectVoc({ images: img, annotations: ann }), {
      format: 'voc',
      source: {},
      out,
      size: letterbox,
      channels: 'keep',
      skipBad: false,
      force: false,
      seed: 0,
    });
    const sec = (performance.now() - t) / 1000;
    if (rep.images !== images) throw new Error(`imported ${rep.images} of ${images}`);
    return sec;
  };
  const plainS = await run(join(dir, 'plain.h5'));
  const lboxS = await run(join(dir, 'lbox.h5'), lbox);
  const rate = (sec: number) => +(images / sec).toFixed(1);
  console.log(
    JSON.stringify(
      {
        bench: 'import',
        images,
        size,
        channels: 3,
        meanPngKiB: +(bytes / images / 1024).toFixed(1),
        decodeOnly: {
          rounds,
          imagesPerSecondMedian: {
            sharpPng: rateOf('sharpPng'),
            pureJsPng: rateOf('pureJsPng'),
            sharpJpeg: rateOf('sharpJpeg'),
            pureJsJpeg: rateOf('pureJsJpeg'),
          },
          sharpOverPureJs: {
            png: +(median(decode.pureJsPng!) / median(decode.sharpPng!)).toFixed(2),
            jpeg: +(median(decode.pureJsJpeg!) / median(decode.sharpJpeg!)).toFixed(2),
          },
          meanJpegKiB: +(jpegs.reduce((a, b) => a + b.length, 0) / images / 1024).toFixed(1),
        },
        importVoc: { seconds: +plainS.toFixed(2), imagesPerSecond: rate(plainS) },
        importVocLetterbox: { size: lbox, seconds: +lboxS.toFixed(2), imagesPerSecond: rate(lboxS) },
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        node: process.version,
        loadAverage: loadavg().map((x) => +x.toFixed(2)),
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
