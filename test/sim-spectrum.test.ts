// The supernova νe-CC spectrum density against hand-integrated closed forms, and the sampler
// built on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSimConfig } from '../src/sim/config.js';
import { Random } from '../src/sim/random.js';
import { ccSpectrumDensity, makeEnergySampler } from '../src/sim/spectrum.js';

const close = (a: number, b: number, rel = 1e-6) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test('ccSpectrumDensity: flux only, α = 2, ⟨E⟩ = 10 is the Gamma(3, 0.3) density', () => {
  // f(E) = E² e^{-0.3E} · 0.3³ / Γ(3) by hand (∫ E² e^{-bE} = 2/b³).
  const b = 0.3;
  const es = [0.5, 5, 10, 25, 60];
  const d = ccSpectrumDensity(es, { meanEnergyMeV: 10, alpha: 2, ccQMeV: 1.5, weightByCrossSection: false });
  es.forEach((e, i) => close(d[i], (e * e * Math.exp(-b * e) * b ** 3) / 2));
});

test('ccSpectrumDensity: × (E − Q)², α = 0 and α = 2, against hand integrals', () => {
  const q = 1.5;
  // α = 0, ⟨E⟩ = 8: b = 1/8; ∫_Q^∞ (E−Q)² e^{-bE} dE = e^{-bQ} · 2/b³.
  {
    const b = 1 / 8;
    const es = [1, 1.5, 3, 12, 40];
    const d = ccSpectrumDensity(es, { meanEnergyMeV: 8, alpha: 0, ccQMeV: q });
    const norm = (Math.exp(-b * q) * 2) / b ** 3;
    es.forEach((e, i) => close(d[i], e > q ? ((e - q) ** 2 * Math.exp(-b * e)) / norm : 0));
    assert.equal(d[0], 0, 'below threshold');
  }
  // α = 2, ⟨E⟩ = 11: b = 3/11; with u = E − Q, ∫ (u+Q)² u² e^{-b(u+Q)} du
  //   = e^{-bQ} (4!/b⁵ + 2Q·3!/b⁴ + Q²·2!/b³).
  {
    const b = 3 / 11;
    const norm = Math.exp(-b * q) * (24 / b ** 5 + (2 * q * 6) / b ** 4 + (q * q * 2) / b ** 3);
    const es = [2, 7.3, 15, 33];
    const d = ccSpectrumDensity(es, { meanEnergyMeV: 11, alpha: 2, ccQMeV: q, weightByCrossSection: true });
    es.forEach((e, i) => close(d[i], (e * e * (e - q) ** 2 * Math.exp(-b * e)) / norm));
  }
});

test('ccSpectrumDensity refuses a non-positive mean energy', () => {
  assert.throws(() => ccSpectrumDensity([1], { meanEnergyMeV: 0, alpha: 2.5, ccQMeV: 1.5 }), /⟨E⟩ > 0/);
});

test('makeEnergySampler draws the density: sample mean matches ∫ E f(E) dE', () => {
  const cfg = parseSimConfig({ signal: { spectrum: 'fermi-dirac', meanEnergyMeV: 11, pinching: 2.5 } });
  const sampler = makeEnergySampler(cfg);
  const rng = new Random(3);
  const n = 20000;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const e = sampler.sample(rng);
    sum += e;
    sum2 += e * e;
  }
  const mean = sum / n;
  const sd = Math.sqrt(sum2 / n - mean * mean);
  const grid = Array.from({ length: 20000 }, (_, i) => (i + 0.5) * 0.01);
  const d = ccSpectrumDensity(grid, { meanEnergyMeV: 11, alpha: 2.5, ccQMeV: 1.5 });
  let expected = 0;
  grid.forEach((e, i) => (expected += e * d[i] * 0.01));
  // Cross-section weighting pushes the interaction mean above the flux's 11 MeV.
  assert.ok(expected > 13 && expected < 20, `⟨E⟩ of interactions ${expected}`);
  assert.ok(Math.abs(mean - expected) < 4 * (sd / Math.sqrt(n)), `sample mean ${mean} vs ${expected}`);
});
