// The YOLOv3 family of the seed (keras-yolo3 topology): Darknet-53 backbone, three heads
// (coarse stride 32 first, then 16, then 8), nearest ×2 upsampling, BN eps 1e-3, LeakyReLU 0.1,
// zero padding left/top before stride-2 convolutions; YOLOv3-tiny has two heads (strides 32 and
// 16). Channel widths scale by `width` for fast CPU work. The sparse-* variants are the same
// networks on sparse convolutions (sparse-blocks.ts), with the same parameter names, head maps,
// loss and decoding. Each variant is a class: its blocks (blocks.ts, sparse-blocks.ts) and its
// topology (topology.ts), which forward and the ONNX writer both follow.
import { Tensor, SparseTensor, dispose, noGrad, zeros } from '../torch/index.js';
import { Module, Conv2d, MaxPool2d, Sequential, SparseSequential, SparseMaxPool2d } from '../nn/index.js';
import { scaled, ConvBNLeaky, Darknet53, Head, upRoute, denseTinyTail } from './blocks.js';
import { SparseConvBNLeaky, SparseDarknet53, SparseHead, sparseHeadOut, dropIsolated, type OutputShape, type SparseVariant } from './sparse-blocks.js';
import { INPUT, checkTopology, runTopology, type Topology } from './topology.js';

export { scaled, ConvBNLeaky, SamePool } from './blocks.js';
export type Variant = 'yolov3' | 'yolov3-tiny' | SparseVariant;
export const variants: readonly Variant[] = ['yolov3', 'yolov3-tiny', 'sparse-yolov3', 'sparse-yolov3-tiny'];
export const isSparse = (v: Variant): v is SparseVariant => v.startsWith('sparse-');
/** Head count: 3 for YOLOv3 (strides 32, 16, 8), 2 for the tiny network (32, 16). */
export const scalesOf = (v: Variant): number => (v.endsWith('tiny') ? 2 : 3);

export interface YoloConfig {
  variant: Variant;
  /** Image channels (1 for ADC integral; 3 with peak ADC and time over threshold, or RGB). */
  inChannels: number;
  numClasses: number;
  /** Anchors per head (3 for both variants, as keras-yolo3). */
  anchorsPerScale: number;
  /** Channel-width multiplier: 1 is the published network, 0.25 a quarter of every width. */
  width: number;
  /**
   * BN momentum in PyTorch's convention (Keras 0.99 ≡ 0.01). Default 0.1: with Keras' 0.01 the
   * running statistics lag the weights for thousands of steps, and eval-mode outputs of a short
   * run are garbage (measured: objectness 0.01 in eval mode vs 0.99 in train mode after 300 steps).
   */
  bnMomentum: number;
  /** Store convolution weights and activations NHWC (oneDNN's fast CPU path). */
  channelsLast: boolean;
  /**
   * Drop pixels with no other active pixel within this many channels and ticks before the
   * network (0 = keep all): DUNE's trigger discards such isolated TPs (mostly ³⁹Ar and noise).
   */
  isolatedRadius: number;
  /**
   * sparse-yolov3 only: how many of each head's two 3×3 trunk convs (0–2, first first) grow the
   * active set by one cell each way, as the head's output block already does. A dense head sees
   * across the gaps between TP clusters (its zeros become BN-shifted features); a submanifold one
   * sees each cluster alone until a strided conv merges them, which is where the sparse network
   * loses its positives at stride 8 (docs/engine.md, "Accuracy parity"). Same parameters either way.
   */
  growTrunk: number;
  /**
   * sparse-yolov3 only: how many of the backbone's five stages (0–5, the finest first) grow their
   * downsampling conv's output sites a cell each way, so the stage's residual blocks compute on a
   * halo around every cluster as a dense network computes on every cell. Growth compounds: three
   * stages leave the stride-8 map about two cells wider round each cluster. Same parameters
   * either way (docs/engine.md, "Growing the early stages").
   */
  growStages: number;
}

export const defaultYoloConfig: YoloConfig = {
  variant: 'yolov3',
  inChannels: 1,
  numClasses: 1,
  anchorsPerScale: 3,
  width: 1,
  bnMomentum: 0.1,
  channelsLast: true,
  isolatedRadius: 0,
  growTrunk: 0,
  growStages: 0,
};

/** The raw head outputs, coarse first: [B, A·(5+C), H/32, W/32], then /16, then /8. */
export type HeadOutputs = Tensor[];

/**
 * keras-yolo3 yolo_body: Darknet-53, then per head a trunk whose output feeds the head's `out`
 * and, through a 1×1 conv and ×2 upsampling, the next finer head (joined with the backbone's
 * stride-16, then stride-8 map). The dense and the sparse YOLOv3 both run this.
 */
export const YOLOV3_TOPOLOGY: Topology = {
  nodes: [
    { id: 'stem', module: 'backbone.stem', from: INPUT },
    { id: 's2', module: 'backbone.stages.0', from: 'stem' },
    { id: 's4', module: 'backbone.stages.1', from: 's2' },
    { id: 'f8', module: 'backbone.stages.2', from: 's4' },
    { id: 'f16', module: 'backbone.stages.3', from: 'f8' },
    { id: 'f32', module: 'backbone.stages.4', from: 'f16' },
    { id: 't1', module: 'head1.trunk', from: 'f32' },
    { id: 'y1', head: 'head1.out', from: 't1' },
    { id: 'u1', module: 'up1', from: 't1' },
    { id: 'route1', concat: ['u1', 'f16'] },
    { id: 't2', module: 'head2.trunk', from: 'route1' },
    { id: 'y2', head: 'head2.out', from: 't2' },
    { id: 'u2', module: 'up2', from: 't2' },
    { id: 'route2', concat: ['u2', 'f8'] },
    { id: 't3', module: 'head3.trunk', from: 'route2' },
    { id: 'y3', head: 'head3.out', from: 't3' },
  ],
  outputs: ['y1', 'y2', 'y3'],
};

/**
 * keras-yolo3 tiny_yolo_body: `trunk1` down to stride 16, `trunk2` to stride 32 → head `out1`;
 * `up` from trunk2's output, joined with trunk1's → head `out2`. `densifyAt16`: trunk1 is sparse
 * and the rest dense (the hybrid sparse tiny network).
 */
export function tinyTopology(densifyAt16 = false): Topology {
  const x1 = densifyAt16 ? 'x1dense' : 'x1';
  return {
    nodes: [
      { id: 'x1', module: 'trunk1', from: INPUT },
      ...(densifyAt16 ? [{ id: 'x1dense', densify: 'x1' }] : []),
      { id: 'x2', module: 'trunk2', from: x1 },
      { id: 'y1', head: 'out1', from: 'x2' },
      { id: 'u', module: 'up', from: 'x2' },
      { id: 'route', concat: ['u', x1] },
      { id: 'y2', head: 'out2', from: 'route' },
    ],
    outputs: ['y1', 'y2'],
  };
}

/**
 * The YOLOv3 family. Each variant is a subclass that registers its blocks (in darknet cfg order:
 * the Darknet writer relies on it) and names its topology; this class runs that topology on
 * dense or sparse input, and reports FLOPs.
 */
export abstract class YoloV3 extends Module {
  readonly config: YoloConfig;
  abstract readonly strides: number[];
  abstract readonly topology: Topology;
  /** True for the variants that run sparse convolutions (forward converts dense input). */
  abstract readonly sparse: boolean;

  constructor(config: Partial<YoloConfig>) {
    super();
    this.config = { ...defaultYoloConfig, ...config };
  }

  /** Scaled widths, BN momentum and head filters for the subclasses' constructors. */
  protected get dims(): { c: (n: number) => number; m: number; out: OutputShape; filters: number } {
    const cfg = this.config;
    const out = { anchors: cfg.anchorsPerScale, perAnchor: 5 + cfg.numClasses };
    return { c: (n) => scaled(n, cfg.width), m: cfg.bnMomentum, out, filters: out.anchors * out.perAnchor };
  }

  /** The subclasses' last constructor step: check the wiring, store NHWC if configured. */
  protected finish(): void {
    checkTopology(this.topology, this);
    if (this.config.channelsLast) this.toChannelsLast();
  }

  get numScales(): number {
    return this.strides.length;
  }

  /** Stores every conv weight NHWC; forward then feeds NHWC activations (faster on oneDNN). */
  toChannelsLast(): void {
    for (const [, mod] of this.namedModules()) if (mod instanceof Conv2d) mod.toChannelsLast();
  }

  /**
   * x: dense [B, C, H, W] or a sparse batch, H and W multiples of 32. Returns the raw head
   * outputs, coarse first (dense maps for every variant).
   */
  forward(x: Tensor | SparseTensor): HeadOutputs {
    const [ch, hgt, wid] = x instanceof SparseTensor ? [x.channels, x.grid.height, x.grid.width] : (x.shape.slice(1) as [number, number, number]);
    if (ch !== this.config.inChannels) throw new Error(`model expects ${this.config.inChannels} input channels, got ${ch}`);
    if (hgt % 32 || wid % 32) throw new Error(`input size ${hgt}×${wid} is not a multiple of 32`);
    const run = (input: Tensor | SparseTensor) => runTopology(this.topology, this, input);
    const radius = this.config.isolatedRadius;
    if (this.sparse || radius > 0) {
      // The sites, rulebooks and coarser grids made here are freed on return (autograd keeps
      // the index tensors backward needs); a caller's sparse batch stays the caller's.
      const given = x instanceof SparseTensor ? x : null;
      const made: SparseTensor[] = [];
      const input = given ?? made[made.push(SparseTensor.fromDense(x as Tensor)) - 1]!;
      const kept = radius > 0 ? made[made.push(dropIsolated(input, radius)) - 1]! : input;
      try {
        if (this.sparse) return run(kept);
        const d = kept.dense();
        const y = run(d);
        d.dispose();
        return y;
      } finally {
        dispose(made);
      }
    }
    if (x instanceof SparseTensor) {
      const d = x.dense();
      const y = run(d);
      d.dispose();
      return y;
    }
    if (this.config.channelsLast && !x.isContiguous('channels_last')) {
      const xl = x.contiguous('channels_last');
      const y = run(xl);
      xl.dispose();
      return y;
    }
    return run(x);
  }

  /** Multiply-accumulate count of one forward pass ×2 (FLOP, as darknet reports), per image. */
  flops(height: number, width: number): number {
    return noGrad(() => countConvFlops(this, height, width));
  }
}

/** YOLOv3 (`yolov3`): Darknet-53 and three dense heads. */
export class DarknetYoloV3 extends YoloV3 {
  readonly strides = [32, 16, 8];
  readonly topology = YOLOV3_TOPOLOGY;
  readonly sparse = false;
  constructor(config: Partial<YoloConfig> = {}) {
    super({ ...config, variant: 'yolov3' });
    const { c, m, filters } = this.dims;
    const backbone = this.registerModule('backbone', new Darknet53(this.config.inChannels, c, m));
    const [c8, c16, c32] = backbone.channels.slice(2) as [number, number, number];
    this.registerModule('head1', new Head(c32, c(512), filters, m));
    this.registerModule('up1', upRoute(c(512), c(256), m));
    this.registerModule('head2', new Head(c(256) + c16, c(256), filters, m));
    this.registerModule('up2', upRoute(c(256), c(128), m));
    this.registerModule('head3', new Head(c(128) + c8, c(128), filters, m));
    this.finish();
  }
}

/** YOLOv3-tiny (`yolov3-tiny`): keras-yolo3's tiny network, two dense heads. */
export class TinyYoloV3 extends YoloV3 {
  readonly strides = [32, 16];
  readonly topology = tinyTopology();
  readonly sparse = false;
  constructor(config: Partial<YoloConfig> = {}) {
    super({ ...config, variant: 'yolov3-tiny' });
    const { c, m, filters } = this.dims;
    const conv = (a: number, b: number, k: number) => new ConvBNLeaky(a, b, k, 1, m);
    const pool = () => new MaxPool2d(2, 2);
    this.registerModule(
      'trunk1',
      new Sequential(
        conv(this.config.inChannels, c(16), 3),
        pool(),
        conv(c(16), c(32), 3),
        pool(),
        conv(c(32), c(64), 3),
        pool(),
        conv(c(64), c(128), 3),
        pool(),
        conv(c(128), c(256), 3),
      ),
    );
    denseTinyTail((n, mod) => this.registerModule(n, mod), c, filters, m);
    this.finish();
  }
}

/** Sparse YOLOv3 (`sparse-yolov3`): sparse from the input pixels to the three heads' output convs. */
export class SparseYoloV3 extends YoloV3 {
  readonly strides = [32, 16, 8];
  readonly topology = YOLOV3_TOPOLOGY;
  readonly sparse = true;
  constructor(config: Partial<YoloConfig> = {}) {
    super({ ...config, variant: 'sparse-yolov3' });
    const { c, m, out } = this.dims;
    const grow = this.config.growTrunk;
    const cbl = (a: number, b: number) => new SparseConvBNLeaky(a, b, 1, 1, m);
    const backbone = this.registerModule('backbone', new SparseDarknet53(this.config.inChannels, c, m, this.config.growStages));
    const [c8, c16, c32] = backbone.channels.slice(2) as [number, number, number];
    this.registerModule('head1', new SparseHead(c32, c(512), out, m, grow));
    // No upsampling layer: the concatenation upsamples onto the finer map's sites (topology.ts).
    this.registerModule('up1', new SparseSequential(cbl(c(512), c(256))));
    this.registerModule('head2', new SparseHead(c(256) + c16, c(256), out, m, grow));
    this.registerModule('up2', new SparseSequential(cbl(c(256), c(128))));
    this.registerModule('head3', new SparseHead(c(128) + c8, c(128), out, m, grow));
    this.finish();
  }
}

export interface SparseTinyOptions {
  /**
   * The stride from which the network is dense: 16 (default) densifies after trunk1 (30² cells at
   * 480 px; the stride-16/32 maps are 20–60 % occupied, where dense GEMMs cost little more than
   * sparse ones, and the fully sparse network's objectness at true boxes stayed below the dense
   * one's: README, "Sparse vs dense"); Infinity is sparse down to the heads.
   */
  denseFrom: number;
}

/** Sparse YOLOv3-tiny (`sparse-yolov3-tiny`): sparse to stride 16, then the dense tiny network (or sparse throughout). */
export class SparseTinyYoloV3 extends YoloV3 {
  readonly strides = [32, 16];
  readonly topology: Topology;
  readonly sparse = true;
  constructor(config: Partial<YoloConfig> = {}, o: SparseTinyOptions = { denseFrom: 16 }) {
    super({ ...config, variant: 'sparse-yolov3-tiny' });
    const { c, m, out, filters } = this.dims;
    const cbl = (a: number, b: number, k: number) => new SparseConvBNLeaky(a, b, k, 1, m);
    const pool = () => new SparseMaxPool2d(2, { stride: 2 });
    this.registerModule(
      'trunk1',
      new SparseSequential(
        cbl(this.config.inChannels, c(16), 3),
        pool(),
        cbl(c(16), c(32), 3),
        pool(),
        cbl(c(32), c(64), 3),
        pool(),
        cbl(c(64), c(128), 3),
        pool(),
        cbl(c(128), c(256), 3),
      ),
    );
    const hybrid = o.denseFrom <= 16;
    this.topology = tinyTopology(hybrid);
    if (hybrid) denseTinyTail((n, mod) => this.registerModule(n, mod), c, filters, m);
    else {
      this.registerModule(
        'trunk2',
        new SparseSequential(pool(), cbl(c(256), c(512), 3), new SparseMaxPool2d(2, { submanifold: true }), cbl(c(512), c(1024), 3), cbl(c(1024), c(256), 1)),
      );
      this.registerModule('out1', sparseHeadOut(c(256), c(512), out, m));
      this.registerModule('up', new SparseSequential(cbl(c(256), c(128), 1)));
      this.registerModule('out2', sparseHeadOut(c(128) + c(256), c(256), out, m));
    }
    this.finish();
  }
}

/** The network of a config's variant. */
export function createYolo(config: Partial<YoloConfig> = {}): YoloV3 {
  const variant = config.variant ?? defaultYoloConfig.variant;
  const grow = config.growTrunk ?? 0;
  if (!(Number.isInteger(grow) && grow >= 0 && grow <= 2)) throw new Error(`model.growTrunk ${grow}: 0, 1 or 2 (3×3 trunk convs per head)`);
  if (grow > 0 && variant !== 'sparse-yolov3')
    throw new Error(`model.growTrunk ${grow}: only sparse-yolov3 has sparse head trunks to grow (the variant is ${variant})`);
  const stages = config.growStages ?? 0;
  if (!(Number.isInteger(stages) && stages >= 0 && stages <= 5)) throw new Error(`model.growStages ${stages}: 0 to 5 (backbone stages, the finest first)`);
  if (stages > 0 && variant !== 'sparse-yolov3')
    throw new Error(`model.growStages ${stages}: only sparse-yolov3 has a sparse backbone whose stages grow (the variant is ${variant})`);
  switch (variant) {
    case 'yolov3':
      return new DarknetYoloV3(config);
    case 'yolov3-tiny':
      return new TinyYoloV3(config);
    case 'sparse-yolov3':
      return new SparseYoloV3(config);
    case 'sparse-yolov3-tiny':
      return new SparseTinyYoloV3(config);
    default:
      throw new Error(`unknown model variant '${variant as string}' (one of ${variants.join(', ')})`);
  }
}

/** Convolution FLOPs (2 × MAC) found by running a 1-image forward with hooks on sizes. */
function countConvFlops(model: YoloV3, height: number, width: number): number {
  let flops = 0;
  const convs: Conv2d[] = [];
  for (const [, m] of model.namedModules()) if (m instanceof Conv2d) convs.push(m);
  const originals = convs.map((c) => c.forward.bind(c));
  convs.forEach((c, i) => {
    c.forward = (x: Tensor) => {
      const y = originals[i]!(x);
      const [, cout, ho, wo] = y.shape as [number, number, number, number];
      const [, cin, kh, kw] = c.weight.shape as [number, number, number, number];
      flops += 2 * cout * ho * wo * cin * kh * kw;
      return y;
    };
  });
  try {
    const wasTraining = model.training;
    model.eval();
    const x = zeros([1, model.config.inChannels, height, width]);
    const ys = model.forward(x);
    x.dispose();
    for (const y of ys) y.dispose();
    model.train(wasTraining);
  } finally {
    convs.forEach((c) => {
      delete (c as { forward?: unknown }).forward;
    });
  }
  return flops;
}
