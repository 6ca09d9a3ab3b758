// Deterministic memory: every tensor created inside tidy(fn) is freed when fn returns, except
// the tensors fn returns (which move to the enclosing scope). Tensors created outside any scope
// (parameters, optimiser state) live until dispose() — the garbage collector is only a backstop.

/** What a scope needs from a tensor. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
}

const stack: Set<Disposable>[] = [];

/** Registers a new tensor with the innermost scope, if any. */
export function track(t: Disposable): void {
  stack[stack.length - 1]?.add(t);
}

/** Removes a tensor from every open scope so that it outlives them (parameters, cached values). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, into: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 6) return;
  if ('dispose' in (value as object) && 'isDisposed' in (value as object)) {
    into.add(value);
    // A composite (a sparse tensor: features, sites, rulebooks) keeps the tensors it is made of.
    const parts = (value as { disposables?: () => unknown[] }).disposables;
    if (typeof parts === 'function') for (const p of parts.call(value)) into.add(p);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, depth + 1);
}

/**
 * Runs fn and frees every tensor it created except those in its result (found in arrays, maps
 * and plain objects). fn must be synchronous: libtorch work here is synchronous anyway.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
    if (result && typeof (result as { then?: unknown }).then === 'function') {
      throw new Error('tidy(fn): fn returned a promise; scopes only hold synchronous work');
    }
  } catch (e) {
    stack.pop();
    for (const t of scope) if (!t.isDisposed) t.dispose();
    throw e;
  }
  stack.pop();
  const kept = new Set<unknown>();
  collect(result, kept);
  const parent = stack[stack.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else if (!t.isDisposed) t.dispose();
  }
  return result;
}

/** Frees every tensor found in value (arrays, maps, plain objects). */
export function dispose(value: unknown): void {
  const found = new Set<unknown>();
  collect(value, found);
  for (const t of found) (t as Disposable).dispose();
}
