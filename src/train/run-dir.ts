// A run directory: config.json (resolved), metrics.jsonl (one record per batch and per epoch),
// checkpoints/ (last and best), log.txt. Writes are atomic where a partial file would mislead.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export class RunDir {
  constructor(readonly path: string) {}
  get configPath(): string { return join(this.path, 'config.json'); }
  get metricsPath(): string { return join(this.path, 'metrics.jsonl'); }
  get logPath(): string { return join(this.path, 'log.txt'); }
  get checkpointDir(): string { return join(this.path, 'checkpoints'); }
  checkpoint(name: 'last' | 'best' | 'init'): string { return join(this.checkpointDir, `${name}.safetensors`); }

  /** Creates the folder and opens the log (the only file written before inputs are validated). */
  init(): void {
    mkdirSync(this.path, { recursive: true });
  }
  log(line: string): void {
    appendFileSync(this.logPath, `${new Date().toISOString()} ${line}\n`);
  }
  writeConfig(config: unknown): void {
    writeJsonAtomic(this.configPath, config);
  }
  readConfig(): unknown {
    return JSON.parse(readFileSync(this.configPath, 'utf8'));
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
  readMetrics<T = Record<string, unknown>>(): T[] {
    if (!existsSync(this.metricsPath)) return [];
    return readFileSync(this.metricsPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
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

/** Writes JSON to a temporary name, syncs, then renames over the target. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
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
