// Sparse layers (SparseConvNet's vocabulary) over src/torch/sparse.ts. Their parameters have the
// names and shapes of the dense layers (weight [Cout, Cin, kh, kw], BN's running statistics), so
// state dicts and checkpoints are the dense ones. Pointwise dense layers (BatchNorm2d, LeakyReLU,
// ReLU, Identity) act on a sparse tensor's features inside a SparseSequential.
import { Tensor, SparseTensor, sparseConv, sparseMaxPool, functional as F, type RulebookGeometry, type SparseConvAlgorithm } from '../torch/index.js';
import { Module, Layer } from './module.js';
import { BatchNorm2d, uniform } from './layers.js';

type Pair = number | [number, number];
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : p);

/** A module from sparse tensors to sparse tensors. */
export abstract class SparseLayer extends Module {
  abstract forward(x: SparseTensor): SparseTensor;
}

export interface SparseConvOptions {
  bias?: boolean;
  algorithm?: SparseConvAlgorithm;
}
export abstract class SparseConvBase extends SparseLayer {
  weight: Tensor;
  bias: Tensor | null;
  algorithm: SparseConvAlgorithm;
  readonly kernel: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    o: SparseConvOptions,
  ) {
    super();
    this.kernel = pair(kernelSize);
    const bound = 1 / Math.sqrt(inChannels * this.kernel[0] * this.kernel[1]); // PyTorch's Conv2d default
    this.weight = this.registerParameter('weight', uniform([outChannels, inChannels, ...this.kernel], bound));
    this.bias = o.bias === false ? null : this.registerParameter('bias', uniform([outChannels], bound));
    this.algorithm = o.algorithm ?? 'gather';
  }
  protected override onTensorReplaced(name: string, t: Tensor): void {
    if (name === 'weight') this.weight = t;
    if (name === 'bias') this.bias = t;
  }
  abstract readonly geometry: RulebookGeometry;
  forward(x: SparseTensor): SparseTensor {
    if (x.channels !== this.inChannels) throw new Error(`${this.constructor.name}: expected ${this.inChannels} channels, got ${x.channels}`);
    const rb = x.grid.rulebook(this.geometry);
    return new SparseTensor(sparseConv(x.features, rb, this.weight, this.bias, this.algorithm), rb.output);
  }
}

/**
 * Submanifold convolution: outputs only at the input's active sites, reading the active sites
 * of each window (inactive ones count as zero). Equals a dense 'same' convolution (padding
 * ⌊k/2⌋ above and left by default) at the active sites when inactive inputs are zero.
 */
export class SubmanifoldConv2d extends SparseConvBase {
  readonly geometry: RulebookGeometry;
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, o: SparseConvOptions & { padding?: Pair } = {}) {
    super(inChannels, outChannels, kernelSize, o);
    const [kh, kw] = this.kernel;
    this.geometry = {
      kernel: this.kernel,
      stride: 1,
      padding: o.padding === undefined ? [Math.floor(kh / 2), Math.floor(kw / 2)] : pair(o.padding),
      submanifold: true,
    };
  }
}

/**
 * Strided sparse convolution: outputs at the covered cells (every output whose window holds an
 * active input). Equals a dense convolution with `padding` rows/columns above/left and none
 * below/right, at those cells, when inactive inputs are zero.
 */
export class SparseConv2d extends SparseConvBase {
  readonly geometry: RulebookGeometry;
  /** `same`: output ⌈H / stride⌉ (a stride-1 'same' conv grows the active set by ⌊k/2⌋ cells). */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, o: SparseConvOptions & { stride?: number; padding?: Pair; same?: boolean } = {}) {
    super(inChannels, outChannels, kernelSize, o);
    this.geometry = { kernel: this.kernel, stride: o.stride ?? 2, padding: pair(o.padding ?? 0), submanifold: false, same: o.same ?? false };
  }
}

/**
 * Max-pooling over the active inputs of each window. Strided: outputs at the covered cells;
 * `submanifold` keeps the input's sites (keras' 'same' 2×2 stride-1 pool: window right/below).
 */
export class SparseMaxPool2d extends SparseLayer {
  readonly geometry: RulebookGeometry;
  constructor(kernelSize: Pair, o: { stride?: number; padding?: Pair; submanifold?: boolean } = {}) {
    super();
    const submanifold = o.submanifold ?? false;
    this.geometry = { kernel: pair(kernelSize), stride: submanifold ? 1 : (o.stride ?? pair(kernelSize)[0]), padding: pair(o.padding ?? 0), submanifold };
  }
  forward(x: SparseTensor): SparseTensor {
    const rb = x.grid.rulebook(this.geometry);
    return new SparseTensor(sparseMaxPool(x.features, rb), rb.output);
  }
}

/** A pointwise dense layer applied to the features (the sites stay). */
export function onFeatures(l: Layer, x: SparseTensor): SparseTensor {
  // Batch statistics need two sites; a batch with fewer uses (and leaves) the running ones.
  if (l instanceof BatchNorm2d && l.training && x.grid.size < 2) {
    return x.withFeatures(F.batchNorm(x.features, l.runningMean, l.runningVar, { weight: l.weight, bias: l.bias, training: false, eps: l.eps }));
  }
  return x.withFeatures(l.forward(x.features));
}

/** Layers applied in order; intermediate features are freed once the next layer has used them. */
export class SparseSequential extends SparseLayer {
  readonly layers: (SparseLayer | Layer)[] = [];
  constructor(...layers: (SparseLayer | Layer)[]) {
    super();
    for (const l of layers) this.append(l);
  }
  append(l: SparseLayer | Layer): this {
    this.registerModule(String(this.layers.length), l);
    this.layers.push(l);
    return this;
  }
  forward(x: SparseTensor): SparseTensor {
    let cur = x;
    for (const l of this.layers) {
      const next = l instanceof SparseLayer ? l.forward(cur) : onFeatures(l, cur);
      if (cur !== x && next.features !== cur.features) cur.dispose();
      cur = next;
    }
    return cur;
  }
}

/** Keeps the sites (a placeholder where the dense network has a layer the rulebook replaces, e.g. padding). */
export class SparseIdentity extends SparseLayer {
  forward(x: SparseTensor): SparseTensor {
    return x;
  }
}
