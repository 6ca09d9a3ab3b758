// The tensor engine: libtorch under a PyTorch-like TypeScript API.
export { Tensor, type Scalar, type TensorOrScalar, type IndexEntry, type NestedArray } from './tensor.js';
export * from './creation.js';
export { tidy, keep, dispose } from './scope.js';
export { noGrad, isGradEnabled, setGradEnabled } from './autograd.js';
export * as functional from './functional.js';
export { Adam, SGD, type Optimizer, type AdamOptions, type SGDOptions, type ParamState } from './optim.js';
export { saveSafetensors, loadSafetensors, readSafetensorsMetadata, encodeSafetensors, decodeSafetensors, type SafetensorsContent } from './safetensors.js';
export type { DType, Device } from './dtype.js';
export {
  SparseTensor,
  SparseGrid,
  Rulebook,
  sparsify,
  densify,
  sparseConv,
  sparseGemm,
  sparseBnLeaky,
  sparseMaxPool,
  sparseUpsample,
  growSites,
  type RulebookGeometry,
  type SparseConvAlgorithm,
  type SparseConvForm,
} from './sparse.js';
