// The seed plan's experiments, defined once: for each comparison of the slides, the runs it adds
// (name, what differs from the reference), the question it answers and which finding answers it.
// The plan (seed-plan.ts), the findings and the plan report (report/) and the CLI read this
// table; `satisfies Record<ExperimentGroup, …>` makes the compiler refuse a group without a row,
// and a finding key without a function in report/findings.ts (`FINDINGS_OF`).

/** What of a plan's settings the experiments depend on (seed-plan.ts's `SeedPlanSettings` extends it). */
export interface ExperimentSettings {
  /** Training images of the low-statistics run (the seed's 500). */
  lowStats: number;
  /** Seeds of the reference configuration (the first is the reference itself). */
  seeds: number[];
  batches: number[];
  lrs: number[];
}

/** Augmentations the slides ask about: time jitter, both flips, TP dropout, extra noise hits. */
export const SEED_AUGMENTATION = { timeJitter: 0.1, flipChannels: 0.5, flipTime: 0.5, tpDropout: 0.1, noiseTps: 5 };

/** What an experiment is compared for; the findings pick runs by group. */
export const experimentGroups = [
  'reference',
  'spread',
  'statistics',
  'objectness-loss',
  'objectness-target',
  'warmup',
  'augmentation',
  'owner-grid',
  'batch-lr',
] as const;
export type ExperimentGroup = (typeof experimentGroups)[number];

/**
 * How a group's finding is computed, a key into report/findings.ts: `reference` (overfitting,
 * conf1, objectness decay of the reference), `spread`, `objectness` (loss and target together),
 * `statistics`, `augmentation`, `batch-lr`, and `against-reference` (one run against the
 * reference: validation AP, efficiency and objectness, judged against the spread).
 */
export type FindingKind = 'reference' | 'spread' | 'objectness' | 'statistics' | 'augmentation' | 'batch-lr' | 'against-reference';

/** One run of the plan, before its group is attached. */
export interface ExperimentRun {
  /** Run directory name inside the plan's runs folder. */
  name: string;
  /** One line for the report. */
  description: string;
  /** Dotted training-config keys that differ from the reference. */
  values: Record<string, unknown>;
}

export interface ExperimentDefinition {
  /** The finding's id in findings.json (several groups may share one finding). */
  finding: string;
  kind: FindingKind;
  /** The slides' question the finding answers. */
  question: string;
  /** The run's name, for a group of one run. */
  name?: string;
  /** The runs this group adds for the plan's settings. */
  runs(s: ExperimentSettings): ExperimentRun[];
}

/** 1e-4 → "1e-4" (run names stay short and readable). */
const fmtLr = (lr: number) => lr.toExponential(0).replace('+', '');

/** The reference grid point (the seed preset's batch and learning rate). */
export const REFERENCE_BATCH = 8;
export const REFERENCE_LR = 1e-4;

/** A group of one run named `name`. */
function one<N extends string>(name: N, description: (s: ExperimentSettings) => string, values: (s: ExperimentSettings) => Record<string, unknown>) {
  return { name, runs: (s: ExperimentSettings): ExperimentRun[] => [{ name, description: description(s), values: values(s) }] };
}

/** The experiments, in plan order (the reference first). */
export const EXPERIMENTS = {
  reference: {
    finding: 'overfitting',
    kind: 'reference',
    question: 'Which scale and term overfit, and from which epoch?',
    ...one(
      'reference',
      () => 'the seed preset (MSE objectness, target 1, obj scale 50, warm-up, batch 8, lr 1e-4), no augmentation',
      () => ({}),
    ),
  },
  spread: {
    finding: 'spread',
    kind: 'spread',
    question: 'How large is the run-to-run spread of the reference configuration?',
    runs: (s) =>
      s.seeds.slice(1).map((seed) => ({
        name: `reference-seed${seed}`,
        description: `the reference with seed ${seed} (initialisation, order): run-to-run spread`,
        values: { seed },
      })),
  },
  statistics: {
    finding: 'statistics',
    kind: 'statistics',
    question: 'Low (500 images) vs high statistics: what changes?',
    ...one(
      'low-stats',
      (s) => `the reference on ${s.lowStats} training images (the seed's low-statistics set)`,
      (s) => ({ trainLimit: s.lowStats }),
    ),
  },
  'objectness-loss': {
    finding: 'objectness',
    kind: 'objectness',
    question: 'Which objectness loss and target give the lowest validation conf1 and the best efficiency?',
    ...one(
      'obj-bce',
      () => 'objectness as binary cross-entropy (log-likelihood) instead of MSE',
      () => ({ 'loss.objLoss': 'bce' }),
    ),
  },
  'objectness-target': {
    finding: 'objectness',
    kind: 'objectness',
    question: 'Which objectness loss and target give the lowest validation conf1 and the best efficiency?',
    ...one(
      'target-iou',
      () => 'objectness target = IoU of the prediction with its truth box instead of 1',
      () => ({ 'loss.objTarget': 'iou' }),
    ),
  },
  warmup: {
    finding: 'warmup',
    kind: 'against-reference',
    question: 'What do the warm-up batches do?',
    ...one(
      'no-warmup',
      () => 'no warm-up batches',
      () => ({ warmupEpochs: 0 }),
    ),
  },
  augmentation: {
    finding: 'augmentation',
    kind: 'augmentation',
    question: 'What does augmentation do to the xy and wh overfitting?',
    ...one(
      'augment',
      () => 'time jitter ±10 %, channel and time flips, 10 % TP dropout, 5 noise hits per image',
      () => ({ augment: SEED_AUGMENTATION }),
    ),
  },
  'owner-grid': {
    finding: 'owner-grid',
    kind: 'against-reference',
    question: "Does keras-yolo3's owner-grid defect matter?",
    ...one(
      'owner-grid',
      () => "keras-yolo3's owner-grid defect (true boxes in the owner scale's grid units)",
      () => ({ 'loss.compat.trueBoxUnits': 'owner-grid' }),
    ),
  },
  'batch-lr': {
    finding: 'batch-lr',
    kind: 'batch-lr',
    question: 'Which batch size and learning rate are best?',
    runs: (s) =>
      s.batches.flatMap((batch) =>
        s.lrs
          .filter((lr) => !(batch === REFERENCE_BATCH && lr === REFERENCE_LR)) // the reference
          .map((lr) => ({ name: `batch${batch}-lr${fmtLr(lr)}`, description: `batch ${batch}, learning rate ${lr}`, values: { batch, 'optimizer.lr': lr } })),
      ),
  },
} as const satisfies Record<ExperimentGroup, ExperimentDefinition>;

/** The groups of one run, by group: their run's name ('low-stats' for 'statistics'). */
export type SingleRunGroup = { [G in ExperimentGroup]: (typeof EXPERIMENTS)[G] extends { name: string } ? G : never }[ExperimentGroup];
export const runName = (group: SingleRunGroup): string => EXPERIMENTS[group].name;

/** The groups of one finding kind, in plan order. */
export const groupsOfKind = (kind: FindingKind): ExperimentGroup[] => experimentGroups.filter((g) => EXPERIMENTS[g].kind === kind);
