// fprate throughput, old path against new in one run: the same run, stream and batch, each
// setting in its own process (thread counts are fixed at start-up), rounds alternating, medians
// and ratios to the first setting. Settings: 'dense' = every image densified to [C, H, W] and
// batched (what fprate did for every model), 'pixels' = a sparse model reads the simulator's
// pixel lists (the default for sparse models); each with OMP threads and simulation workers.
// One JSON object: images/s and CPU ms per image (all threads of the process) per setting and
// round, the FP counts (the paths must agree), the load average before and after.
//
// Run: node dist/bench/fprate.js --run RUN [--images 800] [--batch 16] [--rounds 3]
//        [--settings dense:2:1,pixels:2:1,pixels:1:1]      (input:threads:workers[:batch], batch default --batch)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, cpSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    run: { type: 'string' },
    images: { type: 'string', default: '800' },
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    settings: { type: 'string', default: 'dense:2:1,pixels:2:1,pixels:1:1' },
    child: { type: 'string' },
    checkpoint: { type: 'string', default: 'best' },
  },
});

if (a.child) {
  // One measurement in this process: input, OMP threads (from the environment), workers.
  const { measureFpRate } = await import('../src/eval/fprate.js');
  const [input, , workers, batch] = a.child.split(':');
  const c0 = process.cpuUsage();
  const r = await measureFpRate({
    runDir: a.run!,
    images: Number(a.images),
    batch: Number(batch ?? a.batch),
    workers: Number(workers),
    checkpoint: a.checkpoint,
    input: input as 'dense' | 'pixels',
  });
  const cpu = process.cpuUsage(c0);
  console.log(
    JSON.stringify({
      img_per_s: r.imagesPerSecond,
      cpu_ms_per_image: (cpu.user + cpu.system) / 1000 / r.images,
      fp: r.counts.reduce((x, y) => x + y, 0),
      counts: r.counts,
    }),
  );
  process.exit(0);
}

if (!a.run) throw new Error('bench/fprate: give --run RUN (a trained run; its dataset gives the stream)');
const runDir = a.run;
const script = fileURLToPath(import.meta.url);
const settings = a.settings!.split(',');
const rounds = Number(a.rounds);
const median = (v: number[]) => {
  const s = [...v].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const work = mkdtempSync(join(tmpdir(), 'daqyolo-bench-fprate-'));
const load0 = loadavg()[0];
const per = new Map<string, { img_per_s: number[]; cpu_ms_per_image: number[]; fp: number; counts: number[] }>();
try {
  for (let r = 0; r < rounds; r++) {
    // Alternate the order each round so that neither setting always runs first.
    const order = r % 2 ? [...settings].reverse() : settings;
    for (const s of order) {
      // A copy of the run per measurement: fprate resumes from eval/, which must start empty.
      const runCopy = join(work, `run-${r}-${s.replace(/:/g, '_')}`);
      cpSync(runDir, runCopy, { recursive: true });
      rmSync(join(runCopy, 'eval'), { recursive: true, force: true });
      const threads = s.split(':')[1]!;
      const p = spawnSync(
        process.execPath,
        [script, '--child', s, '--run', runCopy, '--images', a.images!, '--batch', a.batch!, '--checkpoint', a.checkpoint!],
        { env: { ...process.env, OMP_NUM_THREADS: threads, DAQYOLO_THREADS: threads }, encoding: 'utf8' },
      );
      if (p.status !== 0) throw new Error(`bench/fprate: setting ${s} failed: ${p.stderr}`);
      const m = JSON.parse(p.stdout.trim().split('\n').pop()!);
      const e = per.get(s) ?? { img_per_s: [] as number[], cpu_ms_per_image: [] as number[], fp: m.fp as number, counts: m.counts as number[] };
      e.img_per_s.push(Number(m.img_per_s.toFixed(1)));
      e.cpu_ms_per_image.push(Number(m.cpu_ms_per_image.toFixed(2)));
      if (JSON.stringify(e.counts) !== JSON.stringify(m.counts)) e.fp = NaN;
      per.set(s, e);
      rmSync(runCopy, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const base = median(per.get(settings[0]!)!.img_per_s);
const ref = per.get(settings[0]!)!.counts;
console.log(
  JSON.stringify({
    run: runDir,
    images: Number(a.images),
    batch: Number(a.batch),
    rounds,
    load_before: Number(load0.toFixed(2)),
    load_after: Number(loadavg()[0].toFixed(2)),
    settings: Object.fromEntries(
      [...per].map(([s, e]) => [
        s,
        {
          img_per_s: e.img_per_s,
          median_img_per_s: median(e.img_per_s),
          cpu_ms_per_image: e.cpu_ms_per_image,
          median_cpu_ms_per_image: median(e.cpu_ms_per_image),
          ratio_to_first: Number((median(e.img_per_s) / base).toFixed(3)),
          fp: e.fp,
          same_histogram_as_first: JSON.stringify(e.counts) === JSON.stringify(ref),
        },
      ]),
    ),
  }),
);
