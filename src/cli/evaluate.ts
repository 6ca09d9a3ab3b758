// `daqyolo evaluate`: detection metrics and the trigger figure of merit of a run on a split.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { evaluateRunOnData, type EvaluateReport } from '../eval/evaluate.js';
import { readBaselineReport } from '../schema/evaluation.js';
import { byRule, DEFAULT_MATCH, MATCH_RULES, ruleOf, type EfficiencyTable, type MatchRule, type TriggerReport } from '../eval/efficiency.js';
import { phasedProgress, progress } from './progress.js';
import { count, device, integer, number, oneOf, text, MAX } from './options.js';
import { MATCH_HELP } from './args.js';
import { SPLIT_NAMES } from '../data/splits.js';
import { scoreCutText } from '../eval/fprate-state.js';

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(d)} %`);

/** "ε ± σ" of a flat and a supernova-spectrum average (older reports have no supernova field). */
export function flatAndSupernova(t: EfficiencyTable): string {
  const a = t.integrated.all;
  const sn = t.supernova;
  const snText =
    sn && sn.efficiency !== null
      ? `${pct(sn.efficiency)} ± ${pct(sn.stdErr)} over the supernova spectrum (⟨E⟩ ${sn.meanEnergyMeV} MeV, α ${sn.alpha})`
      : 'supernova spectrum: –';
  return `${pct(a.efficiency)} ± ${pct(a.stdErr)} flat in 1–70 MeV, ${snText}`;
}

/**
 * Network and baseline at the same FP rates per module, by the same rule — the lines every output
 * that puts the two side by side prints. A rate is compared only where both reach it.
 */
export function sideBySide(network: TriggerReport, baseline: TriggerReport | null, labels = { network: 'network', baseline: 'baseline' }): string[] {
  const rule = ruleOf(network);
  if (!baseline) return [`(no baseline report by the rule "${rule}": run \`daqyolo baseline … --match ${rule}\`)`];
  if (ruleOf(baseline) !== rule) return [`(the baseline report used the rule "${ruleOf(baseline)}", the network "${rule}": not compared)`];
  const lines = [`network and baseline by the same rule — ${network.matchRule}:`];
  for (const p of network.operatingPoints) {
    const q = baseline.operatingPoints.find((x) => x.targetHz === p.targetHz);
    const show = (x: typeof p | undefined) => (!x || x.threshold === null || !x.table ? 'not reachable' : flatAndSupernova(x.table));
    lines.push(`  at ${p.targetHz} Hz per module: ${labels.network} ${show(p)}; ${labels.baseline} ${show(q)}`);
  }
  return lines;
}

/** The printed trigger figures (evaluate and baseline): efficiency by Eν, FP rate, operating points. */
export function summarizeTrigger(t: TriggerReport, score = 'score'): string[] {
  return [
    `matching: ${t.matchRule}`,
    `efficiency at ${score} ≥ ${t.efficiency.threshold}: ${pct(t.efficiency.integrated.all.efficiency)} of all interactions (${t.efficiency.integrated.all.k}/${t.efficiency.integrated.all.n}), ${pct(t.efficiency.integrated.visible.efficiency)} of visible ones`,
    `  averaged: ${flatAndSupernova(t.efficiency)}`,
    'Eν bin (MeV)   efficiency (all)        visible',
    ...t.efficiency.bins.map(
      (b) =>
        `  ${String(b.loMeV).padStart(2)}–${String(b.hiMeV).padEnd(3)}       ${pct(b.all.efficiency).padStart(8)} ± ${pct(b.all.stdErr).padEnd(8)} (${b.all.k}/${b.all.n})   ${pct(b.visible.efficiency)}`,
    ),
    `false positives at that threshold: ${t.falsePositives.count} in ${t.falsePositives.images} images → ${t.falsePositives.hz.toExponential(3)} Hz per module` +
      (t.falsePositives.upperLimitOnly
        ? ` (${100 * t.falsePositives.cl} % upper limit ${t.falsePositives.intervalHz[1].toExponential(3)} Hz)`
        : ` (${100 * t.falsePositives.cl} % interval ${t.falsePositives.intervalHz.map((x) => x.toExponential(2)).join('–')} Hz)`),
    ...t.operatingPoints.map((p) =>
      p.threshold === null
        ? `at ${p.targetHz} Hz per module: not reachable with this many background images`
        : `at ${p.targetHz} Hz per module: efficiency ${p.table ? flatAndSupernova(p.table) : pct(p.efficiency)} (${scoreCutText(p.threshold, 4)}, ${p.fpHz?.toExponential(2)} Hz)`,
    ),
    `(${t.conversion})`,
  ];
}

/** The printed summary of an evaluation. */
export function summarize(r: EvaluateReport): string {
  const t = r.trigger;
  const head = [
    `${r.run} (${r.checkpoint}) on ${r.data} [${r.split}]: ${r.images} images, ${r.backgroundImages} background-only images`,
    `mAP@0.5 ${pct(r.map.map50AllPoint)} (VOC all-point), ${pct(r.map.map50Voc11)} (VOC 11-point); COCO mAP@[.5:.95] ${pct(r.map.mapCoco)}, AP50 ${pct(r.map.ap50)}, AP75 ${pct(r.map.ap75)}; AP small/medium/large ${pct(r.map.apSmall)} / ${pct(r.map.apMedium)} / ${pct(r.map.apLarge)}`,
    `detections per scale (coarse→detailed): ${r.detections.perScale.join(' / ')}`,
  ];
  if (t === null) return [...head, r.triggerNote ?? 'no trigger figures'].join('\n');
  const lines = [...head, ...summarizeTrigger(t)];
  return lines.join('\n');
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate <run>')
    .description('mAP, efficiency vs neutrino energy and false-positive rate per module for a trained run')
    .requiredOption('--data <file>', 'HDF5 dataset')
    .option('--split <name>', 'train, val or eval', oneOf(SPLIT_NAMES), 'eval')
    .option('--checkpoint <name>', 'best, last, or a .safetensors path', text(), 'best')
    .option('--background <n>', 'background-only images streamed from the simulator for the FP rate', integer({ max: MAX.streamImages }), 1000)
    .option('--batch <n>', 'inference batch size', count(MAX.batch), 8)
    .option('--workers <n>', 'data-loading threads', integer({ max: MAX.processes }), 1)
    .option('--limit <n>', 'use at most n images of the split', integer({ max: MAX.datasetImages }), 0)
    .option('--match <rule>', MATCH_HELP, oneOf(MATCH_RULES), DEFAULT_MATCH)
    .option(
      '--baseline [file]',
      'print the baseline beside the network at the same rates and rule (default file: <run>/baseline/<split>.json, from `daqyolo baseline --run`)',
    )
    .option('--sn-mean <MeV>', 'supernova spectrum ⟨E⟩ for the spectrum-averaged efficiency', number({ min: 0.1, max: 100 }), 11)
    .option('--sn-alpha <a>', 'supernova spectrum pinching α', number({ min: 0, max: 20 }), 2.5)
    .option('--device <name>', 'auto, cpu, cuda, …', device(), 'auto')
    .option('--faces <n>', 'APA faces per module for Hz per module (PHYSICS.md: 200)', count(100_000), 200)
    .option('--json', 'print the whole report as JSON')
    .action(async (run: string, o) => {
      if (!['train', 'val', 'eval'].includes(o.split)) throw new UserError(`--split ${o.split}: expected train, val or eval`);
      const match = o.match as MatchRule;
      const baselinePath = o.baseline === undefined ? null : o.baseline === true ? join(run, 'baseline', `${o.split}.json`) : String(o.baseline);
      if (baselinePath && !existsSync(baselinePath))
        throw new UserError(`--baseline: ${baselinePath} does not exist (make it with \`daqyolo baseline <data> --run ${run} --match ${match}\`)`);
      const bar = progress('evaluate', 1);
      const report = await evaluateRunOnData({
        runDir: run,
        data: o.data,
        split: o.split,
        checkpoint: o.checkpoint,
        background: o.background,
        batch: o.batch,
        workers: o.workers,
        limit: o.limit,
        device: o.device,
        trigger: { match, faces: o.faces, spectrum: { meanEnergyMeV: o.snMean, alpha: o.snAlpha } },
        onProgress: phasedProgress(bar),
      });
      bar.stop();
      console.log(o.json ? JSON.stringify(report, null, 2) : summarize(report));
      if (baselinePath && report.trigger && !o.json) {
        const b = readBaselineReport(baselinePath);
        console.log(sideBySide(report.trigger, byRule(b.trigger, b.otherRules, match)).join('\n'));
        console.log(`(baseline: ${baselinePath}, ${b.backgroundImages} background images; network: ${report.backgroundImages})`);
      }
      if (!o.json) console.log(`written: ${run}/eval/${o.split}.json`);
    });
}
