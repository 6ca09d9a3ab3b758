// Shared helpers of the engine tests: approximate comparison of nested arrays.
import assert from 'node:assert/strict';
import type { NestedArray, Tensor } from '../../src/torch/index.js';

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
  const g = flat(got), w = flat(want);
  g.forEach((v, i) => {
    const tol = atol + rtol * Math.abs(w[i]!);
    assert.ok(Math.abs(v - w[i]!) <= tol || (Number.isNaN(v) && Number.isNaN(w[i]!)), `element ${i}: got ${v}, want ${w[i]} (±${tol})`);
  });
}
