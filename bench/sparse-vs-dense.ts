// Sparse vs dense daqyolo vs dense PyTorch on the same simulated 480² images (the default
// simulation's: ≈ 120 non-zero pixels per image, most of them ³⁹Ar spread over the image; give
// --threshold 12 for the older ≈ 50-pixel images), in alternating rounds of separate processes
// (each its own peak RSS), so that all see the same machine load. Training step time and
// inference images/s for YOLOv3 and YOLOv3-tiny, wall and CPU time (user + system, all threads:
// the work, which a shared machine's load disturbs less than wall time), then the sparse
// networks' time per image as the active pixels per image grow. --isolated-radius R adds sparse
// rows that drop isolated pixels first (`sparse-NET-r R`); --before DIR adds the sparse rows of
// another checkout (e.g. /work/main: `before-sparse-NET`) for a before/after in the same run.
// --throughput adds inference rows run as one single-threaded process per core at once
// (`…-x P`: P = --threads processes, images/s summed over them), for PyTorch and the sparse
// rows alike: how a stream trigger (fprate's shards, `trigger stream`) uses the cores, where a
// small sparse convolution gains little from a second OpenMP thread. Each engine's ratio is then
// taken against PyTorch's better form, one process of P threads or P of one.
// --malloc keep (the default) runs every process, PyTorch's and daqyolo's alike, with glibc's
// malloc keeping freed memory (bench/malloc-env.ts says why); --malloc default leaves it as is.
// --aten-gemm adds a twin of each sparse row whose convolutions run ATen's GEMM (Debian's
// OpenBLAS) instead of oneDNN's sgemm (`…-aten`, DAQYOLO_SPARSE_GEMM=aten): the GEMM's A/B.
// One JSON object.
//
// Run: node scripts/setup.mjs && node dist/bench/sparse-vs-dense.js [--width 0.25] [--size 480]
//        [--batch 8] [--steps 3] [--rounds 3] [--scan 10,100,1000,10000] [--data D.h5] [--nets yolov3,yolov3-tiny]
//        [--threshold T] [--isolated-radius R] [--before DIR] [--no-dense-daqyolo] [--throughput]
//        [--throughput-iters 9] [--malloc keep|default] [--aten-gemm]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchImages } from './inputs.js';
import { mallocEnv, mallocMode } from './malloc-env.js';

const { values: a } = parseArgs({
  options: {
    width: { type: 'string', default: '0.25' },
    size: { type: 'string', default: '480' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    scan: { type: 'string', default: '10,100,1000,10000' },
    threads: { type: 'string', default: String(availableParallelism()) },
    data: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'infer-batch': { type: 'string', default: '16' },
    nets: { type: 'string', default: 'yolov3,yolov3-tiny' },
    'omp-wait': { type: 'string', default: 'PASSIVE' },
    threshold: { type: 'string' },
    'isolated-radius': { type: 'string', default: '0' },
    before: { type: 'string' },
    'no-dense-daqyolo': { type: 'boolean', default: false },
    throughput: { type: 'boolean', default: false },
    'throughput-iters': { type: 'string', default: '9' },
    malloc: { type: 'string', default: 'keep' },
    'aten-gemm': { type: 'boolean', default: false },
  },
});
const radius = Number(a['isolated-radius']);
// glibc's allocator settings for every process the bench starts.
const allocEnv = mallocEnv(mallocMode(a.malloc));
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-sparse-bench-'));
const size = Number(a.size);
const load = [loadavg()];
const nets = a.nets!.split(',');
for (const n of nets) if (n !== 'yolov3' && n !== 'yolov3-tiny') throw new Error(`--nets: expected yolov3 and/or yolov3-tiny, got '${n}'`);

interface Run {
  ms_per_step?: number;
  step_ms?: number[];
  step_cpu_ms?: number[];
  batch_ms?: number[];
  batch_cpu_ms?: number[];
  img_per_s: number;
  peak_rss_mb: number;
  params?: number;
  active_pixels_per_image: number;
  [k: string]: unknown;
}
function run(cmd: string, args: string[], cwd = root, extraEnv: Record<string, string> = {}): Run {
  // Every process gets the same OpenMP wait policy (daqyolo's default; libgomp's own default
  // spins, which collapses when the cores are shared).
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, ...allocEnv, ...extraEnv, OMP_WAIT_POLICY: a['omp-wait'] },
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Run;
}
// P copies of one command at once, each pinned to one thread (libtorch's OpenMP and OpenBLAS
// alike, by environment as well as by --threads 1): their runs, one per process.
async function runTogether(cmd: string, args: string[], copies: number, extraEnv: Record<string, string> = {}, cwd = root): Promise<Run[]> {
  const env = {
    ...process.env,
    ...allocEnv,
    ...extraEnv,
    OMP_WAIT_POLICY: a['omp-wait'],
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
  };
  const one = () =>
    new Promise<Run>((resolve, reject) => {
      const p = spawn(cmd, args, { cwd, env });
      let out = '',
        err = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.on('error', reject);
      p.on('close', (code) =>
        code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Run) : reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${err}`)),
      );
    });
  return Promise.all(Array.from({ length: copies }, one));
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
// A checkout from before CPU times were recorded (--before) has none: null.
const medianOrNull = (xs: number[], digits: number): number | null => (xs.length ? +median(xs).toFixed(digits) : null);
const daq = (...args: string[]) => run(process.execPath, ['bin/daqyolo.js', 'bench', ...args, '--json']);
// The sparse rows, and with --aten-gemm their twins on ATen's GEMM (OpenBLAS) instead of oneDNN's.
const gemmRows: [suffix: string, env: Record<string, string>][] = [
  ['', {}],
  ...(a['aten-gemm'] ? [['-aten', { DAQYOLO_SPARSE_GEMM: 'aten' }] as [string, Record<string, string>]] : []),
];
const daqSparse = (env: Record<string, string>, ...args: string[]) => run(process.execPath, ['bin/daqyolo.js', 'bench', ...args, '--json'], root, env);
const before = (...args: string[]) => run(process.execPath, ['bin/daqyolo.js', 'bench', ...args, '--json'], a.before);

try {
  let data = a.data;
  if (!data) {
    data = join(dir, 'sim.h5');
    const r = spawnSync(
      process.execPath,
      [
        'bin/daqyolo.js',
        'simulate',
        '--out',
        data,
        '--images',
        '200',
        '--size',
        String(size),
        ...(a.threshold ? ['--threshold', a.threshold] : []),
        '--seed',
        '11',
        '--workers',
        '1',
      ],
      { cwd: root, encoding: 'utf8' },
    );
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
  const train: Record<string, Run[]> = {},
    infer: Record<string, Run[]> = {},
    // Per round, the runs of the processes that ran at once.
    throughput: Record<string, Run[][]> = {};
  const push = <T>(into: Record<string, T[]>, k: string, r: T) => {
    (into[k] ??= []).push(r);
  };
  for (let round = 0; round < Number(a.rounds); round++) {
    for (const net of nets) {
      const tr = ['--batch', a.batch!, '--steps', a.steps!, '--warmup', '1', '--data', data, ...common];
      const sp = daq('train', '--variant', `sparse-${net}`, ...tr);
      push(train, `sparse-${net}`, sp);
      if (radius > 0) push(train, `sparse-${net}-r${radius}`, daq('train', '--variant', `sparse-${net}`, ...tr, '--isolated-radius', String(radius)));
      for (const [suffix, env] of gemmRows.slice(1)) {
        push(train, `sparse-${net}${suffix}`, daqSparse(env, 'train', '--variant', `sparse-${net}`, ...tr));
        if (radius > 0)
          push(train, `sparse-${net}-r${radius}${suffix}`, daqSparse(env, 'train', '--variant', `sparse-${net}`, ...tr, '--isolated-radius', String(radius)));
      }
      if (a.before) push(train, `before-sparse-${net}`, before('train', '--variant', `sparse-${net}`, ...tr));
      if (!a['no-dense-daqyolo']) push(train, net, daq('train', '--variant', net, ...tr));
      const py = run(a.python!, [
        'bench/peer_yolov3.py',
        '--variant',
        net,
        '--mode',
        'train',
        '--batch',
        a.batch!,
        '--steps',
        a.steps!,
        '--warmup',
        '1',
        '--images',
        files[a.batch!]!,
        '--expect-params',
        String(sp.params),
        ...common,
      ]);
      push(train, `pytorch-${net}`, py);
      const inf = ['--batch', a['infer-batch']!, '--iters', a.steps!, '--warmup', '1', '--data', data, ...common];
      for (const [suffix, env] of gemmRows) {
        push(infer, `sparse-${net}${suffix}`, daqSparse(env, 'infer', '--variant', `sparse-${net}`, ...inf));
        if (radius > 0)
          push(infer, `sparse-${net}-r${radius}${suffix}`, daqSparse(env, 'infer', '--variant', `sparse-${net}`, ...inf, '--isolated-radius', String(radius)));
      }
      if (a.before) push(infer, `before-sparse-${net}`, before('infer', '--variant', `sparse-${net}`, ...inf));
      if (!a['no-dense-daqyolo']) push(infer, net, daq('infer', '--variant', net, ...inf));
      // PyTorch's inference on the same images: `steps` timed batches on `threads` threads.
      const peerInfer = (steps: string, threads: string) => [
        'bench/peer_yolov3.py',
        ...['--variant', net, '--mode', 'infer', '--batch', a['infer-batch']!, '--steps', steps, '--warmup', '1'],
        ...['--images', files[a['infer-batch']!]!, '--width', a.width!, '--size', a.size!, '--threads', threads],
      ];
      push(infer, `pytorch-${net}`, run(a.python!, peerInfer(a.steps!, a.threads!)));
      if (a.throughput) {
        // One single-threaded process per core, all at once; their images/s add up.
        const copies = Number(a.threads);
        const one = [
          ...['--batch', a['infer-batch']!, '--iters', a['throughput-iters']!, '--warmup', '1', '--data', data],
          ...['--width', a.width!, '--size', a.size!, '--threads', '1'],
        ];
        const bin = [process.execPath, 'bin/daqyolo.js', 'bench', 'infer'];
        for (const [suffix, env] of gemmRows) {
          const sparseArgs = [...bin.slice(1), '--variant', `sparse-${net}`, ...one, '--json'];
          push(throughput, `sparse-${net}${suffix}-x${copies}`, await runTogether(bin[0]!, sparseArgs, copies, env));
          if (radius > 0)
            push(
              throughput,
              `sparse-${net}-r${radius}${suffix}-x${copies}`,
              await runTogether(bin[0]!, [...sparseArgs, '--isolated-radius', String(radius)], copies, env),
            );
        }
        push(throughput, `pytorch-${net}-x${copies}`, await runTogether(a.python!, peerInfer(a['throughput-iters']!, '1'), copies));
      }
    }
  }
  load.push(loadavg());
  const trainSummary = Object.fromEntries(
    Object.entries(train).map(([k, rs]) => [
      k,
      {
        ms_per_step_median: +median(rs.flatMap((r) => r.step_ms!)).toFixed(1),
        cpu_ms_per_step_median: medianOrNull(
          rs.flatMap((r) => r.step_cpu_ms ?? []),
          1,
        ),
        peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)),
        active_pixels_per_image: rs[0]!.active_pixels_per_image,
      },
    ]),
  );
  const inferSummary = Object.fromEntries(
    Object.entries(infer).map(([k, rs]) => {
      const ms = median(rs.flatMap((r) => r.batch_ms!));
      return [
        k,
        {
          img_per_s_median: +((1000 * Number(a['infer-batch'])) / ms).toFixed(2),
          ms_per_batch_median: +ms.toFixed(2),
          cpu_ms_per_batch_median: medianOrNull(
            rs.flatMap((r) => r.batch_cpu_ms ?? []),
            2,
          ),
          peak_rss_mb: Math.max(...rs.map((r) => r.peak_rss_mb)),
        },
      ];
    }),
  );
  // Throughput rows: per round, the images/s of the processes that ran at once, summed.
  const imgPerS = (r: Run) => (1000 * Number(a['infer-batch'])) / median(r.batch_ms!);
  const throughputSummary = Object.fromEntries(
    Object.entries(throughput).map(([k, rounds]) => {
      const summed = rounds.map((rs) => rs.reduce((t, r) => t + imgPerS(r), 0));
      return [
        k,
        {
          processes: rounds[0]!.length,
          threads_each: 1,
          img_per_s_median: +median(summed).toFixed(2),
          img_per_s_rounds: summed.map((v) => +v.toFixed(2)),
          peak_rss_mb_each: Math.max(...rounds.flat().map((r) => r.peak_rss_mb)),
        },
      ];
    }),
  );
  // Each throughput row against PyTorch's better form on the same cores: one process of
  // --threads threads (the infer rows) or one single-threaded process per core.
  const throughputRatios = Object.fromEntries(
    Object.keys(throughputSummary)
      .filter((k) => k.startsWith('sparse-'))
      .map((k) => {
        const net = nets.find((n) => k.startsWith(`sparse-${n}-`) && (n.endsWith('tiny') || !k.includes('tiny')))!;
        const peer = Math.max(inferSummary[`pytorch-${net}`]!.img_per_s_median, throughputSummary[`pytorch-${net}-x${a.threads}`]!.img_per_s_median);
        return [k, { infer_speedup_vs_best_pytorch: +(throughputSummary[k]!.img_per_s_median / peer).toFixed(2), best_pytorch_img_per_s: peer }];
      }),
  );
  // Each sparse row (this checkout, with isolated pixels dropped, another checkout) against PyTorch and dense daqyolo.
  const r2 = (p: number | null, q: number | null) => (p === null || q === null ? null : +(p / q).toFixed(2));
  const ratios = Object.fromEntries(
    nets.flatMap((net) =>
      Object.keys(train)
        .filter((k) => k.includes(`sparse-${net}`) && (net.endsWith('tiny') || !k.includes('tiny')))
        .map((k) => {
          const t = trainSummary[k]!,
            i = inferSummary[k]!,
            pt = trainSummary[`pytorch-${net}`]!,
            pi = inferSummary[`pytorch-${net}`]!;
          const dt = trainSummary[net],
            di = inferSummary[net];
          return [
            k,
            {
              train_speedup_vs_pytorch: r2(pt.ms_per_step_median, t.ms_per_step_median),
              train_cpu_speedup_vs_pytorch: r2(pt.cpu_ms_per_step_median, t.cpu_ms_per_step_median),
              ...(dt ? { train_speedup_vs_dense_daqyolo: r2(dt.ms_per_step_median, t.ms_per_step_median) } : {}),
              train_memory_vs_pytorch: +(t.peak_rss_mb / pt.peak_rss_mb).toFixed(3),
              infer_speedup_vs_pytorch: r2(i.img_per_s_median, pi.img_per_s_median),
              infer_cpu_speedup_vs_pytorch: r2(pi.cpu_ms_per_batch_median, i.cpu_ms_per_batch_median),
              ...(di ? { infer_speedup_vs_dense_daqyolo: r2(i.img_per_s_median, di.img_per_s_median) } : {}),
              infer_memory_vs_pytorch: +(i.peak_rss_mb / pi.peak_rss_mb).toFixed(3),
            },
          ];
        }),
    ),
  );
  // Time per image against active pixels (random positions), sparse networks, inference batch.
  const scan = (a.scan ? a.scan.split(',') : [])
    .filter((v) => v !== '')
    .map(Number)
    .map((n) => {
      const row: Record<string, number> = { active_pixels_per_image: n };
      for (const v of nets.map((n) => `sparse-${n}`)) {
        const r = daq('infer', '--variant', v, '--batch', a['infer-batch']!, '--iters', a.steps!, '--warmup', '1', '--active', String(n), ...common);
        row[`${v}_ms_per_image`] = +(median(r.batch_ms!) / Number(a['infer-batch'])).toFixed(3);
      }
      return row;
    });
  load.push(loadavg());
  console.log(
    JSON.stringify({
      bench: 'sparse-vs-dense',
      size,
      width: Number(a.width),
      train_batch: Number(a.batch),
      infer_batch: Number(a['infer-batch']),
      threads: Number(a.threads),
      rounds: Number(a.rounds),
      omp_wait_policy: a['omp-wait'],
      malloc: a.malloc,
      data: a.data ?? `simulate${a.threshold ? ` --threshold ${a.threshold}` : ''} --images 200 --seed 11`,
      isolated_radius: radius,
      before: a.before ?? null,
      load_average_1m: load.map((l) => +l[0]!.toFixed(2)),
      train: trainSummary,
      infer: inferSummary,
      ratios,
      ...(a.throughput ? { throughput: throughputSummary, throughput_ratios: throughputRatios } : {}),
      scan,
      targets: { train_speedup_vs_pytorch: 5, infer_speedup_vs_pytorch: 10, memory_vs_pytorch: '< 1', fprate_img_per_s: 280 },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
