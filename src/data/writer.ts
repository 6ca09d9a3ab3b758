// Writes a daqyolo dataset (its layout: data/layout.ts; README "Dataset format") with h5wasm, column by column as
// chunks arrive, into a temporary file that is renamed to the output name only when complete.
// An interrupted or failed run removes the temporary file: nothing is ever half-written at `path`.
// Every HDF5 call that fails (a full disk, a read-only folder) throws (h5.ts), and is reported as
// one line naming the output: "no space left on device writing out.h5".
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import type { PackedChunk } from '../sim/pack.js';
import { commitTemp, fsyncPath, ioCause, removeStaleTemps, tempName, WriteError } from '../util/atomic-write.js';
import { h5wasm, h5Cause, type H5Dataset, type H5File } from './h5.js';
import type { SplitName } from './splits.js';
import {
  CHUNK_ROWS,
  COLUMNS,
  COLUMNS_ATTRIBUTE,
  DENSE_IMAGES,
  FORMAT_NAME,
  FORMAT_VERSION,
  GROUPS,
  H5_DTYPE,
  PATHS,
  TPS_GROUP,
  splitPath,
  type ColumnType,
} from './layout.js';

export { FORMAT_VERSION, FORMAT_NAME } from './layout.js';

export interface WriterOptions {
  path: string;
  force: boolean;
  layout: 'sparse' | 'dense';
  channels: number;
  height: number;
  width: number;
  storeTps: boolean;
  /** Root attributes (strings, numbers, string arrays). */
  attrs: Record<string, string | number | string[]>;
}

type Column = { ds: H5Dataset; rows: number; cols: number; twoD: boolean };

/** A chunk of images; dense datasets may pass the pixels directly as [count, C, H, W] (imports). */
export type WriterChunk = PackedChunk & { dense?: Float32Array };

/** Refuses an existing output unless forced; checks the folder exists. */
export function checkOutput(path: string, force: boolean): void {
  if (existsSync(path)) {
    if (!force) throw new UserError(`${path} already exists; pass --force to overwrite it`);
    if (statSync(path).isDirectory()) throw new UserError(`${path} is a directory`);
  }
  if (!existsSync(dirname(path) || '.')) throw new UserError(`${path}: folder ${dirname(path)} does not exist`);
}

export class DatasetWriter {
  readonly tmpPath: string;
  private file: H5File | null;
  private readonly cols = new Map<string, Column>();
  private readonly offsets: Record<'images' | 'boxes' | 'interactions' | 'tps', number[]> = { images: [0], boxes: [0], interactions: [0], tps: [0] };
  private images = 0;
  private finished = false;

  constructor(readonly opts: WriterOptions) {
    checkOutput(opts.path, opts.force);
    removeStaleTemps(opts.path);
    this.tmpPath = tempName(opts.path, 'partial');
    rmSync(this.tmpPath, { force: true });
    this.file = null;
    this.guard(() => {
      this.file = new h5wasm.File(this.tmpPath, 'w');
      this.createColumns();
    });
  }

  /** Runs an HDF5 step; on failure removes the temporary file and throws one line naming the output. */
  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (e) {
      this.abort();
      if (e instanceof UserError) throw e;
      const text = String((e as Error)?.message ?? e);
      if (text.includes('HDF5')) throw new WriteError(this.opts.path, h5Cause(e));
      if ((e as NodeJS.ErrnoException)?.code) throw new WriteError(this.opts.path, ioCause(e));
      throw e;
    }
  }

  private createColumns(): void {
    const opts = this.opts;
    const f = this.file!;
    for (const g of GROUPS) f.create_group(g);
    if (opts.storeTps) f.create_group(TPS_GROUP);
    const C = opts.channels;
    if (opts.layout === 'dense') {
      const ds = f.create_dataset({
        name: DENSE_IMAGES.path,
        data: new Float32Array(0),
        shape: [0, C, opts.height, opts.width],
        maxshape: [null, C, opts.height, opts.width],
        chunks: [1, C, opts.height, opts.width],
        dtype: DENSE_IMAGES.dtype,
      }) as H5Dataset;
      this.cols.set(DENSE_IMAGES.path, { ds, rows: 0, cols: C * opts.height * opts.width, twoD: false });
    }
    for (const c of this.columnsWritten()) this.column(c.path, c.type, c.width === 'channels' ? C : c.width);
  }

  /** The growable columns of this file: its image layout's, and the TPs' when stored. */
  private columnsWritten() {
    return COLUMNS.filter((c) => c.when === 'always' || (c.when === 'sparse' && this.opts.layout === 'sparse') || (c.when === 'tps' && this.opts.storeTps));
  }

  /** A resizable column: 1-D when cols is undefined, else [rows, cols]. */
  private column(name: string, type: ColumnType, cols?: number, chunkRows = CHUNK_ROWS): void {
    const data = type === 'f8' ? new Float64Array(0) : type === 'f4' ? new Float32Array(0) : type === 'u4' ? new Uint32Array(0) : new Int32Array(0);
    const ds = this.file!.create_dataset({
      name,
      data,
      shape: cols === undefined ? [0] : [0, cols],
      maxshape: cols === undefined ? [null] : [null, cols],
      chunks: cols === undefined ? [chunkRows] : [Math.max(1, chunkRows >> 2), cols],
      dtype: H5_DTYPE[type],
    }) as H5Dataset;
    this.cols.set(name, { ds, rows: 0, cols: cols ?? 1, twoD: cols !== undefined });
  }

  /** Creates a growable 1-D column outside the image chunks (an import's extra table). */
  addColumn(name: string, type: ColumnType): void {
    this.guard(() => {
      const group = name.slice(0, name.lastIndexOf('/'));
      for (let k = group.indexOf('/'); ; k = group.indexOf('/', k + 1)) {
        const g = k < 0 ? group : group.slice(0, k);
        if (g && !this.file!.get(g)) this.file!.create_group(g);
        if (k < 0) break;
      }
      this.column(name, type);
    });
  }

  /** Appends rows to a column made by addColumn. */
  appendColumn(name: string, data: Int32Array | Float32Array | Float64Array): void {
    this.guard(() => this.append(name, data));
  }

  private append(name: string, data: Int32Array | Uint32Array | Float32Array | Float64Array): void {
    const c = this.cols.get(name)!;
    const n = data.length / c.cols;
    if (n === 0) return;
    if (name === DENSE_IMAGES.path) {
      const [, C, H, W] = c.ds.shape!;
      c.ds.resize([c.rows + n, C, H, W]);
      c.ds.write_slice(
        [
          [c.rows, c.rows + n],
          [0, C],
          [0, H],
          [0, W],
        ],
        data,
      );
    } else if (!c.twoD) {
      c.ds.resize([c.rows + n]);
      c.ds.write_slice([[c.rows, c.rows + n]], data);
    } else {
      c.ds.resize([c.rows + n, c.cols]);
      c.ds.write_slice(
        [
          [c.rows, c.rows + n],
          [0, c.cols],
        ],
        data,
      );
    }
    c.rows += n;
  }

  private bgDecays: Int32Array[] = [];
  private bgTps: Int32Array[] = [];

  /** Appends the next chunk of images (chunks must arrive in index order). */
  appendChunk(c: WriterChunk): void {
    this.guard(() => this.appendChunkUnguarded(c));
  }

  private appendChunkUnguarded(c: WriterChunk): void {
    if (c.start !== this.images) throw new Error(`chunk starts at image ${c.start}, expected ${this.images}`);
    const o = this.offsets;
    const push = (arr: number[], counts: Int32Array) => {
      let last = arr[arr.length - 1];
      for (const k of counts) arr.push((last += k));
    };
    if (this.opts.storeTps && (!c.tps || !c.tpCounts)) throw new Error('chunk has no TPs but the dataset stores them');
    for (const col of this.columnsWritten()) this.append(col.path, col.from(c));
    if (this.opts.layout === 'sparse') {
      push(o.images, c.pixelCounts);
    } else if (c.dense) {
      if (c.dense.length !== c.count * this.opts.channels * this.opts.height * this.opts.width)
        throw new Error(`dense chunk holds ${c.dense.length} values, expected ${c.count} images`);
      this.append(DENSE_IMAGES.path, c.dense);
    } else {
      const { channels: C, height: H, width: W } = this.opts;
      const plane = H * W;
      const dense = new Float32Array(c.count * C * plane);
      let p = 0;
      for (let i = 0; i < c.count; i++) {
        for (let k = 0; k < c.pixelCounts[i]; k++, p++) for (let ch = 0; ch < C; ch++) dense[(i * C + ch) * plane + c.pixels[p]] = c.values[p * C + ch];
      }
      this.append(DENSE_IMAGES.path, dense);
    }
    push(o.boxes, c.boxCounts);
    push(o.interactions, c.interactionCounts);
    this.bgDecays.push(c.decays);
    this.bgTps.push(c.tpsBySource);
    if (this.opts.storeTps) push(o.tps, c.tpCounts!);
    this.images += c.count;
  }

  get imagesWritten(): number {
    return this.images;
  }

  /** Adds a whole extra dataset (e.g. an import's per-image source files) before finish(). */
  addDataset(name: string, data: Int32Array | Float32Array | Float64Array | string[], shape?: number[]): void {
    this.guard(() => this.addDatasetUnguarded(name, data, shape));
  }

  private addDatasetUnguarded(name: string, data: Int32Array | Float32Array | Float64Array | string[], shape?: number[]): void {
    const f = this.file!;
    const group = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
    if (group && !f.get(group)) f.create_group(group);
    if (Array.isArray(data)) f.create_dataset({ name, data });
    else
      f.create_dataset({ name, data, shape: shape ?? [data.length], dtype: data instanceof Float64Array ? '<d' : data instanceof Float32Array ? '<f' : '<i' });
  }

  /** Writes offsets, splits and attributes, closes and renames to the output name. */
  finish(splits: Record<SplitName, Int32Array>, bgColumns: { decays: readonly string[]; tps: readonly string[] }): void {
    this.guard(() => this.finishUnguarded(splits, bgColumns));
  }

  private finishUnguarded(splits: Record<SplitName, Int32Array>, bgColumns: { decays: readonly string[]; tps: readonly string[] }): void {
    const f = this.file!;
    const i64 = (a: number[]) => BigInt64Array.from(a, (x) => BigInt(x));
    if (this.opts.layout === 'sparse') f.create_dataset({ name: PATHS.imageOffsets, data: i64(this.offsets.images) });
    f.create_dataset({ name: PATHS.boxOffsets, data: i64(this.offsets.boxes) });
    f.create_dataset({ name: PATHS.interactionOffsets, data: i64(this.offsets.interactions) });
    if (this.opts.storeTps) f.create_dataset({ name: PATHS.tpOffsets, data: i64(this.offsets.tps) });
    const table = (name: string, parts: Int32Array[], columns: readonly string[]) => {
      const n = parts.reduce((a, p) => a + p.length, 0);
      const all = new Int32Array(n);
      let k = 0;
      for (const p of parts) {
        all.set(p, k);
        k += p.length;
      }
      const ds = f.create_dataset({ name, data: all, shape: [n / columns.length, columns.length], dtype: '<i' }) as H5Dataset;
      ds.create_attribute(COLUMNS_ATTRIBUTE, [...columns]);
    };
    table(PATHS.backgroundDecays, this.bgDecays, bgColumns.decays);
    table(PATHS.backgroundTpsBySource, this.bgTps, bgColumns.tps);
    for (const [name, idx] of Object.entries(splits)) f.create_dataset({ name: splitPath(name), data: idx, dtype: '<i' });
    const attrs: Record<string, string | number | string[]> = {
      format: FORMAT_NAME,
      format_version: FORMAT_VERSION,
      num_images: this.images,
      channels: this.opts.channels,
      height: this.opts.height,
      width: this.opts.width,
      layout: this.opts.layout,
      ...this.opts.attrs,
    };
    for (const [k, v] of Object.entries(attrs)) {
      if (typeof v === 'number') f.create_attribute(k, v, null, Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? '<i' : '<d');
      else f.create_attribute(k, v);
    }
    f.flush();
    const status = f.close();
    this.file = null;
    if (typeof status === 'number' && status < 0) throw new WriteError(this.opts.path, `HDF5 could not close the file (status ${status})`);
    fsyncPath(this.tmpPath);
    commitTemp(this.tmpPath, this.opts.path);
    this.finished = true;
  }

  /** Closes and deletes the temporary file (idempotent; safe from signal handlers). */
  abort(): void {
    if (this.finished) return;
    try {
      this.file?.close();
    } catch {
      /* already broken: removing it is all that matters */
    }
    this.file = null;
    rmSync(this.tmpPath, { force: true });
  }
}
