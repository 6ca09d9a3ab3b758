// The Tensor class: a JavaScript owner of one libtorch tensor, with PyTorch's method names.
// Every method that makes a tensor returns a new Tensor registered with the current scope
// (see scope.ts); in-place methods end in an underscore and return `this`, as in PyTorch.
import { native, type Handle } from './native.js';
import { track } from './scope.js';
import { type AnyTypedArray, type DType, type Device, viewBytes } from './dtype.js';

export type Scalar = number | boolean;
export type TensorOrScalar = Tensor | Scalar;
/** One entry of an advanced index: a bool mask, an int64 index tensor, or null (the whole dim). */
export type IndexEntry = Tensor | null;
export type NestedArray = number | boolean | NestedArray[];

const h = (x: TensorOrScalar): Handle | Scalar => (x instanceof Tensor ? x.handle : x);

export class Tensor {
  #handle: Handle | null;

  /** Wraps a native handle; users create tensors with the functions in creation.ts. */
  constructor(handle: Handle) {
    this.#handle = handle;
    track(this);
  }

  /** The native handle; throws if the tensor was disposed. */
  get handle(): Handle {
    if (this.#handle === null) throw new Error('use of a disposed tensor');
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  /** Frees the libtorch reference now (views and autograd graph keep their own references). */
  dispose(): void {
    if (this.#handle !== null) {
      native.free(this.#handle);
      this.#handle = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // --- information ------------------------------------------------------------------------
  get shape(): number[] {
    return native.shape(this.handle);
  }
  get dtype(): DType {
    return native.dtype(this.handle);
  }
  get device(): Device {
    return native.device(this.handle);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  size(dim: number): number {
    const s = this.shape;
    return s[dim < 0 ? s.length + dim : dim]!;
  }
  isContiguous(format: 'contiguous' | 'channels_last' = 'contiguous'): boolean {
    return native.isContiguous(this.handle, format);
  }

  /** The elements in row-major order, as a typed array of the tensor's dtype (a copy). */
  dataSync(): AnyTypedArray {
    return viewBytes(native.toBuffer(this.handle), this.dtype);
  }
  /** The elements as plain numbers (int64 converted, bool as 0/1). */
  toNumbers(): number[] {
    const d = this.dataSync();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }
  /** Nested arrays in the tensor's shape (booleans for bool tensors). */
  tolist(): NestedArray {
    const flat = this.toNumbers();
    const isBool = this.dtype === 'bool';
    const shape = this.shape;
    let i = 0;
    const build = (d: number): NestedArray => {
      if (d === shape.length) {
        const v = flat[i++]!;
        return isBool ? v !== 0 : v;
      }
      return Array.from({ length: shape[d]! }, () => build(d + 1));
    };
    return build(0);
  }
  /** The value of a one-element tensor. */
  item(): number {
    return native.item(this.handle);
  }
  toString(): string {
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }

  // --- conversion -------------------------------------------------------------------------
  to(dtypeOrDevice: DType | Device, device?: Device): Tensor {
    const dtypes = ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool'];
    if (dtypes.includes(dtypeOrDevice)) return wrap(native.to(this.handle, dtypeOrDevice, device));
    return wrap(native.to(this.handle, undefined, dtypeOrDevice));
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  cpu(): Tensor {
    return this.to('cpu');
  }
  clone(): Tensor {
    return wrap(native.clone(this.handle));
  }
  copy_(src: Tensor): this {
    native.copyInplace(this.handle, src.handle);
    return this;
  }
  fill_(v: Scalar): this {
    native.fillInplace(this.handle, v);
    return this;
  }
  zero_(): this {
    return this.fill_(0);
  }

  // --- arithmetic (broadcasting, PyTorch type promotion) -----------------------------------
  add(o: TensorOrScalar): Tensor {
    return wrap(native.binary('add', this.handle, h(o)));
  }
  sub(o: TensorOrScalar): Tensor {
    return wrap(native.binary('sub', this.handle, h(o)));
  }
  mul(o: TensorOrScalar): Tensor {
    return wrap(native.binary('mul', this.handle, h(o)));
  }
  div(o: TensorOrScalar): Tensor {
    return wrap(native.binary('div', this.handle, h(o)));
  }
  pow(o: TensorOrScalar): Tensor {
    return wrap(native.binary('pow', this.handle, h(o)));
  }
  remainder(o: TensorOrScalar): Tensor {
    return wrap(native.binary('remainder', this.handle, h(o)));
  }
  floorDivide(o: TensorOrScalar): Tensor {
    return wrap(native.binary('floorDivide', this.handle, h(o)));
  }
  maximum(o: TensorOrScalar): Tensor {
    return wrap(native.binary('maximum', this.handle, h(o)));
  }
  minimum(o: TensorOrScalar): Tensor {
    return wrap(native.binary('minimum', this.handle, h(o)));
  }
  /** o − this (for scalars on the left, e.g. `1 − mask` is mask.rsub(1)). */
  rsub(o: Scalar): Tensor {
    return this.neg().add(o);
  }
  add_(o: TensorOrScalar): this {
    native.binaryInplace('add', this.handle, h(o));
    return this;
  }
  sub_(o: TensorOrScalar): this {
    native.binaryInplace('sub', this.handle, h(o));
    return this;
  }
  mul_(o: TensorOrScalar): this {
    native.binaryInplace('mul', this.handle, h(o));
    return this;
  }
  div_(o: TensorOrScalar): this {
    native.binaryInplace('div', this.handle, h(o));
    return this;
  }
  pow_(o: TensorOrScalar): this {
    native.binaryInplace('pow', this.handle, h(o));
    return this;
  }
  matmul(o: Tensor): Tensor {
    return wrap(native.matmul(this.handle, o.handle));
  }

  // --- comparisons and logic (bool results) ------------------------------------------------
  eq(o: TensorOrScalar): Tensor {
    return wrap(native.binary('eq', this.handle, h(o)));
  }
  ne(o: TensorOrScalar): Tensor {
    return wrap(native.binary('ne', this.handle, h(o)));
  }
  lt(o: TensorOrScalar): Tensor {
    return wrap(native.binary('lt', this.handle, h(o)));
  }
  le(o: TensorOrScalar): Tensor {
    return wrap(native.binary('le', this.handle, h(o)));
  }
  gt(o: TensorOrScalar): Tensor {
    return wrap(native.binary('gt', this.handle, h(o)));
  }
  ge(o: TensorOrScalar): Tensor {
    return wrap(native.binary('ge', this.handle, h(o)));
  }
  logicalAnd(o: TensorOrScalar): Tensor {
    return wrap(native.binary('logicalAnd', this.handle, h(o)));
  }
  logicalOr(o: TensorOrScalar): Tensor {
    return wrap(native.binary('logicalOr', this.handle, h(o)));
  }
  logicalNot(): Tensor {
    return this.#un('logicalNot');
  }
  isnan(): Tensor {
    return this.#un('isnan');
  }
  isfinite(): Tensor {
    return this.#un('isfinite');
  }
  allclose(o: Tensor, rtol = 1e-5, atol = 1e-8): boolean {
    return native.allclose(this.handle, o.handle, rtol, atol);
  }

  // --- elementwise functions ---------------------------------------------------------------
  #un(op: string): Tensor {
    return wrap(native.unary(op, this.handle));
  }
  #unInplace(op: string): this {
    native.unaryInplace(op, this.handle);
    return this;
  }
  neg(): Tensor {
    return this.#un('neg');
  }
  abs(): Tensor {
    return this.#un('abs');
  }
  exp(): Tensor {
    return this.#un('exp');
  }
  log(): Tensor {
    return this.#un('log');
  }
  log1p(): Tensor {
    return this.#un('log1p');
  }
  expm1(): Tensor {
    return this.#un('expm1');
  }
  sqrt(): Tensor {
    return this.#un('sqrt');
  }
  rsqrt(): Tensor {
    return this.#un('rsqrt');
  }
  square(): Tensor {
    return this.#un('square');
  }
  sigmoid(): Tensor {
    return this.#un('sigmoid');
  }
  tanh(): Tensor {
    return this.#un('tanh');
  }
  relu(): Tensor {
    return this.#un('relu');
  }
  floor(): Tensor {
    return this.#un('floor');
  }
  ceil(): Tensor {
    return this.#un('ceil');
  }
  round(): Tensor {
    return this.#un('round');
  }
  trunc(): Tensor {
    return this.#un('trunc');
  }
  sign(): Tensor {
    return this.#un('sign');
  }
  reciprocal(): Tensor {
    return this.#un('reciprocal');
  }
  sin(): Tensor {
    return this.#un('sin');
  }
  cos(): Tensor {
    return this.#un('cos');
  }
  neg_(): this {
    return this.#unInplace('neg');
  }
  abs_(): this {
    return this.#unInplace('abs');
  }
  exp_(): this {
    return this.#unInplace('exp');
  }
  log_(): this {
    return this.#unInplace('log');
  }
  sqrt_(): this {
    return this.#unInplace('sqrt');
  }
  sigmoid_(): this {
    return this.#unInplace('sigmoid');
  }
  relu_(): this {
    return this.#unInplace('relu');
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return wrap(native.clamp(this.handle, min, max));
  }
  softmax(dim: number): Tensor {
    return wrap(native.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native.logSoftmax(this.handle, dim));
  }

  // --- reductions (dim omitted → all elements) ---------------------------------------------
  #reduce(op: string, dim?: number | number[], keepdim = false): Tensor {
    return wrap(native.reduce(op, this.handle, dim ?? null, keepdim));
  }
  sum(dim?: number | number[], keepdim = false): Tensor {
    return this.#reduce('sum', dim, keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return this.#reduce('mean', dim, keepdim);
  }
  prod(dim?: number, keepdim = false): Tensor {
    return this.#reduce('prod', dim, keepdim);
  }
  std(dim?: number | number[], keepdim = false): Tensor {
    return this.#reduce('std', dim, keepdim);
  }
  var(dim?: number | number[], keepdim = false): Tensor {
    return this.#reduce('var', dim, keepdim);
  }
  any(dim?: number, keepdim = false): Tensor {
    return this.#reduce('any', dim, keepdim);
  }
  all(dim?: number, keepdim = false): Tensor {
    return this.#reduce('all', dim, keepdim);
  }
  /** Maximum over dims (all dims when omitted), values only. */
  amax(dim: number | number[] = [], keepdim = false): Tensor {
    return wrap(native.reduce('amax', this.handle, dim, keepdim));
  }
  amin(dim: number | number[] = [], keepdim = false): Tensor {
    return wrap(native.reduce('amin', this.handle, dim, keepdim));
  }
  /** max() over all elements, or max(dim) → { values, indices } as torch.max. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return wrap(native.maxAll(this.handle));
    const [values, indices] = native.maxDim(this.handle, dim, keepdim);
    return { values: wrap(values), indices: wrap(indices) };
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return wrap(native.minAll(this.handle));
    const [values, indices] = native.minDim(this.handle, dim, keepdim);
    return { values: wrap(values), indices: wrap(indices) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(native.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return wrap(native.argmin(this.handle, dim ?? null, keepdim));
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.sort(this.handle, dim, descending);
    return { values: wrap(values), indices: wrap(indices) };
  }
  topk(k: number, dim = -1): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.topk(this.handle, k, dim);
    return { values: wrap(values), indices: wrap(indices) };
  }
  cumsum(dim: number): Tensor {
    return wrap(native.cumsum(this.handle, dim));
  }

  // --- views and copies -------------------------------------------------------------------
  reshape(...shape: number[]): Tensor {
    return wrap(native.reshape(this.handle, shape));
  }
  view(...shape: number[]): Tensor {
    return wrap(native.view(this.handle, shape));
  }
  flatten(): Tensor {
    return this.reshape(-1);
  }
  permute(...dims: number[]): Tensor {
    return wrap(native.permute(this.handle, dims));
  }
  transpose(d0: number, d1: number): Tensor {
    return wrap(native.transpose(this.handle, d0, d1));
  }
  /** A contiguous copy (or this data if already so); 'channels_last' gives NHWC strides. */
  contiguous(format: 'contiguous' | 'channels_last' = 'contiguous'): Tensor {
    return wrap(native.contiguous(this.handle, format));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(native.unsqueeze(this.handle, dim));
  }
  squeeze(dim?: number): Tensor {
    return wrap(native.squeeze(this.handle, dim ?? null));
  }
  expand(...shape: number[]): Tensor {
    return wrap(native.expand(this.handle, shape));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native.narrow(this.handle, dim, start, length));
  }
  select(dim: number, index: number): Tensor {
    return wrap(native.select(this.handle, dim, index));
  }
  /** Python's t[start:end:step] along dim (null for open ends). */
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return wrap(native.slice(this.handle, dim, start, end, step));
  }
  /** Advanced indexing: t[a, b, …] with bool masks or int64 index tensors (null = whole dim). */
  index(indices: IndexEntry[]): Tensor {
    return wrap(
      native.index(
        this.handle,
        indices.map((i) => i?.handle ?? null),
      ),
    );
  }
  /** Out-of-place t[indices] = values (accumulate adds, as index_put). */
  indexPut(indices: IndexEntry[], values: TensorOrScalar, accumulate = false): Tensor {
    return wrap(
      native.indexPut(
        this.handle,
        indices.map((i) => i?.handle ?? null),
        h(values),
        accumulate,
        false,
      ),
    );
  }
  indexPut_(indices: IndexEntry[], values: TensorOrScalar, accumulate = false): this {
    native.indexPut(
      this.handle,
      indices.map((i) => i?.handle ?? null),
      h(values),
      accumulate,
      true,
    );
    return this;
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(native.gather(this.handle, dim, index.handle));
  }
  maskedFill(mask: Tensor, value: Scalar): Tensor {
    return wrap(native.maskedFill(this.handle, mask.handle, value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return wrap(native.maskedSelect(this.handle, mask.handle));
  }
  nonzero(): Tensor {
    return wrap(native.nonzero(this.handle));
  }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return wrapAll(native.split(this.handle, sizeOrSizes, dim));
  }
  chunk(n: number, dim = 0): Tensor[] {
    return this.split(Math.ceil(this.size(dim) / n), dim);
  }
  flip(...dims: number[]): Tensor {
    return wrap(native.flip(this.handle, dims));
  }
  roll(shifts: number | number[], dims: number | number[]): Tensor {
    return wrap(native.roll(this.handle, shifts, dims));
  }

  // --- autograd ---------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }
  /** Marks this leaf tensor as needing a gradient (in place); returns this. */
  requiresGrad_(flag = true): this {
    native.setRequiresGrad(this.handle, flag);
    return this;
  }
  /** The accumulated gradient, or null; a new Tensor sharing the gradient's storage. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : wrap(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.handle, g?.handle ?? null);
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }
  retainGrad(): void {
    native.retainGrad(this.handle);
  }
  backward(gradient?: Tensor, retainGraph = false): void {
    native.backward(this.handle, gradient?.handle ?? null, retainGraph);
  }
  detach(): Tensor {
    return wrap(native.detach(this.handle));
  }
}

/** Wraps a fresh native handle (registered with the current scope). */
export function wrap(handle: Handle): Tensor {
  return new Tensor(handle);
}
export function wrapAll(handles: Handle[]): Tensor[] {
  return handles.map(wrap);
}
