// `daqyolo baseline`: the TDR-era clustering trigger on a dataset's TPs and on streamed
// background-only images (the ones `evaluate` uses), reported like `evaluate`'s trigger section.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { openDataset } from '../data/store.js';
import { UserError } from '../errors.js';
import { DEFAULT_FACES, DEFAULT_MATCH, MATCH_RULES, evaluateTrigger, type MatchRule, type TriggerImage, type TriggerOptions } from '../eval/efficiency.js';
import type { BaselineReport } from '../eval/evaluate.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { candidateDetections, datasetBaselineImages, datasetSimulation, streamBaselineBackground } from '../trigger/baseline.js';
import { storedBackground, tpImportInfo } from '../formats/tps/import.js';
import { defaultClusterParams, type ClusterParams } from '../trigger/cluster.js';
import { count, integer, number, oneOf, MAX } from './options.js';
import { MATCH_HELP } from './args.js';
import { SPLIT_NAMES } from '../data/splits.js';
import { summarizeTrigger } from './evaluate.js';
import { progress } from './progress.js';

// A candidate keeps its TPs: the TP rule counts the cluster's own TPs, not those its box happens to cover.

/** The cluster options shared by `baseline` and `fprate --baseline`. */
export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option('--channel-tolerance <n>', 'largest channel gap in a cluster (1 = adjacent wires)', count(10_000))
    .option('--max-dt <ticks>', 'largest peak-time difference of linked TPs', integer({ max: 1_000_000 }))
    .option('--min-hits <n>', 'fewest TPs in a candidate', count(1_000_000))
    .option('--min-channels <n>', 'fewest channels in a candidate', count(100_000))
    .option('--min-sum-adc <adc>', 'ΣADC threshold of the headline table (default 400 × 2^(ADC bits − 12))', number({ min: 0, max: 1e12 }));
}

/** Cluster parameters from the options, on the defaults for the dataset's ADC. */
export function clusterParamsOf(o: Record<string, number | undefined>, adcBits: number): ClusterParams {
  const p = defaultClusterParams(adcBits);
  return {
    channelTolerance: o.channelTolerance ?? p.channelTolerance,
    maxDtTicks: o.maxDt ?? p.maxDtTicks,
    minHits: o.minHits ?? p.minHits,
    minChannels: o.minChannels ?? p.minChannels,
    minSumAdc: o.minSumAdc ?? p.minSumAdc,
  };
}

/** Cluster parameters from the options, on the defaults for the ADC of the dataset's simulator. */
export function clusterParamsOfData(o: Record<string, number | undefined>, data: string): ClusterParams {
  const r = openDataset(data);
  try {
    return clusterParamsOf(o, datasetSimulation(r).config.electronics.adcBits);
  } finally {
    r.close();
  }
}

/** The baseline on a dataset split and on `background` streamed background-only images (evaluate's). */
export async function runBaseline(o: {
  data: string;
  split: 'train' | 'val' | 'eval';
  params: ClusterParams;
  limit?: number;
  background: number;
  workers: number;
  match?: MatchRule;
  otherRules?: readonly MatchRule[];
  faces?: number;
  showProgress?: boolean;
}): Promise<BaselineReport> {
  const t0 = performance.now();
  const reader = openDataset(o.data);
  try {
    const sim = datasetSimulation(reader);
    const bar = o.showProgress ? progress(`baseline [${o.split}]`, 1) : null;
    const images = datasetBaselineImages(reader, o.split, o.params, o.limit ?? 0, (d, n) => {
      if (d === 1) bar?.phase(`baseline [${o.split}]`, n);
      bar?.update(d);
    });
    bar?.stop();
    let background: TriggerImage[] = [];
    const tp = tpImportInfo(reader.attrs);
    if (tp) {
      // Imported TPs: the split's own background windows, not a simulated stream.
      let indices = Array.from(reader.split(o.split));
      if (o.limit) indices = indices.slice(0, o.limit);
      const bgSet = new Set(storedBackground(tp, reader, indices));
      background = images.filter((_, k) => bgSet.has(indices[k]!)).map((im) => ({ detections: candidateDetections(im.candidates), interactions: [] }));
    } else {
      const bg = o.showProgress ? progress('background', o.background) : null;
      for await (const c of streamBaselineBackground(sim, o.background, o.params, { workers: o.workers })) {
        background.push({ detections: candidateDetections(c), interactions: [] });
        if (background.length % 64 === 0) bg?.update(background.length);
      }
      bg?.stop();
    }
    const d = sim.config.detector;
    const signal: TriggerImage[] = images.map((im) => ({ detections: candidateDetections(im.candidates), interactions: im.interactions, tps: im.tps }));
    const opts: TriggerOptions = {
      faces: o.faces ?? DEFAULT_FACES,
      scoreThreshold: o.params.minSumAdc,
      windowTicks: d.windowTicks,
      tickSeconds: d.tickUs * 1e-6,
    };
    const match = o.match ?? DEFAULT_MATCH;
    const trigger = evaluateTrigger(signal, { ...opts, match }, background);
    const others = (o.otherRules ?? []).filter((r) => r !== match);
    const p = o.params;
    return {
      algorithm: `TDR-era TP clustering: channel gap ≤ ${p.channelTolerance}, Δt ≤ ${p.maxDtTicks} ticks, ≥ ${p.minHits} TPs on ≥ ${p.minChannels} channels, scored by ΣADC`,
      params: p,
      data: o.data,
      split: o.split,
      images: images.length,
      backgroundImages: background.length,
      seconds: (performance.now() - t0) / 1000,
      trigger,
      ...(others.length ? { otherRules: others.map((r) => evaluateTrigger(signal, { ...opts, match: r }, background)) } : {}),
    };
  } finally {
    reader.close();
  }
}

export function registerBaseline(program: Command): void {
  addClusterOptions(
    program
      .command('baseline <data>')
      .description('the TDR-era TP clustering trigger: efficiency vs Eν and FP rate per module, on the same images as evaluate'),
  )
    .option('--split <name>', 'train, val or eval', oneOf(SPLIT_NAMES), 'eval')
    .option('--limit <n>', 'use at most n images of the split', integer({ max: MAX.datasetImages }), 0)
    .option('--background <n>', 'background-only images streamed from the simulator for the FP rate', integer({ max: MAX.streamImages }), 5000)
    .option('--workers <n>', 'simulation worker threads for the background', integer({ max: MAX.processes }), 1)
    .option('--match <rule>', MATCH_HELP, oneOf(MATCH_RULES), DEFAULT_MATCH)
    .option('--faces <n>', 'APA faces per module for Hz per module (PHYSICS.md: 200)', count(100_000), 200)
    .option('--out <file>', 'report JSON (default: <run>/baseline/<split>.json with --run, else beside the dataset)')
    .option('--run <dir>', 'a training run whose report should draw the baseline beside the network')
    .option('--json', 'print the report as JSON')
    .action(async (data: string, o) => {
      if (!['train', 'val', 'eval'].includes(o.split)) throw new UserError(`--split ${o.split}: expected train, val or eval`);
      const match = o.match as MatchRule;
      const params = clusterParamsOfData(o, data);
      const report = await runBaseline({
        data,
        split: o.split,
        params,
        limit: o.limit,
        background: o.background,
        workers: o.workers,
        match,
        faces: o.faces,
        showProgress: true,
      });
      const out = o.out ?? (o.run ? join(o.run, 'baseline', `${o.split}.json`) : join(dirname(data), `baseline-${o.split}.json`));
      mkdirSync(dirname(out), { recursive: true });
      writeJsonAtomic(out, report);
      if (o.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`baseline on ${data} [${o.split}]: ${report.images} images, ${report.backgroundImages} background-only images; ${report.algorithm}`);
        console.log(summarizeTrigger(report.trigger, 'ΣADC').join('\n'));
        console.log(`written: ${out}`);
      }
    });
}
