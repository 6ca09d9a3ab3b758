// What a run's confident false positives look at: on a split's images, every detection scoring
// at least --score (give each run the threshold of the same FP rate, from compare's output) that
// overlaps no truth box, described by the input under it — non-zero pixels (TPs), their ΣADC
// and the box size — so two runs' false positives at equal rate can be set side by side (the
// dense and sparse parity pair: which background patterns the sparse network is sure of).
// One JSON object; per run: count per image, medians and the share with ≤ 1 / ≤ 3 pixels.
//
// Run: node dist/bench/false-positives.js --data D.h5 [--split eval] [--limit N] RUN:SCORE[,SCORE…] [RUN:…]
// (background-only images: `daqyolo simulate --signal-per-image 0 --signal-mode fixed --split 0,0,1`)
import { parseArgs } from 'node:util';
import { forEachPredictedBatch } from '../src/infer/predict.js';
import type { LoadedBatch } from '../src/data/batch.js';
import { median as medianOf, openRunOnData, runsWithScores } from './measure.js';

const median = (v: number[]) => (v.length ? medianOf(v) : null);

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    split: { type: 'string', default: 'val' },
    batch: { type: 'string', default: '8' },
    limit: { type: 'string', default: '0' },
  },
});
if (!a.data || positionals.length === 0) throw new Error('usage: false-positives.js --data D.h5 RUN:SCORE[,SCORE…] [RUN:SCORE…]');

const share = (v: number[], f: (x: number) => boolean) => (v.length ? +(v.filter(f).length / v.length).toFixed(3) : null);

interface Found {
  score: number;
  pixels: number;
  adc: number;
  width: number;
  height: number;
}

/** The TPs (non-zero pixels) of channel 0 inside a box, and their ΣADC. */
function under(b: LoadedBatch, i: number, box: { x1: number; y1: number; x2: number; y2: number }) {
  const { height: H, width: W, channels: C } = b;
  let n = 0,
    sum = 0;
  for (let y = Math.max(0, Math.floor(box.y1)); y < Math.min(H, Math.ceil(box.y2)); y++)
    for (let x = Math.max(0, Math.floor(box.x1)); x < Math.min(W, Math.ceil(box.x2)); x++) {
      const v = b.images[(i * C * H + y) * W + x]!;
      if (v !== 0) {
        n++;
        sum += v;
      }
    }
  return { n, sum };
}

/** One pass of a run over the split; the summary at each of its scores. */
async function falsePositives(runDir: string, scores: number[]) {
  const {
    opened,
    indices: [indices],
    loader,
  } = openRunOnData(runDir, a.data!, [a.split!], { limit: Number(a.limit) });
  const lowest = Math.min(...scores);
  const found: Found[] = [];
  // The coordinates' check: truth boxes hold their interaction's TPs.
  let truths = 0,
    truthsWithPixels = 0;
  try {
    await forEachPredictedBatch(loader, opened.ctx, indices!, Number(a.batch), (b, res) => {
      res.detections.forEach((dets, i) => {
        for (const t of b.boxes[i]!) {
          truths++;
          if (under(b, i, t).n > 0) truthsWithPixels++;
        }
        for (const d of dets) {
          if (d.score < lowest) continue;
          if (b.boxes[i]!.some((t) => d.x1 < t.x2 && t.x1 < d.x2 && d.y1 < t.y2 && t.y1 < d.y2)) continue;
          const u = under(b, i, d);
          found.push({ score: d.score, pixels: u.n, adc: u.sum, width: d.x2 - d.x1, height: d.y2 - d.y1 });
        }
      });
    });
  } finally {
    await loader.close();
  }
  opened.model.dispose();
  return scores.map((score) => {
    const f = found.filter((x) => x.score >= score);
    const pixels = f.map((x) => x.pixels);
    return {
      run: runDir,
      variant: opened.run.config.model.variant,
      score,
      images: indices!.length,
      truthBoxesWithPixels: truths ? +(truthsWithPixels / truths).toFixed(3) : null,
      falsePositivesPerImage: +(f.length / indices!.length).toFixed(4),
      pixels: { median: median(pixels), atMost1: share(pixels, (x) => x <= 1), atMost3: share(pixels, (x) => x <= 3), none: share(pixels, (x) => x === 0) },
      sumAdcMedian: median(f.map((x) => x.adc)),
      boxMedian: { width: median(f.map((x) => x.width)), height: median(f.map((x) => x.height)) },
    };
  });
}

const out = [];
for (const { run, scores } of runsWithScores(positionals)) out.push(...(await falsePositives(run, scores)));
console.log(JSON.stringify({ bench: 'false-positives', data: a.data, split: a.split, runs: out }));
