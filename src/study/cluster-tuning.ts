// The clustering trigger tuned over its channel gap and Δt (the control for "is it only a bigger
// region?", docs/budget.md): a baseline FP stream's own clustering and its other ones
// (fprate --baseline --cluster-variants), each cut at its own ΣADC for a rate from the same
// background images, measured on the validation and evaluation splits; the one of highest
// validation efficiency is chosen and reported on evaluation. hybrid-trigger pairs it against the
// network; the budget plan draws it beside the TDR baseline.
import type { DatasetReader, DatasetTables } from '../data/store.js';
import type { BaselineFpState } from '../eval/fprate.js';
import { efficiencyByEnergy, type TriggerImage } from '../eval/efficiency.js';
import type { BinomialSummary } from '../schema/evaluation.js';
import { candidateDetections, datasetBaselineImagesEach, type BaselineImage } from '../trigger/baseline.js';
import type { ClusterParams } from '../trigger/cluster.js';
import { baselineThresholdForRate, variantThresholdForRate } from './endpoint.js';
import type { RateThreshold } from './endpoint-rows.js';

/** One clustering for the tuning: its cut at a rate and its candidates on both splits. */
export interface BaselineSetting {
  params: ClusterParams;
  cut: (targetHz: number) => RateThreshold;
  val: readonly TriggerImage[];
  eval: readonly TriggerImage[];
}

/** One clustering of a tuning at one rate: its own ΣADC cut from the same background stream. */
export interface BaselineSettingAtRate extends RateThreshold {
  channelTolerance: number;
  maxDtTicks: number;
  val: BinomialSummary | null;
  eval: BinomialSummary | null;
}

const asTrigger = (ims: BaselineImage[]): TriggerImage[] =>
  ims.map((im) => ({ detections: candidateDetections(im.candidates), interactions: im.interactions, tps: im.tps }));

/**
 * The stream's clusterings (its own first) with every candidate of the dataset's splits (minSumAdc
 * 0: each rate's cut is applied to their ΣADC). `splits` 'eval' alone where no tuning is wanted.
 */
export function baselineSettings(
  reader: DatasetReader & DatasetTables,
  bfp: BaselineFpState,
  splits: readonly ('val' | 'eval')[] = ['val', 'eval'],
): BaselineSetting[] {
  const all = [bfp.params, ...(bfp.variants ?? []).map((v) => v.params)].map((p) => ({ ...p, minSumAdc: 0 }));
  const evs = datasetBaselineImagesEach(reader, 'eval', all).map(asTrigger);
  const vals = splits.includes('val') ? datasetBaselineImagesEach(reader, 'val', all).map(asTrigger) : all.map(() => []);
  return all.map((params, k) => ({
    params,
    cut: (hz: number) => (k === 0 ? baselineThresholdForRate(bfp, hz) : variantThresholdForRate(bfp, bfp.variants![k - 1]!, hz)),
    val: vals[k]!,
    eval: evs[k]!,
  }));
}

/** Every clustering at the rate, and the index of the one of highest validation efficiency (the
 *  first of equals: the stream's own comes first); -1 where none reaches the rate. */
export function chooseClustering(settings: readonly BaselineSetting[], targetHz: number): { rows: BaselineSettingAtRate[]; chosen: number } {
  const rows: BaselineSettingAtRate[] = settings.map((s) => {
    const t = s.cut(targetHz);
    return {
      ...t,
      channelTolerance: s.params.channelTolerance,
      maxDtTicks: s.params.maxDtTicks,
      val: t.threshold === null ? null : efficiencyByEnergy(s.val, t.threshold).integrated.all,
      eval: t.threshold === null ? null : efficiencyByEnergy(s.eval, t.threshold).integrated.all,
    };
  });
  let chosen = -1;
  rows.forEach((r, i) => {
    if (r.val && (chosen < 0 || r.val.k > rows[chosen]!.val!.k)) chosen = i;
  });
  return { rows, chosen };
}
