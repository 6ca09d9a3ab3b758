// Parsers for command-line options: a bad value is a one-line error naming the flag or file.
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { DEFAULT_MATCH, MATCH_RULES, type MatchRule } from '../eval/efficiency.js';

/** The --match option of evaluate, baseline and fprate: checked, with the default rule. */
export function matchRuleArg(value: string | undefined): MatchRule {
  const v = value ?? DEFAULT_MATCH;
  if (!(MATCH_RULES as readonly string[]).includes(v)) throw new UserError(`--match ${v}: expected ${MATCH_RULES.join(', ')}`);
  return v as MatchRule;
}

/** Help text of --match. */
export const MATCH_HELP = "tps (≥ 2 of the interaction's TPs in the candidate; the default), iou (IoU ≥ 0.1 with the truth box) or centre (candidate centre inside the truth box)";

/** An integer ≥ min. */
export const intArg = (name: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${name}: expected an integer ≥ ${min}, got "${v}"`);
  return n;
};

/** A finite number ≥ min (default: any finite number). */
export const numArg = (name: string, min = -Infinity) => (v: string): number => {
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
