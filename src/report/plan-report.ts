// The report of a study plan (`study --plan seed`): the findings first, each linked to the plot
// that shows it; a table of every experiment; the end point beside the thesis; and one
// comparison report per question (the reference against the runs that question varies), so
// that each plot holds the few runs it is about rather than all of them at once.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadRun, primaryEval, type RunData } from './load.js';
import { buildReport } from './report.js';
import { writeAtomic } from '../util/atomic-write.js';
import { pageHtml, type Table } from './html.js';
import { scoreCutText } from '../eval/fprate-state.js';
import { efficiencyOf, endpointFinding, seedFindings, valMap, type Finding, type PlanRuns } from './findings.js';
import type { ExperimentGroup, StudyManifest } from '../study/seed-plan.js';
import { runName } from '../study/experiments.js';
import { ENDPOINT_RULES, rowByRule, type EndpointRow, type RuleEfficiency } from '../study/endpoint-rows.js';
import type { EndpointResult } from '../study/endpoint.js';
import { matchRuleShort } from '../eval/efficiency.js';

const pct = (x: number | null | undefined, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(d)} %`);

/** Runs of the plan with at least one finished epoch. */
export function loadPlanRuns(m: StudyManifest): PlanRuns {
  const runs: PlanRuns = new Map();
  for (const e of m.experiments) {
    const dir = join(m.runsDir, e.name);
    if (!existsSync(join(dir, 'config.json'))) continue;
    const run = loadRun(dir);
    if (!run.epochs.length) continue;
    run.label = e.name;
    runs.set(e.name, { experiment: e, run });
  }
  return runs;
}

/** The runs each comparison report shows: the reference and the runs of that group. */
function comparisonRuns(runs: PlanRuns, group: ExperimentGroup): RunData[] {
  const ref = runs.get(runName('reference'));
  const members = [...runs.values()].filter((x) => x.experiment.group === group && x.experiment.group !== 'reference');
  if (group === 'reference') return ref ? [ref.run] : [];
  return members.length ? [...(ref ? [ref.run] : []), ...members.map((x) => x.run)] : [];
}

export interface PlanReport {
  path: string;
  findings: Finding[];
  comparisons: string[];
}

export async function writePlanReport(
  m: StudyManifest,
  outDir: string,
  endpoint: EndpointResult | null,
  onProgress?: (what: string) => void,
): Promise<PlanReport> {
  const runs = loadPlanRuns(m);
  const groups = [...new Set(m.experiments.map((e) => e.group))];
  const written = new Map<ExperimentGroup, string>();
  for (const g of groups) {
    const rs = comparisonRuns(runs, g);
    if (!rs.length) continue;
    onProgress?.(`comparison ${g}`);
    const built = await buildReport(
      rs.map((r) => r.dir),
      { title: `seed study: ${g} (${rs.map((r) => r.label).join(' vs ')})`, events: 0 },
    );
    const path = join(outDir, 'comparisons', `${g}.html`);
    writeAtomic(path, built.html);
    written.set(g, path);
  }
  const path = join(outDir, 'report.html');
  const href = (g: ExperimentGroup, id: string) => (written.has(g) ? `${relative(outDir, written.get(g)!)}#${id}` : '#');
  const findings = [...(endpoint ? [endpointFinding(endpoint)] : []), ...seedFindings(runs, href)];

  const experiments: Table = {
    caption: `Experiments (${runs.size} of ${m.experiments.length} with finished epochs; dataset ${m.data})`,
    head: ['run', 'question', 'what differs from the reference', 'epochs', 'val AP@0.5', 'eval mAP@0.5', 'efficiency (score ≥ 0.5)', 'FP Hz/module'],
    rows: m.experiments.map((e) => {
      const r = runs.get(e.name)?.run;
      const ev = r ? primaryEval(r) : null;
      const eff = r ? efficiencyOf(r) : null;
      const fp = ev?.trigger?.falsePositives;
      return [
        e.name,
        e.group,
        e.description,
        r ? r.epochs.length : 'not started',
        r ? pct(valMap(r)) : '–',
        pct(ev?.map.map50AllPoint),
        eff ? `${pct(eff.value)} ± ${pct(eff.err)}` : '–',
        fp ? (fp.upperLimitOnly ? `< ${fp.intervalHz[1].toExponential(1)}` : fp.hz.toExponential(1)) : '–',
      ];
    }),
  };
  const tables: Table[] = [experiments];
  if (endpoint) {
    tables.push({
      caption: `End point: ${endpoint.experiment} (${endpoint.selectedBy}) trained to ${endpoint.epochs} epochs (${endpoint.stopped}), FP rate from ${endpoint.fpImages.toLocaleString('en')} background-only images, efficiency on ${endpoint.evalImages} evaluation images; thesis: ${pct(endpoint.thesis.efficiency)} ± ${pct(endpoint.thesis.error)} at ${endpoint.thesis.hzPerModule} Hz per module`,
      head: ['target Hz/module', 'score threshold', 'FPs seen', 'FP Hz/module (90 % CL)', `efficiency (${ruleName(endpoint.rows)})`, 'efficiency (visible)'],
      rows: endpointRows(endpoint.rows, (t) => scoreCutText(t).replace('score ≥ ', '')),
    });
    if (endpoint.baseline) {
      const b = endpoint.baseline;
      tables.push({
        caption: `The trigger it would replace at the same rates: ${b.algorithm || 'the clustering baseline'}; FP rate from ${b.fpImages.toLocaleString('en')} background-only images, efficiency on the same ${endpoint.evalImages} evaluation images`,
        head: ['target Hz/module', 'ΣADC threshold', 'FPs seen', 'FP Hz/module (90 % CL)', `efficiency (${ruleName(b.rows)})`, 'efficiency (visible)'],
        rows: endpointRows(b.rows, (t) => t.toFixed(0)),
      });
      tables.push(endpointComparison(endpoint));
    }
    tables.push({ caption: 'What differs from the thesis', head: ['difference'], rows: endpoint.differences.map((d) => [d]) });
  }
  const html = pageHtml({
    title: `daqyolo seed study${m.settings.quick ? ' (quick)' : ''}: ${runs.size} runs`,
    subtitle: `${m.settings.variant} width ${m.settings.width}, ${m.settings.size} px, ${m.settings.epochs} epochs, ${m.settings.images} simulated images; comparison reports in ${relative(outDir, join(outDir, 'comparisons'))}/ — generated ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    tables,
    figures: [],
    notes: [],
    findings,
  });
  writeAtomic(path, html);
  return { path, findings, comparisons: [...written.values()] };
}

/** The rule of a table's efficiency column (older end points: IoU). */
const ruleName = (rows: readonly EndpointRow[]) => matchRuleShort(rows.find((r) => r.match)?.match ?? 'iou');

const flatSn = (x: RuleEfficiency | null) =>
  x === null
    ? 'not computed'
    : x.efficiency === null
      ? '–'
      : `${pct(x.efficiency)} ± ${pct(x.efficiencyErr)}${x.efficiencySupernova !== null && x.efficiencySupernova !== undefined ? ` · ${pct(x.efficiencySupernova)} ± ${pct(x.efficiencySupernovaErr)}` : ''}`;

/** Network and baseline at each end-point rate by each rule, the network's own row beside every baseline row. */
export function endpointComparison(endpoint: EndpointResult): Table {
  const b = endpoint.baseline!;
  const rows: (string | number)[][] = [];
  for (const r of endpoint.rows) {
    const br = b.rows.find((x) => x.targetHz === r.targetHz);
    for (const rule of ENDPOINT_RULES) {
      const n = r.threshold === null ? null : rowByRule(r, rule);
      const c = !br || br.threshold === null ? null : rowByRule(br, rule);
      if (n === null && c === null) continue;
      rows.push([
        r.targetHz,
        matchRuleShort(rule),
        r.threshold === null ? 'not reachable' : flatSn(n),
        !br || br.threshold === null ? 'not reachable' : flatSn(c),
      ]);
    }
  }
  return {
    caption:
      'Network and baseline at the same FP rate per module, by the same matching rule: efficiency flat in 1–70 MeV ± binomial error · averaged over the supernova νe-CC spectrum ± error ("not computed": an end point measured before that rule existed)',
    head: ['target Hz/module', 'rule', 'network', 'baseline (TDR clustering)'],
    rows,
  };
}

/** One row per target rate: the threshold it allows, the FPs behind it and the efficiency there. */
function endpointRows(rows: EndpointRow[], threshold: (t: number) => string): (string | number)[][] {
  return rows.map((r) => [
    r.targetHz,
    r.threshold === null ? 'unreachable: stream more images' : threshold(r.threshold),
    r.fpCount,
    `${r.fpHz.toExponential(2)} (${r.fpHzInterval[0].toExponential(1)}–${r.fpHzInterval[1].toExponential(1)})`,
    r.efficiency === null ? '–' : `${pct(r.efficiency)} ± ${pct(r.efficiencyErr)}`,
    pct(r.efficiencyVisible),
  ]);
}
