// `daqyolo trigger`: the network (or with --baseline the clustering trigger) over a continuous TP
// stream per APA face, candidates out as DUNE-DAQ TriggerCandidate fields in JSON lines, in time
// order, as soon as they are final; the efficiency and FP rate from the stream's truth and the
// real-time figures at the end (docs/trigger.md).
import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { openDataset } from '../data/store.js';
import { imageLayout } from '../sim/image.js';
import { parseSimConfig, type SimConfig } from '../sim/config.js';
import { offlineChannel, simulateTpStream } from '../sim/stream-sim.js';
import { getNumThreads } from '../torch/index.js';
import { openRun } from '../infer/open-run.js';
import { simulatorOf } from '../eval/evaluate.js';
import { baselineDetector, clusterPrefilter, networkDetector } from '../trigger/detectors.js';
import { withProgress } from './progress.js';
import { runStreamTrigger, type StreamTriggerRun } from '../trigger/run-stream.js';
import { candidateBinary, candidateJson } from '../trigger/stream.js';
import { addClusterOptions, clusterParamsOf } from './baseline.js';
import { count, device, integer, MAX, number, oneOf, text } from './options.js';
import { openTpStream, readChannelMap, TP_FORMATS } from '../formats/tps/index.js';
import { onStopSignals } from './signals.js';

/** Default overlap of consecutive windows, ticks: 99 % of 70 MeV νe-CC interactions span less in time (docs/trigger.md). */
export const DEFAULT_OVERLAP_TICKS = 2000;

function simConfigOfData(data: string): { config: SimConfig; seed: number } {
  if (!existsSync(data)) throw new UserError(`${data}: dataset not found`);
  const r = openDataset(data);
  try {
    const s = simulatorOf(r.attrs, data);
    return { config: s.config, seed: s.seed };
  } finally {
    r.close();
  }
}

export function printRun(r: StreamTriggerRun): void {
  const s = r.summary,
    t = r.realTime;
  const out = (l: string) => process.stderr.write(`${l}\n`);
  out(
    `trigger (${r.detector}): ${s.faces} faces, ${(s.streamTicks * 0.5e-6).toFixed(3)} s of stream, ${s.tps} TPs${s.lateTps ? ` (+${s.lateTps} late, dropped)` : ''}, ` +
      `${s.windows} windows of ${r.windowTicks} ticks every ${r.strideTicks}${s.windowsSkipped ? ` (${s.windowsSkipped} skipped by the pre-filter)` : ''}, ${s.candidates} candidates${r.stopped ? ' — stopped early' : ''}`,
  );
  out(
    `  real time: ${t.tpsPerSecond.toFixed(0)} TPs/s, ${t.faceWindowsPerSecond.toFixed(1)} face-windows/s, real-time factor per face ${t.realTimeFactorPerFace.toFixed(2)}, ` +
      `latency p50 ${t.latencyMs.p50Ms.toFixed(1)} ms / p99 ${t.latencyMs.p99Ms.toFixed(1)} ms, detector ${(100 * t.detectShare).toFixed(0)} % of the time`,
  );
  out(`  a 10 kt module (200 faces, ${t.moduleFaceWindowsPerSecond.toFixed(0)} face-windows/s at this overlap): ${t.coresPerModule.toFixed(0)} cores`);
  if (r.trigger) {
    const e = r.trigger.efficiency.integrated,
      fp = r.trigger.falsePositives;
    out(
      `  truth (score ≥ ${r.trigger.threshold}): efficiency ${e.k}/${e.n} = ${e.efficiency === null ? '—' : `${(100 * e.efficiency).toFixed(1)} ± ${(100 * e.stdErr!).toFixed(1)} %`}, ` +
        `FP ${fp.count} = ${fp.hzPerModule.toFixed(1)} Hz per module (≤ ${fp.hzPerModuleUpper90.toFixed(1)} at 90 %)`,
    );
    out(`  by Eν: ${r.trigger.efficiency.bins.map((b) => `${b.loMeV}–${b.hiMeV} ${b.k}/${b.n}`).join(', ')} MeV`);
    for (const p of r.trigger.operatingPoints) {
      out(
        `  at ≤ ${p.targetHz} Hz per module: ${p.threshold === null ? 'not reached' : `score ≥ ${p.threshold.toPrecision(3)}, efficiency ${(100 * p.efficiency!).toFixed(1)} %`}`,
      );
    }
  }
}

export function registerTrigger(program: Command): void {
  addClusterOptions(
    program
      .command('trigger [run] [streams...]')
      .description(
        'run the network (or --baseline) over a continuous TP stream per APA face: trigger candidates as JSON lines in time order, efficiency and FP rate from truth, real-time figures',
      ),
  )
    .option('--baseline', 'the baseline clustering trigger instead of a run')
    .option('--data <file>', "dataset whose simulator configuration gives the image layout (default: the run's training data)")
    .option(
      '--simulate <seconds>',
      'trigger on a stream simulated on the fly (simulate --stream) instead of files',
      number({ min: 0, max: 1e6, exclusiveMin: true }),
    )
    .option('--faces <n>', 'with --simulate: APA faces', count(100_000), 4)
    .option('--sn-rate <hz>', 'with --simulate: signal interactions per face per second', number({ min: 0, max: 1e9 }), 50)
    .option('--seed <n>', 'with --simulate: stream seed', integer({ max: MAX.seed }), 1)
    .option('--overlap <ticks>', 'overlap of consecutive windows (docs/trigger.md "Overlap")', number({ min: 0, max: 1e9 }), DEFAULT_OVERLAP_TICKS)
    .option('--format <kind>', 'TP file format (default: found from the content; docs/tps.md)', oneOf(TP_FORMATS))
    .option('--channel-map <file>', 'CSV channel map for TP files (default FD-HD offline numbering; docs/tps.md)')
    .option('--reorder <ticks>', "how far the input may go back in time (reorder buffer; default: the reader's)", number({ min: 0, max: 1e12 }))
    .option(
      '--batch <n>',
      'windows per forward pass (across faces); a window waits for its batch to fill (1: each window at once, the lowest latency)',
      count(MAX.batch),
      16,
    )
    .option(
      '--threshold <score>',
      'score of written candidates and of the efficiency table (default 0.5; the baseline: its ΣADC threshold)',
      number({ min: 0, max: 1e12 }),
    )
    .option('--prefilter', 'network: skip windows without a TP cluster of ΣADC ≥ --min-sum-adc (the cluster options; cost in docs/trigger.md)')
    .option('--prefilter-margin <ticks>', "with --prefilter: how far outside the window's core a cluster's centre may lie", number({ min: 0, max: 1e6 }), 500)
    .option('--checkpoint <name>', 'best, last, init or a .safetensors path', text(), 'best')
    .option('--device <name>', 'auto, cpu, cuda', device(), 'auto')
    .option('--threads <n>', 'libtorch threads', count(MAX.processes))
    .option('--out <file>', 'candidates as JSON lines (default: standard output)')
    .option('--out-binary <file>', 'also the candidates as DUNE-DAQ TriggerCandidate structs (56 bytes each, no input activities; docs/trigger.md)')
    .option('--json', 'print the summary as JSON on standard output (needs --out)')
    .action(async (run: string | undefined, streams: string[], o) => {
      if (!o.baseline && !run) throw new UserError('trigger: give a run directory, or --baseline');
      if (o.baseline && run) streams = [run, ...streams];
      if (o.json && !o.out) throw new UserError('trigger --json prints the summary on standard output: give --out for the candidates');
      if (o.simulate === undefined && streams.length === 0) throw new UserError('trigger: give TP stream files (- = standard input), or --simulate SECONDS');
      if (o.simulate !== undefined && streams.length) throw new UserError('trigger: TP files or --simulate, not both');
      const opened = o.baseline ? null : openRun(run!, { checkpoint: o.checkpoint, device: o.device, threads: o.threads });
      const data = o.data ?? opened?.run.config.data;
      const sim = data ? simConfigOfData(data) : { config: parseSimConfig({}), seed: 1 };
      const config = sim.config;
      const layout = imageLayout(config);
      const params = clusterParamsOf(o, config.electronics.adcBits);
      const threshold = o.threshold ?? (o.baseline ? params.minSumAdc : 0.5);
      const detector = o.baseline
        ? baselineDetector(layout, params, Math.min(threshold, params.minSumAdc) / 4)
        : networkDetector(opened!.ctx, layout, { scoreThreshold: Math.min(0.01, threshold) });
      const channels = config.detector.channels;
      const files =
        o.simulate === undefined
          ? await openTpStream(streams, {
              format: o.format,
              reorderTicks: o.reorder,
              planes: [2],
              alignTicks: config.detector.windowTicks,
              channelMap: o.channelMap ? readChannelMap(o.channelMap) : undefined,
            })
          : null;
      const stream = files ?? simulateTpStream(config, { seconds: o.simulate, faces: o.faces, snRateHz: o.snRate, seed: o.seed });
      // Candidates name detector channels: the files' channel map, or the simulator's FD-HD offline numbering.
      const channelOf = files
        ? (f: number, w: number) => files.channelMap.channelOf(Math.floor(f / 2), 2, f % 2, w) ?? w
        : (f: number, w: number) => offlineChannel(f, w, channels);
      const control = { stop: false };
      const signals = onStopSignals(control, 'finishing the windows read so far and printing the summary');
      const target = o.out ? `${o.out}.partial` : null;
      const fd = target ? openSync(target, 'w') : 1;
      const binTarget = o.outBinary ? `${o.outBinary}.partial` : null;
      const binFd = binTarget ? openSync(binTarget, 'w') : -1;
      try {
        // A stream's TPs are not counted in advance: the count so far and its rate.
        const r = await withProgress(
          'trigger',
          0,
          (p) =>
            runStreamTrigger(stream, {
              layout,
              windowTicks: config.detector.windowTicks,
              overlapTicks: o.overlap,
              reorderTicks: files ? config.detector.windowTicks : o.reorder,
              batchWindows: o.batch,
              detector,
              prefilter:
                o.prefilter && !o.baseline
                  ? clusterPrefilter(layout, params, { windowTicks: config.detector.windowTicks, overlapTicks: o.overlap, marginTicks: o.prefilterMargin })
                  : undefined,
              threshold,
              tickSeconds: config.detector.tickUs * 1e-6,
              cores: o.baseline ? 1 : Math.max(1, getNumThreads()),
              channelOf,
              control,
              onCandidate: (c) => {
                writeSync(fd, `${candidateJson(c)}\n`);
                if (binFd >= 0) writeSync(binFd, candidateBinary(c));
              },
              onProgress: (tps) => p.update(tps),
            }),
          { unit: 'TPs' },
        );
        if (target) {
          closeSync(fd);
          renameSync(target, o.out);
        }
        if (binTarget) {
          closeSync(binFd);
          renameSync(binTarget, o.outBinary);
        }
        if (o.json) console.log(JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? Number(v) : v === Infinity ? null : v), 2));
        printRun(r);
      } finally {
        opened?.model.dispose();
        signals.done();
      }
    });
}
