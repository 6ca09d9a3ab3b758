// How sure a run is of the interactions it should find: for every interaction of a split, the best
// score of a candidate that holds it by the TP rule (the trigger's rule: ≥ 2 of its TPs in the box),
// summarised per Eν bin and per TP count — median and quartile of that best score, the share at or
// above each given cut (give the run's cuts for 1.8 or 10 Hz from its fprate), the share with no
// candidate at all, the median box and TP count. Beside false-positives.ts (what the background
// tail looks like) it says whether an efficiency lost at a tight cut is interactions not found or
// interactions found with scores under the cut (docs/budget.md, "How sure it is of what it finds").
//
// Run: node dist/bench/signal-scores.js --data D.h5 [--split eval] [--limit N] RUN:CUT[,CUT…] [RUN:…]
import { parseArgs } from 'node:util';
import { forEachPredictedBatch } from '../src/infer/predict.js';
import { openDataset } from '../src/data/store.js';
import { datasetImageTps, datasetSimulation, pixelTps } from '../src/trigger/baseline.js';
import { scoreImage } from '../src/eval/efficiency.js';
import { median as medianOf, openRunOnData, runsWithScores } from './measure.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    split: { type: 'string', default: 'eval' },
    batch: { type: 'string', default: '8' },
    limit: { type: 'string', default: '0' },
  },
});
if (!a.data || positionals.length === 0) throw new Error('usage: signal-scores.js --data D.h5 RUN:CUT[,CUT…] [RUN:CUT…]');

/** One interaction: its energy and TPs, its best candidate's score (0: no candidate holds it) and its truth box. */
interface Held {
  energyMeV: number;
  nTps: number;
  best: number;
  width: number;
  height: number;
}

const ENERGY_BINS: [number, number][] = [
  [1, 11],
  [11, 21],
  [21, 31],
  [31, 41],
  [41, 51],
  [51, 61],
  [61, 70.000001],
];
const TP_BINS: [number, number][] = [
  [0, 10],
  [10, 30],
  [30, 60],
  [60, Infinity],
];

/** The q-quantile (nearest rank below) of a non-empty list. */
const quantile = (xs: number[], q: number) => [...xs].sort((p, r) => p - r)[Math.floor(q * (xs.length - 1))]!;
const share = (xs: number[], f: (x: number) => boolean) => +(xs.filter(f).length / xs.length).toFixed(3);

function summary(rows: Held[], cuts: number[]) {
  if (rows.length === 0) return { interactions: 0 };
  const best = rows.map((r) => r.best);
  return {
    interactions: rows.length,
    bestMedian: +medianOf(best).toFixed(4),
    bestQ25: +quantile(best, 0.25).toFixed(4),
    atOrAboveCut: Object.fromEntries(cuts.map((c) => [String(c), share(best, (x) => x >= c)])),
    noCandidate: share(best, (x) => x === 0),
    tpsMedian: medianOf(rows.map((r) => r.nTps)),
    boxMedian: { width: medianOf(rows.map((r) => r.width)), height: medianOf(rows.map((r) => r.height)) },
  };
}

async function signalScores(runDir: string, cuts: number[]) {
  const {
    opened,
    indices: [indices],
    loader,
  } = openRunOnData(runDir, a.data!, [a.split!], { limit: Number(a.limit) });
  const reader = openDataset(a.data!);
  const sim = datasetSimulation(reader);
  const cache = {};
  const rows: Held[] = [];
  try {
    await forEachPredictedBatch(loader, opened.ctx, indices!, Number(a.batch), (b, res) => {
      res.detections.forEach((dets, k) => {
        const idx = b.indices[k]!;
        const boxes = reader.boxes(idx);
        const interactions = reader.interactions(idx);
        const scored = scoreImage(
          {
            detections: dets.map((d) => ({ x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, score: d.score, cls: d.cls })),
            interactions: interactions.map((it) => {
              const bx = it.box >= 0 ? boxes[it.box] : undefined;
              return { energyMeV: it.energyMeV, box: bx ? [bx.x1, bx.y1, bx.x2, bx.y2] : null };
            }),
            tps: pixelTps(sim.layout, datasetImageTps(reader, sim, idx, cache)),
          },
          { match: 'tps' },
        );
        interactions.forEach((it, j) => {
          const bx = it.box >= 0 ? boxes[it.box] : undefined;
          const best = scored.best[j]!;
          rows.push({
            energyMeV: it.energyMeV,
            nTps: it.nTps,
            best: best === -Infinity ? 0 : best,
            width: bx ? bx.x2 - bx.x1 : 0,
            height: bx ? bx.y2 - bx.y1 : 0,
          });
        });
      });
    });
  } finally {
    await loader.close();
    reader.close();
  }
  opened.model.dispose();
  return {
    run: runDir,
    variant: opened.run.config.model.variant,
    images: indices!.length,
    cuts,
    all: summary(rows, cuts),
    byEnergyMeV: ENERGY_BINS.map(([lo, hi]) => ({
      loMeV: lo,
      hiMeV: Math.round(hi),
      ...summary(
        rows.filter((r) => r.energyMeV >= lo && r.energyMeV < hi),
        cuts,
      ),
    })),
    byTps: TP_BINS.map(([lo, hi]) => ({
      lo,
      hi: Number.isFinite(hi) ? hi : null,
      ...summary(
        rows.filter((r) => r.nTps >= lo && r.nTps < hi),
        cuts,
      ),
    })),
  };
}

const out = [];
for (const { run, scores } of runsWithScores(positionals)) out.push(await signalScores(run, scores));
console.log(JSON.stringify({ bench: 'signal-scores', data: a.data, split: a.split, runs: out }));
