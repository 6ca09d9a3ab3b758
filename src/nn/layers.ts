// The layers the YOLOv3 family needs, with PyTorch's parameter names and default initialisation.
import { Tensor, rand, ones, zeros, full, functional as F, noGrad, tidy } from '../torch/index.js';
import { Layer, Module } from './module.js';

type Pair = number | [number, number];
const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : p);

/** U(−bound, bound), as PyTorch's default conv initialisation (kaiming_uniform with a = √5). */
export function uniform(shape: number[], bound: number): Tensor {
  return tidy(() =>
    noGrad(() =>
      rand(shape)
        .mul(2 * bound)
        .sub(bound),
    ),
  );
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}
export class Conv2d extends Layer {
  weight: Tensor;
  bias: Tensor | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    o: Conv2dOptions = {},
  ) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    this.groups = o.groups ?? 1;
    const fanIn = (inChannels / this.groups) * kh * kw;
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.registerParameter('weight', uniform([outChannels, inChannels / this.groups, kh, kw], bound));
    this.bias = o.bias === false ? null : this.registerParameter('bias', uniform([outChannels], bound));
  }
  protected override onTensorReplaced(name: string, t: Tensor): void {
    if (name === 'weight') this.weight = t;
    if (name === 'bias') this.bias = t;
  }
  /** Stores the weight with NHWC strides: oneDNN's fast convolution path on CPU. */
  toChannelsLast(): void {
    if (!this.weight.isContiguous('channels_last'))
      this.replaceTensor(
        'weight',
        noGrad(() => this.weight.contiguous('channels_last')),
      );
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
}
/** Batch norm with running statistics; momentum as PyTorch (Keras momentum 0.99 ≡ 0.01 here). */
export class BatchNorm2d extends Layer {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;
  /** Replaces the normalisation (data-parallel training installs the synchronised one here). */
  normalize: ((x: Tensor, bn: BatchNorm2d) => Tensor) | null = null;
  constructor(
    readonly numFeatures: number,
    o: BatchNormOptions = {},
  ) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.weight = this.registerParameter('weight', ones([numFeatures]));
    this.bias = this.registerParameter('bias', zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', full([], 0, { dtype: 'int64' }));
  }
  protected override onTensorReplaced(name: string, t: Tensor): void {
    if (name === 'weight') this.weight = t;
    else if (name === 'bias') this.bias = t;
    else if (name === 'running_mean') this.runningMean = t;
    else if (name === 'running_var') this.runningVar = t;
    else if (name === 'num_batches_tracked') this.numBatchesTracked = t;
  }
  forward(x: Tensor): Tensor {
    if (this.training) noGrad(() => this.numBatchesTracked.add_(1));
    if (this.normalize) return this.normalize(x, this);
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

export class LeakyReLU extends Layer {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}
export class ReLU extends Layer {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}
export class Identity extends Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Zero padding [left, right, top, bottom]; keras-yolo3 pads ((1,0),(1,0)) before stride-2 convs. */
export class ZeroPad2d extends Layer {
  readonly pads: [number, number, number, number];
  constructor(padding: number | [number, number, number, number]) {
    super();
    this.pads = typeof padding === 'number' ? [padding, padding, padding, padding] : padding;
  }
  forward(x: Tensor): Tensor {
    return F.pad(x, this.pads);
  }
}

export class MaxPool2d extends Layer {
  constructor(
    readonly kernelSize: Pair,
    readonly stride: Pair = kernelSize,
    readonly padding: Pair = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

export class Upsample extends Layer {
  constructor(
    readonly scaleFactor = 2,
    readonly mode: 'nearest' | 'bilinear' = 'nearest',
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.interpolate(x, { scaleFactor: this.scaleFactor, mode: this.mode });
  }
}

/**
 * Layers applied in order. Intermediate activations are freed as soon as the next layer has
 * used them (autograd keeps what backward needs), so a deep network does not pile up handles.
 */
export class Sequential extends Layer {
  readonly layers: Layer[];
  constructor(...layers: Layer[]) {
    super();
    this.layers = [];
    for (const l of layers) this.append(l);
  }
  append(l: Layer): this {
    this.registerModule(String(this.layers.length), l);
    this.layers.push(l);
    return this;
  }
  forward(x: Tensor): Tensor {
    let cur = x;
    for (const l of this.layers) {
      const next = l.forward(cur);
      if (cur !== x && next !== cur) cur.dispose();
      cur = next;
    }
    return cur;
  }
}

/** A list of modules registered under their indices. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(items: M[] = []) {
    super();
    for (const m of items) this.append(m);
  }
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    return this.items[i]!;
  }
}
