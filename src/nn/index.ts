// Neural-network modules over the tensor engine.
export { Module, Layer, StateDictError } from './module.js';
export { Conv2d, BatchNorm2d, LeakyReLU, ReLU, Identity, ZeroPad2d, MaxPool2d, Upsample, Sequential, ModuleList } from './layers.js';
export type { Conv2dOptions, BatchNormOptions } from './layers.js';
export { saveCheckpoint, loadCheckpoint, CheckpointError } from './serialize.js';
export type { SaveCheckpointOptions, LoadCheckpointOptions, LoadedCheckpoint } from './serialize.js';
export { SparseLayer, SparseConvBase, SubmanifoldConv2d, SparseConv2d, SparseMaxPool2d, SparseSequential, SparseIdentity, onFeatures } from './sparse.js';
export type { SparseConvOptions } from './sparse.js';
