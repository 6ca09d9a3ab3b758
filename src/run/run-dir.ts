// A run directory: config.json (resolved), metrics.jsonl (one record per batch and per epoch),
// checkpoints/ (last and best), log.txt. Writes are atomic where a partial file would mislead.
import { appendFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { makeDir, tempName, writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { pidAlive } from '../util/pid-alive.js';
import { UserError } from '../errors.js';
import { readCheckpointMeta } from '../nn/serialize.js';
import { readMetricsRecords, readResolvedRun, type ResolvedRun } from '../schema/run.js';
import { join } from 'node:path';

export class RunDir {
  constructor(readonly path: string) {}
  get configPath(): string {
    return join(this.path, 'config.json');
  }
  get metricsPath(): string {
    return join(this.path, 'metrics.jsonl');
  }
  get logPath(): string {
    return join(this.path, 'log.txt');
  }
  get checkpointDir(): string {
    return join(this.path, 'checkpoints');
  }
  checkpoint(name: 'last' | 'best' | 'init'): string {
    return join(this.checkpointDir, `${name}.safetensors`);
  }

  /** Creates the folder and opens the log (the only file written before inputs are validated). */
  init(): void {
    makeDir(this.path);
  }
  /** Best effort: a full disk must not turn the error being logged into a different one. */
  log(line: string): void {
    try {
      appendFileSync(this.logPath, `${new Date().toISOString()} ${line}\n`);
    } catch {
      // the error that made us log (often the same full disk) is what gets reported
    }
  }
  /** The PID holding this run's lock, when that process is alive (a training in progress). */
  lockedBy(): number | null {
    const pid = Number(readFileOr(join(this.path, 'lock'), '').trim());
    return pid && pidAlive(pid) ? pid : null;
  }
  writeConfig(config: unknown): void {
    writeJsonAtomic(this.configPath, config);
  }
  /** config.json, checked against its schema (a hand-edited one fails naming the field). */
  readConfig(): ResolvedRun {
    return readResolvedRun(this.configPath);
  }
  appendMetrics(record: unknown): void {
    appendFileSync(this.metricsPath, JSON.stringify(record) + '\n');
  }
  metricsBytes(): number {
    return existsSync(this.metricsPath) ? statSync(this.metricsPath).size : 0;
  }
  /** Drops metrics written after the checkpoint being resumed from. */
  truncateMetrics(bytes: number): void {
    if (existsSync(this.metricsPath) && statSync(this.metricsPath).size > bytes) truncateSync(this.metricsPath, bytes);
  }
  /** metrics.jsonl's records in file order (schema/run.ts's reader). */
  readMetrics<T = Record<string, unknown>>(): T[] {
    return readMetricsRecords<T>(this.metricsPath);
  }
  ensureCheckpointDir(): void {
    mkdirSync(this.checkpointDir, { recursive: true });
  }
}

/**
 * The run directory as a data-parallel rank other than 0 sees it: it reads (resume) but never
 * writes; rank 0 alone writes config, metrics, checkpoints and the log.
 */
export class FollowerRunDir extends RunDir {
  override init(): void {}
  override log(): void {}
  override writeConfig(): void {}
  override appendMetrics(): void {}
  override truncateMetrics(): void {}
  override ensureCheckpointDir(): void {}
}

export type RunState = 'done' | 'resume' | 'fresh' | 'restart';

/**
 * What to do with a run directory: done (done.json: finished), resume (a last checkpoint),
 * restart (config.json but no checkpoint: killed before its first epoch ended, nothing worth
 * keeping, and `train` refuses a used folder), fresh (nothing there yet).
 */
export function runState(dir: string): RunState {
  if (existsSync(join(dir, 'done.json'))) return 'done';
  if (existsSync(join(dir, 'checkpoints', 'last.safetensors'))) return 'resume';
  if (existsSync(join(dir, 'config.json'))) return 'restart';
  return 'fresh';
}

/**
 * The run directory's lock (`DIR/lock`, holding the owner's PID): a second `train` on the same
 * folder is refused with the first one's PID. A lock whose process is gone (killed) is taken over.
 * Created with link(2) from a complete temporary file, so a reader never sees an empty lock.
 */
export function lockRunDir(dir: string): () => void {
  const lock = join(dir, 'lock');
  const mine = `${process.pid}\n`;
  const tmp = tempName(lock);
  writeFileSync(tmp, mine);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = Number(readFileOr(lock, '').trim());
      if (owner !== process.pid && pidAlive(owner)) {
        throw new UserError(`${dir} is in use by process ${owner} (its lock file ${lock}); wait for it to finish or stop it (kill ${owner})`);
      }
      rmSync(lock, { force: true }); // stale: its process is gone
    }
    if (readFileOr(lock, '') !== mine) throw new UserError(`${dir}: could not take its lock ${lock} (another process is starting on it)`);
  } finally {
    rmSync(tmp, { force: true });
  }
  const release = () => {
    if (readFileOr(lock, '') === mine) rmSync(lock, { force: true });
    process.off('exit', release);
  };
  process.on('exit', release); // also when a second Ctrl-C exits at once
  return release;
}

function readFileOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** What `checkBest` found: best holds the epoch metrics.jsonl names, or was repaired from last, or is stale. */
export type BestState = { state: 'ok' | 'none' | 'repaired'; epoch: number | null } | { state: 'stale'; epoch: number; holds: number | null; message: string };

/**
 * `best` must hold the epoch that metrics.jsonl marks best (its meta.epoch is that epoch + 1). A crash
 * between the `last` and `best` renames leaves best one improvement behind; then `last` holds exactly
 * that epoch and is copied over best (they were saved from the same state). Otherwise best is stale.
 */
export function checkBest(dir: RunDir, o: { repair: boolean }): BestState {
  const epochs = dir.readMetrics<{ type: string; epoch: number; best?: boolean }>().filter((r) => r.type === 'epoch');
  const bestRecord = epochs.filter((r) => r.best).at(-1);
  const bestPath = dir.checkpoint('best');
  if (!bestRecord) return { state: 'none', epoch: null };
  const want = bestRecord.epoch + 1;
  const holds = existsSync(bestPath) ? Number(readCheckpointMeta(bestPath).epoch) : null;
  if (holds === want) return { state: 'ok', epoch: bestRecord.epoch };
  const lastPath = dir.checkpoint('last');
  const lastHolds = existsSync(lastPath) ? Number(readCheckpointMeta(lastPath).epoch) : null;
  const lastMid = existsSync(lastPath) ? Number(readCheckpointMeta(lastPath).batch) !== 0 : true;
  if (o.repair && lastHolds === want && !lastMid) {
    try {
      writeFileAtomic(bestPath, readFileSync(lastPath));
    } catch (e) {
      // e.g. a read-only run directory: say what is wrong and how it is repaired
      return {
        state: 'stale',
        epoch: bestRecord.epoch,
        holds,
        message: `${bestPath} is stale and cannot be repaired here (${(e as Error).message}); copy checkpoints/last.safetensors over it`,
      };
    }
    dir.log(
      `best.safetensors held epoch ${holds === null ? '(missing)' : holds - 1}, metrics.jsonl names epoch ${bestRecord.epoch}: repaired from last.safetensors`,
    );
    return { state: 'repaired', epoch: bestRecord.epoch };
  }
  const heldText =
    holds === null
      ? 'is missing'
      : Number.isInteger(holds)
        ? `holds epoch ${holds - 1}`
        : 'has no epoch record in its header (damaged? its metadata daqyolo.meta is missing or unreadable)';
  return {
    state: 'stale',
    epoch: bestRecord.epoch,
    holds,
    message:
      `${bestPath} ${heldText} but metrics.jsonl names epoch ${bestRecord.epoch} best` +
      (lastHolds === want ? ` (checkpoints/last.safetensors holds it: \`daqyolo train --resume ${dir.path}\` repairs best)` : ''),
  };
}
