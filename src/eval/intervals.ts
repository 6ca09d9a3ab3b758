// Counting-statistics intervals for efficiencies (binomial) and false-positive counts (Poisson).
// Exact intervals come from inverting the regularised incomplete beta and gamma functions by
// bisection: a few dozen bins per report, so clarity beats speed here.

/** One-sigma coverage, so that intervals line up with ±sqrt(p(1−p)/n) error bars. */
export const ONE_SIGMA_CL = 0.682689492137086;

/** Plain binomial standard error sqrt(p(1−p)/n) with p = k/n; 0 when n = 0. */
export function binomialStdErr(k: number, n: number): number {
  if (n === 0) return 0;
  const p = k / n;
  return Math.sqrt((p * (1 - p)) / n);
}

/** Wilson score interval for k successes in n trials at two-sided confidence `cl`; [0, 1] when n = 0. */
export function wilsonInterval(k: number, n: number, cl = ONE_SIGMA_CL): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(0.5 + cl / 2);
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Clopper–Pearson (exact, conservative) interval for k of n at two-sided confidence `cl`. */
export function clopperPearson(k: number, n: number, cl = ONE_SIGMA_CL): [number, number] {
  if (n === 0) return [0, 1];
  const a = (1 - cl) / 2;
  const lo = k === 0 ? 0 : invert((x) => betaInc(k, n - k + 1, x), a, 0, 1);
  const hi = k === n ? 1 : invert((x) => betaInc(k + 1, n - k, x), 1 - a, 0, 1);
  return [lo, hi];
}

/** One-sided Poisson upper limit on the mean for n observed at confidence `cl` (n = 0, 90 %: 2.303). */
export function poissonUpperLimit(n: number, cl = 0.9): number {
  return invert((mu) => gammaP(n + 1, mu), cl, 0, n + 50 + 20 * Math.sqrt(n + 1));
}

/** Central (Garwood) Poisson interval on the mean for n observed at two-sided confidence `cl`. */
export function poissonInterval(n: number, cl = 0.9): [number, number] {
  const a = (1 - cl) / 2;
  const top = n + 50 + 20 * Math.sqrt(n + 1);
  const lo = n === 0 ? 0 : invert((mu) => gammaP(n, mu), a, 0, top);
  return [lo, invert((mu) => gammaP(n + 1, mu), 1 - a, 0, top)];
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lowP = 0.02425;
  if (p < lowP) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lowP) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Student's t quantile: the t with P(T ≤ t) = p for `df` degrees of freedom (any real df > 0),
 * from the t distribution's CDF by the regularised incomplete beta, 1 − ½ I_{df/(df+t²)}(df/2, ½)
 * for t ≥ 0, inverted by bisection. `compare` over several runs per side takes its 95 % interval
 * from it: with two or three trainings per recipe the normal quantile would make it far too narrow.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new RangeError(`studentTQuantile: p ${p} must lie in (0, 1) and df ${df} be positive`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  if (p === 0.5) return 0;
  const cdf = (t: number) => 1 - 0.5 * betaInc(df / 2, 0.5, df / (df + t * t));
  let hi = 1;
  while (cdf(hi) < p && hi < 1e300) hi *= 2;
  return invert(cdf, p, 0, hi);
}

// Solves f(x) = target for increasing f on [lo, hi] by bisection to double precision.
function invert(f: (x: number) => number, target: number, lo: number, hi: number): number {
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const g = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let s = g[0];
  for (let i = 1; i < 9; i++) s += g[i] / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Regularised lower incomplete gamma P(a, x) (series / continued fraction, Numerical Recipes §6.2). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const lnPre = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return sum * Math.exp(lnPre);
  }
  return (
    1 -
    Math.exp(lnPre) *
      continuedFraction(
        (m) => -m * (m - a),
        (m) => x + 2 * m + 1 - a,
        x + 1 - a,
      )
  );
}

/** Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes §6.4). */
export function betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x > (a + 1) / (a + b + 2)) return 1 - betaInc(b, a, 1 - x);
  const cf = continuedFraction(
    (m) => {
      const k = Math.floor((m + 1) / 2);
      // Odd terms d_{2k+1}, even terms d_{2k}, of the beta continued fraction.
      return m % 2 === 1 ? -((a + k - 1) * (a + b + k - 1) * x) / ((a + 2 * k - 2) * (a + 2 * k - 1)) : (k * (b - k) * x) / ((a + 2 * k - 1) * (a + 2 * k));
    },
    () => 1,
    1,
  );
  return (Math.exp(lnFront) / a) * cf;
}

// Modified Lentz evaluation of 1 / (b0 + a1/(b1 + a2/(b2 + …))).
function continuedFraction(an: (m: number) => number, bn: (m: number) => number, b0: number): number {
  const tiny = 1e-300;
  let f = b0 === 0 ? tiny : b0;
  let c = f;
  let d = 0;
  for (let m = 1; m < 10000; m++) {
    const am = an(m);
    const bm = bn(m);
    d = bm + am * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = bm + am / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return 1 / f;
}
