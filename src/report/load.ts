// Reading a run directory for the report: the resolved config, the epoch (and batch) records of
// metrics.jsonl, done.json and every eval/<split>.json, baseline/ and burst/ JSON, each checked by
// its schema (schema/: one line naming the file and the field). Tolerant of a run still in
// progress (no done.json, a half-written last line) but strict about what is not a run at all.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { parseMetrics, readDoneRecord, readResolvedRun, type BatchRecord, type DoneRecord, type EpochRecord, type ResolvedRun } from '../schema/run.js';
import { evaluateReportSchema, readBaselineReport, type BaselineReport, type EvaluateReport } from '../schema/evaluation.js';
import { burstReportSchema, type BurstReport } from '../schema/burst.js';
import { checkJson, parseJson } from '../util/json-file.js';

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
  /** burst/<network|baseline>-<split>.json: detection probability against supernova distance (`daqyolo burst`). */
  bursts: Record<string, BurstReport>;
}

/** A JSON file of the run's eval/, baseline/ or burst/ folder, parsed (bad JSON: one line naming it). */
const readJson = (path: string): unknown => parseJson(path, readFileSync(path, 'utf8'));

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
      const path = join(evalDir, f);
      const report = readJson(path);
      if (!report || typeof report !== 'object' || !('map' in report)) continue; // not an evaluate JSON
      checkJson(path, report, evaluateReportSchema);
      evals[f.slice(0, -5)] = report as EvaluateReport;
    }
  }
  const baselines: Record<string, BaselineReport> = {};
  const baseDir = join(dir, 'baseline');
  if (existsSync(baseDir)) {
    for (const f of readdirSync(baseDir).sort()) if (f.endsWith('.json')) baselines[f.slice(0, -5)] = readBaselineReport(join(baseDir, f));
  }
  const bursts: Record<string, BurstReport> = {};
  const burstDir = join(dir, 'burst');
  if (existsSync(burstDir)) {
    for (const f of readdirSync(burstDir).sort()) {
      if (!f.endsWith('.json')) continue;
      const path = join(burstDir, f);
      const b = readJson(path);
      if (!b || typeof b !== 'object' || !('curve' in b)) continue; // not a burst JSON
      checkJson(path, b, burstReportSchema);
      bursts[f.slice(0, -5)] = b as BurstReport;
    }
  }
  return { dir, label: dir, run, epochs, batches, done: existsSync(donePath) ? readDoneRecord(donePath) : null, evals, baselines, bursts };
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
