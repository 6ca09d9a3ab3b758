// The sparse building blocks of the YOLOv3 family: the dense blocks (blocks.ts) on submanifold
// and strided sparse convolutions, with the dense blocks' parameter names and shapes, so a
// sparse variant's checkpoint has the dense variant's keys. The variants and their wiring are in
// yolo.ts. Trigger-primitive images are ≥ 99.9 % zeros.
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
// (`node dist/bench/sparse-diagnose.js`).
import { Tensor, SparseTensor, SparseGrid, densify, growSites, noGrad, sparseBnLeaky } from '../torch/index.js';
import {
  Module,
  BatchNorm2d,
  LeakyReLU,
  SparseLayer,
  SparseSequential,
  SparseIdentity,
  onFeatures,
  SubmanifoldConv2d,
  SparseConv2d,
  ModuleList,
} from '../nn/index.js';
import { DARKNET53_STAGES } from './blocks.js';

export type SparseVariant = 'sparse-yolov3' | 'sparse-yolov3-tiny';

/**
 * Conv (no bias) + BN (eps 1e-3) + LeakyReLU(0.1), named as the dense ConvBNLeaky. BN and the
 * leaky ReLU run as one native kernel each way (sparseBnLeaky): at the default simulation's
 * occupancy a layer's rows are few and ATen's batch norm, leaky ReLU and their backward cost
 * more than the convolution (docs/engine.md). `fuseBnLeaky = false` runs the two layers (tests
 * compare both); a synchronised batch norm (bn.normalize, data-parallel) always runs unfused.
 */
export class SparseConvBNLeaky extends SparseSequential {
  fuseBnLeaky = true;
  /**
   * Cells each way by which the convolution's output sites grow before BN (growSites): the new
   * sites read zero from the convolution and become BN-shifted features, as in a dense network
   * (model.growStages; 0 keeps the convolution's own sites).
   */
  growOutput = 0;
  /** grow: a stride-1 conv whose outputs are every cell its windows cover (not only the input's). */
  constructor(cin: number, cout: number, k: number, stride = 1, bnMomentum = 0.1, grow = false) {
    super();
    // keras' ((1,0),(1,0)) zero padding before a stride-2 conv lives in the rulebook (padding 1
    // above/left); the placeholder keeps the dense layer indices (and so the parameter names).
    if (stride === 2) this.append(new SparseIdentity());
    const pad = Math.floor(k / 2);
    this.append(
      stride === 2
        ? new SparseConv2d(cin, cout, k, { stride: 2, padding: 1, bias: false })
        : grow
          ? new SparseConv2d(cin, cout, k, { stride: 1, padding: pad, same: true, bias: false })
          : new SubmanifoldConv2d(cin, cout, k, { bias: false }),
    );
    this.append(new BatchNorm2d(cout, { eps: 1e-3, momentum: bnMomentum }));
    this.append(new LeakyReLU(0.1));
  }
  override forward(x: SparseTensor): SparseTensor {
    const n = this.layers.length;
    const bn = this.layers[n - 2] as BatchNorm2d,
      act = this.layers[n - 1] as LeakyReLU;
    const fused = this.fuseBnLeaky && !bn.normalize;
    if (!fused && this.growOutput === 0) return super.forward(x);
    let cur = x;
    const step = (next: SparseTensor) => {
      if (cur !== x && next.features !== cur.features) cur.dispose();
      cur = next;
    };
    for (const l of this.layers.slice(0, n - 2)) step((l as SparseLayer).forward(cur));
    if (this.growOutput > 0) step(growSites(cur, this.growOutput));
    if (!fused) {
      // BN and the activation on the features, as SparseSequential runs them.
      step(onFeatures(bn, cur));
      step(onFeatures(act, cur));
      return cur;
    }
    // Batch statistics need two sites; with fewer the running ones are used and left (as onFeatures).
    const batchStats = bn.training && cur.grid.size >= 2;
    if (batchStats) noGrad(() => bn.numBatchesTracked.add_(1));
    const y = cur.withFeatures(sparseBnLeaky(cur.features, bn, batchStats, act.negativeSlope));
    if (cur !== x) cur.dispose();
    return y;
  }
}

/** The residual block on features: body(x) + x at x's sites. */
export class SparseResidual extends SparseLayer {
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

/** Darknet-53 on sparse maps, named as the dense one (`stem`, `stages.0…4`). */
export class SparseDarknet53 extends Module {
  readonly stem: SparseConvBNLeaky;
  readonly stages: ModuleList<SparseSequential>;
  readonly channels: number[] = [];
  /** growStages: the first that many stages' downsampling convs grow their output sites a cell each way (model.growStages). */
  constructor(cin: number, c: (n: number) => number, m: number, growStages = 0) {
    super();
    this.stem = this.registerModule('stem', new SparseConvBNLeaky(cin, c(32), 3, 1, m));
    this.stages = this.registerModule('stages', new ModuleList<SparseSequential>());
    let prev = c(32);
    for (const [filters, blocks] of DARKNET53_STAGES) {
      const down = new SparseConvBNLeaky(prev, c(filters), 3, 2, m);
      if (this.stages.length < growStages) down.growOutput = 1;
      const s = new SparseSequential(down);
      for (let i = 0; i < blocks; i++) s.append(new SparseResidual(c(filters), m));
      this.stages.append(s);
      this.channels.push(c(filters));
      prev = c(filters);
    }
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
export class SparseOutput extends SubmanifoldConv2d {
  constructor(cin: number, anchors: number, perAnchor: number) {
    super(cin, anchors * perAnchor, 1);
    const prior = Math.log(0.01 / 0.99);
    noGrad(() => {
      for (let a = 0; a < anchors; a++) this.bias!.narrow(0, a * perAnchor + 4, 1).fill_(prior);
    });
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
    d.dispose();
    bias4.dispose();
    return out;
  }
}

/**
 * A head's output block (`out`): a covered-cell 3×3 conv, then the output conv, read out as the
 * dense head map. `output` is constructed first (the parameter initialisation order the dense
 * model's checkpoints and the bit-for-bit study were made with).
 */
export class SparseHeadOut extends SparseSequential {
  constructor(
    readonly grow: SparseConvBNLeaky,
    readonly output: SparseOutput,
  ) {
    super(grow, output);
  }
  /** The dense head map of a trunk's output. */
  dense(t: SparseTensor): Tensor {
    const h = this.grow.forward(t);
    const y = this.output.dense(h);
    h.dispose();
    return y;
  }
}

/** A sparse head's `out` block: cin → 2·nf covered-cell conv, then the output conv. */
export function sparseHeadOut(nf2In: number, nf2: number, out: OutputShape, m: number): SparseHeadOut {
  const output = new SparseOutput(nf2, out.anchors, out.perAnchor);
  return new SparseHeadOut(new SparseConvBNLeaky(nf2In, nf2, 3, 1, m, true), output);
}

/**
 * keras-yolo3 make_last_layers on sparse maps: `trunk` (five convs), `out` (read out densely).
 * `growTrunk` of the trunk's two 3×3 convs (the first first) are covered-cell convs that grow the
 * active set by one cell each way (model.growTrunk, yolo.ts).
 */
export class SparseHead extends Module {
  readonly trunk: SparseSequential;
  readonly out: SparseHeadOut;
  constructor(cin: number, nf: number, out: OutputShape, m: number, growTrunk = 0) {
    super();
    const cbl = (a: number, b: number, k: number, grow = false) => new SparseConvBNLeaky(a, b, k, 1, m, grow);
    this.trunk = this.registerModule(
      'trunk',
      new SparseSequential(cbl(cin, nf, 1), cbl(nf, nf * 2, 3, growTrunk >= 1), cbl(nf * 2, nf, 1), cbl(nf, nf * 2, 3, growTrunk >= 2), cbl(nf * 2, nf, 1)),
    );
    this.out = this.registerModule('out', sparseHeadOut(nf, nf * 2, out, m));
  }
}

/** Head map channels: anchors × (5 + classes), anchor-major, objectness at 4 of each anchor. */
export interface OutputShape {
  anchors: number;
  perAnchor: number;
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
