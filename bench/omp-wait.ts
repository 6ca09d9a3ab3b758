// OpenMP wait settings for libtorch's thread pool, measured as training step time of `daqyolo
// bench train` (separate processes, alternating rounds, medians), first as the machine is, then
// with `--contend N` busy processes sharing the cores (what a data loader or a neighbour does).
// ACTIVE spins forever (fast alone, collapses when the cores are shared), PASSIVE sleeps at once
// (robust, slow), a bounded spin (GOMP_SPINCOUNT with the policy unset) sits between. One JSON object.
//
// Run: node dist/bench/omp-wait.js [--variant yolov3] [--size 256] [--batch 8] [--steps 4]
//        [--rounds 3] [--contend 2] [--spins 10000,100000,1000000]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    variant: { type: 'string', default: 'yolov3' },
    size: { type: 'string', default: '256' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    contend: { type: 'string', default: '2' },
    spins: { type: 'string', default: '10000,100000,1000000' },
    width: { type: 'string', default: '0.25' },
  },
});
const root = fileURLToPath(new URL('../..', import.meta.url));

type Setting = { name: string; env: Record<string, string | undefined> };
const settings: Setting[] = [
  { name: 'ACTIVE', env: { OMP_WAIT_POLICY: 'ACTIVE', GOMP_SPINCOUNT: undefined } },
  { name: 'PASSIVE', env: { OMP_WAIT_POLICY: 'PASSIVE', GOMP_SPINCOUNT: undefined } },
  ...a.spins!.split(',').map((n) => ({ name: `GOMP_SPINCOUNT=${n}`, env: { OMP_WAIT_POLICY: undefined, GOMP_SPINCOUNT: n } })),
];

function step(s: Setting): number[] {
  const env: Record<string, string | undefined> = { ...process.env, ...s.env };
  for (const [k, v] of Object.entries(s.env)) if (v === undefined) delete env[k];
  // DAQYOLO_OMP=as-given: the addon must not substitute its own default for an unset policy.
  env.DAQYOLO_OMP = 'as-given';
  const r = spawnSync(
    process.execPath,
    [
      'bin/daqyolo.js',
      'bench',
      'train',
      '--variant',
      a.variant!,
      '--width',
      a.width!,
      '--size',
      a.size!,
      '--batch',
      a.batch!,
      '--steps',
      a.steps!,
      '--warmup',
      '1',
      '--json',
    ],
    { cwd: root, encoding: 'utf8', env: env as NodeJS.ProcessEnv },
  );
  if (r.status !== 0) throw new Error(`bench train (${s.name}) failed:\n${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { step_ms: number[] }).step_ms;
}
const median = (xs: number[]): number => {
  const v = [...xs].sort((p, q) => p - q);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};

function measure(): { load_average_1m: number[]; ms_per_step_median: Record<string, number>; ratio_to_active: Record<string, number> } {
  const times: Record<string, number[]> = {};
  const load = [loadavg()[0]!];
  for (let r = 0; r < Number(a.rounds); r++) for (const s of settings) (times[s.name] ??= []).push(...step(s));
  load.push(loadavg()[0]!);
  const med = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, +median(t).toFixed(1)]));
  return {
    load_average_1m: load.map((l) => +l.toFixed(2)),
    ms_per_step_median: med,
    ratio_to_active: Object.fromEntries(Object.entries(med).map(([k, m]) => [k, +(m / med.ACTIVE!).toFixed(3)])),
  };
}

const asIs = measure();
// Busy neighbours: plain spinning processes, one per requested core (--contend 0: none, no second pass).
const hogs: ChildProcess[] = [];
for (let i = 0; i < Number(a.contend); i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
let contended;
try {
  if (hogs.length) contended = measure();
} finally {
  for (const h of hogs) h.kill();
}
console.log(
  JSON.stringify({
    bench: 'omp-wait',
    variant: a.variant,
    width: Number(a.width),
    size: Number(a.size),
    batch: Number(a.batch),
    rounds: Number(a.rounds),
    as_is: asIs,
    ...(contended ? { with_busy_processes: { busy_processes: Number(a.contend), ...contended } } : {}),
  }),
);
