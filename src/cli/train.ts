// `daqyolo train`: trains YOLOv3 on a dataset and writes a run directory (see README "train").
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { UserError } from '../errors.js';
import { parseTrainConfig, presets, deepMerge, MAX_LR, type TrainConfig } from '../config/train-config.js';
import { variants } from '../model/yolo.js';
import { isKerasYolo3Config, mapKerasYolo3Config } from '../train/keras-config.js';
import { train, type TrainEvent, type TrainOptions } from '../train/trainer.js';
import { SCALE_NAMES, readResolvedRun, type ResolvedRun } from '../schema/run.js';
import { formatEta, progress, type Progress } from './progress.js';
import { count, device, integer, number, oneOf, text, MAX } from './options.js';
import { onStopSignals, stopWithParent } from './signals.js';
import { setDotted } from '../util/merge.js';
import { ProcessGroup } from '../c10d/process-group.js';
import { defaultDevice, cudaDeviceCount } from '../torch/index.js';
import { rankPlace, rankDevice, launchLocal, slurmTrainScript, writeScript } from './launch.js';

/** The command line after `train`, without the named options (and their values). */
function argsWithout(names: string[], takesValue: Set<string>): string[] {
  const argv = process.argv.slice(process.argv.indexOf('train') + 1);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [name] = argv[i]!.split('=');
    if (names.includes(name!)) {
      if (!argv[i]!.includes('=') && takesValue.has(name!)) i++;
      continue;
    }
    out.push(argv[i]!);
  }
  return out;
}
// What `--slurm` leaves out of the ranks' command: its own flags, and --nproc (srun starts the ranks).
const SLURM_FLAGS = ['--slurm', '--nodes', '--ntasks-per-node', '--gpus-per-node', '--cpus-per-task', '--time', '--partition', '--port', '--nproc'];

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read JSON (${(e as Error).message})`);
  }
}

/** key.path=value → nested object; the value is parsed as JSON when it can be. */
function setPath(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq < 1) throw new UserError(`--set ${assignment}: expected key.path=value`);
  const raw = assignment.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  setDotted(target, assignment.slice(0, eq), value);
}

/** Builds the config: preset < config file < flags (< --set). */
export function configFromFlags(o: Record<string, unknown>): { config: TrainConfig; messages: string[] } {
  const messages: string[] = [];
  let cfg: unknown = {};
  if (o.preset) {
    const p = presets[String(o.preset)];
    if (!p) throw new UserError(`--preset ${o.preset}: unknown preset (known: ${Object.keys(presets).join(', ')})`);
    cfg = deepMerge(cfg, p);
  }
  if (o.config) {
    let file = readJson(String(o.config));
    if (isKerasYolo3Config(file)) {
      const mapped = mapKerasYolo3Config(file as Record<string, Record<string, unknown>>);
      messages.push(...mapped.messages.map((m) => `${o.config}: ${m}`));
      file = mapped.config;
    }
    cfg = deepMerge(cfg, file);
  }
  const flags: Record<string, unknown> = {};
  const put = (path: string, v: unknown) => {
    if (v !== undefined) setPath(flags, `${path}=${JSON.stringify(v)}`);
  };
  put('data', o.data);
  put('out', o.out);
  put('epochs', o.epochs);
  put('batch', o.batch);
  put('optimizer.lr', o.lr);
  put('model.width', o.width);
  put('model.size', o.size);
  put('model.variant', o.variant);
  put('model.initWeights', o.initWeights);
  put('warmupEpochs', o.warmupEpochs);
  put('loss.objLoss', o.objLoss);
  put('loss.objTarget', o.objTarget);
  put('trainLimit', o.trainLimit);
  put('positiveMinTps', o.positiveMinTps);
  put('valLimit', o.valLimit);
  put('seed', o.seed);
  put('threads', o.threads);
  put('device', o.device);
  put('workers', o.workers);
  put('parallel.syncBatchNorm', o.syncBn);
  put('parallel.timeoutSeconds', o.distTimeout);
  for (const s of (o.set as string[] | undefined) ?? []) setPath(flags, s);
  cfg = deepMerge(cfg, flags);
  const merged = cfg as Record<string, unknown>;
  if (!merged.data) throw new UserError('no dataset: give --data <file> (or "data" in the config)');
  if (!merged.out) throw new UserError('no run directory: give --out <dir> (or "out" in the config)');
  return { config: parseTrainConfig(cfg, o.config ? String(o.config) : 'config'), messages };
}

/** Prints training progress: a bar per epoch and the per-scale terms after each epoch. */
export function trainReporter(): (e: TrainEvent) => void {
  let bar: Progress | null = null;
  let epochs = 0;
  const seconds: number[] = [];
  return (e) => {
    switch (e.kind) {
      case 'start':
        epochs = e.run.config.epochs;
        console.error(
          `training ${e.run.config.model.variant} width ${e.run.config.model.width} at ${e.run.size} px on ${e.run.device} ` +
            `(${e.run.trainImages} train / ${e.run.valImages} val images, ${e.run.batchesPerEpoch} batches per epoch, ${e.run.warmupBatches} warm-up batches)` +
            (e.resumedFrom !== null ? `, resumed at step ${e.resumedFrom}` : ''),
        );
        console.error(`anchors: ${e.run.anchors.map((a, s) => `${SCALE_NAMES[s]} ${a.map(([w, h]) => `[${w},${h}]`).join(' ')}`).join('; ')}`);
        break;
      case 'batch':
        if (!bar) bar = progress(`epoch ${e.record.epoch + 1}/${epochs}`, e.epochBatches, { unit: 'batches' });
        if (e.record.batch === 0 || (bar as Progress & { epoch?: number }).epoch !== e.record.epoch) {
          bar.phase(`epoch ${e.record.epoch + 1}/${epochs}`, e.epochBatches);
          (bar as Progress & { epoch?: number }).epoch = e.record.epoch;
        }
        bar.update(e.record.batch + 1, `loss ${e.record.objective.toFixed(3)}${e.record.warm ? ' (warm-up)' : ''}`);
        break;
      case 'validating':
        bar?.stop();
        bar = null;
        break;
      case 'epoch': {
        const r = e.record;
        const line = (name: string, t: { objective: number; scales: Record<string, number>[] }) =>
          `  ${name} objective ${t.objective.toFixed(3)} | ` +
          t.scales
            .map(
              (s, i) =>
                `${SCALE_NAMES[i]}: xy ${s.xy!.toFixed(3)} wh ${s.wh!.toFixed(3)} conf1 ${s.conf1!.toFixed(3)} conf2 ${s.conf2!.toFixed(3)} class ${s.class!.toFixed(3)}`,
            )
            .join(' | ');
        // The run's ETA from the epochs this process measured (training and validation).
        seconds.push(r.seconds);
        const left = epochs - (r.epoch + 1);
        const eta = left > 0 ? `; ${left} epoch(s) left, ETA ${formatEta((left * seconds.reduce((a, b) => a + b, 0)) / seconds.length)}` : '';
        console.error(
          `epoch ${r.epoch + 1}: ${r.seconds.toFixed(0)} s, lr ${r.lr.toExponential(2)}, warm-up fraction ${r.warmFraction.toFixed(2)}${r.best ? ', best so far' : ''}${eta}`,
        );
        console.error(line('train', r.train));
        console.error(line('val  ', r.val));
        console.error(
          `  val recall50 ${r.val.stats.map((s) => s.recall50?.toFixed(3) ?? '-').join('/')}, avgObj ${r.val.stats.map((s) => s.avgObj?.toFixed(3) ?? '-').join('/')}, mAP@0.5 ${r.val.map50?.toFixed(3) ?? '-'}`,
        );
        break;
      }
      case 'stopped':
        bar?.stop();
        if (e.reason !== 'done') console.error(`stopped (${e.reason}) after step ${e.step}`);
        break;
      case 'note':
        console.error(`note: ${e.message}`);
        break;
    }
  };
}

/**
 * A training of a study (`daqyolo study`, its plan's end point): Ctrl-C or SIGTERM stops it after its current batch (`last` saved; the
 * study then says to run the same command again), a second signal at once.
 */
export async function trainStoppable(
  config: TrainConfig,
  resume: boolean,
  control: { stop: boolean },
  o: Pick<TrainOptions, 'onEvent'> = { onEvent: trainReporter() },
): Promise<void> {
  const signals = onStopSignals(control, 'stopping after the current batch');
  try {
    await train({ config, resume, control, ...o });
  } finally {
    signals.done();
  }
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train YOLOv3 on a dataset, logging every loss term per scale on training and validation data')
    .option('--data <file>', "HDF5 dataset (with --resume: the run's dataset at another place; its digest is checked)")
    .option('--out <dir>', 'run directory')
    .option('--preset <name>', 'seed: the Bristol configuration (obj_scale 50, ignore 0.33, 3 warm-up epochs, lr 1e-4)', oneOf(Object.keys(presets)))
    .option('--config <file>', 'JSON config (daqyolo or keras-yolo3 config.json)')
    .option('--epochs <n>', 'epochs', count(MAX.epochs))
    .option('--batch <n>', 'batch size', count(MAX.batch))
    .option('--lr <x>', 'Adam learning rate', number({ min: 0, max: MAX_LR, exclusiveMin: true }))
    .option('--width <w>', 'channel-width multiplier', number({ min: 0, max: MAX.width, exclusiveMin: true }))
    .option('--size <px>', 'network input size (multiple of 32)', integer({ min: 32, max: MAX.imageSize, multipleOf: 32 }))
    .option('--variant <name>', 'yolov3, yolov3-tiny, sparse-yolov3 or sparse-yolov3-tiny', oneOf(variants))
    .option('--init-weights <file>', 'start from a checkpoint (e.g. made by `daqyolo import-weights` from Darknet .weights)')
    .option('--warmup-epochs <n>', 'warm-up epochs (× batches per epoch = warm-up batches)', integer({ max: MAX.epochs }))
    .option('--obj-loss <kind>', 'objectness loss: mse or bce', oneOf(['mse', 'bce']))
    .option('--obj-target <kind>', 'objectness target: one or iou', oneOf(['one', 'iou']))
    .option('--train-limit <n>', 'use at most n training images (e.g. 500)', integer({ max: MAX.datasetImages }))
    .option(
      '--positive-min-tps <n>',
      'interactions with fewer TPs are no training positives, only ignored in the loss (0: every box)',
      integer({ max: MAX.interactionTps }),
    )
    .option('--val-limit <n>', 'validate on at most n images per epoch', integer({ max: MAX.datasetImages }))
    .option('--seed <n>', 'seed', integer({ max: MAX.seed }))
    .option('--threads <n>', 'libtorch threads (0 = all cores)', integer({ max: MAX.processes }))
    .option('--device <name>', 'auto, cpu, cuda, cuda:1', device())
    .option('--workers <n>', 'data-loading worker threads', integer({ max: 16 }))
    .option('--set <key=value...>', 'any config key, e.g. --set loss.objScale=50 augment.flipTime=0.5')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint (--epochs may extend it)')
    .option('--nproc <n>', 'data-parallel: start n local ranks (as torchrun; --batch is the global batch)', count(MAX.processes))
    .option('--dist-url <url>', 'data-parallel: meet at tcp://host:port (rank 0 hosts it) or file:///shared/path')
    .option('--rank <r>', "data-parallel: this process's rank (with --dist-url and --world-size)", integer({ max: MAX.processes * 1024 }))
    .option('--world-size <w>', 'data-parallel: number of ranks', count(MAX.processes * 1024))
    .option('--sync-bn', 'data-parallel: batch norm statistics over the whole global batch')
    .option('--dist-timeout <s>', 'data-parallel: c10d timeout in seconds (default 300)', number({ min: 0, max: 7 * 86_400, exclusiveMin: true }))
    .option('--slurm <script>', 'write an sbatch script that runs this training data-parallel (srun tasks = ranks), instead of training')
    .option('--nodes <n>', 'with --slurm: nodes', count(100_000))
    .option('--ntasks-per-node <n>', 'with --slurm: CPU ranks per node (default 1)', count(MAX.processes))
    .option('--gpus-per-node <n>', 'with --slurm: GPUs per node, one rank each (default 0: CPU job)', integer({ max: 1024 }))
    .option('--cpus-per-task <n>', 'with --slurm: cores per rank (default 8)', count(MAX.processes))
    .option('--time <hh:mm:ss>', 'with --slurm: time limit')
    .option('--partition <name>', 'with --slurm: partition', text())
    .option('--port <n>', "with --slurm: rank 0's TCPStore port (default 29500)", integer({ min: 1, max: 65_535 }))
    .action(async (o) => {
      let config: TrainConfig;
      if (o.resume) {
        const path = join(o.resume, 'config.json');
        if (!existsSync(path)) throw new UserError(`${o.resume}: not a run directory (no config.json)`);
        const saved: ResolvedRun & { dataPath?: string } = readResolvedRun(path); // checked: a damaged file is one line naming the field
        // The run is the folder named here (a copied or moved run directory resumes in place), and its
        // dataset is found as given at the start or, from another working directory, by its absolute path.
        const data = saved.config.data && !existsSync(saved.config.data) && saved.dataPath && existsSync(saved.dataPath) ? saved.dataPath : saved.config.data;
        // --data with --resume: the same dataset at another place (a moved study); its digest is checked.
        config = parseTrainConfig(deepMerge(saved.config, { out: o.resume, data: o.data ?? data, ...(o.epochs ? { epochs: o.epochs } : {}) }), path);
      } else {
        const r = configFromFlags(o);
        for (const m of r.messages) console.error(`note: ${m}`);
        config = r.config;
      }
      if (o.slurm) {
        const valued = new Set(SLURM_FLAGS);
        const args = argsWithout(SLURM_FLAGS, valued);
        const job = {
          nodes: o.nodes ?? 1,
          tasksPerNode: o.ntasksPerNode ?? 1,
          gpusPerNode: o.gpusPerNode ?? 0,
          cpusPerTask: o.cpusPerTask ?? 8,
          time: o.time,
          partition: o.partition,
          port: o.port ?? 29500,
        };
        writeScript(o.slurm, slurmTrainScript(job, args, o.slurm, config.out));
        console.log(`wrote ${o.slurm}: sbatch ${o.slurm}`);
        return;
      }
      if (o.nproc !== undefined && o.nproc > 1) {
        if (o.distUrl || o.rank !== undefined || o.worldSize !== undefined)
          throw new UserError('--nproc starts its own ranks: leave out --dist-url, --rank and --world-size');
        const status = await launchLocal(o.nproc, ['train', ...argsWithout(['--nproc'], new Set(['--nproc']))], {
          graceMs: (config.parallel.timeoutSeconds + 30) * 1000,
          threads: config.threads,
        });
        if (status)
          throw new UserError(`data-parallel training failed (${o.nproc} local ranks); the run's last checkpoint stays loadable: --resume ${config.out}`);
        return;
      }
      const place = rankPlace(o);
      // Several GPUs visible to each rank: rank r of this machine takes GPU r (config.device keeps its value otherwise).
      const device = place ? rankDevice(defaultDevice(config.device), cudaDeviceCount()) : config.device;
      if (device !== defaultDevice(config.device)) config = { ...config, device };
      // NCCL for CUDA tensors when this libtorch has it; gloo otherwise (CPU, or CUDA through host copies).
      const backend = place && defaultDevice(config.device).startsWith('cuda') && ProcessGroup.ncclAvailable() ? 'nccl' : 'gloo';
      const group = place
        ? ProcessGroup.init({ url: place.url, rank: place.rank, worldSize: place.worldSize, timeoutMs: config.parallel.timeoutSeconds * 1000, backend })
        : undefined;
      const control = { stop: false };
      const signals = onStopSignals(control, 'stopping after the current batch and saving last');
      stopWithParent(control, 'stopping after the current batch and saving last'); // a rank of --nproc (launch.ts)
      try {
        const leader = !group || group.rank === 0;
        const dir = await train({ config, resume: Boolean(o.resume), onEvent: leader ? trainReporter() : undefined, control, group });
        if (leader) console.log(`run: ${dir.path} (metrics.jsonl, checkpoints/, log.txt)${group ? ` — ${group.worldSize} ranks` : ''}`);
        if (leader && signals.received) console.error(`interrupted: \`daqyolo train --resume ${dir.path}\` continues it`);
      } finally {
        group?.shutdown();
        signals.done();
      }
    });
}
