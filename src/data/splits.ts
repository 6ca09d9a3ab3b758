// Train / validation / evaluation splits: a seeded permutation cut by fractions (default
// 80/10/10, as in the seed). Each split is returned sorted, so that reading it walks the file forward.
import { UserError } from '../errors.js';
import { Random } from '../sim/random.js';

export const SPLIT_NAMES = ['train', 'val', 'eval'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Parses "0.8,0.1,0.1" (three non-negative numbers summing to 1 within 1e-6). */
export function parseSplitFractions(text: string): [number, number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new UserError(`--split: expected three non-negative fractions like 0.8,0.1,0.1, got "${text}"`);
  }
  const sum = parts[0] + parts[1] + parts[2];
  if (Math.abs(sum - 1) > 1e-6) throw new UserError(`--split: fractions must sum to 1, got ${sum} ("${text}")`);
  return parts as [number, number, number];
}

export function makeSplits(n: number, fractions: readonly [number, number, number], seed: number): Record<SplitName, Int32Array> {
  const rng = new Random((seed ^ 0x5eed5) >>> 0);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const nTrain = Math.round(fractions[0] * n);
  const nVal = Math.min(n - nTrain, Math.round(fractions[1] * n));
  const sorted = (a: Int32Array) => a.slice().sort();
  return {
    train: sorted(perm.subarray(0, nTrain)),
    val: sorted(perm.subarray(nTrain, nTrain + nVal)),
    eval: sorted(perm.subarray(nTrain + nVal)),
  };
}
