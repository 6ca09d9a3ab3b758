// Checkpoints: a module's state dict, its optimiser's state and a JSON metadata map in one
// safetensors file, written atomically (temporary name + fsync + rename, via saveSafetensors).
//
// Layout, so that Python can read it with safetensors.torch.load_file (or json + struct):
//   <state-dict key>           model parameters and buffers under PyTorch's names, unprefixed,
//                              so `model.load_state_dict({k: v for k in ... if not k.startswith('optim.')})`
//   optim.<i>.exp_avg, optim.<i>.exp_avg_sq, optim.<i>.max_exp_avg_sq   Adam state of parameter i
//   optim.<i>.momentum_buffer                                          SGD state of parameter i
//   __metadata__ (string → string):
//     daqyolo.format  "checkpoint/1"
//     daqyolo.meta    JSON of the caller's metadata (epoch, step, best metric, …)
//     daqyolo.optim   JSON {type, lr, params, steps: [Adam step per parameter, null = no state]}
import { Adam, SGD, tidy, saveSafetensors, loadSafetensors, readSafetensorsMetadata, type Optimizer, type ParamState, type Tensor } from '../torch/index.js';
import { UserError } from '../errors.js';
import type { Module } from './module.js';

const FORMAT = 'checkpoint/1';
const OPTIM_PREFIX = 'optim.';

/** A checkpoint that cannot be read or does not fit the model/optimiser; the message names the file. */
export class CheckpointError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

// ParamState field ↔ tensor-name suffix (PyTorch's own state names, so Python readers recognise them).
const FIELDS: [keyof ParamState, string][] = [
  ['expAvg', 'exp_avg'],
  ['expAvgSq', 'exp_avg_sq'],
  ['maxExpAvgSq', 'max_exp_avg_sq'],
  ['momentumBuffer', 'momentum_buffer'],
];

interface OptimMeta {
  type: 'Adam' | 'SGD';
  lr: number;
  params: number;
  steps: (number | null)[];
}

const optimType = (o: Optimizer): OptimMeta['type'] => {
  if (o instanceof Adam) return 'Adam';
  if (o instanceof SGD) return 'SGD';
  throw new Error('saveCheckpoint: unknown optimiser class (Adam and SGD are supported)');
};

export interface SaveCheckpointOptions {
  model: Module;
  optimizer?: Optimizer;
  /** JSON-serialisable values (numbers, strings, null, nested objects). */
  meta?: Record<string, unknown>;
}

/** Writes model state, optimiser state and metadata to `path` atomically. */
export function saveCheckpoint(path: string, o: SaveCheckpointOptions): void {
  const tensors = new Map<string, Tensor>(o.model.stateDict()); // live references, not copies
  for (const k of tensors.keys()) {
    if (k.startsWith(OPTIM_PREFIX)) throw new Error(`saveCheckpoint: model key '${k}' collides with the optimiser prefix '${OPTIM_PREFIX}'`);
  }
  const metadata: Record<string, string> = { 'daqyolo.format': FORMAT, 'daqyolo.meta': JSON.stringify(o.meta ?? {}) };
  const copies: Tensor[] = []; // getState() hands out copies that we own
  try {
    if (o.optimizer) {
      const state = o.optimizer.getState();
      state.forEach((s, i) => {
        for (const [field, name] of FIELDS) {
          const t = s?.[field];
          if (t === undefined || typeof t === 'number') continue;
          copies.push(t);
          tensors.set(`${OPTIM_PREFIX}${i}.${name}`, t);
        }
      });
      const om: OptimMeta = {
        type: optimType(o.optimizer),
        lr: o.optimizer.lr,
        params: state.length,
        steps: state.map((s) => (s === null ? null : (s.step ?? 0))),
      };
      metadata['daqyolo.optim'] = JSON.stringify(om);
    }
    saveSafetensors(path, tensors, metadata);
  } finally {
    for (const t of copies) t.dispose();
  }
}

export interface LoadCheckpointOptions {
  model: Module;
  /** Restored (state and learning rate) when given; the file must then hold optimiser state of the same type. */
  optimizer?: Optimizer;
  /** Refuse missing or unexpected model keys (default true); shapes must always match. */
  strict?: boolean;
}

export interface LoadedCheckpoint {
  meta: Record<string, unknown>;
  /** The raw safetensors metadata map. */
  metadata: Record<string, string>;
}

function parseJson<T>(path: string, key: string, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new CheckpointError(`${path}: metadata '${key}' is not JSON (${(e as Error).message})`);
  }
}

/** Reads a checkpoint into the model (and optimiser); returns the caller's metadata. */
export function loadCheckpoint(path: string, o: LoadCheckpointOptions): LoadedCheckpoint {
  return tidy(() => {
    let content;
    try {
      content = loadSafetensors(path);
    } catch (e) {
      throw new CheckpointError((e as Error).message); // already names the file
    }
    const { tensors, metadata } = content;
    const model = new Map<string, Tensor>();
    const optim = new Map<string, Tensor>();
    for (const [k, t] of tensors) (k.startsWith(OPTIM_PREFIX) ? optim : model).set(k, t);
    try {
      o.model.loadStateDict(model, { strict: o.strict ?? true });
    } catch (e) {
      throw new CheckpointError(`${path}: ${(e as Error).message}`);
    }
    const meta = parseJson<Record<string, unknown>>(path, 'daqyolo.meta', metadata['daqyolo.meta']) ?? {};
    if (o.optimizer) restoreOptimizer(path, o.optimizer, optim, parseJson<OptimMeta>(path, 'daqyolo.optim', metadata['daqyolo.optim']));
    return { meta, metadata };
  });
}

/** A checkpoint's caller metadata (epoch, step, …) from its header alone. */
export function readCheckpointMeta(path: string): Record<string, unknown> {
  let metadata: Record<string, string>;
  try {
    metadata = readSafetensorsMetadata(path);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  return parseJson<Record<string, unknown>>(path, 'daqyolo.meta', metadata['daqyolo.meta']) ?? {};
}

function restoreOptimizer(path: string, opt: Optimizer, optim: Map<string, Tensor>, om: OptimMeta | undefined): void {
  if (!om) throw new CheckpointError(`${path}: holds no optimiser state (metadata 'daqyolo.optim' is missing)`);
  const type = optimType(opt);
  if (om.type !== type) throw new CheckpointError(`${path}: optimiser state is ${om.type}, the optimiser is ${type}`);
  if (om.params !== opt.params.length || om.steps.length !== om.params) {
    throw new CheckpointError(`${path}: optimiser state is for ${om.params} parameters, the optimiser has ${opt.params.length}`);
  }
  const used = new Set<string>();
  const state: (ParamState | null)[] = om.steps.map((step, i) => {
    if (step === null) return null;
    const s: ParamState = type === 'Adam' ? { step } : {};
    for (const [field, name] of FIELDS) {
      const key = `${OPTIM_PREFIX}${i}.${name}`;
      const t = optim.get(key);
      if (!t) continue;
      const want = opt.params[i]!.shape;
      if (t.shape.join(',') !== want.join(',')) {
        throw new CheckpointError(`${path}: '${key}' has shape [${t.shape}], parameter ${i} has [${want}]`);
      }
      (s as Record<string, Tensor>)[field] = t;
      used.add(key);
    }
    if (type === 'Adam' && (!s.expAvg || !s.expAvgSq)) {
      throw new CheckpointError(`${path}: '${OPTIM_PREFIX}${i}.exp_avg' or '${OPTIM_PREFIX}${i}.exp_avg_sq' is missing (parameter ${i} has a step count)`);
    }
    return s;
  });
  const extra = [...optim.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new CheckpointError(`${path}: unexpected optimiser tensors: ${extra.join(', ')}`);
  try {
    opt.setState(state);
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
  opt.lr = om.lr; // as torch.optim.Optimizer.load_state_dict: the learning rate comes back too
}
