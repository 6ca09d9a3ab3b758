// Small file-system helpers shared by the format readers and writers.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError } from '../errors.js';
import { IMAGE_EXTENSIONS } from './image-io.js';

export function requireDir(path: string, flag: string): void {
  if (!existsSync(path)) throw new UserError(`${flag} ${path}: no such folder`);
  if (!statSync(path).isDirectory()) throw new UserError(`${flag} ${path}: not a folder`);
}

export function requireFile(path: string, flag: string): void {
  if (!existsSync(path)) throw new UserError(`${flag} ${path}: no such file`);
  if (statSync(path).isDirectory()) throw new UserError(`${flag} ${path}: is a folder, expected a file`);
}

/** Files in a folder (not recursive) with one of the extensions, sorted by name (deterministic order). */
export function listFiles(dir: string, exts: string[]): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && exts.includes(extname(d.name).toLowerCase()))
    .map((d) => d.name)
    .sort();
}

export const stem = (name: string): string => basename(name, extname(name));

/** The image of a given stem in a folder (any image extension), or null. */
export function findImage(dir: string, s: string): string | null {
  for (const ext of IMAGE_EXTENSIONS)
    for (const e of [ext, ext.toUpperCase()]) {
      const p = join(dir, s + e);
      if (existsSync(p)) return p;
    }
  return null;
}

/** --labels: "a,b,c" or the path of a file with one name per line. */
export function labelsText(value: string): string {
  if (existsSync(value) && statSync(value).isFile()) {
    return readFileSync(value, 'utf8')
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean)
      .join(',');
  }
  return value;
}

/** Unique output stems: a second "a" becomes "a_1" (sources with splits may repeat names). */
export function uniqueStems(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let s = stem(n).replace(/[^\w.-]+/g, '_') || 'image';
    for (let k = 1; seen.has(s); k++) s = `${stem(n)}_${k}`;
    seen.add(s);
    return s;
  });
}
