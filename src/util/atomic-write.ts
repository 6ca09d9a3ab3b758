// The one way files reach their final names: write a temporary file in the same folder, check
// every write (a short write is retried, an error stops), fsync it, rename it over the target,
// fsync the folder. On any error the temporary file is removed and the target keeps its previous
// content; the error is a one-line UserError such as "no space left on device writing PATH".
// Temporary names are `.NAME.tmp-PID` (files) and `.NAME.partial-PID` (datasets, folders); stale
// ones whose process is gone are removed the next time NAME is written.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { faultPoint } from './fault.js';
import { pidAlive } from './pid-alive.js';

/** What an errno code means, in the words of the one-line messages. */
const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
  EFBIG: 'file too large',
};

/** The cause of a file-system error (`no space left on device`), or its message. */
export function ioCause(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && CAUSES[err.code]) return CAUSES[err.code]!;
  return String(err?.message ?? e).split('\n')[0]!;
}

/** A one-line error for a failed read or write of `path`: "no space left on device writing out.h5". */
export class WriteError extends UserError {
  constructor(
    readonly target: string,
    readonly reason: string,
    verb = 'writing',
  ) {
    super(`${reason} ${verb} ${target}`);
  }
}

/** Wraps any error raised while writing `path` as a WriteError (UserErrors pass through). */
export function writeError(e: unknown, path: string, verb = 'writing'): UserError {
  if (e instanceof UserError) return e;
  return new WriteError(path, ioCause(e), verb);
}

/** The temporary name for `path` owned by this process. */
export function tempName(path: string, kind: 'tmp' | 'partial' = 'tmp'): string {
  return join(dirname(path), `.${basename(path)}.${kind}-${process.pid}`);
}

/**
 * Removes temporary files of `path` left by writers that died (`.NAME.tmp-PID`, `.NAME.partial-PID`,
 * and the older `NAME.tmp-PID` / `NAME.partial-PID`) whose PID is no longer running. Returns their names.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.?${base}\\.(?:tmp|partial)-(\\d+)$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no folder yet: nothing stale
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Writes all of `data` at the file position, retrying short writes (a full disk ends them with ENOSPC). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.byteLength) {
    const n = writeSync(fd, data, done, data.byteLength - done);
    if (n <= 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    done += n;
  }
}

/**
 * mkdir -p with the real cause: Node's recursive mkdir reports ENOENT on a read-only file system;
 * the first missing folder is made alone, which reports EROFS / EACCES.
 */
export function makeDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    let first = path;
    while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
    mkdirSync(first);
    mkdirSync(path, { recursive: true });
  }
}

/** fsync a file by name (after a library such as HDF5 wrote and closed it). */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a folder so that a rename in it survives a power loss. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // some file systems do not open folders; the rename itself has happened
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL on file systems without folder fsync: nothing more can be done
  } finally {
    closeSync(fd);
  }
}

/** Renames a finished temporary file or folder over `path` and syncs the folder. */
export function commitTemp(tmp: string, path: string): void {
  faultPoint(`rename:${basename(path)}`);
  renameSync(tmp, path);
  fsyncDir(dirname(path) || '.');
}

/** Writes and fsyncs a file inside a temporary folder (the folder is what gets renamed). */
export function writeFileSynced(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'w');
  try {
    writeAllSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `path` atomically: temporary name in the same folder, every write checked,
 * fsync, rename, folder fsync. On failure the target is untouched and a WriteError is thrown.
 * `mode` sets the file's permission bits before the rename (e.g. 0o755 for a script).
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, o: { mode?: number } = {}): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  removeStaleTemps(path);
  const tmp = tempName(path);
  try {
    writeFileSynced(tmp, bytes);
    if (o.mode !== undefined) chmodSync(tmp, o.mode);
    commitTemp(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(e, path);
  }
}

/** JSON (two-space indent, final newline) written with writeFileAtomic. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Creates the folder, then writes atomically (a reader never sees half a file). */
export function writeAtomic(path: string, data: string | Buffer): void {
  makeDir(dirname(path));
  writeFileAtomic(path, data);
}
