// daqyolo against PyTorch on the same YOLOv3 network, batch, threads and loss, alternating
// rounds in separate processes so that both see the same machine load; prints one JSON object.
// PyTorch runs at its best CPU setting (channels_last model and input, Adam): bench/peer_yolov3.py,
// with glibc's malloc keeping freed memory for both sides (--malloc keep, the default:
// bench/malloc-env.ts says why; --malloc default leaves glibc as it is).
//
// Run: node scripts/setup.mjs && node dist/bench/engine-vs-pytorch.js [--width 0.25] [--size 480]
//        [--batch 8] [--steps 4] [--rounds 3] [--threads 2] [--malloc keep|default]
// Medians of the per-step times are compared (robust to a busy neighbour on a shared machine).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { mallocEnv, mallocMode } from './malloc-env.js';

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '0.25' },
    size: { type: 'string', default: '480' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: String(availableParallelism()) },
    'omp-wait': { type: 'string', default: 'PASSIVE' },
    python: { type: 'string', default: '/usr/bin/python3' },
    malloc: { type: 'string', default: 'keep' },
  },
});
const allocEnv = mallocEnv(mallocMode(values.malloc));
const root = fileURLToPath(new URL('../..', import.meta.url));
const common = [
  '--width',
  values.width!,
  '--size',
  values.size!,
  '--batch',
  values.batch!,
  '--steps',
  values.steps!,
  '--warmup',
  values.warmup!,
  '--threads',
  values.threads!,
];

interface Run {
  ms_per_step: number;
  step_ms: number[];
  peak_rss_mb: number;
  params: number;
  [k: string]: unknown;
}
function run(cmd: string, args: string[]): Run {
  // Both sides get the same OpenMP wait policy (daqyolo defaults to PASSIVE; see src/torch/native.ts).
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...allocEnv, OMP_WAIT_POLICY: values['omp-wait'] },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Run;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const ours: Run[] = [],
  peer: Run[] = [];
for (let i = 0; i < Number(values.rounds); i++) {
  const d = run(process.execPath, ['bin/daqyolo.js', 'bench', 'train', ...common, '--json']);
  ours.push(d);
  peer.push(run(values.python!, ['bench/peer_yolov3.py', ...common, '--expect-params', String(d.params)]));
}
const summary = (rs: Run[]) => {
  const steps = rs.flatMap((r) => r.step_ms);
  return {
    ms_per_step_median: Number(median(steps).toFixed(1)),
    ms_per_step_mean: Number((steps.reduce((a, b) => a + b, 0) / steps.length).toFixed(1)),
    round_ms_per_step: rs.map((r) => r.ms_per_step),
    peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)),
  };
};
const a = summary(ours),
  b = summary(peer);
console.log(
  JSON.stringify(
    {
      omp_wait_policy: values['omp-wait'],
      malloc: mallocMode(values.malloc),
      network: 'yolov3',
      width: Number(values.width),
      size: Number(values.size),
      batch: Number(values.batch),
      threads: Number(values.threads),
      params: ours[0]!.params,
      gflop_per_image: ours[0]!['gflop_per_image'],
      rounds: Number(values.rounds),
      steps_per_round: Number(values.steps),
      daqyolo: a,
      pytorch: { ...b, torch: peer[0]!['torch'], channels_last: true },
      time_ratio: Number((a.ms_per_step_median / b.ms_per_step_median).toFixed(3)),
      memory_ratio: Number((a.peak_rss_mb / b.peak_rss_mb).toFixed(3)),
      targets: { time_ratio: 1.05, memory_ratio: 1.2 },
    },
    null,
    2,
  ),
);
