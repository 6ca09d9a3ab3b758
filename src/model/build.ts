// The network a run describes, built the same way for training, evaluation, detection and event
// displays: config.json's model section, the dataset's channels and classes.
import { createYolo, type Variant, type YoloV3 } from './yolo.js';

/** What a run says about its network (a `ResolvedRun` of schema/run.ts has all of it). */
export interface ModelSource {
  config: {
    model: { variant: Variant; width: number; channelsLast: boolean; bnMomentum?: number; isolatedRadius?: number; growTrunk?: number; growStages?: number };
  };
  channels: number;
  classNames: readonly string[];
}

/** Builds the model a run describes (used by training, evaluation and detection). */
export function buildModel(run: ModelSource): YoloV3 {
  return createYolo({
    variant: run.config.model.variant,
    inChannels: run.channels,
    numClasses: run.classNames.length,
    width: run.config.model.width,
    channelsLast: run.config.model.channelsLast,
    bnMomentum: run.config.model.bnMomentum ?? 0.1,
    isolatedRadius: run.config.model.isolatedRadius ?? 0,
    growTrunk: run.config.model.growTrunk ?? 0,
    growStages: run.config.model.growStages ?? 0,
  });
}
