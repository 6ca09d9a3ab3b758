// Building the study report from run directories: load, derive, chart, render, assemble.
import { existsSync } from 'node:fs';
import { writeAtomic } from '../util/atomic-write.js';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { labelRuns, loadRun, type RunData } from './load.js';
import { headline, onsetsOf } from './derive.js';
import { batchObjectiveFigure, objectiveFigure, termFigures, warmupFigure } from './charts-loss.js';
import { distributionFigure, evolutionFigure, statsFigure } from './charts-stats.js';
import { anchorFigure, type BoxSample } from './charts-anchors.js';
import { efficiencyFigure, prFigure, rocFigure } from './charts-eval.js';
import { burstFigure } from './charts-burst.js';
import { openDataset } from '../data/store.js';
import { pageHtml, type PageContent, type RenderedFigure } from './html.js';
import { configTable, headlineTable, onsetTable, triggerComparisonTable } from './tables.js';
import type { Figure } from './figure.js';
import { svgToPng, toSvg } from './vega.js';

export interface ReportOptions {
  title?: string;
  /** Event displays to draw (default 3; 0 = none, which also avoids loading the models). */
  events?: number;
  /** libtorch threads for the event displays' inference (0 = default). */
  threads?: number;
  onProgress?: (done: number, total: number, what: string) => void;
  /** The page reloads itself every so many seconds (`report --watch`). */
  refreshSeconds?: number;
}

export interface BuiltReport {
  html: string;
  figures: RenderedFigure[];
  runs: RunData[];
  notes: PageContent['notes'];
}

/** Loads the runs and gives them unique legend labels. */
export function loadRuns(dirs: readonly string[]): RunData[] {
  if (!dirs.length) throw new UserError('report: give at least one run directory');
  const runs = dirs.map(loadRun);
  labelRuns(dirs as string[]).forEach((l, i) => {
    runs[i]!.label = l;
  });
  return runs;
}

export async function buildReport(dirs: readonly string[], o: ReportOptions = {}): Promise<BuiltReport> {
  const runs = loadRuns(dirs);
  const notes: PageContent['notes'] = [];
  for (const r of runs) if (!r.epochs.length) notes.push({ section: 'Loss terms per scale', text: `${r.label}: no finished epoch in metrics.jsonl yet` });
  const onsets = runs.flatMap((r) => onsetsOf(r));
  const figures: Figure[] = [];
  if (runs.some((r) => r.epochs.length)) {
    figures.push(...termFigures(runs, onsets), objectiveFigure(runs, onsets), warmupFigure(runs));
    const b = batchObjectiveFigure(runs);
    if (b) figures.push(b);
    figures.push(statsFigure(runs), distributionFigure(runs), evolutionFigure(runs));
  }
  figures.push(anchorFigure(runs, boxSamples(runs, notes)));
  const evalFigures = [prFigure(runs), efficiencyFigure(runs), rocFigure(runs), burstFigure(runs)].filter((f): f is Figure => f !== null);
  figures.push(...evalFigures);
  const unevaluated = runs.filter((r) => !Object.keys(r.evals).length).map((r) => r.label);
  if (unevaluated.length) {
    notes.push({
      section: 'Detection',
      text: `not evaluated: ${unevaluated.join(', ')} — run \`daqyolo evaluate RUN --data DATA\` for mAP, efficiency and FP rate`,
    });
  }
  if ((o.events ?? 3) > 0) {
    // Loaded only here: event displays run the model (libtorch); the rest of the report needs no native code.
    const { eventFigures } = await import('./event-display.js');
    const ev = eventFigures(runs, { count: o.events ?? 3, threads: o.threads });
    figures.push(...ev.figures);
    notes.push(...ev.notes.map((text) => ({ section: 'Event displays', text })));
  }
  const rendered: RenderedFigure[] = [];
  for (const f of figures) {
    o.onProgress?.(rendered.length, figures.length, f.id);
    rendered.push({ ...f, svg: f.svg ?? (await toSvg(f.spec!)) });
  }
  o.onProgress?.(rendered.length, figures.length, 'done');
  const headlines = runs.map((r) => headline(r, onsets));
  const html = pageHtml({
    title: o.title ?? (runs.length === 1 ? `daqyolo study report: ${runs[0]!.label}` : `daqyolo study report: ${runs.map((r) => r.label).join(' vs ')}`),
    subtitle: `${runs.length} run(s): ${runs.map((r) => r.dir).join(', ')} — generated ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    tables: [headlineTable(headlines), ...[triggerComparisonTable(runs)].filter((t) => t !== null), configTable(runs), onsetTable(onsets)],
    figures: rendered,
    notes,
    refreshSeconds: o.refreshSeconds,
  });
  return { html, figures: rendered, runs, notes };
}

/** Training-split box sizes of every dataset the runs used (those that can be opened). */
function boxSamples(runs: readonly RunData[], notes: PageContent['notes']): BoxSample[] {
  const out: BoxSample[] = [];
  for (const path of new Set(runs.map((r) => r.run.config.data))) {
    if (!existsSync(path)) {
      notes.push({ section: 'Anchors', text: `dataset ${path} not found: anchors drawn without its boxes` });
      continue;
    }
    const reader = openDataset(path);
    try {
      out.push({ path, width: reader.width, height: reader.height, ...reader.boxSizes('train') });
    } finally {
      reader.close();
    }
  }
  return out;
}

/** Every figure as <id>.svg and <id>.png (for slides). */
export function writeFigures(dir: string, figures: readonly RenderedFigure[]): string[] {
  const written: string[] = [];
  for (const f of figures) {
    writeAtomic(join(dir, `${f.id}.svg`), f.svg);
    writeAtomic(join(dir, `${f.id}.png`), svgToPng(f.svg));
    written.push(`${f.id}.svg`, `${f.id}.png`);
  }
  return written;
}
