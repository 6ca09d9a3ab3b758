// Deep merge of plain JSON-like objects for layered configs (defaults < file < flags):
// objects merge key by key; arrays and scalars replace.
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (base && patch && typeof base === 'object' && typeof patch === 'object' && !Array.isArray(base) && !Array.isArray(patch)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(patch as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return patch;
}

/** Sets a dotted key (`loss.objScale`) in a nested object, creating objects on the way. */
export function setDotted(target: Record<string, unknown>, key: string, value: unknown): void {
  const keys = key.split('.');
  let cur = target;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    cur = (cur[k] = next && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
}
