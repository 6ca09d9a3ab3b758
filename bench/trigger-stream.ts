// The stream trigger's real-time figures (issue 25), each network beside the baseline and beside
// its peer, fprate's pixel-list path over the simulator's own images, in the same process and
// rounds alternating. The stream is simulated once (default simulation of the run's dataset,
// `--faces` faces × `--seconds`) and replayed from memory, so only the trigger is timed.
//
// Per setting and round: face-windows/s and TPs/s (wall), CPU ms per face-window (all threads of
// the process: robust to a loaded machine, from which cores per module follow), latency, and where
// the network's time goes on the same windows (TPs → pixel lists, tensor, forward, decode + NMS),
// and the two inputs' active pixels per window and per image.
// Cores per 10 kt module = 200 faces × (window / stride) windows per 2.246 ms × CPU s per window.
//
// Run: node dist/bench/trigger-stream.js RUN [RUN…] [--seconds 0.25] [--faces 4] [--rounds 3]
//        [--batch 16] [--threads 1] [--prefilter] [--prefilter-margin 500] [--sn-rate 50]
//        [--baseline-only] (the runs then only name the dataset; for the pre-filter's acceptance)
//        [--prefilter-only] (each network only behind the pre-filter: long streams at little cost)
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { openDataset } from '../src/data/store.js';
import { imageLayout, tpsToSparse, type SparseImage } from '../src/sim/image.js';
import { dropIsolated } from '../src/model/sparse-blocks.js';
import { simulateTpStream } from '../src/sim/stream-sim.js';
import { Simulator } from '../src/sim/event.js';
import type { TpBatch, TpInteraction, TpStream } from '../src/sim/tp-stream.js';
import { noGrad, setNumThreads, SparseTensor, tidy } from '../src/torch/index.js';
import { detectSparseBatch } from '../src/infer/predict.js';
import { openRun, type OpenedRun } from '../src/infer/open-run.js';
import { simulatorOf } from '../src/eval/evaluate.js';
import { defaultClusterParams } from '../src/trigger/cluster.js';
import { baselineDetector, clusterPrefilter, networkDetector, windowToSparse } from '../src/trigger/detectors.js';
import { runStreamTrigger, type StreamTriggerRun } from '../src/trigger/run-stream.js';
import { median } from './measure.js';
import type { FaceWindow, WindowDetector } from '../src/trigger/stream.js';

const { values: a, positionals: runs } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '0.25' },
    faces: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '16' },
    threads: { type: 'string', default: '1' },
    overlap: { type: 'string', default: '2000' },
    'sn-rate': { type: 'string', default: '50' },
    threshold: { type: 'string', default: '0.3' },
    checkpoint: { type: 'string', default: 'best' },
    prefilter: { type: 'boolean', default: false },
    'baseline-only': { type: 'boolean', default: false },
    'prefilter-only': { type: 'boolean', default: false },
    data: { type: 'string' },
    'prefilter-margin': { type: 'string', default: '500' },
  },
});
if (runs.length === 0) throw new Error('usage: trigger-stream.js RUN [RUN…] [--seconds S] [--faces N] [--rounds R] [--batch B] [--threads T] [--prefilter]');
const threads = Number(a.threads);
setNumThreads(threads);
const batch = Number(a.batch),
  overlap = Number(a.overlap),
  threshold = Number(a.threshold);

const opened: OpenedRun[] = runs.map((r) => openRun(r, { checkpoint: a.checkpoint, threads }));
const dataPath = a.data ?? opened[0].run.config.data;
const reader = openDataset(dataPath);
const sim = simulatorOf(reader.attrs, dataPath);
reader.close();
const cfg = sim.config;
const layout = imageLayout(cfg);
const W = cfg.detector.windowTicks;
const params = defaultClusterParams(cfg.electronics.adcBits);

// The stream, simulated once.
const t0 = performance.now();
const recorded: { tps: TpBatch; interactions: TpInteraction[] }[] = [];
for await (const b of simulateTpStream(cfg, { seconds: Number(a.seconds), faces: Number(a.faces), snRateHz: Number(a['sn-rate']), seed: 11 }).batches)
  recorded.push(b);
const simSeconds = (performance.now() - t0) / 1000;
const replay = (): TpStream => ({
  header: { originDts: 0n, sources: ['bench'], hasTruth: true },
  batches: (async function* () {
    yield* recorded;
  })(),
});

async function once(detector: WindowDetector, prefilter: boolean): Promise<StreamTriggerRun & { cpuMsPerWindow: number }> {
  const c0 = process.cpuUsage();
  const r = await runStreamTrigger(replay(), {
    layout,
    windowTicks: W,
    overlapTicks: overlap,
    batchWindows: batch,
    detector,
    prefilter: prefilter ? clusterPrefilter(layout, params, core) : undefined,
    threshold: detector.name === 'baseline' ? params.minSumAdc : threshold,
    tickSeconds: cfg.detector.tickUs * 1e-6,
    cores: threads,
    onCandidate: () => undefined,
  });
  const cpu = process.cpuUsage(c0);
  return { ...r, cpuMsPerWindow: (cpu.user + cpu.system) / 1000 / Math.max(1, r.summary.windows) };
}

// Where the network's time goes, on the windows of the stream: the stages of one batch each.
function stages(o: OpenedRun, windows: FaceWindow[]) {
  const ctx = o.ctx;
  const t = { toPixels: 0, tensor: 0, forward: 0, decode: 0, windows: 0 };
  for (let i = 0; i < windows.length; i += batch) {
    const part = windows.slice(i, i + batch);
    let c = performance.now();
    const sparse = part.map((w) => windowToSparse(layout, w));
    t.toPixels += performance.now() - c;
    c = performance.now();
    tidy(() => {
      const x = SparseTensor.fromSortedPixels(sparse, layout.channels, layout.height, layout.width, ctx.inputScale, ctx.device);
      t.tensor += performance.now() - c;
      c = performance.now();
      noGrad(() => ctx.model.forward(x));
      t.forward += performance.now() - c;
      c = performance.now();
      // detectSparseBatch = forward + decode and NMS: the decode is its time less the forward's.
      detectSparseBatch(ctx, x, { scoreThreshold: 0.01 });
      t.decode += performance.now() - c;
    });
    t.windows += part.length;
  }
  return t;
}

// The peer: fprate's pixel-list path over the simulator's background images of the same config.
function peer(o: OpenedRun, images: { pixels: Int32Array; values: Float32Array }[]) {
  const ctx = o.ctx;
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < images.length; i += batch) {
    tidy(() =>
      detectSparseBatch(
        ctx,
        SparseTensor.fromSortedPixels(images.slice(i, i + batch), layout.channels, layout.height, layout.width, ctx.inputScale, ctx.device),
        { scoreThreshold: 0.01 },
      ),
    );
  }
  const cpu = process.cpuUsage(c0);
  return { imagesPerSecond: images.length / ((performance.now() - w0) / 1000), cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images.length };
}

const simulator = new Simulator(cfg, 12);
const peerImages = Array.from({ length: 128 }, (_, i) => tpsToSparse(layout, simulator.image(i, { signal: false, keepTps: true }).tps!));
// The stream's windows (for the stage profile): cut as the trigger cuts them.
const profileWindows: FaceWindow[] = [];
await runStreamTrigger(replay(), {
  layout,
  windowTicks: W,
  overlapTicks: overlap,
  batchWindows: batch,
  tickSeconds: 0.5e-6,
  cores: 1,
  threshold: 0,
  onCandidate: () => undefined,
  detector: {
    algorithm: 0,
    name: 'record',
    minScore: 0,
    scoreScale: 'unit',
    detect: (ws) => {
      profileWindows.push(...ws);
      return ws.map(() => []);
    },
  },
});

// The pre-filter's cost in efficiency, whatever the network: the share of the stream's interactions
// with ≥ 2 TPs in some window the pre-filter passes (a perfect detector behind it), beside the
// share with ≥ 2 TPs in any window, per Eν bin, for several ΣADC thresholds; and the windows passed.
const energies = new Map<number, number>();
for (const b of recorded) for (const it of b.interactions) energies.set(it.id, it.energyMeV);
const edges = [1, 6, 11, 16, 21, 31, 41, 56, 70];
const core = { windowTicks: W, overlapTicks: overlap, marginTicks: Number(a['prefilter-margin']) };
function acceptance(minSumAdc: number | null, inCore: boolean) {
  const seen = new Set<number>();
  let passed = 0;
  const filter = minSumAdc === null ? null : clusterPrefilter(layout, { ...params, minSumAdc }, inCore ? core : undefined);
  for (const w of profileWindows) {
    if (filter && !filter(w)) continue;
    passed++;
    const n = new Map<number, number>();
    for (let i = 0; i < w.n; i++) if (w.owner[i] >= 0) n.set(w.owner[i], (n.get(w.owner[i]) ?? 0) + 1);
    for (const [id, k] of n) if (k >= 2) seen.add(id);
  }
  const bins = edges.slice(0, -1).map((lo, b) => {
    const ids = [...energies].filter(([, e]) => e >= lo && e < edges[b + 1]);
    return { loMeV: lo, hiMeV: edges[b + 1], n: ids.length, accepted: ids.filter(([id]) => seen.has(id)).length };
  });
  return {
    minSumAdc,
    inCore,
    windowsPassed: passed / profileWindows.length,
    interactions: energies.size,
    accepted: [...energies.keys()].filter((id) => seen.has(id)).length,
    bins,
  };
}
// The two inputs side by side: active pixels per stream window and per simulated background image
// (the peer's), as given and after the first run's isolated-pixel drop: a difference in time
// between the trigger and its peer is only the network's input when these differ.
function inputPixels(images: SparseImage[], radius: number) {
  const given = images.map((im) => im.pixels.length);
  const kept = images.map((im) =>
    tidy(() => {
      const x = SparseTensor.fromSortedPixels([im], layout.channels, layout.height, layout.width, 1, 'cpu');
      return radius > 0 ? dropIsolated(x, radius).grid.size : x.grid.size;
    }),
  );
  const mean = (xs: number[]) => xs.reduce((t, x) => t + x, 0) / Math.max(1, xs.length);
  return { images: images.length, meanPixels: mean(given), meanPixelsKept: mean(kept), isolatedRadius: radius };
}
const radius = opened[0].run.config.model.isolatedRadius ?? 0;
const inputs = {
  streamWindows: inputPixels(
    profileWindows.map((w) => windowToSparse(layout, w)),
    radius,
  ),
  peerImages: inputPixels(peerImages, radius),
};

const prefilterCost = [null, 100, 200, 400, 800].flatMap((t) => (t === null ? [acceptance(t, false)] : [acceptance(t, false), acceptance(t, true)]));

const load0 = loadavg()[0];
const settings: { name: string; make: () => Promise<unknown> }[] = [
  { name: 'baseline', make: () => once(baselineDetector(layout, params, params.minSumAdc / 4), false) },
];
if (!a['baseline-only'])
  opened.forEach((o, k) => {
    const name = `${o.run.config.model.variant}@${o.run.size}${runs.length > 1 ? `#${k}` : ''}`;
    const ok = o.ctx.model.sparse && o.run.size === layout.height;
    if (!a['prefilter-only']) settings.push({ name, make: () => once(networkDetector(o.ctx, layout, { scoreThreshold: 0.01 }), false) });
    if (a.prefilter) settings.push({ name: `${name}+prefilter`, make: () => once(networkDetector(o.ctx, layout, { scoreThreshold: 0.01 }), true) });
    if (ok && !a['prefilter-only']) {
      settings.push({ name: `${name}:peer-fprate-pixels`, make: async () => peer(o, peerImages) });
      settings.push({ name: `${name}:stages`, make: async () => stages(o, profileWindows) });
    }
  });

// Each network once on both inputs before anything is timed: the first forward pass builds the
// allocator's pools and oneDNN's primitives (≈ 1 ms per window more on the first pass of 328
// windows), which the first setting timed would otherwise carry alone.
for (const o of opened)
  if (o.ctx.model.sparse && o.run.size === layout.height && !a['baseline-only'])
    for (const images of [profileWindows.slice(0, batch).map((w) => windowToSparse(layout, w)), peerImages.slice(0, batch)])
      tidy(() =>
        detectSparseBatch(o.ctx, SparseTensor.fromSortedPixels(images, layout.channels, layout.height, layout.width, o.ctx.inputScale, o.ctx.device), {
          scoreThreshold: 0.01,
        }),
      );

const rounds: Record<string, unknown[]> = {};
for (let r = 0; r < Number(a.rounds); r++) {
  for (const s of settings) (rounds[s.name] ??= []).push(await s.make());
}

const summary: Record<string, unknown> = {};
const stride = W - overlap;
const moduleWindowsPerS = (200 * W) / stride / (W * cfg.detector.tickUs * 1e-6);
for (const [name, rs] of Object.entries(rounds)) {
  const first = rs[0] as Record<string, unknown>;
  if ('summary' in first) {
    const runsOf = rs as (StreamTriggerRun & { cpuMsPerWindow: number })[];
    const cpu = median(runsOf.map((x) => x.cpuMsPerWindow));
    summary[name] = {
      faceWindowsPerSecond: median(runsOf.map((x) => x.realTime.faceWindowsPerSecond)),
      tpsPerSecond: median(runsOf.map((x) => x.realTime.tpsPerSecond)),
      realTimeFactorPerFace: median(runsOf.map((x) => x.realTime.realTimeFactorPerFace)),
      latencyP50Ms: median(runsOf.map((x) => x.realTime.latencyMs.p50Ms)),
      latencyP99Ms: median(runsOf.map((x) => x.realTime.latencyMs.p99Ms)),
      cpuMsPerWindow: cpu,
      detectorShareOfWall: median(runsOf.map((x) => x.realTime.detectShare)),
      faceWindowsPerCoreSecond: 1000 / cpu,
      coresPerModuleFromCpu: (moduleWindowsPerS * cpu) / 1000,
      coresPerModuleFromWall: median(runsOf.map((x) => x.realTime.coresPerModule)),
      windows: runsOf[0].summary.windows,
      skipped: runsOf[0].summary.windowsSkipped,
      efficiency: runsOf[0].trigger?.efficiency.integrated,
      falsePositives: runsOf[0].trigger?.falsePositives,
    };
  } else if ('imagesPerSecond' in first) {
    const p = rs as { imagesPerSecond: number; cpuMsPerImage: number }[];
    summary[name] = { imagesPerSecond: median(p.map((x) => x.imagesPerSecond)), cpuMsPerImage: median(p.map((x) => x.cpuMsPerImage)) };
  } else {
    const st = rs as { toPixels: number; tensor: number; forward: number; decode: number; windows: number }[];
    const per = (k: 'toPixels' | 'tensor' | 'forward' | 'decode') => median(st.map((x) => x[k] / x.windows));
    const decode = per('decode') - per('forward');
    summary[name] = { msPerWindow: { toPixels: per('toPixels'), tensor: per('tensor'), forward: per('forward'), decodeAndNms: Math.max(0, decode) } };
  }
}
console.log(
  JSON.stringify(
    {
      command: `node dist/bench/trigger-stream.js ${process.argv.slice(2).join(' ')}`,
      stream: {
        seconds: Number(a.seconds),
        faces: Number(a.faces),
        windowTicks: W,
        overlapTicks: overlap,
        strideTicks: stride,
        tps: recorded.reduce((n, b) => n + b.tps.n, 0),
        simulationSeconds: simSeconds,
      },
      moduleFaceWindowsPerSecond: moduleWindowsPerS,
      threads,
      batch,
      loadavg: [load0, loadavg()[0]],
      summary,
      inputs,
      prefilterCost,
      rounds,
    },
    null,
    1,
  ),
);
for (const o of opened) o.model.dispose();
