// The study's burst stage: the supernova burst trigger on the network's and the baseline's
// evaluations of a run (<run>/eval/<split>.json, <run>/baseline/<split>.json), written to
// <run>/burst/<kind>-<split>.json where the report finds them (docs/burst.md).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { burstReport, readTriggerReport, type BurstOptions, type BurstReport } from '../eval/burst.js';
import { burstModel } from '../sim/supernova.js';
import { writeJsonAtomic } from '../util/atomic-write.js';

/** Burst reports of a run's network and baseline evaluations of `split` (each skipped when its evaluation is missing). */
export function writeRunBursts(
  runDir: string,
  split = 'eval',
  o: BurstOptions & { model?: string } = {},
): Partial<Record<'network' | 'baseline', BurstReport>> {
  const out: Partial<Record<'network' | 'baseline', BurstReport>> = {};
  for (const kind of ['network', 'baseline'] as const) {
    const source = join(runDir, kind === 'network' ? 'eval' : 'baseline', `${split}.json`);
    if (!existsSync(source)) continue;
    const report = burstReport(readTriggerReport(source), { ...o, kind, source, model: burstModel(o.model ?? 'livermore') });
    mkdirSync(join(runDir, 'burst'), { recursive: true });
    writeJsonAtomic(join(runDir, 'burst', `${kind}-${split}.json`), report);
    out[kind] = report;
  }
  return out;
}

/** The headline of a burst report, for study.json. */
export function burstHeadline(r: BurstReport) {
  return {
    rule: {
      threshold: r.rule.threshold,
      windowS: r.rule.windowS,
      minCount: r.rule.minCount,
      fpHz: r.rule.fpHz,
      efficiency: r.rule.efficiency,
      fakeBurstsPerMonth: r.rule.fakeRateHz * 3600 * 24 * 31,
      fakeBurstsPerMonthAtUpperFp: r.rule.fakeRateHzUpper * 3600 * 24 * 31,
    },
    d50Kpc: r.d50Kpc,
    d90Kpc: r.d90Kpc,
    galacticFraction: r.galacticFraction,
    model: r.model.name,
    modules: r.modules,
  };
}
