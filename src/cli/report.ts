// `daqyolo report`: the study report of one or more runs as one self-contained HTML file.
import type { Command } from 'commander';
import { integer, MAX } from './options.js';
import { buildReport, writeFigures } from '../report/report.js';
import { writeAtomic } from '../util/atomic-write.js';

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
    .option('--events <n>', 'event displays with truth and predicted boxes (0 = none)', integer({ max: 1000 }), 3)
    .option('--threads <n>', 'libtorch threads for the event displays (0 = all cores)', integer({ max: MAX.processes }), 0)
    .action(async (dirs: string[], o: { out: string; figures?: string; title?: string; events: number; threads: number }) => {
      const { events, threads } = o;
      const r = await buildReport(dirs, {
        title: o.title, events, threads,
        onProgress: (done, total, what) => { if (process.stderr.isTTY) process.stderr.write(`\rreport: ${done}/${total} ${what.padEnd(30)}`); },
      });
      if (process.stderr.isTTY) process.stderr.write('\n');
      writeAtomic(o.out, r.html);
      for (const n of r.notes) console.error(`note: ${n.section}: ${n.text}`);
      console.log(`wrote ${o.out}: ${r.figures.length} plots for ${r.runs.length} run(s)`);
      if (o.figures) {
        const files = writeFigures(o.figures, r.figures);
        console.log(`wrote ${files.length} files to ${o.figures}`);
      }
    });
}
