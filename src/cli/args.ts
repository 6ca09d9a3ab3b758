// The JSON config of `--config`. Option values are parsed by the typed layer in options.ts; the two
// old parsers below are kept only so that branches written before it still compile: they have no
// upper bound, and test/faults/options.test.ts fails on any option that still uses them.
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** Help text of --match. */
export const MATCH_HELP =
  "tps (≥ 2 of the interaction's TPs in the candidate; the default), iou (IoU ≥ 0.1 with the truth box) or centre (candidate centre inside the truth box)";

/** @deprecated Use `integer`/`count` of options.ts (bounded). An integer ≥ min. */
export const intArg =
  (name: string, min = 0) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UserError(`${name}: expected an integer ≥ ${min}, got "${v}"`);
    return n;
  };

/** @deprecated Use `number`/`probability` of options.ts (bounded). A finite number ≥ min. */
export const numArg =
  (name: string, min = -Infinity) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UserError(`${name}: expected a number${min > -Infinity ? ` ≥ ${min}` : ''}, got "${v}"`);
    return n;
  };

/** The JSON simulator config of `--config <file>` ({} without one). */
export function readJsonConfig(file: string | undefined): unknown {
  if (!file) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read JSON config (${(e as Error).message})`);
  }
}
