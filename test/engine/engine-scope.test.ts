// Deterministic memory (tidy/keep/dispose) and libtorch errors surfacing as JS Errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, randn, zeros, tidy, keep, dispose, liveTensors, functional as F } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';

test('tidy frees intermediates, keeps what it returns (arrays, maps, objects), nests', () => {
  const base = liveTensors();
  const r = tidy(() => {
    const a = randn([100]);
    const b = a.mul(2).add(1).exp();
    return b.sum();
  });
  assert.equal(liveTensors(), base + 1, 'only the result survives');
  assert.ok(Number.isFinite(r.item()));
  r.dispose();
  assert.equal(liveTensors(), base);

  const out = tidy(() => {
    const inner = tidy(() => {
      const x = zeros([3]).add(1);
      x.mul(5); // garbage of the inner scope
      return { x, list: [x.mul(2)], map: new Map([['y', x.mul(3)]]) };
    });
    assert.equal(liveTensors(), base + 3, 'inner results moved to the outer scope');
    return inner.map.get('y')!.add(inner.list[0]!); // outer frees inner.x and friends
  });
  assert.deepEqual(out.tolist(), [5, 5, 5]);
  assert.equal(liveTensors(), base + 1);
  out.dispose();
  out.dispose(); // idempotent
  assert.equal(liveTensors(), base);
});

test('a throw inside tidy frees everything created there; keep() opts out', () => {
  const base = liveTensors();
  let kept = null as ReturnType<typeof zeros> | null;
  assert.throws(
    () =>
      tidy(() => {
        randn([10]).add(1);
        kept = keep(zeros([2]));
        tidy(() => {
          randn([3]);
          throw new Error('boom');
        });
      }),
    /boom/,
  );
  assert.equal(liveTensors(), base + 1);
  assert.deepEqual(kept!.tolist(), [0, 0]);
  dispose([kept]);
  assert.equal(liveTensors(), base);
  assert.throws(() => tidy(() => Promise.resolve(1)), /returned a promise/);
});

test("libtorch errors become JS Errors with libtorch's message; the process survives", () => {
  const base = liveTensors();
  tidy(() => {
    const a = tensor([1, 2, 3]),
      b = tensor([1, 2]);
    assert.throws(
      () => a.add(b),
      (e: Error) => e instanceof Error && /size of tensor a \(3\) must match the size of tensor b \(2\)/.test(e.message),
    );
    assert.throws(() => a.reshape(2, 2), /shape '\[2, 2\]' is invalid for input of size 3/);
    assert.throws(() => F.conv2d(randn([1, 2, 4, 4]), randn([1, 3, 3, 3])), /expected input\[1, 2, 4, 4\] to have 3 channels/);
    assert.throws(() => F.crossEntropy(randn([2, 3]), tensor([0, 1])), /expected scalar type Long but found Float/);
    assert.throws(() => tensor([1, 2], { dtype: 'int64' }).matmul(tensor([1, 2])), /expected .*(same dtype|scalar type)|Long.*Float|Float.*Long/i);
    assert.throws(() => a.select(0, 7), /index 7 out of range for tensor of size \[3\]/);
    assert.throws(() => zeros([1], { dtype: 'complex64' as never }), /unknown dtype 'complex64'/);
    assert.throws(() => native.unary('nosuchop', a.handle), /unknown unary op 'nosuchop'/);
    const d = tensor([1]);
    d.dispose();
    assert.throws(() => d.add(1), /use of a disposed tensor/);
    assert.throws(() => native.binary('add', {}, 1), /expected a number/); // a non-tensor object at the native boundary
    // Still alive and computing.
    assert.deepEqual(a.add(1).tolist(), [2, 3, 4]);
  });
  assert.equal(liveTensors(), base, 'failed ops leak no handles');
});

test('`using` frees a tensor at the end of its block', () => {
  const before = liveTensors();
  {
    using t = zeros([4, 4]);
    assert.equal(
      tidy(() => t.sum().item()),
      0,
    );
    assert.equal(liveTensors(), before + 1);
  }
  assert.equal(liveTensors(), before);
});
