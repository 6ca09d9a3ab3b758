// Shared helpers of the engine tests: approximate comparison of nested arrays, and gradients
// against finite differences.
import assert from 'node:assert/strict';
import { type NestedArray, Tensor, tensor, randn, noGrad, tidy } from '../../src/torch/index.js';

function flat(x: NestedArray): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [typeof x === 'boolean' ? Number(x) : x];
}
function shapeOf(x: NestedArray): number[] {
  return Array.isArray(x) ? [x.length, ...(x.length ? shapeOf(x[0]!) : [])] : [];
}

/** Asserts that t has the shape of `want` and each element within atol + rtol·|want|. */
export function close(t: Tensor | NestedArray, want: NestedArray, atol = 1e-5, rtol = 1e-5): void {
  const got = typeof t === 'object' && !Array.isArray(t) ? t.tolist() : t;
  assert.deepEqual(shapeOf(got), shapeOf(want), 'shape');
  const g = flat(got),
    w = flat(want);
  g.forEach((v, i) => {
    const tol = atol + rtol * Math.abs(w[i]!);
    assert.ok(Math.abs(v - w[i]!) <= tol || (Number.isNaN(v) && Number.isNaN(w[i]!)), `element ${i}: got ${v}, want ${w[i]} (±${tol})`);
  });
}

type Fn = (xs: Tensor[]) => Tensor;

/** Compares autograd's gradient of fn with respect to every input against central differences. */
export function gradcheck(name: string, fn: Fn, inputs: Tensor[], eps = 1e-6, atol = 1e-6, rtol = 1e-4): void {
  tidy(() => {
    const xs = inputs.map((x) => x.double().detach().requiresGrad_(true));
    const out = fn(xs);
    const weights = randn(out.shape, { dtype: 'float64' });
    const scalar = (ys: Tensor): Tensor => ys.mul(weights).sum();
    scalar(out).backward();
    xs.forEach((x, k) => {
      const analytic = x.grad!.toNumbers();
      const base = x.detach().dataSync() as Float64Array;
      for (let j = 0; j < base.length; j++) {
        const at = (d: number): number =>
          tidy(() =>
            noGrad(() => {
              const p = Float64Array.from(base);
              p[j]! += d;
              const moved = xs.map((y, m) => (m === k ? tensor(p, { shape: x.shape }) : y.detach()));
              return scalar(fn(moved)).item();
            }),
          );
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const tol = atol + rtol * Math.abs(numeric);
        assert.ok(Math.abs(analytic[j]! - numeric) <= tol, `${name}: d/d input ${k}[${j}]: autograd ${analytic[j]}, finite difference ${numeric}`);
      }
    });
  });
}
