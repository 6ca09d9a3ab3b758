// The stream trigger (issue 25): an interaction across a window edge is one candidate, candidates
// leave in time order across faces, the same stream cut into other pieces or slightly out of order
// gives the same candidates, a long stream's memory stays bounded, and the simulated stream keeps
// its interactions whole across window edges.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { imageLayout } from '../src/sim/image.js';
import { simulateTpStream } from '../src/sim/stream-sim.js';
import { allocTpBatch, type TpBatch, type TpInteraction, type TpStream } from '../src/sim/tp-stream.js';
import { defaultClusterParams } from '../src/trigger/cluster.js';
import { baselineDetector, clusterPrefilter } from '../src/trigger/detectors.js';
import { runStreamTrigger } from '../src/trigger/run-stream.js';
import type { TriggerCandidate } from '../src/trigger/stream.js';

const layout = imageLayout(parseSimConfig({})); // 480 wires × 4492 ticks → 480 × 480 px
const params = defaultClusterParams();
const W = 4492,
  OVERLAP = 2000;

interface Row {
  face: number;
  wire: number;
  t: number;
  adc: number;
  owner: number;
}

function batchOf(rows: Row[]): TpBatch {
  const b = allocTpBatch(rows.length);
  b.n = rows.length;
  rows.forEach((r, i) => {
    b.face[i] = r.face;
    b.wire[i] = r.wire;
    b.channel[i] = r.wire;
    b.plane[i] = 2;
    b.timeStart[i] = r.t - 2;
    b.timePeak[i] = r.t;
    b.timeOverThreshold[i] = 6;
    b.adcIntegral[i] = r.adc;
    b.adcPeak[i] = r.adc / 4;
    b.owner[i] = r.owner;
  });
  return b;
}

function streamOf(pieces: Row[][], interactions: TpInteraction[] = [], hasTruth = true): TpStream {
  async function* batches() {
    let first = true;
    for (const p of pieces) {
      yield { tps: batchOf(p), interactions: first ? interactions : [] };
      first = false;
    }
  }
  return { header: { originDts: 0n, sources: ['test'], hasTruth }, batches: batches() };
}

async function trigger(
  stream: TpStream,
  o: { reorder?: number; batch?: number; minScore?: number; prefilter?: boolean } = {},
): Promise<{ cands: TriggerCandidate[]; run: Awaited<ReturnType<typeof runStreamTrigger>> }> {
  const cands: TriggerCandidate[] = [];
  const run = await runStreamTrigger(stream, {
    layout,
    windowTicks: W,
    overlapTicks: OVERLAP,
    reorderTicks: o.reorder ?? 500,
    batchWindows: o.batch ?? 4,
    detector: baselineDetector(layout, params, o.minScore ?? 0),
    prefilter: o.prefilter ? clusterPrefilter(layout, params) : undefined,
    threshold: params.minSumAdc,
    tickSeconds: 0.5e-6,
    cores: 1,
    onCandidate: (c) => cands.push(c),
  });
  return { cands, run };
}

/** A track of n TPs every `dt` ticks from t0, over 40 wires from wire0 (neighbours on the same or the next wire). */
const track = (face: number, wire0: number, t0: number, n: number, dt: number, owner: number): Row[] =>
  Array.from({ length: n }, (_, k) => ({ face, wire: wire0 + Math.floor((k * 40) / n), t: t0 + k * dt, adc: 300, owner }));

/** Rows in timePeak order; a quiet TP far away on each face keeps the stream's clock running. */
const sorted = (rows: Row[]) => [...rows].sort((a, b) => a.t - b.t || a.face - b.face);

test('an interaction across a window edge gives exactly one candidate (inside one window, and longer than the overlap)', async () => {
  // Window 0 is [0, 4492), window 1 [2492, 6984), window 2 [4984, 9476); cores [0, 3492), [3492, 5984), …
  const cases = [
    { what: 'across the end of window 0', rows: track(0, 100, 4300, 40, 10, 0) }, // 4300‥4690: whole only in window 1
    { what: 'across the start of window 1', rows: track(0, 200, 2400, 20, 10, 0) }, // whole in window 0, cut in 1
    { what: 'longer than the overlap', rows: track(0, 300, 2000, 150, 20, 0) }, // 2000‥4980: cut in both windows
  ];
  for (const c of cases) {
    const rows = sorted([...c.rows, { face: 0, wire: 5, t: 20_000, adc: 10, owner: -1 }]);
    const { cands, run } = await trigger(streamOf([rows], [{ id: 0, face: 0, time: rows[0].t, energyMeV: 30, electronMeV: 25, origin: 'test' }]));
    assert.equal(
      cands.length,
      1,
      `${c.what}: ${JSON.stringify(
        cands.map((x) => [x.time_start, x.time_end]),
        (_, v) => (typeof v === 'bigint' ? Number(v) : v),
      )}`,
    );
    // Its box holds the whole track: DTS ticks = offline ticks × 31.25.
    const t0 = Math.min(...c.rows.map((r) => r.t)),
      t1 = Math.max(...c.rows.map((r) => r.t));
    assert.ok(
      Number(cands[0].time_start) <= t0 * 31.25 + 300 && Number(cands[0].time_end) >= t1 * 31.25 - 300,
      `${c.what}: box ${cands[0].time_start}–${cands[0].time_end} vs ${t0}–${t1} ticks`,
    );
    assert.equal(run.trigger!.efficiency.integrated.k, 1, `${c.what}: detected`);
    assert.equal(run.trigger!.falsePositives.count, 0);
  }
});

test('simulated stream: candidates leave in time order across faces; other pieces and shuffled rows give the same candidates', async () => {
  const cfg = parseSimConfig({});
  const collect = async (s: TpStream, reorder = 500) =>
    (await trigger(s, { reorder })).cands.map((c) => JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
  const batches: { tps: TpBatch; interactions: TpInteraction[] }[] = [];
  for await (const b of simulateTpStream(cfg, { seconds: 0.03, faces: 3, snRateHz: 300, seed: 4 }).batches) batches.push(b);
  const interactions = batches.flatMap((b) => b.interactions);
  assert.ok(interactions.length >= 10, `${interactions.length} interactions`);
  const rows: Row[] = [];
  for (const { tps: b } of batches)
    for (let i = 0; i < b.n; i++) rows.push({ face: b.face[i], wire: b.wire[i], t: b.timePeak[i], adc: b.adcIntegral[i], owner: b.owner[i] });
  // Rows rebuilt with timeStart = peak − 2 so that the three streams below differ only in cutting and order.
  const whole = await collect(streamOf([sorted(rows)], interactions));
  const faces = new Set(whole.map((c) => JSON.parse(c).face));
  assert.ok(whole.length >= 10 && faces.size === 3, `${whole.length} candidates on faces ${[...faces]}`);
  const times = whole.map((c) => Number(JSON.parse(c).time_start));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'time_start never decreases across faces',
  );
  // Pieces of 1 … 997 rows: the same candidates.
  const pieces: Row[][] = [];
  const all = sorted(rows);
  for (let i = 0, k = 1; i < all.length; k = ((k * 7 + 3) % 997) + 1) {
    pieces.push(all.slice(i, i + k));
    i += k;
  }
  assert.deepEqual(await collect(streamOf(pieces, interactions)), whole);
  // Rows displaced by up to 300 ticks (less than the 500-tick reorder buffer): the same candidates.
  let s = 12345;
  const jittered = all
    .map((r) => ({ r, key: r.t + ((s = (s * 1103515245 + 12345) >>> 0) % 300) }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.r);
  assert.notDeepEqual(jittered, all);
  const shuffledPieces: Row[][] = [];
  for (let i = 0; i < jittered.length; i += 50) shuffledPieces.push(jittered.slice(i, i + 50));
  assert.deepEqual(await collect(streamOf(shuffledPieces, interactions)), whole);
  // The pre-filter skips windows without a cluster of ΣADC ≥ 400 and batches the others: a detector
  // that only reports such clusters gives exactly the same candidates with it as without it.
  const strict = await trigger(streamOf([all], interactions), { minScore: params.minSumAdc, batch: 3 });
  const filtered = await trigger(streamOf([all], interactions), { minScore: params.minSumAdc, batch: 3, prefilter: true });
  assert.ok(
    filtered.run.summary.windowsSkipped > 0 && filtered.run.summary.windowsSkipped < filtered.run.summary.windows,
    `${filtered.run.summary.windowsSkipped} of ${filtered.run.summary.windows} skipped`,
  );
  assert.ok(strict.cands.length > 0);
  assert.deepEqual(filtered.cands, strict.cands);
});

test('the simulated stream keeps interactions whole across window edges and is deterministic', async () => {
  const cfg = parseSimConfig({ background: { ar39: { enabled: false } } });
  const take = async () => {
    const out: { tps: TpBatch; interactions: TpInteraction[] }[] = [];
    for await (const b of simulateTpStream(cfg, { seconds: 0.05, faces: 1, snRateHz: 2000, seed: 7, energy: { sample: () => 40 } }).batches) out.push(b);
    return out;
  };
  const a = await take(),
    b = await take();
  assert.deepEqual(
    a.map((x) => Array.from(x.tps.adcIntegral)),
    b.map((x) => Array.from(x.tps.adcIntegral)),
    'same seed, same stream',
  );
  const its = a.flatMap((x) => x.interactions);
  assert.ok(its.length >= 10 && its.every((i) => i.energyMeV === 40), 'the injected energy sampler');
  // TPs of each interaction per window: some interactions have TPs in two consecutive windows.
  const perWindow = new Map<number, Set<number>>();
  a.forEach((x, k) => {
    for (let i = 0; i < x.tps.n; i++)
      if (x.tps.owner[i] >= 0) (perWindow.get(x.tps.owner[i]) ?? perWindow.set(x.tps.owner[i], new Set()).get(x.tps.owner[i])!).add(k);
  });
  const crossing = [...perWindow.values()].filter((w) => w.size > 1).length;
  assert.ok(crossing >= 1, `${crossing} interactions across a window edge of ${perWindow.size}`);
  // No TP is duplicated at the edges: times strictly inside [kW, (k+1)W) of the batch that holds them.
  a.forEach((x, k) => {
    for (let i = 0; i < x.tps.n; i++) assert.ok(x.tps.timePeak[i] >= k * 4492 && x.tps.timePeak[i] < (k + 1) * 4492);
  });
  // An interaction's TPs across an edge form one time-contiguous group (no gap of a window at the edge).
  for (const [id, ws] of perWindow)
    if (ws.size > 1)
      assert.ok(
        [...ws].every((k, _, arr) => arr.includes(k - 1) || arr.includes(k + 1)),
        `interaction ${id} in windows ${[...ws]}`,
      );
});

test("a long stream's memory stays bounded (RSS measured in a child process)", () => {
  const script = fileURLToPath(new URL('./trigger-stream-rss.js', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { rssMb, windows } = JSON.parse(r.stdout) as { rssMb: number[]; windows: number };
  assert.ok(windows >= 8000, `${windows} windows`);
  // RSS after a quarter of the stream and at its end: the same within a few MB (a leak of one
  // window's TPs per window would grow it by hundreds of MB).
  assert.ok(rssMb[rssMb.length - 1] - rssMb[0] < 25, `RSS ${rssMb.map((x) => x.toFixed(0)).join(' → ')} MB`);
});

test("efficiency and FP rate from a simulated stream agree with evaluate's by the same TP rule (the baseline on images of the same simulator)", async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { generateDataset } = await import('../src/data/generate.js');
  const { runBaseline } = await import('../src/cli/baseline.js');
  const dir = mkdtempSync(join(tmpdir(), 'daqyolo-trigger-stream-'));
  try {
    const data = join(dir, 'd.h5');
    const cfg = parseSimConfig({ signal: { perImage: 1, mode: 'fixed' } });
    await generateDataset({ out: data, config: cfg, images: 160, seed: 5, workers: 0, split: [0, 0, 1] });
    const images = await runBaseline({ data, split: 'eval', params, background: 500, workers: 0, match: 'tps' });
    // The stream: 2 faces × 1 s at 80 interactions per face per second (≈ 160 interactions).
    const { run } = await trigger(simulateTpStream(cfg, { seconds: 1, faces: 2, snRateHz: 80, seed: 6 }), { reorder: 4492, batch: 16 });
    const a = images.trigger.efficiency.integrated.all,
      b = run.trigger!.efficiency.integrated;
    assert.ok(a.n >= 150 && b.n >= 130, `${a.n} and ${b.n} interactions`);
    const diff = a.efficiency! - b.efficiency!;
    const sigma = Math.hypot(a.stdErr!, b.stdErr!, 0.01);
    assert.ok(
      Math.abs(diff) < 3 * sigma,
      `efficiency: images ${a.k}/${a.n}, stream ${b.k}/${b.n} (${(100 * diff).toFixed(1)} ± ${(100 * sigma).toFixed(1)} points)`,
    );
    const fa = images.trigger.falsePositives,
      fb = run.trigger!.falsePositives;
    assert.ok(fa.count >= 10 && fb.count >= 10, `FP counts ${fa.count}, ${fb.count}`);
    // Poisson errors of both counts, as rates.
    const sa = fa.hz / Math.sqrt(fa.count),
      sb = fb.hzPerModule / Math.sqrt(fb.count);
    assert.ok(
      Math.abs(fa.hz - fb.hzPerModule) < 3 * Math.hypot(sa, sb),
      `FP Hz per module: images ${fa.hz.toFixed(0)} (${fa.count}), stream ${fb.hzPerModule.toFixed(0)} (${fb.count})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pre-filter passes a window for a cluster in its core, not for one in its overlap only', () => {
  const window = (t: number) => {
    const rows = track(0, 100, t, 20, 5, -1);
    return {
      face: 0,
      start: 2492,
      n: rows.length,
      wire: Int32Array.from(rows.map((r) => r.wire)),
      timePeak: Float64Array.from(rows.map((r) => r.t)),
      timeOverThreshold: new Float64Array(rows.length).fill(6),
      adcIntegral: new Float32Array(rows.length).fill(300),
      adcPeak: new Float32Array(rows.length).fill(75),
      owner: new Int32Array(rows.length).fill(-1),
    };
  };
  const core = { windowTicks: W, overlapTicks: OVERLAP, marginTicks: 200 };
  const any = clusterPrefilter(layout, params),
    inCore = clusterPrefilter(layout, params, core);
  // Core [1000, 3492) of the window, widened by 200: a cluster at 2000 passes, one at 200 (overlap) only without the core.
  assert.equal(inCore(window(2000)), true);
  assert.equal(any(window(200)), true);
  assert.equal(inCore(window(200)), false);
  assert.equal(inCore(window(4300)), false);
  assert.equal(inCore(window(3550)), true, 'within the margin');
  // The first window of a stream has its core from 0.
  assert.equal(inCore({ ...window(200), start: 0 }), true);
});

test('the detector gets full batches however the stream is cut (the last excepted), and the candidates do not depend on the batch', async () => {
  const cfg = parseSimConfig({});
  const batches: { tps: TpBatch; interactions: TpInteraction[] }[] = [];
  for await (const b of simulateTpStream(cfg, { seconds: 0.03, faces: 3, snRateHz: 300, seed: 4 }).batches) batches.push(b);
  const interactions = batches.flatMap((b) => b.interactions);
  const rows: Row[] = [];
  for (const { tps: b } of batches)
    for (let i = 0; i < b.n; i++) rows.push({ face: b.face[i], wire: b.wire[i], t: b.timePeak[i], adc: b.adcIntegral[i], owner: b.owner[i] });
  const all = sorted(rows);
  // Pieces of about one window's TPs per face: each push completes a window or two.
  const pieces: Row[][] = [];
  for (let i = 0; i < all.length; i += 200) pieces.push(all.slice(i, i + 200));
  const run = async (batch: number, prefilter: boolean) => {
    const sizes: number[] = [];
    const inner = baselineDetector(layout, params, params.minSumAdc);
    const cands: string[] = [];
    const r = await runStreamTrigger(streamOf(pieces, interactions), {
      layout,
      windowTicks: W,
      overlapTicks: OVERLAP,
      batchWindows: batch,
      detector: { ...inner, detect: (ws) => (sizes.push(ws.length), inner.detect(ws)) },
      prefilter: prefilter ? clusterPrefilter(layout, params) : undefined,
      threshold: params.minSumAdc,
      tickSeconds: 0.5e-6,
      cores: 1,
      onCandidate: (c) => cands.push(JSON.stringify(c, (_, v) => (typeof v === 'bigint' ? String(v) : v))),
    });
    return { sizes, cands, windows: r.summary.windows };
  };
  const one = await run(1, false);
  assert.ok(one.windows >= 30 && one.cands.length > 0, `${one.windows} windows, ${one.cands.length} candidates`);
  for (const [batch, prefilter] of [
    [4, false],
    [7, false],
    [4, true],
  ] as const) {
    const r = await run(batch, prefilter);
    assert.deepEqual(r.cands, one.cands, `batch ${batch}${prefilter ? ', pre-filter' : ''}: the same candidates`);
    // Every batch full but the stream's last (a push that completes fewer windows waits for the next).
    assert.ok(
      r.sizes.slice(0, -1).every((n) => n === batch),
      `batch ${batch}${prefilter ? ', pre-filter' : ''}: sizes ${r.sizes.join(' ')}`,
    );
    assert.ok(r.sizes.length >= 2);
  }
});
