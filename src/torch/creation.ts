// Creating tensors: from JavaScript data, constant fills, ranges and seeded random numbers;
// plus joining (cat, stack, where) and the runtime settings (seed, threads, devices).
import { native } from './native.js';
import { UserError } from '../errors.js';
import { Tensor, wrap, wrapAll, type NestedArray, type TensorOrScalar } from './tensor.js';
import { type AnyTypedArray, type DType, type Device, dtypeOfArray } from './dtype.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0]!;
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new Error(`tensor(): ragged nested array (too deep at depth ${depth})`);
    out.push(typeof data === 'boolean' ? (data ? 1 : 0) : data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new Error(`tensor(): ragged nested array: expected length ${shape[depth]} at depth ${depth}`);
  }
  for (const d of data) flattenInto(d, shape, depth + 1, out);
}

function typedFrom(values: ArrayLike<number>, dtype: DType): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
    case 'int32':
      return Int32Array.from(values);
    default:
      return Uint8Array.from(values, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v));
  }
}

/**
 * A tensor from nested arrays, a scalar, or a typed array (with `shape`). Numbers default to
 * float32 (JavaScript has no integer type to infer int64 from), booleans to bool.
 */
export function tensor(data: NestedArray | AnyTypedArray, o: CreateOptions & { shape?: number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = o.shape ?? [data.length];
    const own = dtypeOfArray(data);
    const dtype = o.dtype ?? own;
    // uint8 bytes can be read as bool directly; other conversions go through libtorch.
    const asDtype = dtype === 'bool' && own === 'uint8' ? 'bool' : own;
    let t = wrap(native.fromBuffer(data, shape, asDtype, undefined));
    if (asDtype !== dtype) {
      const c = t.to(dtype);
      t.dispose();
      t = c;
    }
    if (o.device && o.device !== 'cpu') {
      const c = t.to(o.device);
      t.dispose();
      t = c;
    }
    return finish(t, o);
  }
  const shape = o.shape ?? inferShape(data);
  const flat: number[] = [];
  flattenInto(data, inferShape(data), 0, flat);
  const firstLeaf = flat.length > 0 ? leaf(data) : 0;
  const dtype = o.dtype ?? (typeof firstLeaf === 'boolean' ? 'bool' : 'float32');
  return tensor(typedFrom(flat, dtype === 'bool' ? 'uint8' : dtype), { ...o, dtype, shape });
}

function leaf(d: NestedArray): number | boolean {
  return Array.isArray(d) ? leaf(d[0]!) : d;
}

export const zeros = (shape: number[], o: CreateOptions = {}): Tensor => full(shape, 0, o);
export const ones = (shape: number[], o: CreateOptions = {}): Tensor => full(shape, 1, o);
export function full(shape: number[], value: number | boolean, o: CreateOptions = {}): Tensor {
  return finish(wrap(native.full(shape, value, o.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32'), o.device)), o);
}
export function empty(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.empty(shape, o.dtype ?? 'float32', o.device)), o);
}
export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, { dtype: t.dtype, device: t.device });
export const onesLike = (t: Tensor): Tensor => ones(t.shape, { dtype: t.dtype, device: t.device });
export const fullLike = (t: Tensor, v: number): Tensor => full(t.shape, v, { dtype: t.dtype, device: t.device });

/** arange(end) or arange(start, end, step), float32 unless a dtype is given. */
export function arange(startOrEnd: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, startOrEnd] : [startOrEnd, end];
  return finish(wrap(native.arange(s, e, step, o.dtype ?? 'float32', o.device)), o);
}
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return finish(wrap(native.linspace(start, end, steps, o.dtype ?? 'float32', o.device)), o);
}
/** Uniform [0, 1), from libtorch's default generator (see manualSeed). */
export function rand(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.rand(shape, o.dtype ?? 'float32', o.device)), o);
}
/** Standard normal, from libtorch's default generator (see manualSeed). */
export function randn(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.randn(shape, o.dtype ?? 'float32', o.device)), o);
}
/** Integers uniform in [low, high), int64 unless a dtype is given. */
export function randint(low: number, high: number, shape: number[], o: CreateOptions = {}): Tensor {
  return finish(wrap(native.randint(low, high, shape, o.dtype ?? 'int64', o.device)), o);
}
export function randperm(n: number): Tensor {
  return wrap(native.randperm(n));
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return wrap(
    native.cat(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return wrap(
    native.stack(
      tensors.map((t) => t.handle),
      dim,
    ),
  );
}
/** Elementwise choice: a where cond is true, else b (broadcast; either may be a number). */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return wrap(native.where(cond.handle, a instanceof Tensor ? a.handle : a, b instanceof Tensor ? b.handle : b));
}
export function meshgrid(tensors: Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  return wrapAll(
    native.meshgrid(
      tensors.map((t) => t.handle),
      indexing,
    ),
  );
}

// --- runtime ------------------------------------------------------------------------------------
/** Seeds libtorch's default generator: rand/randn/randint and parameter initialisation. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}
/** Intra-op threads for libtorch (the default is every core). */
/** libtorch's intra-op threads, and OpenBLAS's pool too where the BLAS is OpenBLAS. */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}
/** OpenBLAS's thread count (set with setNumThreads), or −1 where the BLAS is not OpenBLAS. */
export function getBlasThreads(): number {
  return native.getBlasThreads();
}
export function cudaAvailable(): boolean {
  return native.cudaAvailable();
}
export function cudaDeviceCount(): number {
  return native.cudaDeviceCount();
}
/** Number of tensor handles alive (not disposed); for memory tests. */
export function liveTensors(): number {
  return native.liveTensors();
}
/** libtorch's build and parallelism description (BLAS, oneDNN, OpenMP threads). */
export function configInfo(): string {
  return native.configInfo();
}
/**
 * The one check of a device name: 'auto', 'cpu', 'cuda' or 'cuda:N', and a CUDA device only when
 * this libtorch has it. A bad name is a one-line UserError (libtorch's own error is a stack).
 */
export function checkDevice(name: string): string {
  const m = /^(auto|cpu|cuda)(?::(\d+))?$/.exec(name);
  if (!m || (m[2] !== undefined && m[1] !== 'cuda')) throw new UserError(`device '${name}': expected auto, cpu, cuda or cuda:N`);
  if (m[1] === 'cuda') {
    const n = cudaAvailable() ? cudaDeviceCount() : 0;
    if (n === 0) throw new UserError(`device '${name}' asked for, but this libtorch build has no CUDA device (use --device cpu)`);
    if (m[2] !== undefined && Number(m[2]) >= n)
      throw new UserError(`device '${name}' asked for, but this machine has ${n} CUDA device(s): cuda:0 to cuda:${n - 1}`);
  }
  return name;
}

/** 'cuda' when libtorch has a GPU, else 'cpu'; `preferred` overrides ('cpu', 'cuda', 'cuda:1'). */
export function defaultDevice(preferred?: string): string {
  if (preferred && preferred !== 'auto') return checkDevice(preferred);
  return cudaAvailable() ? 'cuda' : 'cpu';
}
