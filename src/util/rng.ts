// A small seeded PRNG so that every random choice in pure-TypeScript code is reproducible.
// mulberry32: 32-bit state, period 2^32, fast, and good enough for initialisation and shuffles
// (not for physics sampling that needs long periods).

/** A function returning uniform floats in [0, 1); the same seed gives the same sequence. */
export type Rng = () => number;

/** Seeded uniform generator (mulberry32) over [0, 1). */
export function mulberry32(seed: number): Rng {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
