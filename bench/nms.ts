// Speed of the pure-TypeScript geometry and metrics; prints one JSON object.
// Run: npx tsc -p tsconfig.json && node dist/bench/nms.js
import { performance } from 'node:perf_hooks';
import { nms, type DetectionSet } from '../src/infer/nms.js';
import { evaluateDetections, type MapImage } from '../src/infer/map.js';
import { evaluateTrigger, type TriggerImage } from '../src/eval/efficiency.js';
import { kmeansAnchors } from '../src/anchors/kmeans.js';
import { mulberry32 } from '../src/util/rng.js';

const rng = mulberry32(42);
const box = (): [number, number, number, number] => {
  const x = rng() * 440,
    y = rng() * 440,
    w = 4 + rng() * 36,
    h = 4 + rng() * 36;
  return [x, y, x + w, y + h];
};
// Jittered copy of a box: what a detector emits around a real object.
const jitter = (b: readonly number[], s: number): [number, number, number, number] => [
  b[0] + (rng() - 0.5) * s,
  b[1] + (rng() - 0.5) * s,
  b[2] + (rng() - 0.5) * s,
  b[3] + (rng() - 0.5) * s,
];

function time(fn: () => void, reps: number): number {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

// NMS: 10 000 candidates around 200 objects, 3 classes.
const n = 10_000;
const centres = Array.from({ length: 200 }, box);
const set: DetectionSet = { boxes: new Float32Array(4 * n), scores: new Float32Array(n), classes: new Int32Array(n) };
for (let i = 0; i < n; i++) {
  set.boxes.set(jitter(centres[i % 200], 6), 4 * i);
  set.scores[i] = rng();
  set.classes[i] = i % 3;
}
const keptAll = nms(set, { iouThreshold: 0.45, maxDetections: Infinity }).length;
const nmsAllMs = time(() => nms(set, { iouThreshold: 0.45, maxDetections: Infinity }), 20);
const nms100Ms = time(() => nms(set, { iouThreshold: 0.45 }), 20);

// mAP and trigger metrics: 3000 images, 2 truths and 6 detections each.
const mapImages: MapImage[] = [];
const trigImages: TriggerImage[] = [];
for (let i = 0; i < 3000; i++) {
  const truths = [box(), box()];
  const dets = [...truths.flatMap((t) => [jitter(t, 4), jitter(t, 8)]), box(), box()].map((b) => ({
    x1: b[0],
    y1: b[1],
    x2: b[2],
    y2: b[3],
    score: rng(),
    cls: 0,
  }));
  mapImages.push({ truths: truths.map((b) => ({ box: b, cls: 0 })), detections: dets });
  trigImages.push({ interactions: truths.map((b) => ({ energyMeV: 1 + rng() * 69, box: b })), detections: dets });
}
const mapMs = time(() => evaluateDetections(mapImages), 3);
const trigMs = time(() => evaluateTrigger(trigImages), 3);

// Anchors: 50 000 boxes, k = 9, 10 restarts.
const w = new Float32Array(50_000),
  h = new Float32Array(50_000);
for (let i = 0; i < w.length; i++) {
  w[i] = 2 + 60 * rng() ** 2;
  h[i] = 2 + 120 * rng() ** 2;
}
const t0 = performance.now();
const km = kmeansAnchors(w, h, { k: 9, restarts: 10, seed: 0 });
const kmMs = performance.now() - t0;

console.log(
  JSON.stringify({
    node: process.version,
    nms: { boxes: n, classes: 3, objects: 200, iouThreshold: 0.45, keptUnlimited: keptAll, msUnlimited: +nmsAllMs.toFixed(2), msMax100: +nms100Ms.toFixed(2) },
    map: { images: 3000, detectionsPerImage: 6, truthsPerImage: 2, ms: +mapMs.toFixed(1), note: 'all metrics: VOC11, all-point, COCO 10 IoU × 4 size ranges' },
    trigger: { images: 3000, ms: +trigMs.toFixed(1) },
    anchors: { boxes: w.length, k: 9, restarts: 10, ms: +kmMs.toFixed(0), meanBestIou: +km.meanBestIou.toFixed(4) },
  }),
);
