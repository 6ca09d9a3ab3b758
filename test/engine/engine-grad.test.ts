// Autograd against central finite differences in float64, for the ops the YOLO loss and the
// network use. Each function is reduced to a scalar through fixed random weights, so that a
// wrong gradient cannot hide behind a sum (Σ BN(x) has zero gradient for any x, for example).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, randn, rand, manualSeed, noGrad, isGradEnabled, tidy, where, functional as F } from '../../src/torch/index.js';
import { gradcheck } from './helpers.js';

test('finite-difference gradients: elementwise functions', () => {
  manualSeed(1);
  const x = randn([3, 4]);
  gradcheck('sigmoid', ([a]) => a!.sigmoid(), [x]);
  gradcheck('exp', ([a]) => a!.exp(), [x]);
  gradcheck('log', ([a]) => a!.log(), [rand([3, 4]).add(0.5)]);
  gradcheck('tanh·square·sqrt', ([a]) => a!.tanh().square().add(a!.abs().add(1).sqrt()), [x]);
  gradcheck('broadcast mul/div', ([a, b]) => a!.mul(b!).div(b!.add(3)), [x, randn([1, 4])]);
  gradcheck('softmax / logSoftmax', ([a]) => a!.softmax(1).add(a!.logSoftmax(0)), [x]);
  gradcheck('pow with tensor exponent', ([a, b]) => a!.pow(b!), [rand([4]).add(0.5), randn([4])]);
});

test('finite-difference gradients: BCE with logits and softmax cross-entropy', () => {
  manualSeed(2);
  const logits = randn([2, 5]).mul(3);
  const target = rand([2, 5]).round();
  gradcheck('bce mean', ([l]) => F.binaryCrossEntropyWithLogits(l!, target.double()), [logits]);
  gradcheck(
    'bce none, posWeight',
    ([l]) => F.binaryCrossEntropyWithLogits(l!, target.double(), { posWeight: tensor([2], { dtype: 'float64' }), reduction: 'none' }),
    [logits],
  );
  gradcheck('bce soft targets (gradient w.r.t. target too)', ([l, t]) => F.binaryCrossEntropyWithLogits(l!, t!, { reduction: 'sum' }), [logits, rand([2, 5])]);
  const cls = tensor([1, 4, 0], { dtype: 'int64' });
  gradcheck('cross entropy', ([l]) => F.crossEntropy(l!, cls, 'none'), [randn([3, 5])]);
  gradcheck(
    'cross entropy [N, C, H, W]',
    ([l]) =>
      F.crossEntropy(
        l!,
        tensor(
          [
            [
              [0, 2],
              [1, 1],
            ],
          ],
          { dtype: 'int64' },
        ),
      ),
    [randn([1, 3, 2, 2])],
  );
  gradcheck('mse', ([a, b]) => F.mseLoss(a!, b!), [randn([6]), randn([6])]);
});

test('finite-difference gradients: where, masks, index, max and amax', () => {
  manualSeed(3);
  // Values far from ties so that max is differentiable at the point.
  const x = tensor([
    [0.3, -1.2, 2.5, 0.9],
    [1.7, 0.1, -0.4, 3.3],
    [-2.2, 0.6, 1.1, -0.8],
  ]);
  const mask = x.gt(0.5);
  gradcheck('where', ([a]) => where(mask, a!.exp(), a!.square()), [x]);
  gradcheck('where with a number', ([a]) => where(mask, a!, 0), [x]);
  gradcheck('maskedFill', ([a]) => a!.maskedFill(mask, 0).mul(a!), [x]);
  gradcheck('bool-mask index', ([a]) => a!.index([mask]).sigmoid(), [x]);
  gradcheck('int index + gather', ([a]) => a!.index([tensor([2, 0], { dtype: 'int64' })]).gather(1, tensor([[1], [3]], { dtype: 'int64' })), [x]);
  gradcheck('max(dim)', ([a]) => a!.max(1).values, [x]);
  gradcheck('max()', ([a]) => a!.max().reshape(1), [x]);
  gradcheck('amax(dims, keepdim)', ([a]) => a!.amax([1], true), [x]);
  gradcheck('maximum / clamp', ([a]) => a!.maximum(0.2).add(a!.clamp(-1, 1)), [x]);
  gradcheck('indexPut (values)', ([a, v]) => a!.indexPut([mask], v!), [x, randn([6])]);
});

test('finite-difference gradients: conv2d and batchNorm (training mode)', () => {
  manualSeed(4);
  gradcheck('conv2d stride 2, padding 1', ([x, w, b]) => F.conv2d(x!, w!, b!, { stride: 2, padding: 1 }), [
    randn([2, 2, 5, 5]),
    randn([3, 2, 3, 3]),
    randn([3]),
  ]);
  gradcheck('conv2d channels_last, groups 2', ([x, w]) => F.conv2d(x!.contiguous('channels_last'), w!, null, { groups: 2 }), [
    randn([1, 4, 4, 4]),
    randn([2, 2, 2, 2]),
  ]);
  gradcheck('batchNorm training', ([x, w, b]) => F.batchNorm(x!, null, null, { weight: w!, bias: b!, training: true, eps: 1e-3 }), [
    randn([3, 2, 3, 3]),
    rand([2]).add(0.5),
    randn([2]),
  ]);
  gradcheck('leakyRelu·pad·upsample·maxPool', ([x]) => F.maxPool2d(F.interpolate(F.pad(F.leakyRelu(x!, 0.1), [1, 0, 1, 0]), { scaleFactor: 2 }), 2), [
    tensor([
      [
        [
          [0.3, -1.2, 2.5],
          [1.7, 0.1, -0.4],
          [-2.2, 0.6, 1.1],
        ],
      ],
    ]),
  ]);
});

test('autograd plumbing: noGrad, detach, accumulation, setting grad to null', () =>
  tidy(() => {
    const w = tensor([1, 2, 3]).requiresGrad_();
    assert.ok(w.requiresGrad && w.isLeaf);
    noGrad(() => {
      assert.equal(isGradEnabled(), false);
      assert.equal(w.mul(2).requiresGrad, false);
    });
    assert.equal(isGradEnabled(), true);
    assert.throws(
      () =>
        noGrad(() => {
          throw new Error('inside');
        }),
      /inside/,
    );
    assert.equal(isGradEnabled(), true, 'noGrad restores the mode after a throw');
    assert.equal(w.mul(2).detach().requiresGrad, false);
    w.mul(w).sum().backward();
    w.mul(3).sum().backward();
    assert.deepEqual(w.grad!.tolist(), [5, 7, 9]); // 2w + 3: gradients accumulate
    w.grad = null;
    assert.equal(w.grad, null);
    const y = w.mul(2);
    y.retainGrad();
    y.sum().backward();
    assert.deepEqual(y.grad!.tolist(), [1, 1, 1]);
    assert.throws(() => tensor([1, 2]).sum().backward(), /does not require grad/);
  }));
