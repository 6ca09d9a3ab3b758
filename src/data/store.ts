// Reads daqyolo datasets (HDF5, layout in the README "Dataset format"): the interface the training
// code uses. Offsets and truth tables are loaded once at open; images are read as slices and
// scattered into a zero-filled dense batch [N, C, H, W].
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { h5wasm, h5Cause, type H5Dataset, type H5File, type H5Group } from './h5.js';
import { SPLIT_NAMES, type SplitName } from './splits.js';
import { Problems, checkTables, checkSparsePixels, checkDenseImage, type DatasetTablesForCheck } from './check.js';
import { FORMAT_VERSION, PATHS, REQUIRED, COLUMNS_ATTRIBUTE, splitPath } from './layout.js';

export { DatasetWriter, checkOutput, FORMAT_VERSION, FORMAT_NAME } from './writer.js';

export interface DatasetBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cls: number;
  interaction: number;
  /** Present (true) for VOC "difficult" boxes of imported datasets (/boxes/difficult). */
  difficult?: true;
}
export interface Interaction {
  energyMeV: number;
  process: string;
  visibleEnergyMeV: number;
  nTps: number;
  box: number; /* index into this image's boxes or -1 */
}

export interface DatasetReader {
  readonly path: string;
  readonly numImages: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly classNames: string[];
  readonly attrs: Record<string, unknown>; // includes the generation config
  split(name: 'train' | 'val' | 'eval'): Int32Array;
  readDense(indices: ArrayLike<number>, out?: Float32Array, pixels?: (Int32Array | null)[]): Float32Array; // N*C*H*W, zero-filled then scattered; pixels[k] = stored pixel indices (sparse layout)
  boxes(index: number): DatasetBox[];
  interactions(index: number): Interaction[];
  boxSizes(split?: 'train' | 'val' | 'eval'): { w: Float32Array; h: Float32Array }; // for anchor k-means
  /** Counts, sizes and a digest of the layout tables (offsets, boxes, splits): a run stores it to notice a replaced dataset. */
  identity(): DatasetIdentity;
  close(): void;
}

export interface DatasetIdentity {
  images: number;
  channels: number;
  height: number;
  width: number;
  layout: string;
  boxes: number;
  splits: Record<string, number>;
  digest: string;
}

export interface AllInteractions {
  energy: Float32Array;
  visible: Float32Array;
  process: Int32Array;
  box: Int32Array;
  image: Int32Array;
  nTps: Int32Array;
}

/** Extra tables for stats and event displays (not needed by training). */
export interface DatasetTables {
  layout: 'sparse' | 'dense';
  /** Sparse images: pixels per image (offset differences). */
  pixelCounts(): Float64Array | null;
  /** Per-image table with its column names (background/decays, background/tps_by_source). */
  table(name: 'decays' | 'tps_by_source'): { columns: string[]; rows: number; data: Int32Array } | null;
  /** All interactions: energy, visible energy, process code, box index, image index. */
  allInteractions(): AllInteractions;
  processNames: string[];
  /** Raw TPs of one image when stored. */
  tps(index: number): {
    channel: Int32Array;
    timeStart: Int32Array;
    timePeak: Int32Array;
    timeOverThreshold: Int32Array;
    adcIntegral: Float32Array;
    adcPeak: Float32Array;
    owner: Int32Array;
  } | null;
}

const toNumbers = (v: unknown): Float64Array => {
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float64Array.from(v as BigInt64Array, (x) => Number(x));
  return Float64Array.from(v as ArrayLike<number>);
};

class Reader implements DatasetReader, DatasetTables {
  readonly numImages: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly classNames: string[];
  readonly processNames: string[];
  readonly attrs: Record<string, unknown>;
  readonly layout: 'sparse' | 'dense';
  private readonly imgOff: Float64Array | null;
  private readonly boxOff: Float64Array;
  private readonly intOff: Float64Array;
  private readonly pixelDs: H5Dataset | null;
  private readonly valueDs: H5Dataset | null;
  private readonly denseDs: H5Dataset | null;
  private boxCache: { xyxy: Float32Array; cls: Int32Array; inter: Int32Array; difficult: Int32Array | null } | null = null;
  private intCache: AllInteractions | null = null;

  constructor(
    readonly path: string,
    private readonly f: H5File,
    problems = new Problems(path),
  ) {
    const need = (name: string): H5Dataset => {
      const d = f.get(name);
      if (!d || !(d instanceof h5wasm.Dataset)) throw new UserError(`${path}: not a daqyolo dataset: missing dataset /${name}`);
      return d as H5Dataset;
    };
    const a = f.attrs;
    const attr = (name: string): unknown => {
      if (!(name in a)) throw new UserError(`${path}: not a daqyolo dataset: missing root attribute "${name}"`);
      return f.get_attribute(name, true);
    };
    const version = Number(attr('format_version'));
    if (version > FORMAT_VERSION) throw new UserError(`${path}: dataset format_version ${version} is newer than this daqyolo reads (${FORMAT_VERSION})`);
    this.attrs = {};
    for (const k of Object.keys(a)) {
      const v = f.get_attribute(k, true);
      if (k === 'config' && typeof v === 'string') {
        try {
          this.attrs[k] = JSON.parse(v);
        } catch {
          throw new UserError(`${path}: root attribute "config" is not valid JSON`);
        }
      } else this.attrs[k] = v;
    }
    this.numImages = Number(attr('num_images'));
    this.channels = Number(attr('channels'));
    this.height = Number(attr('height'));
    this.width = Number(attr('width'));
    const names = (v: unknown) => (Array.isArray(v) ? v.map(String) : [String(v)]);
    this.classNames = names(attr('class_names'));
    this.processNames = 'process_names' in a ? names(f.get_attribute('process_names', true)) : [];
    this.layout = String(attr('layout')) === 'dense' ? 'dense' : 'sparse';
    if (this.layout === 'sparse') {
      this.imgOff = toNumbers(need(PATHS.imageOffsets).value);
      this.pixelDs = need(PATHS.imagePixel);
      this.valueDs = need(PATHS.imageValue);
      this.denseDs = null;
      if (this.imgOff.length !== this.numImages + 1)
        throw new UserError(`${path}: /images/offsets has ${this.imgOff.length} entries, expected num_images + 1 = ${this.numImages + 1}`);
    } else {
      this.imgOff = null;
      this.pixelDs = null;
      this.valueDs = null;
      this.denseDs = need(PATHS.imageDense);
    }
    this.boxOff = toNumbers(need(PATHS.boxOffsets).value);
    this.intOff = toNumbers(need(PATHS.interactionOffsets).value);
    for (const n of REQUIRED) need(n);
    for (const s of SPLIT_NAMES) need(splitPath(s));
    this.checked = this.tablesForCheck();
    checkTables(problems, this.checked); // throws the first problem unless `check` collects them
  }

  /** The tables the cheap checks look at (loaded once; training reads them anyway). */
  private readonly checked: DatasetTablesForCheck;
  private tablesForCheck(): DatasetTablesForCheck {
    const f = this.f;
    const ds = (n: string) => f.get(n) as H5Dataset | null;
    const boxEnergy = ds(PATHS.boxEnergy);
    const t = this.boxTables();
    return {
      numImages: this.numImages,
      channels: this.channels,
      height: this.height,
      width: this.width,
      numClasses: this.classNames.length,
      imageOffsets: this.imgOff,
      pixelRows: this.pixelDs ? this.pixelDs.shape![0]! : null,
      denseShape: this.denseDs ? this.denseDs.shape! : null,
      boxOffsets: this.boxOff,
      interactionOffsets: this.intOff,
      xyxy: t.xyxy,
      boxClass: t.cls,
      boxEnergy: boxEnergy ? Float32Array.from(boxEnergy.value as ArrayLike<number>) : null,
      interactionEnergy: Float32Array.from(ds(PATHS.interactionEnergy)!.value as ArrayLike<number>),
      interactionRows: ds(PATHS.interactionEnergy)!.shape![0]!,
      splits: Object.fromEntries(SPLIT_NAMES.map((s) => [s, this.split(s)])) as Record<SplitName, Int32Array>,
    };
  }

  identity(): DatasetIdentity {
    const t = this.checked;
    const h = createHash('sha256');
    for (const a of [t.imageOffsets ?? new Float64Array(0), t.boxOffsets, t.interactionOffsets, t.xyxy, t.boxClass, ...SPLIT_NAMES.map((s) => t.splits[s])]) {
      h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    return {
      images: this.numImages,
      channels: this.channels,
      height: this.height,
      width: this.width,
      layout: this.layout,
      boxes: t.xyxy.length / 4,
      splits: Object.fromEntries(SPLIT_NAMES.map((s) => [s, t.splits[s].length])),
      digest: h.digest('hex').slice(0, 16),
    };
  }

  /** Full scan of the pixels (after the cheap checks passed); stops at `problems`' limit. */
  scanPixels(problems: Problems, onImages?: (done: number) => void): void {
    const t = this.checked;
    const step = 256;
    for (let i = 0; i < this.numImages && !problems.full; i += step) {
      const end = Math.min(this.numImages, i + step);
      if (this.denseDs) {
        for (let k = i; k < end && !problems.full; k++)
          checkDenseImage(problems, k, this.read(this.denseDs, PATHS.imageDense, [[k, k + 1]]) as Float32Array, this.channels, this.width);
      } else {
        const a = this.imgOff![i]!,
          b = this.imgOff![end]!;
        if (b > a) {
          checkSparsePixels(
            problems,
            t,
            a,
            this.read(this.pixelDs!, PATHS.imagePixel, [[a, b]]) as Int32Array,
            this.read(this.valueDs!, PATHS.imageValue, [
              [a, b],
              [0, this.channels],
            ]) as Float32Array,
          );
        }
      }
      onImages?.(end);
    }
  }

  /**
   * Every group, dataset and attribute of the file read once, so that a damaged object header or
   * chunk anywhere (a column no command has read yet, e.g. /boxes/n_tps) is a problem naming its
   * path (issue 30). The pixels are left to scanPixels, which checks their values as well.
   */
  scanObjects(problems: Problems): void {
    const pixels = new Set([PATHS.imagePixel, PATHS.imageValue, PATHS.imageDense].map((p) => `/${p}`));
    const ROWS = 1 << 18;
    const walk = (g: H5Group, prefix: string) => {
      let keys: string[];
      try {
        keys = g.keys();
      } catch (e) {
        return problems.add(`${prefix || '/'}: cannot list its members (${h5Cause(e)})`);
      }
      for (const k of keys) {
        if (problems.full) return;
        const path = `${prefix}/${k}`;
        try {
          const o = g.get(k);
          if (!o) {
            problems.add(`${path}: cannot be opened`);
            continue;
          }
          if (!(o instanceof h5wasm.Group) && !(o instanceof h5wasm.Dataset)) continue; // links, datatypes
          for (const a of Object.keys(o.attrs)) o.get_attribute(a, true);
          if (o instanceof h5wasm.Group) walk(o, path);
          else if (!pixels.has(path)) {
            const rows = o.shape?.[0];
            if (!o.shape?.length || rows === undefined) void o.value;
            else for (let r = 0; r < rows; r += ROWS) o.slice([[r, Math.min(rows, r + ROWS)]]);
          }
        } catch (e) {
          problems.add(`${path}: unreadable (${h5Cause(e)})`);
        }
      }
    };
    walk(this.f, '');
  }

  /** A slice read; a failed HDF5 read (truncated or damaged file) becomes one line naming the path and rows. */
  private read(d: H5Dataset, name: string, ranges: [number, number][]): unknown {
    try {
      return d.slice(ranges);
    } catch (e) {
      throw new UserError(`${this.path}: cannot read /${name} rows ${ranges[0]![0]}..${ranges[0]![1] - 1} (${h5Cause(e)})`);
    }
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numImages) throw new UserError(`${this.path}: image index ${i} is out of range 0..${this.numImages - 1}`);
  }

  split(name: SplitName): Int32Array {
    const d = this.f.get(splitPath(name)) as H5Dataset | null;
    if (!d) throw new UserError(`${this.path}: no split "${name}"`);
    return Int32Array.from(d.value as ArrayLike<number>);
  }

  /**
   * Dense images [N, C, H, W]. With `pixels`, each sparse image's stored pixel indices (y·W + x)
   * are put in pixels[k] (null for dense datasets), so callers need not scan for non-zero pixels.
   */
  readDense(indices: ArrayLike<number>, out?: Float32Array, pixels?: (Int32Array | null)[]): Float32Array {
    const C = this.channels,
      H = this.height,
      W = this.width;
    const per = C * H * W;
    const n = indices.length;
    if (out && out.length < n * per) throw new UserError(`readDense: output holds ${out.length} values, need ${n * per}`);
    const buf = out ?? new Float32Array(n * per);
    buf.fill(0, 0, n * per);
    const plane = H * W;
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      this.checkIndex(i);
      if (this.denseDs) {
        const img = this.read(this.denseDs, PATHS.imageDense, [[i, i + 1]]) as Float32Array;
        // Every image read is checked (cheap beside the network): a NaN pixel is named, not a NaN loss later.
        checkDenseImage(new Problems(this.path), i, img, C, W);
        buf.set(img, k * per);
        if (pixels) pixels[k] = null;
        continue;
      }
      const a = this.imgOff![i],
        b = this.imgOff![i + 1];
      if (b <= a) {
        if (pixels) pixels[k] = new Int32Array(0);
        continue;
      }
      const pix = this.read(this.pixelDs!, PATHS.imagePixel, [[a, b]]) as Int32Array;
      if (pixels) pixels[k] = pix;
      const val = this.read(this.valueDs!, PATHS.imageValue, [
        [a, b],
        [0, C],
      ]) as Float32Array;
      const base = k * per;
      for (let p = 0; p < pix.length; p++) {
        if (!(pix[p]! >= 0 && pix[p]! < plane) || !val.subarray(p * C, p * C + C).every(Number.isFinite)) {
          checkSparsePixels(new Problems(this.path), this.checked, a + p, pix.subarray(p, p + 1), val.subarray(p * C, p * C + C));
        }
        for (let c = 0; c < C; c++) buf[base + c * plane + pix[p]] = val[p * C + c];
      }
    }
    return buf;
  }

  private boxTables() {
    if (!this.boxCache) {
      const get = (n: string) => (this.f.get(n) as H5Dataset).value;
      this.boxCache = {
        xyxy: Float32Array.from(get(PATHS.boxXyxy) as ArrayLike<number>),
        cls: Int32Array.from(get(PATHS.boxClass) as ArrayLike<number>),
        inter: Int32Array.from(get(PATHS.boxInteraction) as ArrayLike<number>),
        difficult: this.f.get(PATHS.boxDifficult) ? Int32Array.from(get(PATHS.boxDifficult) as ArrayLike<number>) : null, // optional (imports)
      };
    }
    return this.boxCache;
  }

  boxes(index: number): DatasetBox[] {
    this.checkIndex(index);
    const t = this.boxTables();
    const out: DatasetBox[] = [];
    for (let b = this.boxOff[index]; b < this.boxOff[index + 1]; b++) {
      out.push({
        x1: t.xyxy[4 * b],
        y1: t.xyxy[4 * b + 1],
        x2: t.xyxy[4 * b + 2],
        y2: t.xyxy[4 * b + 3],
        cls: t.cls[b],
        interaction: t.inter[b],
        ...(t.difficult?.[b] ? { difficult: true as const } : {}),
      });
    }
    return out;
  }

  allInteractions(): AllInteractions {
    if (!this.intCache) {
      const get = (n: string) => (this.f.get(n) as H5Dataset | null)?.value as ArrayLike<number> | undefined;
      const m = this.intOff[this.numImages];
      const image = new Int32Array(m);
      for (let i = 0; i < this.numImages; i++) image.fill(i, this.intOff[i], this.intOff[i + 1]);
      this.intCache = {
        energy: Float32Array.from(get(PATHS.interactionEnergy) ?? []),
        visible: Float32Array.from(get(PATHS.interactionVisible) ?? new Float32Array(m)),
        process: Int32Array.from(get(PATHS.interactionProcess) ?? new Int32Array(m)),
        box: Int32Array.from(get(PATHS.interactionBox) ?? []),
        nTps: Int32Array.from(get(PATHS.interactionNTps) ?? new Int32Array(m)),
        image,
      };
    }
    return this.intCache;
  }

  interactions(index: number): Interaction[] {
    this.checkIndex(index);
    const t = this.allInteractions();
    const out: Interaction[] = [];
    for (let k = this.intOff[index]; k < this.intOff[index + 1]; k++) {
      out.push({
        energyMeV: t.energy[k],
        process: this.processNames[t.process[k]] ?? String(t.process[k]),
        visibleEnergyMeV: t.visible[k],
        nTps: t.nTps[k],
        box: t.box[k],
      });
    }
    return out;
  }

  boxSizes(split?: SplitName): { w: Float32Array; h: Float32Array } {
    const t = this.boxTables();
    const images = split ? this.split(split) : null;
    const ranges: [number, number][] = images ? Array.from(images, (i) => [this.boxOff[i], this.boxOff[i + 1]]) : [[0, this.boxOff[this.numImages]]];
    const n = ranges.reduce((a, [s, e]) => a + e - s, 0);
    const w = new Float32Array(n),
      h = new Float32Array(n);
    let k = 0;
    for (const [s, e] of ranges) {
      for (let b = s; b < e; b++, k++) {
        w[k] = t.xyxy[4 * b + 2] - t.xyxy[4 * b];
        h[k] = t.xyxy[4 * b + 3] - t.xyxy[4 * b + 1];
      }
    }
    return { w, h };
  }

  pixelCounts(): Float64Array | null {
    if (!this.imgOff) return null;
    const out = new Float64Array(this.numImages);
    for (let i = 0; i < this.numImages; i++) out[i] = this.imgOff[i + 1] - this.imgOff[i];
    return out;
  }

  table(name: 'decays' | 'tps_by_source') {
    const d = this.f.get(name === 'decays' ? PATHS.backgroundDecays : PATHS.backgroundTpsBySource) as H5Dataset | null;
    if (!d) return null;
    const cols = d.attrs[COLUMNS_ATTRIBUTE] ? d.get_attribute(COLUMNS_ATTRIBUTE, true) : [];
    return { columns: (Array.isArray(cols) ? cols : [cols]).map(String), rows: d.shape![0], data: Int32Array.from(d.value as ArrayLike<number>) };
  }

  tps(index: number) {
    this.checkIndex(index);
    const off = this.f.get(PATHS.tpOffsets) as H5Dataset | null;
    if (!off) return null;
    const o = toNumbers(off.slice([[index, index + 2]]));
    const s = (path: string) => (this.f.get(path) as H5Dataset).slice([[o[0], o[1]]]);
    return {
      channel: Int32Array.from(s(PATHS.tpChannel) as ArrayLike<number>),
      timeStart: Int32Array.from(s(PATHS.tpTimeStart) as ArrayLike<number>),
      timePeak: Int32Array.from(s(PATHS.tpTimePeak) as ArrayLike<number>),
      timeOverThreshold: Int32Array.from(s(PATHS.tpTimeOverThreshold) as ArrayLike<number>),
      adcIntegral: Float32Array.from(s(PATHS.tpAdcIntegral) as ArrayLike<number>),
      adcPeak: Float32Array.from(s(PATHS.tpAdcPeak) as ArrayLike<number>),
      owner: Int32Array.from(s(PATHS.tpOwner) as ArrayLike<number>),
    };
  }

  close(): void {
    this.f.close();
  }
}

/** Opens a dataset for reading; a clear UserError names the file and what is missing. */
export function openDataset(path: string, problems?: Problems): DatasetReader & DatasetTables {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
  if (statSync(path).isDirectory()) throw new UserError(`${path}: is a directory, not an HDF5 dataset`);
  if (!isHdf5(path)) throw new UserError(`${path}: not an HDF5 file (no HDF5 signature)`);
  let f: H5File;
  try {
    f = new h5wasm.File(path, 'r');
  } catch (e) {
    throw new UserError(`${path}: cannot be opened as HDF5 (${h5Cause(e)})`);
  }
  try {
    return new Reader(path, f, problems);
  } catch (e) {
    try {
      f.close();
    } catch {
      /* the file is already unreadable; the first error is the one to report */
    }
    if (e instanceof UserError) throw e;
    throw new UserError(`${path}: corrupt or unreadable dataset (${h5Cause(e)})`);
  }
}

/** `daqyolo check`: the cheap checks (at open), a scan of every pixel, and a read of every other dataset and attribute; up to `limit` problems. */
export function checkDataset(path: string, limit = 20, onImages?: (done: number, total: number) => void): { images: number; problems: string[] } {
  const problems = new Problems(path, Math.max(2, limit));
  const reader = openDataset(path, problems) as Reader;
  try {
    // Pixels are scanned only when the tables are sound (bad offsets would misplace every row).
    if (!problems.list.length) reader.scanPixels(problems, (done) => onImages?.(done, reader.numImages));
    if (!problems.full) reader.scanObjects(problems);
    return { images: reader.numImages, problems: problems.list };
  } finally {
    reader.close();
  }
}

/** HDF5 files begin with an 8-byte signature at offset 0, 512, 1024, … (HDF5 spec, superblock). */
function isHdf5(path: string): boolean {
  const sig = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size && off <= 1 << 20; off = off === 0 ? 512 : off * 2) {
      readSync(fd, buf, 0, 8, off);
      if (buf.equals(sig)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}
