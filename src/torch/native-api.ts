// The declaration of every function of the libtorch addon (native/*.cc): its arguments, what it
// returns, and how many arguments it takes. `native.ts` checks this table against the loaded
// addon (the same names, the same argument counts: every function there is registered with
// `DQ_EXPORT(exports, name, arity)` and refuses another count), so a function added in C++ and
// not here, or declared here and gone from C++, stops the program at load with its name.
//
// Adding a function: one `DQ_EXPORT` line in its native/*.cc file and one line here:
//   name: fn<[arg: Type, …], Return>(arity),
// The arity must equal the tuple's length (the compiler checks it).
import type { DType } from './dtype.js';

/** An opaque handle to one libtorch tensor reference, owned by a {@link Tensor}; `free` drops it. */
export interface Handle {
  readonly __brand?: 'TensorHandle';
}
/** An opaque handle to a libtorch optimiser; `optimFree` drops it. */
export interface OptimHandle {
  readonly __brand?: 'Optimizer';
}
/** An opaque handle to a c10d process group; `distShutdown` drops it. */
export interface GroupHandle {
  readonly __brand?: 'ProcessGroup';
}

/** dtype names the addon takes ('float32', 'int64' …: src/torch/dtype.ts `DType`; C++ checks the name). */
type DTypeName = string;
/** 'cpu', 'cuda', 'cuda:1' …; undefined: the CPU (or, for `to`, unchanged). */
type DeviceName = string | undefined;
/** A number or a boolean becomes a libtorch Scalar. */
type Scalar = number | boolean;
type Pair = number | [number, number];
type Reduction = string; // 'mean' | 'sum' | 'none', checked in C++
type MemoryFormat = string; // 'contiguous' | 'channels_last'

export interface AdamNativeOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}
export interface SgdNativeOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}
/** One parameter's optimiser state as the addon reads and writes it (tensor copies). */
export type NativeParamState = { step?: number; expAvg?: Handle; expAvgSq?: Handle; maxExpAvgSq?: Handle; momentumBuffer?: Handle } | null;
export type DistInitOptions = { rank: number; worldSize: number; timeoutMs: number; backend: 'gloo' | 'nccl'; ifname: string } & (
  { store: 'tcp'; host: string; port: number } | { store: 'file'; path: string }
);
export interface CpuAllocatorStats {
  enabled: boolean;
  liveBytes: number;
  peakLiveBytes: number;
  cachedBytes: number;
  mappedBytes: number;
  hits: number;
  misses: number;
}

/** One declared function: its arity at run time, its signature for the compiler. */
export interface NativeFn<A extends unknown[], R> {
  readonly arity: number;
  readonly signature?: (...args: A) => R;
}
function fn<A extends unknown[], R>(arity: A['length']): NativeFn<A, R> {
  return { arity };
}

export const NATIVE_API = {
  // --- tensor.cc: lifetime, creation, information, runtime settings
  free: fn<[t: Handle], void>(1),
  liveTensors: fn<[], number>(0),
  fromBuffer: fn<[data: ArrayBufferView, shape: number[], dtype: DTypeName, device: DeviceName], Handle>(4),
  full: fn<[shape: number[], value: Scalar, dtype: DTypeName, device: DeviceName], Handle>(4),
  empty: fn<[shape: number[], dtype: DTypeName, device: DeviceName], Handle>(3),
  arange: fn<[start: number, end: number, step: number, dtype: DTypeName, device: DeviceName], Handle>(5),
  linspace: fn<[start: number, end: number, steps: number, dtype: DTypeName, device: DeviceName], Handle>(5),
  rand: fn<[shape: number[], dtype: DTypeName, device: DeviceName], Handle>(3),
  randn: fn<[shape: number[], dtype: DTypeName, device: DeviceName], Handle>(3),
  randint: fn<[low: number, high: number, shape: number[], dtype: DTypeName, device: DeviceName], Handle>(5),
  randperm: fn<[n: number], Handle>(1),
  shape: fn<[t: Handle], number[]>(1),
  dtype: fn<[t: Handle], DType>(1),
  device: fn<[t: Handle], string>(1),
  isContiguous: fn<[t: Handle, format: MemoryFormat], boolean>(2),
  toBuffer: fn<[t: Handle], ArrayBuffer>(1),
  item: fn<[t: Handle], number>(1),
  manualSeed: fn<[seed: number], void>(1),
  setNumThreads: fn<[n: number], void>(1),
  getNumThreads: fn<[], number>(0),
  getBlasThreads: fn<[], number>(0),
  cudaAvailable: fn<[], boolean>(0),
  cudaDeviceCount: fn<[], number>(0),
  configInfo: fn<[], string>(0),

  // --- ops.cc: element-wise, reductions, shapes, indexing
  binary: fn<[op: string, a: Handle | Scalar, b: Handle | Scalar], Handle>(3),
  binaryInplace: fn<[op: string, t: Handle, other: Handle | Scalar], void>(3),
  unary: fn<[op: string, t: Handle], Handle>(2),
  unaryInplace: fn<[op: string, t: Handle], void>(2),
  where: fn<[cond: Handle, a: Handle | Scalar, b: Handle | Scalar], Handle>(3),
  clamp: fn<[t: Handle, min: number | null, max: number | null], Handle>(3),
  softmax: fn<[t: Handle, dim: number], Handle>(2),
  logSoftmax: fn<[t: Handle, dim: number], Handle>(2),
  matmul: fn<[a: Handle, b: Handle], Handle>(2),
  to: fn<[t: Handle, dtype: DTypeName | undefined, device: DeviceName], Handle>(3),
  clone: fn<[t: Handle], Handle>(1),
  copyInplace: fn<[dst: Handle, src: Handle], void>(2),
  fillInplace: fn<[t: Handle, value: Scalar], void>(2),
  reduce: fn<[op: string, t: Handle, dim: number | number[] | null, keepdim: boolean], Handle>(4),
  maxDim: fn<[t: Handle, dim: number, keepdim: boolean], [values: Handle, indices: Handle]>(3),
  minDim: fn<[t: Handle, dim: number, keepdim: boolean], [values: Handle, indices: Handle]>(3),
  maxAll: fn<[t: Handle], Handle>(1),
  minAll: fn<[t: Handle], Handle>(1),
  argmax: fn<[t: Handle, dim: number | null, keepdim: boolean], Handle>(3),
  argmin: fn<[t: Handle, dim: number | null, keepdim: boolean], Handle>(3),
  sort: fn<[t: Handle, dim: number, descending: boolean], [values: Handle, indices: Handle]>(3),
  topk: fn<[t: Handle, k: number, dim: number], [values: Handle, indices: Handle]>(3),
  reshape: fn<[t: Handle, shape: number[]], Handle>(2),
  view: fn<[t: Handle, shape: number[]], Handle>(2),
  permute: fn<[t: Handle, dims: number[]], Handle>(2),
  transpose: fn<[t: Handle, d0: number, d1: number], Handle>(3),
  contiguous: fn<[t: Handle, format: MemoryFormat], Handle>(2),
  unsqueeze: fn<[t: Handle, dim: number], Handle>(2),
  squeeze: fn<[t: Handle, dim: number | null], Handle>(2),
  expand: fn<[t: Handle, shape: number[]], Handle>(2),
  narrow: fn<[t: Handle, dim: number, start: number, length: number], Handle>(4),
  select: fn<[t: Handle, dim: number, index: number], Handle>(3),
  slice: fn<[t: Handle, dim: number, start: number | null, end: number | null, step: number], Handle>(5),
  index: fn<[t: Handle, indices: (Handle | null)[]], Handle>(2),
  indexPut: fn<[t: Handle, indices: (Handle | null)[], value: Handle | Scalar, accumulate: boolean, inplace: boolean], Handle>(5),
  indexSelect: fn<[t: Handle, dim: number, index: Handle], Handle>(3),
  gather: fn<[t: Handle, dim: number, index: Handle], Handle>(3),
  maskedFill: fn<[t: Handle, mask: Handle, value: Scalar], Handle>(3),
  maskedSelect: fn<[t: Handle, mask: Handle], Handle>(2),
  nonzero: fn<[t: Handle], Handle>(1),
  cat: fn<[ts: Handle[], dim: number], Handle>(2),
  stack: fn<[ts: Handle[], dim: number], Handle>(2),
  split: fn<[t: Handle, sizeOrSizes: number | number[], dim: number], Handle[]>(3),
  flip: fn<[t: Handle, dims: number[]], Handle>(2),
  roll: fn<[t: Handle, shifts: number | number[], dims: number | number[]], Handle>(3),
  meshgrid: fn<[ts: Handle[], indexing: string], Handle[]>(2),
  cumsum: fn<[t: Handle, dim: number], Handle>(2),
  allclose: fn<[a: Handle, b: Handle, rtol: number, atol: number], boolean>(4),

  // --- nn.cc: nn.functional
  conv2d: fn<[x: Handle, weight: Handle, bias: Handle | null, stride: Pair, padding: Pair, dilation: Pair, groups: number], Handle>(7),
  batchNorm: fn<
    [
      x: Handle,
      weight: Handle | null,
      bias: Handle | null,
      runningMean: Handle | null,
      runningVar: Handle | null,
      training: boolean,
      momentum: number,
      eps: number,
    ],
    Handle
  >(8),
  leakyRelu: fn<[x: Handle, negativeSlope: number], Handle>(2),
  maxPool2d: fn<[x: Handle, kernel: Pair, stride: Pair | null, padding: Pair, dilation: Pair, ceilMode: boolean], Handle>(6),
  interpolate: fn<[x: Handle, size: Pair | null, scaleFactor: number | null, mode: string, alignCorners: boolean], Handle>(5),
  pad: fn<[x: Handle, pads: number[], mode: string, value: number], Handle>(4),
  mseLoss: fn<[input: Handle, target: Handle, reduction: Reduction], Handle>(3),
  bceWithLogits: fn<[logits: Handle, target: Handle, weight: Handle | null, posWeight: Handle | null, reduction: Reduction], Handle>(5),
  crossEntropy: fn<[logits: Handle, target: Handle, reduction: Reduction], Handle>(3),
  linear: fn<[x: Handle, weight: Handle, bias: Handle | null], Handle>(3),

  // --- autograd.cc
  requiresGrad: fn<[t: Handle], boolean>(1),
  setRequiresGrad: fn<[t: Handle, on: boolean], void>(2),
  backward: fn<[t: Handle, gradient: Handle | null, retainGraph: boolean], void>(3),
  grad: fn<[t: Handle], Handle | null>(1),
  setGrad: fn<[t: Handle, grad: Handle | null], void>(2),
  detach: fn<[t: Handle], Handle>(1),
  isLeaf: fn<[t: Handle], boolean>(1),
  retainGrad: fn<[t: Handle], void>(1),
  isGradEnabled: fn<[], boolean>(0),
  setGradEnabled: fn<[on: boolean], void>(1),

  // --- optim.cc: Adam, SGD; state for checkpoints
  adam: fn<[params: Handle[], o: AdamNativeOptions], OptimHandle>(2),
  sgd: fn<[params: Handle[], o: SgdNativeOptions], OptimHandle>(2),
  optimStep: fn<[opt: OptimHandle], void>(1),
  optimZeroGrad: fn<[opt: OptimHandle], void>(1),
  optimSetLr: fn<[opt: OptimHandle, lr: number], void>(2),
  optimGetLr: fn<[opt: OptimHandle], number>(1),
  optimGetState: fn<[opt: OptimHandle], NativeParamState[]>(1),
  optimSetState: fn<[opt: OptimHandle, state: NativeParamState[]], void>(2),
  optimFree: fn<[opt: OptimHandle], void>(1),

  // --- alloc.cc: the caching CPU allocator
  cpuAllocatorStats: fn<[], CpuAllocatorStats>(0),
  emptyCache: fn<[], void>(0),

  // --- dist.cc: c10d process groups
  distInit: fn<[o: DistInitOptions], GroupHandle>(1),
  distShutdown: fn<[pg: GroupHandle], void>(1),
  distRank: fn<[pg: GroupHandle], number>(1),
  distWorldSize: fn<[pg: GroupHandle], number>(1),
  distBackend: fn<[pg: GroupHandle], string>(1),
  distAllReduce: fn<[pg: GroupHandle, t: Handle, op: string], Handle>(3),
  distBroadcast: fn<[pg: GroupHandle, t: Handle, root: number], Handle>(3),
  distAllGather: fn<[pg: GroupHandle, t: Handle], Handle[]>(2),
  distBarrier: fn<[pg: GroupHandle], void>(1),
  distAllReduceGrads: fn<[pg: GroupHandle, params: Handle[], bucketBytes: number, op: string], number>(4),
  distBroadcastTensors: fn<[pg: GroupHandle, ts: Handle[], root: number, bucketBytes: number], void>(4),
  distStoreSet: fn<[pg: GroupHandle, key: string, value: string], void>(3),
  distStoreGet: fn<[pg: GroupHandle, key: string], string>(2),
  distStoreCheck: fn<[pg: GroupHandle, keys: string[]], boolean>(2),
  distSyncBatchNorm: fn<
    [
      pg: GroupHandle,
      x: Handle,
      weight: Handle | null,
      bias: Handle | null,
      runningMean: Handle,
      runningVar: Handle,
      training: boolean,
      momentum: number,
      eps: number,
    ],
    Handle
  >(9),
  distNcclAvailable: fn<[], boolean>(0),

  // --- sparse.cc: rulebooks and sparse convolutions
  sparseRulebook: fn<
    [
      coords: Handle,
      batch: number,
      inH: number,
      inW: number,
      outH: number,
      outW: number,
      kh: number,
      kw: number,
      stride: number,
      padTop: number,
      padLeft: number,
      submanifold: boolean,
    ],
    [outCoords: Handle, neighbours: Handle]
  >(12),
  sparseRulebookPairs: fn<[neighbours: Handle, n: number], Handle[]>(2),
  sparseConv: fn<[features: Handle, neighbours: Handle, weight: Handle, bias: Handle | null, identity: boolean, form: number], Handle>(6),
  sparseConvOffsets: fn<[features: Handle, pairs: Handle[], m: number, weight: Handle, bias: Handle | null], Handle>(5),
  sparseBnLeaky: fn<
    [
      features: Handle,
      weight: Handle,
      bias: Handle,
      runningMean: Handle,
      runningVar: Handle,
      training: boolean,
      momentum: number,
      eps: number,
      negativeSlope: number,
    ],
    Handle
  >(9),
  sparseMaxPool: fn<[features: Handle, neighbours: Handle], Handle>(2),
  sparseDensify: fn<[features: Handle, coords: Handle, batch: number, h: number, w: number, fill: number], Handle>(6),
  sparseSparsify: fn<[dense: Handle, coords: Handle], Handle>(2),
  sparseActiveSites: fn<[dense: Handle], Handle>(1),
  sparseGemm: fn<[name: string | null], string>(1),
} as const;

/** The addon as the compiler sees it: one typed function per declared name. */
export type Native = { readonly [K in keyof typeof NATIVE_API]: (typeof NATIVE_API)[K] extends NativeFn<infer A, infer R> ? (...args: A) => R : never };

/**
 * What differs between the loaded addon and {@link NATIVE_API}: names missing from either side,
 * and functions whose C++ arity (the `arity` property DQ_EXPORT sets) is not the declared one.
 * Empty when they agree.
 */
export function addonMismatches(addon: Record<string, unknown>, api: Record<string, { arity: number }> = NATIVE_API): string[] {
  const out: string[] = [];
  for (const [name, d] of Object.entries(api)) {
    const f = addon[name];
    if (typeof f !== 'function') out.push(`${name}: declared in src/torch/native-api.ts, not exported by the addon`);
    else if ((f as { arity?: unknown }).arity !== d.arity) {
      out.push(`${name}: takes ${String((f as { arity?: unknown }).arity)} arguments in C++, ${d.arity} in src/torch/native-api.ts`);
    }
  }
  for (const name of Object.keys(addon)) {
    if (!(name in api)) out.push(`${name}: exported by the addon, not declared in src/torch/native-api.ts`);
  }
  return out;
}
