// The statistics of `daqyolo compare` (eval/paired.ts) on hand-built per-image detections and
// per-interaction scores: the fast mAP and efficiency equal the project's own functions on the
// sample and on an expanded resample; a run against itself gives Δ = 0 with zero-width intervals;
// the bootstrap's standard error of an efficiency difference agrees with the analytic
// paired-binomial formula (computed here, independently) and with a numpy bootstrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { evaluateDetections, type MapImage } from '../src/infer/map.js';
import { DEFAULT_ENERGY_EDGES_MEV, efficiencyByEnergy, energyBin, spectrumBinWeights, type TriggerImage } from '../src/eval/efficiency.js';
import { drawResample, efficiencyOf, mapDigest, mapOf, pairedBinomialStdErr, pairedBootstrap, percentile } from '../src/eval/paired.js';
import { mulberry32 } from '../src/util/rng.js';

/** Random images: 0–4 truths of two classes (some difficult), detections near them (some twice) and strays, distinct scores. */
function randomImages(n: number, seed: number): MapImage[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const truths = Array.from({ length: Math.floor(rng() * 5) }, () => {
      const x = rng() * 200;
      const y = rng() * 200;
      return { box: [x, y, x + 10 + rng() * 30, y + 10 + rng() * 30] as const, cls: rng() < 0.7 ? 0 : 1, ...(rng() < 0.1 ? { difficult: true } : {}) };
    });
    // Most truths found, some twice (the second a duplicate: a false positive under VOC matching).
    const near = (t: (typeof truths)[number]) => ({
      x1: t.box[0] + rng() * 4,
      y1: t.box[1] + rng() * 4,
      x2: t.box[2] + rng() * 4,
      y2: t.box[3] - rng() * 4,
      score: rng(),
      cls: t.cls,
    });
    const detections = [
      ...truths.flatMap((t) => (rng() < 0.8 ? (rng() < 0.3 ? [near(t), near(t)] : [near(t)]) : [])),
      ...Array.from({ length: Math.floor(rng() * 3) }, () => {
        const x = rng() * 200;
        return { x1: x, y1: x, x2: x + 20, y2: x + 25, score: rng() * 0.8, cls: rng() < 0.5 ? 0 : 1 };
      }),
    ];
    return { truths, detections };
  });
}

test("mAP@0.5 from the digest equals evaluateDetections' map50AllPoint, on the sample and on a resample", () => {
  const images = randomImages(300, 5);
  const d = mapDigest(images);
  assert.equal(mapOf(d), evaluateDetections(images).map50AllPoint, 'every image once: to the last bit');
  const rng = mulberry32(11);
  for (let r = 0; r < 3; r++) {
    const m = drawResample(images.length, rng);
    // The resample written out: image i m[i] times, in index order (the order the digest ranks ties in).
    const expanded = images.flatMap((im, i) => Array.from({ length: m[i]! }, () => im));
    const want = evaluateDetections(expanded).map50AllPoint!;
    const got = mapOf(d, m)!;
    assert.ok(Math.abs(got - want) < 1e-12, `resample ${r}: ${got} vs ${want}`);
  }
});

test('efficiency from best scores equals efficiencyByEnergy (flat and supernova) on the sample and on a resample', () => {
  const rng = mulberry32(3);
  const images: TriggerImage[] = Array.from({ length: 400 }, () => ({
    detections: [],
    interactions: Array.from({ length: 1 + Math.floor(rng() * 3) }, () => ({ energyMeV: 0.5 + rng() * 72, box: null })),
  }));
  const scored = images.map((im) => ({ best: Float64Array.from(im.interactions, () => (rng() < 0.2 ? -Infinity : rng())), fpScores: [] }));
  const edges = DEFAULT_ENERGY_EDGES_MEV;
  const image: number[] = [];
  const bin: number[] = [];
  const best: number[] = [];
  images.forEach((im, i) =>
    im.interactions.forEach((it, j) => {
      const b = energyBin(it.energyMeV, edges);
      if (b < 0) return;
      image.push(i);
      bin.push(b);
      best.push(scored[i]!.best[j]!);
    }),
  );
  const it = { image: Int32Array.from(image), bin: Int32Array.from(bin) };
  const w = spectrumBinWeights(edges.slice(0, -1).map((lo, b) => ({ loMeV: lo, hiMeV: edges[b + 1]! })));
  // A threshold equal to one interaction's score: "score ≥ threshold" counts it.
  const threshold = best.find((x) => x > 0.3 && x < 0.6)!;
  const check = (ims: TriggerImage[], sc: typeof scored, m: Int32Array | null, what: string) => {
    const table = efficiencyByEnergy(ims, threshold, {}, sc);
    const got = efficiencyOf(it, Float64Array.from(best), threshold, w, m);
    assert.equal(got.flat, table.integrated.all.efficiency, `${what}: flat`);
    assert.ok(Math.abs(got.supernova! - table.supernova.efficiency!) < 1e-12, `${what}: supernova ${got.supernova} vs ${table.supernova.efficiency}`);
  };
  check(images, scored, null, 'sample');
  const m = drawResample(images.length, mulberry32(8));
  const pick = (xs: readonly unknown[]) => xs.flatMap((x, i) => Array.from({ length: m[i]! }, () => x));
  check(pick(images) as TriggerImage[], pick(scored) as typeof scored, m, 'resample');
});

/** n images of one interaction each, detected by A with probability pA; B agrees with A except with probability flip. */
function pairedHits(n: number, pA: number, flip: number, seed: number): { a: boolean[]; b: boolean[] } {
  const rng = mulberry32(seed);
  const a = Array.from({ length: n }, () => rng() < pA);
  const b = a.map((x) => (rng() < flip ? !x : x));
  return { a, b };
}

test('a run against itself: Δ = 0 on every resample, zero standard error and zero-width intervals', () => {
  const images = randomImages(120, 2);
  const d = mapDigest(images);
  const { a } = pairedHits(120, 0.6, 0, 4);
  const it = { image: Int32Array.from(a, (_, i) => i), bin: new Int32Array(a.length) };
  const best = Float64Array.from(a, (x) => (x ? 0.9 : 0.1));
  const w = new Float64Array([1]);
  const [map, eff] = pairedBootstrap(
    120,
    [(m) => [mapOf(d, m), mapOf(d, m)], (m) => [efficiencyOf(it, best, 0.5, w, m).flat, efficiencyOf(it, best, 0.5, w, m).flat]],
    { resamples: 200, seed: 1 },
  );
  for (const s of [map!, eff!]) {
    assert.equal(s.resamples, 200);
    assert.equal(s.stdErr, 0);
    assert.deepEqual(s.interval68, [0, 0]);
    assert.deepEqual(s.interval95, [0, 0]);
    assert.ok(s.stdErrA! > 0, 'the figures themselves do vary');
  }
});

test('bootstrap σ(Δ) of an efficiency agrees with the analytic paired-binomial formula within 5 % at 2 000 resamples', () => {
  const n = 1500;
  const { a, b } = pairedHits(n, 0.7, 0.12, 21);
  // Analytic, from the discordant pairs: var(Δ) = (b + c − (b − c)²/n) / n².
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] && !b[i]) onlyA++;
    if (!a[i] && b[i]) onlyB++;
  }
  const analytic = Math.sqrt(onlyA + onlyB - (onlyA - onlyB) ** 2 / n) / n;
  assert.ok(Math.abs(pairedBinomialStdErr(a, b) - analytic) < 1e-15);
  const it = { image: Int32Array.from(a, (_, i) => i), bin: new Int32Array(n) };
  const bestA = Float64Array.from(a, (x) => (x ? 0.8 : 0.2));
  const bestB = Float64Array.from(b, (x) => (x ? 0.7 : -Infinity));
  const w = new Float64Array([1]);
  const [s] = pairedBootstrap(n, [(m) => [efficiencyOf(it, bestA, 0.5, w, m).flat, efficiencyOf(it, bestB, 0.5, w, m).flat]], { resamples: 2000, seed: 7 });
  const rel = Math.abs(s!.stdErr! / analytic - 1);
  assert.ok(rel < 0.05, `bootstrap ${s!.stdErr} vs analytic ${analytic} (${(100 * rel).toFixed(1)} %)`);
  // The intervals are ordered and about ±1σ and ±2σ wide.
  const [lo68, hi68] = s!.interval68!;
  const [lo95, hi95] = s!.interval95!;
  assert.ok(lo95 < lo68 && lo68 < hi68 && hi68 < hi95);
  assert.ok(Math.abs((hi68 - lo68) / 2 / analytic - 1) < 0.1, `68 % half-width ${(hi68 - lo68) / 2} vs σ ${analytic}`);
  assert.ok(Math.abs((hi95 - lo95) / 4 / analytic - 1) < 0.1, `95 % half-width / 2 ${(hi95 - lo95) / 4} vs σ ${analytic}`);
});

test('resampling and percentiles against numpy (/usr/bin/python3)', (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('no numpy in /usr/bin/python3');
    return;
  }
  const n = 1200;
  const { a, b } = pairedHits(n, 0.65, 0.15, 33);
  const it = { image: Int32Array.from(a, (_, i) => i), bin: new Int32Array(n) };
  const bestA = Float64Array.from(a, (x) => (x ? 1 : 0));
  const bestB = Float64Array.from(b, (x) => (x ? 1 : 0));
  const w = new Float64Array([1]);
  const [s] = pairedBootstrap(n, [(m) => [efficiencyOf(it, bestA, 0.5, w, m).flat, efficiencyOf(it, bestB, 0.5, w, m).flat]], { resamples: 2000, seed: 3 });
  const values = Array.from({ length: 101 }, (_, i) => Math.sin(i * 1.7) * 3 + i / 50);
  // numpy: its own generator and resampling of the same per-interaction hits; its percentile of the same values.
  const py = `
import json, sys, numpy as np
d = json.load(sys.stdin)
a = np.array(d['a'], dtype=float); b = np.array(d['b'], dtype=float)
rng = np.random.default_rng(12345)
idx = rng.integers(0, len(a), size=(4000, len(a)))
delta = b[idx].mean(axis=1) - a[idx].mean(axis=1)
v = np.sort(np.array(d['values']))
print(json.dumps({'se': float(delta.std(ddof=1)), 'p': [float(np.percentile(v, q)) for q in (2.5, 16, 50, 84, 97.5)]}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { input: JSON.stringify({ a: a.map(Number), b: b.map(Number), values }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const np = JSON.parse(r.stdout) as { se: number; p: number[] };
  const rel = Math.abs(s!.stdErr! / np.se - 1);
  assert.ok(rel < 0.06, `daqyolo ${s!.stdErr} vs numpy ${np.se} (${(100 * rel).toFixed(1)} %)`);
  const sorted = Float64Array.from(values).sort();
  [2.5, 16, 50, 84, 97.5].forEach((q, k) => assert.ok(Math.abs(percentile(sorted, q) - np.p[k]!) < 1e-12, `percentile ${q}`));
});

test('a resample draws n images with replacement: multiplicities sum to n, mean 1, variance ≈ 1 − 1/n', () => {
  const n = 500;
  const rng = mulberry32(99);
  let sum = 0;
  let sq = 0;
  let draws = 0;
  for (let r = 0; r < 400; r++) {
    const m = drawResample(n, rng);
    assert.equal(
      m.reduce((x, y) => x + y, 0),
      n,
    );
    for (const x of m) {
      sum += x;
      sq += x * x;
      draws++;
    }
  }
  const mean = sum / draws;
  const variance = sq / draws - mean * mean;
  assert.ok(Math.abs(mean - 1) < 1e-12);
  assert.ok(Math.abs(variance - (1 - 1 / n)) < 0.02, `variance ${variance}`);
});
