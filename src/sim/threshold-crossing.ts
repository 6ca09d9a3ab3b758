// The rate at which Gaussian AR(1) noise crosses a TP threshold, analytically: the normal tail
// functions and the up-crossing probability per tick. Pure arithmetic with no imports, so both the
// config check (config.ts: a threshold that would drown the images in noise TPs is refused) and
// the noise-TP model (noise.ts) use it without the config depending on the simulation.
/** Complementary error function with small *relative* error in the far tail (Numerical Recipes
 *  erfcc, fractional error < 1.2e-7 everywhere): needed for 6–7 σ thresholds. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
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
