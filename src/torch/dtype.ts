// Data types and devices, named as in PyTorch.
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
/** 'cpu', 'cuda', 'cuda:1', … (CUDA only when the libtorch build has it). */
export type Device = string;

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** The dtype a typed array holds. */
export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  return 'uint8';
}

/** A typed-array view over raw bytes of the given dtype. */
export function viewBytes(buf: ArrayBuffer, dtype: DType): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    default:
      return new Uint8Array(buf);
  }
}

/** A fresh typed array of n elements for the dtype. */
export function allocFor(dtype: DType, n: number): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    default:
      return new Uint8Array(n);
  }
}

export const isFloating = (d: DType): boolean => d === 'float32' || d === 'float64';
