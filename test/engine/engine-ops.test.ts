// The tensor engine's ops against known values. Values marked "PyTorch" were computed once with
// torch 1.13 (/usr/bin/python3) and pasted here; the others follow from the definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor,
  zeros,
  ones,
  full,
  arange,
  linspace,
  rand,
  randn,
  randint,
  cat,
  stack,
  where,
  manualSeed,
  tidy,
  functional as F,
} from '../../src/torch/index.js';
import { close } from './helpers.js';

test('creation: zeros/ones/full/arange/linspace with dtypes', () =>
  tidy(() => {
    assert.deepEqual(zeros([2, 2]).tolist(), [
      [0, 0],
      [0, 0],
    ]);
    assert.equal(ones([3], { dtype: 'int32' }).dtype, 'int32');
    assert.deepEqual(full([2], true).tolist(), [true, true]);
    assert.equal(full([2], true).dtype, 'bool');
    assert.deepEqual(arange(5).tolist(), [0, 1, 2, 3, 4]);
    assert.deepEqual(arange(1, 2, 0.25).tolist(), [1, 1.25, 1.5, 1.75]);
    assert.equal(arange(3, undefined, 1, { dtype: 'int64' }).dtype, 'int64');
    close(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
  }));

test('random: manualSeed makes rand/randn/randint repeat; ranges hold', () =>
  tidy(() => {
    manualSeed(7);
    const a = [rand([50]).toNumbers(), randn([50]).toNumbers(), randint(3, 9, [200]).toNumbers()];
    manualSeed(7);
    const b = [rand([50]).toNumbers(), randn([50]).toNumbers(), randint(3, 9, [200]).toNumbers()];
    assert.deepEqual(a, b);
    assert.ok(a[0]!.every((v) => v >= 0 && v < 1));
    assert.ok(a[2]!.every((v) => Number.isInteger(v) && v >= 3 && v < 9));
    assert.deepEqual(new Set(a[2]), new Set([3, 4, 5, 6, 7, 8]));
    assert.equal(randint(0, 2, [1]).dtype, 'int64');
  }));

test('typed arrays round-trip for every dtype; tolist nests in the shape', () =>
  tidy(() => {
    const arrays = [
      Float32Array.from([1.5, -2, 3e-8]),
      Float64Array.from([Math.PI, -1e300, 5]),
      BigInt64Array.from([2n ** 53n + 1n, -3n, 0n]),
      Int32Array.from([-(2 ** 31), 7, 2 ** 31 - 1]),
      Uint8Array.from([0, 255, 9]),
    ];
    for (const a of arrays) {
      const t = tensor(a);
      assert.deepEqual(t.dataSync(), a, t.dtype);
      assert.equal(t.dataSync().constructor, a.constructor);
    }
    const b = tensor(Uint8Array.from([1, 0, 1, 1]), { dtype: 'bool', shape: [2, 2] });
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.tolist(), [
      [true, false],
      [true, true],
    ]);
    assert.deepEqual(
      tensor(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: 'int64' },
      ).tolist(),
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    assert.deepEqual(tensor([true, false]).tolist(), [true, false]);
    assert.equal(tensor(3.5).item(), 3.5);
    assert.deepEqual(tensor(3.5).shape, []);
    assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
    assert.throws(() => tensor(Float32Array.from([1, 2, 3]), { shape: [2, 2] }), /buffer holds 12 bytes, shape and dtype need 16/);
  }));

test('arithmetic broadcasts; dtype promotion follows PyTorch', () =>
  tidy(() => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const col = tensor([[10], [20]]);
    close(a.add(col), [
      [11, 12, 13],
      [24, 25, 26],
    ]);
    close(a.sub(tensor([1, 1, 1])), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    close(a.mul(2).div(4), [
      [0.5, 1, 1.5],
      [2, 2.5, 3],
    ]);
    close(a.pow(2), [
      [1, 4, 9],
      [16, 25, 36],
    ]);
    close(a.maximum(tensor([3])).minimum(5), [
      [3, 3, 3],
      [4, 5, 5],
    ]);
    const i = tensor([3, 4], { dtype: 'int64' });
    // PyTorch: int64 × integral number stays int64; × 2.5 and true division give float32.
    assert.equal(i.mul(2).dtype, 'int64');
    assert.deepEqual(i.mul(2).tolist(), [6, 8]);
    assert.equal(i.mul(2.5).dtype, 'float32');
    assert.deepEqual(i.mul(2.5).tolist(), [7.5, 10]);
    assert.equal(i.div(2).dtype, 'float32');
    assert.equal(tensor([1, 2], { dtype: 'int32' }).add(tensor([1], { dtype: 'int64' })).dtype, 'int64');
    assert.equal(tensor([true]).add(1).dtype, 'int64');
    assert.equal(tensor([1], { dtype: 'uint8' }).mul(2).dtype, 'uint8');
    assert.equal(tensor([1], { dtype: 'float32' }).add(tensor([2], { dtype: 'float64' })).dtype, 'float64');
    // A 0-d tensor does not promote within the same category (PyTorch: float32).
    assert.equal(tensor([1]).mul(tensor(2, { dtype: 'float64' })).dtype, 'float32');
    // PyTorch: remainder and floor division round toward −∞.
    assert.deepEqual(tensor([-3, 5], { dtype: 'int64' }).remainder(3).tolist(), [0, 2]);
    assert.deepEqual(tensor([-3, 5]).floorDivide(2).tolist(), [-2, 2]);
    close(tensor([1, 2, 3]).rsub(1), [0, -1, -2]);
    close(
      tensor([
        [1, 2],
        [3, 4],
      ]).matmul(tensor([[1], [1]])),
      [[3], [7]],
    );
  }));

test('comparisons and logic give bool tensors', () =>
  tidy(() => {
    const a = tensor([1, 2, 3]);
    for (const [t, want] of [
      [a.eq(2), [false, true, false]],
      [a.ne(2), [true, false, true]],
      [a.lt(2), [true, false, false]],
      [a.le(2), [true, true, false]],
      [a.gt(tensor([0, 2, 4])), [true, false, false]],
      [a.ge(2), [false, true, true]],
    ] as const) {
      assert.equal(t.dtype, 'bool');
      assert.deepEqual(t.tolist(), want);
    }
    assert.deepEqual(a.gt(1).logicalAnd(a.lt(3)).tolist(), [false, true, false]);
    assert.deepEqual(a.gt(2).logicalOr(a.lt(2)).tolist(), [true, false, true]);
    assert.deepEqual(a.gt(2).logicalNot().tolist(), [true, true, false]);
    const n = tensor([0, 1]).div(tensor([0, 0]));
    assert.deepEqual(n.isnan().tolist(), [true, false]);
    assert.deepEqual(n.isfinite().tolist(), [false, false]);
    assert.ok(a.allclose(tensor([1, 2, 3.000001])));
    assert.ok(!a.allclose(tensor([1, 2, 3.1])));
  }));

test('elementwise functions, clamp, softmax, where', () =>
  tidy(() => {
    const x = tensor([-1, 0, 1, 4]);
    close(x.abs(), [1, 0, 1, 4]);
    close(x.neg(), [1, 0, -1, -4]);
    close(x.exp(), [Math.exp(-1), 1, Math.E, Math.exp(4)]);
    close(x.abs().add(1).log(), [Math.log(2), 0, Math.log(2), Math.log(5)]);
    close(x.abs().sqrt(), [1, 0, 1, 2]);
    close(x.square(), [1, 0, 1, 16]);
    close(x.sigmoid(), [1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(-4))]);
    close(x.tanh(), [Math.tanh(-1), 0, Math.tanh(1), Math.tanh(4)]);
    close(x.relu(), [0, 0, 1, 4]);
    close(x.clamp(0, 2), [0, 0, 1, 2]);
    close(x.clamp(null, 0), [-1, 0, 0, 0]);
    close(tensor([1.5, -1.5, 2.5]).floor(), [1, -2, 2]);
    close(tensor([1.5, -1.5, 2.5]).ceil(), [2, -1, 3]);
    close(tensor([0.5, 1.5, 2.5]).round(), [0, 2, 2]); // half to even, as PyTorch
    close(tensor([2, 4]).reciprocal(), [0.5, 0.25]);
    close(tensor([4]).rsqrt(), [0.5]);
    close(x.sign(), [-1, 0, 1, 1]);
    const s = tensor([
      [1, 2, 3],
      [-1, 0, 4],
    ]);
    // PyTorch F.softmax / F.log_softmax along dim 1:
    close(s.softmax(1), [
      [0.09003057330846786, 0.2447284758090973, 0.6652409434318542],
      [0.006573262624442577, 0.017867980524897575, 0.9755586981773376],
    ]);
    close(s.logSoftmax(-1), [
      [-2.4076058864593506, -1.4076058864593506, -0.40760594606399536],
      [-5.024744987487793, -4.024744987487793, -0.024744924157857895],
    ]);
    close(where(x.gt(0), x, tensor([10])), [10, 10, 1, 4]);
    close(where(x.gt(0), 1, 0), [0, 0, 1, 1]);
  }));

test('reductions over dims with keepdim; max/argmax/min/sort/topk/cumsum', () =>
  tidy(() => {
    const a = tensor([
      [1, 5, 3],
      [4, 2, 6],
    ]);
    assert.equal(a.sum().item(), 21);
    close(a.sum(0), [5, 7, 9]);
    close(a.sum(1, true), [[9], [12]]);
    close(a.mean([0, 1]), 3.5);
    close(a.mean(-1), [3, 4]);
    close(a.amax(1), [5, 6]);
    close(a.amax([0, 1], true), [[6]]);
    close(a.amin(0), [1, 2, 3]);
    close(a.prod(1), [15, 48]);
    // PyTorch: std(1) and var() are unbiased.
    close(
      tensor([
        [1, 2, 4],
        [3, 5, 9],
      ]).std(1),
      [1.5275251865386963, 3.0550503730773926],
    );
    close(
      tensor([
        [1, 2, 4],
        [3, 5, 9],
      ]).var(),
      8,
    );
    assert.deepEqual(a.gt(4).any(1).tolist(), [true, true]);
    assert.deepEqual(a.gt(1).all(0).tolist(), [false, true, true]);
    assert.equal(a.max().item(), 6);
    assert.equal(a.min().item(), 1);
    const m = a.max(1);
    assert.deepEqual(
      [m.values.tolist(), m.indices.tolist()],
      [
        [5, 6],
        [1, 2],
      ],
    );
    assert.equal(m.indices.dtype, 'int64');
    const mk = a.min(0, true);
    assert.deepEqual([mk.values.tolist(), mk.indices.tolist()], [[[1, 2, 3]], [[0, 1, 0]]]);
    assert.equal(a.argmax().item(), 5);
    assert.deepEqual(a.argmax(0).tolist(), [1, 0, 1]);
    assert.deepEqual(a.argmin(1, true).tolist(), [[0], [1]]);
    const s = tensor([3, 1, 2]).sort(0, true);
    assert.deepEqual(
      [s.values.tolist(), s.indices.tolist()],
      [
        [3, 2, 1],
        [0, 2, 1],
      ],
    );
    const k = tensor([3, 1, 2, 9]).topk(2);
    assert.deepEqual(
      [k.values.tolist(), k.indices.tolist()],
      [
        [9, 3],
        [3, 0],
      ],
    );
    close(tensor([1, 2, 3]).cumsum(0), [1, 3, 6]);
  }));

test('views: reshape/view/permute/transpose/narrow/select/slice/expand/(un)squeeze/flip/roll/split/chunk; cat/stack', () =>
  tidy(() => {
    const a = arange(6).reshape(2, 3);
    assert.deepEqual(a.tolist(), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    assert.deepEqual(a.view(3, 2).tolist(), [
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    assert.deepEqual(a.reshape(-1).shape, [6]);
    assert.deepEqual(a.flatten().tolist(), [0, 1, 2, 3, 4, 5]);
    const t = a.transpose(0, 1);
    assert.deepEqual(t.tolist(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.equal(t.isContiguous(), false);
    assert.throws(() => t.view(6), /view size is not compatible/);
    assert.deepEqual(t.contiguous().view(6).tolist(), [0, 3, 1, 4, 2, 5]);
    assert.deepEqual(arange(24).reshape(2, 3, 4).permute(2, 0, 1).shape, [4, 2, 3]);
    assert.deepEqual(arange(24).reshape(2, 3, 4).permute(2, 0, 1).select(0, 1).tolist(), [
      [1, 5, 9],
      [13, 17, 21],
    ]);
    assert.deepEqual(a.narrow(1, 1, 2).tolist(), [
      [1, 2],
      [4, 5],
    ]);
    assert.deepEqual(a.select(1, 2).tolist(), [2, 5]);
    assert.deepEqual(arange(10).slice(0, 1, 8, 3).tolist(), [1, 4, 7]);
    assert.deepEqual(arange(10).slice(0, -3).tolist(), [7, 8, 9]);
    assert.deepEqual(
      tensor([[1], [2]])
        .expand(2, 3)
        .tolist(),
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
    );
    assert.deepEqual(a.unsqueeze(0).shape, [1, 2, 3]);
    assert.deepEqual(a.unsqueeze(-1).shape, [2, 3, 1]);
    assert.deepEqual(zeros([1, 2, 1]).squeeze().shape, [2]);
    assert.deepEqual(zeros([1, 2, 1]).squeeze(2).shape, [1, 2]);
    assert.deepEqual(a.flip(1).tolist(), [
      [2, 1, 0],
      [5, 4, 3],
    ]);
    assert.deepEqual(a.flip(0, 1).tolist(), [
      [5, 4, 3],
      [2, 1, 0],
    ]);
    // PyTorch: roll(1, 1) of [[0,1,2],[3,4,5]] and roll(2) of arange(6).
    assert.deepEqual(a.roll(1, 1).tolist(), [
      [2, 0, 1],
      [5, 3, 4],
    ]);
    assert.deepEqual(arange(6).roll(2, 0).tolist(), [4, 5, 0, 1, 2, 3]);
    assert.deepEqual(
      arange(7)
        .split(3)
        .map((x) => x.tolist()),
      [[0, 1, 2], [3, 4, 5], [6]],
    );
    assert.deepEqual(
      arange(6)
        .split([1, 5])
        .map((x) => x.shape),
      [[1], [5]],
    );
    assert.deepEqual(
      a.chunk(3, 1).map((x) => x.tolist()),
      [
        [[0], [3]],
        [[1], [4]],
        [[2], [5]],
      ],
    );
    assert.deepEqual(cat([a, a.mul(10)], 0).shape, [4, 3]);
    assert.deepEqual(cat([a, a.mul(10)], 1).tolist(), [
      [0, 1, 2, 0, 10, 20],
      [3, 4, 5, 30, 40, 50],
    ]);
    assert.deepEqual(stack([a, a], 1).shape, [2, 2, 3]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])]).tolist(), [
      [1, 2],
      [3, 4],
    ]);
    // Views share storage: writing through a view changes the base.
    const base = zeros([2, 3]);
    base.select(0, 1).fill_(7);
    base.narrow(1, 0, 1).add_(1);
    assert.deepEqual(base.tolist(), [
      [1, 0, 0],
      [8, 7, 7],
    ]);
  }));

test('indexing with bool masks and index tensors; indexPut, gather, maskedFill, nonzero', () =>
  tidy(() => {
    const a = arange(12).reshape(3, 4);
    const mask = a.remainder(5).eq(0);
    assert.deepEqual(a.index([mask]).tolist(), [0, 5, 10]);
    assert.deepEqual(a.maskedSelect(mask).tolist(), [0, 5, 10]);
    const rows = tensor([2, 0], { dtype: 'int64' });
    assert.deepEqual(a.index([rows]).tolist(), [
      [8, 9, 10, 11],
      [0, 1, 2, 3],
    ]);
    assert.deepEqual(a.index([null, tensor([3, 1], { dtype: 'int64' })]).tolist(), [
      [3, 1],
      [7, 5],
      [11, 9],
    ]);
    assert.deepEqual(a.index([rows, tensor([1, 3], { dtype: 'int64' })]).tolist(), [9, 3]);
    assert.deepEqual(a.index([tensor([true, false, true])]).shape, [2, 4]);
    assert.deepEqual(a.indexSelect(1, tensor([0, 0], { dtype: 'int64' })).tolist(), [
      [0, 0],
      [4, 4],
      [8, 8],
    ]);
    assert.deepEqual(a.gather(1, tensor([[0], [1], [3]], { dtype: 'int64' })).tolist(), [[0], [5], [11]]);
    assert.deepEqual(a.maskedFill(mask, -1).select(0, 1).tolist(), [4, -1, 6, 7]);
    assert.deepEqual(mask.nonzero().tolist(), [
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    // indexPut: out of place leaves the original; accumulate adds repeated indices.
    const z = zeros([4]);
    const idx = tensor([1, 1, 3], { dtype: 'int64' });
    assert.deepEqual(z.indexPut([idx], tensor([1, 2, 5])).tolist(), [0, 2, 0, 5]);
    assert.deepEqual(z.indexPut([idx], tensor([1, 2, 5]), true).tolist(), [0, 3, 0, 5]);
    assert.deepEqual(z.tolist(), [0, 0, 0, 0]);
    z.indexPut_([z.eq(0).logicalAnd(arange(4).gt(1))], 9);
    assert.deepEqual(z.tolist(), [0, 0, 9, 9]);
    const g = zeros([2, 3]);
    g.indexPut_([tensor([1], { dtype: 'int64' }), tensor([2], { dtype: 'int64' })], 4);
    assert.deepEqual(g.tolist(), [
      [0, 0, 0],
      [0, 0, 4],
    ]);
  }));

test('in-place variants change the tensor and return it', () =>
  tidy(() => {
    const a = tensor([1, 4, 9]);
    assert.equal(a.add_(1), a);
    assert.deepEqual(a.tolist(), [2, 5, 10]);
    a.sub_(tensor([1, 1, 1]))
      .mul_(2)
      .div_(4);
    close(a, [0.5, 2, 4.5]);
    a.pow_(2);
    close(a, [0.25, 4, 20.25]);
    a.sqrt_();
    close(a, [0.5, 2, 4.5]);
    a.neg_().abs_();
    close(a, [0.5, 2, 4.5]);
    a.log_().exp_();
    close(a, [0.5, 2, 4.5]);
    tensor([-1, 1]).relu_();
    const b = tensor([-1, 0]);
    b.sigmoid_();
    close(b, [1 / (1 + Math.E), 0.5]);
    b.zero_();
    assert.deepEqual(b.tolist(), [0, 0]);
    b.copy_(tensor([3, 4], { dtype: 'float64' }));
    assert.deepEqual(b.tolist(), [3, 4]);
    assert.equal(b.dtype, 'float32');
    // An int tensor cannot hold a float result in place (PyTorch refuses too).
    assert.throws(() => tensor([1], { dtype: 'int64' }).mul_(2.5), /can't be cast|result type Float/);
  }));

test('conversions: to(dtype), clone is a copy, contiguous(channels_last)', () =>
  tidy(() => {
    const a = tensor([1.7, -1.7]);
    assert.deepEqual(a.long().tolist(), [1, -1]);
    assert.equal(a.double().dtype, 'float64');
    assert.deepEqual(a.bool().tolist(), [true, true]);
    assert.equal(a.int().dtype, 'int32');
    const c = a.clone();
    c.fill_(0);
    close(a, [1.7, -1.7]);
    const x = arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5);
    const cl = x.contiguous('channels_last');
    assert.ok(cl.isContiguous('channels_last'));
    assert.ok(!cl.isContiguous());
    assert.deepEqual(cl.tolist(), x.tolist()); // same values, other strides
    assert.equal(a.device, 'cpu');
  }));

test('nn.functional against PyTorch: conv2d, batchNorm, pooling, interpolate, pad, losses', () =>
  tidy(() => {
    const x = arange(16).reshape(1, 1, 4, 4);
    const w = tensor([
      [
        [
          [1, 0],
          [0, -1],
        ],
      ],
      [
        [
          [2, 0],
          [0, -2],
        ],
      ],
    ]);
    // PyTorch: F.conv2d(x, w, [0.5, -1], stride=2, padding=1) and dilation=2.
    close(F.conv2d(x, w, tensor([0.5, -1]), { stride: 2, padding: 1 }), [
      [
        [
          [0.5, -1.5, 0.5],
          [-7.5, -4.5, 7.5],
          [0.5, 13.5, 15.5],
        ],
        [
          [-1.0, -5.0, -1.0],
          [-17.0, -11.0, 13.0],
          [-1.0, 25.0, 29.0],
        ],
      ],
    ]);
    close(F.conv2d(x, w.narrow(0, 0, 1), null, { dilation: 2 }), [
      [
        [
          [-10, -10],
          [-10, -10],
        ],
      ],
    ]);
    // groups: each output channel sees one input channel.
    close(
      F.conv2d(cat([x, x], 1), w, null, { groups: 2 })
        .select(1, 1)
        .sum(),
      9 * (2 * 0 - 2 * 5),
    ); // 2·x[i,j] − 2·x[i+1,j+1] = −10 at 9 places
    const xb = tensor([
      [
        [
          [1, 2],
          [3, 4],
        ],
        [
          [0, 0],
          [2, 2],
        ],
      ],
    ]);
    const rm = zeros([2]),
      rv = ones([2]);
    // PyTorch F.batch_norm(training=True, momentum=0.1, eps=1e-3) output and running statistics.
    close(F.batchNorm(xb, rm, rv, { weight: tensor([1, 2]), bias: tensor([0, 1]), training: true, momentum: 0.1, eps: 1e-3 }), [
      [
        [
          [-1.34110426902771, -0.44703471660614014],
          [0.44703489542007446, 1.341104507446289],
        ],
        [
          [-0.9990007877349854, -0.9990007877349854],
          [2.9990007877349854, 2.9990007877349854],
        ],
      ],
    ]);
    close(rm, [0.25, 0.1]);
    close(rv, [1.066666603088379, 1.0333333015441895]);
    // Eval mode uses the running statistics: (x − 0.25)/√(1.0667 + 1e-3).
    close(F.batchNorm(xb, rm, rv, { eps: 1e-3 }).select(1, 0).select(0, 0), [
      [(1 - 0.25) / Math.sqrt(1.066666603088379 + 1e-3), (2 - 0.25) / Math.sqrt(1.066666603088379 + 1e-3)],
      [(3 - 0.25) / Math.sqrt(1.066666603088379 + 1e-3), (4 - 0.25) / Math.sqrt(1.066666603088379 + 1e-3)],
    ]);
    close(F.leakyRelu(tensor([-10, 3]), 0.1), [-1, 3]);
    close(F.maxPool2d(x, 2), [
      [
        [
          [5, 7],
          [13, 15],
        ],
      ],
    ]);
    close(
      F.interpolate(
        tensor([
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ]),
        { scaleFactor: 2 },
      ),
      [
        [
          [
            [1, 1, 2, 2],
            [1, 1, 2, 2],
            [3, 3, 4, 4],
            [3, 3, 4, 4],
          ],
        ],
      ],
    );
    // PyTorch bilinear, align_corners=False.
    close(F.interpolate(arange(4).reshape(1, 1, 2, 2), { scaleFactor: 2, mode: 'bilinear' }), [
      [
        [
          [0.0, 0.25, 0.75, 1.0],
          [0.5, 0.75, 1.25, 1.5],
          [1.5, 1.75, 2.25, 2.5],
          [2.0, 2.25, 2.75, 3.0],
        ],
      ],
    ]);
    close(F.pad(ones([1, 1, 1, 2]), [1, 0, 1, 0]), [
      [
        [
          [0, 0, 0],
          [0, 1, 1],
        ],
      ],
    ]);
    close(F.pad(arange(3).reshape(1, 1, 1, 3), [2, 1, 0, 0], 'reflect'), [[[[2, 1, 0, 1, 2, 1]]]]);
    close(F.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0])), 13 / 3);
    close(F.mseLoss(tensor([1, 2, 3]), tensor([1, 0, 0]), 'sum'), 13);
    const l = tensor([-2, 0, 3]),
      t = tensor([0, 1, 1]);
    // PyTorch F.binary_cross_entropy_with_logits (mean, none, pos_weight 2 sum).
    close(F.binaryCrossEntropyWithLogits(l, t), 0.2895541787147522);
    close(F.binaryCrossEntropyWithLogits(l, t, { reduction: 'none' }), [0.12692804634571075, 0.6931471824645996, 0.04858732968568802]);
    close(F.binaryCrossEntropyWithLogits(l, t, { posWeight: full([3], 2), reduction: 'sum' }), 1.6103971004486084);
    // Stable for huge logits: log(1 + e^−1000) ≈ 0, not NaN.
    close(F.binaryCrossEntropyWithLogits(tensor([1000, -1000]), tensor([1, 0])), 0);
    // PyTorch F.cross_entropy.
    const logits = tensor([
        [1, 2, 3],
        [-1, 0, 4],
      ]),
      cls = tensor([2, 0], { dtype: 'int64' });
    close(F.crossEntropy(logits, cls), 2.7161755561828613);
    close(F.crossEntropy(logits, cls, 'none'), [0.40760594606399536, 5.024744987487793]);
    close(
      F.linear(
        tensor([[1, 2]]),
        tensor([
          [1, 1],
          [0, 2],
        ]),
        tensor([1, 0]),
      ),
      [[4, 4]],
    );
  }));
