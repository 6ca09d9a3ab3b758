// h5wasm, initialised once (top-level await) so that the store's functions can be synchronous.
// The Node build of h5wasm reads and writes the real file system by path.
import h5wasm from 'h5wasm/node';

await h5wasm.ready;

export { h5wasm };
export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
export type H5Group = InstanceType<typeof h5wasm.Group>;
