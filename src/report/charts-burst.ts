// The supernova burst trigger's figure (burst/<kind>-<split>.json, `daqyolo burst`): detection
// probability against distance for the network and the baseline on one plot, with the bands from
// the input errors, the fake-burst rate and the rule in the caption.
import type { RunData } from './load.js';
import type { BurstReport } from '../schema/burst.js';
import { SCHEMA, runColor, type Figure } from './figure.js';
import type { Spec } from './vega.js';

const kpc = (x: number | null) => (x === null ? '–' : x >= 1000 ? '> 1000' : x.toFixed(1));
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);

/** The burst reports of the runs: per run, the network's and the baseline's of the same split (eval first). */
function burstSeries(runs: readonly RunData[]): { label: string; report: BurstReport }[] {
  const out: { label: string; report: BurstReport }[] = [];
  for (const r of runs) {
    const split = ['eval', 'val', 'train'].find((s) => r.bursts[`network-${s}`] || r.bursts[`baseline-${s}`]);
    if (!split) continue;
    const n = r.bursts[`network-${split}`];
    const b = r.bursts[`baseline-${split}`];
    if (n) out.push({ label: `${r.label} · network`, report: n });
    if (b) out.push({ label: `${r.label} · baseline`, report: b });
  }
  return out;
}

export function burstFigure(runs: readonly RunData[]): Figure | null {
  const series = burstSeries(runs);
  if (!series.length) return null;
  const values: Record<string, unknown>[] = [];
  const notes: string[] = [];
  for (const { label, report: r } of series) {
    const u = r.rule;
    notes.push(
      `${label}: ≥ ${u.minCount} candidates in ${u.windowS} s at threshold ${u.threshold.toPrecision(4)} (FP ${u.fpHz.toExponential(2)} Hz per module, efficiency over the burst spectrum ${pct(u.efficiency)}), fake bursts ${(u.fakeRateHz / r.targetFakeRateHz).toExponential(1)} per month at the measured FP rate and ${(u.fakeRateHzUpper / r.targetFakeRateHz).toFixed(2)} at its upper edge; 50 % at ${kpc(r.d50Kpc.value)} kpc, 90 % at ${kpc(r.d90Kpc.value)} kpc; galactic supernovae caught ${pct(r.galacticFraction.value)}`,
    );
    for (const p of r.curve) values.push({ kind: 'curve', run: label, d: p.distanceKpc, p: p.probability, lo: p.lo, hi: p.hi, candidates: p.candidates });
  }
  // Reference distances: the galactic centre (8.5 kpc), the far edge of the disc (~25 kpc), the LMC
  // (50 kpc). Their names sit above the plot (the LMC's a line higher, clear of the far edge's), as
  // inside it they printed over the curves, which are at 1 there.
  for (const [d, name, dy] of [
    [8.5, 'Galactic centre', -3],
    [25, "Galaxy's far edge", -3],
    [50, 'LMC', -15],
  ] as const)
    values.push({ kind: 'mark', d, name, dy });
  const labels = series.map((s) => s.label);
  const color = runColor(labels);
  const x = { field: 'd', type: 'quantitative', title: 'distance to the supernova (kpc)', scale: { type: 'log', domain: [1, 100] } };
  const r0 = series[0].report;
  return {
    id: 'burst-distance',
    section: 'Trigger',
    title: 'Supernova burst detection probability versus distance',
    caption: `Probability that the burst trigger fires on a core-collapse supernova at each distance, at ≤ ${(r0.targetFakeRateHz * 3600 * 24 * 31).toFixed(0)} fake burst per month (the rule's N is set at the upper edge of the FP rate's ${100 * r0.fpCl} % interval); bands: per-interaction efficiency ±1σ with the FP rate's interval. Model: ${r0.model.name}, ${r0.model.ccPer10ktAt10Kpc.toFixed(0)} νe-CC per 10 kt at 10 kpc, counted over ${r0.modules === 1 ? 'one 10 kt module' : `${r0.modules} modules`}. ${notes.join('; ')}. No published curve is drawn: DUNE's supernova paper (EPJC 81 (2021) 423) and TDR show theirs as figures only; see docs/burst.md.`,
    spec: {
      $schema: SCHEMA,
      width: 480,
      height: 300,
      data: { values },
      layer: [
        { transform: [{ filter: "datum.kind === 'mark'" }], mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { x } },
        {
          transform: [{ filter: "datum.kind === 'mark'" }],
          mark: { type: 'text', color: '#666', baseline: 'bottom', dx: 3, align: 'left', fontSize: 10 },
          encoding: { x, y: { field: 'dy', type: 'quantitative', scale: null }, text: { field: 'name' } },
        },
        {
          transform: [{ filter: "datum.kind === 'curve'" }],
          mark: { type: 'area', opacity: 0.25 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'detection probability', scale: { domain: [0, 1] } }, y2: { field: 'hi' }, color },
        },
        {
          transform: [{ filter: "datum.kind === 'curve'" }],
          mark: { type: 'line' },
          encoding: {
            x,
            y: { field: 'p', type: 'quantitative' },
            color,
            tooltip: [{ field: 'run' }, { field: 'd', title: 'kpc', format: '.1f' }, { field: 'p', format: '.3f' }, { field: 'candidates', format: '.1f' }],
          },
        },
      ],
    } as Spec,
  };
}
