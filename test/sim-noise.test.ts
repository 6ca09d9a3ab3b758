// The analytic noise-only TP model against a full waveform simulation of an empty channel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noBackgroundPatch, parseSimConfig } from '../src/sim/config.js';
import { NOISE_OWNER } from '../src/sim/deposits.js';
import { Simulator } from '../src/sim/event.js';
import { ar1Noise, NoiseTpModel, normalQuantile } from '../src/sim/noise.js';
import { normalCdf, upcrossProbability } from '../src/sim/threshold-crossing.js';
import { Random } from '../src/sim/random.js';
import { finderTaps, findTps, FrugalMedian, pedestalSubtractAndFilter } from '../src/sim/tps.js';

/** Digitised AR(1) noise on one empty channel around a pedestal, through the real finder (frugal median,
 *  optional FIR, threshold): the waveform simulation the analytic model must reproduce. */
function waveformNoiseTps(sigma: number, rho: number, threshold: number, fir: boolean, pedestal: 'frugal' | 'ideal', ticks: number, seed: number) {
  const rng = new Random(seed);
  const wave = new Float64Array(ticks);
  ar1Noise(wave, ticks, sigma, rho, rng);
  const ped = 900;
  for (let i = 0; i < ticks; i++) wave[i] = Math.round(ped + wave[i]);
  const out = new Float64Array(ticks);
  pedestalSubtractAndFilter(wave, ticks, { taps: finderTaps(fir), pedestal, frugalLimit: 10 }, ped, ped, out, new Float64Array(ticks));
  let n = 0,
    tot = 0,
    integral = 0;
  findTps(out, ticks, threshold, (tp) => {
    if (tp.start < 16) return;
    n++;
    tot += tp.end - tp.start;
    integral += tp.integral;
  });
  return { n, meanTot: tot / n, meanIntegral: integral / n };
}

for (const [sigma, rho, thr, fir, ped] of [
  [4, 0.6, 10, false, 'ideal'],
  [3, 0.0, 8, false, 'frugal'],
  [5, 0.85, 14, false, 'frugal'],
  [3, 0.6, 8, false, 'frugal'],
  [3, 0.6, 6, true, 'frugal'],
  [4, 0.3, 7, true, 'ideal'],
] as const) {
  test(`noise TP rate: analytic = waveform through the finder (σ ${sigma} ADC, ρ ${rho}, threshold ${thr} ADC, ${fir ? 'FIR' : 'no FIR'}, ${ped} pedestal)`, () => {
    const ticks = 2_000_000;
    const sim = waveformNoiseTps(sigma, rho, thr, fir, ped, ticks, 17);
    const model = new NoiseTpModel(sigma, rho, { thresholdAdc: thr, taps: finderTaps(fir), pedestal: ped, frugalLimit: 10 });
    const expected = model.perChannel(ticks - 16);
    assert.ok(expected > 200, `test needs statistics: ${expected}`);
    const err = Math.sqrt(expected);
    // Poisson error plus 3 % for what the model neglects (the pedestal's response to the excursion itself).
    assert.ok(Math.abs(sim.n - expected) < 5 * err + 0.03 * expected, `simulated ${sim.n} TPs vs analytic ${expected.toFixed(1)} ± ${err.toFixed(1)}`);
    // The sampled noise TPs have the shape of the simulated ones too.
    const rng = new Random(23);
    let tot = 0,
      integral = 0;
    const m = 20000;
    for (let k = 0; k < m; k++) {
      const e = model.sample(rng);
      tot += e.tot;
      integral += e.integral;
    }
    assert.ok(Math.abs(tot / m / sim.meanTot - 1) < 0.05, `ToT ${tot / m} vs ${sim.meanTot}`);
    assert.ok(Math.abs(integral / m / sim.meanIntegral - 1) < 0.05, `integral ${integral / m} vs ${sim.meanIntegral}`);
  });
}

test('the frugal median tracks a pedestal step and barely moves under a short pulse', () => {
  const med = new FrugalMedian(900, 10);
  for (let i = 0; i < 2000; i++) med.update(950); // step of +50: one ADC per 10 samples
  assert.equal(med.value, 950);
  const m2 = new FrugalMedian(900, 10);
  for (let i = 0; i < 9; i++) m2.update(1100); // a 9-tick pulse does not reach the limit
  assert.equal(m2.value, 900);
});

test('the DUNE FIR has unit gain and delays by 3 ticks', () => {
  const taps = finderTaps(true);
  assert.ok(Math.abs(taps.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const raw = new Float64Array(40).fill(900);
  raw[20] = 900 + 990; // a one-tick spike of 990 ADC
  const out = new Float64Array(40);
  pedestalSubtractAndFilter(raw, 40, { taps, pedestal: 'ideal', frugalLimit: 10 }, 900, 900, out, new Float64Array(40));
  assert.deepEqual(Array.from(out.subarray(20, 27)), [20, 90, 230, 310, 230, 90, 20]);
});

test('white noise limit: up-crossing probability is Q(u)(1 − Q(u))', () => {
  const u = 2;
  const q = 0.022750131948179;
  assert.ok(Math.abs(upcrossProbability(u, 0) / (q * (1 - q)) - 1) < 1e-4);
});

test('normal quantile inverts Φ', () => {
  for (const p of [1e-9, 0.001, 0.02, 0.3, 0.5, 0.9, 0.999]) assert.ok(Math.abs(normalCdf(normalQuantile(p)) / p - 1) < 1e-6, `p = ${p}`);
});

test('images get noise-only TPs at the analytic rate', () => {
  const cfg = parseSimConfig({
    signal: { perImage: 0 },
    electronics: { noiseRmsAdc: 5 },
    tp: { thresholdAdc: 16 },
    background: noBackgroundPatch(),
  });
  const sim = new Simulator(cfg, 4);
  const perImage = sim.response.noiseTpsPerChannel() * cfg.detector.channels;
  let n = 0;
  const images = 40;
  for (let i = 0; i < images; i++) {
    const r = sim.image(i, { keepTps: true });
    for (let k = 0; k < r.tps!.n; k++) assert.equal(r.tps!.owner[k], NOISE_OWNER);
    n += r.tpsBySource[r.tpsBySource.length - 1];
  }
  const expected = perImage * images;
  assert.ok(expected > 100);
  assert.ok(Math.abs(n - expected) < 5 * Math.sqrt(expected), `${n} vs ${expected}`);
});
