// `daqyolo bench train` / `bench infer`: time training steps or inference of the YOLOv3
// topology (dense or sparse) on random images or a dataset's, and print one JSON object (ms per
// step or images per second, peak RSS, active pixels per image).
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { benchTrain } from '../../bench/train.js';
import { benchInfer } from '../../bench/infer.js';
import { variants, type Variant } from '../model/yolo.js';
import { count, integer, number, oneOf, MAX } from './options.js';

const inputOptions = (c: Command): Command =>
  c
    .option('--data <dataset>', 'HDF5 dataset: time its first --batch training images instead of random ones')
    .option('--active <n>', 'random images with n active pixels each (default: every pixel random normal)', count(MAX.imageSize ** 2))
    .option('--variant <name>', `network: ${variants.join(', ')}`, oneOf(variants), 'yolov3')
    .option('--width <w>', 'channel-width multiplier', number({ min: 0, max: MAX.width, exclusiveMin: true }), 0.25)
    .option('--size <px>', 'square image size (a multiple of 32)', integer({ min: 32, max: MAX.imageSize, multipleOf: 32 }), 480)
    .option('--batch <n>', 'images per step', count(MAX.batch), 8)
    .option('--threads <n>', 'libtorch threads (default: every core)', count(MAX.processes))
    .option('--seed <n>', 'random seed', integer({ max: MAX.seed }), 0)
    .option('--json', 'print compact JSON (one line)');

interface CommonOptions {
  data?: string;
  active?: number;
  variant: string;
  width: number;
  size: number;
  batch: number;
  threads?: number;
  seed: number;
  json?: boolean;
}
function check(o: CommonOptions & { warmup: number }): Variant {
  // --size, --variant and --warmup are checked by their parsers (options.ts).
  if (o.data && o.active !== undefined) throw new UserError('give --data or --active, not both');
  return o.variant as Variant;
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('measure the engine (prints JSON)');
  inputOptions(
    bench.command('train').description("time YOLOv3 training steps (1 channel, 1 class, loss = sum of squared head outputs) on random images or a dataset's"),
  )
    .option('--steps <n>', 'timed steps', count(1_000_000), 5)
    .option('--warmup <n>', 'untimed steps before timing', integer({ max: 1_000_000 }), 2)
    .option('--nchw', 'keep NCHW memory format (default: channels_last, the fast oneDNN path)')
    .option('--isolated-radius <px>', 'drop pixels with no other active pixel within this many channels and ticks', integer({ max: 64 }), 0)
    .action((o: CommonOptions & { steps: number; warmup: number; nchw?: boolean; isolatedRadius: number }) => {
      const variant = check(o);
      const r = benchTrain({
        variant,
        width: o.width,
        size: o.size,
        batch: o.batch,
        steps: o.steps,
        warmup: o.warmup,
        threads: o.threads,
        channelsLast: !o.nchw,
        seed: o.seed,
        data: o.data,
        active: o.active,
        isolatedRadius: o.isolatedRadius,
      });
      console.log(o.json ? JSON.stringify(r) : JSON.stringify(r, null, 2));
    });
  inputOptions(
    bench.command('infer').description("time YOLOv3 inference (eval mode, no autograd) on random images or a dataset's: images per second, peak RSS"),
  )
    .option('--iters <n>', 'timed batches', count(1_000_000), 5)
    .option('--warmup <n>', 'untimed batches before timing', integer({ max: 1_000_000 }), 1)
    .option('--isolated-radius <px>', 'drop pixels with no other active pixel within this many channels and ticks', number({ min: 0, max: MAX.imageSize }), 0)
    .action((o: CommonOptions & { iters: number; warmup: number; isolatedRadius: number }) => {
      const variant = check(o);
      const r = benchInfer({
        variant,
        width: o.width,
        size: o.size,
        batch: o.batch,
        iters: o.iters,
        warmup: o.warmup,
        threads: o.threads,
        seed: o.seed,
        data: o.data,
        active: o.active,
        isolatedRadius: o.isolatedRadius,
      });
      console.log(o.json ? JSON.stringify(r) : JSON.stringify(r, null, 2));
    });
}
