// `daqyolo report`: the study report of one or more runs as one self-contained HTML file.
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { buildReport, writeAtomic, writeFigures } from '../report/report.js';
import { progress, type Progress } from './progress.js';

/** The report of `daqyolo study` (which imports this module when it exists). */
export async function writeStudyReport(runs: string[], out: string): Promise<void> {
  const r = await buildReport(runs);
  writeAtomic(out, r.html);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('self-contained HTML report of one or more runs: every loss term per scale (train vs val), warm-up, obj/IoU statistics, anchors, mAP, efficiency, event displays')
    .argument('<runs...>', 'run directories (several: compared on shared axes)')
    .option('--out <file>', 'output HTML file', 'report.html')
    .option('--figures <dir>', 'also write every plot as SVG and PNG into this folder')
    .option('--title <text>', 'page title')
    .option('--events <n>', 'event displays with truth and predicted boxes (0 = none)', '3')
    .option('--threads <n>', 'libtorch threads for the event displays (0 = all cores)', '0')
    .action(async (dirs: string[], o: { out: string; figures?: string; title?: string; events: string; threads: string }) => {
      const events = Number(o.events);
      const threads = Number(o.threads);
      if (!Number.isInteger(events) || events < 0) throw new UserError(`--events: expected a non-negative integer, got "${o.events}"`);
      if (!Number.isInteger(threads) || threads < 0) throw new UserError(`--threads: expected a non-negative integer, got "${o.threads}"`);
      let bar: Progress | null = null;
      const r = await buildReport(dirs, {
        title: o.title, events, threads,
        onProgress: (done, total, what) => { (bar ??= progress('report', total, { unit: 'plots' })).update(done, what); },
      }).finally(() => (bar as Progress | null)?.stop());
      writeAtomic(o.out, r.html);
      for (const n of r.notes) console.error(`note: ${n.section}: ${n.text}`);
      console.log(`wrote ${o.out}: ${r.figures.length} plots for ${r.runs.length} run(s)`);
      if (o.figures) {
        const files = writeFigures(o.figures, r.figures);
        console.log(`wrote ${files.length} files to ${o.figures}`);
      }
    });
}
