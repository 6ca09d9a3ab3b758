// `report --watch`: the live view for those who do not run TensorBoard. The report is rebuilt and
// rewritten (atomically) whenever a run gains an epoch record, finishes (done.json) or is
// evaluated (eval/*.json); the page reloads itself meanwhile (PageContent.refreshSeconds). The
// runs are polled (statSync every intervalMs) rather than watched with fs.watch, which misses
// appends on network file systems (the cluster's shared disks, where runs live).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readMetricsRecords } from '../schema/run.js';

/** What a rebuild depends on, per run: epoch records, done.json, evaluations. */
export function runSignature(dir: string, cache: Map<string, { bytes: number; epochs: number }> = new Map()): string {
  const metrics = join(dir, 'metrics.jsonl');
  const bytes = existsSync(metrics) ? statSync(metrics).size : 0;
  let c = cache.get(dir);
  // Parsed only when the file changed size: batch records make it grow every step.
  if (!c || c.bytes !== bytes) {
    c = { bytes, epochs: readMetricsRecords<{ type?: string }>(metrics).filter((r) => r.type === 'epoch').length };
    cache.set(dir, c);
  }
  const evalDir = join(dir, 'eval');
  const evals = existsSync(evalDir)
    ? readdirSync(evalDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => `${f}@${statSync(join(evalDir, f)).mtimeMs}`)
    : [];
  return JSON.stringify([c.epochs, existsSync(join(dir, 'done.json')), evals]);
}

export interface WatchOptions {
  /** Seconds between polls (default 5). */
  intervalMs?: number;
  /** Aborting stops the watch after the render in progress (Ctrl-C). */
  signal: AbortSignal;
  /** Builds and writes the report once; `reason` says why (first, or which run changed). */
  render: (reason: string) => Promise<void>;
  /** Stop once every run has done.json and its last state is rendered (default true). */
  untilDone?: boolean;
}

/** Renders, then re-renders as the runs change until aborted (or all done); resolves with the number of renders. */
export async function watchRuns(dirs: readonly string[], o: WatchOptions): Promise<{ renders: number; reason: 'stopped' | 'done' }> {
  const cache = new Map<string, { bytes: number; epochs: number }>();
  const sig = () => dirs.map((d) => runSignature(d, cache));
  let last = sig();
  await o.render('first');
  let renders = 1;
  const allDone = () => dirs.every((d) => existsSync(join(d, 'done.json')));
  while (!o.signal.aborted) {
    if ((o.untilDone ?? true) && allDone()) {
      // The last epochs and done.json can land together between two looks: render what changed
      // since the last render before calling the report final.
      const now = sig();
      if (now.some((s, i) => s !== last[i])) {
        await o.render(`finished: ${dirs.filter((_, i) => now[i] !== last[i]).join(', ')}`);
        renders++;
      }
      return { renders, reason: 'done' };
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, o.intervalMs ?? 5000);
      o.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
    if (o.signal.aborted) break;
    const now = sig();
    const changed = dirs.filter((_, i) => now[i] !== last[i]);
    if (!changed.length) continue;
    last = now;
    await o.render(`changed: ${changed.join(', ')}`);
    renders++;
  }
  return { renders, reason: 'stopped' };
}
