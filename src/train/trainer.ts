// The training loop with the seed's diagnostics: every loss term per scale on each training
// batch and, each epoch, on the whole validation split (in four parts: setUp — start or resume —,
// trainEpoch of trainStep's, validate, endOfEpoch — record, best, early stop, save); checkpoints (last, best) that resume
// exactly; a NaN guard; Ctrl-C that stops after the current batch and saves `last`; a lock so
// that one process at a time trains a run directory; a `best` that always holds the epoch
// metrics.jsonl names (checked and repaired on resume).
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Adam, manualSeed, setNumThreads, tidy } from '../torch/index.js';
import { yoloLoss, readLoss } from '../loss/yolo-loss.js';
import { openDataset, type DatasetReader, type DatasetIdentity } from '../data/store.js';
import { BatchLoader, type LoaderOptions } from '../data/loader.js';
import type { BatchRequest, LoadedBatch } from '../data/batch.js';
import type { AugmentLog } from '../data/augment.js';
import { mulberry32 } from '../util/rng.js';
import { UserError } from '../errors.js';
import { saveCheckpoint, loadCheckpoint } from '../nn/serialize.js';
import { type TrainConfig } from '../config/train-config.js';
import { learningRate } from './schedule.js';
import { RunDir, FollowerRunDir, lockRunDir, checkBest, runState } from '../run/run-dir.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { faultPoint } from '../util/fault.js';
import { DataParallel } from './distributed.js';
import type { ProcessGroup } from '../c10d/process-group.js';
import { toNetworkInput, targetTensors, type TargetSpec } from '../infer/prepare.js';
import { TermAccumulator } from '../infer/predict.js';
import { buildModel } from '../model/build.js';
import type { BatchRecord, EpochRecord, ResolvedRun } from '../schema/run.js';
import type { YoloV3 } from '../model/yolo.js';
import { NonFiniteLossError, checkFinite, checkGradients, meanTerms } from './guards.js';
import { validateEpoch } from './validate-epoch.js';
import { resolveRun } from './resolve.js';
import { RunEvents } from './tensorboard.js';

export type TrainEvent =
  | { kind: 'start'; run: ResolvedRun; resumedFrom: number | null }
  | { kind: 'batch'; record: BatchRecord; epochBatches: number }
  | { kind: 'validating'; epoch: number }
  | { kind: 'epoch'; record: EpochRecord }
  | { kind: 'stopped'; reason: 'interrupted' | 'early-stop' | 'done'; step: number }
  | { kind: 'note'; message: string };

export interface TrainOptions {
  config: TrainConfig;
  /** Continue from the run directory's `last` checkpoint. */
  resume?: boolean;
  onEvent?: (e: TrainEvent) => void;
  /** Set `stop` to true (e.g. on SIGINT) to stop after the current batch and save `last`. */
  control?: { stop: boolean };
  /** Testing hook: make the loss of this global step NaN (checks the NaN guard). */
  injectNanAtStep?: number;
  /** Testing hook: a data-loader worker dies (see LoaderOptions.injectWorkerFailure). */
  injectWorkerFailure?: LoaderOptions['injectWorkerFailure'];
  /** Train data-parallel as one rank of this process group (see distributed.ts). */
  group?: ProcessGroup;
}

interface CheckpointMeta {
  epoch: number; // epoch in progress (or next epoch when batch === 0)
  batch: number; // next batch index within that epoch
  step: number; // training batches done
  bestVal: number | null; // best validation loss per image (EpochRecord.val.lossPerImage)
  /** What bestVal holds; absent in checkpoints from before the per-image selection (they held the objective). */
  bestValKind?: 'lossPerImage';
  stale: number; // epochs without validation improvement
  metricsBytes: number;
  /** Size of the TensorBoard event file at this checkpoint (absent in checkpoints from before event files). */
  eventsBytes?: number;
  /** Partial epoch accumulators when stopped mid-epoch. */
  epochAcc?: { acc: TermAccumulator['state']; warmBatches: number };
}

/** Seeded Fisher–Yates permutation. */
function shuffled(values: ArrayLike<number>, seed: number): number[] {
  const a = Array.from(values);
  const rng = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Derived seeds: every random choice depends only on (run seed, purpose, epoch, batch). */
const derive = (...parts: number[]) => parts.reduce((h, p) => (Math.imul(h ^ p, 0x9e3779b1) + 0x7f4a7c15) >>> 0, 0x811c9dc5);

/** What to say when `last` cannot be used but `best` (or `init`) can. */
function lastUnusable(dir: RunDir, why: string): UserError {
  const best = existsSync(dir.checkpoint('best'));
  const alt = best ? 'best' : existsSync(dir.checkpoint('init')) ? 'init' : null;
  return new UserError(
    `${dir.path}: ${why}` +
      (alt
        ? `; checkpoints/${alt}.safetensors is usable: \`daqyolo evaluate ${dir.path} --checkpoint ${alt}\`, or train on from its weights in a new run: \`daqyolo train --init-weights ${dir.checkpoint(alt)} --out NEW …\``
        : ''),
  );
}

/** Trains per the config; returns the run directory. Holds the run directory's lock throughout. */
export async function train(o: TrainOptions): Promise<RunDir> {
  const cfg = o.config;
  const dp = o.group ? new DataParallel(o.group, { syncBatchNorm: cfg.parallel.syncBatchNorm, bucketBytes: cfg.parallel.bucketMiB * 2 ** 20 }) : null;
  // Every rank checks its inputs; with several, they agree before going on (no rank waits alone).
  const agreed: Agreed = (fn) => (dp ? dp.group.agree(fn) : fn());
  const leader = !dp || dp.isLeader;
  const dir = leader ? new RunDir(cfg.out) : new FollowerRunDir(cfg.out);
  agreed(() => {
    if (o.resume && !existsSync(dir.configPath)) throw new UserError(`${cfg.out}: nothing to resume (no config.json)`);
  });
  dir.init();
  // Rank 0 alone writes the run directory, so it alone takes the lock.
  const release = agreed(() => (leader ? lockRunDir(dir.path) : () => {}));
  try {
    return await trainLocked(o, dir, dp, agreed);
  } finally {
    release();
  }
}

type Agreed = <T>(fn: () => T) => T;

/**
 * How a run starts: resume, start, or start again (config.json but no checkpoint: killed or
 * stopped by the NaN guard before its first checkpoint). Only reads; throws what is wrong.
 */
function startState(o: TrainOptions, dir: RunDir): { resume: boolean; restart: boolean } {
  const cfg = o.config;
  const resume = Boolean(o.resume);
  const state = runState(dir.path);
  if (!resume && (state === 'resume' || state === 'done')) {
    throw new UserError(`${cfg.out} already holds a run (config.json); use --resume to continue it or choose another --out`);
  }
  if (resume && state === 'fresh') throw new UserError(`${cfg.out}: nothing to resume (no config.json)`);
  if (resume && state === 'done' && !existsSync(dir.checkpoint('last'))) throw lastUnusable(dir, 'checkpoints/last.safetensors is missing');
  if (state === 'restart') {
    const epochsDone = dir.readMetrics<{ type: string }>().some((r) => r.type === 'epoch');
    if (epochsDone || existsSync(dir.checkpoint('best'))) throw lastUnusable(dir, 'checkpoints/last.safetensors is missing');
    return { resume: false, restart: true };
  }
  return { resume, restart: false };
}

/** Everything a training run holds between its steps: set up (or resumed) once by setUp. */
interface Session {
  o: TrainOptions;
  cfg: TrainConfig;
  dir: RunDir;
  dp: DataParallel | null;
  run: ResolvedRun;
  model: YoloV3;
  optimizer: Adam;
  spec: TargetSpec;
  /** Where the run stands: what `last` holds and what the loop updates. */
  meta: CheckpointMeta;
  trainSet: number[];
  valSet: number[];
  loader: BatchLoader;
  /** The TensorBoard event file (rank 0 only). */
  events: RunEvents | null;
}

/** Writes a checkpoint (rank 0 alone writes; the other ranks skip). */
const save = (s: Session, name: 'last' | 'best') =>
  (s.dp && !s.dp.isLeader) ||
  saveCheckpoint(s.dir.checkpoint(name), { model: s.model, optimizer: s.optimizer, meta: s.meta as unknown as Record<string, unknown> });

async function trainLocked(o: TrainOptions, dir: RunDir, dp: DataParallel | null, agreed: Agreed): Promise<RunDir> {
  const s = await setUp(o, dir, dp, agreed);
  let stopReason: 'interrupted' | 'early-stop' | 'done' = 'done';
  try {
    for (let epoch = s.meta.epoch; epoch < s.cfg.epochs; epoch++) {
      const t0 = performance.now();
      const progress = await trainEpoch(s, epoch);
      if (progress === 'interrupted') {
        stopReason = 'interrupted';
        return dir;
      }
      const stop = endOfEpoch(s, epoch, progress, await validate(s, epoch), t0);
      if (stop) {
        stopReason = stop;
        break;
      }
    }
    return dir;
  } catch (e) {
    dir.log(`error: ${(e as Error).message}`);
    throw e;
  } finally {
    await finish(s, stopReason);
  }
}

/**
 * Set-up and resume: how the run starts (startState), the dataset (the one it was trained on when
 * resuming), the resolved run (anchors, sizes), model and optimiser, then either `last`'s weights,
 * optimiser state and position (metrics.jsonl cut back to it, `best` checked) or a new run's
 * config.json and `init` checkpoint; finally the training and validation images and the loader.
 */
async function setUp(o: TrainOptions, dir: RunDir, dp: DataParallel | null, agreed: Agreed): Promise<Session> {
  const cfg = o.config;
  const start = agreed(() => startState(o, dir));
  const resume = start.resume;
  if (start.restart && (!dp || dp.isLeader)) {
    for (const f of [dir.configPath, dir.metricsPath, dir.checkpoint('init'), join(dir.path, 'done.json')]) rmSync(f, { force: true });
    const message = `${cfg.out} stopped before its first checkpoint: nothing to keep, starting it again`;
    dir.log(message);
    o.onEvent?.({ kind: 'note', message });
  }
  dir.log(`${resume ? 'resume' : 'start'}: data ${cfg.data}${dp ? ` (data-parallel: ${dp.world} ranks)` : ''}`);
  let reader: DatasetReader;
  let run: ResolvedRun;
  let identity: DatasetIdentity;
  try {
    [reader, run, identity] = agreed(() => {
      dp?.checkBatch(cfg.batch);
      const r = openDataset(cfg.data);
      const id = r.identity();
      if (resume) {
        const saved = (dir.readConfig() as { dataset?: DatasetIdentity }).dataset;
        if (saved && saved.digest !== id.digest) {
          const show = (d: DatasetIdentity) => `${d.images} images ${d.width}×${d.height} ${d.layout}, ${d.boxes} boxes, digest ${d.digest}`;
          r.close();
          throw new UserError(
            `${cfg.data} is not the dataset ${cfg.out} was trained on (then: ${show(saved)}; now: ${show(id)}); restore it, or start a new run`,
          );
        }
      }
      return [r, resolveRun(cfg, r), id] as const;
    });
  } catch (e) {
    dir.log(`error: ${(e as Error).message}`);
    throw e;
  }
  if (cfg.threads > 0) setNumThreads(cfg.threads);
  manualSeed(cfg.seed);
  const model = buildModel(run).to(run.device);
  const optimizer = new Adam(model.parameters(), {
    lr: cfg.optimizer.lr,
    betas: cfg.optimizer.betas,
    eps: cfg.optimizer.eps,
    weightDecay: cfg.optimizer.weightDecay,
  });
  const spec: TargetSpec = { anchors: run.anchors, strides: run.strides, numClasses: run.classNames.length };

  let meta: CheckpointMeta = { epoch: 0, batch: 0, step: 0, bestVal: null, bestValKind: 'lossPerImage', stale: 0, metricsBytes: 0 };
  if (resume) {
    try {
      meta = loadCheckpoint(dir.checkpoint('last'), { model, optimizer }).meta as unknown as CheckpointMeta;
    } catch (e) {
      throw lastUnusable(dir, (e as Error).message);
    }
    // The checkpoint knows how long the history was when it was saved: a shorter metrics.jsonl
    // (emptied, cut, replaced) would resume quietly with the history lost (issue 30).
    const have = dir.metricsBytes();
    if ((!dp || dp.isLeader) && have < meta.metricsBytes) {
      throw new UserError(
        `${dir.metricsPath}: ${have} bytes, but the checkpoint being resumed (step ${meta.step}, epoch ${meta.epoch}) was saved after ${meta.metricsBytes}: the run's history was cut or emptied; put it back, or train into a new --out`,
      );
    }
    dir.truncateMetrics(meta.metricsBytes);
    if (meta.bestVal !== null && meta.bestValKind !== 'lossPerImage') {
      dir.log('the saved best value is an objective (older run): best and early stopping start again on the validation loss per image');
      meta.bestVal = null;
      meta.stale = 0;
    }
    // Rank 0 alone writes checkpoints, so it alone checks and repairs `best`.
    const best: ReturnType<typeof checkBest> = !dp || dp.isLeader ? checkBest(dir, { repair: true }) : { state: 'ok', epoch: null };
    if (best.state === 'repaired')
      o.onEvent?.({
        kind: 'note',
        message: `checkpoints/best.safetensors was one improvement behind (a crash between the checkpoint renames): repaired from last (epoch ${best.epoch})`,
      });
    if (best.state === 'stale') throw new UserError(best.message);
    dir.log(`resumed from step ${meta.step} (epoch ${meta.epoch}, batch ${meta.batch})`);
  } else {
    if (cfg.model.initWeights) {
      // Non-strict: a backbone-only file (e.g. Darknet's darknet53.conv.74) leaves the heads as initialised.
      const { metadata } = loadCheckpoint(cfg.model.initWeights, { model, strict: false });
      dir.log(`initial weights from ${cfg.model.initWeights} (${Object.keys(metadata).length} metadata keys)`);
    }
    dir.writeConfig({ ...run, config: cfg, dataPath: resolve(cfg.data), dataset: identity });
    dir.ensureCheckpointDir();
    // The untrained network, for comparisons with the trained one (`evaluate --checkpoint init`).
    if (!dp || dp.isLeader) saveCheckpoint(dir.checkpoint('init'), { model, meta: { epoch: 0, step: 0 } });
  }
  dir.ensureCheckpointDir();
  dp?.prepareModel(model);
  const events = !dp || dp.isLeader ? new RunEvents(dir.path, { ...run, config: cfg }, resume ? (meta.eventsBytes ?? null) : null) : null;
  o.onEvent?.({ kind: 'start', run, resumedFrom: resume ? meta.step : null });

  const allTrain = reader.split('train');
  const trainSet = cfg.trainLimit ? shuffled(allTrain, derive(cfg.seed, 1)).slice(0, run.trainImages) : Array.from(allTrain);
  const valSet = Array.from(reader.split('val')).slice(0, run.valImages);
  reader.close();
  const loader = new BatchLoader({
    path: cfg.data,
    workers: cfg.workers,
    prefetch: cfg.prefetch,
    pool: Int32Array.from(trainSet),
    // Training and validation batches alike, so the validation objective is the one trained on.
    ...(cfg.positiveMinTps > 0 ? { marks: { positiveMinTps: cfg.positiveMinTps } } : {}),
    injectWorkerFailure: o.injectWorkerFailure,
  });
  return { o, cfg, dir, dp, run, model, optimizer, spec, meta, trainSet, valSet, loader, events };
}

/** What one epoch's training batches add up to (with what `last` held when it resumed mid-epoch). */
interface EpochProgress {
  acc: TermAccumulator;
  augLog: AugmentLog;
  warmBatches: number;
  startBatch: number;
}

/**
 * One epoch's training batches, from `meta.batch` when resuming inside it. On a stop request it
 * saves `last` with the partial accumulators after the current batch and returns 'interrupted'.
 */
async function trainEpoch(s: Session, epoch: number): Promise<EpochProgress | 'interrupted'> {
  const { cfg, run, dp, meta, loader, o, dir } = s;
  const order = shuffled(s.trainSet, derive(cfg.seed, 2, epoch));
  const startBatch = epoch === meta.epoch ? meta.batch : 0;
  const reqs: BatchRequest[] = [];
  for (let b = startBatch; b < run.batchesPerEpoch; b++) {
    const indices = order.slice(b * cfg.batch, (b + 1) * cfg.batch);
    const positions = indices.map((_, i) => i);
    reqs.push({
      id: epoch * 1e6 + b,
      indices: dp ? dp.shard(indices) : indices,
      positions: dp ? dp.shard(positions) : positions,
      seed: derive(cfg.seed, 3, epoch, b),
      augment: cfg.augment,
    });
  }
  loader.enqueue(reqs);
  const acc = new TermAccumulator();
  const augLog: AugmentLog = {};
  let warmBatches = 0;
  if (startBatch > 0 && meta.epochAcc) acc.state = structuredClone(meta.epochAcc.acc);
  for (let b = startBatch; b < run.batchesPerEpoch; b++) {
    const loaded = await loader.next();
    for (const [k, v] of Object.entries(loaded.augLog)) augLog[k as keyof AugmentLog] = (augLog[k as keyof AugmentLog] ?? 0) + v;
    const { values, collisions, size, lr, stopAll } = trainStep(s, loaded, epoch, b);
    acc.add(values);
    if (values.warm) warmBatches++;
    const record: BatchRecord = {
      type: 'batch',
      step: meta.step,
      epoch,
      batch: b,
      lr,
      warm: values.warm,
      size,
      objective: values.objective,
      collisions,
      scales: values.scales.map((sc) => meanTerms(sc)),
    };
    if (cfg.logBatches) {
      dir.appendMetrics(record);
      s.events?.batch(record);
    }
    meta.step++;
    meta.batch = b + 1;
    o.onEvent?.({ kind: 'batch', record, epochBatches: run.batchesPerEpoch });
    // A prefetched batch resolves without a trip through the event loop, so a signal handler
    // (Ctrl-C → control.stop) would only run at the next real I/O; yield to it after each batch.
    await new Promise<void>((r) => setImmediate(r));
    // One process: the flag as it is now; several ranks: the flag they agreed on in this step.
    const stopNow = dp ? stopAll : (o.control?.stop ?? false);
    if (stopNow && b + 1 < run.batchesPerEpoch) {
      loader.clear();
      meta.epoch = epoch;
      meta.epochAcc = { acc: acc.state, warmBatches };
      meta.metricsBytes = dir.metricsBytes();
      s.events?.flush();
      meta.eventsBytes = s.events?.bytes();
      save(s, 'last');
      dir.log(`interrupted after step ${meta.step}; saved last`);
      return 'interrupted';
    }
  }
  return { acc, augLog, warmBatches, startBatch };
}

/**
 * One optimiser step on a loaded batch: input size (multi-scale), learning rate, forward, loss,
 * (with several ranks: the global objective and all-reduced gradients), the NaN guards, step.
 * Returns every image's loss values and whether the ranks agreed to stop.
 */
function trainStep(s: Session, loaded: LoadedBatch, epoch: number, b: number) {
  const { cfg, run, dp, meta, model, optimizer, spec, o } = s;
  const size = cfg.multiScale.enabled
    ? cfg.multiScale.min +
      32 * Math.floor(mulberry32(derive(cfg.seed, 4, Math.floor(meta.step / cfg.multiScale.every)))() * ((cfg.multiScale.max - cfg.multiScale.min) / 32 + 1))
    : run.size;
  const lr = learningRate(cfg, epoch + b / run.batchesPerEpoch);
  optimizer.lr = lr;
  model.train();
  let stopAll = o.control?.stop ?? false;
  const { values, collisions } = tidy(() => {
    const inp = toNetworkInput(loaded, size, run.device, run.inputScale);
    const { targets, collisions } = targetTensors(inp.boxes, size, spec, run.device);
    const outputs = model.forward(inp.x);
    let result = yoloLoss(
      outputs,
      targets,
      { anchors: run.anchors, netH: size, netW: size, batchIndex: meta.step, training: true },
      { ...cfg.loss, warmupBatches: run.warmupBatches },
    );
    if (o.injectNanAtStep === meta.step) result.scales[0]!.conf1 = result.scales[0]!.conf1.mul(NaN);
    if (dp) ({ result, stop: stopAll } = dp.globalObjective(result, cfg.batch, cfg.loss.reduction, stopAll));
    const local = readLoss(result);
    // With several ranks: every image's values, in the global batch's order, on every rank.
    const { values, collisions: allCollisions } = dp ? dp.gatherValues(local, collisions) : { values: local, collisions };
    checkFinite(values, meta.step, epoch, b);
    optimizer.zeroGrad();
    result.objective.backward();
    dp?.allReduceGrads(model.parameters());
    // After the all-reduce every rank holds the same gradients, so all ranks stop together.
    checkGradients(model.namedParameters(), meta.step, epoch, b);
    optimizer.step();
    return { values, collisions: allCollisions };
  });
  return { values, collisions, size, lr, stopAll };
}

/** Validation over the whole validation split, in eval mode, never warm. */
async function validate(s: Session, epoch: number) {
  const { run, cfg } = s;
  s.o.onEvent?.({ kind: 'validating', epoch });
  return validateEpoch(
    s.loader,
    { model: s.model, spec: s.spec, size: run.size, device: run.device, loss: cfg.loss, inputScale: run.inputScale },
    s.valSet,
    cfg.batch,
    epoch,
    s.dp,
  );
}

/**
 * End of epoch: the epoch record, best (validation loss per image) and early-stopping counts,
 * `last` then `best`, and whether to stop (early stop, or a stop request between epochs).
 */
function endOfEpoch(
  s: Session,
  epoch: number,
  p: EpochProgress,
  val: Awaited<ReturnType<typeof validateEpoch>>,
  t0: number,
): 'early-stop' | 'interrupted' | null {
  const { cfg, run, dp, meta, dir, o } = s;
  const improved = meta.bestVal === null || val.lossPerImage < meta.bestVal;
  const record: EpochRecord = {
    type: 'epoch',
    epoch,
    step: meta.step,
    lr: s.optimizer.lr,
    seconds: (performance.now() - t0) / 1000,
    warmFraction: (p.warmBatches + (p.startBatch > 0 ? (meta.epochAcc?.warmBatches ?? 0) : 0)) / run.batchesPerEpoch,
    train: p.acc.means(),
    val,
    augment: p.augLog,
    best: improved,
  };
  dir.appendMetrics(record);
  s.events?.epoch(record);
  faultPoint('after-epoch-record');
  if (improved) {
    meta.bestVal = val.lossPerImage;
    meta.bestValKind = 'lossPerImage';
    meta.stale = 0;
  } else meta.stale++;
  meta.epoch = epoch + 1;
  meta.batch = 0;
  delete meta.epochAcc;
  meta.metricsBytes = dir.metricsBytes();
  meta.eventsBytes = s.events?.bytes();
  // last, then best: both hold meta.epoch (epochs done), which checkBest compares with metrics.jsonl.
  save(s, 'last');
  faultPoint('after-last');
  if (improved) save(s, 'best');
  faultPoint('after-best');
  dir.log(
    `epoch ${epoch}: train ${record.train.objective.toFixed(4)} val ${val.objective.toFixed(4)} (loss/image ${val.lossPerImage.toFixed(4)}) mAP50 ${val.map50?.toFixed(4) ?? '-'}${improved ? ' (best)' : ''}`,
  );
  o.onEvent?.({ kind: 'epoch', record });
  if (cfg.schedule.earlyStopPatience && meta.stale >= cfg.schedule.earlyStopPatience) {
    dir.log(`early stop: no validation improvement for ${meta.stale} epochs`);
    return 'early-stop';
  }
  if (dp ? dp.anyTrue(o.control?.stop ?? false) : o.control?.stop) return 'interrupted';
  return null;
}

/** After the loop, however it ended: loader, optimiser and model freed, done.json for a finished run. */
async function finish(s: Session, stopReason: 'interrupted' | 'early-stop' | 'done'): Promise<void> {
  const { dp, meta, cfg, dir } = s;
  await s.loader.close();
  s.optimizer.dispose();
  s.model.dispose();
  s.events?.flush();
  // done.json marks a finished run (sweeps skip it); an interrupted run has none.
  if ((!dp || dp.isLeader) && stopReason !== 'interrupted' && meta.epoch > 0 && (stopReason === 'early-stop' || meta.epoch >= cfg.epochs)) {
    writeJsonAtomic(join(dir.path, 'done.json'), { reason: stopReason, epochs: meta.epoch, step: meta.step, bestValLossPerImage: meta.bestVal });
  }
  s.o.onEvent?.({ kind: 'stopped', reason: stopReason, step: meta.step });
}

export { NonFiniteLossError, checkGradients, validateEpoch };
