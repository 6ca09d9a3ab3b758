// Sparse tensors and layers against libtorch's dense conv2d / max_pool2d (which we did not write):
// with inactive inputs zero, a sparse layer's output, scattered back into a dense grid, must
// equal the dense layer's output at its active sites; the gradients must match finite
// differences in float64; random sparse batches are property tests.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Tensor,
  SparseTensor,
  SparseGrid,
  tensor,
  randn,
  manualSeed,
  tidy,
  noGrad,
  densify,
  sparsify,
  sparseConv,
  sparseGemm,
  sparseBnLeaky,
  sparseMaxPool,
  sparseUpsample,
  growSites,
  liveTensors,
  functional as F,
  type SparseConvAlgorithm,
  type SparseConvForm,
} from '../../src/torch/index.js';
import { SubmanifoldConv2d, SparseConv2d, SparseMaxPool2d, SparseSequential, BatchNorm2d, LeakyReLU } from '../../src/nn/index.js';
import { gradcheck } from './helpers.js';

/** A dense batch [B, C, H, W] that is zero except at `sites` (random features there). */
function sparseBatch(
  sites: [number, number, number][],
  b: number,
  c: number,
  h: number,
  w: number,
  dtype: 'float32' | 'float64' = 'float32',
): { x: Tensor; s: SparseTensor } {
  const data = new Float64Array(b * c * h * w);
  const feats = randn([sites.length, c], { dtype: 'float64' }).dataSync() as Float64Array;
  sites.forEach(([i, y, x], k) => {
    for (let ch = 0; ch < c; ch++) data[((i * c + ch) * h + y) * w + x] = feats[k * c + ch]!;
  });
  const x = tensor(data, { shape: [b, c, h, w] }).to(dtype);
  return { x, s: SparseTensor.fromDense(x) };
}
const unique = (sites: [number, number, number][]): [number, number, number][] => [...new Map(sites.map((s) => [s.join(','), s])).values()];

function maxAbsDiff(a: Tensor, b: Tensor): number {
  return tidy(() => a.sub(b).abs().max().item());
}

for (const algorithm of ['gather', 'offsets'] as SparseConvAlgorithm[]) {
  test(`submanifold conv (${algorithm}) equals dense 'same' conv2d at the active sites`, () =>
    tidy(() => {
      manualSeed(3);
      for (const k of [1, 3, 5]) {
        const { x, s } = sparseBatch(
          [
            [0, 0, 0],
            [0, 0, 1],
            [0, 3, 4],
            [1, 6, 6],
            [1, 5, 6],
            [1, 0, 6],
          ],
          2,
          3,
          7,
          7,
          'float64',
        );
        const conv = new SubmanifoldConv2d(3, 4, k, { algorithm });
        const w = conv.weight.double();
        const bias = conv.bias!.double();
        const y = new SparseTensor(sparseConv(s.features, s.grid.rulebook(conv.geometry), w, bias, algorithm), s.grid);
        const dense = F.conv2d(x, w, bias, { padding: Math.floor(k / 2) });
        assert.ok(maxAbsDiff(y.features, sparsify(dense, s.grid)) < 1e-12, `k=${k}`);
        conv.dispose();
      }
    }));

  test(`strided sparse conv (${algorithm}) equals dense conv2d everywhere: output sites are the covered cells`, () =>
    tidy(() => {
      manualSeed(4);
      const { x, s } = sparseBatch(
        [
          [0, 0, 0],
          [0, 7, 7],
          [0, 4, 2],
          [1, 3, 3],
          [1, 3, 4],
        ],
        2,
        2,
        8,
        8,
        'float64',
      );
      // keras-yolo3's downsampling: pad one row above and one column left, 3×3 'valid', stride 2.
      const conv = new SparseConv2d(2, 3, 3, { stride: 2, padding: 1, bias: false, algorithm });
      const w = conv.weight.double();
      const rb = s.grid.rulebook(conv.geometry);
      const y = sparseConv(s.features, rb, w, null, algorithm);
      const dense = F.conv2d(F.pad(x, [1, 0, 1, 0]), w, null, { stride: 2 });
      assert.deepEqual(dense.shape, [2, 3, 4, 4]);
      assert.ok(maxAbsDiff(densify(y, rb.output), dense) < 1e-12);
      // Input (0, 7, 7) is covered by output rows/columns 3 and 4 → only 3 (4 is outside); (0, 0, 0) by 0.
      const sites = rb.output.coords.tolist() as number[][];
      assert.ok(sites.some((c) => c.join() === '0,3,3') && sites.some((c) => c.join() === '0,0,0'));
      assert.equal(new Set(sites.map((c) => c.join())).size, sites.length);
      conv.dispose();
    }));

  test(`stride-1 'same' sparse conv (${algorithm}) equals dense conv2d everywhere: it grows the active set by the kernel`, () =>
    tidy(() => {
      manualSeed(9);
      const { x, s } = sparseBatch(
        [
          [0, 0, 0],
          [0, 6, 6],
          [0, 3, 2],
          [1, 6, 0],
        ],
        2,
        2,
        7,
        7,
        'float64',
      );
      const conv = new SparseConv2d(2, 3, 3, { stride: 1, padding: 1, same: true, bias: false, algorithm });
      const y = conv.forward(new SparseTensor(s.features.float(), s.grid));
      assert.equal(y.grid.height, 7);
      assert.equal(y.grid.size, 4 + 4 + 9 + 4); // corners (0,0) and (6,6): 2×2 cells; (3,2): 3×3; (6,0) in image 1: 2×2
      const dense = F.conv2d(x.float(), conv.weight, null, { padding: 1 });
      assert.ok(maxAbsDiff(y.dense(), dense) < 1e-5);
      conv.dispose();
    }));
}

test('sparse max-pool (strided and keras "same") equals dense max_pool2d over the active inputs', () =>
  tidy(() => {
    manualSeed(5);
    const { s } = sparseBatch(
      [
        [0, 0, 0],
        [0, 1, 1],
        [0, 5, 2],
        [1, 2, 3],
        [1, 3, 3],
        [1, 5, 5],
      ],
      2,
      3,
      6,
      6,
      'float64',
    );
    const minusInf = s.dense(-Infinity);
    const pool = new SparseMaxPool2d(2, { stride: 2 });
    const y = pool.forward(s);
    assert.ok(maxAbsDiff(y.dense(-Infinity).clamp(-1e9), F.maxPool2d(minusInf, 2, { stride: 2 }).clamp(-1e9)) === 0);
    const same = new SparseMaxPool2d(2, { submanifold: true });
    const z = same.forward(s);
    const dense = F.maxPool2d(F.pad(minusInf, [0, 1, 0, 1], 'constant', -Infinity), 2, { stride: 1 });
    assert.ok(maxAbsDiff(z.features, sparsify(dense, s.grid)) === 0);
  }));

test('random sparse batches (property): submanifold, strided and pooled outputs equal the dense layers', () => {
  manualSeed(6);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 2, max: 12 }),
      fc.integer({ min: 2, max: 12 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 0, maxLength: 40 }),
      fc.constantFrom<SparseConvAlgorithm>('gather', 'offsets'),
      (b, h, w, cin, cout, raw, algorithm) =>
        tidy(() => {
          const sites = unique(raw.map(([i, y, x]) => [i % b, y % h, x % w] as [number, number, number]));
          const { x, s } = sparseBatch(sites, b, cin, h, w, 'float64');
          assert.equal(s.grid.size, sites.length);
          const wt = randn([cout, cin, 3, 3], { dtype: 'float64' });
          const sub = sparseConv(s.features, s.grid.rulebook({ kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: true }), wt, null, algorithm);
          const mask = x.ne(0).any(1, true);
          assert.ok(maxAbsDiff(densify(sub, s.grid), F.conv2d(x, wt, null, { padding: 1 }).mul(mask)) < 1e-10);
          const rb = s.grid.rulebook({ kernel: [3, 3], stride: 2, padding: [1, 1], submanifold: false });
          const strided = sparseConv(s.features, rb, wt, null, algorithm);
          assert.ok(maxAbsDiff(densify(strided, rb.output), F.conv2d(F.pad(x, [1, 0, 1, 0]), wt, null, { stride: 2 })) < 1e-10);
          if (h >= 2 && w >= 2) {
            const pr = s.grid.rulebook({ kernel: [2, 2], stride: 2, padding: [0, 0], submanifold: false });
            const pooled = sparseMaxPool(s.features, pr);
            const dense = F.maxPool2d(s.dense(-Infinity), 2, { stride: 2 });
            assert.ok(maxAbsDiff(densify(pooled, pr.output, -Infinity).clamp(-1e9), dense.clamp(-1e9)) === 0);
          }
        }),
    ),
    { numRuns: 60, seed: 15 },
  );
});

test('growSites (property): the grid is every cell a dense max-pool of the occupancy reaches within r; old sites keep their features, new ones hold zeros', () => {
  manualSeed(8);
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 0, maxLength: 30 }),
      (b, h, w, r, raw) =>
        tidy(() => {
          const sites = unique(raw.map(([i, y, x]) => [i % b, y % h, x % w] as [number, number, number]));
          const { x, s } = sparseBatch(sites, b, 2, h, w, 'float64');
          const g = growSites(s, r);
          // ATen's max_pool2d (stride 1, padding r) of the occupancy marks the cells within r of a site.
          const occupied = x.ne(0).any(1, true).to('float64');
          const reached = F.maxPool2d(occupied, 2 * r + 1, { stride: 1, padding: r });
          assert.equal(
            g.grid.size,
            tidy(() => reached.sum().item()),
            'one site per reached cell',
          );
          assert.ok(maxAbsDiff(densify(g.features.mul(0).add(1), g.grid).narrow(1, 0, 1), reached) === 0, 'the sites are the reached cells');
          assert.ok(maxAbsDiff(g.dense(), x) === 0, 'the same features; zeros at the new sites');
        }),
    ),
    { numRuns: 60, seed: 16 },
  );
});

test('finite-difference gradients (float64): sparse conv (both algorithms), max-pool, densify, sparsify, upsample, growSites', () => {
  manualSeed(7);
  tidy(() => {
    const { s } = sparseBatch(
      [
        [0, 0, 0],
        [0, 0, 1],
        [0, 2, 1],
        [1, 3, 3],
        [1, 1, 3],
      ],
      2,
      2,
      4,
      4,
      'float64',
    );
    const sub = s.grid.rulebook({ kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: true });
    const down = s.grid.rulebook({ kernel: [3, 3], stride: 2, padding: [1, 1], submanifold: false });
    const pool = s.grid.rulebook({ kernel: [2, 2], stride: 2, padding: [0, 0], submanifold: false });
    const f = s.features;
    const w = randn([3, 2, 3, 3], { dtype: 'float64' });
    const b = randn([3], { dtype: 'float64' });
    for (const alg of ['gather', 'offsets'] as SparseConvAlgorithm[]) {
      gradcheck(`submanifold ${alg}`, ([a, ww, bb]) => sparseConv(a!, sub, ww!, bb!, alg), [f, w, b]);
      gradcheck(`strided ${alg}`, ([a, ww]) => sparseConv(a!, down, ww!, null, alg), [f, w]);
    }
    // Distinct values so that the maximum of each window is unique (max is not differentiable at ties).
    gradcheck('max-pool', ([a]) => sparseMaxPool(a!, pool), [f]);
    gradcheck('densify', ([a]) => densify(a!, s.grid), [f]);
    gradcheck('sparsify', ([d]) => sparsify(d!, s.grid), [s.dense()]);
    const coarse = new SparseTensor(sparseMaxPool(f, pool), pool.output);
    gradcheck('upsample', ([a]) => sparseUpsample(coarse.withFeatures(a!), s.grid, 2).features, [coarse.features]);
    gradcheck('growSites', ([a]) => growSites(s.withFeatures(a!), 1).features, [f]);
  });
});

test('one rulebook per grid and geometry, shared by every layer; the strided output grid is shared too', () =>
  tidy(() => {
    const { s } = sparseBatch(
      [
        [0, 1, 1],
        [0, 4, 5],
        [0, 5, 5],
      ],
      1,
      1,
      8,
      8,
    );
    const g = { kernel: [3, 3] as [number, number], stride: 1, padding: [1, 1] as [number, number], submanifold: true };
    assert.equal(s.grid.rulebook(g), s.grid.rulebook({ ...g }));
    const a = new SparseConv2d(1, 2, 3, { padding: 1 }).forward(s);
    const b = new SparseConv2d(1, 2, 3, { padding: 1 }).forward(s);
    assert.equal(a.grid, b.grid);
    assert.notEqual(a.grid, s.grid);
    assert.equal(a.grid.height, 4);
  }));

test('fromPixels builds the same sparse batch as the dense images, without a dense image', () =>
  tidy(() => {
    const H = 5;
    const W = 6;
    const pixels = [Int32Array.from([7, 2, 29]), Int32Array.from([]), Int32Array.from([0, 13])];
    const values = [Float32Array.from([1, 2, 3, 10, 20, 30]), Float32Array.from([]), Float32Array.from([4, 5, 40, 50])];
    const s = SparseTensor.fromPixels(pixels, values, 2, H, W);
    const dense = new Float32Array(3 * 2 * H * W);
    pixels.forEach((list, b) =>
      list.forEach((p, i) => {
        for (let c = 0; c < 2; c++) dense[(b * 2 + c) * H * W + p] = values[b]![c * list.length + i]!;
      }),
    );
    const ref = SparseTensor.fromDense(tensor(dense, { shape: [3, 2, H, W] }));
    assert.deepEqual(s.grid.coords.tolist(), ref.grid.coords.tolist());
    assert.deepEqual(s.features.tolist(), ref.features.tolist());
    // NHWC-strided images (the dense model's layout) and float64 (the generic path) give the same sites.
    const nhwc = SparseTensor.fromDense(tensor(dense, { shape: [3, 2, H, W] }).contiguous('channels_last'));
    assert.deepEqual(nhwc.grid.coords.tolist(), ref.grid.coords.tolist());
    assert.deepEqual(nhwc.features.tolist(), ref.features.tolist());
    assert.deepEqual(SparseTensor.fromDense(tensor(dense, { shape: [3, 2, H, W] }).double()).grid.coords.tolist(), ref.grid.coords.tolist());
    assert.throws(() => SparseTensor.fromPixels([Int32Array.from([30])], [Float32Array.from([1])], 1, H, W), /image 0 pixel 0 = 30 is outside 5×6/);
  }));

test('bad sites are refused with the site and what was expected', () =>
  tidy(() => {
    const dup = new SparseGrid(
      tensor(
        [
          [0, 1, 1],
          [0, 1, 1],
        ],
        { dtype: 'int64' },
      ),
      1,
      4,
      4,
    );
    assert.throws(() => dup.rulebook({ kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: true }), /site 1 repeats site 0/);
    const out = new SparseGrid(tensor([[0, 4, 1]], { dtype: 'int64' }), 1, 4, 4);
    assert.throws(() => out.rulebook({ kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: true }), /site 0 \(0, 4, 1\) is outside the 1×4×4 batch/);
    assert.throws(() => new SparseGrid(tensor([[0, 1]], { dtype: 'int64' }), 1, 4, 4), /coords must be int64 \[N, 3\]/);
  }));

test('a sparse block (conv, BN, LeakyReLU) trains: loss falls, BN statistics move, nothing leaks', () => {
  manualSeed(8);
  const net = new SparseSequential(
    new SubmanifoldConv2d(1, 4, 3, { bias: false }),
    new BatchNorm2d(4),
    new LeakyReLU(0.1),
    new SparseConv2d(4, 1, 3, { padding: 1 }),
  );
  const { x } = sparseBatch(
    [
      [0, 1, 1],
      [0, 2, 2],
      [0, 5, 5],
      [1, 3, 4],
    ],
    2,
    1,
    8,
    8,
  );
  const before = liveTensors();
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    tidy(() => {
      const y = net.forward(SparseTensor.fromDense(x));
      const loss = y.features.sub(1).square().mean();
      for (const p of net.parameters()) p.grad = null;
      loss.backward();
      noGrad(() => {
        for (const p of net.parameters()) p.sub_(p.grad!.mul(0.1));
      });
      losses.push(loss.item());
    });
  }
  assert.ok(losses[29]! < losses[0]! * 0.5, `loss ${losses[0]} → ${losses[29]}`);
  const bn = net.layers[1] as BatchNorm2d;
  assert.notDeepEqual(bn.runningMean.toNumbers(), [0, 0, 0, 0]);
  assert.deepEqual(
    [...net.stateDict().keys()],
    ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight', '3.bias'],
  );
  assert.equal(liveTensors(), before);
  net.dispose();
  x.dispose();
});

// The float32 CPU kernels (native/sparse.cc: the hand gather with its scatter backward, the fused
// batch norm + leaky ReLU) against the ATen path, which float64 takes: same values, same gradients.
test('float32 hand convolutions (gather, spread, per-offset, auto, 1×1) equal the float64 ATen path with either GEMM (oneDNN, ATen): outputs and gradients', () =>
  tidy(() => {
    // oneDNN's sgemm is the default wherever libtorch loaded oneDNN (Debian's libtorch does);
    // a broken lookup would silently fall back to ATen, so check it is found.
    if (readFileSync('/proc/self/maps', 'utf8').includes('libdnnl.so'))
      assert.equal(sparseGemm(), 'dnnl', 'libdnnl is loaded but the engine does not use its sgemm');
    manualSeed(9);
    // Dense enough that a stride-2 conv has fewer outputs than inputs; the sparse batch (isolated
    // sites) has more, as the default simulation's ³⁹Ar hits do: both sides of each form's rule.
    const dense = sparseBatch(unique(Array.from({ length: 60 }, (_, i) => [i % 2, (i * 7) % 13, (i * 5) % 11] as [number, number, number])), 2, 5, 13, 11).s;
    const isolated = sparseBatch(
      [
        [0, 0, 0],
        [0, 6, 4],
        [0, 12, 10],
        [1, 3, 7],
        [1, 9, 1],
      ],
      2,
      5,
      13,
      11,
    ).s;
    let spreadCases = 0;
    for (const s of [dense, isolated])
      for (const g of [
        { kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: true },
        { kernel: [3, 3], stride: 2, padding: [1, 1], submanifold: false },
        { kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: false, same: true },
        { kernel: [1, 1], stride: 1, padding: [0, 0], submanifold: true },
      ] as const) {
        const rb = s.grid.rulebook({ ...g, kernel: [...g.kernel], padding: [...g.padding] });
        if (s.grid.size < rb.output.size) spreadCases++;
        const w = randn([7, 5, ...g.kernel]);
        const run = (dtype: 'float32' | 'float64', form: SparseConvForm) => {
          const f = s.features.to(dtype).detach().requiresGrad_();
          const ww = w.to(dtype).detach().requiresGrad_();
          const y = sparseConv(f, rb, ww, null, 'gather', form);
          // A loss that weighs every output differently, so every gradient entry matters.
          y.mul(y.detach().add(1)).sum().backward();
          return { y, gf: f.grad!, gw: ww.grad! };
        };
        const b = run('float64', 'auto');
        for (const gemm of ['dnnl', 'aten'] as const)
          for (const form of ['auto', 'gather', 'spread', 'offsets'] as SparseConvForm[]) {
            const before = sparseGemm();
            if (gemm === 'aten') sparseGemm('aten');
            let a: ReturnType<typeof run>;
            try {
              a = run('float32', form);
            } finally {
              sparseGemm(before);
            }
            const what = `${form} (${gemm}), ${s === dense ? 'dense' : 'isolated'} sites, ${JSON.stringify(g)}`;
            const tol = (t: Tensor) => 1e-5 * (1 + t.abs().max().item());
            assert.ok(maxAbsDiff(a.y.double(), b.y) < tol(b.y), `${what}: output`);
            assert.ok(maxAbsDiff(a.gf.double(), b.gf) < tol(b.gf), `${what}: input gradient`);
            assert.ok(maxAbsDiff(a.gw.double(), b.gw) < tol(b.gw), `${what}: weight gradient`);
          }
      }
    assert.ok(spreadCases >= 2, `geometries with fewer inputs than outputs: ${spreadCases}`);
  }));

test('fused batch norm + leaky ReLU equals BatchNorm2d then LeakyReLU: outputs, running statistics, gradients; train, eval and one row', () => {
  manualSeed(10);
  for (const [rows, training] of [
    [300, true],
    [300, false],
    [1, true],
  ] as const)
    tidy(() => {
      const x = randn([rows, 6]).mul(3).add(1);
      const mk = () => {
        const bn = new BatchNorm2d(6, { eps: 1e-3, momentum: 0.3 });
        noGrad(() => {
          bn.weight.copy_(randn([6]));
          bn.bias.copy_(randn([6]));
          bn.runningVar.fill_(2);
        });
        return bn;
      };
      const b1 = mk(),
        b2 = mk();
      b2.loadStateDict(b1.stateDict());
      b1.train(training);
      b2.train(training);
      const x1 = x.detach().requiresGrad_(),
        x2 = x.detach().requiresGrad_();
      const y1 = sparseBnLeaky(x1, b1, training && rows > 1, 0.1);
      // The reference: libtorch's batch_norm and leaky_relu (batch statistics need two rows).
      const y2 = F.leakyRelu(
        F.batchNorm(x2, b2.runningMean, b2.runningVar, { weight: b2.weight, bias: b2.bias, training: training && rows > 1, momentum: 0.3, eps: 1e-3 }),
        0.1,
      );
      const tag = `${rows} rows, ${training ? 'train' : 'eval'}`;
      assert.ok(maxAbsDiff(y1, y2) < 1e-5, `${tag}: output ${maxAbsDiff(y1, y2)}`);
      assert.ok(maxAbsDiff(b1.runningMean, b2.runningMean) < 1e-6 && maxAbsDiff(b1.runningVar, b2.runningVar) < 1e-5, `${tag}: running statistics`);
      const wt = randn([rows, 6]);
      y1.mul(wt).sum().backward();
      y2.mul(wt).sum().backward();
      for (const [n, g1, g2] of [
        ['x', x1.grad!, x2.grad!],
        ['weight', b1.weight.grad!, b2.weight.grad!],
        ['bias', b1.bias.grad!, b2.bias.grad!],
      ] as const) {
        assert.ok(maxAbsDiff(g1, g2) < 1e-4 * (1 + g2.abs().max().item()), `${tag}: ${n} gradient ${maxAbsDiff(g1, g2)}`);
      }
      b1.dispose();
      b2.dispose();
    });
});
