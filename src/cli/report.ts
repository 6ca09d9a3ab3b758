// `daqyolo report`: the study report of one or more runs as one self-contained HTML file.
import type { Command } from 'commander';
import { integer, number, MAX } from './options.js';
import { buildReport, writeFigures } from '../report/report.js';
import { writeAtomic } from '../util/atomic-write.js';
import { progress, type Progress } from './progress.js';
import { watchRuns } from '../report/watch.js';

/** The report of `daqyolo study` (which imports this module when it exists). */
export async function writeStudyReport(runs: string[], out: string): Promise<void> {
  const r = await buildReport(runs);
  writeAtomic(out, r.html);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'self-contained HTML report of one or more runs: every loss term per scale (train vs val), warm-up, obj/IoU statistics, anchors, mAP, efficiency, event displays',
    )
    .argument('<runs...>', 'run directories (several: compared on shared axes)')
    .option('--out <file>', 'output HTML file', 'report.html')
    .option('--figures <dir>', 'also write every plot as SVG and PNG into this folder')
    .option('--title <text>', 'page title')
    .option('--events <n>', 'event displays with truth and predicted boxes (0 = none)', integer({ max: 1000 }), 3)
    .option('--threads <n>', 'libtorch threads for the event displays (0 = all cores)', integer({ max: MAX.processes }), 0)
    .option('--watch', 'rebuild the report as epochs land (and the page reloads itself) until the runs finish or Ctrl-C')
    .option('--interval <s>', 'with --watch: seconds between looks at the runs', number({ min: 0.1, max: 3600 }), 5)
    .action(
      async (dirs: string[], o: { out: string; figures?: string; title?: string; events: number; threads: number; watch?: boolean; interval: number }) => {
        const { events, threads, interval } = o;
        let lastHtml = '';
        const render = async (quiet: boolean) => {
          let bar: Progress | null = null;
          const r = await buildReport(dirs, {
            title: o.title,
            events,
            threads,
            refreshSeconds: o.watch ? Math.max(2, Math.round(interval)) : undefined,
            onProgress: (done, total, what) => {
              if (!quiet) (bar ??= progress('report', total, { unit: 'plots' })).update(done, what);
            },
          }).finally(() => (bar as Progress | null)?.stop());
          writeAtomic(o.out, r.html);
          lastHtml = r.html;
          if (!quiet) for (const n of r.notes) console.error(`note: ${n.section}: ${n.text}`);
          if (o.figures) writeFigures(o.figures, r.figures);
          return r;
        };
        if (!o.watch) {
          const r = await render(false);
          console.log(`wrote ${o.out}: ${r.figures.length} plots for ${r.runs.length} run(s)${o.figures ? `; every plot as SVG and PNG in ${o.figures}` : ''}`);
          return;
        }
        // Ctrl-C (or SIGTERM) ends the watch after the render in progress: the file holds a whole report.
        const stop = new AbortController();
        const onSignal = (sig: NodeJS.Signals) => {
          if (stop.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
          stop.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const w = await watchRuns(dirs, {
            intervalMs: interval * 1000,
            signal: stop.signal,
            render: async (reason) => {
              const r = await render(reason !== 'first');
              const epochs = r.runs.map((x) => `${x.label} ${x.epochs.length}`).join(', ');
              console.log(
                `${new Date().toISOString().slice(11, 19)} wrote ${o.out} (epochs: ${epochs})${reason === 'first' ? `; watching every ${interval} s, Ctrl-C to stop` : ''}`,
              );
            },
          });
          // The last state, without the self-reload: nothing will change it any more.
          writeAtomic(o.out, lastHtml.replace(/<meta http-equiv="refresh"[^>]*>/, ''));
          console.log(
            w.reason === 'done'
              ? `every run has finished: ${o.out} is final (${w.renders} renders)`
              : `stopped watching: ${o.out} holds the last state (${w.renders} renders)`,
          );
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
}
