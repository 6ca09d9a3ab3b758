// `daqyolo bench train`: time training steps of the YOLOv3 topology on random data and print
// one JSON object (ms per step, images per second, peak RSS, parameters, GFLOP per image).
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { benchTrain } from '../../bench/train.js';

function positive(name: string, integer: boolean) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new UserError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${v}'`);
    }
    return n;
  };
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('measure the engine (prints JSON)');
  bench
    .command('train')
    .description('time YOLOv3 training steps on random data (1 channel, 1 class, loss = sum of squared head outputs)')
    .option('--width <w>', 'channel-width multiplier', positive('width', false), 0.25)
    .option('--size <px>', 'square image size (a multiple of 32)', positive('size', true), 480)
    .option('--batch <n>', 'images per step', positive('batch', true), 8)
    .option('--steps <n>', 'timed steps', positive('steps', true), 5)
    .option('--warmup <n>', 'untimed steps before timing', (v: string) => Number(v), 2)
    .option('--variant <name>', 'yolov3 or yolov3-tiny', 'yolov3')
    .option('--threads <n>', 'libtorch threads (default: every core)', positive('threads', true))
    .option('--nchw', 'keep NCHW memory format (default: channels_last, the fast oneDNN path)')
    .option('--seed <n>', 'random seed', (v: string) => Number(v), 0)
    .option('--json', 'print compact JSON (one line)')
    .action((o: { width: number; size: number; batch: number; steps: number; warmup: number; variant: string; threads?: number; nchw?: boolean; seed: number; json?: boolean }) => {
      if (o.size % 32 !== 0) throw new UserError(`--size must be a multiple of 32, got ${o.size}`);
      if (o.variant !== 'yolov3' && o.variant !== 'yolov3-tiny') throw new UserError(`--variant must be yolov3 or yolov3-tiny, got '${o.variant}'`);
      if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new UserError(`--warmup must be a non-negative integer, got '${o.warmup}'`);
      const r = benchTrain({ variant: o.variant, width: o.width, size: o.size, batch: o.batch, steps: o.steps, warmup: o.warmup,
        threads: o.threads, channelsLast: !o.nchw, seed: o.seed });
      console.log(o.json ? JSON.stringify(r) : JSON.stringify(r, null, 2));
    });
}
