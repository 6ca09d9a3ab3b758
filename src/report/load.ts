// Reading a run directory for the report: the resolved config, the epoch (and batch) records of
// metrics.jsonl, done.json and every eval/<split>.json. Tolerant of a run still in progress
// (no done.json, a half-written last line) but strict about what is not a run at all.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { parseMetrics, readDoneRecord, readResolvedRun, type BatchRecord, type DoneRecord, type EpochRecord, type ResolvedRun } from '../schema/run.js';
import type { BaselineReport, EvaluateReport } from '../schema/evaluation.js';

export { parseMetrics };

export interface RunData {
  dir: string;
  /** Short unique name shown in legends (set by `labelRuns`). */
  label: string;
  run: ResolvedRun;
  epochs: EpochRecord[];
  batches: BatchRecord[];
  done: DoneRecord | null;
  /** eval/<split>.json reports keyed by split, preferring 'eval' for headline figures. */
  evals: Record<string, EvaluateReport>;
  /** baseline/<split>.json: the clustering trigger on the same data (`daqyolo baseline --run`). */
  baselines: Record<string, BaselineReport>;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function loadRun(dir: string): RunData {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new UserError(`${dir}: not a run directory (no config.json)`);
  const run = readResolvedRun(cfgPath);
  const metricsPath = join(dir, 'metrics.jsonl');
  const { epochs, batches } = existsSync(metricsPath) ? parseMetrics(readFileSync(metricsPath, 'utf8'), metricsPath) : { epochs: [], batches: [] };
  const donePath = join(dir, 'done.json');
  const evals: Record<string, EvaluateReport> = {};
  const evalDir = join(dir, 'eval');
  if (existsSync(evalDir)) {
    for (const f of readdirSync(evalDir).sort()) {
      // eval/ also holds fprate-seed<N>.json (the `fprate` state): not an evaluation report.
      if (!f.endsWith('.json') || f.startsWith('fprate-')) continue;
      const report = readJson<EvaluateReport>(join(evalDir, f));
      if (!report || typeof report !== 'object' || !('map' in report)) continue;
      evals[f.slice(0, -5)] = report;
    }
  }
  const baselines: Record<string, BaselineReport> = {};
  const baseDir = join(dir, 'baseline');
  if (existsSync(baseDir)) {
    for (const f of readdirSync(baseDir).sort()) if (f.endsWith('.json')) baselines[f.slice(0, -5)] = readJson<BaselineReport>(join(baseDir, f));
  }
  return { dir, label: dir, run, epochs, batches, done: existsSync(donePath) ? readDoneRecord(donePath) : null, evals, baselines };
}

/** The baseline of the same split as the primary evaluation, when one was written. */
export function primaryBaseline(r: RunData): BaselineReport | null {
  const ev = primaryEval(r);
  return (ev ? r.baselines[ev.split] : null) ?? r.baselines.eval ?? null;
}

/** The evaluation used for headline figures: 'eval' split, else 'val', else any. */
export function primaryEval(r: RunData): EvaluateReport | null {
  return r.evals.eval ?? r.evals.val ?? Object.values(r.evals)[0] ?? null;
}

/**
 * Legend names: the shortest trailing path parts that tell the runs apart
 * (runs/low-stats and runs/high-stats → low-stats, high-stats).
 */
export function labelRuns(dirs: string[]): string[] {
  const parts = dirs.map((d) => d.replace(/\/+$/, '').split('/').filter(Boolean));
  for (let k = 1; ; k++) {
    const labels = parts.map((p) => p.slice(-k).join('/') || '.');
    const unique = new Set(labels).size === labels.length;
    if (unique || parts.every((p) => p.length <= k)) {
      // Identical paths given twice still need distinct legend entries.
      return labels.map((l, i) => (labels.indexOf(l) === i ? l : `${l} (${i + 1})`));
    }
  }
}
