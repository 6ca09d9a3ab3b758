// mAP@0.5 of trained runs on the same dataset split, with its statistical error: the standard
// deviation over bootstrap resamples of the images (the same resamples for every run, so the
// difference between two runs gets its own error too). Trigger efficiency and its error come
// from `daqyolo evaluate`; this adds the error mAP lacks there. One JSON object.
//
// Run: node dist/bench/accuracy.js --data D.h5 --split eval RUN_A RUN_B [--resamples 1000]
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/store.js';
import { BatchLoader } from '../src/data/loader.js';
import { forEachPredictedBatch, mapImage } from '../src/infer/predict.js';
import { evaluateDetections, type MapImage } from '../src/infer/map.js';
import { openRun, checkCompatible } from '../src/infer/open-run.js';
import { mulberry32 } from '../src/util/rng.js';

const { values: a, positionals: runs } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    split: { type: 'string', default: 'eval' },
    resamples: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '16' },
    checkpoint: { type: 'string', default: 'best' },
  },
});
if (!a.data || runs.length === 0) throw new Error('usage: accuracy.js --data D.h5 [--split eval] RUN [RUN…]');

async function imagesOf(runDir: string): Promise<MapImage[]> {
  const opened = openRun(runDir, { checkpoint: a.checkpoint });
  const reader = openDataset(a.data!);
  checkCompatible(opened, reader);
  const indices = Array.from(reader.split(a.split as 'eval'));
  reader.close();
  const out: MapImage[] = [];
  const loader = new BatchLoader({ path: a.data!, workers: 1, prefetch: 2, pool: new Int32Array(0) });
  try {
    await forEachPredictedBatch(loader, opened.ctx, indices, Number(a.batch), (b, res) => {
      res.detections.forEach((dets, k) => out.push(mapImage(dets, b.boxes[k]!)));
    });
  } finally {
    await loader.close();
  }
  opened.model.dispose();
  return out;
}

// null when the images hold no truth box (a resample can): left out of the spread.
const ap50 = (imgs: MapImage[]): number => evaluateDetections(imgs).ap50 ?? NaN;
const perRun = [] as { run: string; variant: unknown; images: MapImage[] }[];
for (const r of runs) perRun.push({ run: r, variant: openRun(r).run.config.model.variant, images: await imagesOf(r) });
const n = perRun[0]!.images.length;
const rng = mulberry32(12345);
const samples = perRun.map(() => [] as number[]);
const diffs: number[] = [];
for (let s = 0; s < Number(a.resamples); s++) {
  const pick = Array.from({ length: n }, () => Math.floor(rng() * n));
  const aps = perRun.map((p) => ap50(pick.map((i) => p.images[i]!)));
  aps.forEach((v, k) => samples[k]!.push(v));
  if (aps.length >= 2) diffs.push(aps[0]! - aps[1]!);
}
const sd = (all: number[]) => {
  const xs = all.filter(Number.isFinite);
  const m = xs.reduce((p, q) => p + q, 0) / xs.length;
  return Math.sqrt(xs.reduce((p, q) => p + (q - m) ** 2, 0) / (xs.length - 1));
};
console.log(
  JSON.stringify({
    bench: 'accuracy',
    data: a.data,
    split: a.split,
    images: n,
    resamples: Number(a.resamples),
    runs: perRun.map((p, k) => ({ run: p.run, variant: p.variant, map50: +ap50(p.images).toFixed(4), map50_bootstrap_sd: +sd(samples[k]!).toFixed(4) })),
    ...(diffs.length
      ? { first_minus_second: { map50: +(ap50(perRun[0]!.images) - ap50(perRun[1]!.images)).toFixed(4), bootstrap_sd: +sd(diffs).toFixed(4) } }
      : {}),
  }),
);
