// The overfitting-onset rule behind the seed's "possible overfitting" slides: the epoch after
// which the validation loss goes up while the training loss keeps going down.
//
// Rule (on per-epoch curves, after a 3-point running median so one noisy epoch neither makes
// nor hides an onset):
//   m   = the epoch where the smoothed validation curve is lowest (the first such epoch);
//   tol = max(relTol · |val[m]|, absTol), the band within which validation counts as "at its minimum";
//   j   = the last epoch still inside that band (a flat valley ends at j, not m);
//   an onset is reported when
//     1. at least `patience` epochs follow j, all above the band     (a persistent turn up),
//     2. the last validation value is at least `rise` × tol above the minimum (it really went up),
//     3. training at the end is below training at j by more than its own tolerance (it kept improving).
//   The onset epoch is located on the raw validation curve: the last epoch of [m, j] within
//   tolerance of the raw minimum there (smoothing can shift a sharp minimum by one epoch).
// Using the global minimum makes the rule conservative: a bump that validation later recovers
// from is not overfitting; a term that is ≈ 0 everywhere (class with one class) never yields one.

export interface OnsetOptions {
  /** Epochs that must follow the minimum (default 2). */
  patience?: number;
  /** Relative tolerance on the validation minimum (default 0.02 = 2 %). */
  relTol?: number;
  /** Absolute tolerance (default 1e-6). */
  absTol?: number;
  /** The final rise must be at least this many tolerances (default 2). */
  rise?: number;
  /** Apply the 3-point running median (default true when there are ≥ 5 epochs). */
  smooth?: boolean;
}

export interface Onset {
  /** Index into the curves (0-based epoch position) of the validation minimum. */
  index: number;
  valMin: number;
  /** Validation rise from the (smoothed) minimum to the last epoch, relative to the minimum. */
  relRise: number;
  /** Training change from the turn to the last epoch, relative (negative = still falling). */
  trainChange: number;
}

/** 3-point running median; the end points are kept. */
export function median3(v: readonly number[]): number[] {
  return v.map((x, i) => {
    if (i === 0 || i === v.length - 1) return x;
    const w = [v[i - 1]!, x, v[i + 1]!].sort((a, b) => a - b);
    return w[1]!;
  });
}

/** The overfitting onset of a (train, validation) pair of per-epoch curves, or null. */
export function overfittingOnset(train: readonly number[], val: readonly number[], o: OnsetOptions = {}): Onset | null {
  const n = Math.min(train.length, val.length);
  const patience = o.patience ?? 2;
  if (n < patience + 2) return null;
  if (![...train.slice(0, n), ...val.slice(0, n)].every(Number.isFinite)) return null;
  const smooth = o.smooth ?? n >= 5;
  const v = smooth ? median3(val.slice(0, n)) : val.slice(0, n);
  const t = smooth ? median3(train.slice(0, n)) : train.slice(0, n);
  let m = 0;
  for (let i = 1; i < n; i++) if (v[i]! < v[m]!) m = i;
  const relTol = o.relTol ?? 0.02;
  const absTol = o.absTol ?? 1e-6;
  const tol = Math.max(relTol * Math.abs(v[m]!), absTol);
  let j = m;
  for (let i = m + 1; i < n; i++) if (v[i]! <= v[m]! + tol) j = i;
  if (n - 1 - j < patience) return null;
  if (v[n - 1]! < v[m]! + tol * (o.rise ?? 2)) return null;
  const tolTrain = Math.max(relTol * Math.abs(t[j]!), absTol);
  if (!(t[n - 1]! < t[j]! - tolTrain)) return null;
  const raw = val.slice(0, n);
  let rawMin = m;
  for (let i = m; i <= j; i++) if (raw[i]! < raw[rawMin]!) rawMin = i;
  const rawTol = Math.max(relTol * Math.abs(raw[rawMin]!), absTol);
  let index = rawMin;
  for (let i = rawMin; i <= j; i++) if (raw[i]! <= raw[rawMin]! + rawTol) index = i;
  const scale = Math.max(Math.abs(v[m]!), absTol);
  return { index, valMin: raw[index]!, relRise: (v[n - 1]! - v[m]!) / scale, trainChange: (t[n - 1]! - t[j]!) / Math.max(Math.abs(t[j]!), absTol) };
}
