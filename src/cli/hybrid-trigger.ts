// `daqyolo hybrid-trigger RUN`: the network with a ΣADC requirement on its candidates (study/hybrid-trigger.ts):
// per FP rate, the score cut each requirement allows from the run's fprate histogram, the
// efficiency on the validation and evaluation splits, the requirement chosen on validation.
import { Command } from 'commander';
import { join } from 'node:path';
import { readResolvedRun } from '../schema/run.js';
import { measureHybrid, type HybridReport, type HybridRow, type PairedDelta } from '../study/hybrid-trigger.js';
import { scoreCutText } from '../eval/fprate-state.js';
import { count, device, integer, ratesList, text, MAX } from './options.js';
import { phasedProgress, progress } from './progress.js';
import { writeHybridFigure } from '../report/charts-hybrid-trigger.js';

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(d)} %`);
const effText = (b: HybridRow['eval']) => (b ? `${pct(b.efficiency)} ± ${pct(b.stdErr)}` : 'not reachable');

/** The printed scan: per rate the network alone, the chosen requirement, the gain, and every 500 ADC of the scan. */
export function summarizeHybrid(r: HybridReport): string {
  const lines = [
    `${r.run} (${r.checkpoint}) on ${r.data}: validation ${r.valInteractions} interactions (${r.valImages} images), evaluation ${r.evalInteractions} (${r.evalImages} images)`,
    `FP rates from ${r.fprate.file} (${r.fprate.images.toLocaleString('en')} background-only images); rule: ${r.rule}`,
    ...(r.baseline ? [`baseline cuts from ${r.baseline.file} (${r.baseline.images.toLocaleString('en')} background-only images)`] : []),
    `a candidate fires when score ≥ cut and the ΣADC its box holds ≥ requirement (steps of ${r.adcBin} ADC); requirement chosen on validation`,
  ];
  for (const x of r.rates) {
    lines.push('', `${x.targetHz} Hz per module:`);
    const row = (label: string, w: HybridRow) =>
      `  ${label.padEnd(22)} ΣADC ≥ ${String(w.minSumAdc).padStart(5)}  ${w.threshold === null ? 'rate not reachable'.padEnd(16) : scoreCutText(w.threshold).padEnd(16)} ${String(w.fpCount).padStart(5)} FP  val ${effText(w.val).padEnd(16)} eval ${effText(w.eval)}`;
    lines.push(row('network alone', x.network));
    if (x.chosen) lines.push(row('hybrid (chosen)', x.chosen));
    if (x.gain)
      lines.push(
        `  gain on evaluation: ${x.gain.delta >= 0 ? '+' : ''}${pct(x.gain.delta)} ± ${pct(x.gain.stdErr)} (paired: ${x.gain.gained} interactions gained, ${x.gain.lost} lost)`,
      );
    if (x.supernova?.efficiency != null) lines.push(`  chosen over the supernova spectrum: ${pct(x.supernova.efficiency)}`);
    const b = x.baseline;
    if (b) {
      lines.push(
        `  ${'baseline (clustering)'.padEnd(22)} ${b.threshold === null ? 'rate not reachable' : `ΣADC ≥ ${b.threshold.toFixed(0)}`.padEnd(30)} ${String(b.fpCount).padStart(5)} FP  ${' '.repeat(21)} eval ${effText(b.eval)}`,
      );
      const vs = (label: string, d: PairedDelta | null) =>
        d &&
        lines.push(
          `  ${label} − baseline: ${d.delta >= 0 ? '+' : ''}${pct(d.delta)} ± ${pct(d.stdErr)} (paired: ${d.gained} found only by it, ${d.lost} only by the baseline)`,
        );
      vs('hybrid', b.hybridMinusBaseline);
      vs('network alone', b.networkMinusBaseline);
      const tuned = b.tuned;
      if (tuned) {
        // The control: is the gain only a bigger region? Every clustering at its own cut, the best on validation.
        lines.push(`  clusterings tuned on validation (channel gap, Δt ticks; each at its own ΣADC cut for ${x.targetHz} Hz):`);
        tuned.settings.forEach((st, i) =>
          lines.push(
            `    ${i === tuned.chosen ? '→' : ' '} gap ${String(st.channelTolerance).padStart(3)}, Δt ${String(st.maxDtTicks).padStart(4)}  ${st.threshold === null ? 'rate not reachable'.padEnd(13) : `ΣADC ≥ ${st.threshold.toFixed(0).padStart(6)}`} ${String(st.fpCount).padStart(5)} FP  val ${effText(st.val).padEnd(16)} eval ${effText(st.eval)}`,
          ),
        );
        const vsTuned = (label: string, d: PairedDelta | null) =>
          d &&
          lines.push(
            `  ${label} − tuned clustering: ${d.delta >= 0 ? '+' : ''}${pct(d.delta)} ± ${pct(d.stdErr)} (paired: ${d.gained} found only by it, ${d.lost} only by the clustering)`,
          );
        vsTuned('hybrid', tuned.hybridMinusTuned);
        vsTuned('network alone', tuned.networkMinusTuned);
      }
    }
    // Where each trigger finds what, by Eν (evaluation split).
    const tables = [
      ['network', x.networkByEnergy],
      ['hybrid', x.byEnergy],
      ['baseline', b?.byEnergy ?? null],
      ['tuned', b?.tuned && b.tuned.chosen > 0 ? b.tuned.byEnergy : null],
    ] as const;
    const shown = tables.filter(([, t]) => t);
    if (shown.length) {
      lines.push(`  by Eν (evaluation): ${'MeV'.padEnd(7)} ${shown.map(([name]) => name.padStart(9)).join(' ')}   interactions`);
      shown[0]![1]!.forEach((bin, i) =>
        lines.push(
          `  ${' '.repeat(20)}${`${bin.loMeV}–${bin.hiMeV}`.padEnd(7)} ${shown.map(([, t]) => pct(t![i]!.all.efficiency, 0).padStart(9)).join(' ')}   ${bin.all.n}`,
        ),
      );
    }
    lines.push('  scan:');
    for (const w of x.rows) if (w.minSumAdc % 500 === 0) lines.push(row('', w));
  }
  return lines.join('\n');
}

export function registerHybrid(program: Command): void {
  program
    .command('hybrid-trigger <run>')
    .description(
      'the network with a ΣADC requirement on its candidates: efficiency at FP rates per module, requirement chosen on validation (needs the run’s fprate histogram)',
    )
    .option('--data <file>', 'the simulated dataset (default: the one the run was trained on)')
    .option('--checkpoint <name>', 'best, last, or a .safetensors path (the one fprate measured)', text(), 'best')
    .option('--rates <list>', 'FP rates in Hz per 10 kt module, comma-separated', ratesList, [1.8, 10])
    .option('--seed <n>', "the fprate stream's seed (default: the dataset's)", integer({ max: MAX.seed }))
    .option(
      '--baseline <files>',
      "the clustering trigger's FP state (fprate --baseline --state FILE; a budget plan's baseline/baseline-fprate.json): the baseline at the same rates, paired against both; with --cluster-variants, also the clustering tuned on validation over them (several states of one stream, comma-separated: all their variants)",
    )
    .option('--batch <n>', 'inference batch size', count(MAX.batch), 8)
    .option('--workers <n>', 'data-loading threads', integer({ max: MAX.processes }), 1)
    .option('--device <name>', 'auto, cpu, cuda, …', device(), 'auto')
    .option('--json', 'print the scan as JSON')
    .action(async (run: string, o) => {
      const bar = progress('hybrid-trigger', 1);
      const report = await measureHybrid({
        runDir: run,
        data: o.data ?? readResolvedRun(join(run, 'config.json')).config.data,
        rates: o.rates,
        checkpoint: o.checkpoint,
        seed: o.seed,
        baselineStates: o.baseline?.split(','),
        batch: o.batch,
        workers: o.workers,
        device: o.device,
        onProgress: phasedProgress(bar),
      });
      bar.stop();
      const figures = await writeHybridFigure(report, join(run, 'eval'));
      console.log(o.json ? JSON.stringify(report, null, 2) : summarizeHybrid(report));
      if (!o.json) console.log(`written: ${join(run, 'eval', 'hybrid-trigger.json')}, ${figures.join(', ')}`);
    });
}
