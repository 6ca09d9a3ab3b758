// Random numbers for the physics: sfc32 (Small Fast Chaotic, 128-bit state, period ≥ 2^32 and
// typically ~2^127, passes PractRand) — long enough for millions of samples per image, and fast in JS.
// Every image gets its own stream seeded from (seed, image index) so that image i depends on
// nothing else: workers can split the work and the bytes do not depend on the worker count.

/** splitmix32 finaliser: a good 32-bit mixer to derive independent seeds. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** The seed of image `index` of a dataset with seed `seed` (stored per image in the dataset). */
export function imageSeed(seed: number, index: number): number {
  return mix32(mix32(seed >>> 0) ^ mix32((index >>> 0) + 0x632be5ab) ^ Math.floor(index / 4294967296));
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = NaN;

  constructor(seed: number) {
    this.a = mix32(seed);
    this.b = mix32(this.a ^ 0x1b873593);
    this.c = mix32(this.b ^ 0xcc9e2d51);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe for logarithms. */
  open(): number {
    return (this.uint32() + 1) / 4294967296;
  }

  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia polar method; the second value is cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  exponential(mean: number): number {
    return -mean * Math.log(this.open());
  }

  /** Poisson deviate: multiplication method for small means, normal approximation with
   *  continuity correction above 500 (relative error of the rate far below the Poisson spread). */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    if (mean > 30) {
      // Split to keep exp(-mean) representable and the loop short.
      const half = mean / 2;
      return this.poisson(half) + this.poisson(mean - half);
    }
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.uniform();
    while (p > l) {
      k++;
      p *= this.uniform();
    }
    return k;
  }

  /** Isotropic unit vector written into out[0..2]. */
  isotropic(out: Float64Array): Float64Array {
    const cz = 2 * this.uniform() - 1;
    const s = Math.sqrt(Math.max(0, 1 - cz * cz));
    const phi = 2 * Math.PI * this.uniform();
    out[0] = s * Math.cos(phi);
    out[1] = s * Math.sin(phi);
    out[2] = cz;
    return out;
  }
}
