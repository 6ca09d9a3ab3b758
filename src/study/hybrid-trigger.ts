// The hybrid trigger: a network candidate fires only if its score passes a cut AND its box holds
// enough charge, ΣADC ≥ a (the quantity DUNE's clustering trigger cuts on). docs/budget.md found
// that the network loses at its cut, not at finding: it scores small radiological clusters
// (²¹⁴Bi, ⁴²K, ≈ 2 000 ADC) as high as neutrinos, and more data made it surer of them. A ΣADC
// requirement removes those candidates from the FP count, so the score cut for a rate can fall.
//
// One fair rule still holds: the FP rate of each (score, ΣADC) pair comes from the same 10⁶-image
// fprate histogram (its adcCounts), the efficiency by the TP rule from the same evaluation split.
// The ΣADC requirement is chosen per rate on the validation split (the highest efficiency there),
// never on the evaluation split it is reported on; the whole scan is reported too.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../data/store.js';
import { BatchLoader } from '../data/loader.js';
import { UserError } from '../errors.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { predictBatch } from '../infer/predict.js';
import { openRun, checkCompatible } from '../infer/open-run.js';
import { boxSumAdcDense } from '../eval/box-adc.js';
import {
  efficiencyByEnergy,
  energyBin,
  scoreImage,
  DEFAULT_ENERGY_EDGES_MEV,
  matchRuleText,
  DEFAULT_MATCH,
  type TriggerImage,
  type TriggerDetection,
  type EfficiencyTable,
} from '../eval/efficiency.js';
import { ADC_BIN, ADC_BINS, SCORE_BINS, fpStatePath, MIN_SCORE, readBaselineFpStates, type BaselineFpState, type FpState } from '../eval/fprate.js';
import { fileDigest, readFpState } from '../eval/fprate-state.js';
import { datasetImageTps, datasetSimulation, pixelTps, triggerInteractions } from '../trigger/baseline.js';
import { baselineSettings, chooseClustering, type BaselineSetting, type BaselineSettingAtRate } from './cluster-tuning.js';
import { isSimulated, simulatorOf, toDetection } from '../eval/evaluate.js';
import { baselineThresholdForRate, thresholdForRate } from './endpoint.js';
import type { RateThreshold } from './endpoint-rows.js';
import type { BinomialSummary, EnergyBin, SpectrumAverage } from '../schema/evaluation.js';

/** A candidate with the ΣADC its box holds. */
export interface HybridDetection extends TriggerDetection {
  sumAdc: number;
}

export interface HybridImage extends TriggerImage {
  detections: readonly HybridDetection[];
}

/** One ΣADC requirement at one rate: the score cut the histogram allows and the efficiencies. */
export interface HybridRow extends RateThreshold {
  minSumAdc: number;
  /** Flat 1–70 MeV over all interactions, by the TP rule; null where the rate is not reachable. */
  val: BinomialSummary | null;
  eval: BinomialSummary | null;
}

export interface HybridRate {
  targetHz: number;
  rows: HybridRow[];
  /** The requirement of highest validation efficiency (the lowest of equals); null if no row reaches the rate. */
  chosen: HybridRow | null;
  /** The network alone (ΣADC ≥ 0): the budget point's own figure. */
  network: HybridRow;
  /** Chosen − network on the evaluation split, paired (the same interactions), with its standard error. */
  gain: PairedDelta | null;
  /** The clustering trigger at the same rate (when its FP state was given), and both against it, paired. */
  baseline: BaselineAtRate | null;
  /** The chosen pair on the evaluation split by Eν bin, and over the supernova spectrum. */
  byEnergy: EnergyBin[] | null;
  supernova: SpectrumAverage | null;
  /** The network alone the same way (where it loses, beside the chosen pair and the baseline). */
  networkByEnergy: EnergyBin[] | null;
  networkSupernova: SpectrumAverage | null;
}

/** B − A on the same interactions: found by B only (gained), by A only (lost), and the McNemar standard error. */
export interface PairedDelta {
  delta: number;
  stdErr: number;
  gained: number;
  lost: number;
}

export interface BaselineAtRate extends RateThreshold {
  /** threshold: the ΣADC cut from the baseline's own background stream. */
  eval: BinomialSummary | null;
  byEnergy: EnergyBin[] | null;
  supernova: SpectrumAverage | null;
  /** Hybrid (chosen) − baseline and network alone − baseline on the evaluation split. */
  hybridMinusBaseline: PairedDelta | null;
  networkMinusBaseline: PairedDelta | null;
  /** The clustering tuned on validation over the stream's other clusterings (the control), when it had any. */
  tuned: TunedBaselineAtRate | null;
}

/** The control for "is it only a bigger region?": the clustering trigger with the channel gap and Δt
 *  of highest validation efficiency at this rate (the default's on ties), reported on evaluation. */
export interface TunedBaselineAtRate {
  settings: BaselineSettingAtRate[];
  /** Index into settings of the one chosen on validation. */
  chosen: number;
  byEnergy: EnergyBin[] | null;
  supernova: SpectrumAverage | null;
  hybridMinusTuned: PairedDelta | null;
  networkMinusTuned: PairedDelta | null;
}

export interface HybridReport {
  run: string;
  checkpoint: string;
  data: string;
  fprate: { file: string; images: number };
  rule: string;
  adcBin: number;
  valImages: number;
  evalImages: number;
  valInteractions: number;
  evalInteractions: number;
  /** The baseline's FP state the clustering trigger's cuts came from, when given. */
  baseline: { file: string; images: number; params: BaselineFpState['params']; /** Other clusterings the baseline was tuned over. */ variants: number } | null;
  rates: HybridRate[];
}

export interface HybridOptions {
  runDir: string;
  data: string;
  rates: readonly number[];
  checkpoint?: string;
  /** The fprate stream's seed (default: the dataset's). */
  seed?: number;
  /** Baseline FP states of one stream (fprate --baseline --state; several: their variants together): the clustering trigger at the same rates, paired. */
  baselineStates?: readonly string[];
  batch: number;
  workers: number;
  device?: string;
  onProgress?: (done: number, total: number, phase: string) => void;
}

/** The FP histogram of score ≥ bin edges for candidates with ΣADC ≥ a·ADC_BIN. */
export function countsAtLeastAdc(adcCounts: readonly (readonly number[])[], a: number): number[] {
  const counts = new Array<number>(SCORE_BINS).fill(0);
  for (let k = a; k < adcCounts.length; k++) adcCounts[k]!.forEach((c, i) => (counts[i]! += c));
  return counts;
}

/** The images with only the candidates of ΣADC ≥ minSumAdc. */
const withAdc = (images: readonly TriggerImage[], minSumAdc: number): readonly TriggerImage[] =>
  minSumAdc <= 0 ? images : images.map((im) => ({ ...im, detections: (im as HybridImage).detections.filter((d) => d.sumAdc >= minSumAdc) }));

/** Per interaction in the efficiency's Eν range (in image order): does a candidate of score ≥ t and ΣADC ≥ a hold it? */
function hits(images: readonly TriggerImage[], threshold: number, minSumAdc: number): boolean[] {
  const out: boolean[] = [];
  for (const im of withAdc(images, minSumAdc)) {
    const best = scoreImage(im).best;
    im.interactions.forEach((it, j) => {
      if (energyBin(it.energyMeV, DEFAULT_ENERGY_EDGES_MEV) >= 0) out.push(best[j]! >= threshold);
    });
  }
  return out;
}

/**
 * The hybrid scan from detections already made: for each rate and each ΣADC requirement, the score
 * cut from the histogram and the efficiency on both splits; the requirement chosen on `val`.
 */
export function hybridScan(
  fp: Pick<FpState, 'images' | 'adcCounts'>,
  val: readonly HybridImage[],
  ev: readonly HybridImage[],
  rates: readonly number[],
  baseline?: { fp: Pick<BaselineFpState, 'images' | 'sumAdc'>; images: readonly TriggerImage[]; settings?: readonly BaselineSetting[] },
): HybridRate[] {
  if (!fp.adcCounts) throw new Error('hybridScan: the FP state has no ΣADC histogram');
  const eff = (images: readonly HybridImage[], t: number, a: number): EfficiencyTable => efficiencyByEnergy(withAdc(images, a), t);
  return rates.map((targetHz) => {
    const rows: HybridRow[] = [];
    for (let a = 0; a < ADC_BINS; a++) {
      const t = thresholdForRate({ images: fp.images, counts: countsAtLeastAdc(fp.adcCounts!, a) }, targetHz);
      const minSumAdc = a * ADC_BIN;
      rows.push({
        ...t,
        minSumAdc,
        val: t.threshold === null ? null : eff(val, t.threshold, minSumAdc).integrated.all,
        eval: t.threshold === null ? null : eff(ev, t.threshold, minSumAdc).integrated.all,
      });
    }
    let chosen: HybridRow | null = null;
    for (const r of rows) if (r.val && (!chosen || r.val.k > chosen.val!.k)) chosen = r;
    const network = rows[0]!;
    const gain = chosen && network.threshold !== null ? pairedDelta(hits(ev, network.threshold, 0), hits(ev, chosen.threshold!, chosen.minSumAdc)) : null;
    const chosenTable = chosen ? eff(ev, chosen.threshold!, chosen.minSumAdc) : null;
    const networkTable = network.threshold !== null ? eff(ev, network.threshold, 0) : null;
    let baselineRow: BaselineAtRate | null = null;
    if (baseline) {
      const t = baselineThresholdForRate(baseline.fp, targetHz);
      const b = t.threshold === null ? null : hits(baseline.images, t.threshold, 0);
      if (b && b.length !== hits(ev, 0, 0).length) throw new Error('hybridScan: the baseline images are not the evaluation images');
      const table = t.threshold === null ? null : efficiencyByEnergy(baseline.images, t.threshold);
      baselineRow = {
        ...t,
        eval: table?.integrated.all ?? null,
        byEnergy: table?.bins ?? null,
        supernova: table?.supernova ?? null,
        hybridMinusBaseline: b && chosen ? pairedDelta(b, hits(ev, chosen.threshold!, chosen.minSumAdc)) : null,
        networkMinusBaseline: b && network.threshold !== null ? pairedDelta(b, hits(ev, network.threshold, 0)) : null,
        tuned: baseline.settings?.length ? tuneBaseline(baseline.settings, targetHz, ev, chosen, network) : null,
      };
    }
    return {
      targetHz,
      rows,
      chosen,
      network,
      gain,
      baseline: baselineRow,
      byEnergy: chosenTable?.bins ?? null,
      supernova: chosenTable?.supernova ?? null,
      networkByEnergy: networkTable?.bins ?? null,
      networkSupernova: networkTable?.supernova ?? null,
    };
  });
}

/** The clustering of highest validation efficiency at the rate (first of equals: the stream's own
 *  clustering comes first), reported on evaluation and paired against the hybrid and the network. */
function tuneBaseline(
  settings: readonly BaselineSetting[],
  targetHz: number,
  ev: readonly HybridImage[],
  chosen: HybridRow | null,
  network: HybridRow,
): TunedBaselineAtRate {
  const { rows, chosen: best } = chooseClustering(settings, targetHz);
  if (best < 0) return { settings: rows, chosen: -1, byEnergy: null, supernova: null, hybridMinusTuned: null, networkMinusTuned: null };
  const t = rows[best]!.threshold!;
  const found = hits(settings[best]!.eval, t, 0);
  if (found.length !== hits(ev, 0, 0).length) throw new Error('hybridScan: the tuning images are not the evaluation images');
  const table = efficiencyByEnergy(settings[best]!.eval, t);
  return {
    settings: rows,
    chosen: best,
    byEnergy: table.bins,
    supernova: table.supernova,
    hybridMinusTuned: chosen ? pairedDelta(found, hits(ev, chosen.threshold!, chosen.minSumAdc)) : null,
    networkMinusTuned: network.threshold !== null ? pairedDelta(found, hits(ev, network.threshold, 0)) : null,
  };
}

/** B − A over the same interactions (flags in one order), with the paired (McNemar) standard error. */
export function pairedDelta(a: readonly boolean[], b: readonly boolean[]): PairedDelta {
  let gained = 0;
  let lost = 0;
  a.forEach((x, i) => {
    if (b[i] && !x) gained++;
    if (!b[i] && x) lost++;
  });
  const n = a.length;
  const d = gained - lost;
  return { delta: n ? d / n : 0, stdErr: n ? Math.sqrt(Math.max(0, gained + lost - (d * d) / n)) / n : 0, gained, lost };
}

/** A split's images with every candidate (score ≥ the fprate's MIN_SCORE), its ΣADC, and the TPs for the TP rule. */
async function splitImages(o: HybridOptions, opened: ReturnType<typeof openRun>, split: 'val' | 'eval'): Promise<HybridImage[]> {
  const reader = openDataset(o.data);
  const sim = datasetSimulation(reader);
  const simCache = {};
  const indices = Array.from(reader.split(split));
  if (indices.length === 0) throw new UserError(`${o.data}: split '${split}' is empty`);
  const loader = new BatchLoader({ path: o.data, workers: o.workers, prefetch: 2, pool: new Int32Array(0) });
  const out: HybridImage[] = [];
  const wasTraining = opened.ctx.model.training;
  opened.ctx.model.eval();
  try {
    const reqs = [];
    for (let i = 0; i < indices.length; i += o.batch) reqs.push({ id: -(i + 1), indices: indices.slice(i, i + o.batch), seed: 0, augment: null });
    loader.enqueue(reqs);
    for (let r = 0; r < reqs.length; r++) {
      const b = await loader.next();
      // The same decode threshold as fprate's histogram: a cut at 0 there means every candidate it counted.
      const res = predictBatch(opened.ctx, b, { scoreThreshold: MIN_SCORE, loss: false });
      const plane = b.channels * b.height * b.width;
      res.detections.forEach((dets, k) => {
        const idx = b.indices[k]!;
        const image = b.images.subarray(k * plane, (k + 1) * plane);
        out.push({
          detections: dets.map((d) => ({ ...toDetection(d), sumAdc: boxSumAdcDense(image, b.width, b.height, d) })),
          interactions: triggerInteractions(reader, idx),
          tps: pixelTps(sim.layout, datasetImageTps(reader, sim, idx, simCache)),
        });
      });
      o.onProgress?.(Math.min(indices.length, (r + 1) * o.batch), indices.length, split);
    }
  } finally {
    opened.ctx.model.train(wasTraining);
    await loader.close();
    reader.close();
  }
  return out;
}

/** Why a run's hybrid scan cannot be made from what it has (null when it can): no fprate histogram,
 *  or one from before fprate kept each candidate's ΣADC. The budget plan asks before it scans. */
export function hybridMissing(runDir: string, data: string, seed?: number): string | null {
  const reader = openDataset(data);
  const s = seed ?? simulatorOf(reader.attrs, data).seed;
  reader.close();
  const file = fpStatePath(runDir, s);
  if (!existsSync(file)) return `${file}: no fprate histogram`;
  return readFpState(file).adcCounts ? null : `${file}: no ΣADC histogram (an fprate of an older daqyolo)`;
}

/** `daqyolo hybrid-trigger RUN`: the scan on a run's best (or given) checkpoint, written to eval/hybrid-trigger.json. */
export async function measureHybrid(o: HybridOptions): Promise<HybridReport> {
  const opened = openRun(o.runDir, { checkpoint: o.checkpoint ?? 'best', device: o.device });
  try {
    if (!existsSync(o.data)) throw new UserError(`${o.data}: dataset not found`);
    const reader = openDataset(o.data);
    checkCompatible(opened, reader);
    if (!isSimulated(reader.attrs)) {
      reader.close();
      throw new UserError(`${o.data}: the hybrid scan needs a simulated dataset (its FP histogram streams the same simulation)`);
    }
    const seed = o.seed ?? simulatorOf(reader.attrs, o.data).seed;
    reader.close();
    const file = fpStatePath(o.runDir, seed);
    if (!existsSync(file)) throw new UserError(`${file}: no fprate histogram; run daqyolo fprate ${o.runDir} --images 1000000 first`);
    const fp = readFpState(file);
    if (fp.checkpointDigest !== fileDigest(opened.checkpoint))
      throw new UserError(`${file}: measured with other weights than ${opened.checkpoint}; run fprate again for this checkpoint`);
    if (!fp.adcCounts)
      throw new UserError(`${file}: field adcCounts missing (an fprate of an older daqyolo, or resumed from one); delete the file and run fprate again`);
    const val = await splitImages(o, opened, 'val');
    const ev = await splitImages(o, opened, 'eval');
    let baseline: Parameters<typeof hybridScan>[4];
    let baselineInfo: HybridReport['baseline'] = null;
    if (o.baselineStates?.length) {
      for (const f of o.baselineStates)
        if (!existsSync(f)) throw new UserError(`${f}: no baseline FP state (make one with fprate --baseline --data ${o.data} --images 1000000 --state ${f})`);
      const bfp = readBaselineFpStates(o.baselineStates);
      const r = openDataset(o.data);
      try {
        const settings = baselineSettings(r, bfp, bfp.variants?.length ? ['val', 'eval'] : ['eval']);
        baseline = { fp: bfp, images: settings[0]!.eval, ...(bfp.variants?.length ? { settings } : {}) };
      } finally {
        r.close();
      }
      baselineInfo = { file: o.baselineStates.join(','), images: bfp.images, params: bfp.params, variants: bfp.variants?.length ?? 0 };
    }
    const count = (ims: HybridImage[]) => ims.reduce((a, im) => a + im.interactions.length, 0);
    const report: HybridReport = {
      run: o.runDir,
      checkpoint: opened.checkpoint,
      data: o.data,
      fprate: { file, images: fp.images },
      rule: matchRuleText({ match: DEFAULT_MATCH }),
      adcBin: ADC_BIN,
      valImages: val.length,
      evalImages: ev.length,
      valInteractions: count(val),
      evalInteractions: count(ev),
      baseline: baselineInfo,
      rates: hybridScan(fp, val, ev, o.rates, baseline),
    };
    mkdirSync(join(o.runDir, 'eval'), { recursive: true });
    writeJsonAtomic(join(o.runDir, 'eval', 'hybrid-trigger.json'), report);
    return report;
  } finally {
    opened.model.dispose();
  }
}
