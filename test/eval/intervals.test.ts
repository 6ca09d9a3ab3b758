import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binomialStdErr,
  wilsonInterval,
  clopperPearson,
  poissonUpperLimit,
  poissonInterval,
  normalQuantile,
  betaInc,
  gammaP,
} from '../../src/eval/intervals.js';

const near = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b}`);

test('special functions against tabulated values', () => {
  near(normalQuantile(0.975), 1.959963985, 1e-8);
  near(normalQuantile(0.01), -2.326347874, 1e-8);
  near(betaInc(2, 3, 0.4), 0.5248, 1e-12); // I_0.4(2,3) = 1 − (0.6⁴ + 4·0.4·0.6³) = 0.5248
  near(gammaP(1, 2), 1 - Math.exp(-2), 1e-14);
  near(gammaP(3, 2.5), 1 - Math.exp(-2.5) * (1 + 2.5 + 2.5 ** 2 / 2), 1e-14);
  near(gammaP(3, 10), 1 - Math.exp(-10) * (1 + 10 + 50), 1e-14); // continued-fraction branch
});

test('Poisson limits: 2.303 for zero at 90 %, Garwood intervals as tabulated (PDG)', () => {
  near(poissonUpperLimit(0), Math.log(10), 1e-9);
  near(poissonUpperLimit(1), 3.89, 1e-3);
  near(poissonUpperLimit(10), 15.41, 1e-2);
  const [lo, hi] = poissonInterval(3, 0.9);
  near(lo, 0.818, 1e-3);
  near(hi, 7.754, 1e-3);
});

test('binomial: plain error, Wilson and Clopper–Pearson against known values', () => {
  near(binomialStdErr(1, 4), Math.sqrt((0.25 * 0.75) / 4), 1e-15);
  assert.equal(binomialStdErr(0, 0), 0);
  const w = wilsonInterval(5, 10, 0.95);
  near(w[0], 0.2366, 1e-4);
  near(w[1], 0.7634, 1e-4);
  const cp = clopperPearson(3, 100, 0.95);
  near(cp[0], 0.00623, 1e-5);
  near(cp[1], 0.08518, 1e-5);
  near(clopperPearson(0, 10, 0.95)[1], 1 - 0.025 ** (1 / 10), 1e-9); // k = 0: upper = 1 − (α/2)^(1/n)
  assert.deepEqual(
    clopperPearson(10, 10, 0.95).map((x) => x === 1 || x < 1),
    [true, true],
  );
  assert.equal(clopperPearson(10, 10, 0.95)[1], 1);
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
});
