// `daqyolo compare RUN_A RUN_B`: a paired comparison of two trained runs on the same evaluation
// split (issue 27's accuracy parity): mAP@0.5 and the trigger efficiency at FP rates per module,
// A, B and Δ = B − A with paired-bootstrap errors (study/compare.ts). Given comma-separated runs
// per side (`compare A1,A2 B1,B2,B3`: one recipe trained with several seeds each), it compares the
// groups' means, the runs' spread in the error beside the evaluation sample's.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import {
  compareGroups,
  compareRuns,
  DEFAULT_COMPARE_RATES_HZ,
  type CompareReport,
  type FigureComparison,
  type GroupCompareReport,
  type GroupFigure,
  type RateSide,
} from '../study/compare.js';
import { DEFAULT_MATCH, MATCH_RULES, type MatchRule } from '../eval/efficiency.js';
import { scoreCutText } from '../eval/fprate-state.js';
import { SPLIT_NAMES, type SplitName } from '../data/splits.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { MATCH_HELP } from './args.js';
import { count, device, integer, number, oneOf, ratesList, text, MAX } from './options.js';
import { phasedProgress, progress } from './progress.js';

const pct = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(d)} %`);
const signedPct = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(d)} %`);

/** One table row: A, B, Δ with its bootstrap error and intervals. */
function row(name: string, f: FigureComparison, extra = ''): string {
  const b = f.bootstrap;
  const err = b?.stdErr != null ? `± ${pct(b.stdErr)}` : '';
  const i68 = b?.interval68 ? `[${signedPct(b.interval68[0])}, ${signedPct(b.interval68[1])}]` : '–';
  const i95 = b?.interval95 ? `[${signedPct(b.interval95[0])}, ${signedPct(b.interval95[1])}]` : '–';
  const within = f.withinTwoSigma === null ? '–' : f.withinTwoSigma ? 'yes' : 'NO';
  return `  ${name.padEnd(26)} ${pct(f.a).padStart(9)} ${pct(f.b).padStart(9)} ${`${signedPct(f.delta)} ${err}`.padEnd(20)} ${i68.padEnd(22)} ${i95.padEnd(22)} ${within}${extra}`;
}

const sideText = (label: string, s: RateSide) =>
  s.threshold === null
    ? `${label}: ${s.unreachable}`
    : s.nothingPasses !== null
      ? `${label}: nothing passes (${s.nothingPasses}); efficiency 0`
      : `${label}: ${scoreCutText(s.threshold)} (${s.fpCount} FP → ${s.fpHz.toPrecision(3)} Hz, 90 % CL ${s.fpHzInterval.map((x) => x.toPrecision(3)).join('–')} Hz${
          s.flatOverFpInterval ? `: flat ε ${s.flatOverFpInterval.map((x) => pct(x)).join(' to ')} over it` : ''
        })`;

/** The printed comparison. */
export function summarizeCompare(r: CompareReport, byEnergy = false): string {
  const src = (s: CompareReport['a']) =>
    s.thresholdSource.kind === 'fprate'
      ? `FP histogram ${s.thresholdSource.file} (${s.thresholdSource.images} background images)`
      : s.thresholdSource.kind === 'stored'
        ? `the split's ${s.thresholdSource.images} background windows (imported TPs)`
        : `${s.thresholdSource.images} background images streamed here`;
  const lines = [
    `A: ${r.a.run} (${r.a.variant}, ${r.a.checkpoint}); thresholds from ${src(r.a)}`,
    `B: ${r.b.run} (${r.b.variant}, ${r.b.checkpoint}); thresholds from ${src(r.b)}`,
    `on ${r.data} [${r.split}]: ${r.images} images, ${r.interactions} interactions in ${r.energyRangeMeV[0]}–${r.energyRangeMeV[1]} MeV`,
    `rule: ${r.match} — ${r.matchRule}`,
    `errors: paired bootstrap, ${r.bootstrap.resamples} resamples of the ${r.bootstrap.unit} (seed ${r.bootstrap.seed}, ${r.bootstrap.seconds.toFixed(1)} s)`,
    '',
    `  ${'figure'.padEnd(26)} ${'A'.padStart(9)} ${'B'.padStart(9)} ${'Δ = B − A ± σ'.padEnd(20)} ${'68 % interval of Δ'.padEnd(22)} ${'95 % interval of Δ'.padEnd(22)} |Δ| ≤ 2σ`,
    row('mAP@0.5 (VOC all-point)', r.map),
  ];
  const notes: string[] = [];
  for (const p of r.rates) {
    const unreachable = p.a.threshold === null || p.b.threshold === null;
    if (unreachable) lines.push(`  ${`efficiency at ${p.targetHz} Hz`.padEnd(26)} not compared (a run has no threshold for this rate)`);
    else {
      const analytic = p.flat.analyticDeltaStdErr === null ? '' : `  (analytic paired σ ${pct(p.flat.analyticDeltaStdErr)})`;
      lines.push(row(`ε at ${p.targetHz} Hz, flat`, p.flat, analytic));
      lines.push(row(`ε at ${p.targetHz} Hz, supernova`, p.supernova));
      if (byEnergy) for (const x of p.byEnergy) lines.push(row(`  ${x.loMeV}–${x.hiMeV} MeV (${x.interactions})`, x));
    }
    notes.push(`at ${p.targetHz} Hz per module: ${sideText('A', p.a)}; ${sideText('B', p.b)}`);
  }
  lines.push(
    '',
    ...notes,
    "(each cut's flat ε over its rate's 90 % CL: where the cut would sit were the true FP rate at either end — the background sample's share of the uncertainty, which the bootstrap, holding cuts fixed, leaves out)",
    `supernova average: ${r.spectrum}`,
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** A group figure's row: each run's value, the means and Δ with its errors and 95 % interval. */
function groupRow(name: string, f: GroupFigure, d = 2): string {
  const runs = (xs: (number | null)[]) => xs.map((x) => (x === null ? '–' : (100 * x).toFixed(d))).join(' · ');
  const err =
    f.stdErr === null
      ? ''
      : `± ${pct(f.stdErr)} (training ${pct(f.trainingStdErr)}, sample ${pct(f.sampleBootstrap?.stdErr ?? 0)}; ${
          f.degreesOfFreedom === null ? '∞' : f.degreesOfFreedom.toFixed(1)
        } dof)`;
  const i95 = f.interval95 ? `[${signedPct(f.interval95[0])}, ${signedPct(f.interval95[1])}]` : '–';
  const zero = f.zeroInInterval95 === null ? '–' : f.zeroInInterval95 ? 'yes' : 'NO';
  return [
    `  ${name}`,
    `    A runs ${runs(f.a)} %   mean ${pct(f.meanA)}${f.spreadA === null ? '' : `, spread ${pct(f.spreadA)}`}`,
    `    B runs ${runs(f.b)} %   mean ${pct(f.meanB)}${f.spreadB === null ? '' : `, spread ${pct(f.spreadB)}`}`,
    `    Δ = mean B − mean A ${signedPct(f.delta)} ${err}`,
    `    95 % interval of Δ ${i95}; holds 0: ${zero}`,
  ].join('\n');
}

/** The printed group comparison. */
export function summarizeGroupCompare(r: GroupCompareReport, byEnergy = false): string {
  const names = (rs: GroupCompareReport['a']) => rs.map((s) => `${s.run} (${s.variant}, ${s.checkpoint})`).join(', ');
  const lines = [
    `A (${r.a.length} run${r.a.length > 1 ? 's' : ''}): ${names(r.a)}`,
    `B (${r.b.length} run${r.b.length > 1 ? 's' : ''}): ${names(r.b)}`,
    `on ${r.data} [${r.split}]: ${r.images} images, ${r.interactions} interactions in ${r.energyRangeMeV[0]}–${r.energyRangeMeV[1]} MeV`,
    `rule: ${r.match} — ${r.matchRule}`,
    `errors: σ² = σ_training² + σ_sample²; training: the runs' spread about their group's mean, pooled over both groups (${
      r.a.length + r.b.length - 2
    } dof), × √(1/nA + 1/nB); sample: paired bootstrap of mean B − mean A, ${r.bootstrap.resamples} resamples of the evaluation images, the same for every run (seed ${
      r.bootstrap.seed
    }, ${r.bootstrap.seconds.toFixed(1)} s); 95 % interval with Student's t at the Welch–Satterthwaite dof`,
    '',
    groupRow('mAP@0.5 (VOC all-point)', r.map),
  ];
  const notes: string[] = [];
  for (const p of r.rates) {
    const missing = [...p.a.map((s, k) => ['A', k, s] as const), ...p.b.map((s, k) => ['B', k, s] as const)].filter(([, , s]) => s.threshold === null);
    if (missing.length)
      lines.push(`  efficiency at ${p.targetHz} Hz: not compared (${missing.map(([g, k]) => `${g}${k + 1}`).join(', ')} has no cut for this rate)`);
    else {
      lines.push(groupRow(`ε at ${p.targetHz} Hz, flat`, p.flat), groupRow(`ε at ${p.targetHz} Hz, supernova`, p.supernova));
      if (byEnergy) {
        lines.push(`    by Eν (interactions): mean A · mean B · Δ ± σ (training, sample) · 95 % interval`);
        for (const x of p.byEnergy)
          lines.push(
            `      ${`${x.loMeV}–${x.hiMeV} MeV (${x.interactions})`.padEnd(18)} ${pct(x.meanA).padStart(9)} ${pct(x.meanB).padStart(9)}  ${signedPct(x.delta)} ± ${pct(x.stdErr)} (${pct(x.trainingStdErr)}, ${pct(
              x.sampleBootstrap?.stdErr ?? null,
            )})  ${x.interval95 ? `[${signedPct(x.interval95[0])}, ${signedPct(x.interval95[1])}]` : '–'}`,
          );
      }
    }
    notes.push(
      `at ${p.targetHz} Hz per module: ${[...p.a.map((s, k) => sideText(`A${k + 1}`, s)), ...p.b.map((s, k) => sideText(`B${k + 1}`, s))].join('; ')}`,
    );
  }
  lines.push('', ...notes, `supernova average: ${r.spectrum}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** A side's runs: comma-separated, unless the whole argument is itself a run directory. */
export function runList(arg: string): string[] {
  if (existsSync(arg) || !arg.includes(',')) return [arg];
  return arg.split(',').filter((s) => s.length > 0);
}

export function registerCompare(program: Command): void {
  program
    .command('compare <runA> <runB>')
    .description(
      'paired comparison of two runs on one evaluation split: mAP@0.5 and efficiency at FP rates, A, B and B − A with bootstrap errors; comma-separated runs per side (A1,A2 B1,B2) compare two recipes over their seeds',
    )
    .option('--data <file>', 'evaluation dataset (default: the one both runs were trained on)')
    .option('--split <name>', 'train, val or eval', oneOf(SPLIT_NAMES), 'eval')
    .option('--checkpoint <name>', 'best, last, or a .safetensors path (both runs)', text(), 'best')
    .option('--rates <list>', 'FP rates in Hz per 10 kt module, comma-separated', ratesList, [...DEFAULT_COMPARE_RATES_HZ])
    .option('--bootstrap <n>', 'paired bootstrap resamples of the evaluation images (0: none)', integer({ max: 1_000_000 }), 1000)
    .option('--seed <n>', "the bootstrap's seed", integer({ max: MAX.seed }), 1)
    .option('--match <rule>', MATCH_HELP, oneOf(MATCH_RULES), DEFAULT_MATCH)
    .option(
      '--background <n>',
      'background-only images streamed for the thresholds of a run without an fprate histogram of its checkpoint',
      integer({ max: MAX.streamImages }),
      1000,
    )
    .option('--batch <n>', 'inference batch size', count(MAX.batch), 8)
    .option('--workers <n>', 'data-loading threads', integer({ max: MAX.processes }), 1)
    .option('--limit <n>', 'use at most n images of the split', integer({ max: MAX.datasetImages }), 0)
    .option('--faces <n>', 'APA faces per module for Hz per module (PHYSICS.md: 200)', count(100_000), 200)
    .option('--sn-mean <MeV>', 'supernova spectrum ⟨E⟩ for the spectrum-averaged efficiency', number({ min: 0.1, max: 100 }), 11)
    .option('--sn-alpha <a>', 'supernova spectrum pinching α', number({ min: 0, max: 20 }), 2.5)
    .option('--device <name>', 'auto, cpu, cuda, …', device(), 'auto')
    .option('--by-energy', 'also print the efficiency in each Eν bin at each rate (the JSON always holds it)')
    .option('--json', 'print the comparison as JSON')
    .option('--out <file>', 'also write the comparison JSON to this file (atomically)')
    .action(async (runA: string, runB: string, o) => {
      const bar = progress('compare', 1);
      const [groupA, groupB] = [runList(runA), runList(runB)];
      const settings = {
        data: o.data,
        split: o.split as SplitName,
        checkpoint: o.checkpoint,
        ratesHz: o.rates,
        bootstrap: o.bootstrap,
        seed: o.seed,
        background: o.background,
        batch: o.batch,
        workers: o.workers,
        limit: o.limit,
        device: o.device,
        trigger: { match: o.match as MatchRule, faces: o.faces, spectrum: { meanEnergyMeV: o.snMean, alpha: o.snAlpha } },
        onProgress: phasedProgress(bar),
        onNote: (m: string) => console.error(`note: ${m}`),
      };
      const grouped = groupA.length > 1 || groupB.length > 1;
      const report = grouped ? await compareGroups({ ...settings, groupA, groupB }) : await compareRuns({ ...settings, runA: groupA[0]!, runB: groupB[0]! });
      bar.stop();
      if (o.out) writeJsonAtomic(o.out, report);
      console.log(
        o.json
          ? JSON.stringify(report, null, 2)
          : grouped
            ? summarizeGroupCompare(report as GroupCompareReport, Boolean(o.byEnergy))
            : summarizeCompare(report as CompareReport, Boolean(o.byEnergy)),
      );
      if (o.out && !o.json) console.log(`written: ${o.out}`);
    });
}
