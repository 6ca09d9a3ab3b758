// The analytic noise-only TP model against a full waveform simulation of an empty channel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSimConfig } from '../src/sim/config.js';
import { NOISE_OWNER } from '../src/sim/deposits.js';
import { Simulator } from '../src/sim/event.js';
import { ar1Noise, noiseTpsPerChannel, sampleNoiseExcursion, upcrossProbability } from '../src/sim/noise.js';
import { Random } from '../src/sim/random.js';
import { findTps } from '../src/sim/tps.js';

/** Digitised AR(1) noise on one empty channel through the real TP finder. */
function waveformNoiseTps(sigma: number, rho: number, threshold: number, ticks: number, seed: number) {
  const rng = new Random(seed);
  const wave = new Float64Array(ticks);
  ar1Noise(wave, ticks, sigma, rho, rng);
  for (let i = 0; i < ticks; i++) wave[i] = Math.round(wave[i]);
  let n = 0, tot = 0, integral = 0;
  findTps(wave, ticks, threshold, (tp) => { n++; tot += tp.end - tp.start; integral += tp.integral; });
  return { n, meanTot: tot / n, meanIntegral: integral / n };
}

for (const [sigma, rho, thr] of [[4, 0.6, 10], [3, 0.0, 8], [5, 0.85, 14]] as const) {
  test(`noise TP rate: analytic = full waveform simulation (σ ${sigma} ADC, ρ ${rho}, threshold ${thr} ADC)`, () => {
    const ticks = 2_000_000;
    const sim = waveformNoiseTps(sigma, rho, thr, ticks, 17);
    const expected = noiseTpsPerChannel(thr, sigma, rho, ticks);
    assert.ok(expected > 200, `test needs statistics: ${expected}`);
    const err = Math.sqrt(expected);
    assert.ok(Math.abs(sim.n - expected) < 5 * err, `simulated ${sim.n} TPs vs analytic ${expected.toFixed(1)} ± ${err.toFixed(1)}`);
    // The sampled noise TPs have the shape of the simulated ones too.
    const rng = new Random(23);
    let tot = 0, integral = 0;
    const m = 20000;
    for (let k = 0; k < m; k++) { const e = sampleNoiseExcursion(thr, sigma, rho, rng); tot += e.tot; integral += e.integral; }
    assert.ok(Math.abs(tot / m / sim.meanTot - 1) < 0.05, `ToT ${tot / m} vs ${sim.meanTot}`);
    assert.ok(Math.abs(integral / m / sim.meanIntegral - 1) < 0.05, `integral ${integral / m} vs ${sim.meanIntegral}`);
  });
}

test('white noise limit: up-crossing probability is Q(u)(1 − Q(u))', () => {
  const u = 2;
  const q = 0.022750131948179;
  assert.ok(Math.abs(upcrossProbability(u, 0) / (q * (1 - q)) - 1) < 1e-4);
});

test('images get noise-only TPs at the analytic rate', () => {
  const cfg = parseSimConfig({
    signal: { perImage: 0 },
    electronics: { noiseRmsAdc: 5 },
    background: { ar39: { enabled: false }, kr85: { enabled: false }, ar42: { enabled: false }, k42: { enabled: false }, rn222: { enabled: false } },
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
