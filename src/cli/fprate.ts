// `daqyolo fprate`: false positives per image and Hz per module on streamed background-only images,
// of a trained run or (with --baseline) of the TDR-era clustering trigger; a long stream of a run
// splits into shards (--shard i/n, e.g. a Slurm array) whose histograms --merge adds up exactly.
import { Command } from 'commander';
import { UserError } from '../errors.js';
import {
  DEFAULT_KEEP_TOP,
  fpStatePath,
  isTpImport,
  measureBaselineFpRate,
  measureFpRate,
  DEFAULT_FP_BATCH,
  measureStoredFpRate,
  mergeFpShards,
  type FpResult,
  type BaselineFpState,
  type FpRow,
} from '../eval/fprate.js';
import { topImageLines, writeTopImages } from '../eval/fprate-top.js';
import { join } from 'node:path';
import { readResolvedRun } from '../schema/run.js';
import { shq } from '../sweep/slurm.js';
import { CLI } from '../sweep/local.js';
import { defaultFpParallel, measureFpRatePool } from '../sweep/fprate-pool.js';
import { defaultDevice } from '../torch/index.js';
import { writeScript } from './launch.js';
import { addClusterOptions, clusterParamsOfData } from './baseline.js';
import { progress } from './progress.js';
import { clusterVariantsList, count, device, integer, number, shard, text, MAX } from './options.js';
import type { ClusterParams } from '../trigger/cluster.js';
import { variantThresholdForRate } from '../study/endpoint.js';
import type { TriggerOptions } from '../eval/efficiency.js';
import { onStopSignals, stopWithParent } from './signals.js';

/** `i/n` → { index, count }. */
function printRows(rows: FpRow[], score: string, digits: number): void {
  // The FP rate needs no matching rule: on a background-only image every candidate is a false positive.
  console.log('false positive: any candidate on a background-only image (the same under every matching rule: tps, iou, centre)');
  console.log(`${score} ≥   FP count   FP per image   Hz per module   90 % CL`);
  for (const r of rows) {
    console.log(
      `  ${r.threshold.toFixed(digits)}   ${String(r.fpCount).padStart(8)}   ${r.fpPerImage.toExponential(2).padStart(12)}   ${r.hz.toExponential(2).padStart(13)}   ${r.limitKind === 'upper' ? '<' : '≤'} ${r.limitHz.toExponential(2)} Hz`,
    );
  }
}

function printTable(run: string, result: FpResult): void {
  console.log(
    `${run}: ${result.images} background-only images (seed ${result.seed}), ${result.imagesPerSecond.toFixed(1)} images/s this session${result.shard ? ` (shard ${result.shard.index}/${result.shard.count}: images ${result.shard.first}–${result.shard.first + result.shard.images - 1} of ${result.shard.totalImages})` : ''}`,
  );
  printRows(result.rows, 'score', 2);
}

const note = (message: string) => console.error(`note: ${message}`);

/** --write-top: the count's highest-scoring images as a dataset, and what each candidate holds. */
function writeTop(run: string, result: FpResult, o: { writeTop: string; top?: number; data?: string; json?: boolean }): void {
  const data = o.data ?? readResolvedRun(join(run, 'config.json')).config.data;
  const summaries = writeTopImages({ state: result, statePath: fpStatePath(run, result.seed), data, out: o.writeTop, count: o.top });
  const log = o.json ? console.error : console.log;
  const partial = result.top!.images < result.images ? ` (the last ${result.top!.images} of the count's ${result.images}: an older daqyolo began it)` : '';
  log(
    `wrote ${o.writeTop}: the ${summaries.length} highest-scoring of ${result.top!.images} background-only images${partial}, best first, each with its TPs and their sources; draw them with daqyolo detect ${run} ${o.writeTop} --indices 0-${summaries.length - 1} --zoom --out <dir>`,
  );
  log('  rank  score  the image and what its best candidate box holds');
  for (const line of topImageLines(summaries)) log(line);
}

/** What a baseline stream's other clusterings cut at 1.8 and 10 Hz per module (their lists are too long to print). */
function variantCuts(result: BaselineFpState, trigger: TriggerOptions) {
  return result.variants?.map((v) => ({
    params: v.params,
    candidates: v.sumAdc.length + v.dropped,
    cuts: [1.8, 10].map((hz) => variantThresholdForRate(result, v, hz, trigger)),
  }));
}

export function registerFpRate(program: Command): void {
  addClusterOptions(
    program
      .command('fprate [run]')
      .description(
        'stream background-only images from the simulator into the network (or the baseline trigger): FP per image and Hz per module (resumable, shardable)',
      ),
  )
    .option('--images <n>', 'background-only images in total (10⁶ reach ≈ 1 Hz per module)', count(MAX.streamImages), 100000)
    .option('--seed <n>', "stream seed (default: the dataset's)", integer({ max: MAX.seed }))
    .option(
      '--data <file>',
      "dataset whose simulator configuration to stream (default: the run's training data); an imported TP dataset (import tps): its own background windows",
    )
    .option('--baseline', 'measure the baseline clustering trigger instead of a run (needs --data)')
    .option('--state <file>', 'with --baseline: where the resumable count is kept (default beside the dataset)')
    .option(
      '--cluster-variants <list>',
      'with --baseline: other clusterings of the same images as gap:Δt pairs (e.g. 4:40,8:80), counted in the same pass; hybrid-trigger --baseline tunes over them on validation',
      clusterVariantsList,
    )
    .option('--checkpoint <name>', 'best, last, init or a .safetensors path', text(), 'best')
    .option('--batch <n>', 'inference batch size', count(MAX.batch), DEFAULT_FP_BATCH)
    .option('--workers <n>', 'simulation worker threads', integer({ max: MAX.processes }), 1)
    .option('--faces <n>', 'APA faces per module for Hz per module (PHYSICS.md: 200)', count(100_000), 200)
    .option('--device <name>', 'auto, cpu, cuda', device(), 'auto')
    .option('--json', 'print JSON')
    .option(
      '--parallel <n>',
      'shards at once as child processes on this machine, one core each, merged at the end (1 = one process with --workers simulation threads; default: one per core on a CPU, 1 on a GPU)',
      count(MAX.processes),
    )
    .option(
      '--save-every <s>',
      'seconds between saves of the count so far (a stopped or killed run resumes from the last)',
      number({ min: 0.1, max: 86_400 }),
      10,
    )
    .option(
      '--keep-top <n>',
      `highest-scoring images the count keeps (stream index, score, box) for --write-top (default ${DEFAULT_KEEP_TOP}; a 10⁶-image count has ≈ 20 FPs at 1.8 Hz per module)`,
      count(100_000),
    )
    .option(
      '--write-top <file>',
      'when the count is complete: write its highest-scoring images as a dataset with their TPs (for detect/show) and list what each candidate holds',
    )
    .option('--top <n>', 'with --write-top: write only the n highest', count(100_000))
    .option('--shard <i/n>', 'measure only shard i of n of the stream (own histogram; then --merge)', shard(100_000))
    .option('--merge', "add up the shards' histograms (all n, finished): the table of the whole stream")
    .option('--slurm <script>', 'with --shards: write a Slurm array script, one task per shard')
    .option(
      '--shards <n>',
      'with --slurm: number of shards (array tasks); with --merge: which split to merge (default: the one there, or the complete one written last)',
      count(100_000),
    )
    .action(async (run: string | undefined, o) => {
      if (o.baseline && !o.data) throw new UserError('fprate --baseline: give --data with the simulated dataset whose configuration to stream');
      if (!o.baseline && !run) throw new UserError('fprate: give a run directory, or --baseline --data <file>');
      if (o.clusterVariants && !o.baseline) throw new UserError('fprate --cluster-variants: only with --baseline (other clusterings of the baseline trigger)');
      if (o.baseline && (o.shard || o.merge || o.slurm))
        throw new UserError("fprate --baseline streams in one process (it runs at the simulation's speed); --shard, --merge and --slurm are for runs");
      if (o.parallel && (o.slurm || o.merge))
        throw new UserError('--parallel runs shards on this machine; not with --slurm (one array task per shard) or --merge');
      if (o.merge) {
        const result = mergeFpShards(run!, { seed: o.seed, shards: o.shards, onNote: note });
        if (o.json) console.log(JSON.stringify(result, null, 2));
        else printTable(run!, result);
        if (o.writeTop) writeTop(run!, result, o);
        return;
      }
      if (o.slurm) {
        if (!o.shards) throw new UserError('--slurm needs --shards <n> (one array task per shard)');
        const args = [
          'fprate',
          run!,
          '--images',
          String(o.images),
          '--batch',
          String(o.batch),
          '--checkpoint',
          o.checkpoint,
          '--workers',
          String(o.workers),
          '--faces',
          String(o.faces),
          ...(o.seed !== undefined ? ['--seed', String(o.seed)] : []),
          ...(o.data ? ['--data', o.data] : []),
        ];
        writeScript(
          o.slurm,
          [
            '#!/bin/bash',
            `# daqyolo fprate ${run}: ${o.images} background-only images in ${o.shards} shards, one Slurm array task each.`,
            `# Submit: sbatch ${o.slurm}; when all tasks are done: daqyolo fprate ${run} --merge`,
            '# (resubmitting continues unfinished shards; finished ones return at once)',
            `#SBATCH --job-name=daqyolo-fprate`,
            `#SBATCH --array=0-${o.shards - 1}`,
            `#SBATCH --cpus-per-task=${Math.max(1, o.workers + 1)}`,
            `#SBATCH --output=${o.slurm}.%A_%a.out`,
            'set -euo pipefail',
            `export DAQYOLO_THREADS=\${SLURM_CPUS_PER_TASK:-1}`,
            `exec ${shq(process.execPath)} ${shq(CLI)} ${args.map(shq).join(' ')} --shard "$SLURM_ARRAY_TASK_ID/${o.shards}"`,
            '',
          ].join('\n'),
        );
        console.log(`wrote ${o.slurm}: sbatch ${o.slurm}, then daqyolo fprate ${run} --merge`);
        return;
      }
      if (!o.baseline && o.data && isTpImport(o.data)) {
        // Imported TPs: the dataset's own background windows, not a simulated stream.
        const result = await measureStoredFpRate({
          runDir: run!,
          data: o.data,
          images: o.images,
          checkpoint: o.checkpoint,
          batch: o.batch,
          device: o.device,
          trigger: { faces: o.faces },
        });
        if (o.json) {
          console.log(JSON.stringify(result, null, 2));
          return;
        }
        console.log(`${run}: ${result.images} stored background windows of ${o.data}; ${result.note}`);
        printRows(result.rows, 'score', 2);
        return;
      }
      if (o.parallel > 1 && (o.baseline || o.shard)) throw new UserError('--parallel runs the shards of a run here; not with --baseline or --shard');
      // Unset: every core, as shards (a run's stream only; the baseline's runs at the simulation's speed).
      const parallel: number =
        o.parallel ?? (o.baseline || o.shard ? 1 : defaultFpParallel(defaultDevice(o.device === 'auto' ? undefined : o.device), o.images, o.batch));
      const control = { stop: false };
      const signals = onStopSignals(control, 'stopping after this batch and saving the count so far');
      stopWithParent(control, 'stopping after this batch and saving the count so far'); // a shard of a pool (sweep/fprate-pool.ts)
      const bar = progress('background images', o.images);
      const trigger = { faces: o.faces };
      try {
        if (o.baseline) {
          const result = await measureBaselineFpRate({
            data: o.data,
            images: o.images,
            params: clusterParamsOfData(o, o.data),
            variants: o.clusterVariants?.map((v: Pick<ClusterParams, 'channelTolerance' | 'maxDtTicks'>) => ({ ...clusterParamsOfData(o, o.data), ...v })),
            seed: o.seed,
            workers: o.workers,
            state: o.state,
            trigger,
            control,
            onProgress: (d) => bar.update(d),
          });
          bar.stop();
          const variants = variantCuts(result, trigger);
          if (o.json) {
            console.log(JSON.stringify({ ...result, sumAdc: undefined, variants }, null, 2));
            return;
          }
          console.log(
            `baseline on ${o.data}: ${result.images} background-only images (seed ${result.seed}), ${result.imagesPerSecond.toFixed(1)} images/s this session`,
          );
          printRows(result.rows, 'ΣADC', 0);
          for (const v of variants ?? [])
            console.log(
              `  other clustering gap ${v.params.channelTolerance}, Δt ${v.params.maxDtTicks}: ${v.candidates.toLocaleString('en')} candidates; ${v.cuts.map((c) => `${c.targetHz} Hz ${c.threshold === null ? 'not reachable' : `at ΣADC ≥ ${c.threshold.toFixed(0)}`} (${c.fpCount} FP)`).join(', ')}`,
            );
          if (control.stop) console.log(`stopped at ${result.images} images; run the same command to continue`);
          return;
        }
        if (parallel > 1) {
          const pool = await measureFpRatePool({
            runDir: run!,
            images: o.images,
            parallel,
            batch: o.batch,
            checkpoint: o.checkpoint,
            seed: o.seed,
            data: o.data,
            device: o.device,
            trigger,
            saveEverySeconds: o.saveEvery,
            keepTop: o.keepTop,
            control,
            onProgress: (d) => bar.update(d),
          });
          bar.stop();
          if (pool.stopped) {
            console.log(`stopped at ${pool.images} of ${o.images} images (in ${parallel} shards); run the same command to continue`);
            return;
          }
          if (o.json) console.log(JSON.stringify(pool.result, null, 2));
          else printTable(run!, pool.result);
          if (o.writeTop) writeTop(run!, pool.result, o);
          return;
        }
        const result = await measureFpRate({
          runDir: run!,
          images: o.images,
          seed: o.seed,
          data: o.data,
          checkpoint: o.checkpoint,
          batch: o.batch,
          workers: o.workers,
          device: o.device,
          trigger,
          control,
          onProgress: (d) => bar.update(d),
          shard: o.shard,
          saveEverySeconds: o.saveEvery,
          onNote: note,
          keepTop: o.keepTop,
        });
        bar.stop();
        if (o.json) console.log(JSON.stringify(result, null, 2));
        else printTable(run!, result);
        if (control.stop) {
          console.log(`stopped at ${result.images} images; run the same command to continue`);
          return;
        }
        if (o.writeTop) {
          if (o.shard) throw new UserError('--write-top: merge the shards first (fprate --merge --write-top), so the list is the whole stream’s');
          writeTop(run!, result, o);
        }
      } finally {
        bar.stop();
        signals.done();
      }
    });
}
