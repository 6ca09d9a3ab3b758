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
