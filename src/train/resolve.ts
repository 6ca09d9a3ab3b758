// Setting up a run: the config checked against the dataset, and what follows from both (input
// size, anchors — k-means on the training boxes when 'auto' —, input scale, counts). Writes nothing.
import { UserError } from '../errors.js';
import { defaultDevice } from '../torch/index.js';
import { scalesOf } from '../model/yolo.js';
import type { DatasetReader } from '../data/store.js';
import { assignToScales, kmeansAnchors } from '../anchors/kmeans.js';
import type { TrainConfig } from '../config/train-config.js';
import type { ResolvedRun } from '../schema/run.js';
import { autoInputScale } from '../infer/prepare.js';

const round32 = (n: number) => Math.max(32, Math.round(n / 32) * 32);

const isGrouped = (a: TrainConfig['model']['anchors']): a is [number, number][][] => Array.isArray(a) && Array.isArray(a[0]?.[0]);

/** Validates inputs and resolves sizes, anchors and counts. Writes nothing. */
export function resolveRun(config: TrainConfig, reader: DatasetReader): ResolvedRun {
  const train = reader.split('train');
  const val = reader.split('val');
  const trainImages = config.trainLimit ? Math.min(config.trainLimit, train.length) : train.length;
  if (trainImages === 0) throw new UserError(`${reader.path}: the training split is empty`);
  if (config.batch > trainImages) throw new UserError(`batch size ${config.batch} is larger than the training split (${trainImages} images)`);
  if (val.length === 0) throw new UserError(`${reader.path}: the validation split is empty (needed for per-epoch validation)`);
  const size = config.model.size || round32(Math.max(reader.height, reader.width));
  const scales = scalesOf(config.model.variant);
  const strides = [32, 16, 8].slice(0, scales);
  const lbScale = Math.min(size / reader.height, size / reader.width);
  let anchors: [number, number][];
  let grouped: [number, number][][] | null = null;
  if (config.model.anchors === 'auto') {
    const { w, h } = reader.boxSizes('train');
    if (w.length < 3 * scales)
      throw new UserError(`${reader.path}: ${w.length} training boxes are too few to compute ${3 * scales} anchors; give model.anchors`);
    anchors = kmeansAnchors(
      w.map((x) => x * lbScale),
      h.map((x) => x * lbScale),
      { k: 3 * scales, seed: config.seed, restarts: 5 },
    ).anchors.map(([a, b]) => [Math.round(a * 10) / 10, Math.round(b * 10) / 10] as [number, number]);
  } else if (isGrouped(config.model.anchors)) {
    // Grouped per scale, coarse first: kept as given (the seed's coarse scale holds [26,16]).
    grouped = config.model.anchors;
    if (grouped.length !== scales || grouped.some((g) => g.length !== 3)) {
      throw new UserError(
        `model.anchors has ${grouped.length} groups of ${grouped.map((g) => g.length).join('/')} anchors; ${config.model.variant} needs ${scales} groups of 3, coarse first`,
      );
    }
    anchors = grouped.flat();
  } else {
    anchors = config.model.anchors as [number, number][];
    if (anchors.length !== 3 * scales) throw new UserError(`model.anchors has ${anchors.length} anchors; ${config.model.variant} needs ${3 * scales}`);
  }
  const device = defaultDevice(config.device);
  let inputScale = config.model.inputScale === 'auto' ? 1 : config.model.inputScale;
  if (config.model.inputScale === 'auto') {
    // The first 64 training images; sparse datasets name their non-zero pixels (no full scan).
    const pixels: (Int32Array | null)[] = [];
    const sample = reader.readDense(Array.from(train.slice(0, 64)), undefined, pixels);
    inputScale = autoInputScale(sample, reader, pixels);
  }
  const batchesPerEpoch = Math.floor(trainImages / config.batch);
  return {
    config,
    size,
    inputScale,
    anchors: grouped ?? assignToScales(anchors, scales),
    strides,
    classNames: reader.classNames,
    channels: reader.channels,
    device,
    threads: config.threads,
    trainImages,
    valImages: config.valLimit ? Math.min(config.valLimit, val.length) : val.length,
    batchesPerEpoch,
    warmupBatches: Math.round(config.warmupEpochs * batchesPerEpoch),
  };
}
