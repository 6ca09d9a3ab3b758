// `evaluate`: a trained run on a dataset split — detection metrics (VOC/COCO mAP, PR curve),
// the trigger figure of merit (efficiency vs Eν over all interactions, visible or not), false
// positives in Hz per far-detector module from background-only images streamed from the
// simulator, and the efficiency-versus-FP-rate scan.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../data/store.js';
import { BatchLoader } from '../data/loader.js';
import { EVALUATE_BACKGROUND_START, streamImages, type StreamedImage } from '../data/stream.js';
import { parseSimConfig } from '../sim/config.js';
import { UserError } from '../errors.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { TermAccumulator, forEachPredictedBatch, mapImage, predict } from '../infer/predict.js';
import { evaluateDetections, type MapImage } from '../infer/map.js';
import { streamCount } from './stream-loop.js';
import { DEFAULT_MATCH, evaluateTrigger, hzPerFpPerImage, type MatchRule, type TriggerImage, type TriggerOptions } from './efficiency.js';
import { datasetImageTps, datasetSimulation, pixelTps, triggerInteractions } from '../trigger/baseline.js';
import { openRun, checkCompatible } from '../infer/open-run.js';
import type { BaselineReport, EvaluateReport } from '../schema/evaluation.js';
import { storedBackground, tpImportInfo, windowsNote } from '../formats/tps/import.js';

export type { BaselineReport, EvaluateReport };
import { DEFAULT_SCORE_THRESHOLD, type DecodedBox } from '../infer/decode.js';
import { DEFAULT_NMS_IOU } from '../infer/nms.js';

export interface EvaluateOptions {
  runDir: string;
  data: string;
  split: 'train' | 'val' | 'eval';
  checkpoint?: string;
  /** Background-only images streamed from the dataset's simulator config for the FP rate. */
  background: number;
  batch: number;
  workers: number;
  device?: string;
  /** Images of the split to use at most (0 = all). */
  limit?: number;
  trigger?: TriggerOptions;
  /** The trigger figures also by these rules (report.otherRules), from the same inference. */
  otherRules?: readonly MatchRule[];
  /** The report is written to eval/<outName>.json (default: the split's name). */
  outName?: string;
  onProgress?: (done: number, total: number, phase: string) => void;
}

/** Whether a dataset came from the simulator (it then carries its generation config). */
export const isSimulated = (attrs: Record<string, unknown>): boolean => !!attrs.config && typeof attrs.config === 'object';

/** A decoded box as a trigger detection (its box, score and class). */
export const toDetection = (d: DecodedBox) => ({ x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, score: d.score, cls: d.cls });

export async function evaluateRunOnData(o: EvaluateOptions): Promise<EvaluateReport> {
  const opened = openRun(o.runDir, { checkpoint: o.checkpoint, device: o.device });
  const reader = openDataset(o.data);
  checkCompatible(opened, reader);
  let indices = Array.from(reader.split(o.split));
  if (o.limit) indices = indices.slice(0, o.limit);
  if (indices.length === 0) throw new UserError(`${o.data}: split '${o.split}' is empty`);
  const mapImages: MapImage[] = [];
  const signal: TriggerImage[] = [];
  // The TP rule counts each interaction's TPs in a box: stored in the dataset, or regenerated from the seed.
  const simulated = isSimulated(reader.attrs);
  // Imported TPs (import tps): their stored TPs, their own background windows and, with truth, interactions.
  const tp = tpImportInfo(reader.attrs);
  const sim = simulated || tp ? datasetSimulation(reader) : null;
  const simCache = {};
  const perScale = opened.run.strides.map(() => 0);
  const terms = new TermAccumulator();
  const loader = new BatchLoader({ path: o.data, workers: o.workers, prefetch: 2, pool: new Int32Array(0) });
  try {
    await forEachPredictedBatch(loader, opened.ctx, indices, o.batch, (b, res, done) => {
      terms.add(res.values!);
      res.detections.forEach((dets, k) => {
        const idx = b.indices[k]!;
        for (const d of dets) perScale[d.scale]!++;
        mapImages.push(mapImage(dets, b.boxes[k]!));
        signal.push({
          detections: dets.map(toDetection),
          interactions: triggerInteractions(reader, idx),
          ...(sim ? { tps: pixelTps(sim.layout, datasetImageTps(reader, sim, idx, simCache)) } : {}),
        });
      });
      o.onProgress?.(done, indices.length, o.split);
    });
  } finally {
    await loader.close();
  }
  // Imported pictures have no interactions or background: detection metrics only.
  let trigger = o.trigger;
  let background = simulated && o.background > 0 ? await inferBackground(opened, reader.attrs, o.background, o.batch, o.onProgress) : undefined;
  let triggerNote: string | undefined;
  if (tp) {
    trigger = { ...o.trigger, windowTicks: tp.windowTicks, tickSeconds: tp.tickUs * 1e-6 };
    const bg = new Set(storedBackground(tp, reader, indices));
    background = signal.filter((_, k) => bg.has(indices[k]!)).map((im) => ({ ...im, interactions: [] }));
    triggerNote = `imported TPs (${tp.format}${tp.hasTruth ? ', with truth' : ', no truth: every candidate is a false positive'}): ${windowsNote(background.length, hzPerFpPerImage(trigger))}`;
  }
  reader.close();
  const report: EvaluateReport = {
    run: o.runDir,
    checkpoint: opened.checkpoint,
    checkpointMeta: opened.meta,
    data: o.data,
    split: o.split,
    images: indices.length,
    backgroundImages: background?.length ?? 0,
    loss: terms.means(),
    detections: { perScale, scoreThreshold: DEFAULT_SCORE_THRESHOLD, nmsIou: DEFAULT_NMS_IOU },
    map: evaluateDetections(mapImages),
    trigger: simulated || tp ? evaluateTrigger(signal, trigger, background) : null,
    ...((simulated || tp) && o.otherRules?.length
      ? {
          otherRules: o.otherRules
            .filter((r) => r !== (trigger?.match ?? DEFAULT_MATCH))
            .map((r) => evaluateTrigger(signal, { ...trigger, match: r }, background)),
        }
      : {}),
    ...(simulated
      ? {}
      : {
          triggerNote:
            triggerNote ??
            `trigger figures (efficiency vs Eν, false positives per module) need simulated data or imported TPs; ${o.data} was imported from pictures, so only detection metrics are reported`,
        }),
  };
  opened.model.dispose();
  const outDir = join(o.runDir, 'eval');
  mkdirSync(outDir, { recursive: true });
  writeJsonAtomic(join(outDir, `${o.outName ?? o.split}.json`), report);
  return report;
}

/** Simulator config and seed of a simulated dataset (for streaming matching background). */
export function simulatorOf(attrs: Record<string, unknown>, path = 'dataset') {
  if (!attrs.config || typeof attrs.config !== 'object') {
    throw new UserError(
      `${path}: no simulator config in its attributes (an imported dataset?); background-only images cannot be streamed — use --background 0`,
    );
  }
  return { config: parseSimConfig(attrs.config, `${path} attribute config`), seed: Number(attrs.seed ?? 0), numImages: Number(attrs.num_images ?? 0) };
}

/**
 * Inference on background-only images (no signal drawn) from the dataset's simulator, with
 * image indices past the dataset's so they are new images. The stream loop of fprate without a
 * state file: the detections are kept, not counted, and the pass is short.
 */
async function inferBackground(
  opened: ReturnType<typeof openRun>,
  attrs: Record<string, unknown>,
  count: number,
  batch: number,
  onProgress?: EvaluateOptions['onProgress'],
): Promise<TriggerImage[]> {
  const sim = simulatorOf(attrs);
  const { state } = await streamCount<StreamedImage, { images: number; seconds: number; out: TriggerImage[] }>({
    fresh: { images: 0, seconds: 0, out: [] },
    total: count,
    batch,
    source: (from, n) =>
      streamImages({ config: sim.config, seed: sim.seed, start: sim.numImages + EVALUATE_BACKGROUND_START + from, count: n, mode: 'background' }),
    step: (images, s) => {
      for (const dets of predict(opened.ctx, images, {})) s.out.push({ detections: dets.map(toDetection), interactions: [] });
    },
    onProgress: (done, total) => onProgress?.(done, total, 'background'),
  });
  return state.out;
}
