// The two things the stream trigger runs on each face window: the network (its sparse pixel-list
// input path when it is sparse and the window's image is at its size, dense images otherwise) and
// the baseline clustering (TDR-era, cluster.ts). Windows become images by the simulator's own
// TP → pixel rule (sim/image.ts: a TP lands in the pixel of its wire and peak time), so a network
// trained on simulated images reads the stream unchanged.
import { densify, tpsToSparse, type ImageLayout, type SparseImage } from '../sim/image.js';
import { SparseTensor, tidy } from '../torch/index.js';
import { detectSparseBatch, predict, type InferContext } from '../infer/predict.js';
import { clusterTps, type ClusterParams } from './cluster.js';
import { TC_ALGORITHM_CUSTOM, TC_ALGORITHM_SUPERNOVA, type FaceWindow, type WindowDetection, type WindowDetector } from './stream.js';

/** A window's TPs as a sparse image (the simulator's own rule). */
export function windowToSparse(layout: ImageLayout, w: FaceWindow): SparseImage {
  return tpsToSparse(layout, {
    n: w.n,
    channel: w.wire,
    timePeak: w.timePeak,
    adcIntegral: w.adcIntegral,
    adcPeak: w.adcPeak,
    timeOverThreshold: w.timeOverThreshold,
  });
}

/** The network on face windows: one forward pass per batch of windows. */
export function networkDetector(
  ctx: InferContext,
  layout: ImageLayout,
  o: { scoreThreshold: number; input?: 'pixels' | 'dense' },
): WindowDetector & { input: 'pixels' | 'dense' } {
  const pixels = o.input !== 'dense' && ctx.model.sparse && layout.height === ctx.size && layout.width === ctx.size;
  if (o.input === 'pixels' && !pixels)
    throw new Error(`pixel-list input needs a sparse model at the image size (network ${ctx.size} px, images ${layout.height}×${layout.width})`);
  return {
    algorithm: TC_ALGORITHM_CUSTOM,
    name: 'network',
    minScore: o.scoreThreshold,
    scoreScale: 'unit',
    input: pixels ? 'pixels' : 'dense',
    detect(windows: readonly FaceWindow[]): WindowDetection[][] {
      const sparse = windows.map((w) => windowToSparse(layout, w));
      if (pixels) {
        return tidy(() =>
          detectSparseBatch(ctx, SparseTensor.fromSortedPixels(sparse, layout.channels, layout.height, layout.width, ctx.inputScale, ctx.device), {
            scoreThreshold: o.scoreThreshold,
          }),
        );
      }
      const images = sparse.map((s) => {
        const image = new Float32Array(layout.channels * layout.height * layout.width);
        densify(layout, s, image);
        return { image, channels: layout.channels, height: layout.height, width: layout.width };
      });
      return predict(ctx, images, { scoreThreshold: o.scoreThreshold });
    },
  };
}

/** The baseline clustering on face windows; its score is the cluster's ΣADC. */
export function baselineDetector(layout: ImageLayout, params: ClusterParams, minScore = 0): WindowDetector {
  return {
    algorithm: TC_ALGORITHM_SUPERNOVA,
    name: 'baseline',
    minScore,
    scoreScale: 'log',
    detect(windows: readonly FaceWindow[]): WindowDetection[][] {
      return windows.map((w) =>
        clusterTps({ channel: w.wire, timePeak: w.timePeak, adcIntegral: w.adcIntegral }, w.n, params, layout)
          .filter((c) => c.sumAdc >= minScore)
          .map((c) => ({ x1: c.x1, y1: c.y1, x2: c.x2, y2: c.y2, score: c.sumAdc })),
      );
    },
  };
}

/**
 * The cheap pre-filter: a window goes to the network only when some cluster of its TPs (the
 * baseline's linking) reaches `minSumAdc` with its centre in the window's core widened by
 * `marginTicks` (a candidate centred outside the core belongs to the neighbouring window, which
 * sees the same cluster whole: without this every cluster in an overlap would send two windows).
 * Background-only windows mostly hold ³⁹Ar blips of a few hundred ADC. Its cost in efficiency is
 * measured by bench/trigger-stream.ts (docs/trigger.md).
 */
export function clusterPrefilter(
  layout: ImageLayout,
  params: ClusterParams,
  core?: { windowTicks: number; overlapTicks: number; marginTicks: number },
): (w: FaceWindow) => boolean {
  return (w) => {
    const lo = !core || w.start === 0 ? -Infinity : (core.overlapTicks / 2 - core.marginTicks) / layout.ticksPerPixel;
    const hi = !core ? Infinity : (core.windowTicks - core.overlapTicks / 2 + core.marginTicks) / layout.ticksPerPixel;
    return clusterTps({ channel: w.wire, timePeak: w.timePeak, adcIntegral: w.adcIntegral }, w.n, params, layout).some(
      (c) => c.sumAdc >= params.minSumAdc && (c.y1 + c.y2) / 2 >= lo && (c.y1 + c.y2) / 2 <= hi,
    );
  };
}
