// Opening a finished (or running) training run for inference: its resolved config, the model
// with a checkpoint's weights, and the context the inference code needs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { defaultDevice, setNumThreads } from '../torch/index.js';
import { loadCheckpoint } from '../nn/serialize.js';
import type { YoloV3 } from '../model/yolo.js';
import { buildModel } from '../model/build.js';
import { readResolvedRun, type ResolvedRun } from '../schema/run.js';
import { RunDir, checkBest } from '../run/run-dir.js';
import type { InferContext } from './predict.js';
import type { DatasetReader } from '../data/store.js';

export interface OpenedRun {
  dir: string;
  run: ResolvedRun;
  model: YoloV3;
  ctx: InferContext;
  checkpoint: string;
  /** The checkpoint's metadata (epoch, step, …). */
  meta: Record<string, unknown>;
}

/** Loads <dir>/config.json and the named checkpoint ('best' falls back to 'last'). */
export function openRun(dir: string, o: { checkpoint?: string; device?: string; threads?: number } = {}): OpenedRun {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new UserError(`${dir}: not a run directory (no config.json)`);
  const run = readResolvedRun(cfgPath);
  const name = o.checkpoint ?? 'best';
  let checkpoint = name.endsWith('.safetensors') ? name : join(dir, 'checkpoints', `${name}.safetensors`);
  if (!existsSync(checkpoint) && name === 'best') checkpoint = join(dir, 'checkpoints', 'last.safetensors');
  if (!existsSync(checkpoint)) {
    const others = ['best', 'last', 'init'].filter((c) => c !== name && existsSync(join(dir, 'checkpoints', `${c}.safetensors`)));
    throw new UserError(
      `${dir}: no checkpoint '${name}' (${checkpoint} is missing)` +
        (others.length ? `; usable: ${others.map((c) => `--checkpoint ${c}`).join(', ')}` : '; has the run finished an epoch?'),
    );
  }
  if (name === 'best' && checkpoint.endsWith('best.safetensors') && new RunDir(dir).lockedBy() === null) {
    // best must hold the epoch metrics.jsonl names; a crash between the checkpoint renames is repaired here
    // (not while a training holds the run: between its renames the two legitimately differ).
    const best = checkBest(new RunDir(dir), { repair: true });
    if (best.state === 'stale') throw new UserError(best.message);
  }
  if (o.threads) setNumThreads(o.threads);
  const device = defaultDevice(o.device ?? 'auto');
  const model = buildModel(run).to(device);
  const { meta } = loadCheckpoint(checkpoint, { model });
  model.eval();
  const bad = nonFiniteTensor(model);
  if (bad) {
    model.dispose();
    throw new UserError(
      `${checkpoint}: tensor '${bad}' holds NaN or infinite values; its detections would be meaningless (train diverged?): use another checkpoint (--checkpoint best, last or init)`,
    );
  }
  return {
    dir,
    run,
    model,
    checkpoint,
    meta,
    ctx: {
      model,
      spec: { anchors: run.anchors, strides: run.strides, numClasses: run.classNames.length },
      size: run.size,
      device,
      loss: run.config.loss,
      inputScale: run.inputScale ?? 1,
    },
  };
}

/** Refuses a dataset whose channels or classes differ from the run's. */
export function checkCompatible(r: OpenedRun, reader: DatasetReader): void {
  if (reader.channels !== r.run.channels)
    throw new UserError(`${reader.path} has ${reader.channels} image channels; the run ${r.dir} was trained on ${r.run.channels}`);
  if (reader.classNames.join(',') !== r.run.classNames.join(',')) {
    throw new UserError(`${reader.path} has classes [${reader.classNames}]; the run ${r.dir} was trained on [${r.run.classNames}]`);
  }
}

/** The first parameter or buffer with a NaN or infinite value, or null. */
function nonFiniteTensor(model: YoloV3): string | null {
  for (const [name, t] of model.stateDict()) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
    const v = t.dataSync() as Float32Array | Float64Array;
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return name;
  }
  return null;
}
