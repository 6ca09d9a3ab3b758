// Image files in and out: header sniffing (size and colour without decoding, so an import can fix
// the dataset's shape before it writes anything), decoding PNG and JPEG to 8-bit rasters with
// sharp (libvips with libpng and mozjpeg's libjpeg: it decodes what libjpeg decodes, truncated files
// included, and reports libjpeg's warnings), and encoding planar pixel data back to PNG (pngjs).
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import sharp from 'sharp';

/** An 8-bit image, interleaved [H, W, channels]; channels 1 (grey) or 3 (RGB); alpha is dropped. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export interface ImageHeader {
  kind: 'png' | 'jpeg';
  width: number;
  height: number;
  channels: 1 | 3;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Reads the size and colour of a PNG (IHDR) or JPEG (first SOF marker); throws with the reason. */
export function sniffImage(buf: Uint8Array): ImageHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length >= 26 && b.subarray(0, 8).equals(PNG_SIG)) {
    if (b.toString('latin1', 12, 16) !== 'IHDR') throw new Error('PNG without an IHDR chunk');
    const colorType = b[25];
    // 0 grey, 4 grey+alpha; 2 RGB, 3 palette, 6 RGBA.
    return { kind: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20), channels: colorType === 0 || colorType === 4 ? 1 : 3 };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let p = 2;
    while (p + 4 <= b.length) {
      if (b[p] !== 0xff) throw new Error(`JPEG marker expected at byte ${p}`);
      const marker = b[p + 1];
      if (marker === 0xff) {
        p++;
        continue;
      } // fill byte
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2;
        continue;
      } // no length
      const len = b.readUInt16BE(p + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry precision, height, width, components.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (p + 10 > b.length) break;
        return { kind: 'jpeg', height: b.readUInt16BE(p + 5), width: b.readUInt16BE(p + 7), channels: b[p + 9] === 1 ? 1 : 3 };
      }
      if (marker === 0xda) break; // start of scan before any frame header
      p += 2 + len;
    }
    throw new Error('JPEG without a frame header (SOF)');
  }
  throw new Error('not a PNG or JPEG file');
}

/** A decoded image and the decoder's warnings (e.g. "premature end of JPEG image"); none for a clean file. */
export interface Decoded {
  raster: Raster;
  warnings: string[];
}

/**
 * Decodes a PNG or JPEG to an 8-bit raster with the file's own colour (grey stays grey, alpha is
 * dropped, 16-bit is scaled to 8). A JPEG libjpeg can still decode (a missing end-of-image marker, a
 * cut scan) decodes as libjpeg does, with its warnings returned; anything else that is wrong throws.
 */
export async function decodeImage(buf: Uint8Array): Promise<Decoded> {
  const head = sniffImage(buf);
  const warnings: string[] = [];
  // JPEG: what libjpeg decodes (as OpenCV, PIL, ImageMagick do), with its warnings. PNG: libpng's
  // errors and warnings stop the decode (PIL refuses a truncated PNG too).
  const img = sharp(buf, { failOn: head.kind === 'jpeg' ? 'none' : 'warning', limitInputPixels: 1 << 28 });
  // libvips emits "read gave N warnings" and then each warning; keep the warnings themselves.
  img.on('warning', (m: string) => {
    const w = m.trim();
    if (!/^read gave \d+ warnings?$/.test(w) && !warnings.includes(w)) warnings.push(w);
  });
  img.toColourspace(head.channels === 1 ? 'b-w' : 'srgb').removeAlpha();
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== head.channels) throw new Error(`decoded ${info.channels} channels, expected ${head.channels}`);
  return {
    raster: { width: info.width, height: info.height, channels: head.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
    warnings,
  };
}

export const readImageHeader = (path: string): ImageHeader => sniffImage(readFileSync(path));

/**
 * Encodes planar float pixels [C, H, W] (C = 1 or 3) as an 8-bit PNG. Values are rounded and
 * clamped to 0..255; the count of clamped values is returned so that callers can say so.
 */
export function encodePng(planar: Float32Array, channels: number, height: number, width: number): { png: Buffer; clamped: number } {
  if (channels !== 1 && channels !== 3) throw new Error(`PNG export needs 1 or 3 channels, got ${channels}`);
  const n = height * width;
  const data = Buffer.alloc(n * channels);
  let clamped = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) {
      const v = Math.round(planar[c * n + i]);
      if (v < 0 || v > 255 || Number.isNaN(v)) clamped++;
      data[i * channels + c] = v < 0 || Number.isNaN(v) ? 0 : v > 255 ? 255 : v;
    }
  }
  const colorType = channels === 1 ? 0 : 2;
  const png = PNG.sync.write({ width, height, data } as unknown as PNG, { colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
  return { png, clamped };
}
