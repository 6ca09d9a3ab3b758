// What a run's confident false positives look at: on a split's images, every detection scoring
// at least --score (give each run the threshold of the same FP rate, from compare's output) that
// overlaps no truth box, described by the input under it — non-zero pixels (TPs), their ΣADC
// and the box size — so two runs' false positives at equal rate can be set side by side (the
// dense and sparse parity pair: which background patterns the sparse network is sure of).
// One JSON object; per run: count per image, medians and the share with ≤ 1 / ≤ 3 pixels.
//
// Run: node dist/bench/false-positives.js --data D.h5 [--split eval] [--limit N] RUN:SCORE [RUN:SCORE…]
// (background-only images: `daqyolo simulate --signal-per-image 0 --signal-mode fixed --split 0,0,1`)
import { parseArgs } from 'node:util';
import { openDataset } from '../src/data/store.js';
import { BatchLoader } from '../src/data/loader.js';
import { openRun, checkCompatible } from '../src/infer/open-run.js';
import { forEachPredictedBatch } from '../src/infer/predict.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    split: { type: 'string', default: 'val' },
    batch: { type: 'string', default: '8' },
    limit: { type: 'string', default: '0' },
  },
});
if (!a.data || positionals.length === 0) throw new Error('usage: false-positives.js --data D.h5 RUN:SCORE [RUN:SCORE…]');

const median = (v: number[]) => {
  if (v.length === 0) return null;
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const share = (v: number[], f: (x: number) => boolean) => (v.length ? +(v.filter(f).length / v.length).toFixed(3) : null);

async function falsePositives(runDir: string, score: number) {
  const opened = openRun(runDir);
  const reader = openDataset(a.data!);
  checkCompatible(opened, reader);
  const all = Array.from(reader.split(a.split as 'val'));
  const indices = Number(a.limit) > 0 ? all.slice(0, Number(a.limit)) : all;
  reader.close();
  const loader = new BatchLoader({ path: a.data!, workers: 1, prefetch: 2, pool: new Int32Array(0) });
  const pixels: number[] = [],
    adc: number[] = [],
    width: number[] = [],
    height: number[] = [],
    scores: number[] = [];
  try {
    await forEachPredictedBatch(loader, opened.ctx, indices, Number(a.batch), (b, res) => {
      const { height: H, width: W, channels: C } = b;
      res.detections.forEach((dets, i) => {
        for (const d of dets) {
          if (d.score < score) continue;
          const hit = b.boxes[i]!.some((t) => d.x1 < t.x2 && t.x1 < d.x2 && d.y1 < t.y2 && t.y1 < d.y2);
          if (hit) continue;
          let n = 0,
            sum = 0;
          for (let y = Math.max(0, Math.floor(d.y1)); y < Math.min(H, Math.ceil(d.y2)); y++)
            for (let x = Math.max(0, Math.floor(d.x1)); x < Math.min(W, Math.ceil(d.x2)); x++) {
              const v = b.images[((i * C + 0) * H + y) * W + x]!;
              if (v !== 0) {
                n++;
                sum += v;
              }
            }
          pixels.push(n);
          adc.push(sum);
          width.push(d.x2 - d.x1);
          height.push(d.y2 - d.y1);
          scores.push(d.score);
        }
      });
    });
  } finally {
    await loader.close();
  }
  opened.model.dispose();
  return {
    run: runDir,
    variant: opened.run.config.model.variant,
    score,
    images: indices.length,
    falsePositivesPerImage: +(pixels.length / indices.length).toFixed(4),
    pixels: { median: median(pixels), atMost1: share(pixels, (x) => x <= 1), atMost3: share(pixels, (x) => x <= 3), none: share(pixels, (x) => x === 0) },
    sumAdcMedian: median(adc),
    boxMedian: { width: median(width), height: median(height) },
  };
}

const out = [];
for (const p of positionals) {
  const k = p.lastIndexOf(':');
  out.push(await falsePositives(p.slice(0, k), Number(p.slice(k + 1))));
}
console.log(JSON.stringify({ bench: 'false-positives', data: a.data, split: a.split, runs: out }));
