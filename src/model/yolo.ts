// The YOLOv3 network of the seed (keras-yolo3 topology): Darknet-53 backbone, three heads
// (coarse stride 32 first, then 16, then 8), nearest ×2 upsampling, BN eps 1e-3, LeakyReLU 0.1,
// zero padding left/top before stride-2 convolutions. A lighter YOLOv3-tiny variant has two
// heads (strides 32 and 16). Channel widths scale by `width` for fast CPU work. The sparse-*
// variants are the same networks on sparse convolutions (sparse-yolo.ts), with the same
// parameter names, head maps, loss and decoding.
import { Tensor, SparseTensor, cat, dispose, noGrad, zeros } from '../torch/index.js';
import { buildSparseYolo, dropIsolated, type SparseVariant } from './sparse-yolo.js';
import { Module, Layer, Conv2d, BatchNorm2d, LeakyReLU, ZeroPad2d, MaxPool2d, Upsample, Sequential, ModuleList } from '../nn/index.js';
import { functional as F } from '../torch/index.js';

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
}

export const defaultYoloConfig: YoloConfig = {
  variant: 'yolov3', inChannels: 1, numClasses: 1, anchorsPerScale: 3, width: 1, bnMomentum: 0.1, channelsLast: true, isolatedRadius: 0,
};

/** Scaled channel count: at least 1. */
export const scaled = (c: number, width: number): number => Math.max(1, Math.round(c * width));

/** Conv (no bias) + BN (eps 1e-3) + LeakyReLU(0.1); stride-2 convs get keras' ((1,0),(1,0)) pad. */
export class ConvBNLeaky extends Sequential {
  readonly conv: Conv2d;
  constructor(cin: number, cout: number, k: number, stride = 1, bnMomentum = 0.1) {
    super();
    const pad = stride === 1 ? Math.floor(k / 2) : 0; // 'same' for stride 1, 'valid' after explicit pad
    if (stride === 2) this.append(new ZeroPad2d([1, 0, 1, 0]));
    this.conv = new Conv2d(cin, cout, k, { stride, padding: pad, bias: false });
    this.append(this.conv);
    this.append(new BatchNorm2d(cout, { eps: 1e-3, momentum: bnMomentum }));
    this.append(new LeakyReLU(0.1));
  }
}

/** Two convs (1×1 halving, 3×3 restoring) with a residual connection. */
class Residual extends Layer {
  readonly body: Sequential;
  constructor(c: number, m: number) {
    super();
    this.body = this.registerModule('body', new Sequential(new ConvBNLeaky(c, Math.max(1, Math.floor(c / 2)), 1, 1, m), new ConvBNLeaky(Math.max(1, Math.floor(c / 2)), c, 3, 1, m)));
  }
  forward(x: Tensor): Tensor {
    const y = this.body.forward(x);
    const out = x.add(y);
    y.dispose();
    return out;
  }
}

/** Darknet-53: stem + five downsampling stages of 1, 2, 8, 8, 4 residual blocks. */
class Darknet53 extends Module {
  readonly stem: ConvBNLeaky;
  readonly stages: ModuleList<Sequential>;
  readonly channels: number[];
  constructor(cin: number, w: number, m: number) {
    super();
    const c = (n: number) => scaled(n, w);
    this.stem = this.registerModule('stem', new ConvBNLeaky(cin, c(32), 3, 1, m));
    this.stages = this.registerModule('stages', new ModuleList<Sequential>());
    this.channels = [];
    let prev = c(32);
    for (const [filters, blocks] of [[64, 1], [128, 2], [256, 8], [512, 8], [1024, 4]] as const) {
      const s = new Sequential(new ConvBNLeaky(prev, c(filters), 3, 2, m));
      for (let i = 0; i < blocks; i++) s.append(new Residual(c(filters), m));
      this.stages.append(s);
      this.channels.push(c(filters));
      prev = c(filters);
    }
  }
  /** Returns the stride-8, stride-16 and stride-32 feature maps. */
  forward(x: Tensor): [Tensor, Tensor, Tensor] {
    let cur = this.stem.forward(x);
    const outs: Tensor[] = [];
    for (let i = 0; i < this.stages.length; i++) {
      const next = this.stages.at(i).forward(cur);
      if (i < 3) cur.dispose(); // stage outputs 2 (stride 8) and 3 (stride 16) are kept for the heads
      cur = next;
      if (i >= 2) outs.push(cur);
    }
    return outs as [Tensor, Tensor, Tensor];
  }
}

/** keras-yolo3 make_last_layers: five alternating convs → x, then 3×3 conv + 1×1 output conv → y. */
class Head extends Module {
  readonly trunk: Sequential;
  readonly out: Sequential;
  constructor(cin: number, nf: number, outFilters: number, m: number) {
    super();
    this.trunk = this.registerModule('trunk', new Sequential(
      new ConvBNLeaky(cin, nf, 1, 1, m), new ConvBNLeaky(nf, nf * 2, 3, 1, m), new ConvBNLeaky(nf * 2, nf, 1, 1, m),
      new ConvBNLeaky(nf, nf * 2, 3, 1, m), new ConvBNLeaky(nf * 2, nf, 1, 1, m)));
    this.out = this.registerModule('out', new Sequential(new ConvBNLeaky(nf, nf * 2, 3, 1, m), new Conv2d(nf * 2, outFilters, 1)));
  }
}

/** The raw head outputs, coarse first: [B, A·(5+C), H/32, W/32], then /16, then /8. */
export type HeadOutputs = Tensor[];

export class YoloV3 extends Module {
  readonly config: YoloConfig;
  readonly strides: number[];
  #forward: (x: Tensor) => HeadOutputs;
  #sparseForward: ((x: SparseTensor) => HeadOutputs) | null = null;

  constructor(config: Partial<YoloConfig> = {}) {
    super();
    const cfg = { ...defaultYoloConfig, ...config };
    this.config = cfg;
    const out = cfg.anchorsPerScale * (5 + cfg.numClasses);
    const m = cfg.bnMomentum;
    const c = (n: number) => scaled(n, cfg.width);
    if (isSparse(cfg.variant)) {
      const built = buildSparseYolo({ register: (name, mod) => this.registerModule(name, mod) }, cfg.variant, cfg.inChannels, c,
        { anchors: cfg.anchorsPerScale, perAnchor: 5 + cfg.numClasses }, m);
      this.strides = built.strides;
      this.#sparseForward = built.forward;
      this.#forward = () => { throw new Error('unreachable'); };
    } else if (cfg.variant === 'yolov3') {
      const backbone = this.registerModule('backbone', new Darknet53(cfg.inChannels, cfg.width, m));
      const [c8, c16, c32] = backbone.channels.slice(2) as [number, number, number];
      const head1 = this.registerModule('head1', new Head(c32, c(512), out, m));
      const up1 = this.registerModule('up1', new Sequential(new ConvBNLeaky(c(512), c(256), 1, 1, m), new Upsample(2)));
      const head2 = this.registerModule('head2', new Head(c(256) + c16, c(256), out, m));
      const up2 = this.registerModule('up2', new Sequential(new ConvBNLeaky(c(256), c(128), 1, 1, m), new Upsample(2)));
      const head3 = this.registerModule('head3', new Head(c(128) + c8, c(128), out, m));
      this.strides = [32, 16, 8];
      this.#forward = (x) => {
        const [f8, f16, f32] = backbone.forward(x);
        const y: Tensor[] = [];
        let t = head1.trunk.forward(f32);
        f32.dispose();
        y.push(head1.out.forward(t));
        const u1 = up1.forward(t);
        t.dispose();
        const j1 = cat([u1, f16], 1);
        u1.dispose(); f16.dispose();
        t = head2.trunk.forward(j1);
        j1.dispose();
        y.push(head2.out.forward(t));
        const u2 = up2.forward(t);
        t.dispose();
        const j2 = cat([u2, f8], 1);
        u2.dispose(); f8.dispose();
        t = head3.trunk.forward(j2);
        j2.dispose();
        y.push(head3.out.forward(t));
        t.dispose();
        return y;
      };
    } else {
      // keras-yolo3 tiny_yolo_body.
      const conv = (a: number, b: number, k: number) => new ConvBNLeaky(a, b, k, 1, m);
      const pool = () => new MaxPool2d(2, 2);
      const trunk1 = this.registerModule('trunk1', new Sequential(
        conv(cfg.inChannels, c(16), 3), pool(), conv(c(16), c(32), 3), pool(), conv(c(32), c(64), 3), pool(),
        conv(c(64), c(128), 3), pool(), conv(c(128), c(256), 3)));
      const trunk2 = this.registerModule('trunk2', new Sequential(
        pool(), conv(c(256), c(512), 3), new SamePool(), conv(c(512), c(1024), 3), conv(c(1024), c(256), 1)));
      const out1 = this.registerModule('out1', new Sequential(conv(c(256), c(512), 3), new Conv2d(c(512), out, 1)));
      const up = this.registerModule('up', new Sequential(conv(c(256), c(128), 1), new Upsample(2)));
      const out2 = this.registerModule('out2', new Sequential(conv(c(128) + c(256), c(256), 3), new Conv2d(c(256), out, 1)));
      this.strides = [32, 16];
      this.#forward = (x) => {
        const x1 = trunk1.forward(x);
        const x2 = trunk2.forward(x1);
        const y1 = out1.forward(x2);
        const u = up.forward(x2);
        x2.dispose();
        const j = cat([u, x1], 1);
        u.dispose(); x1.dispose();
        const y2 = out2.forward(j);
        j.dispose();
        return [y1, y2];
      };
    }
    if (cfg.channelsLast) this.toChannelsLast();
  }

  get numScales(): number {
    return this.strides.length;
  }

  /** Stores every conv weight NHWC; forward then feeds NHWC activations (faster on oneDNN). */
  toChannelsLast(): void {
    for (const [, mod] of this.namedModules()) if (mod instanceof Conv2d) mod.toChannelsLast();
  }

  get sparse(): boolean {
    return this.#sparseForward !== null;
  }

  /**
   * x: dense [B, C, H, W] or a sparse batch, H and W multiples of 32. Returns the raw head
   * outputs, coarse first (dense maps for every variant).
   */
  forward(x: Tensor | SparseTensor): HeadOutputs {
    const [ch, hgt, wid] = x instanceof SparseTensor ? [x.channels, x.grid.height, x.grid.width] : (x.shape.slice(1) as [number, number, number]);
    if (ch !== this.config.inChannels) throw new Error(`model expects ${this.config.inChannels} input channels, got ${ch}`);
    if (hgt % 32 || wid % 32) throw new Error(`input size ${hgt}×${wid} is not a multiple of 32`);
    const radius = this.config.isolatedRadius;
    if (this.#sparseForward || radius > 0) {
      // The sites, rulebooks and coarser grids made here are freed on return (autograd keeps
      // the index tensors backward needs); a caller's sparse batch stays the caller's.
      const given = x instanceof SparseTensor ? x : null;
      const made: SparseTensor[] = [];
      const input = given ?? made[made.push(SparseTensor.fromDense(x as Tensor)) - 1]!;
      const kept = radius > 0 ? made[made.push(dropIsolated(input, radius)) - 1]! : input;
      try {
        if (this.#sparseForward) return this.#sparseForward(kept);
        const d = kept.dense();
        const y = this.#forward(d);
        d.dispose();
        return y;
      } finally {
        dispose(made);
      }
    }
    if (x instanceof SparseTensor) {
      const d = x.dense();
      const y = this.#forward(d);
      d.dispose();
      return y;
    }
    if (this.config.channelsLast && !x.isContiguous('channels_last')) {
      const xl = x.contiguous('channels_last');
      const y = this.#forward(xl);
      xl.dispose();
      return y;
    }
    return this.#forward(x);
  }

  /** Multiply-accumulate count of one forward pass ×2 (FLOP, as darknet reports), per image. */
  flops(height: number, width: number): number {
    return noGrad(() => countConvFlops(this, height, width));
  }
}

/** keras 'same' max pooling with kernel 2, stride 1: pad right/bottom by replicating the edge. */
export class SamePool extends Layer {
  forward(x: Tensor): Tensor {
    const p = F.pad(x, [0, 1, 0, 1], 'replicate');
    const y = F.maxPool2d(p, 2, { stride: 1 });
    p.dispose();
    return y;
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
    convs.forEach((c) => { delete (c as { forward?: unknown }).forward; });
  }
  return flops;
}
