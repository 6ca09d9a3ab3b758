// The native boundary: every addon function is declared in src/torch/native-api.ts with its
// arity, the load check refuses an addon with a function missing, extra or of another arity, the
// C++ side refuses a call with another number of arguments, and an optimiser is freed on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../../src/torch/native.js';
import { NATIVE_API, addonMismatches } from '../../src/torch/native-api.js';
import { readFileSync } from 'node:fs';
import { Adam, SGD, zeros, ones, setNumThreads, getNumThreads, getBlasThreads } from '../../src/torch/index.js';

const addon = native as unknown as Record<string, unknown>;

test('the loaded addon exports exactly the declared functions, with the declared arities', () => {
  assert.deepEqual(addonMismatches(addon), []);
  assert.deepEqual(Object.keys(addon).sort(), Object.keys(NATIVE_API).sort());
  assert.ok(Object.keys(NATIVE_API).length > 120);
  assert.equal((addon.sparseRulebook as { arity: number }).arity, 12);
});

test('the load check names a function missing from the addon, one not declared, and one of another arity', () => {
  const copy: Record<string, unknown> = { ...addon };
  delete copy.matmul;
  copy.newKernel = Object.assign(() => 0, { arity: 1 });
  copy.conv2d = Object.assign(() => 0, { arity: 6 });
  const wrong = addonMismatches(copy);
  assert.equal(wrong.length, 3, wrong.join('\n'));
  assert.ok(
    wrong.some((w) => /^matmul: declared in src\/torch\/native-api\.ts, not exported by the addon$/.test(w)),
    wrong.join('\n'),
  );
  assert.ok(
    wrong.some((w) => /^newKernel: exported by the addon, not declared/.test(w)),
    wrong.join('\n'),
  );
  assert.ok(
    wrong.some((w) => /^conv2d: takes 6 arguments in C\+\+, 7 in src\/torch\/native-api\.ts$/.test(w)),
    wrong.join('\n'),
  );
});

test('C++ refuses a call with too few or too many arguments, naming the function and both counts', () => {
  const call = (name: string, ...args: unknown[]) => (addon[name] as (...a: unknown[]) => unknown)(...args);
  const a = zeros([2, 2]);
  assert.throws(() => call('matmul', a.handle), { name: 'TypeError', message: 'daqyolo_torch.matmul takes 2 arguments, got 1' });
  assert.throws(() => call('clone', a.handle, a.handle), { message: 'daqyolo_torch.clone takes 1 argument, got 2' });
  assert.throws(() => call('sparseRulebook', a.handle, 1, 2, 2, 2, 2, 3, 3, 1, 1, 1), { message: 'daqyolo_torch.sparseRulebook takes 12 arguments, got 11' });
  assert.throws(() => call('liveTensors', 1), { message: 'daqyolo_torch.liveTensors takes 0 arguments, got 1' });
  // The right count still works.
  assert.deepEqual(call('shape', a.handle), [2, 2]);
  a.dispose();
});

test('an optimiser is freed by dispose(): its state is released at once, later use throws, a second dispose is harmless', () => {
  const n = 1 << 20; // 4 MiB of float32 parameters: Adam keeps two moments, 8 MiB
  const p = zeros([n]).requiresGrad_(true);
  const g = ones([n]);
  const opt = new Adam([p], { lr: 0.1 });
  p.grad = g;
  opt.step();
  assert.equal(opt.getState()[0]?.step, 1);
  for (const v of Object.values(opt.getState()[0]!)) if (typeof v !== 'number') v.dispose();
  // The caching allocator counts the bytes of live tensor blocks (≥ 16 KiB): the moments leave it
  // when the optimiser is disposed, not when the garbage collector gets to the handle.
  const stats = native.cpuAllocatorStats();
  const before = stats.liveBytes;
  opt.dispose();
  if (stats.enabled) {
    const freed = before - native.cpuAllocatorStats().liveBytes;
    assert.ok(Math.abs(freed - 8 * n) < 1 << 16, `dispose released ${freed} bytes of tensor storage, expected ${8 * n}`);
  }
  assert.throws(() => opt.step(), /use of a disposed optimiser/);
  assert.throws(() => opt.lr, /use of a disposed optimiser/);
  opt.dispose();
  // The parameters stay the caller's.
  assert.equal(p.isDisposed, false);
  const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
  sgd.step();
  sgd.dispose();
  assert.throws(() => sgd.zeroGrad(), /use of a disposed optimiser/);
  p.dispose();
  g.dispose();
});

test("setNumThreads sizes OpenBLAS's thread pool too, where the BLAS is OpenBLAS", () => {
  // libtorch's own setting leaves OpenBLAS's pool at one thread per core (docs/engine.md).
  const openblas = readFileSync('/proc/self/maps', 'utf8').includes('openblas');
  const before = getNumThreads();
  try {
    for (const n of [1, 2, 1]) {
      setNumThreads(n);
      assert.equal(getNumThreads(), n);
      if (openblas) assert.equal(getBlasThreads(), n, `OpenBLAS threads after setNumThreads(${n})`);
      else assert.equal(getBlasThreads(), -1);
    }
  } finally {
    setNumThreads(before);
  }
});
