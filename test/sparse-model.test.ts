// The sparse YOLOv3 variants: the dense networks' parameters (names and shapes, so checkpoints
// move between them), the dense head maps the loss reads, images in a batch independent of
// each other, empty cells reading the output bias, and a real training run through the trainer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createYolo, SparseTinyYoloV3, type YoloV3, type Variant } from '../src/model/yolo.js';
import { dropIsolated, SparseConvBNLeaky } from '../src/model/sparse-blocks.js';
import { Module, Sequential, SparseSequential, type Layer } from '../src/nn/index.js';
import { SparseTensor, tensor, cat, randn, tidy, noGrad, manualSeed, liveTensors, type Tensor } from '../src/torch/index.js';
import { exportOnnx } from '../src/formats/onnx.js';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { openRun } from '../src/infer/open-run.js';
import { RunDir } from '../src/run/run-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-sparse-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** [B, 1, S, S] zeros with value v at the given (image, y, x). */
function image(b: number, s: number, pixels: [number, number, number, number][]): Tensor {
  const d = new Float32Array(b * s * s);
  for (const [i, y, x, v] of pixels) d[(i * s + y) * s + x] = v;
  return tensor(d, { shape: [b, 1, s, s] });
}
/** Two 128² images with two-pixel clusters (image, y, x, value). */
const TWO_IMAGES: [number, number, number, number][] = [
  [0, 10, 12, 1.5],
  [0, 11, 12, 0.7],
  [0, 40, 90, 2],
  [0, 41, 90, 1],
  [1, 100, 100, 1],
  [1, 101, 99, 2],
];
const maxDiff = (a: Tensor, b: Tensor): number => tidy(() => a.sub(b).abs().max().item());

const child = (m: Module, name: string): Module => m.children().find(([n]) => n === name)![1];

/** The output site counts of `blocks`, in the order their forward passes run (filled as the model runs). */
function recordSites(blocks: SparseSequential[]): number[] {
  const sizes: number[] = [];
  for (const b of blocks) {
    const forward = b.forward.bind(b);
    b.forward = (t: SparseTensor) => {
      const y = forward(t);
      sizes.push(y.grid.size);
      return y;
    };
  }
  return sizes;
}

/** Far from every pixel (bottom-right corner of image 0), a fully sparse head map is its last conv's bias. */
function assertCornerIsBias(m: Module, ya: Tensor[], S: number): void {
  const outputBias = [...m.stateDict()].filter(([k]) => /(out\.1|out1\.1|out2\.1)\.bias$/.test(k)).map(([, t]) => t);
  assert.equal(outputBias.length, ya.length);
  const coarse = ya[0]!; // stride 32 first; image 0's pixels are all in the top half
  const corner = coarse
    .select(0, 0)
    .select(1, S / 32 - 1)
    .select(1, S / 32 - 1);
  const bias = m.stateDict().get(outputBias.length === 3 ? 'head1.out.1.bias' : 'out1.1.bias')!;
  assert.ok(maxDiff(corner, bias) < 1e-6);
}

for (const variant of ['sparse-yolov3', 'sparse-yolov3-tiny'] as Variant[]) {
  const dense = variant.replace('sparse-', '') as Variant;

  test(`${variant}: the dense ${dense}'s parameter names and shapes; a dense checkpoint loads`, () => {
    const s = createYolo({ variant, width: 0.125 });
    const d = createYolo({ variant: dense, width: 0.125 });
    const shapes = (m: YoloV3) => [...m.stateDict()].map(([k, t]) => `${k}:${t.shape}`);
    assert.deepEqual(shapes(s), shapes(d));
    // Sparse output convs' objectness biases start at the prior logit (empty cells read only
    // them); the tiny network is dense from stride 16, with the dense model's layers.
    if (variant === 'sparse-yolov3') {
      const outBias = s.stateDict().get('head1.out.1.bias')!.toNumbers();
      assert.deepEqual(
        [4, 10, 16].map((i) => +outBias[i]!.toFixed(4)),
        Array(3).fill(+Math.log(0.01 / 0.99).toFixed(4)),
      );
    } else {
      assert.ok(child(s, 'trunk1') instanceof SparseSequential);
      for (const n of ['trunk2', 'out1', 'up', 'out2'])
        assert.ok(child(s, n) instanceof Sequential && !(child(s, n) instanceof SparseSequential), `${n} is dense`);
    }
    s.loadStateDict(d.stateDict());
    assert.equal(
      maxDiff(
        s.stateDict().get(variant === 'sparse-yolov3' ? 'head3.out.1.weight' : 'out2.1.weight')!,
        d.stateDict().get(variant === 'sparse-yolov3' ? 'head3.out.1.weight' : 'out2.1.weight')!,
      ),
      0,
    );
    s.dispose();
    d.dispose();
  });

  test(`${variant}: dense head maps; images independent in a batch; empty cells give the output bias`, () => {
    manualSeed(2);
    // BN momentum 1: one training-mode pass sets the running statistics to that batch's, so that
    // eval-mode activations keep their scale through the depth (fresh statistics shrink them).
    const m = createYolo({ variant, width: 0.125, bnMomentum: 1 });
    const S = 256;
    const a = image(2, S, [
      [0, 10, 12, 1.5],
      [0, 11, 12, 0.7],
      [0, 40, 90, 2],
      [1, 100, 100, 1],
    ]);
    tidy(() => noGrad(() => m.forward(a)));
    m.eval();
    const before = liveTensors();
    tidy(() =>
      noGrad(() => {
        const b = image(2, S, [
          [0, 10, 12, 1.5],
          [0, 11, 12, 0.7],
          [0, 40, 90, 2],
          [1, 5, 5, 3],
          [1, 6, 6, 1],
        ]);
        const ya = m.forward(a);
        const yb = m.forward(b);
        assert.deepEqual(
          ya.map((y) => y.shape),
          m.strides.map((st) => [2, 18, S / st, S / st]),
        );
        ya.forEach((y, k) => {
          // Image 0 is the same in both batches: its maps must not see image 1. Within float
          // rounding: the engine picks each convolution's form from the whole batch's fill
          // (native/sparse.cc, ChooseForm), so image 0's sums may be taken in another order
          // (measured 3.6e-6 of the map's largest value); a leak between images is O(1).
          const same = maxDiff(y.select(0, 0), yb[k]!.select(0, 0)),
            scale = y.select(0, 0).abs().max().item();
          assert.ok(same < 1e-5 * (1 + scale), `scale ${k}: image 0 depends on image 1 (${same} of ${scale})`);
          const seen = maxDiff(y.select(0, 1), yb[k]!.select(0, 1));
          assert.ok(seen > 1e-6, `scale ${k}: image 1's change is seen (${seen})`);
        });
        if (variant === 'sparse-yolov3') assertCornerIsBias(m, ya, S);
        // The same batch given as a sparse tensor built from pixel lists gives the same maps.
        const sp = SparseTensor.fromPixels(
          [Int32Array.from([10 * S + 12, 11 * S + 12, 40 * S + 90]), Int32Array.from([100 * S + 100])],
          [Float32Array.from([1.5, 0.7, 2]), Float32Array.from([1])],
          1,
          S,
          S,
        );
        m.forward(sp).forEach((y, k) => assert.ok(maxDiff(y, ya[k]!) < 1e-6));
      }),
    );
    assert.equal(liveTensors(), before, 'forward frees its sites, rulebooks and grids');
    a.dispose();
    assert.throws(() => exportOnnx(m, { size: 64 }), /runs sparse convolutions, which ONNX cannot express/);
    m.dispose();
  });
}

test('sparse-yolov3-tiny sparse down to the heads (denseFrom Infinity): empty cells give the output bias', () => {
  manualSeed(2);
  const m = new SparseTinyYoloV3({ width: 0.125, bnMomentum: 1, channelsLast: false }, { denseFrom: Infinity });
  const S = 256;
  const a = image(2, S, [
    [0, 10, 12, 1.5],
    [0, 11, 12, 0.7],
    [0, 40, 90, 2],
    [1, 100, 100, 1],
  ]);
  tidy(() => noGrad(() => m.forward(a)));
  m.eval();
  tidy(() => noGrad(() => assertCornerIsBias(m, m.forward(a), S)));
  a.dispose();
  m.dispose();
});

test('sparse-yolov3-tiny (hybrid): the sparse stride-1…16 trunk, densified, then the dense yolov3-tiny layers — outputs and gradients', () => {
  manualSeed(4);
  const h = createYolo({ variant: 'sparse-yolov3-tiny', width: 0.125 });
  const d = createYolo({ variant: 'yolov3-tiny', width: 0.125 });
  d.loadStateDict(h.stateDict());
  const S = 128;
  const x = image(2, S, TWO_IMAGES);
  const run = (l: Module, t: Tensor) => (l as Layer).forward(t);
  // Training mode (batch statistics) in both: the same values and the same gradients.
  const expected = (): Tensor[] => {
    const s = (child(h, 'trunk1') as SparseSequential).forward(SparseTensor.fromDense(x));
    const x1 = s.dense().contiguous('channels_last');
    const x2 = run(child(d, 'trunk2'), x1);
    const y1 = run(child(d, 'out1'), x2);
    const u = run(child(d, 'up'), x2);
    return [y1, run(child(d, 'out2'), cat([u, x1], 1))];
  };
  tidy(() => {
    const got = h.forward(x);
    const want = expected();
    assert.deepEqual(
      got.map((t) => t.shape),
      [
        [2, 18, 4, 4],
        [2, 18, 8, 8],
      ],
    );
    got.forEach((g, k) => assert.ok(maxDiff(g, want[k]!) < 1e-5, `scale ${k}: ${maxDiff(g, want[k]!)}`));
    // The dense tail is not the far-from-pixels bias (dense convs spread the map).
    assert.ok(maxDiff(got[0]!.select(0, 0).select(1, 3).select(1, 3), h.stateDict().get('out1.1.bias')!) > 1e-4);
    got[0]!.square().sum().add(got[1]!.sum()).backward();
    want[0]!.square().sum().add(want[1]!.sum()).backward();
  });
  const grads = (m: Module, prefix: string) => [...m.namedParameters()].filter(([n]) => n.startsWith(prefix)).map(([n, p]) => [n, p.grad!] as const);
  const hg = new Map(grads(h, ''));
  for (const [n, g] of grads(d, 'trunk2').concat(grads(d, 'out2'))) assert.ok(maxDiff(hg.get(n)!, g) < 1e-4 * (1 + tidy(() => g.abs().max().item())), n);
  // The sparse trunk gets gradient through the densified map.
  assert.ok(tidy(() => hg.get('trunk1.0.0.weight')!.abs().sum().item()) > 0);
  x.dispose();
  h.dispose();
  d.dispose();
});

for (const growStages of [0, 2])
  test(`sparse-yolov3${growStages ? ` (growStages ${growStages})` : ''}: the fused batch norm + leaky ReLU gives the two layers' outputs, gradients and running statistics (train and eval)`, () => {
    manualSeed(5);
    const a = createYolo({ variant: 'sparse-yolov3', width: 0.125, growStages });
    const b = createYolo({ variant: 'sparse-yolov3', width: 0.125, growStages });
    b.loadStateDict(a.stateDict());
    let blocks = 0;
    for (const [, m] of b.namedModules())
      if (m instanceof SparseConvBNLeaky) {
        m.fuseBnLeaky = false;
        blocks++;
      }
    assert.ok(blocks > 50, `${blocks} conv-BN-leaky blocks`);
    const S = 128;
    const x = image(2, S, [...TWO_IMAGES, [1, 60, 20, 0.5]]);
    const loss = (ys: Tensor[]) => ys.reduce((acc: Tensor | null, y) => (acc ? acc.add(y.square().sum()) : y.square().sum()), null)!;
    tidy(() => {
      const ya = a.forward(x),
        yb = b.forward(x);
      ya.forEach((y, k) => assert.ok(maxDiff(y, yb[k]!) < 1e-4 * (1 + tidy(() => y.abs().max().item())), `scale ${k}: ${maxDiff(y, yb[k]!)}`));
      loss(ya).backward();
      loss(yb).backward();
    });
    const pb = new Map(b.namedParameters());
    for (const [n, p] of a.namedParameters()) {
      const g = pb.get(n)!.grad!;
      assert.ok(maxDiff(p.grad!, g) < 1e-3 * (1 + tidy(() => g.abs().max().item())), `${n}: ${maxDiff(p.grad!, g)}`);
    }
    const sb = b.stateDict();
    for (const [n, t] of a.stateDict()) if (/running_|num_batches/.test(n)) assert.ok(maxDiff(t.to('float32'), sb.get(n)!.to('float32')) < 1e-4, n);
    a.eval();
    b.eval();
    tidy(() =>
      noGrad(() => {
        const ya = a.forward(x),
          yb = b.forward(x);
        ya.forEach((y, k) => assert.ok(maxDiff(y, yb[k]!) < 1e-4 * (1 + y.abs().max().item()), `eval scale ${k}`));
      }),
    );
    x.dispose();
    a.dispose();
    b.dispose();
  });

test('sparse-yolov3 model.growTrunk: the head trunks grow the active set a cell each way per grown 3×3 conv, same parameters', () => {
  manualSeed(3);
  const S = 512;
  // One pixel at even coordinates stays one site down to stride 32: (128,128) → (16,16) at stride 8, (4,4) at 32.
  const x = image(1, S, [[0, 128, 128, 2]]);
  const trunkSites = (m: YoloV3) => recordSites(['head1', 'head2', 'head3'].map((h) => child(child(m, h), 'trunk') as SparseSequential));
  const base = createYolo({ variant: 'sparse-yolov3', width: 0.125 });
  const models = [0, 1, 2].map((g) => {
    const m = g ? createYolo({ variant: 'sparse-yolov3', width: 0.125, growTrunk: g }) : base;
    if (g) {
      const shapes = (n: YoloV3) => [...n.stateDict()].map(([k, t]) => `${k}:${t.shape}`);
      assert.deepEqual(shapes(m), shapes(base), 'the same parameter names and shapes: checkpoints move between them');
      m.loadStateDict(base.stateDict());
    }
    return m;
  });
  const outs = models.map((m) => {
    const sites = trunkSites(m);
    const ys = tidy(() => noGrad(() => m.forward(x)));
    return { sites, ys };
  });
  assert.deepEqual(outs[0]!.sites, [1, 1, 1], 'submanifold trunks keep the one site');
  assert.deepEqual(outs[1]!.sites, [9, 9, 9], 'one grown 3×3 conv: 3 × 3 sites');
  assert.deepEqual(outs[2]!.sites, [25, 25, 25], 'two: 5 × 5');
  // The same weights see the grown neighbours: the pixel's own stride-8 cell reads another value…
  const at = (y: Tensor) => y.select(0, 0).select(1, 16).select(1, 16);
  assert.ok(maxDiff(at(outs[0]!.ys[2]!), at(outs[2]!.ys[2]!)) > 1e-4, 'the grown trunk changes the cell holding the pixel');
  // …and far away every map is still the output bias.
  assertCornerIsBias(models[2]!, outs[2]!.ys, S);
  for (const o of outs) o.ys.forEach((y) => y.dispose());
  models.forEach((m) => m.dispose());
  x.dispose();
  assert.throws(() => createYolo({ variant: 'yolov3', growTrunk: 1 }), /model\.growTrunk 1: only sparse-yolov3 has sparse head trunks/);
  assert.throws(
    () => parseTrainConfig({ data: 'd.h5', out: 'r', model: { variant: 'sparse-yolov3-tiny', growTrunk: 2 } }, 'c.json'),
    /c\.json: model\.growTrunk 2 grows sparse-yolov3's head trunks; the variant is sparse-yolov3-tiny/,
  );
  assert.throws(() => parseTrainConfig({ data: 'd.h5', out: 'r', model: { variant: 'sparse-yolov3', growTrunk: 3 } }, 'c.json'), /c\.json: model\.growTrunk:/);
});

test('sparse-yolov3 model.growStages: each grown stage widens its map a cell round every cluster; new sites are BN-shifted zeros; same parameters', () => {
  manualSeed(4);
  const S = 512;
  // One pixel at even coordinates is one site at every stride without growth.
  const x = image(1, S, [[0, 128, 128, 2]]);
  const stageSites = (m: YoloV3) =>
    recordSites(
      child(child(m, 'backbone'), 'stages')
        .children()
        .map(([, st]) => st as SparseSequential),
    );
  const base = createYolo({ variant: 'sparse-yolov3', width: 0.125 });
  // Trained-looking batch norms: at initialisation BN(0) is 0, and a grown site would read as empty.
  const state = base.stateDict();
  noGrad(() => {
    for (const [k, t] of state)
      if (k.endsWith('.running_mean') || (k.endsWith('.bias') && state.has(k.replace(/bias$/, 'running_mean')))) tidy(() => t.add_(randn(t.shape).mul(0.3)));
  });
  const shapes = (n: YoloV3) => [...n.stateDict()].map(([k, t]) => `${k}:${t.shape}`);
  const expected: Record<number, number[]> = {
    0: [1, 1, 1, 1, 1],
    // A 3 × 3 block at stride 2 stays 3 × 3 through every later stride-2 conv (the pixel's cell is central)…
    1: [9, 9, 9, 9, 9],
    // …a second grown stage makes it 5 × 5 there, which the next stride-2 conv folds back to 3 × 3.
    2: [9, 25, 9, 9, 9],
    3: [9, 25, 25, 9, 9],
    5: [9, 25, 25, 25, 25],
  };
  const outs = new Map<number, Tensor[]>();
  for (const [g, sizes] of Object.entries(expected)) {
    const m = Number(g) ? createYolo({ variant: 'sparse-yolov3', width: 0.125, growStages: Number(g) }) : base;
    assert.deepEqual(shapes(m), shapes(base), 'the same parameter names and shapes: checkpoints move between them');
    m.loadStateDict(base.stateDict());
    m.eval();
    const sites = stageSites(m);
    outs.set(
      Number(g),
      tidy(() => noGrad(() => m.forward(x))),
    );
    assert.deepEqual(sites, sizes, `growStages ${g}: sites per stage`);
    if (Number(g) === 1) {
      // A grown site of stage 0's downsampling conv reads zero from the conv, then BN and the leaky ReLU (eval: running statistics).
      const down = child(child(child(child(m, 'backbone'), 'stages'), '0'), '0') as SparseConvBNLeaky;
      const bn = m.stateDict();
      tidy(() => {
        const stem = child(child(m, 'backbone'), 'stem') as SparseConvBNLeaky;
        const y = noGrad(() => down.forward(stem.forward(SparseTensor.fromDense(x))));
        const site = (y.grid.coords.tolist() as number[][]).findIndex(([, yy, xx]) => yy === 63 && xx === 63);
        assert.ok(site >= 0, 'the corner cell of the 3 × 3 block is a site');
        const g0 = bn.get('backbone.stages.0.0.2.weight')!,
          b0 = bn.get('backbone.stages.0.0.2.bias')!,
          mu = bn.get('backbone.stages.0.0.2.running_mean')!,
          v = bn.get('backbone.stages.0.0.2.running_var')!;
        const shifted = b0.sub(mu.mul(g0).div(v.add(1e-3).sqrt()));
        const want = shifted.clamp(0).add(shifted.clamp(null, 0).mul(0.1));
        assert.ok(tidy(() => want.abs().max().item()) > 0.01, 'a non-zero shift to find');
        assert.ok(maxDiff(y.features.select(0, site), want) < 1e-6, 'leaky(BN(0)) at a grown site');
      });
    }
    if (Number(g)) m.dispose();
  }
  // The grown halo reaches the heads: the pixel's stride-8 cell reads another value with the same weights…
  const at = (y: Tensor) => y.select(0, 0).select(1, 16).select(1, 16);
  assert.ok(maxDiff(at(outs.get(0)![2]!), at(outs.get(3)![2]!)) > 1e-4, 'three grown stages change the cell holding the pixel');
  // …and far away every map is still the output bias.
  assertCornerIsBias(base, outs.get(5)!, S);
  for (const ys of outs.values()) ys.forEach((y) => y.dispose());
  base.dispose();
  x.dispose();
  assert.throws(() => createYolo({ variant: 'sparse-yolov3-tiny', growStages: 1 }), /model\.growStages 1: only sparse-yolov3 has a sparse backbone/);
  assert.throws(() => createYolo({ variant: 'sparse-yolov3', growStages: 6 }), /model\.growStages 6: 0 to 5/);
  assert.throws(
    () => parseTrainConfig({ data: 'd.h5', out: 'r', model: { variant: 'yolov3', growStages: 2 } }, 'c.json'),
    /c\.json: model\.growStages 2 grows sparse-yolov3's backbone stages; the variant is yolov3/,
  );
});

test('dropIsolated removes pixels with no neighbour within the radius and keeps the rest', () =>
  tidy(() => {
    const x = SparseTensor.fromDense(
      image(2, 32, [
        [0, 5, 5, 1],
        [0, 6, 7, 2],
        [0, 20, 20, 3],
        [1, 20, 20, 4],
        [1, 30, 30, 5],
        [1, 28, 30, 6],
      ]),
    );
    const r1 = dropIsolated(x, 2);
    assert.deepEqual(r1.grid.coords.tolist(), [
      [0, 5, 5],
      [0, 6, 7],
      [1, 28, 30],
      [1, 30, 30],
    ]);
    assert.deepEqual(r1.features.flatten().toNumbers(), [1, 2, 6, 5]);
    const r2 = dropIsolated(x, 1);
    assert.deepEqual(r2.grid.coords.tolist(), []);
    assert.equal(dropIsolated(x, 0), x);
  }));

test('sparse-yolov3-tiny trains through the trainer (falling loss, checkpoint reopens as the sparse model)', async () => {
  const data = join(dir, 'd.h5');
  await generateDataset({
    out: data,
    config: parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } }),
    images: 40,
    seed: 5,
    workers: 0,
  });
  const out = join(dir, 'run');
  await train({
    config: parseTrainConfig({
      data,
      out,
      epochs: 3,
      batch: 8,
      seed: 3,
      workers: 1,
      threads: 1,
      model: { variant: 'sparse-yolov3-tiny', width: 0.125, size: 64, isolatedRadius: 1 },
      optimizer: { lr: 3e-3 },
    }),
  });
  const epochs = new RunDir(out)
    .readMetrics<{ type: string; train: { objective: number } }>()
    .filter((r) => r.type === 'epoch')
    .map((r) => r.train.objective);
  assert.equal(epochs.length, 3);
  assert.ok(epochs[2]! < epochs[0]!, `objective falls: ${epochs}`);
  const opened = openRun(out);
  assert.ok(opened.model.sparse);
  assert.equal(opened.model.config.isolatedRadius, 1);
  opened.model.dispose();
});
