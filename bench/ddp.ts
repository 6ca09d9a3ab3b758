// Data-parallel scaling on this machine: the same global batch trained as 1 rank × T threads
// and as W ranks × T/W threads (gradients summed by c10d's gloo all-reduce in 25 MiB buckets),
// alternating rounds in one run. Per step: forward, loss (sum of squared head outputs, as
// bench/train.ts), backward, gradient all-reduce (timed on its own), Adam. Prints one JSON object
// with the medians, the ratio and the all-reduce share of a data-parallel step (as measured in
// the step, which includes waiting for the slower rank, and alone after a barrier).
//   node dist/bench/ddp.js [--ranks 2] [--threads 2] [--width 0.25] [--size 320] [--batch 8] [--steps 4] [--rounds 3]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { freePort } from '../src/cli/launch.js';

const { values: a } = parseArgs({
  options: {
    ranks: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    width: { type: 'string', default: '0.25' },
    size: { type: 'string', default: '320' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    variant: { type: 'string', default: 'yolov3' },
    // worker mode (spawned by this script)
    worker: { type: 'boolean', default: false },
    rank: { type: 'string', default: '0' },
    world: { type: 'string', default: '1' },
    url: { type: 'string', default: '' },
  },
});

interface WorkerResult {
  step_ms: number[];
  allreduce_ms: number[];
  buckets: number;
  pure_allreduce_ms: number[];
}

async function worker(): Promise<void> {
  const { Adam, manualSeed, randn, tidy } = await import('../src/torch/index.js');
  const { createYolo } = await import('../src/model/yolo.js');
  const { ProcessGroup } = await import('../src/c10d/process-group.js');
  const world = Number(a.world);
  const group = world > 1 ? ProcessGroup.init({ url: a.url!, rank: Number(a.rank), worldSize: world, timeoutMs: 600_000 }) : null;
  manualSeed(1);
  const model = createYolo({ variant: a.variant as 'yolov3', width: Number(a.width), inChannels: 1, numClasses: 1, channelsLast: true });
  model.train();
  const params = model.parameters();
  const opt = new Adam(params, { lr: 1e-4 });
  const x = randn([Number(a.batch) / world, 1, Number(a.size), Number(a.size)]);
  const r: WorkerResult = { step_ms: [], allreduce_ms: [], buckets: 0, pure_allreduce_ms: [] };
  const steps = Number(a.steps) + Number(a.warmup);
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    let reduceMs = 0;
    tidy(() => {
      opt.zeroGrad();
      const ys = model.forward(x);
      let loss = ys[0]!.square().sum();
      for (const y of ys.slice(1)) loss = loss.add(y.square().sum());
      loss.backward();
      if (group) {
        const t1 = performance.now();
        r.buckets = group.allReduceGrads(params, { op: 'mean' });
        reduceMs = performance.now() - t1;
      }
      opt.step();
    });
    if (i >= Number(a.warmup)) {
      r.step_ms.push(performance.now() - t0);
      r.allreduce_ms.push(reduceMs);
    }
  }
  // The all-reduce alone: after a barrier every rank starts together, so no rank waits for another's backward.
  for (let i = 0; group && i < 5; i++) {
    group.barrier();
    const t = performance.now();
    group.allReduceGrads(params, { op: 'mean' });
    r.pure_allreduce_ms.push(performance.now() - t);
  }
  group?.shutdown();
  process.stdout.write(JSON.stringify(r) + '\n');
}

function runRanks(world: number, threadsEach: number, port: number): Promise<WorkerResult[]> {
  const self = fileURLToPath(import.meta.url);
  const pass = ['--width', a.width!, '--size', a.size!, '--batch', a.batch!, '--steps', a.steps!, '--warmup', a.warmup!, '--variant', a.variant!];
  return Promise.all(
    [...Array(world).keys()].map(
      (rank) =>
        new Promise<WorkerResult>((resolve, reject) => {
          const p = spawn(process.execPath, [self, '--worker', '--rank', String(rank), '--world', String(world), '--url', `tcp://127.0.0.1:${port}`, ...pass], {
            stdio: ['ignore', 'pipe', 'inherit'],
            env: { ...process.env, DAQYOLO_THREADS: String(threadsEach) },
          });
          let out = '';
          p.stdout.on('data', (d) => {
            out += d;
          });
          p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`rank ${rank} exited with ${code}`))));
        }),
    ),
  );
}

const median = (v: number[]) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const r1 = (v: number) => Number(v.toFixed(1));

if (a.worker) {
  await worker();
} else {
  const ranks = Number(a.ranks);
  const threads = Number(a.threads);
  const load0 = loadavg()[0]!;
  const single: number[] = [];
  const parallel: number[] = [];
  const reduce: number[] = [];
  const pure: number[] = [];
  let buckets = 0;
  for (let round = 0; round < Number(a.rounds); round++) {
    const s = await runRanks(1, threads, 0);
    single.push(...s[0]!.step_ms);
    const p = await runRanks(ranks, Math.max(1, Math.floor(threads / ranks)), await freePort());
    // A data-parallel step lasts as long as its slowest rank.
    p[0]!.step_ms.forEach((_, i) => parallel.push(Math.max(...p.map((w) => w.step_ms[i]!))));
    p[0]!.allreduce_ms.forEach((_, i) => reduce.push(Math.max(...p.map((w) => w.allreduce_ms[i]!))));
    buckets = p[0]!.buckets;
    p[0]!.pure_allreduce_ms.forEach((_, i) => pure.push(Math.max(...p.map((w) => w.pure_allreduce_ms[i]!))));
  }
  const ms1 = median(single),
    msN = median(parallel),
    msR = median(reduce);
  console.log(
    JSON.stringify(
      {
        bench: 'ddp',
        variant: a.variant,
        width: Number(a.width),
        size: Number(a.size),
        global_batch: Number(a.batch),
        single: { ranks: 1, threads, ms_per_step: r1(ms1), step_ms: single.map(r1) },
        data_parallel: {
          ranks,
          threads_per_rank: Math.max(1, Math.floor(threads / ranks)),
          ms_per_step: r1(msN),
          step_ms: parallel.map(r1),
          allreduce_ms: r1(msR),
          allreduce_share: Number((msR / msN).toFixed(3)),
          // without waiting for the slower rank's backward (barrier first): the communication itself
          pure_allreduce_ms: r1(median(pure)),
          pure_allreduce_share: Number((median(pure) / msN).toFixed(3)),
          buckets,
        },
        ratio_parallel_over_single: Number((msN / ms1).toFixed(3)),
        loadavg_before: Number(load0.toFixed(2)),
        loadavg_after: Number(loadavg()[0]!.toFixed(2)),
      },
      null,
      2,
    ),
  );
}
