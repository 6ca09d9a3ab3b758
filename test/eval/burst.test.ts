// The supernova burst trigger (issue 31): Poisson tail and sliding-window fake rate against hand
// computations and a simulated Poisson stream, the fold of the per-energy efficiency with the burst
// spectrum, the model's event counts against DUNE's published ones, the galactic distance
// distribution against Mirizzi et al.'s figures, and the computed detection curve against a
// stream-level simulation of bursts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  computeBurst,
  detectionGivenCount,
  detectionProbability,
  fakeBurstRateHz,
  foldEfficiency,
  minCountForRate,
  ONE_PER_MONTH_HZ,
  poissonPmf,
  poissonTail,
  thresholdTables,
  validateBurst,
  windowFires,
  type ThresholdTable,
} from '../../src/eval/burst.js';
import { binomialSummary, spectrumAverage } from '../../src/eval/efficiency.js';
import { Random } from '../../src/sim/random.js';
import {
  BURST_MODELS,
  TIME_PROFILE,
  bestWindowFraction,
  galacticAverage,
  interactionSpectrum,
  nueArCrossSectionCm2,
  pinchedFermiDirac,
  profileFraction,
} from '../../src/sim/supernova.js';
import type { EfficiencyTable, TriggerReport } from '../../src/schema/evaluation.js';

const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
const near = (a: number, b: number, tol: number, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);
const EDGES = [1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 51, 56, 61, 66, 70];

/** An efficiency table with k of n per bin from effOf(lo edge). */
function table(effOf: (lo: number) => number, n = 400, threshold = 0.5): EfficiencyTable {
  const bins = EDGES.slice(0, -1).map((lo, i) => {
    const s = binomialSummary(Math.round(effOf(lo) * n), n);
    return { loMeV: lo, hiMeV: EDGES[i + 1], all: s, visible: s };
  });
  return { threshold, bins, integrated: { all: binomialSummary(0, 0), visible: binomialSummary(0, 0) }, supernova: spectrumAverage(bins) };
}

test('Poisson pmf and tail by hand', () => {
  near(poissonPmf(2, 2), 2 * Math.exp(-2), 1e-14);
  near(poissonPmf(0, 0), 1, 0);
  near(poissonTail(3, 2), 1 - 5 * Math.exp(-2), 1e-12); // 1 − e^-2 (1 + 2 + 2)
  near(poissonTail(1, 0.5), 1 - Math.exp(-0.5), 1e-12);
  near(poissonTail(0, 3), 1, 0);
  // Large k: the pmf's Stirling branch against the summed logs.
  let lf = 0;
  for (let i = 2; i <= 300; i++) lf += Math.log(i);
  near(poissonPmf(300, 280), Math.exp(300 * Math.log(280) - 280 - lf), 1e-12);
});

test('fake-burst rate by hand: r · Poisson(N−1; rT), and the fewest N for one per month', () => {
  near(fakeBurstRateHz(2, 1, 4), (2 * Math.exp(-2) * 8) / 6, 1e-12);
  near(ONE_PER_MONTH_HZ, 1 / 2678400, 1e-20);
  for (const [r, t] of [
    [1.8, 10],
    [1.8, 1],
    [0.01, 10],
    [100, 0.1],
    [1e-8, 10],
  ]) {
    const n = minCountForRate(r, t);
    assert.ok(fakeBurstRateHz(r, t, n) <= ONE_PER_MONTH_HZ, `r ${r} T ${t} N ${n}`);
    if (n > 1) assert.ok(fakeBurstRateHz(r, t, n - 1) > ONE_PER_MONTH_HZ, `r ${r} T ${t}: N − 1 = ${n - 1} would do`);
  }
  assert.equal(minCountForRate(1e-8, 10), 1);
  // 1.8 Hz over 10 s, mean 18 (Python's lgamma): 1.8 · P(43; 18) = 4.30e-7 > 3.73e-7 ≥ 1.8 · P(44; 18) = 1.76e-7, so N = 45.
  assert.equal(minCountForRate(1.8, 10), 45);
  near(fakeBurstRateHz(1.8, 10, 45), 1.7593923855062945e-7, 1e-15);
});

test('sliding-window fake rate against a simulated Poisson stream (upcrossings to ≥ N within T)', () => {
  const rng = new Random(7);
  const r = 5;
  const span = 40000;
  const times: number[] = [];
  for (let t = rng.exponential(1 / r); t < span; t += rng.exponential(1 / r)) times.push(t);
  for (const [windowS, n] of [
    [1, 12],
    [0.5, 7],
  ]) {
    // A candidate with exactly N−1 others in the window before it lifts the count to N.
    let up = 0;
    let lo = 0;
    for (let i = 0; i < times.length; i++) {
      while (times[i] - times[lo] > windowS) lo++;
      if (i - lo === n - 1) up++;
    }
    const expected = fakeBurstRateHz(r, windowS, n) * span;
    assert.ok(Math.abs(up - expected) < 4 * Math.sqrt(expected), `T ${windowS} N ${n}: ${up} upcrossings vs ${expected.toFixed(0)} expected`);
  }
  assert.equal(windowFires([0, 0.5, 1.0, 5], { minCount: 3, windowS: 1 }), true);
  assert.equal(windowFires([0, 0.5, 1.01, 5], { minCount: 3, windowS: 1 }), false);
});

test("burst model: pinched Fermi–Dirac normalised with its mean; νe-CC counts at 10 kpc beside DUNE's published ones", () => {
  for (const m of Object.values(BURST_MODELS)) {
    let s = 0;
    let e1 = 0;
    for (let e = 0.005; e < 200; e += 0.01) {
      const f = pinchedFermiDirac(e, m.meanEnergyMeV, m.alpha);
      s += f * 0.01;
      e1 += e * f * 0.01;
    }
    near(s, 1, 1e-6, `${m.name} norm`);
    near(e1, m.meanEnergyMeV, 1e-4, `${m.name} mean`);
    // DUNE's supernova paper (EPJC 81 (2021) 423): 2648 (Livermore) and 3295 (GKVM) νe-CC in 40 kt at 10 kpc.
    const per40 = 4 * interactionSpectrum(m).total;
    assert.ok(Math.abs(per40 / m.publishedCcPer40ktAt10Kpc - 1) < 0.03, `${m.name}: ${per40.toFixed(0)} vs ${m.publishedCcPer40ktAt10Kpc}`);
  }
  // SNOwGLoBES xs_nue_Ar40.dat at 20 MeV: 4.918e-41 cm²; zero below its 3 MeV threshold.
  near(nueArCrossSectionCm2(20), 4.918e-41, 1e-45);
  assert.equal(nueArCrossSectionCm2(2.9), 0);
});

test('time profile: sums to 1; the best 1 s window is the first (hand sum of its ten 100 ms bins)', () => {
  near(
    TIME_PROFILE.reduce((a, b) => a + b, 0),
    1,
    1e-12,
  );
  near(profileFraction(0, 10), 1, 1e-12);
  const first10 = TIME_PROFILE.slice(0, 10).reduce((a, b) => a + b, 0);
  near(bestWindowFraction(1), first10, 1e-9);
  near(profileFraction(0.05, 0.15), (TIME_PROFILE[0] + TIME_PROFILE[1]) / 2, 1e-12);
});

test('galactic distances: Mirizzi, Raffelt, Serpico (2006) mean 10.7 kpc; the per-kpc shares of the TDR-era burst study', () => {
  near(
    galacticAverage((d) => d),
    10.7,
    0.1,
    'mean distance',
  );
  // plasorak/Clustering BurstTrigger/MakeSNTheoryDistributions.C: shares per 1 kpc bin (centred on 0, 1, … 30 kpc)
  // read off Mirizzi et al.'s figure by eye (they sum to 0.994 and are renormalised there).
  const eyeballed = [
    0, 0.0135, 0.026, 0.038, 0.048, 0.0535, 0.056, 0.057, 0.057, 0.0575, 0.0625, 0.0705, 0.0775, 0.0778, 0.074, 0.0605, 0.05, 0.038, 0.0255, 0.018, 0.012,
    0.008, 0.0055, 0.0025, 0.002, 0.0015, 0.001, 0.0005, 0.0005, 0, 0,
  ];
  const total = eyeballed.reduce((a, b) => a + b, 0);
  eyeballed.forEach((v, k) => {
    const share = galacticAverage((d) => (d >= k - 0.5 && d < k + 0.5 ? 1 : 0), 600, 720);
    near(share, v / total, 0.006, `${k} kpc`);
  });
});

test("fold: a flat efficiency stays itself; a step at 11 MeV gives the spectrum's share above 11 MeV (independent integration)", () => {
  const sp = interactionSpectrum(BURST_MODELS.livermore);
  near(
    foldEfficiency(
      table(() => 0.4),
      sp,
    ).efficiency,
    0.4,
    1e-9,
  );
  const step = foldEfficiency(
    table((lo) => (lo >= 11 ? 1 : 0)),
    sp,
  );
  // Trapezoid on a different grid: ∫_11^∞ φσ / ∫_0^∞ φσ.
  const m = BURST_MODELS.livermore;
  const f = (e: number) => pinchedFermiDirac(e, m.meanEnergyMeV, m.alpha) * nueArCrossSectionCm2(e);
  let all = 0;
  let above = 0;
  for (let e = 0; e < 150; e += 0.013) {
    const v = (0.013 * (f(e) + f(e + 0.013))) / 2;
    all += v;
    if (e >= 11) above += v;
  }
  near(step.efficiency, above / all, 2e-3);
  // Error: one bin's Wilson half-width × its share.
  const one = table((lo) => (lo === 16 ? 0.5 : 0), 100);
  const fo = foldEfficiency(one, sp);
  const b = one.bins[3].all;
  near(fo.efficiency, 0.5 * fo.weights[3], 1e-12);
  const halves = one.bins.map((x, i) => (fo.weights[i] * (x.all.wilson[1] - x.all.wilson[0])) / 2);
  near(fo.err, Math.hypot(...halves), 1e-12);
  assert.ok((b.wilson[1] - b.wilson[0]) / 2 > 0);
});

test('P(detect | n): without background and with a window longer than the burst, a step at N; P(detect) is then the Poisson tail', () => {
  const g = detectionGivenCount({ minCount: 5, windowS: 10 }, 0, 300, 3);
  assert.equal(g[4], 0);
  assert.equal(g[5], 1);
  near(detectionProbability(g, 3.7), poissonTail(5, 3.7), 1e-9);
  // A short window needs more burst candidates: P(detect | N) < 1.
  const gs = detectionGivenCount({ minCount: 5, windowS: 0.1 }, 0, 300, 3);
  assert.ok(gs[5] < 1 && gs[gs.length - 1] === 1);
});

test('computed detection curve agrees with a stream-level simulation of bursts (small configuration)', () => {
  const sp = interactionSpectrum(BURST_MODELS.livermore);
  const tables: ThresholdTable[] = [
    { threshold: 0.3, origin: 'a', table: table((lo) => (lo < 6 ? 0.05 : lo < 16 ? 0.5 : 0.9)), fpHz: 20, fpHzInterval: [17, 23] },
    { threshold: 0.6, origin: 'b', table: table((lo) => (lo < 6 ? 0 : lo < 16 ? 0.3 : 0.8)), fpHz: 1, fpHzInterval: [0.6, 1.5] },
  ];
  const c = computeBurst(tables, sp, { windowsS: [1, 10], trials: 1500, seed: 5 });
  assert.ok(c.rule.fakeRateHzUpper <= ONE_PER_MONTH_HZ);
  assert.equal(c.considered.length, 4);
  assert.ok(c.considered.every((x) => x.d50ApproxKpc <= c.rule.d50ApproxKpc));
  assert.ok(c.d50Kpc.value !== null && c.d90Kpc.value !== null && c.d90Kpc.value < c.d50Kpc.value);
  assert.ok(c.d50Kpc.lo !== null && c.d50Kpc.hi !== null && c.d50Kpc.lo <= c.d50Kpc.value && c.d50Kpc.value <= c.d50Kpc.hi);
  for (const p of c.curve) assert.ok(p.lo <= p.probability + 1e-12 && p.probability <= p.hi + 1e-12, `band at ${p.distanceKpc}`);
  const points = validateBurst(c, sp, {
    distancesKpc: [c.d90Kpc.value as number, c.d50Kpc.value as number, 1.3 * (c.d50Kpc.value as number)],
    trials: 800,
    seed: 11,
    modules: 1,
  });
  for (const p of points) assert.ok(Math.abs(p.pull) < 4, `${p.distanceKpc} kpc: simulated ${p.measured} vs computed ${p.computed} (pull ${p.pull})`);
  near(points[1].computed, 0.5, 0.01);
});

test('daqyolo burst --from: writes the report; a JSON without trigger figures is one clear line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'burst-'));
  try {
    const t = table((lo) => (lo < 6 ? 0 : lo < 16 ? 0.4 : 0.85));
    const k = 89047.2;
    const trigger: TriggerReport = {
      matchRule: 'test rule',
      energyEdgesMeV: EDGES,
      hzPerFpPerImage: k,
      conversion: '',
      fpSource: 'background images',
      efficiency: t,
      falsePositives: {
        threshold: 0.5,
        count: 20,
        images: 1e6,
        perImage: 2e-5,
        hz: 2e-5 * k,
        cl: 0.9,
        upperLimitOnly: false,
        intervalPerImage: [13.25e-6, 28.9e-6],
        intervalHz: [13.25e-6 * k, 28.9e-6 * k],
      },
      scan: [],
      operatingPoints: [
        {
          targetHz: 10,
          threshold: 0.2,
          efficiency: 0.9,
          efficiencyVisible: 0.9,
          fpCount: 100,
          fpHz: 100e-6 * k,
          fpHzInterval: [84e-6 * k, 118e-6 * k],
          table: table((lo) => (lo < 6 ? 0.1 : 0.9)),
        },
      ],
    };
    const tables = thresholdTables(trigger);
    assert.equal(tables.length, 2);
    assert.deepEqual(tables[0].fpHzInterval, [84e-6 * k, 118e-6 * k], "the operating point's own interval (issue 26) is used");
    const src = join(dir, 'eval.json');
    writeFileSync(src, JSON.stringify({ trigger }));
    const out = join(dir, 'b.json');
    const r = spawnSync(process.execPath, [cli, 'burst', '--from', src, '--out', out, '--trials', '500'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /detection probability 50 % at/);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(rep.trigger, 'network');
    assert.equal(rep.curve.length, 61);
    assert.ok(rep.rule.fakeRateHzUpper <= ONE_PER_MONTH_HZ);
    writeFileSync(src, JSON.stringify({ trigger: null }));
    const bad = spawnSync(process.execPath, [cli, 'burst', '--from', src], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /eval\.json: field trigger is null/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report: the burst figure draws the network and the baseline on one plot, states the fake-burst rate, renders to SVG', async () => {
  const { burstFigure } = await import('../../src/report/charts-burst.js');
  const { toSvg } = await import('../../src/report/vega.js');
  const { burstReport } = await import('../../src/eval/burst.js');
  const k = 89047.2;
  const trig = (effHigh: number, hz: number): TriggerReport => ({
    matchRule: 'test rule',
    energyEdgesMeV: EDGES,
    hzPerFpPerImage: k,
    conversion: '',
    fpSource: 'background images',
    efficiency: table((lo) => (lo < 11 ? 0.1 : effHigh)),
    falsePositives: {
      threshold: 0.5,
      count: 50,
      images: (50 * k) / hz,
      perImage: hz / k,
      hz,
      cl: 0.9,
      upperLimitOnly: false,
      intervalHz: [0.8 * hz, 1.25 * hz],
      intervalPerImage: [(0.8 * hz) / k, (1.25 * hz) / k],
    },
    scan: [],
    operatingPoints: [],
  });
  const mk = (kind: 'network' | 'baseline', t: TriggerReport) =>
    burstReport(t, { kind, source: `x/${kind}.json`, model: BURST_MODELS.livermore, trials: 300, windowsS: [1] });
  const run = {
    dir: '/r',
    label: 'r',
    run: {} as never,
    epochs: [],
    batches: [],
    done: null,
    evals: {},
    baselines: {},
    bursts: { 'network-eval': mk('network', trig(0.8, 2)), 'baseline-eval': mk('baseline', trig(0.9, 0.5)) },
  };
  const fig = burstFigure([run]);
  assert.ok(fig);
  assert.match(fig.caption, /r · network: ≥ \d+ candidates in 1 s/);
  assert.match(fig.caption, /r · baseline: /);
  assert.match(fig.caption, /fake bursts .* per month/);
  assert.ok(fig.spec);
  const svg = await toSvg(fig.spec);
  assert.match(svg, /distance to the supernova/);
  // The reference distances' names above the plot (negative y in its frame), not over the curves.
  for (const name of ['Galactic centre', 'LMC']) {
    const at = new RegExp(`transform="translate\\([\\d.]+,(-?[\\d.]+)\\)"[^>]*>${name}<`).exec(svg);
    assert.ok(at && Number(at[1]) < 0, `${name}: ${at?.[1] ?? 'not drawn'}`);
  }
  assert.equal(burstFigure([{ ...run, bursts: {} }]), null);
});

test('a trigger too noisy for the Monte Carlo table falls back to the fixed-window approximation', () => {
  const sp = interactionSpectrum(BURST_MODELS.livermore);
  const c = computeBurst([{ threshold: 0, origin: 'noisy', table: table(() => 0.01), fpHz: 4e5, fpHzInterval: [3.9e5, 4.1e5] }], sp, { trials: 200 });
  assert.match(c.method, /fixed-window approximation/);
  assert.ok(c.rule.minCount > 2000 && c.rule.fakeRateHzUpper <= ONE_PER_MONTH_HZ);
  assert.ok(c.curve.every((p) => p.probability < 0.01));
});

test('a burst compressed in time (timeScale) with its window: the computed curve still agrees with the simulated bursts', () => {
  const sp = interactionSpectrum(BURST_MODELS.livermore);
  const tables: ThresholdTable[] = [{ threshold: 1, origin: 'a', table: table((lo) => (lo < 11 ? 0.2 : 0.8)), fpHz: 200, fpHzInterval: [180, 220] }];
  const c = computeBurst(tables, sp, { windowsS: [0.02], timeScale: 0.02, trials: 1500, seed: 9 });
  assert.equal(c.burstRule.timeScale, 0.02);
  near(c.rule.windowFraction, bestWindowFraction(1), 1e-9);
  const d50 = c.d50Kpc.value as number;
  const points = validateBurst(c, sp, { distancesKpc: [0.8 * d50, d50, 1.25 * d50], trials: 800, seed: 21, modules: 1 });
  for (const p of points) assert.ok(Math.abs(p.pull) < 4, `${p.distanceKpc} kpc: simulated ${p.measured} vs computed ${p.computed} (pull ${p.pull})`);
});

test('the burst as a stream signal: its rate integrates to the interactions per face, from the onset, compressed by timeScale', async () => {
  const { burstStreamSignal } = await import('../../src/sim/supernova.js');
  const sp = interactionSpectrum(BURST_MODELS.livermore);
  const s = burstStreamSignal(sp, 10, { facesPerModule: 200, onsetS: 0.5, timeScale: 0.1 });
  near(s.perFace, sp.total / 200, 1e-9);
  let total = 0;
  for (let t = 0; t < 2; t += 1e-4) total += s.rateHz(t + 5e-5) * 1e-4;
  near(total, s.perFace, 1e-6 * s.perFace + 1e-9);
  assert.equal(s.rateHz(0.49), 0);
  assert.equal(s.rateHz(1.51), 0);
  near(s.rateHz(0.505), s.maxRateHz, 1e-9); // the first 10 ms bin (100 ms × 0.1) is the largest
  const rng = new Random(3);
  let m = 0;
  for (let i = 0; i < 20000; i++) m += s.energy.sample(rng);
  near(m / 20000, 22.68, 0.25); // mean Eν of Livermore's interactions (docs/burst.md)
});

test("daqyolo burst --efficiency --fp-hz: a trigger known by published figures (the TDR-era clustering study's 0.811 at 1.66 Hz)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'burst-pub-'));
  try {
    const out = join(dir, 'p.json');
    const r = spawnSync(process.execPath, [cli, 'burst', '--efficiency', '0.811', '--fp-hz', '1.66', '--window', '1', '--trials', '500', '--out', out], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(rep.trigger, 'published');
    // By hand: 1.66 Hz over 1 s, fewest N with 1.66 · P(N−1; 1.66) ≤ 1/2 678 400 s.
    assert.equal(rep.rule.minCount, minCountForRate(1.66, 1));
    near(rep.rule.efficiency, 0.811, 1e-6);
    const bad = spawnSync(process.execPath, [cli, 'burst', '--efficiency', '0.8'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--efficiency needs --fp-hz/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('multiplicity: each detected interaction makes 1 + Poisson(m − 1) candidates — P(detect | n) by hand, and the curve against simulated bursts', () => {
  // No background, a window longer than the burst: n interactions fire when n + Poisson(n) ≥ N.
  const trials = 4000;
  const g = detectionGivenCount({ minCount: 6, windowS: 10, multiplicity: 2 }, 0, trials, 4);
  for (const n of [2, 3, 4]) {
    const exact = poissonTail(6 - n, n);
    near(g[n], exact, 4 * Math.sqrt((exact * (1 - exact)) / trials) + 1e-9, `n = ${n}`);
  }
  assert.equal(g[6], 1);
  const sp = interactionSpectrum(BURST_MODELS.livermore);
  const tables: ThresholdTable[] = [{ threshold: 1, origin: 'a', table: table((lo) => (lo < 11 ? 0.2 : 0.8)), fpHz: 5, fpHzInterval: [4, 6] }];
  const c = computeBurst(tables, sp, { windowsS: [1], multiplicity: 2.2, trials: 1500, seed: 13 });
  assert.equal(c.rule.multiplicity, 2.2);
  const single = computeBurst(tables, sp, { windowsS: [1], trials: 1500, seed: 13 });
  assert.ok((c.d50Kpc.value as number) > (single.d50Kpc.value as number), 'more candidates per interaction reach farther');
  const d50 = c.d50Kpc.value as number;
  const points = validateBurst(c, sp, { distancesKpc: [0.85 * d50, d50, 1.2 * d50], trials: 800, seed: 31, modules: 1 });
  for (const p of points) assert.ok(Math.abs(p.pull) < 4, `${p.distanceKpc} kpc: simulated ${p.measured} vs computed ${p.computed} (pull ${p.pull})`);
});
