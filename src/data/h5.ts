// h5wasm, initialised once (top-level await) so that the store's functions can be synchronous.
// The Node build of h5wasm reads and writes the real file system by path.
import h5wasm from 'h5wasm/node';

const module = await h5wasm.ready;
// HDF5's default error handler prints its whole error stack (38+ "HDF5-DIAG" lines per failed
// call, thousands for a full disk) and lets the call return as if it had worked. h5wasm's
// throwing handler turns every failed HDF5 call into a JS exception holding that stack instead:
// writes that fail are noticed, and the stack is reduced to one line by h5Cause.
(module as unknown as { activate_throwing_error_handler(): number }).activate_throwing_error_handler();

export { h5wasm };
export type H5File = InstanceType<typeof h5wasm.File>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;
export type H5Group = InstanceType<typeof h5wasm.Group>;

/**
 * One line for an HDF5 error stack: the operating system's message when a read or write failed
 * (`No space left on device`), else the innermost HDF5 description (`truncated file: eof = …`).
 */
export function h5Cause(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const os = /error message = '([^']+)'/.exec(text);
  if (os) return os[1]!.charAt(0).toLowerCase() + os[1]!.slice(1);
  const frames = [...text.matchAll(/#\d+: .* in [\w.]+\(\): (.*)$/gm)].map((m) => m[1]!.trim());
  return frames.length ? frames[frames.length - 1]! : text.split('\n')[0]!;
}
