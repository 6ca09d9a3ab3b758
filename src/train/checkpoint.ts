// Checkpoints: model state dict + optimiser state + metadata in one safetensors file, written
// atomically (temporary name, fsync, rename) so a killed run never leaves a half-written one.
// Optimiser state tensors are stored as `optim.<param index>.<field>`; steps and the caller's
// metadata go in the safetensors metadata map (JSON strings).
import { loadSafetensors, saveSafetensors, Tensor, type Optimizer, type ParamState } from '../torch/index.js';
import type { Module } from '../nn/index.js';
import { UserError } from '../errors.js';

const FIELDS = ['expAvg', 'expAvgSq', 'maxExpAvgSq', 'momentumBuffer'] as const;

export function saveCheckpoint(path: string, o: { model: Module; optimizer?: Optimizer; meta?: Record<string, unknown> }): void {
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of o.model.stateDict()) tensors.set(`model.${k}`, t);
  const steps: (number | null)[] = [];
  const owned: Tensor[] = [];
  if (o.optimizer) {
    o.optimizer.getState().forEach((s, i) => {
      steps.push(s ? s.step ?? 0 : null);
      if (!s) return;
      for (const f of FIELDS) {
        const t = s[f];
        if (t) { tensors.set(`optim.${i}.${f}`, t); owned.push(t); }
      }
    });
  }
  try {
    saveSafetensors(path, tensors, {
      format: 'daqyolo-checkpoint',
      meta: JSON.stringify(o.meta ?? {}),
      ...(o.optimizer ? { optimizer: JSON.stringify({ kind: o.optimizer.constructor.name, lr: o.optimizer.lr, steps }) } : {}),
    });
  } finally {
    for (const t of owned) t.dispose();
  }
}

export function loadCheckpoint(path: string, o: { model: Module; optimizer?: Optimizer }): { meta: Record<string, unknown> } {
  let content;
  try {
    content = loadSafetensors(path);
  } catch (e) {
    throw new UserError(`checkpoint ${path}: ${(e as Error).message}`);
  }
  const { tensors, metadata } = content;
  try {
    if (metadata.format !== 'daqyolo-checkpoint') throw new UserError(`checkpoint ${path}: not a daqyolo checkpoint (metadata format '${metadata.format ?? 'missing'}')`);
    const modelState = new Map<string, Tensor>();
    for (const [k, t] of tensors) if (k.startsWith('model.')) modelState.set(k.slice(6), t);
    try {
      o.model.loadStateDict(modelState);
    } catch (e) {
      throw new UserError(`checkpoint ${path}: ${(e as Error).message}`);
    }
    if (o.optimizer) {
      if (!metadata.optimizer) throw new UserError(`checkpoint ${path}: holds no optimiser state`);
      const info = JSON.parse(metadata.optimizer) as { kind: string; lr: number; steps: (number | null)[] };
      if (info.kind !== o.optimizer.constructor.name) throw new UserError(`checkpoint ${path}: optimiser state is ${info.kind}, the run uses ${o.optimizer.constructor.name}`);
      const state: (ParamState | null)[] = info.steps.map((step, i) => {
        if (step === null) return null;
        const s: ParamState = { step };
        for (const f of FIELDS) {
          const t = tensors.get(`optim.${i}.${f}`);
          if (t) s[f] = t;
        }
        return s;
      });
      o.optimizer.setState(state);
      o.optimizer.lr = info.lr;
    }
    return { meta: JSON.parse(metadata.meta ?? '{}') as Record<string, unknown> };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
