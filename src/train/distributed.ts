// Data-parallel training over a c10d process group (src/dist): what one rank does differently
// from a single process, kept out of the trainer's loop so that it reads the same for one rank.
//
// The global batch (config `batch`) is split over the ranks as DistributedSampler splits an
// epoch: position i of every global batch goes to rank i mod W, so the union of the ranks'
// batches at step b is exactly the single process's batch b, and each image keeps the
// augmentation seed of its global position. Each rank's objective is rebuilt from the totals
// summed over all ranks, whatever the reduction (sqrt, sum, mean): its value is the global
// batch's objective and its gradient is this rank's share, so the all-reduced (summed)
// gradients equal the single process's gradient on the global batch. Per-image loss values and
// validation results are gathered so that rank 0 writes the same records a single process would.
import { Tensor, tensor, noGrad, tidy } from '../torch/index.js';
import { objectiveOf, type LossResult, type LossValues } from '../loss/yolo-loss.js';
import type { LossOptions } from '../loss/options.js';
import { BatchNorm2d } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { ProcessGroup } from '../c10d/process-group.js';
import { UserError } from '../errors.js';

export interface DataParallelOptions {
  /** Batch norm statistics over the whole global batch (default: per rank, as DDP does). */
  syncBatchNorm?: boolean;
  /** Gradient bucket size for the all-reduce (DDP's default: 25 MiB). */
  bucketBytes?: number;
}

export class DataParallel {
  constructor(
    readonly group: ProcessGroup,
    readonly options: DataParallelOptions = {},
  ) {}
  get rank(): number {
    return this.group.rank;
  }
  get world(): number {
    return this.group.worldSize;
  }
  /** Rank 0 alone writes the run directory. */
  get isLeader(): boolean {
    return this.group.rank === 0;
  }

  /** The global batch size must split evenly over the ranks. */
  checkBatch(batch: number): void {
    if (batch % this.world !== 0)
      throw new UserError(`batch ${batch} does not split over ${this.world} ranks (batch is the global batch: give a multiple of ${this.world})`);
  }

  /** This rank's share of one global batch: positions i with i mod W = rank (DistributedSampler). */
  shard<T>(global: readonly T[]): T[] {
    return global.filter((_, i) => i % this.world === this.rank);
  }

  /** Rank 0's parameters and buffers copied to every rank; synchronised batch norm installed if asked. */
  prepareModel(model: Module): void {
    this.group.broadcastTensors([...model.stateDict().values()], 0, this.options.bucketBytes);
    if (this.options.syncBatchNorm) {
      for (const [, m] of model.namedModules()) {
        if (m instanceof BatchNorm2d) {
          m.normalize = (x, bn) =>
            this.group.syncBatchNorm(x, bn.weight, bn.bias, bn.runningMean, bn.runningVar, { training: bn.training, momentum: bn.momentum, eps: bn.eps });
        }
      }
    }
  }

  /**
   * Replaces the local objective by the global batch's (see the file comment) and shares the stop
   * request, so that every rank stops after the same step. Call inside tidy().
   */
  globalObjective(result: LossResult, globalBatch: number, reduction: LossOptions['reduction'], stop: boolean): { result: LossResult; stop: boolean } {
    const totals = result.scales.map((s) => s.total.sum());
    const packed = noGrad(() => {
      const local = tensor(Float64Array.from([...totals.map((t) => t.item()), stop ? 1 : 0]));
      return this.group.allReduce(local, 'sum');
    });
    const sums = packed.toNumbers();
    // value: the sum over ranks; gradient: this rank's own total.
    const global = totals.map((t, s) => t.add(sums[s]! - t.item()));
    return { result: { ...result, objective: objectiveOf(global, globalBatch, reduction) }, stop: sums[totals.length]! > 0 };
  }

  /** Every rank's per-image loss values, merged in global batch order (identical on all ranks). */
  gatherValues(values: LossValues, collisions: number): { values: LossValues; collisions: number } {
    const all = this.group.allGatherJson({ values, collisions });
    const interleave = (get: (v: LossValues) => number[]): number[] => {
      const parts = all.map((p) => get(p.values));
      const out: number[] = [];
      const n = Math.max(...parts.map((p) => p.length));
      for (let i = 0; i < n; i++) for (let r = 0; r < parts.length; r++) if (i < parts[r]!.length) out.push(parts[r]![i]!);
      return out;
    };
    const scales = values.scales.map(
      (s, si) =>
        Object.fromEntries(Object.keys(s).map((k) => [k, interleave((v) => (v.scales[si] as Record<string, number[]>)[k]!)])) as LossValues['scales'][number],
    );
    return { values: { objective: values.objective, warm: values.warm, scales }, collisions: all.reduce((a, p) => a + p.collisions, 0) };
  }

  /** Whether any rank says yes (e.g. a stop request seen by some ranks only). */
  anyTrue(flag: boolean): boolean {
    return tidy(() => this.group.allReduce(tensor([flag ? 1 : 0]), 'max').item()) > 0;
  }

  /** Sums the gradients over the ranks (each rank's objective already carries its share). */
  allReduceGrads(params: Tensor[]): number {
    return this.group.allReduceGrads(params, { op: 'sum', bucketBytes: this.options.bucketBytes });
  }

  /**
   * Validation batches of `batch` images over `indices`: this rank takes every W-th batch. The
   * single process's batches exactly, so each batch's numbers are the same as there.
   */
  validationShard(indices: number[], batch: number): { indices: number[]; batchIds: number[] } {
    const mine: number[] = [];
    const batchIds: number[] = [];
    for (let b = 0, i = 0; i < indices.length; b++, i += batch) {
      if (b % this.world !== this.rank) continue;
      batchIds.push(b);
      mine.push(...indices.slice(i, i + batch));
    }
    return { indices: mine, batchIds };
  }

  /** Every rank's per-batch results, in the single process's batch order. */
  gatherBatches<T>(mine: { batch: number; result: T }[]): T[] {
    return this.group
      .allGatherJson(mine)
      .flat()
      .sort((a, b) => a.batch - b.batch)
      .map((x) => x.result);
  }
}
