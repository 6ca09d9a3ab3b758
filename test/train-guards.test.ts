// Guards of the training loop that need no dataset: the NaN guard on gradients and the
// optimiser refusing parameters that Module.to()/toChannelsLast() replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, randn, Adam } from '../src/torch/index.js';
import { Conv2d } from '../src/nn/index.js';
import { checkGradients, NonFiniteLossError } from '../src/train/trainer.js';

test('the NaN guard checks gradients and names the step and the parameter', () => {
  tidy(() => {
    const ok = tensor([1, 2]).requiresGrad_();
    const bad = tensor([0, 3]).requiresGrad_();
    // d√x/dx at x = 0 is infinite; times the zero from mul(0) it is NaN, while the loss is finite.
    const loss = ok.square().sum().add(bad.mul(0).sqrt().sum());
    assert.ok(Number.isFinite(loss.item()));
    loss.backward();
    const named: [string, typeof ok][] = [
      ['backbone.conv0.weight', ok],
      ['head.0.bias', bad],
    ];
    assert.throws(
      () => checkGradients(named, 17, 2, 5),
      (e: Error) =>
        e instanceof NonFiniteLossError &&
        e.message === 'non-finite gradient at step 17 (epoch 2, batch 5): parameter head.0.bias; the last good checkpoint is kept',
    );
    checkGradients([named[0]!], 17, 2, 5); // finite gradients pass
  });
});

test('an optimiser whose parameters toChannelsLast() replaced refuses to step, with a clear error', () => {
  tidy(() => {
    const conv = new Conv2d(2, 4, 3, { padding: 1 });
    const opt = new Adam(conv.parameters(), { lr: 0.1 });
    const step = () => {
      opt.zeroGrad();
      conv
        .forward(randn([1, 2, 5, 5]))
        .square()
        .sum()
        .backward();
      opt.step();
    };
    step(); // bound: fine
    if (conv.weight.isContiguous('channels_last')) throw new Error('fixture: weight already channels-last');
    conv.toChannelsLast();
    const before = conv.weight.toNumbers();
    assert.throws(
      step,
      /optimiser: parameter 0 of 2 was replaced after the optimiser was created \(Module\.to\(\) or toChannelsLast\(\)\); create the optimiser after moving the model/,
    );
    assert.deepEqual(conv.weight.toNumbers(), before, 'the model is unchanged');
    // An optimiser created after the move trains the tensors the model uses.
    const fresh = new Adam(conv.parameters(), { lr: 0.1 });
    fresh.zeroGrad();
    conv
      .forward(randn([1, 2, 5, 5]))
      .square()
      .sum()
      .backward();
    fresh.step();
    assert.notDeepEqual(conv.weight.toNumbers(), before);
  });
});
