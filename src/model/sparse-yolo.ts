// The sparse YOLOv3 and YOLOv3-tiny: the dense networks' topology (yolo.ts) on submanifold and
// strided sparse convolutions. Trigger-primitive images are ≥ 99.9 % zeros. YOLOv3 runs sparse
// from the input pixels down to the last head; only the three head outputs are scattered into the
// dense maps the loss, targets and decoding read. YOLOv3-tiny is a hybrid: sparse from the input
// down to its stride-16 layer, then densified (30² cells at 480 px) and the dense network from
// there (`SparseBuildOptions.denseFrom`; Infinity gives the fully sparse tiny network). Every
// parameter has the dense model's name and shape.
//
// The one difference in function from the dense network: a dense layer turns the zeros around a
// blob into BN-shifted non-zeros that spread further at each layer; here inactive sites stay
// empty. At a fully sparse output, an empty cell reads as a zero feature into the last 1×1 conv,
// i.e. its output is that conv's bias (a learnt "nothing here" prior), which keeps the loss well
// defined on every cell.
//
// A box is predicted at the cell holding its centre, and a submanifold network keeps the cells
// it has: only 62 % (stride 16) and 82 % (stride 32) of the boxes' centre cells of simulated
// threshold-12 images are active in the tiny network (52 / 83 / 95 % at strides 8 / 16 / 32 in
// YOLOv3), the others could only ever read the bias. So the 3×3 conv before each sparse output
// conv is a covered-cell ('same', stride 1) convolution that grows the active set by one cell each
// way (90 % at stride 16 in the tiny network; 83 → 92 % at stride 16 in YOLOv3). On today's
// DUNE-scale images (`simulate` defaults, ≈ 120 active pixels per image) 66 % / 77 % of the tiny
// network's stride-16 / 32 centre cells are covered and all of them within one cell
// (`node dist/bench/sparse-diagnose.js`); still, the fully sparse tiny network's validation
// objectness at true boxes stayed below the dense one's (README, "Sparse vs dense"), and the hybrid
// closes that gap at a small cost in speed: the stride-16/32 maps are 20–60 % occupied, where
// dense GEMMs cost little more than sparse ones.
import { Tensor, SparseTensor, SparseGrid, sparseUpsample, densify, cat, noGrad } from '../torch/index.js';
import { Module, BatchNorm2d, LeakyReLU, SparseLayer, SparseSequential, SparseIdentity, SubmanifoldConv2d, SparseConv2d, SparseMaxPool2d, ModuleList, Sequential, MaxPool2d, Upsample, Conv2d } from '../nn/index.js';
// Used inside functions only (yolo.ts imports this module): the dense layers of the hybrid.
import { ConvBNLeaky, SamePool } from './yolo.js';

export type SparseVariant = 'sparse-yolov3' | 'sparse-yolov3-tiny';

/** Conv (no bias) + BN (eps 1e-3) + LeakyReLU(0.1), named as the dense ConvBNLeaky. */
export class SparseConvBNLeaky extends SparseSequential {
  /** grow: a stride-1 conv whose outputs are every cell its windows cover (not only the input's). */
  constructor(cin: number, cout: number, k: number, stride = 1, bnMomentum = 0.1, grow = false) {
    super();
    // keras' ((1,0),(1,0)) zero padding before a stride-2 conv lives in the rulebook (padding 1
    // above/left); the placeholder keeps the dense layer indices (and so the parameter names).
    if (stride === 2) this.append(new SparseIdentity());
    const pad = Math.floor(k / 2);
    this.append(stride === 2 ? new SparseConv2d(cin, cout, k, { stride: 2, padding: 1, bias: false })
      : grow ? new SparseConv2d(cin, cout, k, { stride: 1, padding: pad, same: true, bias: false })
      : new SubmanifoldConv2d(cin, cout, k, { bias: false }));
    this.append(new BatchNorm2d(cout, { eps: 1e-3, momentum: bnMomentum }));
    this.append(new LeakyReLU(0.1));
  }
}

class SparseResidual extends SparseLayer {
  readonly body: SparseSequential;
  constructor(c: number, m: number) {
    super();
    const h = Math.max(1, Math.floor(c / 2));
    this.body = this.registerModule('body', new SparseSequential(new SparseConvBNLeaky(c, h, 1, 1, m), new SparseConvBNLeaky(h, c, 3, 1, m)));
  }
  forward(x: SparseTensor): SparseTensor {
    const y = this.body.forward(x);
    const out = x.withFeatures(x.features.add(y.features));
    y.dispose();
    return out;
  }
}

class SparseDarknet53 extends Module {
  readonly stem: SparseConvBNLeaky;
  readonly stages: ModuleList<SparseSequential>;
  readonly channels: number[] = [];
  constructor(cin: number, c: (n: number) => number, m: number) {
    super();
    this.stem = this.registerModule('stem', new SparseConvBNLeaky(cin, c(32), 3, 1, m));
    this.stages = this.registerModule('stages', new ModuleList<SparseSequential>());
    let prev = c(32);
    for (const [filters, blocks] of [[64, 1], [128, 2], [256, 8], [512, 8], [1024, 4]] as const) {
      const s = new SparseSequential(new SparseConvBNLeaky(prev, c(filters), 3, 2, m));
      for (let i = 0; i < blocks; i++) s.append(new SparseResidual(c(filters), m));
      this.stages.append(s);
      this.channels.push(c(filters));
      prev = c(filters);
    }
  }
  forward(x: SparseTensor): [SparseTensor, SparseTensor, SparseTensor] {
    let cur = this.stem.forward(x);
    const outs: SparseTensor[] = [];
    for (let i = 0; i < this.stages.length; i++) {
      const next = this.stages.at(i).forward(cur);
      if (i < 3 && cur !== x) cur.dispose();
      cur = next;
      if (i >= 2) outs.push(cur);
    }
    return outs as [SparseTensor, SparseTensor, SparseTensor];
  }
}

/**
 * A head's output conv: 1×1 with bias, read out densely (empty cells give the bias). Most cells
 * are empty and read only the bias, so its objectness entries start at the prior logit
 * log(π/(1−π)), π = 0.01 (RetinaNet's prior, Lin et al. 2017): from 0, every empty cell starts
 * at objectness 0.5, and Adam moves a bias by about lr per step, so the no-object loss stays
 * huge for thousands of steps (measured: validation conf2 123 vs the dense model's 1.1 after
 * one epoch).
 */
class SparseOutput extends SubmanifoldConv2d {
  constructor(cin: number, anchors: number, perAnchor: number) {
    super(cin, anchors * perAnchor, 1);
    const prior = Math.log(0.01 / 0.99);
    noGrad(() => { for (let a = 0; a < anchors; a++) this.bias!.narrow(0, a * perAnchor + 4, 1).fill_(prior); });
  }
  /** [B, outChannels, H, W] at the grid's resolution. */
  dense(x: SparseTensor): Tensor {
    const y = this.forward(x);
    const b = this.bias!;
    const shifted = y.features.sub(b);
    y.dispose();
    const d = densify(shifted, y.grid);
    shifted.dispose();
    const bias4 = b.view(1, -1, 1, 1);
    const out = d.add(bias4);
    d.dispose(); bias4.dispose();
    return out;
  }
}

class SparseHead extends Module {
  readonly trunk: SparseSequential;
  readonly out: SparseSequential;
  readonly output: SparseOutput;
  constructor(cin: number, nf: number, out: OutputShape, m: number) {
    super();
    const cbl = (a: number, b: number, k: number) => new SparseConvBNLeaky(a, b, k, 1, m);
    this.trunk = this.registerModule('trunk', new SparseSequential(cbl(cin, nf, 1), cbl(nf, nf * 2, 3), cbl(nf * 2, nf, 1), cbl(nf, nf * 2, 3), cbl(nf * 2, nf, 1)));
    this.output = new SparseOutput(nf * 2, out.anchors, out.perAnchor);
    this.out = this.registerModule('out', new SparseSequential(new SparseConvBNLeaky(nf, nf * 2, 3, 1, m, true), this.output));
  }
  /** The dense head map of the trunk's output t. */
  predict(t: SparseTensor): Tensor {
    const h = (this.out.layers[0] as SparseLayer).forward(t);
    const y = this.output.dense(h);
    h.dispose();
    return y;
  }
}

/** Nearest ×2 upsampling onto the finer grid's sites, then the channel concatenation with it. */
function upAndJoin(coarse: SparseTensor, fine: SparseTensor): SparseTensor {
  const u = sparseUpsample(coarse, fine.grid, 2);
  const j = fine.withFeatures(cat([u.features, fine.features], 1));
  u.dispose();
  return j;
}

/** Head map channels: anchors × (5 + classes), anchor-major, objectness at 4 of each anchor. */
export interface OutputShape { anchors: number; perAnchor: number }

export interface SparseBuildOptions {
  /**
   * The stride from which the network is dense (the sparse map is densified there): 16 for the
   * tiny network by default (see the file comment), Infinity for sparse down to the heads.
   * YOLOv3 is sparse throughout whatever the value.
   */
  denseFrom: number;
}
export const defaultSparseBuild = (variant: SparseVariant): SparseBuildOptions => ({ denseFrom: variant === 'sparse-yolov3-tiny' ? 16 : Infinity });

/** Builds the sparse network; returns the forward pass from a sparse batch to the head maps, coarse first. */
export function buildSparseYolo(owner: { register: <M extends Module>(name: string, m: M) => M }, variant: SparseVariant, cin: number, c: (n: number) => number, out: OutputShape, m: number,
  o: SparseBuildOptions = defaultSparseBuild(variant)): { strides: number[]; forward: (x: SparseTensor) => Tensor[] } {
  const cbl = (a: number, b: number, k: number, s = 1) => new SparseConvBNLeaky(a, b, k, s, m);
  if (variant === 'sparse-yolov3') {
    const backbone = owner.register('backbone', new SparseDarknet53(cin, c, m));
    const [c8, c16, c32] = backbone.channels.slice(2) as [number, number, number];
    const head1 = owner.register('head1', new SparseHead(c32, c(512), out, m));
    const up1 = owner.register('up1', new SparseSequential(cbl(c(512), c(256), 1)));
    const head2 = owner.register('head2', new SparseHead(c(256) + c16, c(256), out, m));
    const up2 = owner.register('up2', new SparseSequential(cbl(c(256), c(128), 1)));
    const head3 = owner.register('head3', new SparseHead(c(128) + c8, c(128), out, m));
    return {
      strides: [32, 16, 8],
      forward: (x) => {
        const [f8, f16, f32] = backbone.forward(x);
        const y: Tensor[] = [];
        let t = head1.trunk.forward(f32);
        f32.dispose();
        y.push(head1.predict(t));
        let u = up1.forward(t);
        t.dispose();
        let j = upAndJoin(u, f16);
        u.dispose(); f16.dispose();
        t = head2.trunk.forward(j);
        j.dispose();
        y.push(head2.predict(t));
        u = up2.forward(t);
        t.dispose();
        j = upAndJoin(u, f8);
        u.dispose(); f8.dispose();
        t = head3.trunk.forward(j);
        j.dispose();
        y.push(head3.predict(t));
        t.dispose();
        return y;
      },
    };
  }
  // keras-yolo3 tiny_yolo_body, with the dense model's layer indices.
  const pool = () => new SparseMaxPool2d(2, { stride: 2 });
  const trunk1 = owner.register('trunk1', new SparseSequential(
    cbl(cin, c(16), 3), pool(), cbl(c(16), c(32), 3), pool(), cbl(c(32), c(64), 3), pool(),
    cbl(c(64), c(128), 3), pool(), cbl(c(128), c(256), 3)));
  if (o.denseFrom <= 16) {
    // Hybrid: densified at stride 16 (30² cells at 480 px), the dense network from there on.
    const tail = denseTinyTail(owner, c, out, m);
    return { strides: [32, 16], forward: (x) => { const s = trunk1.forward(x); const x1 = toDenseInput(s, x); return tail(x1); } };
  }
  const trunk2 = owner.register('trunk2', new SparseSequential(
    pool(), cbl(c(256), c(512), 3), new SparseMaxPool2d(2, { submanifold: true }), cbl(c(512), c(1024), 3), cbl(c(1024), c(256), 1)));
  const out1Output = new SparseOutput(c(512), out.anchors, out.perAnchor);
  const grow = (a: number, b: number) => new SparseConvBNLeaky(a, b, 3, 1, m, true);
  const out1 = owner.register('out1', new SparseSequential(grow(c(256), c(512)), out1Output));
  const up = owner.register('up', new SparseSequential(cbl(c(256), c(128), 1)));
  const out2Output = new SparseOutput(c(256), out.anchors, out.perAnchor);
  const out2 = owner.register('out2', new SparseSequential(grow(c(128) + c(256), c(256)), out2Output));
  const predict = (seq: SparseSequential, o: SparseOutput, t: SparseTensor): Tensor => {
    const h = (seq.layers[0] as SparseLayer).forward(t);
    const y = o.dense(h);
    h.dispose();
    return y;
  };
  return {
    strides: [32, 16],
    forward: (x) => tinyHeads(trunk1.forward(x), {
      trunk2: (t) => trunk2.forward(t), head1: (t) => predict(out1, out1Output, t), up: (t) => up.forward(t), join: upAndJoin, head2: (t) => predict(out2, out2Output, t),
    }),
  };
}

/** The tiny network from its stride-16 map x1 (freed): trunk2 → coarse head; up, joined with x1 → intermediate head. */
function tinyHeads<T extends { dispose(): void }>(x1: T, l: { trunk2: (x: T) => T; head1: (x: T) => Tensor; up: (x: T) => T; join: (u: T, x1: T) => T; head2: (x: T) => Tensor }): Tensor[] {
  const x2 = l.trunk2(x1);
  const y1 = l.head1(x2);
  const u = l.up(x2);
  x2.dispose();
  const j = l.join(u, x1);
  u.dispose(); x1.dispose();
  const y2 = l.head2(j);
  j.dispose();
  return [y1, y2];
}

/** A sparse stage's output as the dense NHWC input of the dense layers after it (freed unless it is the input). */
function toDenseInput(s: SparseTensor, input: SparseTensor): Tensor {
  const d = s.dense();
  if (s !== input) s.dispose();
  const nhwc = d.contiguous('channels_last');
  if (nhwc !== d) d.dispose();
  return nhwc;
}

/**
 * The dense tiny network after its stride-16 layer (trunk2, out1, up, out2 with the dense
 * model's layers and initialisation): forward from the stride-16 map x1, which it frees.
 */
function denseTinyTail(owner: { register: <M extends Module>(name: string, m: M) => M }, c: (n: number) => number, out: OutputShape, m: number): (x1: Tensor) => Tensor[] {
  const conv = (a: number, b: number, k: number) => new ConvBNLeaky(a, b, k, 1, m);
  const filters = out.anchors * out.perAnchor;
  const trunk2 = owner.register('trunk2', new Sequential(new MaxPool2d(2, 2), conv(c(256), c(512), 3), new SamePool(), conv(c(512), c(1024), 3), conv(c(1024), c(256), 1)));
  const out1 = owner.register('out1', new Sequential(conv(c(256), c(512), 3), new Conv2d(c(512), filters, 1)));
  const up = owner.register('up', new Sequential(conv(c(256), c(128), 1), new Upsample(2)));
  const out2 = owner.register('out2', new Sequential(conv(c(128) + c(256), c(256), 3), new Conv2d(c(256), filters, 1)));
  return (x1) => tinyHeads(x1, {
    trunk2: (t) => trunk2.forward(t), head1: (t) => out1.forward(t), up: (t) => up.forward(t), join: (u, t) => cat([u, t], 1), head2: (t) => out2.forward(t),
  });
}

/**
 * Drops isolated pixels: those with no other active pixel within `radius` channels and ticks
 * (DUNE's trigger does this before clustering: a lone ³⁹Ar or noise TP is not a signal).
 */
export function dropIsolated(x: SparseTensor, radius: number): SparseTensor {
  if (radius <= 0) return x;
  const k = 2 * radius + 1;
  const rb = x.grid.rulebook({ kernel: [k, k], stride: 1, padding: [radius, radius], submanifold: true });
  const neighbours = rb.neighbours.lt(x.grid.size).sum(1);
  const keep = neighbours.gt(1).nonzero().flatten();
  neighbours.dispose();
  const coords = x.grid.coords.indexSelect(0, keep);
  const f = x.features.indexSelect(0, keep.to(x.features.device));
  keep.dispose();
  return new SparseTensor(f, new SparseGrid(coords, x.grid.batch, x.grid.height, x.grid.width));
}
