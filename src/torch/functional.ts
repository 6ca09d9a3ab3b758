// nn.functional: the building blocks of the network and the loss, named as in PyTorch.
import { native } from './native.js';
import { Tensor, wrap } from './tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, o: Conv2dOptions = {}): Tensor {
  return wrap(native.conv2d(x.handle, weight.handle, bias?.handle ?? null, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch normalisation; in training mode the running statistics are updated in place. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions = {}): Tensor {
  return wrap(
    native.batchNorm(
      x.handle,
      o.weight?.handle ?? null,
      o.bias?.handle ?? null,
      runningMean?.handle ?? null,
      runningVar?.handle ?? null,
      o.training ?? false,
      o.momentum ?? 0.1,
      o.eps ?? 1e-5,
    ),
  );
}
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => wrap(native.leakyRelu(x.handle, negativeSlope));
export const relu = (x: Tensor): Tensor => x.relu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

export function maxPool2d(x: Tensor, kernelSize: Pair, o: { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean } = {}): Tensor {
  return wrap(native.maxPool2d(x.handle, kernelSize, o.stride ?? null, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false));
}

export interface InterpolateOptions {
  size?: Pair;
  scaleFactor?: number;
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}
export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  if (o.size === undefined && o.scaleFactor === undefined) throw new Error('interpolate: give size or scaleFactor');
  return wrap(native.interpolate(x.handle, o.size ?? null, o.scaleFactor ?? null, o.mode ?? 'nearest', o.alignCorners ?? false));
}
/** pads = [left, right, top, bottom] (last dim first, as torch.nn.functional.pad). */
export function pad(x: Tensor, pads: number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  return wrap(native.pad(x.handle, pads, mode, value));
}

export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.mseLoss(input.handle, target.handle, reduction));
}
/** BCE on logits, computed stably (log-sum-exp) for any logit magnitude. */
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, o: { weight?: Tensor; posWeight?: Tensor; reduction?: Reduction } = {}): Tensor {
  return wrap(native.bceWithLogits(logits.handle, target.handle, o.weight?.handle ?? null, o.posWeight?.handle ?? null, o.reduction ?? 'mean'));
}
/** Softmax cross-entropy: logits [N, C, ...], target int64 class indices [N, ...]. */
export function crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return wrap(native.crossEntropy(logits.handle, target.handle, reduction));
}
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return wrap(native.linear(x.handle, weight.handle, bias?.handle ?? null));
}
