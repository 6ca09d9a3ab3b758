// `daqyolo fprate`: false positives per image and Hz per module on streamed background-only images.
import { Command } from 'commander';
import { measureFpRate } from '../eval/fprate.js';
import { progress } from './progress.js';
import { intArg } from './args.js';
import { onStopSignals } from './signals.js';


export function registerFpRate(program: Command): void {
  program
    .command('fprate <run>')
    .description('stream background-only images from the simulator into the network: FP per image and Hz per module (resumable)')
    .option('--images <n>', 'background-only images in total (10⁶ reach ≈ 1 Hz per module)', intArg('--images', 1), 100000)
    .option('--seed <n>', 'stream seed (default: the dataset\'s)', intArg('--seed'))
    .option('--data <file>', 'dataset whose simulator configuration to stream (default: the run\'s training data)')
    .option('--checkpoint <name>', 'best, last, init or a .safetensors path', 'best')
    .option('--batch <n>', 'inference batch size', intArg('--batch', 1), 16)
    .option('--workers <n>', 'simulation worker threads', intArg('--workers'), 1)
    .option('--device <name>', 'auto, cpu, cuda', 'auto')
    .option('--json', 'print JSON')
    .action(async (run: string, o) => {
      const control = { stop: false };
      const signals = onStopSignals(control, 'stopping after this batch and saving the count so far');
      const bar = progress('background images', o.images);
      let result;
      try {
        result = await measureFpRate({ runDir: run, images: o.images, seed: o.seed, data: o.data, checkpoint: o.checkpoint, batch: o.batch,
          workers: o.workers, device: o.device, control, onProgress: (d) => bar.update(d) });
      } finally {
        bar.stop();
        signals.done();
      }
      if (o.json) { console.log(JSON.stringify(result, null, 2)); return; }
      console.log(`${run}: ${result.images} background-only images (seed ${result.seed}), ${result.imagesPerSecond.toFixed(1)} images/s this session`);
      console.log('score ≥   FP count   FP per image   Hz per module   90 % CL');
      for (const r of result.rows) {
        console.log(`  ${r.threshold.toFixed(2)}   ${String(r.fpCount).padStart(8)}   ${r.fpPerImage.toExponential(2).padStart(12)}   ${r.hz.toExponential(2).padStart(13)}   ${r.limitKind === 'upper' ? '<' : '≤'} ${r.limitHz.toExponential(2)} Hz`);
      }
      if (control.stop) console.log(`stopped at ${result.images} images; run the same command to continue`);
    });
}
