// Sparse 2-D tensors over libtorch (native/sparse.cc): a batch of images is its active sites
// (coordinates [N, 3] = image, y, x; int64 on the CPU) and their features [N, C] (any device).
// A SparseGrid is one resolution of one batch: the sites and the rulebooks built on them, each
// built on first use and shared by every convolution of the same geometry at that resolution.
// Tensors made here belong to the current tidy scope like any other (see scope.ts).
import { native } from './native.js';
import { Tensor, wrap, wrapAll } from './tensor.js';
import { tensor, full, arange, cat, zeros } from './creation.js';
import { tidy } from './scope.js';

/** How a rulebook maps input sites to output sites. */
export interface RulebookGeometry {
  kernel: [number, number];
  stride: number;
  /** Rows and columns added above and to the left of the input (the rest of a window is 'valid'). */
  padding: [number, number];
  /** Output sites = input sites (SparseConvNet's submanifold convolution); else covered cells. */
  submanifold: boolean;
  /**
   * Output size ⌈H / stride⌉ (padding below/right as needed, as 'same'); default: 'valid' below
   * and right. A stride-1 'same' covered-cell convolution grows the active set by the kernel.
   */
  same?: boolean;
}

/** For each output site and kernel offset, the input row it reads (N = the appended filler row). */
export class Rulebook {
  #pairs: Tensor[] | null = null;
  // Rulebooks are built on the CPU; a copy per other device (CUDA) is made once, on first use.
  #onDevice = new Map<string, { neighbours: Tensor; pairs: Tensor[] | null }>();
  constructor(
    readonly input: SparseGrid,
    readonly output: SparseGrid,
    readonly neighbours: Tensor,
    readonly geometry: RulebookGeometry,
  ) {}
  /** The neighbour table on the features' device. */
  neighboursOn(device: string): Tensor {
    if (device === this.neighbours.device) return this.neighbours;
    let d = this.#onDevice.get(device);
    if (!d) this.#onDevice.set(device, (d = { neighbours: this.neighbours.to(device), pairs: null }));
    return d.neighbours;
  }
  /** pairs() on the features' device. */
  pairsOn(device: string): Tensor[] {
    if (device === this.neighbours.device) return this.pairs();
    this.neighboursOn(device);
    const d = this.#onDevice.get(device)!;
    d.pairs ??= this.pairs().map((t) => t.to(device));
    return d.pairs;
  }
  /** True for a 1×1 submanifold kernel: output row i reads input row i, no gather needed. */
  get identity(): boolean {
    const g = this.geometry;
    return g.submanifold && g.kernel[0] === 1 && g.kernel[1] === 1;
  }
  /** Per kernel offset, the (input rows, output rows) that exist: [in_0, out_0, in_1, out_1, …]. */
  pairs(): Tensor[] {
    this.#pairs ??= wrapAll(native.sparseRulebookPairs(this.neighbours.handle, this.input.size));
    return this.#pairs;
  }
  disposables(): Tensor[] {
    return [this.neighbours, ...(this.#pairs ?? []), ...[...this.#onDevice.values()].flatMap((d) => [d.neighbours, ...(d.pairs ?? [])])];
  }
}

export class SparseGrid {
  #rulebooks = new Map<string, Rulebook>();
  #lookup: Tensor | null = null;
  /** coords: int64 [N, 3] (image, y, x), unique sites inside batch × height × width. */
  constructor(
    readonly coords: Tensor,
    readonly batch: number,
    readonly height: number,
    readonly width: number,
  ) {
    if (coords.dtype !== 'int64' || coords.ndim !== 2 || coords.size(1) !== 3)
      throw new Error(`sparse grid: coords must be int64 [N, 3], got ${coords.dtype} [${coords.shape}]`);
  }
  /** Number of active sites. */
  get size(): number {
    return this.coords.size(0);
  }

  /** The rulebook of a geometry (built once per grid and geometry). */
  rulebook(g: RulebookGeometry): Rulebook {
    const key = `${g.kernel}/${g.stride}/${g.padding}/${g.submanifold}/${g.same ?? false}`;
    let rb = this.#rulebooks.get(key);
    if (!rb) {
      const [kh, kw] = g.kernel;
      const [pt, pl] = g.padding;
      // Output size of a convolution padded by (pt, pl) above/left and 'valid' below/right.
      const outH = g.submanifold ? this.height : g.same ? Math.ceil(this.height / g.stride) : Math.floor((this.height + pt - kh) / g.stride) + 1;
      const outW = g.submanifold ? this.width : g.same ? Math.ceil(this.width / g.stride) : Math.floor((this.width + pl - kw) / g.stride) + 1;
      if (g.submanifold && kh === 1 && kw === 1 && pt === 0 && pl === 0) {
        // 1×1 on the same sites: site i reads row i (no index grid to build).
        const rows = arange(this.size, undefined, 1, { dtype: 'int64' });
        rb = new Rulebook(this, this, rows.reshape(this.size, 1), g);
        rows.dispose();
        this.#rulebooks.set(key, rb);
        return rb;
      }
      const [outCoords, nbr] = native.sparseRulebook(
        this.coords.handle,
        this.batch,
        this.height,
        this.width,
        outH,
        outW,
        kh,
        kw,
        g.stride,
        pt,
        pl,
        g.submanifold,
      );
      let output: SparseGrid = this;
      if (g.submanifold) native.free(outCoords);
      else output = new SparseGrid(wrap(outCoords), this.batch, outH, outW);
      rb = new Rulebook(this, output, wrap(nbr), g);
      this.#rulebooks.set(key, rb);
    }
    return rb;
  }

  /**
   * For each site of this (finer) grid, the row of the site of `coarse` that contains it when
   * coarse is `factor` times coarser; −1 where coarse has no such site.
   */
  parentRows(coarse: SparseGrid, factor: number): Tensor {
    const lookup = coarse.#lookupTable();
    const c = this.coords;
    return tidy(() => {
      const key = c.select(1, 0).mul(coarse.height).add(c.select(1, 1).floorDivide(factor)).mul(coarse.width).add(c.select(1, 2).floorDivide(factor));
      return lookup.indexSelect(0, key);
    });
  }
  // Row of each site in the flattened batch × height × width grid, −1 elsewhere.
  #lookupTable(): Tensor {
    if (!this.#lookup) {
      const c = this.coords;
      this.#lookup = tidy(() => {
        const lin = c.select(1, 0).mul(this.height).add(c.select(1, 1)).mul(this.width).add(c.select(1, 2));
        return full([this.batch * this.height * this.width], -1, { dtype: 'int64' }).indexPut_([lin], arange(this.size, undefined, 1, { dtype: 'int64' }));
      });
    }
    return this.#lookup;
  }

  /** Every tensor this grid holds, its rulebooks and the grids they lead to (for scopes). */
  disposables(): Tensor[] {
    const out: Tensor[] = [this.coords, ...(this.#lookup ? [this.#lookup] : [])];
    for (const rb of this.#rulebooks.values()) {
      out.push(...rb.disposables());
      if (rb.output !== this) out.push(...rb.output.disposables());
    }
    return out;
  }
}

/** Features [N, C] on the sites of a grid. */
export class SparseTensor {
  constructor(
    readonly features: Tensor,
    readonly grid: SparseGrid,
  ) {
    if (features.ndim !== 2 || features.size(0) !== grid.size) throw new Error(`sparse tensor: features [${features.shape}] do not fit ${grid.size} sites`);
  }
  get channels(): number {
    return this.features.size(1);
  }
  /** Same sites, new features. */
  withFeatures(f: Tensor): SparseTensor {
    return new SparseTensor(f, this.grid);
  }

  /** The active pixels (any non-zero channel) of dense images [B, C, H, W]. */
  static fromDense(x: Tensor): SparseTensor {
    const [b, , h, w] = x.shape as [number, number, number, number];
    const coords = wrap(native.sparseActiveSites(x.handle));
    const grid = new SparseGrid(coords, b, h, w);
    return new SparseTensor(sparsify(x, grid), grid);
  }
  /**
   * From per-image pixel lists (no dense image is made): `pixels[b]` holds flat indices y·W + x
   * and `values[b]` their values, channel-major ([C][n]) when C > 1. Repeated pixels are summed.
   */
  static fromPixels(pixels: ArrayLike<number>[], values: ArrayLike<number>[], channels: number, height: number, width: number, device = 'cpu'): SparseTensor {
    const sites = new Map<number, number>();
    const order: number[] = [];
    const rows: [number, number, number][] = [];
    pixels.forEach((list, b) => {
      for (let i = 0; i < list.length; i++) {
        const p = list[i]!;
        if (p < 0 || p >= height * width || !Number.isInteger(p)) throw new Error(`sparse input: image ${b} pixel ${i} = ${p} is outside ${height}×${width}`);
        const key = b * height * width + p;
        if (!sites.has(key)) {
          sites.set(key, order.length);
          order.push(key);
          rows.push([b, Math.floor(p / width), p % width]);
        }
      }
    });
    // Sites in (image, y, x) order, as sparseActiveSites gives them.
    const perm = order.map((_, i) => i).sort((a, b) => order[a]! - order[b]!);
    const rank = new Int32Array(order.length);
    perm.forEach((old, pos) => {
      rank[old] = pos;
    });
    const feats = new Float32Array(order.length * channels);
    pixels.forEach((list, b) => {
      const v = values[b]!;
      for (let i = 0; i < list.length; i++) {
        const r = rank[sites.get(b * height * width + list[i]!)!]!;
        for (let ch = 0; ch < channels; ch++) feats[r * channels + ch]! += v[ch * list.length + i]!;
      }
    });
    const coordData = new BigInt64Array(order.length * 3);
    perm.forEach((old, pos) => {
      const [b, y, x] = rows[old]!;
      coordData[3 * pos] = BigInt(b);
      coordData[3 * pos + 1] = BigInt(y);
      coordData[3 * pos + 2] = BigInt(x);
    });
    const grid = new SparseGrid(tensor(coordData, { shape: [order.length, 3], dtype: 'int64' }), pixels.length, height, width);
    let f = tensor(feats, { shape: [order.length, channels] });
    if (device !== 'cpu') {
      const moved = f.to(device);
      f.dispose();
      f = moved;
    }
    return new SparseTensor(f, grid);
  }

  /**
   * From per-image pixel lists whose pixels are ascending and unique (the simulator's: flat
   * indices y·W + x, values pixel-major [n][C]), every value multiplied by `scale` (as
   * toNetworkInput scales a dense batch): the sites and features fromDense gives for the same
   * images densified, without making them. Pixels whose channels are all zero are not sites (a
   * dense image cannot tell them from empty ones). `index` only names an image in errors.
   */
  static fromSortedPixels(
    images: { pixels: ArrayLike<number>; values: ArrayLike<number>; index?: number }[],
    channels: number,
    height: number,
    width: number,
    scale = 1,
    device = 'cpu',
  ): SparseTensor {
    const C = channels;
    let n = 0;
    for (const im of images) n += im.pixels.length;
    const coords = new Int32Array(3 * n);
    const feats = new Float32Array(C * n);
    let r = 0;
    images.forEach((im, b) => {
      const name = im.index ?? b;
      if (im.values.length !== im.pixels.length * C)
        throw new Error(`sparse input: image ${name} has ${im.values.length} values for ${im.pixels.length} pixels × ${C} channels`);
      let prev = -1;
      for (let i = 0; i < im.pixels.length; i++) {
        const p = im.pixels[i]!;
        if (!(p > prev && p < height * width && Number.isInteger(p)))
          throw new Error(`sparse input: image ${name} pixel ${i} = ${p} is not ascending inside ${height}×${width}`);
        prev = p;
        let any = false;
        for (let c = 0; c < C; c++) if ((feats[r * C + c] = im.values[i * C + c]!) !== 0) any = true;
        if (!any) continue;
        coords[3 * r] = b;
        coords[3 * r + 1] = Math.floor(p / width);
        coords[3 * r + 2] = p % width;
        r++;
      }
    });
    return tidy(() => {
      const grid = new SparseGrid(tensor(coords.subarray(0, 3 * r), { shape: [r, 3], dtype: 'int64' }), images.length, height, width);
      let f = tensor(feats.subarray(0, C * r), { shape: [r, C] });
      if (device !== 'cpu') f = f.to(device);
      if (scale !== 1) f.mul_(scale);
      return new SparseTensor(f, grid);
    });
  }

  /** Scatters the features into a [B, C, H, W] grid of `fill` (NHWC strides). */
  dense(fill = 0): Tensor {
    return densify(this.features, this.grid, fill);
  }
  get isDisposed(): boolean {
    return this.features.isDisposed;
  }
  /** Frees the features (the grid is shared with other tensors and goes with its scope). */
  dispose(): void {
    this.features.dispose();
  }
  disposables(): Tensor[] {
    return [this.features, ...this.grid.disposables()];
  }
}

/** Features of `grid`'s sites read from dense [B, C, H, W] maps. */
export function sparsify(x: Tensor, grid: SparseGrid): Tensor {
  return wrap(native.sparseSparsify(x.handle, grid.coords.handle));
}
/** [B, C, H, W] (NHWC strides) holding the features at the sites and `fill` elsewhere. */
export function densify(features: Tensor, grid: SparseGrid, fill = 0): Tensor {
  return wrap(native.sparseDensify(features.handle, grid.coords.handle, grid.batch, grid.height, grid.width, fill));
}

export type SparseConvAlgorithm = 'gather' | 'offsets';
/**
 * How the engine computes a 'gather' convolution on float32 CPU features (other devices and
 * dtypes take ATen's gather path whatever is asked). All give the same result within float
 * rounding; they differ in work: 'gather' multiplies every (output site, offset) row, absent
 * inputs reading zeros; 'spread' multiplies every input row by every offset's weights and sums
 * per output (less work where inputs are fewer than outputs: a growing 'same' conv); 'offsets'
 * multiplies only the present pairs, one GEMM per offset. 'auto' (the default) picks the least
 * work by the rule in native/sparse.cc (ChooseForm); the others are for tests and benchmarks.
 */
export type SparseConvForm = 'auto' | 'gather' | 'spread' | 'offsets';
const FORM_CODE: Record<SparseConvForm, number> = { auto: 0, gather: 1, spread: 2, offsets: 3 };
/**
 * Sparse convolution of features [N, Cin] by weight [Cout, Cin, kh, kw] through a rulebook:
 * 'gather' = one gather of every (site, offset) row through a zero row, then one GEMM;
 * 'offsets' = per kernel offset index_select → mm → index_add (no work on absent pairs).
 */
export function sparseConv(
  features: Tensor,
  rb: Rulebook,
  weight: Tensor,
  bias: Tensor | null = null,
  algorithm: SparseConvAlgorithm = 'gather',
  form: SparseConvForm = 'auto',
): Tensor {
  if (algorithm === 'offsets' && !rb.identity) {
    return wrap(
      native.sparseConvOffsets(
        features.handle,
        rb.pairsOn(features.device).map((t) => t.handle),
        rb.output.size,
        weight.handle,
        bias?.handle ?? null,
      ),
    );
  }
  return wrap(native.sparseConv(features.handle, rb.neighboursOn(features.device).handle, weight.handle, bias?.handle ?? null, rb.identity, FORM_CODE[form]));
}
/** Which GEMM the float32 CPU convolutions run: oneDNN's sgemm, or ATen's mm (Debian's OpenBLAS). */
export type SparseGemm = 'dnnl' | 'aten';
/**
 * The GEMM the engine's float32 CPU convolutions use now; with an argument, sets it first.
 * 'dnnl' (the default wherever libtorch loaded oneDNN) is 1.7–2.1× OpenBLAS's speed on a sparse
 * layer's small matrices; 'aten' forces at::mm, as does DAQYOLO_SPARSE_GEMM=aten at start. The
 * two agree within float rounding (test/engine/engine-sparse.test.ts); for tests and benchmarks.
 */
export function sparseGemm(set?: SparseGemm): SparseGemm {
  return native.sparseGemm(set ?? null) as SparseGemm;
}
/**
 * Batch norm over the rows of features [N, C] (batch statistics when `training`, updating the
 * running ones in place as PyTorch does; running ones otherwise or with fewer than 2 rows), then
 * leaky ReLU: one native kernel each way on float32 CPU tensors (ATen's ops elsewhere).
 */
export function sparseBnLeaky(
  features: Tensor,
  bn: { weight: Tensor; bias: Tensor; runningMean: Tensor; runningVar: Tensor; momentum: number; eps: number },
  training: boolean,
  negativeSlope: number,
): Tensor {
  return wrap(
    native.sparseBnLeaky(
      features.handle,
      bn.weight.handle,
      bn.bias.handle,
      bn.runningMean.handle,
      bn.runningVar.handle,
      training,
      bn.momentum,
      bn.eps,
      negativeSlope,
    ),
  );
}
/** Maximum over the active inputs of each window. */
export function sparseMaxPool(features: Tensor, rb: Rulebook): Tensor {
  return wrap(native.sparseMaxPool(features.handle, rb.neighboursOn(features.device).handle));
}
/** Nearest-neighbour upsampling onto the sites of `fine`, read from the coarse tensor. */
export function sparseUpsample(x: SparseTensor, fine: SparseGrid, factor: number): SparseTensor {
  const rows = fine.parentRows(x.grid, factor);
  if (rows.size(0) > 0 && rows.min().item() < 0)
    throw new Error(`sparse upsample: a ${fine.height}×${fine.width} site has no parent in the ${x.grid.height}×${x.grid.width} grid`);
  const f = x.features.indexSelect(0, rows.to(x.features.device));
  return new SparseTensor(f, fine);
}

/**
 * The same features on a grid grown by `cells` each way (every cell within that Chebyshev
 * distance of an active one); the new sites hold zeros, so a convolution reads them as it read
 * the empty cells, but the layers after it compute there (BN-shifted, as a dense network does
 * around every TP). Gradients flow to the old sites' features. The grown grid is the covered
 * cells of a stride-1 'same' (2·cells+1)² window, the rulebook a growing convolution builds.
 */
export function growSites(x: SparseTensor, cells: number): SparseTensor {
  if (!(Number.isInteger(cells) && cells >= 0)) throw new Error(`growSites: cells must be a whole number ≥ 0, got ${cells}`);
  if (cells === 0) return x;
  const k = 2 * cells + 1;
  const rb = x.grid.rulebook({ kernel: [k, k], stride: 1, padding: [cells, cells], submanifold: false, same: true });
  // The centre offset of each output site reads the input at the same cell, or the filler row N.
  const f = tidy(() => {
    const centre = rb.neighboursOn(x.features.device).select(1, cells * k + cells);
    return cat([x.features, zeros([1, x.channels], { dtype: x.features.dtype, device: x.features.device })], 0).indexSelect(0, centre);
  });
  return new SparseTensor(f, rb.output);
}
