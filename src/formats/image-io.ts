// Image files in and out: header sniffing (size and colour without decoding, so an import can fix
// the dataset's shape before it writes anything), decoding PNG (pngjs) and JPEG (jpeg-js) to 8-bit
// rasters, and encoding planar pixel data back to PNG.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

/** An 8-bit image, interleaved [H, W, channels]; channels 1 (grey) or 3 (RGB); alpha is dropped. */
export interface Raster { width: number; height: number; channels: 1 | 3; data: Uint8Array }

export interface ImageHeader { kind: 'png' | 'jpeg'; width: number; height: number; channels: 1 | 3 }

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
      if (marker === 0xff) { p++; continue; } // fill byte
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { p += 2; continue; } // no length
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

/** Decodes a PNG or JPEG to an 8-bit raster with the file's own colour (grey stays grey). */
export function decodeImage(buf: Uint8Array): Raster {
  const head = sniffImage(buf);
  let rgba: Uint8Array;
  let width: number, height: number;
  if (head.kind === 'png') {
    const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)); // always RGBA, 16-bit scaled to 8
    ({ width, height } = png);
    rgba = png.data;
  } else {
    // maxMemoryUsageInMB guards against a corrupt header that claims a gigantic frame.
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    ({ width, height } = img);
    rgba = img.data;
  }
  const n = width * height;
  const data = new Uint8Array(n * head.channels);
  if (head.channels === 1) for (let i = 0; i < n; i++) data[i] = rgba[4 * i];
  else for (let i = 0; i < n; i++) { data[3 * i] = rgba[4 * i]; data[3 * i + 1] = rgba[4 * i + 1]; data[3 * i + 2] = rgba[4 * i + 2]; }
  return { width, height, channels: head.channels, data };
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
