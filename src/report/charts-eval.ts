// Detection and trigger figures from eval/<split>.json: precision–recall with mAP, efficiency
// versus neutrino energy with binomial (Wilson) error bars, and efficiency versus the false-
// positive rate per far-detector module from the threshold scan (log axis).
import type { RunData } from './load.js';
import { primaryBaseline, primaryEval } from './load.js';
import { byRule, ruleOf, type TriggerReport } from '../eval/efficiency.js';
import { SCHEMA, runColor, type Figure } from './figure.js';
import type { Spec } from './vega.js';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

/** Keeps at most `max` points of a curve, always the first and last. */
export function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const stride = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * stride)]!);
}

const evaluated = (runs: readonly RunData[]) => runs.filter((r) => primaryEval(r));
/** Runs whose evaluation has trigger figures (simulated data). */
const triggered = (runs: readonly RunData[]) => runs.filter((r) => primaryEval(r)?.trigger);

/** The trigger curves to draw: each evaluated run, and beside it its baseline clustering trigger when
 *  measured — by the network's matching rule only (a baseline measured by another rule is left out,
 *  and `missing` says so), so the two curves of a plot are always judged alike. */
interface TriggerSeries {
  label: string;
  trigger: TriggerReport;
  score: string;
}
function triggerSeries(runs: readonly RunData[], missing: string[] = []): TriggerSeries[] {
  const out: TriggerSeries[] = [];
  for (const r of triggered(runs)) {
    const t = primaryEval(r)!.trigger!;
    out.push({ label: r.label, trigger: t, score: 'score' });
    const b = primaryBaseline(r);
    const bt = b ? byRule(b.trigger, b.otherRules, ruleOf(t)) : null;
    if (bt) out.push({ label: `${r.label} · baseline`, trigger: bt, score: 'ΣADC' });
    else if (b)
      missing.push(
        `${r.label}: its baseline was measured by the rule "${ruleOf(b.trigger)}", not the network's "${ruleOf(t)}" — left out (run \`daqyolo baseline … --match ${ruleOf(t)}\`)`,
      );
  }
  return out;
}

/** "ε flat, ε supernova" of a series' headline table, for captions. */
function flatAndSn(t: TriggerReport): string {
  const sn = t.efficiency.supernova;
  return (
    `${pct(t.efficiency.integrated.all.efficiency)} flat in 1–70 MeV (${t.efficiency.integrated.all.k}/${t.efficiency.integrated.all.n})` +
    (sn && sn.efficiency !== null ? `, ${pct(sn.efficiency)} ± ${pct(sn.stdErr)} over the supernova spectrum` : '')
  );
}

/** The rules of the drawn series in words (one when they agree, as they should). */
function rulesText(series: readonly TriggerSeries[]): string {
  const rules = [...new Set(series.map((s) => s.trigger.matchRule))];
  return rules.length === 1
    ? `Matching, for every curve: ${rules[0]}`
    : `Matching differs between curves: ${series.map((s) => `${s.label}: ${s.trigger.matchRule}`).join('; ')}`;
}

/** Run colours, then the baselines' in grey shades. */
function seriesColor(runs: readonly RunData[], series: readonly TriggerSeries[]) {
  const base = series.filter((s) => s.score === 'ΣADC').map((s) => s.label);
  return runColor(
    runs.map((r) => r.label),
    { domain: base, range: base.map((_, i) => ['#555555', '#999999', '#333333'][i % 3]!) },
  );
}

export function prFigure(runs: readonly RunData[]): Figure | null {
  const ok = evaluated(runs);
  if (!ok.length) return null;
  const values: Record<string, unknown>[] = [];
  const maps: string[] = [];
  for (const r of ok) {
    const ev = primaryEval(r)!;
    maps.push(
      `${r.label} (${ev.split}, ${ev.images} images): mAP@0.5 ${pct(ev.map.map50AllPoint)} all-point, ${pct(ev.map.map50Voc11)} VOC 11-point, COCO mAP ${pct(ev.map.mapCoco)}`,
    );
    for (const c of ev.map.perClass) {
      const cls = r.run.classNames[c.cls] ?? String(c.cls);
      const pts = c.pr.recall.map((rec, i) => ({ recall: rec, precision: c.pr.precision[i]!, score: c.pr.score[i]! }));
      // Anchor the curve at recall 0 so a run with few detections still draws a line.
      if (pts.length) values.push({ run: r.label, cls, recall: 0, precision: pts[0]!.precision, score: pts[0]!.score, order: -1 });
      thin(pts, 800).forEach((p, i) => values.push({ run: r.label, cls, ...p, order: i }));
    }
  }
  const classes = new Set(values.map((v) => v.cls));
  const color = runColor(runs.map((r) => r.label));
  return {
    id: 'precision-recall',
    section: 'Detection',
    title: 'Precision–recall at IoU ≥ 0.5',
    caption: `${maps.join('; ')}. Points in descending-score order.`,
    spec: {
      $schema: SCHEMA,
      width: 420,
      height: 300,
      data: { values },
      // Points as well as the line: an untrained network's curve can collapse onto one point.
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2, point: { size: 12, filled: true } },
      encoding: {
        x: { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1] } },
        y: { field: 'precision', type: 'quantitative', title: 'precision', scale: { domain: [0, 1] } },
        order: { field: 'order', type: 'quantitative' },
        color,
        ...(classes.size > 1 ? { strokeDash: { field: 'cls', type: 'nominal', title: 'class', legend: { orient: 'top' } } } : { detail: { field: 'cls' } }),
        tooltip: [
          { field: 'run' },
          { field: 'cls', title: 'class' },
          { field: 'recall', format: '.3f' },
          { field: 'precision', format: '.3f' },
          { field: 'score', format: '.3f' },
        ],
      },
    } as Spec,
  };
}

export function efficiencyFigure(runs: readonly RunData[]): Figure | null {
  const missing: string[] = [];
  const ok = triggerSeries(runs, missing);
  if (!ok.length) return null;
  const values: Record<string, unknown>[] = [];
  const notes: string[] = [];
  ok.forEach((r, i) => {
    const t = r.trigger;
    notes.push(`${r.label}: ${r.score} ≥ ${t.efficiency.threshold}, ${flatAndSn(t)}`);
    // Runs side by side within a bin: a small horizontal offset so error bars do not hide each other.
    const offset = (i - (ok.length - 1) / 2) * 0.5;
    for (const b of t.efficiency.bins) {
      if (b.all.efficiency === null) continue;
      values.push({
        run: r.label,
        e: (b.loMeV + b.hiMeV) / 2 + offset,
        lo: b.loMeV,
        hi: b.hiMeV,
        eff: b.all.efficiency,
        errLo: b.all.wilson[0],
        errHi: b.all.wilson[1],
        k: b.all.k,
        n: b.all.n,
      });
    }
  });
  const color = seriesColor(runs, ok);
  const x = { field: 'e', type: 'quantitative', title: 'neutrino energy Eν (MeV)' };
  return {
    id: 'efficiency-energy',
    section: 'Trigger',
    title: 'Efficiency versus neutrino energy',
    caption: `Fraction of simulated interactions (visible or not) matched by a detection, per Eν bin; error bars: 68 % Wilson intervals. ${notes.join('; ')}. ${rulesText(ok)}.${ok.some((r) => r.score === 'ΣADC') ? ' Baseline: the TDR-era TP clustering trigger on the same images, at its headline ΣADC threshold.' : ''}${missing.length ? ` ${missing.join('; ')}.` : ''}`,
    spec: {
      $schema: SCHEMA,
      width: 480,
      height: 280,
      data: { values },
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 1.5 },
          encoding: { x, y: { field: 'errLo', type: 'quantitative', title: 'efficiency', scale: { domain: [0, 1] } }, y2: { field: 'errHi' }, color },
        },
        {
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x,
            y: { field: 'eff', type: 'quantitative' },
            color,
            tooltip: [
              { field: 'run' },
              { field: 'lo', title: 'from (MeV)' },
              { field: 'hi', title: 'to (MeV)' },
              { field: 'eff', format: '.3f' },
              { field: 'k' },
              { field: 'n' },
            ],
          },
        },
      ],
    } as Spec,
  };
}

export function rocFigure(runs: readonly RunData[]): Figure | null {
  const missing: string[] = [];
  const ok = triggerSeries(runs, missing).filter((r) => r.trigger.scan.some((p) => p.fpHz > 0));
  if (!ok.length) return null;
  const values: Record<string, unknown>[] = [];
  const limits: string[] = [];
  const targets = new Set<number>();
  for (const r of ok) {
    const t = r.trigger;
    const nBg = t.falsePositives.images;
    limits.push(`${r.label}: ${nBg} ${t.fpSource}, one FP = ${(t.hzPerFpPerImage / Math.max(1, nBg)).toExponential(2)} Hz`);
    // Thresholds with no FP at all cannot sit on a log axis; they are the points left of the first.
    for (const p of t.scan) if (p.fpHz > 0) values.push({ kind: 'scan', run: r.label, fpHz: p.fpHz, eff: p.efficiency, threshold: p.threshold });
    for (const p of t.operatingPoints) {
      targets.add(p.targetHz);
      if (p.efficiency !== null && p.fpHz !== null && p.fpHz > 0)
        values.push({ kind: 'op', run: r.label, fpHz: p.fpHz, eff: p.efficiency, threshold: p.threshold, target: p.targetHz });
    }
  }
  for (const hz of targets) values.push({ kind: 'target', fpHz: hz, label: `${hz} Hz` });
  const color = seriesColor(runs, ok);
  const x = { field: 'fpHz', type: 'quantitative', title: 'false-positive rate per far-detector module (Hz)', scale: { type: 'log' } };
  return {
    id: 'efficiency-fp',
    section: 'Trigger',
    title: 'Efficiency versus false-positive rate per module',
    caption: `Scanning the score threshold; large points: the operating points at ${[...targets].join(', ')} Hz where reachable. ${rulesText(ok)}. ${ok[0].trigger.conversion}.${ok.some((r) => r.score === 'ΣADC') ? ' Baselines (grey): the TDR-era TP clustering trigger, scanning its ΣADC threshold.' : ''} ${limits.join('; ')}.${missing.length ? ` ${missing.join('; ')}.` : ''}`,
    spec: {
      $schema: SCHEMA,
      width: 480,
      height: 300,
      data: { values },
      layer: [
        { transform: [{ filter: "datum.kind === 'target'" }], mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { x } },
        {
          transform: [{ filter: "datum.kind === 'target'" }],
          mark: { type: 'text', color: '#666', y: 2, baseline: 'top', dx: 3, align: 'left', fontSize: 10 },
          encoding: { x, text: { field: 'label' } },
        },
        {
          transform: [{ filter: "datum.kind === 'scan'" }],
          mark: { type: 'line', interpolate: 'step-after', point: { size: 10 } },
          encoding: {
            x,
            y: { field: 'eff', type: 'quantitative', title: 'efficiency (all interactions)', scale: { domain: [0, 1] } },
            order: { field: 'fpHz' },
            color,
            tooltip: [{ field: 'run' }, { field: 'threshold', format: '.4f' }, { field: 'fpHz', format: '.3g' }, { field: 'eff', format: '.3f' }],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'op'" }],
          mark: { type: 'point', shape: 'diamond', filled: true, size: 140, stroke: 'black', strokeWidth: 0.7 },
          encoding: { x, y: { field: 'eff', type: 'quantitative' }, color },
        },
      ],
    } as Spec,
  };
}
