// The statistics of `daqyolo compare` (eval/paired.ts) on hand-built per-image detections and
// per-interaction scores: the fast mAP and efficiency equal the project's own functions on the
// sample and on an expanded resample; a run against itself gives Δ = 0 with zero-width intervals;
// the bootstrap's standard error of an efficiency difference agrees with the analytic
// paired-binomial formula (computed here, independently) and with a numpy bootstrap. For several
// runs per side: Student's t quantile against closed forms and published values, and a group
// figure's pooled spread, σ and interval against the two-sample formulas written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { evaluateDetections, type MapImage } from '../src/infer/map.js';
import { DEFAULT_ENERGY_EDGES_MEV, efficiencyByEnergy, energyBin, spectrumBinWeights, type TriggerImage } from '../src/eval/efficiency.js';
import { drawResample, efficiencyOf, mapDigest, mapOf, pairedBinomialStdErr, pairedBootstrap, percentile } from '../src/eval/paired.js';
import { mulberry32 } from '../src/util/rng.js';
import { normalQuantile, studentTQuantile } from '../src/eval/intervals.js';
import { groupEfficiencyStatistics, groupFigure, groupMapStatistic } from '../src/study/compare.js';

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

test("Student's t quantile: the closed forms at 1 and 2 degrees of freedom, published values, the normal limit", () => {
  for (const p of [0.6, 0.84, 0.975, 0.995]) {
    // df = 1 is the Cauchy distribution: t = tan(π (p − ½)); df = 2: t = (2p − 1) / √(2 p (1 − p)).
    assert.ok(Math.abs(studentTQuantile(p, 1) - Math.tan(Math.PI * (p - 0.5))) < 1e-9 * Math.max(1, Math.tan(Math.PI * (p - 0.5))), `df 1, p ${p}`);
    assert.ok(Math.abs(studentTQuantile(p, 2) - (2 * p - 1) / Math.sqrt(2 * p * (1 - p))) < 1e-9, `df 2, p ${p}`);
    assert.equal(studentTQuantile(1 - p, 3), -studentTQuantile(p, 3), 'symmetric');
  }
  // Two-sided 95 % critical values (NIST/SEMATECH e-Handbook, table 1.3.6.7.2): 4 → 2.776, 10 → 2.228, 30 → 2.042.
  for (const [df, t] of [
    [4, 2.776],
    [10, 2.228],
    [30, 2.042],
  ] as const)
    assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 5e-4, `df ${df}: ${studentTQuantile(0.975, df)}`);
  assert.ok(Math.abs(studentTQuantile(0.975, 1e7) - normalQuantile(0.975)) < 1e-5, 'large df: the normal quantile');
  assert.ok(studentTQuantile(0.975, 2.5) < studentTQuantile(0.975, 2) && studentTQuantile(0.975, 2.5) > studentTQuantile(0.975, 3), 'real df between integers');
  assert.throws(() => studentTQuantile(1, 3), /p 1 must lie in \(0, 1\)/);
});

test("a group figure: means, the runs' spread pooled over both groups, the sample's σ added in quadrature, Student's interval", () => {
  const a = [0.8, 0.82];
  const b = [0.88, 0.87, 0.89];
  const sample = { resamples: 100, stdErr: 0.005, stdErrA: 0.004, stdErrB: 0.004, interval68: null, interval95: null };
  const f = groupFigure(a, b, sample);
  // By the two-sample t-test's pooled variance, from each group's own sample variance.
  const varA = ((0.8 - 0.81) ** 2 + (0.82 - 0.81) ** 2) / 1;
  const varB = ((0.88 - 0.88) ** 2 + (0.87 - 0.88) ** 2 + (0.89 - 0.88) ** 2) / 2;
  const pooledVar = (1 * varA + 2 * varB) / 3;
  const training = Math.sqrt(pooledVar * (1 / 2 + 1 / 3));
  const total = Math.sqrt(training ** 2 + 0.005 ** 2);
  const dof = (3 * total ** 4) / training ** 4;
  const close = (x: number | null, y: number, what: string) => assert.ok(x !== null && Math.abs(x - y) < 1e-12, `${what}: ${x} vs ${y}`);
  close(f.meanA, 0.81, 'mean A');
  close(f.meanB, 0.88, 'mean B');
  close(f.delta, 0.07, 'Δ');
  close(f.spreadA, Math.sqrt(varA), 'spread A');
  close(f.spreadB, Math.sqrt(varB), 'spread B');
  close(f.pooledSpread, Math.sqrt(pooledVar), 'pooled spread');
  assert.equal(f.runDegreesOfFreedom, 3);
  close(f.trainingStdErr, training, 'training σ');
  close(f.stdErr, total, 'σ');
  close(f.degreesOfFreedom, dof, 'Welch–Satterthwaite dof');
  const t = studentTQuantile(0.975, dof);
  close(f.interval95![0], 0.07 - t * total, 'interval low');
  close(f.interval95![1], 0.07 + t * total, 'interval high');
  assert.equal(f.zeroInInterval95, false);
  assert.ok(dof > 3, 'the sample term adds degrees of freedom');

  // Identical runs: no training spread, the normal quantile on the sample's σ alone.
  const same = groupFigure([0.5, 0.5], [0.505], sample);
  close(same.trainingStdErr, 0, 'training σ');
  assert.equal(same.degreesOfFreedom, null);
  close(same.interval95![1], 0.005 + normalQuantile(0.975) * 0.005, 'normal interval');
  assert.equal(same.zeroInInterval95, true);
  // A run without the figure (no cut for the rate): no mean, no Δ; one run each: no spread to pool.
  const missing = groupFigure([0.5, null], [0.6, 0.7], sample);
  assert.equal(missing.meanA, null);
  assert.equal(missing.delta, null);
  assert.equal(missing.interval95, null);
  const single = groupFigure([0.5], [0.6], null);
  assert.equal(single.runDegreesOfFreedom, 0);
  assert.equal(single.stdErr, null);
});

test("a group's bootstrap statistics: each group's mean efficiency, each run at its own cut, as counted on the expanded resample", () => {
  const rng = mulberry32(41);
  const images = 300;
  const bins = DEFAULT_ENERGY_EDGES_MEV.length - 1;
  const image = Int32Array.from({ length: 700 }, () => Math.floor(rng() * images));
  const bin = Int32Array.from(image, () => Math.floor(rng() * bins));
  const run = (cut: number) => ({ best: Float64Array.from(image, () => (rng() < 0.1 ? -Infinity : rng())), cut });
  // Cuts far apart: a statistic that took a run's cut from another run would show.
  const a = [run(0.2), run(0.7)];
  const b = [run(0.5), run(0.1), run(0.9)];
  const weights = spectrumBinWeights(
    DEFAULT_ENERGY_EDGES_MEV.slice(0, -1).map((lo, k) => ({ loMeV: lo, hiMeV: DEFAULT_ENERGY_EDGES_MEV[k + 1]! })),
    undefined,
  );
  const [flat, supernova] = groupEfficiencyStatistics({ image, bin }, a, b, weights);
  const m = drawResample(images, mulberry32(7));
  // Counted directly: each interaction as often as its image was drawn.
  const flatOf = (r: { best: Float64Array; cut: number }) => {
    let n = 0;
    let k = 0;
    image.forEach((im, i) => {
      n += m[im]!;
      if (r.best[i]! >= r.cut) k += m[im]!;
    });
    return k / n;
  };
  const [fa, fb] = flat(m);
  assert.ok(Math.abs(fa! - (flatOf(a[0]!) + flatOf(a[1]!)) / 2) < 1e-12, `A: ${fa}`);
  assert.ok(Math.abs(fb! - (flatOf(b[0]!) + flatOf(b[1]!) + flatOf(b[2]!)) / 3) < 1e-12, `B: ${fb}`);
  const sn = (r: { best: Float64Array; cut: number }) => efficiencyOf({ image, bin }, r.best, r.cut, weights, m).supernova!;
  const [sa, sb] = supernova(m);
  assert.ok(Math.abs(sa! - (sn(a[0]!) + sn(a[1]!)) / 2) < 1e-12);
  assert.ok(Math.abs(sb! - (sn(b[0]!) + sn(b[1]!) + sn(b[2]!)) / 3) < 1e-12);
  // mAP: each group's mean of its runs' mAP on the resample.
  const digests = [randomImages(images, 3), randomImages(images, 4), randomImages(images, 5)].map(mapDigest);
  const [ma, mb] = groupMapStatistic(digests.slice(0, 2), digests.slice(2))(m);
  assert.ok(Math.abs(ma! - (mapOf(digests[0]!, m)! + mapOf(digests[1]!, m)!) / 2) < 1e-12);
  assert.equal(mb, mapOf(digests[2]!, m));
});
