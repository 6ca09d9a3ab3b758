// Electronics noise and the TPs it makes on its own. The noise is Gaussian and correlated from
// sample to sample as a first-order autoregressive process, x[t] = ρ x[t−1] + √(1−ρ²) σ ε[t], a
// simple model of noise after a shaping amplifier. Because the model is explicit, the rate of
// threshold up-crossings follows analytically, so noise-only TPs on channels without charge are
// drawn from the exact distribution instead of simulating 2 million empty samples per image.
import type { Random } from './random.js';

/** Complementary error function with small *relative* error in the far tail (Numerical Recipes
 *  erfcc, fractional error < 1.2e-7 everywhere): needed for 6–7 σ thresholds. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** The continuous level a digitised sample must reach to exceed `thresholdAdc` after rounding. */
export function effectiveThreshold(thresholdAdc: number): number {
  return Math.floor(thresholdAdc) + 0.5;
}

/**
 * Probability per tick that unit-variance AR(1) noise of lag-1 correlation ρ crosses level u upward:
 * P(x[t−1] ≤ u, x[t] > u) = ∫_u^∞ φ(y) Φ((u − ρy)/√(1−ρ²)) dy (Simpson's rule).
 * Each up-crossing starts exactly one TP.
 */
export function upcrossProbability(u: number, rho: number): number {
  const s = Math.sqrt(1 - rho * rho);
  const n = 2000;
  const span = 12;
  const h = span / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const y = u + i * h;
    const f = INV_SQRT_2PI * Math.exp(-0.5 * y * y) * normalCdf((u - rho * y) / s);
    acc += f * (i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2);
  }
  return (acc * h) / 3;
}

/** Expected noise-only TPs per channel per window. */
export function noiseTpsPerChannel(thresholdAdc: number, sigmaAdc: number, rho: number, windowTicks: number): number {
  if (!(sigmaAdc > 0)) return 0;
  return upcrossProbability(effectiveThreshold(thresholdAdc) / sigmaAdc, rho) * windowTicks;
}

/** Fills out[0..n) with stationary AR(1) noise (σ, ρ). */
export function ar1Noise(out: Float64Array, n: number, sigma: number, rho: number, rng: Random): void {
  if (!(sigma > 0)) {
    out.fill(0, 0, n);
    return;
  }
  const s = sigma * Math.sqrt(1 - rho * rho);
  let x = sigma * rng.normal();
  for (let i = 0; i < n; i++) {
    out[i] = x;
    x = rho * x + s * rng.normal();
  }
}

/** One noise-only TP, in the units of the finder (ticks relative to its start, ADC). */
export interface NoiseExcursion {
  tot: number;
  integral: number;
  peak: number;
  peakOffset: number;
}

/** Draws y > u from a standard normal truncated to its upper tail (Robert 1995, exponential proposal). */
function tailNormal(u: number, rng: Random): number {
  if (u < 0.5) {
    for (;;) {
      const y = rng.normal();
      if (y > u) return y;
    }
  }
  const lam = (u + Math.sqrt(u * u + 4)) / 2;
  for (;;) {
    const y = u + rng.exponential(1 / lam);
    if (rng.uniform() <= Math.exp(-0.5 * (y - lam) * (y - lam))) return y;
  }
}

/**
 * Samples the samples above threshold that follow an up-crossing of AR(1) noise: the first value
 * from φ(y) Φ((u − ρy)/s) on y > u (tail draw + acceptance of the "previous sample ≤ u" condition),
 * then the AR(1) recursion until the level falls back. Digitised (rounded) like the waveform.
 */
export function sampleNoiseExcursion(thresholdAdc: number, sigma: number, rho: number, rng: Random): NoiseExcursion {
  const u = effectiveThreshold(thresholdAdc) / sigma;
  const s = Math.sqrt(1 - rho * rho);
  let y: number;
  for (;;) {
    y = tailNormal(u, rng);
    if (rng.uniform() <= normalCdf((u - rho * y) / s)) break;
  }
  let tot = 0, integral = 0, peak = -Infinity, peakOffset = 0;
  while (y > u) {
    const adc = Math.round(sigma * y);
    if (adc > peak) { peak = adc; peakOffset = tot; }
    integral += adc;
    tot++;
    y = rho * y + s * rng.normal();
  }
  return { tot, integral, peak, peakOffset };
}
