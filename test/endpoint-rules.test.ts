// The end point's tables and finding by matching rule: the network's own row beside every baseline
// row, the winner judged by the same rule, and end points written before the TP rule read honestly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointFinding } from '../src/report/findings.js';
import { endpointComparison } from '../src/report/plan-report.js';
import { rowByRule, THESIS, type EndpointResult, type EndpointRow, type RuleEfficiency } from '../src/study/endpoint.js';

const rate = (targetHz: number, threshold: number | null) => ({
  targetHz,
  threshold,
  fpCount: 1,
  fpHz: targetHz,
  fpHzInterval: [0, 2 * targetHz] as [number, number],
});
const by = (match: 'tps' | 'iou' | 'centre', e: number, err: number, sn: number): RuleEfficiency => ({
  match,
  efficiency: e,
  efficiencyErr: err,
  efficiencyVisible: e,
  efficiencySupernova: sn,
  efficiencySupernovaErr: err,
});
const row = (hz: number, rules: RuleEfficiency[]): EndpointRow => ({ ...rate(hz, 0.5), ...rules[0]!, byRule: rules });
const result = (rows: EndpointRow[], baseline: EndpointRow[]): EndpointResult => ({
  experiment: 'reference',
  selectedBy: 'x',
  run: 'r',
  checkpoint: 'best',
  epochs: 3,
  stopped: 'max epochs',
  evalImages: 100,
  fpImages: 1000,
  fpImagesPerSecond: 1,
  rows,
  baseline: { algorithm: 'clustering', fpImages: 1000, rows: baseline },
  thesis: THESIS,
  differences: [],
});

test('end point by rule: comparison rows and the winner at 1.8 Hz by the TP rule', () => {
  const e = result(
    [
      row(1.8, [by('tps', 0.6, 0.02, 0.7), by('iou', 0.55, 0.02, 0.6), by('centre', 0.58, 0.02, 0.65)]),
      { ...rate(1, null), efficiency: null, efficiencyErr: null, efficiencyVisible: null, byRule: [] },
    ],
    [row(1.8, [by('tps', 0.8, 0.02, 0.9), by('iou', 0.1, 0.01, 0.1), by('centre', 0.85, 0.02, 0.9)]), row(1, [by('tps', 0.7, 0.02, 0.8)])],
  );
  const t = endpointComparison(e);
  // 1.8 Hz: one row per rule with both triggers; 1 Hz: the network cannot show it, the baseline's TP row only.
  assert.deepEqual(
    t.rows.map((r) => [r[0], r[1]]),
    [
      [1.8, '≥ 2 TPs'],
      [1.8, 'IoU ≥ 0.1'],
      [1.8, 'centre'],
      [1, '≥ 2 TPs'],
    ],
  );
  assert.deepEqual(t.rows[0]!.slice(2), ['60.0 % ± 2.0 % · 70.0 % ± 2.0 %', '80.0 % ± 2.0 % · 90.0 % ± 2.0 %']);
  assert.equal(t.rows[3]![2], 'not reachable');
  const f = endpointFinding(e);
  assert.equal(f.verdict, 'answered');
  // Δ = −20 % against 2σ = 2·√(0.02² + 0.02²) = 5.7 %: the baseline wins by the TP rule (whatever IoU says).
  assert.match(f.answer, /^By ≥ 2 TPs at 1.8 Hz per module: network 60.0 % ± 2.0 %, 70.0 % over the supernova spectrum; baseline 80.0 %/);
  assert.match(f.answer, /Winner: the baseline \(Δ -20.0 %, 2 σ = 5.7 %\)/);
});

test("an end point written before the TP rule: IoU rows, the baseline's centre column, nothing invented", () => {
  const old = { ...rate(1.8, 0.5), efficiency: 0.566, efficiencyErr: 0.03, efficiencyVisible: 0.6 };
  const oldBase = { ...rate(1.8, 1200), efficiency: 0.118, efficiencyErr: 0.02, efficiencyVisible: 0.12, efficiencyCentre: 0.86, efficiencyCentreErr: 0.021 };
  const e = result([old], [oldBase]);
  assert.equal(rowByRule(old, 'tps'), null);
  assert.equal(rowByRule(oldBase, 'centre')!.efficiency, 0.86);
  const t = endpointComparison(e);
  assert.deepEqual(t.rows, [
    [1.8, 'IoU ≥ 0.1', '56.6 % ± 3.0 %', '11.8 % ± 2.0 %'],
    [1.8, 'centre', 'not computed', '86.0 % ± 2.1 %'],
  ]);
  const f = endpointFinding(e);
  assert.match(f.answer, /measured before the TP rule: IoU ≥ 0.1 for both/);
  assert.match(f.answer, /Winner: the network/);
});
