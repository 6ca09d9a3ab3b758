// The seed study's questions answered from its runs: each finding is one or two sentences with
// the numbers behind them and a link to the plot that shows it. A difference between two
// configurations is called real only when it exceeds the run-to-run spread measured by repeating
// the reference with other seeds (|Δ| > 2 σ_Δ, σ_Δ = √2 σ of one run); otherwise the finding
// says that the data cannot tell.
import { primaryEval, type RunData } from './load.js';
import { onsetsOf, scaleCount, scaleName, termSeries, type OnsetMark, type TermName } from './derive.js';
import type { Experiment, ExperimentGroup } from '../study/seed-plan.js';
import { EXPERIMENTS, groupsOfKind, runName, type FindingKind, type SingleRunGroup } from '../study/experiments.js';
import { rowByRule } from '../study/endpoint-rows.js';
import type { EndpointResult } from '../study/endpoint.js';
import { matchRuleShort, type MatchRule } from '../eval/efficiency.js';

export type Verdict = 'answered' | 'inconclusive' | 'missing';

export interface Finding {
  id: string;
  /** The slides' question. */
  question: string;
  /** The answer, with its numbers. */
  answer: string;
  verdict: Verdict;
  /** The plot that shows it. */
  link: { href: string; text: string } | null;
}

/** Runs of the plan that have at least one finished epoch, by experiment name. */
export type PlanRuns = Map<string, { experiment: Experiment; run: RunData }>;

/** Where the plot `figureId` of the comparison report of a group lives. */
export type FigureHref = (group: ExperimentGroup, figureId: string) => string;

/** Training conf1 must fall by at least this fraction from the first to the last epoch to count as optimising. */
export const CONF1_OPTIMISES = 0.1;
/** The objectness of responsible predictions counts as decayed to 0 below this mean. */
export const OBJ_DECAYED = 0.05;

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(d)} %`);
/** A relative change with its sign: "+12 %", "−30 %". */
const signed = (x: number | null | undefined, d = 0) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : '−'}${(100 * Math.abs(x)).toFixed(d)} %`;
/** "12 % above" / "5 % below". */
const aboveBelow = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * Math.abs(x)).toFixed(0)} % ${x >= 0 ? 'above' : 'below'}`;
const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toPrecision(d));

/** Validation AP@0.5 after the last epoch (the trainer's per-epoch mAP). */
export const valMap = (r: RunData): number | null => r.epochs.at(-1)?.val.map50 ?? null;

/** Efficiency (all interactions) at the evaluation's headline threshold, with its binomial error. */
export function efficiencyOf(r: RunData): { value: number; err: number } | null {
  const e = primaryEval(r)?.trigger?.efficiency.integrated.all;
  return e && e.efficiency !== null ? { value: e.efficiency, err: e.stdErr } : null;
}

/** Mean objectness of responsible predictions per scale and epoch (validation). */
const avgObj = (r: RunData, s: number): (number | null)[] => r.epochs.map((e) => e.val.stats[s]?.avgObj ?? null);

function sampleStd(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export interface Spread {
  seeds: number;
  valMap: number | null;
  efficiency: number | null;
}

/** Run-to-run spread (sample standard deviation) of the reference over its seeds. */
export function spreadOf(runs: PlanRuns): Spread {
  const refs = [...runs.values()].filter((x) => x.experiment.group === 'reference' || x.experiment.group === 'spread').map((x) => x.run);
  const maps = refs.map(valMap).filter((v): v is number => v !== null);
  const effs = refs
    .map(efficiencyOf)
    .filter((v): v is { value: number; err: number } => v !== null)
    .map((v) => v.value);
  return { seeds: refs.length, valMap: sampleStd(maps), efficiency: sampleStd(effs) };
}

/** "beyond the spread" / "within the spread" / "spread not measured" for a difference of two single runs. */
export function judge(delta: number, sigmaOneRun: number | null): { real: boolean | null; text: string } {
  if (sigmaOneRun === null) return { real: null, text: 'the run-to-run spread was not measured (the reference needs at least 2 seeds)' };
  if (!Number.isFinite(delta)) return { real: null, text: 'one of the two runs has no value' };
  // Identical values over the seeds (e.g. all zero before anything is learned) resolve no spread at all.
  if (sigmaOneRun === 0) return { real: null, text: 'the reference seeds gave identical values, so the spread is unresolved' };
  const sd = Math.SQRT2 * sigmaOneRun;
  const real = Math.abs(delta) > 2 * sd;
  return { real, text: `${real ? 'beyond' : 'within'} the run-to-run spread (|Δ| ${real ? '>' : '≤'} 2 σ_Δ = ${num(2 * sd, 2)})` };
}

const byGroup = (runs: PlanRuns, g: ExperimentGroup) => [...runs.values()].filter((x) => x.experiment.group === g);

/** Relative change from the first to the last value (negative = fell). */
function change(v: readonly number[]): number | null {
  if (v.length < 2 || !(Math.abs(v[0]!) > 0)) return null;
  return v.at(-1)! / v[0]! - 1;
}

function onsetText(o: OnsetMark): string {
  return o.term === 'objective' ? `the objective from epoch ${o.epoch}` : `${o.scale} ${o.term} from epoch ${o.epoch}`;
}

/** What every finding function reads: the runs, the reference, the spread and the 'missing' finding. */
interface FindingContext {
  runs: PlanRuns;
  href: FigureHref;
  ref: RunData;
  nScales: number;
  spread: Spread;
  missing: (id: string, question: string, names: string[]) => Finding;
}

/**
 * The finding functions, by the key each experiment names in study/experiments.ts (`kind`): a
 * kind without a function here does not compile. The spread finding is computed first, apart,
 * since it needs no reference run.
 */
const FINDINGS_OF: Record<Exclude<FindingKind, 'spread'>, (c: FindingContext) => Finding[]> = {
  /** The reference alone: overfitting onsets, conf1 per scale, the decay of objectness. */
  reference: (c) => {
    const { runs, href, ref, nScales } = c;
    const out: Finding[] = [];
    // 1. Overfitting onsets of the reference, and whether the other seeds agree.
    {
      const onsets = onsetsOf(ref);
      const seeds = byGroup(runs, 'spread').map((x) => onsetsOf(x.run));
      const agree = (o: OnsetMark) => seeds.filter((s) => s.some((p) => p.scale === o.scale && p.term === o.term)).length;
      const terms = onsets.filter((o) => o.term !== 'total');
      out.push({
        id: EXPERIMENTS.reference.finding,
        question: EXPERIMENTS.reference.question,
        verdict: 'answered',
        link: { href: href('reference', `terms-${scaleName(0)}`), text: 'loss terms per scale, training vs validation' },
        answer: terms.length
          ? `In the reference run validation turns up while training keeps falling for ${terms.map((o) => `${onsetText(o)} (validation ${signed(o.relRise)}${seeds.length ? `, seen in ${agree(o)}/${seeds.length} other seeds` : ''})`).join('; ')} (warm-up epochs excluded).`
          : `No scale or term of the reference overfits over its ${ref.epochs.length} epochs: no validation minimum is followed by a persistent rise while training falls (warm-up epochs excluded).`,
      });
    }

    // 2. Does conf1 optimise on each scale?
    {
      const parts: string[] = [];
      const fails: string[] = [];
      for (let s = 0; s < nScales; s++) {
        const c1 = termSeries(ref, s, 'conf1');
        const c2 = termSeries(ref, s, 'conf2');
        const dTrain = change(c1.train);
        const dVal = change(c1.val);
        if (dTrain === null) continue;
        if (!(dTrain <= -CONF1_OPTIMISES)) fails.push(scaleName(s));
        parts.push(
          `${scaleName(s)}: training conf1 ${num(c1.train[0])} → ${num(c1.train.at(-1))} (${signed(dTrain)}), validation ${signed(dVal)}, while training conf2 changes ${signed(change(c2.train))}`,
        );
      }
      out.push({
        id: 'conf1',
        question: 'Does conf1 (objectness where a truth box is) optimise on each scale?',
        verdict: parts.length ? 'answered' : 'inconclusive',
        link: { href: href('reference', `terms-${scaleName(0)}`), text: 'conf1 per scale' },
        answer: parts.length
          ? `${fails.length ? `conf1 does not optimise (falls by less than ${pct(CONF1_OPTIMISES, 0)}) on the ${fails.join(' and ')} scale${fails.length > 1 ? 's' : ''}` : `conf1 optimises on every scale (falls by at least ${pct(CONF1_OPTIMISES, 0)})`} over ${ref.epochs.length} epochs of the reference — ${parts.join('; ')}.`
          : 'the reference has fewer than 2 epochs',
      });
    }

    // 3. Does the objectness of responsible predictions decay to 0, and where?
    {
      const decayed: string[] = [];
      for (const { experiment, run } of runs.values()) {
        for (let s = 0; s < scaleCount(run); s++) {
          const v = avgObj(run, s);
          const last = v.at(-1);
          if (last !== null && last !== undefined && last < OBJ_DECAYED) {
            const first = v.findIndex((x) => x !== null && x < OBJ_DECAYED);
            decayed.push(`${experiment.name} ${scaleName(s)} (below ${OBJ_DECAYED} from epoch ${first + 1}${first <= 1 ? ', i.e. almost at once' : ''})`);
          }
        }
      }
      const refObj = Array.from({ length: nScales }, (_, s) => avgObj(ref, s));
      out.push({
        id: 'objectness-decay',
        question: 'Do the objectness scores of responsible predictions "almost instantly decay to 0"?',
        verdict: 'answered',
        link: { href: href('reference', 'val-evolution'), text: 'objectness of responsible predictions per epoch' },
        answer:
          `${decayed.length ? `Yes in ${decayed.length} run × scale case${decayed.length > 1 ? 's' : ''}: ${decayed.join('; ')}.` : `No: in none of the ${runs.size} runs does the mean validation objectness of responsible predictions end below ${OBJ_DECAYED} on any scale.`} ` +
          `Reference (${refObj.map((_, s) => scaleName(s)).join(' / ')}): epoch 1 ${refObj.map((v) => num(v[0], 2)).join(' / ')}, last epoch ${refObj.map((v) => num(v.at(-1), 2)).join(' / ')}.`,
      });
    }
    return out;
  },
  /** Objectness loss and target. */
  objectness: (c) => {
    const { runs, href, spread, missing } = c;
    const out: Finding[] = [];
    // 4. Objectness loss and target.
    {
      const groups = groupsOfKind('objectness') as SingleRunGroup[];
      const { finding: id, question } = EXPERIMENTS[groups[0]!];
      const cands = [runName('reference'), ...groups.map(runName)].map((n) => runs.get(n)).filter((x): x is NonNullable<typeof x> => !!x);
      if (cands.length < 2)
        out.push(
          missing(
            id,
            question,
            groups.map(runName).filter((n) => !runs.has(n)),
          ),
        );
      else {
        const conf1 = (r: RunData) => {
          const v = r.epochs.at(-1)!.val.scales;
          return v.reduce((a, s) => a + s.conf1, 0);
        };
        const lowest = [...cands].sort((a, b) => conf1(a.run) - conf1(b.run))[0]!;
        const withEff = cands.map((c) => ({ c, e: efficiencyOf(c.run) })).filter((x) => x.e !== null) as {
          c: (typeof cands)[number];
          e: { value: number; err: number };
        }[];
        withEff.sort((a, b) => b.e.value - a.e.value);
        const best = withEff[0];
        // The best against the runner-up: is the lead beyond the run-to-run spread?
        const next = withEff[1];
        const j = best && next ? judge(best.e.value - next.e.value, spread.efficiency) : null;
        out.push({
          id,
          question,
          verdict: j?.real ? 'answered' : 'inconclusive',
          link: { href: href('objectness-loss', `terms-${scaleName(0)}`), text: 'conf1 for MSE vs BCE' },
          answer:
            `Validation conf1 summed over scales after the last epoch: ${cands.map((c) => `${c.experiment.name} ${num(conf1(c.run))}`).join(', ')} — lowest: ${lowest.experiment.name} (MSE and BCE conf1 are different functions of the same scores, so only target 1 vs IoU compare directly). ` +
            (best
              ? `Efficiency: ${withEff.map((x) => `${x.c.experiment.name} ${pct(x.e.value)} ± ${pct(x.e.err)}`).join(', ')}; the best is ${best.c.experiment.name}${j && next ? `, ${pct(best.e.value - next.e.value)} above ${next.c.experiment.name}, ${j.text}` : ''}.`
              : 'No run is evaluated yet (efficiency unknown).'),
        });
      }
    }
    return out;
  },
  /** Low vs high statistics. */
  statistics: (c) => {
    const { runs, href, ref, spread, missing } = c;
    const out: Finding[] = [];
    // 5. Low vs high statistics.
    {
      const { finding: id, question } = EXPERIMENTS.statistics;
      const low = runs.get(runName('statistics'))?.run;
      if (!low) out.push(missing(id, question, [runName('statistics')]));
      else {
        const gap = (r: RunData) => {
          const e = r.epochs.at(-1)!;
          return e.val.objective / e.train.objective - 1;
        };
        const on = (r: RunData) => onsetsOf(r).filter((o) => o.term !== 'total');
        const first = (os: OnsetMark[]) => (os.length ? Math.min(...os.map((o) => o.epoch)) : null);
        const [ol, oh] = [on(low), on(ref)];
        const d = (valMap(ref) ?? NaN) - (valMap(low) ?? NaN);
        const j = judge(d, spread.valMap);
        out.push({
          id,
          question,
          verdict: j.real ? 'answered' : 'inconclusive',
          link: { href: href('statistics', `terms-${scaleName(0)}`), text: 'loss terms, low vs high statistics' },
          answer:
            `With ${low.run.trainImages} training images, ${ol.length} scale × term curves overfit${first(ol) ? ` (earliest from epoch ${first(ol)})` : ''} and the validation objective ends ${aboveBelow(gap(low))} training; with ${ref.run.trainImages}, ${oh.length}${first(oh) ? ` (earliest from epoch ${first(oh)})` : ''} and ${aboveBelow(gap(ref))}. ` +
            `Validation AP@0.5 ${pct(valMap(low))} vs ${pct(valMap(ref))}, ${j.text}; efficiency ${pct(efficiencyOf(low)?.value)} vs ${pct(efficiencyOf(ref)?.value)}.`,
        });
      }
    }
    return out;
  },
  /** Augmentation and the xy / wh overfitting. */
  augmentation: (c) => {
    const { runs, href, ref, nScales, spread, missing } = c;
    const out: Finding[] = [];
    // 6. Augmentation and the xy / wh overfitting.
    {
      const { finding: id, question } = EXPERIMENTS.augmentation;
      const aug = runs.get(runName('augmentation'))?.run;
      if (!aug) out.push(missing(id, question, [runName('augmentation')]));
      else {
        const gapOf = (r: RunData, s: number, t: TermName) => {
          const x = termSeries(r, s, t);
          return x.val.length ? x.val.at(-1)! / x.train.at(-1)! - 1 : null;
        };
        const parts: string[] = [];
        for (let s = 0; s < nScales; s++) {
          parts.push(
            `${scaleName(s)}: xy ${signed(gapOf(ref, s, 'xy'))} → ${signed(gapOf(aug, s, 'xy'))}, wh ${signed(gapOf(ref, s, 'wh'))} → ${signed(gapOf(aug, s, 'wh'))}`,
          );
        }
        const count = (r: RunData) => onsetsOf(r).filter((o) => o.term === 'xy' || o.term === 'wh').length;
        out.push({
          id,
          question,
          verdict: 'answered',
          link: { href: href('augmentation', `terms-${scaleName(0)}`), text: 'loss terms with and without augmentation' },
          answer:
            `Validation relative to training after the last epoch (reference → augmented): ${parts.join('; ')}; xy/wh overfitting onsets ${count(ref)} → ${count(aug)}. ` +
            `Validation AP@0.5 ${pct(valMap(ref))} → ${pct(valMap(aug))}, ${judge((valMap(aug) ?? NaN) - (valMap(ref) ?? NaN), spread.valMap).text}.`,
        });
      }
    }
    return out;
  },
  /** Batch size × learning rate. */
  'batch-lr': (c) => {
    const { runs, href, spread, missing } = c;
    const out: Finding[] = [];
    // 7. Batch size × learning rate.
    {
      const { finding: id, question } = EXPERIMENTS['batch-lr'];
      const grid = [runs.get(runName('reference'))!, ...byGroup(runs, 'batch-lr')];
      if (grid.length < 2) out.push(missing(id, question, ['batch4-lr1e-4', '…']));
      else {
        const scored = grid.map((g) => ({ g, m: valMap(g.run) })).filter((x) => x.m !== null) as { g: (typeof grid)[number]; m: number }[];
        scored.sort((a, b) => b.m - a.m);
        const [best, next] = [scored[0]!, scored[1]];
        const j = next ? judge(best.m - next.m, spread.valMap) : { real: null, text: 'only one grid point has a validation AP' };
        const cfg = (r: RunData) => `batch ${r.run.config.batch}, lr ${r.run.config.optimizer.lr}`;
        out.push({
          id,
          question,
          verdict: j.real ? 'answered' : 'inconclusive',
          link: { href: href('batch-lr', 'objective'), text: 'objective over the batch × learning-rate grid' },
          answer:
            `By validation AP@0.5 after the last epoch, the best of ${scored.length} grid points is ${cfg(best.g.run)} (${pct(best.m)}${best.g.experiment.group === 'reference' ? ', the reference itself' : ''})` +
            (next ? `, ahead of ${cfg(next.g.run)} (${pct(next.m)}) — ${j.text}. ` : '. ') +
            `All: ${scored.map((x) => `${cfg(x.g.run)} ${pct(x.m)}`).join('; ')}.`,
        });
      }
    }
    return out;
  },
  /** One run against the reference each (warm-up, owner-grid defect, …). */
  'against-reference': (c) => {
    const { runs, href, ref, spread, missing } = c;
    const out: Finding[] = [];
    // 8. Warm-up, 9. owner-grid defect, …: one comparison each against the reference.
    for (const group of groupsOfKind('against-reference') as SingleRunGroup[]) {
      const { finding: id, question } = EXPERIMENTS[group];
      const name = runName(group);
      const other = runs.get(name)?.run;
      if (!other) {
        out.push(missing(id, question, [name]));
        continue;
      }
      const d = (valMap(other) ?? NaN) - (valMap(ref) ?? NaN);
      const j = judge(d, spread.valMap);
      const obj = (r: RunData) => Array.from({ length: scaleCount(r) }, (_, s) => num(avgObj(r, s).at(-1), 2)).join(' / ');
      out.push({
        id,
        question,
        verdict: j.real ? 'answered' : 'inconclusive',
        link: { href: href(group, `terms-${scaleName(0)}`), text: `loss terms, reference vs ${name}` },
        answer: `${name} vs reference: validation AP@0.5 ${pct(valMap(other))} vs ${pct(valMap(ref))} (Δ ${pct(d)}, ${j.text}); efficiency ${pct(efficiencyOf(other)?.value)} vs ${pct(efficiencyOf(ref)?.value)}; objectness of responsible predictions ${obj(other)} vs ${obj(ref)}.`,
      });
    }
    return out;
  },
};

/** The order of the findings in the report after the spread. */
const FINDING_ORDER = ['reference', 'objectness', 'statistics', 'augmentation', 'batch-lr', 'against-reference'] as const satisfies readonly Exclude<
  FindingKind,
  'spread'
>[];

/** Every finding of the plan. Missing runs give a 'missing' finding that says which run to finish. */
export function seedFindings(runs: PlanRuns, href: FigureHref): Finding[] {
  const ref = runs.get(runName('reference'))?.run;
  const out: Finding[] = [];
  const missing = (id: string, question: string, names: string[]): Finding => ({
    id,
    question,
    verdict: 'missing',
    link: null,
    answer: `not answered yet: run${names.length > 1 ? 's' : ''} ${names.join(', ')} ${names.length > 1 ? 'have' : 'has'} no finished epoch (finish the plan: run the same study command again)`,
  });
  const spread = spreadOf(runs);

  // 0. The spread itself: what every other comparison is judged against.
  out.push(
    spread.seeds >= 2
      ? {
          id: EXPERIMENTS.spread.finding,
          question: EXPERIMENTS.spread.question,
          verdict: 'answered',
          link: { href: href('spread', 'objective'), text: 'objective of the reference over seeds' },
          answer: `Over ${spread.seeds} seeds of the reference, the validation AP@0.5 varies by σ = ${pct(spread.valMap, 2)} and the efficiency by σ = ${pct(spread.efficiency, 2)} (sample standard deviations); differences between two single runs smaller than 2√2 σ are not called real below.`,
        }
      : missing(EXPERIMENTS.spread.finding, EXPERIMENTS.spread.question, [runName('reference'), `${runName('reference')}-seed2`]),
  );

  if (!ref) {
    out.push(missing(EXPERIMENTS.reference.finding, EXPERIMENTS.reference.question, [runName('reference')]));
    return out;
  }
  const ctx: FindingContext = { runs, href, ref, nScales: scaleCount(ref), spread, missing };
  for (const kind of FINDING_ORDER) out.push(...FINDINGS_OF[kind](ctx));
  return out;
}

/**
 * The end point's question — which trigger wins at the thesis's 1.8 Hz per module — answered by the
 * same rule for both (the TP rule; an end point measured before it existed: IoU, and it says so),
 * with the difference judged against the two binomial errors.
 */
export function endpointFinding(endpoint: EndpointResult | null): Finding {
  const question = `Which trigger wins at ${endpoint?.thesis.hzPerModule ?? 1.8} Hz per module, judged by the same rule: the network or the clustering baseline?`;
  const base = { id: 'endpoint', question, link: null };
  if (!endpoint?.baseline) return { ...base, answer: 'The end point (with its baseline) was not measured.', verdict: 'missing' };
  const hz = endpoint.thesis.hzPerModule;
  const n = endpoint.rows.find((r) => r.targetHz === hz);
  const b = endpoint.baseline.rows.find((r) => r.targetHz === hz);
  const rule: MatchRule = n?.byRule ? 'tps' : 'iou';
  const ne = n && n.threshold !== null ? rowByRule(n, rule) : null;
  const be = b && b.threshold !== null ? rowByRule(b, rule) : null;
  const old = rule === 'iou' ? ' (an end point measured before the TP rule: IoU ≥ 0.1 for both; re-run its evaluations for the TP rule)' : '';
  if (!ne || !be || ne.efficiency === null || be.efficiency === null) {
    return {
      ...base,
      answer: `At ${hz} Hz per module by ${matchRuleShort(rule)}${old}: network ${pct(ne?.efficiency ?? null)}, baseline ${pct(be?.efficiency ?? null)} — a rate the background sample cannot show for one of them.`,
      verdict: 'inconclusive',
    };
  }
  const d = ne.efficiency - be.efficiency;
  const sd = Math.hypot(ne.efficiencyErr ?? 0, be.efficiencyErr ?? 0);
  const real = Math.abs(d) > 2 * sd;
  const who = !real ? 'neither, within errors' : d > 0 ? 'the network' : 'the baseline';
  const sn = (x: typeof ne) =>
    x.efficiencySupernova === null || x.efficiencySupernova === undefined ? '' : `, ${pct(x.efficiencySupernova)} over the supernova spectrum`;
  return {
    ...base,
    answer: `By ${matchRuleShort(rule)}${old} at ${hz} Hz per module: network ${pct(ne.efficiency)} ± ${pct(ne.efficiencyErr)}${sn(ne)}; baseline ${pct(be.efficiency)} ± ${pct(be.efficiencyErr)}${sn(be)} (flat 1–70 MeV). Winner: ${who} (Δ ${pct(d)}, 2 σ = ${pct(2 * sd)}). The thesis: ${pct(endpoint.thesis.efficiency)} ± ${pct(endpoint.thesis.error)}.`,
    verdict: 'answered',
  };
}
