// safetensors files (the format of Hugging Face's `safetensors`, readable by Python's
// safetensors.torch.load_file): an 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and byte range, an optional "__metadata__" string map, then data.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { Tensor } from './tensor.js';
import { tensor } from './creation.js';
import type { DType } from './dtype.js';

const CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const FROM_CODE: Record<string, DType> = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k as DType]));
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

/** Encodes named tensors (and string metadata) as safetensors bytes. */
export function encodeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const data = t.dataSync();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: CODE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...chunks]);
}

/** Writes a safetensors file atomically (src/util/atomic-write: every write checked, fsync, rename). */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Decodes safetensors bytes; `source` names the file in error messages. */
export function decodeSafetensors(buf: Uint8Array, source = 'safetensors data'): SafetensorsContent {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) throw new Error(`${source}: too short for a safetensors file (${b.length} bytes)`);
  const n = Number(b.readBigUInt64LE(0));
  if (8 + n > b.length) throw new Error(`${source}: header length ${n} runs past the end of the file (${b.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(b.subarray(8, 8 + n).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: header is not JSON (${(e as Error).message})`);
  }
  const base = 8 + n;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const dtype = FROM_CODE[e.dtype];
    if (!dtype) throw new Error(`${source}: tensor '${name}' has dtype ${e.dtype}; supported: ${Object.keys(FROM_CODE).join(', ')}`);
    const [start, end] = e.data_offsets;
    const count = e.shape.reduce((x, y) => x * y, 1);
    if (end - start !== count * BYTES[dtype] || base + end > b.length) {
      throw new Error(`${source}: tensor '${name}' byte range [${start}, ${end}) does not fit its shape [${e.shape}] ${e.dtype} or the file`);
    }
    // Copy into an aligned buffer (typed arrays need element alignment).
    const bytes = new Uint8Array(end - start);
    bytes.set(b.subarray(base + start, base + end));
    const arr =
      dtype === 'float32'
        ? new Float32Array(bytes.buffer)
        : dtype === 'float64'
          ? new Float64Array(bytes.buffer)
          : dtype === 'int64'
            ? new BigInt64Array(bytes.buffer)
            : dtype === 'int32'
              ? new Int32Array(bytes.buffer)
              : bytes;
    tensors.set(name, tensor(arr, { shape: e.shape, dtype }));
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): SafetensorsContent {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  return decodeSafetensors(buf, path);
}

/** The `__metadata__` map of a safetensors file, reading only its header (not the tensors). */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) < 8) throw new Error(`${path}: too short for a safetensors file`);
    const n = Number(head.readBigUInt64LE(0));
    if (n > 100 << 20) throw new Error(`${path}: header length ${n} is not plausible`);
    const json = Buffer.alloc(n);
    if (readSync(fd, json, 0, n, 8) < n) throw new Error(`${path}: header length ${n} runs past the end of the file`);
    try {
      return (JSON.parse(json.toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__ ?? {};
    } catch (e) {
      throw new Error(`${path}: header is not JSON (${(e as Error).message})`);
    }
  } finally {
    closeSync(fd);
  }
}
