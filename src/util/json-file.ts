// Reading a JSON file that a user can edit or hand over (a run's config.json, metrics.jsonl,
// sweep.json, study-plan.json …) through a zod schema: anything wrong is one line naming the
// file, the field and the value found, never a TypeError three calls later.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { UserError } from '../errors.js';

/** `value` at `path` inside `root` (for the message), abbreviated. */
function found(root: unknown, path: readonly PropertyKey[]): string {
  let v: unknown = root;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? String(v);
  return `found ${s.length > 60 ? `${s.slice(0, 57)}...` : s}`;
}

/**
 * Checks `value` (read from `where`: a file, or `file:line`) against `schema` and returns the
 * schema's output. The first problem is a UserError:
 * `run/config.json: field config.model.width: Expected number, received string (found "wide")`.
 */
export function checkJson<S extends z.ZodTypeAny>(where: string, value: unknown, schema: S): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? `field ${issue.path.map(String).join('.')}` : 'top level';
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more)` : '';
  throw new UserError(`${where}: ${field}: ${issue.message} (${found(value, issue.path)})${more}`);
}

/** JSON.parse with the file (or `file:line`) named in the error. */
export function parseJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${where}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads and checks a JSON file: {@link parseJson} then {@link checkJson}. */
export function readJsonFile<S extends z.ZodTypeAny>(path: string, schema: S): z.output<S> {
  return checkJson(path, readJsonText(path), schema);
}

/** The parsed JSON of a file; an unreadable file or bad JSON is one line naming it. */
function readJsonText(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseJson(path, text);
}

/**
 * Reads a JSON file, checks it against `schema` and returns it as written (fields the schema does
 * not name kept, no defaults filled in), typed as the record type `T` the writer used: for files
 * whose schema checks only what the readers rely on.
 */
export function readJsonAsWritten<T>(path: string, schema: z.ZodTypeAny): T {
  const raw = readJsonText(path);
  checkJson(path, raw, schema);
  return raw as T;
}
