// End-of-epoch validation: every loss term per scale, the prediction statistics and mAP@0.5 over
// the whole validation split, in eval mode, never warm. With several ranks each evaluates its
// share of the batches and all gather them (the single process's sums, in its order).
import type { BatchLoader } from '../data/loader.js';
import { evaluateDetections, type MapImage } from '../infer/map.js';
import { TermAccumulator, StatsAccumulator, forEachPredictedBatch, mapImage, type InferContext, type BatchResult } from '../infer/predict.js';
import type { DataParallel } from './distributed.js';

/**
 * Runs the model over the validation images; terms are means per image. With several ranks each
 * evaluates every W-th batch and all gather the batches' results, then add them up in the single
 * process's order (the same sums, histogram counts and mAP).
 */
export async function validateEpoch(loader: BatchLoader, ctx: InferContext, indices: number[], batch: number, epoch: number, dp: DataParallel | null = null) {
  const terms = new TermAccumulator();
  const stats = new StatsAccumulator();
  const images: MapImage[] = [];
  const mine = dp ? dp.validationShard(indices, batch) : { indices, batchIds: null };
  const results: {
    batch: number;
    result: { values: BatchResult['values']; stats: Parameters<StatsAccumulator['add']>[0] | undefined; cells: number[]; images: MapImage[] };
  }[] = [];
  await forEachPredictedBatch(
    loader,
    ctx,
    mine.indices,
    batch,
    (b, res) => {
      const k = results.length;
      results.push({
        batch: mine.batchIds ? mine.batchIds[k]! : k,
        result: {
          // Plain arrays: the results may travel as JSON to the other ranks.
          values: res.values,
          stats: res.stats?.map((st) => ({ ...st, objectness: Array.from(st.objectness), iou: Array.from(st.iou) })),
          cells: res.cellsPerScale,
          images: res.detections.map((dets, i) => mapImage(dets, b.boxes[i]!)),
        },
      });
    },
    -epoch * 1e6,
  );
  for (const r of dp ? dp.gatherBatches(results) : results.map((x) => x.result)) {
    terms.add(r.values!);
    stats.add(r.stats!, r.cells);
    images.push(...r.images);
  }
  const m = evaluateDetections(images);
  const means = terms.means();
  const lossPerImage = means.scales.reduce((a, s) => a + s.total, 0);
  return { ...means, lossPerImage, images: terms.images, stats: stats.summary(), map50: m.map50AllPoint, ap50: m.ap50 };
}
