// Learning-rate schedules, evaluated per batch from the epoch's progress.
import type { TrainConfig } from '../config/train-config.js';

/** The learning rate for a fractional epoch position (epoch + batch / batchesPerEpoch). */
export function learningRate(cfg: Pick<TrainConfig, 'optimizer' | 'schedule' | 'epochs'>, epochPos: number): number {
  const lr0 = cfg.optimizer.lr;
  const s = cfg.schedule;
  switch (s.kind) {
    case 'constant':
      return lr0;
    case 'step':
      return lr0 * s.gamma ** Math.floor(epochPos / s.stepEpochs);
    case 'cosine': {
      const t = Math.min(1, epochPos / cfg.epochs);
      return lr0 * (s.minFactor + (1 - s.minFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
  }
}
