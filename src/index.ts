// daqyolo's public API: the tensor engine, nn modules, the model, the decomposed loss, target
// encoding, decoding/NMS, metrics, datasets and training — everything the CLI is built from.
export * as torch from './torch/index.js';
export * as nn from './nn/index.js';
export { Tensor, tidy, noGrad, tensor } from './torch/index.js';
export { YoloV3, defaultYoloConfig, type YoloConfig, type Variant, type HeadOutputs } from './model/yolo.js';
export {
  yoloLoss,
  lossStatistics,
  readLoss,
  TERMS,
  type Term,
  type LossContext,
  type LossTargets,
  type LossResult,
  type LossValues,
  type ScaleStats,
} from './loss/yolo-loss.js';
export { defaultLossOptions, seedLossPreset, resolveLossOptions, type LossOptions, type ObjLoss, type ObjTarget, type Reduction } from './loss/options.js';
export { whIou } from './geometry/box.js';
export { encodeTargets, type PixelBox, type EncodeSpec, type EncodedTargets } from './data/targets.js';
export { decodeOutputs, type DecodedBox, type DecodeOptions } from './infer/decode.js';
export { nms, nmsBatch, type NmsOptions, type DetectionSet } from './infer/nms.js';
export { evaluateDetections, averagePrecision, type MapReport, type Detection, type TruthBox, type MapImage } from './infer/map.js';
export {
  evaluateTrigger,
  efficiencyByEnergy,
  falsePositives,
  thresholdScan,
  operatingPoint,
  fpPerImageToHz,
  hzPerFpPerImage,
  scoreImage,
  matchRuleText,
  DEFAULT_ENERGY_EDGES_MEV,
  type TriggerImage,
  type TriggerOptions,
  type TriggerReport,
  type Interaction as TriggerInteraction,
} from './eval/efficiency.js';
export { kmeansAnchors, assignToScales } from './anchors/kmeans.js';
export { openDataset, type DatasetReader, type DatasetBox, type Interaction } from './data/store.js';
export { train, type TrainOptions, type TrainEvent } from './train/trainer.js';
export { resolveRun } from './train/resolve.js';
export { buildModel } from './model/build.js';
export type { EpochRecord, BatchRecord, ResolvedRun } from './schema/run.js';
export { parseTrainConfig, presets, type TrainConfig } from './config/train-config.js';
