// Speed of `daqyolo compare`'s paired bootstrap (eval/paired.ts) at the size issue 27 asks for:
// 1 000 evaluation images, 1 000 resamples, mAP@0.5 of two runs and the efficiency (flat and
// supernova) at two rates. The peer is the naive way — evaluateDetections on each resample written
// out — timed on a few resamples in the same run. Prints one JSON object.
// Run: npx tsc -p tsconfig.json && node dist/bench/compare-bootstrap.js [images] [resamples] [detectionsPerImage]
import { performance } from 'node:perf_hooks';
import { evaluateDetections, type MapImage } from '../src/infer/map.js';
import { drawResample, efficiencyOf, mapDigest, mapOf, pairedBootstrap, type PairedStatistic } from '../src/eval/paired.js';
import { mulberry32 } from '../src/util/rng.js';

const images = Number(process.argv[2] ?? 1000);
const resamples = Number(process.argv[3] ?? 1000);
const detsPerImage = Number(process.argv[4] ?? 40);
const rng = mulberry32(1);

// Two interactions per image; each run emits a box near most of them and strays down to score 0.005
// (evaluate's decode threshold keeps that many low-score boxes per image).
function run(): MapImage[] {
  return Array.from({ length: images }, () => {
    const truths = Array.from({ length: 2 }, () => {
      const x = rng() * 400;
      const y = rng() * 400;
      return { box: [x, y, x + 10 + rng() * 40, y + 10 + rng() * 40] as const, cls: 0 };
    });
    const detections = Array.from({ length: detsPerImage }, (_, k) => {
      const t = truths[k % 2]!.box;
      const near = k < 2 && rng() < 0.8;
      const dx = near ? rng() * 4 : 20 + rng() * 200;
      return { x1: t[0] + dx, y1: t[1] + dx, x2: t[2] + dx, y2: t[3] + dx, score: near ? 0.3 + 0.7 * rng() : 0.005 + 0.3 * rng() ** 3, cls: 0 };
    });
    return { truths, detections };
  });
}
const a = run();
const b = run();
const n = images * 2;
const it = { image: Int32Array.from({ length: n }, (_, i) => i >> 1), bin: Int32Array.from({ length: n }, () => Math.floor(rng() * 14)) };
const bestA = Float64Array.from({ length: n }, () => rng());
const bestB = Float64Array.from({ length: n }, () => rng());
const w = Float64Array.from({ length: 14 }, () => rng());

let t0 = performance.now();
const da = mapDigest(a);
const db = mapDigest(b);
const digestSeconds = (performance.now() - t0) / 1000;
const statistics: PairedStatistic[] = [(m) => [mapOf(da, m), mapOf(db, m)]];
for (const t of [0.5, 0.8]) {
  statistics.push((m) => [efficiencyOf(it, bestA, t, w, m).flat, efficiencyOf(it, bestB, t, w, m).flat]);
  statistics.push((m) => [efficiencyOf(it, bestA, t, w, m).supernova, efficiencyOf(it, bestB, t, w, m).supernova]);
}
t0 = performance.now();
pairedBootstrap(images, statistics, { resamples, seed: 1 });
const bootstrapSeconds = (performance.now() - t0) / 1000;
// The peer: both runs' evaluateDetections on a few resamples written out image by image.
const peerResamples = 3;
t0 = performance.now();
const r = mulberry32(2);
for (let k = 0; k < peerResamples; k++) {
  const m = drawResample(images, r);
  for (const ims of [a, b]) evaluateDetections(ims.flatMap((im, i) => Array.from({ length: m[i]! }, () => im)));
}
const peerSecondsPerResample = (performance.now() - t0) / 1000 / peerResamples;
console.log(
  JSON.stringify({
    images,
    resamples,
    detectionsPerImage: detsPerImage,
    digestSeconds,
    bootstrapSeconds,
    secondsPerResample: bootstrapSeconds / resamples,
    naiveSecondsPerResample: peerSecondsPerResample,
    naiveEstimateSeconds: peerSecondsPerResample * resamples,
    speedup: (peerSecondsPerResample * resamples) / bootstrapSeconds,
  }),
);
