// The training configuration: one validated object (zod) with every default in one place.
// Validated once at the edge (CLI or API); afterwards a plain typed object.
import { z } from 'zod';
import { UserError } from '../errors.js';
import { deepMerge } from '../util/merge.js';
import { defaultLossOptions, seedLossPreset } from '../loss/options.js';

const anchorPair = z.tuple([z.number().positive(), z.number().positive()]);

/** The largest learning rate accepted (Adam's steps are ~lr in size; above 10 every run diverges). */
export const MAX_LR = 10;

export const augmentSchema = z
  .object({
    /** Shift along time (y) by up to ± this fraction of the image height. */
    timeJitter: z.number().min(0).max(0.5).default(0),
    /** Probability of mirroring the channel (x) axis. */
    flipChannels: z.number().min(0).max(1).default(0),
    /** Probability of mirroring the time (y) axis. */
    flipTime: z.number().min(0).max(1).default(0),
    /** Stretch time by a factor drawn in [1 − s, 1 + s] (about the image centre). */
    timeStretch: z.number().min(0).max(0.5).default(0),
    /** Fraction of non-zero pixels (TP deposits) dropped at random. */
    tpDropout: z.number().min(0).max(0.9).default(0),
    /** Mean number of extra noise pixels added per image (ADC values like noise TPs). */
    noiseTps: z.number().min(0).default(0),
    /** Probability of adding another training image's background (its pixels outside its boxes). */
    overlayBackground: z.number().min(0).max(1).default(0),
    /**
     * A box that timeJitter or timeStretch cuts at the image's time edge, left holding less than
     * this fraction of its non-zero pixels, is no training positive (it joins the ignore mask).
     */
    minVisible: z.number().min(0).max(1).default(0),
  })
  .strict();

export const lossSchema = z
  .object({
    objLoss: z.enum(['mse', 'bce']).default(defaultLossOptions.objLoss),
    objTarget: z.enum(['one', 'iou']).default(defaultLossOptions.objTarget),
    reduction: z.enum(['sqrt-per-scale', 'sqrt-total', 'sum', 'mean']).default(defaultLossOptions.reduction),
    ignoreThresh: z.number().min(0).max(1).default(defaultLossOptions.ignoreThresh),
    objScale: z.number().min(0).default(defaultLossOptions.objScale),
    noobjScale: z.number().min(0).default(defaultLossOptions.noobjScale),
    xywhScale: z.number().min(0).default(defaultLossOptions.xywhScale),
    classScale: z.number().min(0).default(defaultLossOptions.classScale),
    gridScales: z
      .array(z.number().min(0))
      .min(1)
      .max(3)
      .default(() => [...defaultLossOptions.gridScales]),
    compat: z
      .object({ trueBoxUnits: z.enum(['pixels', 'owner-grid']).default(defaultLossOptions.compat.trueBoxUnits) })
      .strict()
      .default(() => ({ ...defaultLossOptions.compat })),
  })
  .strict();

export const trainConfigSchema = z
  .object({
    /** HDF5 dataset (see `daqyolo simulate` / `daqyolo import`). */
    data: z.string().min(1),
    out: z.string().min(1),
    model: z
      .object({
        /** sparse-*: the same networks on sparse convolutions (same heads, loss and checkpoints' names). */
        variant: z.enum(['yolov3', 'yolov3-tiny', 'sparse-yolov3', 'sparse-yolov3-tiny']).default('yolov3'),
        /** Channel-width multiplier (1 = the published network). */
        width: z.number().positive().max(4).default(0.25),
        /** Network input size in pixels (square, multiple of 32). 0 = the dataset's image size rounded to 32. */
        size: z.number().int().min(0).default(0),
        /**
         * Anchors in input pixels: grouped per scale, coarse first ([[[26,16],[39,51],[217,143]], …]: the
         * grouping is kept as given), a flat list of pairs (grouped by area: largest three to the coarse
         * scale), or "auto": IoU k-means over the training split's boxes.
         */
        anchors: z.union([z.literal('auto'), z.array(anchorPair).min(2), z.array(z.array(anchorPair).min(1)).min(1)]).default('auto'),
        channelsLast: z.boolean().default(true),
        /** Pixel values are multiplied by this; "auto" makes the mean non-zero training pixel 1. */
        inputScale: z.union([z.literal('auto'), z.number().positive()]).default('auto'),
        /** Start from these weights (a checkpoint, e.g. from `daqyolo import-weights`); missing layers keep their initialisation. */
        initWeights: z.string().min(1).optional(),
        /** BatchNorm momentum, PyTorch convention (keras-yolo3's 0.99 is 0.01 here; slow for short runs). */
        bnMomentum: z.number().positive().max(1).default(0.1),
        /** Drop pixels with no other active pixel within this many channels and ticks before the network (0: keep all). */
        isolatedRadius: z.number().int().min(0).max(16).default(0),
        /** sparse-yolov3: how many of each head's two 3×3 trunk convs grow the active set by a cell each way (0: none; docs/engine.md). */
        growTrunk: z.number().int().min(0).max(2).default(0),
        /** sparse-yolov3: how many backbone stages (finest first) grow their downsampling conv's sites a cell each way (0: none; docs/engine.md). */
        growStages: z.number().int().min(0).max(5).default(0),
      })
      .strict()
      .default({
        variant: 'yolov3',
        width: 0.25,
        size: 0,
        anchors: 'auto',
        channelsLast: true,
        inputScale: 'auto',
        bnMomentum: 0.1,
        isolatedRadius: 0,
        growTrunk: 0,
        growStages: 0,
      }),
    loss: lossSchema.default(lossSchema.parse({})),
    optimizer: z
      .object({
        // Bounded: Adam's float32 step overflows far above this (lr 1e99 was a libtorch stack, issue 30).
        lr: z.number().positive().max(MAX_LR).default(1e-3),
        betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.9, 0.999]),
        eps: z.number().positive().default(1e-8),
        weightDecay: z.number().min(0).default(0),
      })
      .strict()
      .default({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }),
    schedule: z
      .object({
        kind: z.enum(['constant', 'step', 'cosine']).default('constant'),
        /** step: multiply by gamma every stepEpochs. */
        stepEpochs: z.number().int().positive().default(10),
        gamma: z.number().positive().default(0.1),
        /** cosine: final lr as a fraction of the initial one. */
        minFactor: z.number().min(0).max(1).default(0.01),
        /** Stop when the validation objective has not improved for this many epochs (0 = never). */
        earlyStopPatience: z.number().int().min(0).default(0),
      })
      .strict()
      .default({ kind: 'constant', stepEpochs: 10, gamma: 0.1, minFactor: 0.01, earlyStopPatience: 0 }),
    /** The global batch: with N data-parallel ranks, each takes batch / N images of it. */
    batch: z.number().int().positive().default(8),
    /** Data-parallel training (`train --nproc`, `--dist-url`, Slurm): see src/train/distributed.ts. */
    parallel: z
      .object({
        /** Batch norm statistics over the whole global batch instead of per rank. */
        syncBatchNorm: z.boolean().default(false),
        /** Gradient all-reduce bucket size (DistributedDataParallel's default: 25 MiB). */
        bucketMiB: z.number().positive().default(25),
        /** c10d timeout: a collective waiting longer than this fails (and names the ranks gone). */
        timeoutSeconds: z.number().positive().default(300),
      })
      .strict()
      .default({ syncBatchNorm: false, bucketMiB: 25, timeoutSeconds: 300 }),
    epochs: z.number().int().positive().default(10),
    /** keras-yolo3: warm-up batches = warm-up epochs × batches per epoch. */
    warmupEpochs: z.number().min(0).default(0),
    multiScale: z
      .object({
        enabled: z.boolean().default(false),
        min: z.number().int().positive().default(320),
        max: z.number().int().positive().default(608),
        /** Redraw the input size every this many batches (keras-yolo3: 10). */
        every: z.number().int().positive().default(10),
      })
      .strict()
      .default({ enabled: false, min: 320, max: 608, every: 10 }),
    /** Use at most this many training images (the seed's 500-image low-statistics run); 0 = all. */
    trainLimit: z.number().int().min(0).default(0),
    /**
     * Interactions with fewer TPs than this are no training positives: their boxes only join the
     * loss's ignore mask, so a prediction on one is neither rewarded nor penalised (0: every box a
     * positive). Small interactions look like radiological clusters; see docs/budget.md.
     */
    positiveMinTps: z.number().int().min(0).default(0),
    /** Validate on at most this many images per epoch; 0 = the whole validation split. */
    valLimit: z.number().int().min(0).default(0),
    augment: augmentSchema.default(augmentSchema.parse({})),
    seed: z.number().int().min(0).default(1),
    /** libtorch intra-op threads; 0 = every core. */
    threads: z.number().int().min(0).default(0),
    /** 'auto' (CUDA when libtorch has it), 'cpu', 'cuda', 'cuda:1', … */
    device: z.string().default('auto'),
    /** Data-loading worker threads (0 = load on the main thread). */
    workers: z.number().int().min(0).max(16).default(1),
    /** Batches prepared ahead of the network. */
    prefetch: z.number().int().min(1).max(16).default(2),
    /** Write a per-batch record to metrics.jsonl. */
    logBatches: z.boolean().default(true),
  })
  .strict();

export type TrainConfig = z.infer<typeof trainConfigSchema>;
export type AugmentConfig = z.infer<typeof augmentSchema>;
export type LossConfig = z.infer<typeof lossSchema>;

/** Presets applied under the user's config. */
export const presets: Record<string, Record<string, unknown>> = {
  seed: {
    loss: { ...Object.fromEntries(Object.entries(seedLossPreset).filter(([k]) => k !== 'warmupEpochs')) },
    warmupEpochs: seedLossPreset.warmupEpochs,
    optimizer: { lr: 1e-4 },
    batch: 8,
  },
};

export { deepMerge };

/** Validates a raw config; errors name the field path and what was expected. */
export function parseTrainConfig(raw: unknown, origin = 'config'): TrainConfig {
  const r = trainConfigSchema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => {
      const path = i.path.join('.') || '(top level)';
      if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${[...i.path, k].join('.')}'`).join(', ')}`;
      return `${path}: ${i.message}`;
    });
    throw new UserError(`${origin}: ${msgs.join('; ')}`);
  }
  const c = r.data;
  if (c.model.size % 32) throw new UserError(`${origin}: model.size ${c.model.size} is not a multiple of 32`);
  if (c.model.growTrunk > 0 && c.model.variant !== 'sparse-yolov3')
    throw new UserError(`${origin}: model.growTrunk ${c.model.growTrunk} grows sparse-yolov3's head trunks; the variant is ${c.model.variant}`);
  if (c.model.growStages > 0 && c.model.variant !== 'sparse-yolov3')
    throw new UserError(`${origin}: model.growStages ${c.model.growStages} grows sparse-yolov3's backbone stages; the variant is ${c.model.variant}`);
  if (c.multiScale.enabled && (c.multiScale.min % 32 || c.multiScale.max % 32 || c.multiScale.min > c.multiScale.max)) {
    throw new UserError(`${origin}: multiScale.min and max must be multiples of 32 with min ≤ max`);
  }
  return c;
}
