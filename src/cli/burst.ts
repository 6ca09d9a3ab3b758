// `daqyolo burst`: the supernova burst trigger on top of a trigger's evaluation — detection
// probability against distance at one fake burst per month (docs/burst.md).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { burstReport, burstReportOf, flatThresholdTable, ONE_PER_MONTH_HZ, readTriggerReport, type BurstReport } from '../eval/burst.js';
import { BURST_MODELS, burstModel } from '../sim/supernova.js';
import { parseSimConfig } from '../sim/config.js';
import { defaultClusterParams } from '../trigger/cluster.js';
import { burstStreamCheck } from '../eval/burst-stream.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { count, integer, MAX, number, oneOf, probability } from './options.js';

// distanceAt's null: not reached even at 0.1 kpc.
const kpc = (x: number | null) => (x === null ? '< 0.1' : x >= 1000 ? '> 1000' : x.toFixed(1));
const kpcBand = (b: { value: number | null; lo: number | null; hi: number | null }) => `${kpc(b.value)} kpc (band ${kpc(b.lo)} to ${kpc(b.hi)})`;
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);

/** The printed summary of a burst report. */
export function summarizeBurst(r: BurstReport): string[] {
  const u = r.rule;
  return [
    `${r.trigger} (${r.source}), matching: ${r.matchRule}`,
    `model: ${r.model.name}: ${r.model.ccPer10ktAt10Kpc.toFixed(0)} νe-CC per 10 kt at 10 kpc (DUNE's paper: ${r.model.publishedCcPer40ktAt10Kpc} in 40 kt), ⟨Eν⟩ of interactions ${r.model.meanInteractionEnergyMeV.toFixed(1)} MeV`,
    `per-interaction threshold ${u.threshold.toPrecision(4)} (${u.origin}): FP ${u.fpHz.toExponential(2)} Hz per module (${100 * r.fpCl} % interval ${u.fpHzInterval.map((x) => x.toExponential(2)).join('–')}), efficiency over the burst spectrum ${pct(u.efficiency)} ± ${pct(u.efficiencyErr)}`,
    `burst rule: ≥ ${u.minCount} candidates within ${u.windowS} s over ${r.modules === 1 ? 'one 10 kt module' : `${r.modules} modules`}; fake bursts ${(u.fakeRateHz * 3600 * 24 * 31).toExponential(2)} per month at the measured FP rate, ${(u.fakeRateHzUpper * 3600 * 24 * 31).toExponential(2)} at its upper edge (target ${(r.targetFakeRateHz / ONE_PER_MONTH_HZ).toFixed(2)})`,
    `detection probability 50 % at ${kpcBand(r.d50Kpc)}, 90 % at ${kpcBand(r.d90Kpc)}`,
    `galactic core-collapse supernovae caught: ${pct(r.galacticFraction.value)} (band ${pct(r.galacticFraction.lo)} to ${pct(r.galacticFraction.hi)})`,
    ...r.notes.filter((n) => n.startsWith('validation skipped') || n.startsWith('curve: fixed')),
    'distance (kpc)  candidates  P(detect)  band',
    ...r.curve
      .filter((_, i) => i % 6 === 0)
      .map(
        (p) =>
          `  ${p.distanceKpc.toFixed(1).padStart(6)}   ${p.candidates.toPrecision(4).padStart(10)}   ${pct(p.probability).padStart(7)}   ${pct(p.lo)}–${pct(p.hi)}`,
      ),
    ...(r.validation
      ? [
          `validation (${r.validation.method}):`,
          ...r.validation.points.map(
            (p) =>
              `  ${p.distanceKpc.toFixed(1)} kpc: ${p.detected}/${p.trials} = ${pct(p.measured)} ± ${pct(p.stdErr)} vs computed ${pct(p.computed)} (pull ${p.pull.toFixed(2)})`,
          ),
        ]
      : []),
  ];
}

export function registerBurst(program: Command): void {
  program
    .command('burst [run]')
    .description("supernova burst trigger: detection probability vs distance at ≤ 1 fake burst per month, from a run's evaluation (or the baseline's)")
    .option('--baseline', "use the baseline trigger's JSON (<run>/baseline/<split>.json) instead of the network's (<run>/eval/<split>.json)")
    .option('--from <file>', 'an evaluate or baseline JSON to read instead')
    .option('--split <name>', 'the split evaluated', oneOf(['train', 'val', 'eval']), 'eval')
    .option('--model <name>', 'burst model (docs/burst.md)', oneOf(Object.keys(BURST_MODELS)), 'livermore')
    .option('--modules <n>', '10 kt modules whose candidates the burst trigger counts together (a far detector has 4)', count(16), 1)
    .option('--window <s>', 'fix the burst window (seconds) instead of choosing it', number({ min: 1e-3, max: 100 }))
    .option('--per-month <n>', 'allowed fake bursts per month', number({ min: 1e-6, max: 1e6, exclusiveMin: true }), 1)
    .option('--trials <n>', 'Monte Carlo trials per P(detect | n) table', integer({ min: 100, max: 1_000_000 }), 4000)
    .option('--seed <n>', 'seed of the Monte Carlo', integer({ min: 0, max: MAX.seed }), 1)
    .option(
      '--multiplicity <m>',
      'mean trigger candidates per detected interaction (default 1: evaluations do not measure it)',
      number({ min: 1, max: 100 }),
      1,
    )
    .option('--validate <trials>', 'also simulate this many bursts at the 90/50/10 % distances and compare', integer({ min: 10, max: 1_000_000 }))
    .option('--efficiency <e>', "instead of an evaluation: a trigger's published per-interaction efficiency, taken flat over 1–70 MeV", probability())
    .option('--fp-hz <hz>', 'with --efficiency: its FP rate per 10 kt module (taken as exact unless --fp-hz-upper)', number({ min: 0, max: 1e9 }))
    .option('--fp-hz-upper <hz>', "with --efficiency: the upper edge of the FP rate's interval", number({ min: 0, max: 1e9 }))
    .option(
      '--stream-check <bursts>',
      'instead: inject this many bursts per distance into a simulated TP stream and run the baseline stream trigger over it (the end-to-end check of docs/burst.md)',
      integer({ min: 5, max: 100_000 }),
    )
    .option('--faces <n>', "with --stream-check: APA faces simulated (their share of a module's burst)", count(200), 2)
    .option('--time-scale <x>', "with --stream-check: the burst's 10 s and the window compressed by this factor", number({ min: 1e-4, max: 1 }), 0.01)
    .option(
      '--out <file>',
      'report JSON (default <run>/burst/<network|baseline>-<split>.json; with --efficiency, burst-published.json; with --stream-check, burst-stream-check.json)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (run: string | undefined, o) => {
      if (o.streamCheck !== undefined) {
        const config = parseSimConfig({});
        const params = defaultClusterParams(config.electronics.adcBits);
        const windowS = o.window ?? o.timeScale;
        const r = await burstStreamCheck({
          config,
          faces: o.faces,
          model: burstModel(o.model),
          params,
          threshold: params.minSumAdc,
          timeScale: o.timeScale,
          windowS,
          calibrationSeconds: 1,
          calibrationRateHz: 50,
          trials: o.streamCheck,
          seed: o.seed,
        });
        const out = o.out ?? 'burst-stream-check.json';
        writeJsonAtomic(out, {
          ...r,
          computation: { rule: r.computation.rule, method: r.computation.method, d50Kpc: r.computation.d50Kpc, d90Kpc: r.computation.d90Kpc },
        });
        const c = r.calibration;
        console.log(
          [
            `calibration stream (${o.faces} faces, 1 s, 50 interactions per face per second): ${c.detected}/${c.interactions} interactions detected, ${c.candidates} candidates, ${c.fpCount} FP = ${c.fpHzPerModule.toFixed(0)} Hz per module, ${c.multiplicity.toFixed(2)} candidates per detected interaction`,
            `rule: ≥ ${r.computation.rule.minCount} candidates within ${windowS} s on the burst compressed ×${o.timeScale} (its 1 s window: ${(windowS / o.timeScale).toPrecision(3)} s)`,
            ...r.points.map(
              (p) =>
                `  ${p.distanceKpc.toFixed(2)} kpc: ${p.detected}/${p.trials} bursts fired = ${(100 * p.measured).toFixed(1)} ± ${(100 * p.stdErr).toFixed(1)} % vs computed ${(100 * p.computed).toFixed(1)} % (pull ${p.pull.toFixed(2)})`,
            ),
            `written: ${out}`,
          ].join('\n'),
        );
        return;
      }
      const common = {
        model: burstModel(o.model),
        modules: o.modules,
        windowsS: o.window ? [o.window] : undefined,
        targetHz: o.perMonth * ONE_PER_MONTH_HZ,
        trials: o.trials,
        seed: o.seed,
        multiplicity: o.multiplicity,
        validate: o.validate ? { trials: o.validate } : undefined,
      };
      if (o.efficiency !== undefined) {
        if (o.fpHz === undefined) throw new UserError('--efficiency needs --fp-hz (the FP rate per 10 kt module at that efficiency)');
        const upper = o.fpHzUpper ?? o.fpHz;
        if (upper < o.fpHz) throw new UserError(`--fp-hz-upper ${upper} is below --fp-hz ${o.fpHz}`);
        const source = `published: efficiency ${o.efficiency} at ${o.fpHz} Hz per module`;
        const report = burstReportOf(
          [flatThresholdTable(o.efficiency, [o.fpHz, upper], o.fpHz, source)],
          { matchRule: 'as published', fpCl: 0.9 },
          { ...common, kind: 'published', source },
        );
        const out = o.out ?? 'burst-published.json';
        writeJsonAtomic(out, report);
        console.log(o.json ? JSON.stringify(report, null, 2) : [...summarizeBurst(report), `written: ${out}`].join('\n'));
        return;
      }
      const kind = o.baseline ? 'baseline' : 'network';
      if (!o.from && !run) throw new UserError('burst: name a run directory or an evaluation JSON with --from');
      const source = o.from ?? join(run as string, o.baseline ? 'baseline' : 'eval', `${o.split}.json`);
      const trigger = readTriggerReport(source);
      const report = burstReport(trigger, { ...common, kind, source });
      const out = o.out ?? (run ? join(run, 'burst', `${kind}-${o.split}.json`) : source.replace(/\.json$/, '') + '-burst.json');
      mkdirSync(dirname(out), { recursive: true });
      writeJsonAtomic(out, report);
      console.log(o.json ? JSON.stringify(report, null, 2) : [...summarizeBurst(report), `written: ${out}`].join('\n'));
    });
}
