// The dense building blocks of the YOLOv3 family (keras-yolo3's layers): Conv + BN + LeakyReLU,
// the residual block, Darknet-53's stages, a head's five-conv trunk and its output, the tiny
// network's keras 'same' pool. They hold parameters and run their own insides; how blocks are
// wired into a network is the variant's topology (topology.ts). Channel widths scale by `width`.
import { Tensor } from '../torch/index.js';
import { Module, Layer, Conv2d, BatchNorm2d, LeakyReLU, ZeroPad2d, MaxPool2d, Upsample, Sequential, ModuleList } from '../nn/index.js';
import { functional as F } from '../torch/index.js';

/** Scaled channel count: at least 1. */
export const scaled = (c: number, width: number): number => Math.max(1, Math.round(c * width));

/** Darknet-53's five downsampling stages: (filters, residual blocks). */
export const DARKNET53_STAGES = [
  [64, 1],
  [128, 2],
  [256, 8],
  [512, 8],
  [1024, 4],
] as const;

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
export class Residual extends Layer {
  readonly body: Sequential;
  constructor(c: number, m: number) {
    super();
    this.body = this.registerModule(
      'body',
      new Sequential(new ConvBNLeaky(c, Math.max(1, Math.floor(c / 2)), 1, 1, m), new ConvBNLeaky(Math.max(1, Math.floor(c / 2)), c, 3, 1, m)),
    );
  }
  forward(x: Tensor): Tensor {
    const y = this.body.forward(x);
    const out = x.add(y);
    y.dispose();
    return out;
  }
}

/** Darknet-53: `stem` + `stages.0…4` (1, 2, 8, 8, 4 residual blocks); stages 2, 3, 4 are strides 8, 16, 32. */
export class Darknet53 extends Module {
  readonly stem: ConvBNLeaky;
  readonly stages: ModuleList<Sequential>;
  /** Output channels of each stage. */
  readonly channels: number[] = [];
  constructor(cin: number, c: (n: number) => number, m: number) {
    super();
    this.stem = this.registerModule('stem', new ConvBNLeaky(cin, c(32), 3, 1, m));
    this.stages = this.registerModule('stages', new ModuleList<Sequential>());
    let prev = c(32);
    for (const [filters, blocks] of DARKNET53_STAGES) {
      const s = new Sequential(new ConvBNLeaky(prev, c(filters), 3, 2, m));
      for (let i = 0; i < blocks; i++) s.append(new Residual(c(filters), m));
      this.stages.append(s);
      this.channels.push(c(filters));
      prev = c(filters);
    }
  }
}

/** keras-yolo3 make_last_layers: `trunk` (five alternating convs), then `out` (3×3 conv + 1×1 output conv). */
export class Head extends Module {
  readonly trunk: Sequential;
  readonly out: Sequential;
  constructor(cin: number, nf: number, outFilters: number, m: number) {
    super();
    this.trunk = this.registerModule(
      'trunk',
      new Sequential(
        new ConvBNLeaky(cin, nf, 1, 1, m),
        new ConvBNLeaky(nf, nf * 2, 3, 1, m),
        new ConvBNLeaky(nf * 2, nf, 1, 1, m),
        new ConvBNLeaky(nf, nf * 2, 3, 1, m),
        new ConvBNLeaky(nf * 2, nf, 1, 1, m),
      ),
    );
    this.out = this.registerModule('out', new Sequential(new ConvBNLeaky(nf, nf * 2, 3, 1, m), new Conv2d(nf * 2, outFilters, 1)));
  }
}

/** A 1×1 conv and nearest ×2 upsampling: the route from a coarse head's trunk to the next head. */
export const upRoute = (cin: number, cout: number, m: number): Sequential => new Sequential(new ConvBNLeaky(cin, cout, 1, 1, m), new Upsample(2));

/** keras 'same' max pooling with kernel 2, stride 1: pad right/bottom by replicating the edge. */
export class SamePool extends Layer {
  forward(x: Tensor): Tensor {
    const p = F.pad(x, [0, 1, 0, 1], 'replicate');
    const y = F.maxPool2d(p, 2, { stride: 1 });
    p.dispose();
    return y;
  }
}

/** The tiny network's modules after its stride-16 trunk (`trunk2`, `out1`, `up`, `out2`), dense. */
export interface TinyTail {
  trunk2: Sequential;
  out1: Sequential;
  up: Sequential;
  out2: Sequential;
}

/** Builds the dense tiny tail (keras-yolo3 tiny_yolo_body after its stride-16 layer) in registration order. */
export function denseTinyTail(register: <M extends Module>(name: string, m: M) => M, c: (n: number) => number, filters: number, m: number): TinyTail {
  const conv = (a: number, b: number, k: number) => new ConvBNLeaky(a, b, k, 1, m);
  return {
    trunk2: register(
      'trunk2',
      new Sequential(new MaxPool2d(2, 2), conv(c(256), c(512), 3), new SamePool(), conv(c(512), c(1024), 3), conv(c(1024), c(256), 1)),
    ),
    out1: register('out1', new Sequential(conv(c(256), c(512), 3), new Conv2d(c(512), filters, 1))),
    up: register('up', upRoute(c(256), c(128), m)),
    out2: register('out2', new Sequential(conv(c(128) + c(256), c(256), 3), new Conv2d(c(256), filters, 1))),
  };
}
