// Which way to compute each sparse convolution of the thesis's network: every convolution of one
// forward pass of sparse-yolov3 on the default simulation's images (captured with its input
// features, rulebook and weight), timed in each of the engine's float32 CPU forms — 'gather'
// (every site × offset row, absent inputs reading zeros), 'spread' (every input row × every
// offset, summed per output), 'offsets' (present pairs only, one GEMM per offset) — and in
// 'auto', the form the engine picks (ChooseForm in native/sparse.cc). Per layer: N input rows,
// M output sites, the fill (present pairs / M·K), channels and the median ms of each form, forward
// alone (inference) and forward + backward (training). Totals per form, for 'auto', and for the
// best form per layer (the oracle 'auto' should approach). Forms alternate within each round, so
// all see the same machine load. CPU time by default (--clock wall for wall time). One JSON object.
//
// Run: node scripts/setup.mjs && node dist/bench/sparse-forms.js --data D.h5 [--isolated-radius 0]
//        [--batch 16] [--rounds 5] [--threads 1] [--width 0.25] [--size 480] [--clock cpu|wall]
import { parseArgs } from 'node:util';
import { tensor, setNumThreads, getNumThreads, manualSeed, noGrad, tidy, sparseConv, Tensor, Rulebook, type SparseConvForm } from '../src/torch/index.js';
import { createYolo } from '../src/model/yolo.js';
import { benchImages } from './inputs.js';
import { clockOf, median, onSparseConvs } from './measure.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    width: { type: 'string', default: '0.25' },
    size: { type: 'string', default: '480' },
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    'isolated-radius': { type: 'string', default: '0' },
    clock: { type: 'string', default: 'cpu' },
  },
});
const clock = clockOf(a.clock!);
setNumThreads(Number(a.threads));
manualSeed(0);
const size = Number(a.size),
  batch = Number(a.batch),
  rounds = Number(a.rounds),
  radius = Number(a['isolated-radius']);
const model = createYolo({ variant: 'sparse-yolov3', width: Number(a.width), inChannels: 1, numClasses: 1, isolatedRadius: radius }).eval();
const { images, activePerImage } = benchImages({ batch, size, seed: 0, data: a.data });
const x = tensor(images, { shape: [batch, 1, size, size] });

// One forward pass, keeping each convolution's inputs (identity 1×1 layers are a plain matrix
// product in every form and are left out).
interface Layer {
  name: string;
  features: Tensor;
  rb: Rulebook;
  weight: Tensor;
  /** Output sites. */
  m: number;
}
const layers: Layer[] = [];
const stop = onSparseConvs(model, (name, conv, inp) => {
  const rb = inp.grid.rulebook(conv.geometry);
  // The pass disposes its grids and rulebooks as it goes: keep a copy of the neighbour table.
  if (!rb.identity)
    layers.push({
      name,
      features: inp.features.clone(),
      rb: new Rulebook(rb.input, rb.output, rb.neighbours.clone(), rb.geometry),
      weight: conv.weight.detach().clone(),
      m: rb.output.size,
    });
});
noGrad(() => model.forward(x));
stop();

const FORMS: SparseConvForm[] = ['gather', 'spread', 'offsets', 'auto'];
function time(l: Layer, form: SparseConvForm, backward: boolean): number {
  return tidy(() => {
    const f = backward ? l.features.detach().requiresGrad_() : l.features;
    const w = backward ? l.weight.detach().requiresGrad_() : l.weight;
    const t0 = clock();
    if (backward) sparseConv(f, l.rb, w, null, 'gather', form).square().sum().backward();
    else noGrad(() => sparseConv(f, l.rb, w, null, 'gather', form));
    return clock() - t0;
  });
}
const fwd = layers.map(() => Object.fromEntries(FORMS.map((f) => [f, [] as number[]])) as Record<SparseConvForm, number[]>);
const step = layers.map(() => Object.fromEntries(FORMS.map((f) => [f, [] as number[]])) as Record<SparseConvForm, number[]>);
for (let r = 0; r <= rounds; r++)
  layers.forEach((l, i) => {
    for (const form of r % 2 ? FORMS : [...FORMS].reverse()) {
      const tf = time(l, form, false),
        ts = time(l, form, true);
      if (r > 0) {
        // round 0 warms up
        fwd[i]![form].push(tf);
        step[i]![form].push(ts);
      }
    }
  });

const r2 = (v: number) => +v.toFixed(2);
const rows = layers.map((l, i) => {
  const N = l.features.shape[0]!,
    M = l.m;
  const nbr = l.rb.neighbours;
  const K = nbr.shape[1]!;
  const pairs = tidy(() => nbr.lt(N).sum().item());
  const [cout, cin] = l.weight.shape as [number, number];
  const f = Object.fromEntries(FORMS.map((k) => [k, r2(median(fwd[i]![k]))])) as Record<SparseConvForm, number>;
  const s = Object.fromEntries(FORMS.map((k) => [k, r2(median(step[i]![k]))])) as Record<SparseConvForm, number>;
  return { name: l.name, n: N, m: M, k: K, cin, cout, fill: +(pairs / (M * K)).toFixed(3), forward_ms: f, forward_backward_ms: s };
});
const totals = (key: 'forward_ms' | 'forward_backward_ms') => {
  const t = Object.fromEntries(FORMS.map((k) => [k, r2(rows.reduce((p, r) => p + r[key][k], 0))])) as Record<string, number>;
  t.best_per_layer = r2(rows.reduce((p, r) => p + Math.min(r[key].gather, r[key].spread, r[key].offsets), 0));
  return t;
};
console.log(
  JSON.stringify({
    bench: 'sparse-forms',
    clock: a.clock,
    width: Number(a.width),
    size,
    batch,
    threads: getNumThreads(),
    rounds,
    data: a.data ?? null,
    isolated_radius: radius,
    active_pixels_per_image: +activePerImage.toFixed(1),
    totals: { forward_ms: totals('forward_ms'), forward_backward_ms: totals('forward_backward_ms') },
    layers: rows,
  }),
);
for (const l of layers) (l.features.dispose(), l.weight.dispose());
x.dispose();
model.dispose();
