// Simulation and dataset-read benchmark; prints one JSON object.
//   node dist/bench/sim.js [--images 30000] [--workers N] [--size 480] [--keep file.h5]
// Measures: generating + writing N images with worker threads (the target is 30 000 480×480 images
// in ≤ 60 s on 2 cores), single-thread streaming rate (background-only, for FP-rate studies), and
// reading + densifying random batches of 8 images (target ≤ 20 ms).
import { mkdtempSync, rmSync, statSync, renameSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { openDataset } from '../src/data/store.js';
import { streamImages } from '../src/data/stream.js';
import { Random } from '../src/sim/random.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const images = Number(arg('images', '30000'));
const workers = Number(arg('workers', String(availableParallelism())));
const size = Number(arg('size', '480'));
const keep = arg('keep', '');
const config = parseSimConfig({ image: { size } });
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-'));
const out = join(dir, 'bench.h5');

const cpu0 = process.cpuUsage();
const summary = await generateDataset({ out, config, images, seed: 1, workers });
// CPU seconds of the whole process (all threads): independent of other load on the machine.
const cpu = process.cpuUsage(cpu0);
const loadAvg = (await import('node:os')).loadavg()[0];
const bytes = statSync(out).size;

// Streaming, one thread, background-only (what an FP-rate scan over 10⁶ images does per worker).
const nStream = 2000;
let t = performance.now();
let tps = 0;
for (const s of streamImages({ config, seed: 2, count: nStream, mode: 'background', reuseBuffer: true })) tps += s.image[0];
const streamMsPerImage = (performance.now() - t) / nStream;
void tps;

// Read + densify random batches of 8 (offset tables are loaded at open).
const r = openDataset(out);
const rng = new Random(5);
const out8 = new Float32Array(8 * r.channels * r.height * r.width);
const batches = 200;
const times: number[] = [];
for (let b = 0; b < batches + 5; b++) {
  const idx = Array.from({ length: 8 }, () => rng.int(r.numImages));
  t = performance.now();
  r.readDense(idx, out8);
  if (b >= 5) times.push(performance.now() - t);
}
r.close();
times.sort((a, b) => a - b);
if (keep) renameSync(out, keep);
rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify({
    bench: 'sim',
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    workers,
    images,
    size,
    generateAndWriteSeconds: +summary.seconds.toFixed(2),
    imagesPerSecond: +(images / summary.seconds).toFixed(0),
    cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
    loadAverage1m: +loadAvg.toFixed(2),
    target30kSeconds: 60,
    fileMB: +(bytes / 1e6).toFixed(1),
    streamBackgroundMsPerImageOneThread: +streamMsPerImage.toFixed(3),
    readDenseBatch8Ms: { median: +times[times.length >> 1].toFixed(2), p95: +times[Math.floor(times.length * 0.95)].toFixed(2), target: 20 },
  }),
);
