// `daqyolo evaluate`: detection metrics and the trigger figure of merit of a run on a split.
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { evaluateRunOnData, type EvaluateReport } from '../eval/evaluate.js';
import type { TriggerReport } from '../eval/efficiency.js';
import { progress } from './progress.js';
import { count, device, integer, oneOf, text, MAX } from './options.js';

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(d)} %`);

/** The printed trigger figures (evaluate and baseline): efficiency by Eν, FP rate, operating points. */
export function summarizeTrigger(t: TriggerReport, score = 'score'): string[] {
  return [
    `matching: ${t.matchRule}`,
    `efficiency at ${score} ≥ ${t.efficiency.threshold}: ${pct(t.efficiency.integrated.all.efficiency)} of all interactions (${t.efficiency.integrated.all.k}/${t.efficiency.integrated.all.n}), ${pct(t.efficiency.integrated.visible.efficiency)} of visible ones`,
    'Eν bin (MeV)   efficiency (all)        visible',
    ...t.efficiency.bins.map((b) => `  ${String(b.loMeV).padStart(2)}–${String(b.hiMeV).padEnd(3)}       ${pct(b.all.efficiency).padStart(8)} ± ${pct(b.all.stdErr).padEnd(8)} (${b.all.k}/${b.all.n})   ${pct(b.visible.efficiency)}`),
    `false positives at that threshold: ${t.falsePositives.count} in ${t.falsePositives.images} images → ${t.falsePositives.hz.toExponential(3)} Hz per module` +
      (t.falsePositives.upperLimitOnly ? ` (${100 * t.falsePositives.cl} % upper limit ${t.falsePositives.intervalHz[1].toExponential(3)} Hz)`
        : ` (${100 * t.falsePositives.cl} % interval ${t.falsePositives.intervalHz.map((x) => x.toExponential(2)).join('–')} Hz)`),
    ...t.operatingPoints.map((p) => p.threshold === null ? `at ${p.targetHz} Hz per module: not reachable with this many background images`
      : `at ${p.targetHz} Hz per module: efficiency ${pct(p.efficiency)} (threshold ${p.threshold.toFixed(4)}, ${p.fpHz?.toExponential(2)} Hz)`),
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
  const lines = [
    ...head,
    ...summarizeTrigger(t),
  ];
  return lines.join('\n');
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate <run>')
    .description('mAP, efficiency vs neutrino energy and false-positive rate per module for a trained run')
    .requiredOption('--data <file>', 'HDF5 dataset')
    .option('--split <name>', 'train, val or eval', oneOf(['train', 'val', 'eval']), 'eval')
    .option('--checkpoint <name>', 'best, last, or a .safetensors path', text(), 'best')
    .option('--background <n>', 'background-only images streamed from the simulator for the FP rate', integer({ max: MAX.streamImages }), 1000)
    .option('--batch <n>', 'inference batch size', count(MAX.batch), 8)
    .option('--workers <n>', 'data-loading threads', integer({ max: MAX.processes }), 1)
    .option('--limit <n>', 'use at most n images of the split', integer({ max: MAX.datasetImages }), 0)
    .option('--match <rule>', 'iou (IoU ≥ 0.1) or centre (detection centre inside the truth box)', oneOf(['iou', 'centre']), 'iou')
    .option('--device <name>', 'auto, cpu, cuda, …', device(), 'auto')
    .option('--faces <n>', 'APA faces per module for Hz per module (PHYSICS.md: 200)', count(100_000), 200)
    .option('--json', 'print the whole report as JSON')
    .action(async (run: string, o) => {
      if (!['train', 'val', 'eval'].includes(o.split)) throw new UserError(`--split ${o.split}: expected train, val or eval`);
      if (!['iou', 'centre'].includes(o.match)) throw new UserError(`--match ${o.match}: expected iou or centre`);
      const bar = progress('evaluate', 1);
      let phase = '';
      const report = await evaluateRunOnData({
        runDir: run, data: o.data, split: o.split, checkpoint: o.checkpoint, background: o.background, batch: o.batch,
        workers: o.workers, limit: o.limit, device: o.device, trigger: { match: o.match, faces: o.faces },
        onProgress: (done, total, p) => { if (p !== phase) { phase = p; bar.phase(p, total); } bar.update(done); },
      });
      bar.stop();
      console.log(o.json ? JSON.stringify(report, null, 2) : summarize(report));
      if (!o.json) console.log(`written: ${run}/eval/${o.split}.json`);
    });
}
