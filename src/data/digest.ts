// A content digest of an HDF5 file: SHA-256 over every dataset (path, dtype, shape, values) and
// attribute, in sorted order. HDF5 files carry object timestamps, so two files with identical
// content can differ in bytes; this is what "same seed → same dataset" is checked with.
import { createHash } from 'node:crypto';
import { h5wasm, type H5Dataset, type H5Group } from './h5.js';

export function contentDigest(path: string): string {
  const f = new h5wasm.File(path, 'r');
  const h = createHash('sha256');
  const attrs = (obj: H5Group | H5Dataset, name: string) => {
    for (const k of Object.keys(obj.attrs).sort()) {
      h.update(`@${name}:${k}=`);
      h.update(JSON.stringify(obj.get_attribute(k, true)));
    }
  };
  const walk = (g: H5Group, prefix: string) => {
    attrs(g, prefix || '/');
    for (const k of g.keys().sort()) {
      const o = g.get(k);
      const p = `${prefix}/${k}`;
      if (o instanceof h5wasm.Dataset) {
        const d = o as H5Dataset;
        h.update(`${p}:${d.dtype}:${JSON.stringify(d.shape)}`);
        const v = d.value;
        if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        else h.update(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
        attrs(d, p);
      } else if (o instanceof h5wasm.Group) {
        walk(o as H5Group, p);
      }
    }
  };
  try {
    walk(f, '');
  } finally {
    f.close();
  }
  return h.digest('hex');
}
