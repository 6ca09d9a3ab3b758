// Where a YOLOv3 training step's time goes, per topology node (stem, backbone stages, head
// trunks, head outputs), and how full each sparse map is: for every convolution its input and
// output sites, the occupancy of its grid, and three FLOP counts per image —
//   dense:   2·Cin·Cout·k²·H·W (what a dense network computes),
//   gather:  2·Cin·Cout·k²·M (what the one-GEMM sparse conv computes: every offset of every
//            output site, absent inputs read a zero row),
//   engine:  what the engine's float32 CPU form for the layer computes (native/sparse.cc,
//            ChooseForm): the pairs where the kernel windows are ≤ 85 % full (60 % on > 1 thread), else
//            2·Cin·Cout·k²·min(N, M) (gather, or the input-side 'spread' when N inputs < M outputs),
//   pairs:   2·Cin·Cout·(active input→output pairs) (the least any sparse convolution computes).
// Per node: forward ms inside a full forward pass (rulebooks built on first use are counted in
// the node that builds them, and also summed separately), then forward and backward ms of the
// node alone (its input detached, loss = sum of squares, rulebooks already built). Medians over
// --rounds. Works for the dense variants too (their nodes, no occupancy). Times are CPU time
// (user + system of all threads; --clock wall for wall time): on a shared machine the work, less
// disturbed by other processes than wall time. One JSON object.
//
// Run: node scripts/setup.mjs && node dist/bench/sparse-profile.js --data D.h5 [--variant sparse-yolov3]
//        [--width 0.25] [--size 480] [--batch 8] [--rounds 3] [--threads 2] [--isolated-radius 0] [--grow-trunk 0] [--grow-stages 0]
//        [--clock cpu|wall] [--unfused]
import { parseArgs } from 'node:util';
import { tensor, setNumThreads, getNumThreads, manualSeed, noGrad, tidy, Tensor, SparseTensor, SparseGrid } from '../src/torch/index.js';
import { SparseConvBase, Conv2d } from '../src/nn/index.js';
import { createYolo, type Variant } from '../src/model/yolo.js';
import { dropIsolated, SparseConvBNLeaky } from '../src/model/sparse-blocks.js';
import { INPUT, inputsOf, runNode } from '../src/model/topology.js';
import { benchImages } from './inputs.js';
import { clockOf, median } from './measure.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    variant: { type: 'string', default: 'sparse-yolov3' },
    width: { type: 'string', default: '0.25' },
    size: { type: 'string', default: '480' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'isolated-radius': { type: 'string', default: '0' },
    // model.growTrunk: grown 3×3 convs per head trunk (sparse-yolov3).
    'grow-trunk': { type: 'string', default: '0' },
    // model.growStages: backbone stages whose downsampling conv grows its sites (sparse-yolov3).
    'grow-stages': { type: 'string', default: '0' },
    active: { type: 'string' },
    clock: { type: 'string', default: 'cpu' },
    unfused: { type: 'boolean', default: false },
  },
});
/** Milliseconds on the chosen clock. */
const clock = clockOf(a.clock!);
setNumThreads(Number(a.threads));
manualSeed(0);
const size = Number(a.size),
  batch = Number(a.batch);
const growTrunk = Number(a['grow-trunk']);
const growStages = Number(a['grow-stages']);
const model = createYolo({ variant: a.variant as Variant, width: Number(a.width), inChannels: 1, numClasses: 1, growTrunk, growStages });
model.train();
// --unfused: batch norm and leaky ReLU as two layers (the engine before the fused kernel).
if (a.unfused) for (const [, m] of model.namedModules()) if (m instanceof SparseConvBNLeaky) m.fuseBnLeaky = false;
const { images, activePerImage } = benchImages({ batch, size, seed: 0, data: a.data, active: a.active === undefined ? undefined : Number(a.active) });
const x = tensor(images, { shape: [batch, 1, size, size] });
const radius = Number(a['isolated-radius']);

type Value = Tensor | SparseTensor;
const nodeOf = (path: string): string => {
  for (const n of model.topology.nodes) {
    const m = 'module' in n ? n.module : 'head' in n ? n.head : null;
    if (m && (path === m || path.startsWith(`${m}.`))) return n.id;
  }
  return '?';
};

// Per convolution: sites and FLOPs, recorded on one forward pass.
interface ConvRecord {
  node: string;
  name: string;
  stride: number;
  grid: string;
  cin: number;
  cout: number;
  k: number;
  inSites: number;
  outSites: number;
  outCells: number;
  pairs: number;
  denseFlops: number;
  gatherFlops: number;
  engineFlops: number;
  pairFlops: number;
}
const convs: ConvRecord[] = [];
/** Multiply-adds per Cin·Cout of the form the engine picks (mirrors ChooseForm in native/sparse.cc). */
function enginePairs(k: number, n: number, m: number, pairs: number, mac: number): number {
  const best = Math.min(n, m) * k;
  return k > 1 && mac >= 8 * 16 && 100 * pairs <= (getNumThreads() > 1 ? 60 : 85) * best ? pairs : best;
}
const names = new Map<object, string>();
for (const [n, m] of model.namedModules()) names.set(m, n);
const origSparse = SparseConvBase.prototype.forward;
const origDense = Conv2d.prototype.forward;
function recordConvs(on: boolean): void {
  if (!on) {
    SparseConvBase.prototype.forward = origSparse;
    Conv2d.prototype.forward = origDense;
    return;
  }
  SparseConvBase.prototype.forward = function (this: SparseConvBase, inp: SparseTensor): SparseTensor {
    const y = origSparse.call(this, inp);
    const rb = inp.grid.rulebook(this.geometry);
    const pairs = tidy(() => (rb.identity ? inp.grid.size : rb.neighbours.lt(inp.grid.size).sum().item()));
    const [kh, kw] = this.kernel;
    const cells = y.grid.batch * y.grid.height * y.grid.width;
    const mac = this.inChannels * this.outChannels;
    const name = names.get(this) ?? '?';
    convs.push({
      node: nodeOf(name),
      name,
      stride: size / y.grid.height,
      grid: `${y.grid.height}x${y.grid.width}`,
      cin: this.inChannels,
      cout: this.outChannels,
      k: kh * kw,
      inSites: inp.grid.size,
      outSites: y.grid.size,
      outCells: cells,
      pairs,
      denseFlops: (2 * mac * kh * kw * cells) / batch,
      gatherFlops: (2 * mac * kh * kw * y.grid.size) / batch,
      engineFlops: (2 * mac * enginePairs(kh * kw, inp.grid.size, y.grid.size, pairs, mac)) / batch,
      pairFlops: (2 * mac * pairs) / batch,
    });
    return y;
  };
  Conv2d.prototype.forward = function (this: Conv2d, inp: Tensor): Tensor {
    const y = origDense.call(this, inp);
    const [, cout, ho, wo] = y.shape as [number, number, number, number];
    const [, cin, kh, kw] = this.weight.shape as [number, number, number, number];
    const name = names.get(this) ?? '?';
    const f = 2 * cin * cout * kh * kw * ho * wo;
    convs.push({
      node: nodeOf(name),
      name,
      stride: size / ho,
      grid: `${ho}x${wo}`,
      cin,
      cout,
      k: kh * kw,
      inSites: NaN,
      outSites: batch * ho * wo,
      outCells: batch * ho * wo,
      pairs: NaN,
      denseFlops: f,
      gatherFlops: f,
      engineFlops: f,
      pairFlops: f,
    });
    return y;
  };
}

// Rulebook building time (cached per grid and geometry: only the first call of each builds).
let rulebookMs = 0;
const origRulebook = SparseGrid.prototype.rulebook;
SparseGrid.prototype.rulebook = function (this: SparseGrid, g) {
  const t0 = clock();
  const rb = origRulebook.call(this, g);
  rulebookMs += clock() - t0;
  return rb;
};

/** The network's input value (sparse sites for a sparse variant), as YoloV3.forward makes it. */
function inputValue(): Value {
  if (!model.sparse) return x.contiguous('channels_last');
  const s = SparseTensor.fromDense(x);
  return radius > 0 ? dropIsolated(s, radius) : s;
}

/** A full forward pass node by node; values kept (for the isolated runs); ms per node. */
function forwardNodes(): { values: Map<string, Value>; ms: Map<string, number>; inputMs: number } {
  const t0 = clock();
  const values = new Map<string, Value>([[INPUT, inputValue()]]);
  const inputMs = clock() - t0;
  const ms = new Map<string, number>();
  for (const n of model.topology.nodes) {
    const t = clock();
    values.set(
      n.id,
      runNode(n, model, (id) => values.get(id)!),
    );
    ms.set(n.id, clock() - t);
  }
  return { values, ms, inputMs };
}

/** One node alone: its inputs detached (leaves that need grad), forward, sum of squares, backward. */
function isolated(n: (typeof model.topology.nodes)[number], values: Map<string, Value>): { fwd: number; bwd: number } {
  return tidy(() => {
    const leaf = new Map<string, Value>();
    for (const id of inputsOf(n)) {
      const v = values.get(id)!;
      leaf.set(id, v instanceof SparseTensor ? v.withFeatures(v.features.detach().requiresGrad_()) : v.detach().requiresGrad_());
    }
    const t0 = clock();
    const y = runNode(n, model, (id) => leaf.get(id)!);
    const t1 = clock();
    const yt = y instanceof SparseTensor ? y.features : y;
    yt.square().sum().backward();
    return { fwd: t1 - t0, bwd: clock() - t1 };
  });
}

// Occupancy and FLOPs (one eval-free forward without autograd).
noGrad(() =>
  tidy(() => {
    recordConvs(true);
    forwardNodes();
    recordConvs(false);
  }),
);

const nodeIds = model.topology.nodes.map((n) => n.id);
const inFull: Record<string, number[]> = {},
  aloneF: Record<string, number[]> = {},
  aloneB: Record<string, number[]> = {};
const stepMs: number[] = [],
  fwdMs: number[] = [],
  bwdMs: number[] = [],
  rbMs: number[] = [],
  inMs: number[] = [];
for (let r = 0; r <= Number(a.rounds); r++) {
  tidy(() => {
    // A full step's forward node by node, then its backward.
    rulebookMs = 0;
    const t0 = clock();
    const { values, ms, inputMs } = forwardNodes();
    const t1 = clock();
    const outs = model.topology.outputs.map((o) => values.get(o) as Tensor);
    let loss = outs[0]!.square().sum();
    for (const o of outs.slice(1)) loss = loss.add(o.square().sum());
    loss.backward();
    const t2 = clock();
    if (r === 0) return; // warm-up round
    stepMs.push(t2 - t0);
    fwdMs.push(t1 - t0);
    bwdMs.push(t2 - t1);
    rbMs.push(rulebookMs);
    inMs.push(inputMs);
    for (const id of nodeIds) (inFull[id] ??= []).push(ms.get(id)!);
    for (const n of model.topology.nodes) {
      const { fwd, bwd } = isolated(n, values);
      (aloneF[n.id] ??= []).push(fwd);
      (aloneB[n.id] ??= []).push(bwd);
    }
  });
}

const r1 = (v: number) => +v.toFixed(1);
const sum = (xs: number[]) => xs.reduce((p, q) => p + q, 0);
const nodes = model.topology.nodes.map((n) => {
  const cs = convs.filter((c) => c.node === n.id);
  const dense = sum(cs.map((c) => c.denseFlops)),
    gather = sum(cs.map((c) => c.gatherFlops)),
    engine = sum(cs.map((c) => c.engineFlops)),
    pairs = sum(cs.map((c) => c.pairFlops));
  return {
    node: n.id,
    module: 'module' in n ? n.module : 'head' in n ? n.head : 'concat' in n ? `concat ${n.concat}` : `densify ${n.densify}`,
    stride: cs.length ? cs[cs.length - 1]!.stride : null,
    occupancy: cs.length && model.sparse ? +(cs[cs.length - 1]!.outSites / cs[cs.length - 1]!.outCells).toFixed(4) : null,
    sites_per_image: cs.length ? r1(cs[cs.length - 1]!.outSites / batch) : null,
    fwd_ms_in_step: r1(median(inFull[n.id]!)),
    fwd_ms_alone: r1(median(aloneF[n.id]!)),
    bwd_ms_alone: r1(median(aloneB[n.id]!)),
    mflop_per_image: { dense: r1(dense / 1e6), gather: r1(gather / 1e6), engine: r1(engine / 1e6), pairs: r1(pairs / 1e6) },
  };
});
const total = (k: 'denseFlops' | 'gatherFlops' | 'engineFlops' | 'pairFlops') => +(sum(convs.map((c) => c[k])) / 1e9).toFixed(4);
console.log(
  JSON.stringify({
    bench: 'sparse-profile',
    clock: a.clock,
    variant: a.variant,
    width: Number(a.width),
    size,
    batch,
    threads: getNumThreads(),
    rounds: Number(a.rounds),
    data: a.data ?? null,
    isolated_radius: radius,
    grow_trunk: growTrunk,
    grow_stages: growStages,
    unfused: a.unfused,
    active_pixels_per_image: +activePerImage.toFixed(1),
    input_sites_per_image: convs.length ? r1(convs[0]!.inSites / batch) : null,
    step_ms: r1(median(stepMs)),
    forward_ms: r1(median(fwdMs)),
    backward_ms: r1(median(bwdMs)),
    rulebook_ms: r1(median(rbMs)),
    input_ms: r1(median(inMs)),
    gflop_per_image: { dense: total('denseFlops'), gather: total('gatherFlops'), engine: total('engineFlops'), pairs: total('pairFlops') },
    nodes,
    convs: convs.map((c) => ({
      name: c.name,
      grid: c.grid,
      cin: c.cin,
      cout: c.cout,
      k: c.k,
      in_sites: c.inSites,
      out_sites: c.outSites,
      occupancy: +(c.outSites / c.outCells).toFixed(4),
      pairs_per_site: c.pairs / c.outSites ? +(c.pairs / c.outSites).toFixed(2) : null,
      mflop_dense: r1(c.denseFlops / 1e6),
      mflop_gather: r1(c.gatherFlops / 1e6),
      mflop_engine: r1(c.engineFlops / 1e6),
      mflop_pairs: r1(c.pairFlops / 1e6),
    })),
  }),
);
x.dispose();
model.dispose();
