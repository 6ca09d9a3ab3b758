// `daqyolo fprate`: false positives per image and Hz per module on streamed background-only images,
// of a trained run or (with --baseline) of the TDR-era clustering trigger.
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { measureBaselineFpRate, measureFpRate, type FpRow } from '../eval/fprate.js';
import { addClusterOptions, clusterParamsOfData } from './baseline.js';
import { progress } from './progress.js';
import { intArg } from './args.js';

function printRows(rows: FpRow[], score: string, digits: number): void {
  console.log(`${score} ≥   FP count   FP per image   Hz per module   90 % CL`);
  for (const r of rows) {
    console.log(`  ${r.threshold.toFixed(digits)}   ${String(r.fpCount).padStart(8)}   ${r.fpPerImage.toExponential(2).padStart(12)}   ${r.hz.toExponential(2).padStart(13)}   ${r.limitKind === 'upper' ? '<' : '≤'} ${r.limitHz.toExponential(2)} Hz`);
  }
}

export function registerFpRate(program: Command): void {
  addClusterOptions(program
    .command('fprate [run]')
    .description('stream background-only images from the simulator into the network (or the baseline trigger): FP per image and Hz per module (resumable)'))
    .option('--images <n>', 'background-only images in total (2 × 10⁵ reach ≈ 1 Hz per module)', intArg('--images', 1), 100000)
    .option('--seed <n>', 'stream seed (default: the dataset\'s)', intArg('--seed'))
    .option('--data <file>', 'dataset whose simulator configuration to stream (default: the run\'s training data)')
    .option('--baseline', 'measure the baseline clustering trigger instead of a run (needs --data)')
    .option('--state <file>', 'with --baseline: where the resumable count is kept (default beside the dataset)')
    .option('--checkpoint <name>', 'best, last, init or a .safetensors path', 'best')
    .option('--batch <n>', 'inference batch size', intArg('--batch', 1), 16)
    .option('--workers <n>', 'simulation worker threads', intArg('--workers'), 1)
    .option('--faces <n>', 'APA faces per module for Hz per module (PHYSICS.md: 200)', intArg('--faces', 1), 200)
    .option('--device <name>', 'auto, cpu, cuda', 'auto')
    .option('--json', 'print JSON')
    .action(async (run: string | undefined, o) => {
      const control = { stop: false };
      const onSigint = () => { if (control.stop) process.exit(130); control.stop = true; console.error('\nstopping after this batch; the count so far is saved'); };
      if (o.baseline && !o.data) throw new UserError('fprate --baseline: give --data with the simulated dataset whose configuration to stream');
      if (!o.baseline && !run) throw new UserError('fprate: give a run directory, or --baseline --data <file>');
      process.on('SIGINT', onSigint);
      const bar = progress('background images', o.images);
      const trigger = { faces: o.faces };
      try {
        if (o.baseline) {
          const result = await measureBaselineFpRate({ data: o.data, images: o.images, params: clusterParamsOfData(o, o.data), seed: o.seed, workers: o.workers,
            state: o.state, trigger, control, onProgress: (d) => bar.update(d) });
          bar.stop();
          if (o.json) { console.log(JSON.stringify({ ...result, sumAdc: undefined }, null, 2)); return; }
          console.log(`baseline on ${o.data}: ${result.images} background-only images (seed ${result.seed}), ${result.imagesPerSecond.toFixed(1)} images/s this session`);
          printRows(result.rows, 'ΣADC', 0);
          if (control.stop) console.log(`stopped at ${result.images} images; run the same command to continue`);
          return;
        }
        const result = await measureFpRate({ runDir: run!, images: o.images, seed: o.seed, data: o.data, checkpoint: o.checkpoint, batch: o.batch,
          workers: o.workers, device: o.device, trigger, control, onProgress: (d) => bar.update(d) });
        bar.stop();
        if (o.json) { console.log(JSON.stringify(result, null, 2)); return; }
        console.log(`${run}: ${result.images} background-only images (seed ${result.seed}), ${result.imagesPerSecond.toFixed(1)} images/s this session`);
        printRows(result.rows, 'score', 2);
        if (control.stop) console.log(`stopped at ${result.images} images; run the same command to continue`);
      } finally {
        bar.stop();
        process.off('SIGINT', onSigint);
      }
    });
}
