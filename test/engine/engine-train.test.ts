// Training: a small conv net fits a fixed batch with Adam and with SGD (momentum, Nesterov);
// a learning-rate change takes effect; a checkpoint round trip continues bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, SGD, tidy, tensor, functional as F, type Optimizer, type Tensor } from '../../src/torch/index.js';
import { saveCheckpoint, loadCheckpoint, type Module, type Layer } from '../../src/nn/index.js';
import { smallNet, fixedBatch } from './nets.js';

function step(model: Layer, opt: Optimizer, x: Tensor, y: Tensor): number {
  return tidy(() => {
    opt.zeroGrad();
    const loss = F.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  });
}

function fit(makeOpt: (m: Module) => Optimizer, steps: number): number[] {
  const model = smallNet(1);
  const { x, y } = fixedBatch(2);
  const opt = makeOpt(model);
  const losses = Array.from({ length: steps }, () => step(model, opt, x, y));
  model.dispose();
  x.dispose();
  y.dispose();
  return losses;
}

test('Adam fits a fixed batch: loss falls ≥ 10× in 300 steps', () => {
  const l = fit((m) => new Adam(m.parameters(), { lr: 1e-2 }), 300);
  assert.ok(l.at(-1)! < l[0]! / 10, `loss ${l[0]} → ${l.at(-1)}`);
});

test('SGD with Nesterov momentum fits a fixed batch: loss falls ≥ 10×', () => {
  const l = fit((m) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true }), 300);
  assert.ok(l.at(-1)! < l[0]! / 10, `loss ${l[0]} → ${l.at(-1)}`);
});

test('SGD and Adam updates match their formulas; lr changes between steps take effect', () =>
  tidy(() => {
    const p = tensor([1, -2]).requiresGrad_();
    const sgd = new SGD([p], { lr: 0.1, momentum: 0.5 });
    const g = () => {
      sgd.zeroGrad();
      p.mul(tensor([3, 4]))
        .sum()
        .backward();
    }; // gradient [3, 4]
    g();
    sgd.step(); // buf = g; p −= 0.1·g
    assert.deepEqual(
      p
        .detach()
        .toNumbers()
        .map((v) => +v.toFixed(6)),
      [0.7, -2.4],
    );
    sgd.lr = 1;
    assert.equal(sgd.lr, 1);
    g();
    sgd.step(); // buf = 0.5·g + g = 1.5 g; p −= 1·1.5 g
    assert.deepEqual(
      p
        .detach()
        .toNumbers()
        .map((v) => +v.toFixed(6)),
      [-3.8, -8.4],
    );
    sgd.lr = 0;
    g();
    sgd.step();
    assert.deepEqual(
      p
        .detach()
        .toNumbers()
        .map((v) => +v.toFixed(6)),
      [-3.8, -8.4],
      'lr 0 leaves the parameter',
    );

    const q = tensor([1, 1]).requiresGrad_();
    const adam = new Adam([q], { lr: 0.1 });
    q.mul(tensor([2, -0.5]))
      .sum()
      .backward();
    adam.step(); // first Adam step moves each coordinate by lr·sign(g) (bias-corrected m/√v = ±1)
    assert.deepEqual(
      q
        .detach()
        .toNumbers()
        .map((v) => +v.toFixed(5)),
      [0.9, 1.1],
    );
    const s = adam.getState()[0]!;
    assert.equal(s.step, 1);
    assert.deepEqual(
      s.expAvg!.toNumbers().map((v) => +v.toFixed(6)),
      [0.2, -0.05],
    );
    s.expAvg!.dispose();
    s.expAvgSq!.dispose();
  }));

test('save → load of model and optimiser gives identical subsequent losses (Adam and SGD)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daqyolo-ckpt-'));
  try {
    for (const make of [
      (m: Module) => new Adam(m.parameters(), { lr: 3e-3 }),
      (m: Module) => new SGD(m.parameters(), { lr: 0.02, momentum: 0.9, nesterov: true }),
    ]) {
      const { x, y } = fixedBatch(3);
      const a = smallNet(1);
      const optA = make(a);
      for (let i = 0; i < 20; i++) step(a, optA, x, y);
      optA.lr = optA.lr * 0.5; // the learning rate is part of the optimiser state
      const path = join(dir, 'last.safetensors');
      saveCheckpoint(path, { model: a, optimizer: optA, meta: { epoch: 3, best: 0.25, note: 'x' } });
      const after = Array.from({ length: 8 }, () => step(a, optA, x, y));

      const b = smallNet(99); // different initial weights
      const optB = make(b);
      const { meta } = loadCheckpoint(path, { model: b, optimizer: optB });
      assert.deepEqual(meta, { epoch: 3, best: 0.25, note: 'x' });
      assert.equal(optB.lr, optA.lr);
      const resumed = Array.from({ length: 8 }, () => step(b, optB, x, y));
      assert.deepEqual(resumed, after, 'bit-identical losses after resuming');

      // Without the optimiser state the run diverges (so the test above can fail).
      const c = smallNet(99);
      const optC = make(c);
      loadCheckpoint(path, { model: c });
      optC.lr = optA.lr;
      const fresh = Array.from({ length: 8 }, () => step(c, optC, x, y));
      assert.notDeepEqual(fresh, after);
      for (const m of [a, b, c]) m.dispose();
      x.dispose();
      y.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
