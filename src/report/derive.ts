// Quantities the report derives from run data: per-epoch train/validation series, overfitting
// onsets for every scale × term, configuration differences between runs, headline figures.
import { SCALE_NAMES, type TermRecord } from '../schema/run.js';
import { overfittingOnset, type OnsetOptions } from './overfit.js';
import { primaryEval, type RunData } from './load.js';
import { ruleOf } from '../eval/efficiency.js';

export const TERM_NAMES = ['xy', 'wh', 'conf1', 'conf2', 'class'] as const;
export type TermName = (typeof TERM_NAMES)[number];

export const scaleName = (s: number): string => SCALE_NAMES[s] ?? `scale ${s}`;

/** Number of output scales of a run (3 for yolov3, 2 for yolov3-tiny). */
export const scaleCount = (r: RunData): number => r.run.strides.length;

export interface Series {
  epochs: number[];
  train: number[];
  val: number[];
}

/** One quantity per epoch on training and validation data: a term of a scale, a scale total or the objective. */
export function series(r: RunData, pick: (scales: TermRecord[], objective: number) => number | undefined, epochs = r.epochs): Series {
  const out: Series = { epochs: [], train: [], val: [] };
  for (const e of epochs) {
    const t = pick(e.train.scales, e.train.objective);
    const v = pick(e.val.scales, e.val.objective);
    if (t === undefined || v === undefined) continue;
    out.epochs.push(e.epoch + 1);
    out.train.push(t);
    out.val.push(v);
  }
  return out;
}

export const termSeries = (r: RunData, scale: number, term: TermName | 'total', epochs = r.epochs) => series(r, (s) => s[scale]?.[term], epochs);
export const objectiveSeries = (r: RunData, epochs = r.epochs) => series(r, (_, o) => o, epochs);

export interface OnsetMark {
  run: string;
  /** 'objective', or a scale name. */
  scale: string;
  /** A term, 'total' or 'objective'. */
  term: string;
  /** 1-based epoch of the validation minimum after which validation rises. */
  epoch: number;
  relRise: number;
  trainChange: number;
}

/**
 * Overfitting onsets of every scale × term, every scale total and the objective of a run.
 * Epochs with warm-up batches are left out: their training xy and wh also pull every
 * prediction without a truth box towards its anchor, so they do not compare with validation.
 */
export function onsetsOf(r: RunData, o: OnsetOptions = {}): OnsetMark[] {
  const out: OnsetMark[] = [];
  const epochs = r.epochs.filter((e) => e.warmFraction === 0);
  const add = (scale: string, term: string, s: Series) => {
    const on = overfittingOnset(s.train, s.val, o);
    if (on) out.push({ run: r.label, scale, term, epoch: s.epochs[on.index]!, relRise: on.relRise, trainChange: on.trainChange });
  };
  add('objective', 'objective', objectiveSeries(r, epochs));
  for (let s = 0; s < scaleCount(r); s++) {
    for (const t of [...TERM_NAMES, 'total'] as const) add(scaleName(s), t, termSeries(r, s, t, epochs));
  }
  return out;
}

/** Flattens nested config objects to dotted keys (arrays stay values). */
export function flatten(obj: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = obj;
  }
  return out;
}

/** Keys never worth comparing: where the run was written. */
const IGNORED_KEYS = new Set(['config.out']);

/**
 * Configuration keys (dotted, of config.json: the training config under `config.` and what the
 * trainer resolved, e.g. `trainImages`, `anchors`) whose values differ between runs.
 */
export function configDifferences(runs: readonly RunData[]): { key: string; values: unknown[] }[] {
  const flat = runs.map((r) => flatten(r.run));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter((k) => !IGNORED_KEYS.has(k)).sort();
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return keys.map((key) => ({ key, values: flat.map((f) => f[key]) })).filter(({ values }) => values.some((v) => !same(v, values[0])));
}

/** The settings a reader wants to see for a single run. */
export const SALIENT_KEYS = [
  'config.data',
  'config.model.variant',
  'config.model.width',
  'size',
  'config.batch',
  'config.epochs',
  'config.optimizer.lr',
  'config.schedule.kind',
  'config.warmupEpochs',
  'warmupBatches',
  'config.loss.objLoss',
  'config.loss.objTarget',
  'config.loss.objScale',
  'config.loss.ignoreThresh',
  'config.loss.reduction',
  'trainImages',
  'valImages',
  'device',
];

export interface Headline {
  run: string;
  epochs: number;
  finished: boolean;
  bestValLoss: number | null;
  bestEpoch: number | null;
  /** Validation mAP@0.5 of the last epoch (from training). */
  valMap50: number | null;
  /** From eval/<split>.json when present. */
  evalSplit: string | null;
  map50: number | null;
  mapCoco: number | null;
  efficiency: number | null;
  efficiencyErr: number | null;
  /** Averaged over the supernova νe-CC spectrum (null for older evaluations). */
  efficiencySupernova: number | null;
  efficiencySupernovaErr: number | null;
  /** The matching rule of those figures. */
  match: string | null;
  threshold: number | null;
  fpHz: number | null;
  fpUpperLimit: boolean;
  /** Efficiency at the reachable operating points, e.g. { 10: 0.7 }. */
  operatingPoints: { targetHz: number; efficiency: number | null }[];
  onsets: number;
}

export function headline(r: RunData, onsets: readonly OnsetMark[]): Headline {
  let best: { v: number; e: number } | null = null;
  // The trainer's selection rule: loss per image (older runs: the objective).
  const selected = (e: (typeof r.epochs)[number]) => e.val.lossPerImage ?? e.val.objective;
  for (const e of r.epochs) if (!best || selected(e) < best.v) best = { v: selected(e), e: e.epoch + 1 };
  const ev = primaryEval(r);
  const fp = ev?.trigger?.falsePositives;
  return {
    run: r.label,
    epochs: r.epochs.length,
    finished: r.done !== null,
    bestValLoss: best?.v ?? null,
    bestEpoch: best?.e ?? null,
    valMap50: r.epochs.at(-1)?.val.map50 ?? null,
    evalSplit: ev?.split ?? null,
    map50: ev?.map.map50AllPoint ?? null,
    mapCoco: ev?.map.mapCoco ?? null,
    efficiency: ev?.trigger?.efficiency.integrated.all.efficiency ?? null,
    efficiencyErr: ev?.trigger?.efficiency.integrated.all.stdErr ?? null,
    efficiencySupernova: ev?.trigger?.efficiency.supernova?.efficiency ?? null,
    efficiencySupernovaErr: ev?.trigger?.efficiency.supernova?.stdErr ?? null,
    match: ev?.trigger ? ruleOf(ev.trigger) : null,
    threshold: ev?.trigger?.efficiency.threshold ?? null,
    fpHz: fp ? (fp.upperLimitOnly ? fp.intervalHz[1] : fp.hz) : null,
    fpUpperLimit: fp?.upperLimitOnly ?? false,
    operatingPoints: ev?.trigger?.operatingPoints.map((p) => ({ targetHz: p.targetHz, efficiency: p.efficiency })) ?? [],
    onsets: onsets.filter((o) => o.run === r.label).length,
  };
}

/** Quantile of a sorted-or-not sample (linear interpolation); null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}
