// Sparse vs dense daqyolo vs dense PyTorch on the same simulated 480² images at realistic
// occupancy (`simulate --threshold 12`: ≈ 50 non-zero pixels per image, 2/3 of them noise and
// ³⁹Ar), in alternating rounds of separate processes (each its own peak RSS), so that all see
// the same machine load. Training step time and inference images/s for YOLOv3 and YOLOv3-tiny,
// then the sparse networks' time per image as the active pixels per image grow. One JSON object.
//
// Run: node scripts/setup.mjs && node dist/bench/sparse-vs-dense.js [--width 0.25] [--size 480]
//        [--batch 8] [--steps 3] [--rounds 3] [--scan 10,100,1000,10000] [--data D.h5] [--nets yolov3,yolov3-tiny]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchImages } from './inputs.js';

const { values: a } = parseArgs({ options: {
  width: { type: 'string', default: '0.25' }, size: { type: 'string', default: '480' }, batch: { type: 'string', default: '8' },
  steps: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' }, scan: { type: 'string', default: '10,100,1000,10000' },
  threads: { type: 'string', default: String(availableParallelism()) }, data: { type: 'string' }, python: { type: 'string', default: '/usr/bin/python3' },
  'infer-batch': { type: 'string', default: '16' }, nets: { type: 'string', default: 'yolov3,yolov3-tiny' }, 'omp-wait': { type: 'string', default: 'PASSIVE' },
} });
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-sparse-bench-'));
const size = Number(a.size);
const load = [loadavg()];
const nets = a.nets!.split(',');
for (const n of nets) if (n !== 'yolov3' && n !== 'yolov3-tiny') throw new Error(`--nets: expected yolov3 and/or yolov3-tiny, got '${n}'`);

interface Run { ms_per_step?: number; step_ms?: number[]; batch_ms?: number[]; img_per_s: number; peak_rss_mb: number; params?: number; active_pixels_per_image: number; [k: string]: unknown }
function run(cmd: string, args: string[]): Run {
  // Every process gets the same OpenMP wait policy (daqyolo's default; libgomp's own default
  // spins, which collapses when the cores are shared).
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_WAIT_POLICY: a['omp-wait'] } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Run;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const daq = (...args: string[]) => run(process.execPath, ['bin/daqyolo.js', 'bench', ...args, '--json']);

try {
  let data = a.data;
  if (!data) {
    data = join(dir, 'sim.h5');
    const r = spawnSync(process.execPath, ['bin/daqyolo.js', 'simulate', '--out', data, '--images', '200', '--size', String(size), '--threshold', '12', '--seed', '11', '--workers', '1'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`simulate failed:\n${r.stderr}`);
  }
  // The same images for PyTorch, as raw float32.
  const files: Record<string, string> = {};
  for (const b of new Set([a.batch!, a['infer-batch']!])) {
    files[b] = join(dir, `images-${b}.f32`);
    const { images } = benchImages({ batch: Number(b), size, seed: 0, data });
    writeFileSync(files[b]!, Buffer.from(images.buffer, images.byteOffset, images.byteLength));
  }
  const common = ['--width', a.width!, '--size', a.size!, '--threads', a.threads!];
  const train: Record<string, Run[]> = {}, infer: Record<string, Run[]> = {};
  const push = (into: Record<string, Run[]>, k: string, r: Run) => { (into[k] ??= []).push(r); };
  for (let round = 0; round < Number(a.rounds); round++) {
    for (const net of nets) {
      const tr = ['--batch', a.batch!, '--steps', a.steps!, '--warmup', '1', '--data', data, ...common];
      const sp = daq('train', '--variant', `sparse-${net}`, ...tr);
      const de = daq('train', '--variant', net, ...tr);
      const py = run(a.python!, ['bench/peer_yolov3.py', '--variant', net, '--mode', 'train', '--batch', a.batch!, '--steps', a.steps!, '--warmup', '1',
        '--images', files[a.batch!]!, '--expect-params', String(de.params), ...common]);
      push(train, `sparse-${net}`, sp); push(train, net, de); push(train, `pytorch-${net}`, py);
      const inf = ['--batch', a['infer-batch']!, '--iters', a.steps!, '--warmup', '1', '--data', data, ...common];
      push(infer, `sparse-${net}`, daq('infer', '--variant', `sparse-${net}`, ...inf));
      push(infer, net, daq('infer', '--variant', net, ...inf));
      push(infer, `pytorch-${net}`, run(a.python!, ['bench/peer_yolov3.py', '--variant', net, '--mode', 'infer', '--batch', a['infer-batch']!, '--steps', a.steps!,
        '--warmup', '1', '--images', files[a['infer-batch']!]!, ...common]));
    }
  }
  load.push(loadavg());
  const trainSummary = Object.fromEntries(Object.entries(train).map(([k, rs]) => [k, {
    ms_per_step_median: +median(rs.flatMap((r) => r.step_ms!)).toFixed(1), peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)),
    active_pixels_per_image: rs[0]!.active_pixels_per_image,
  }]));
  const inferSummary = Object.fromEntries(Object.entries(infer).map(([k, rs]) => {
    const ms = median(rs.flatMap((r) => r.batch_ms!));
    return [k, { img_per_s_median: +((1000 * Number(a['infer-batch'])) / ms).toFixed(2), ms_per_batch_median: +ms.toFixed(2), peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)) }];
  }));
  const ratios = Object.fromEntries(nets.map((net) => [net, {
    train_speedup_vs_pytorch: +(trainSummary[`pytorch-${net}`]!.ms_per_step_median / trainSummary[`sparse-${net}`]!.ms_per_step_median).toFixed(2),
    train_speedup_vs_dense_daqyolo: +(trainSummary[net]!.ms_per_step_median / trainSummary[`sparse-${net}`]!.ms_per_step_median).toFixed(2),
    train_memory_vs_pytorch: +(trainSummary[`sparse-${net}`]!.peak_rss_mb / trainSummary[`pytorch-${net}`]!.peak_rss_mb).toFixed(3),
    infer_speedup_vs_pytorch: +(inferSummary[`sparse-${net}`]!.img_per_s_median / inferSummary[`pytorch-${net}`]!.img_per_s_median).toFixed(2),
    infer_speedup_vs_dense_daqyolo: +(inferSummary[`sparse-${net}`]!.img_per_s_median / inferSummary[net]!.img_per_s_median).toFixed(2),
    infer_memory_vs_pytorch: +(inferSummary[`sparse-${net}`]!.peak_rss_mb / inferSummary[`pytorch-${net}`]!.peak_rss_mb).toFixed(3),
  }]));
  // Time per image against active pixels (random positions), sparse networks, inference batch.
  const scan = a.scan!.split(',').map(Number).map((n) => {
    const row: Record<string, number> = { active_pixels_per_image: n };
    for (const v of nets.map((n) => `sparse-${n}`)) {
      const r = daq('infer', '--variant', v, '--batch', a['infer-batch']!, '--iters', a.steps!, '--warmup', '1', '--active', String(n), ...common);
      row[`${v}_ms_per_image`] = +(median(r.batch_ms!) / Number(a['infer-batch'])).toFixed(3);
    }
    return row;
  });
  load.push(loadavg());
  console.log(JSON.stringify({
    bench: 'sparse-vs-dense', size, width: Number(a.width), train_batch: Number(a.batch), infer_batch: Number(a['infer-batch']), threads: Number(a.threads),
    rounds: Number(a.rounds), omp_wait_policy: a['omp-wait'], data: a.data ?? 'simulate --threshold 12 --images 200 --seed 11', load_average_1m: load.map((l) => +l[0]!.toFixed(2)),
    train: trainSummary, infer: inferSummary, ratios, scan,
    targets: { train_speedup_vs_pytorch: 3, infer_speedup_vs_pytorch: 5, memory_vs_pytorch: '< 1', fprate_img_per_s: 280 },
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
