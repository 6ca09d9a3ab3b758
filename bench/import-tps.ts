// Reading and importing DUNE TP files at scale: peak RSS and TPs/s of openTpStream and of
// `import tps` on a file of ≥ 10^7 TPs generated here (background-like TPs over 20 APA faces at the
// far detector's ³⁹Ar-dominated rate), beside the same file's bare line (text) or fragment (HDF5)
// read as the peer, in the same run. RSS is sampled through the run: its value after the first
// tenth of the TPs and at the end show whether memory stays constant. One JSON object.
//
// Run: node dist/bench/import-tps.js [--tps 10000000] [--format text8|hdf5] [--dir /tmp] [--keep]
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTpStream, writeTpStream, FD_HD_OFFLINE, type TpFormat } from '../src/formats/tps/index.js';
import { readLines } from '../src/formats/tps/text.js';
import { importTps } from '../src/formats/tps/import.js';
import { h5wasm, type H5Dataset } from '../src/data/h5.js';
import { tpFragmentPaths } from '../src/formats/tps/daq-hdf5.js';
import { allocTpBatch, type TpBatch, type TpInteraction, type TpStream } from '../src/sim/tp-stream.js';
import { bgOwner } from '../src/sim/deposits.js';
import { mulberry32 } from '../src/util/rng.js';

const { values: a } = parseArgs({
  options: {
    tps: { type: 'string', default: '10000000' },
    format: { type: 'string', default: 'text8' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(a.tps);
const format = a.format as TpFormat;
const FACES = 20;
/** Mean spacing of TPs on one face, ticks: ~100 kHz of TPs per face (³⁹Ar and noise at DUNE's thresholds). */
const SPACING = 20;

function synthetic(n: number): TpStream {
  const rnd = mulberry32(7);
  async function* batches(): AsyncGenerator<{ tps: TpBatch; interactions: TpInteraction[] }> {
    let t = 0;
    for (let done = 0; done < n;) {
      const m = Math.min(1 << 16, n - done);
      const b = allocTpBatch(m);
      for (let i = 0; i < m; i++) {
        t += (-Math.log(1 - rnd()) * SPACING) / FACES;
        const face = Math.floor(rnd() * FACES),
          wire = Math.floor(rnd() * 480);
        b.face[i] = face;
        b.wire[i] = wire;
        b.plane[i] = 2;
        b.channel[i] = FD_HD_OFFLINE.channelOf(face >> 1, 2, face & 1, wire)!;
        b.timeStart[i] = Math.round(t);
        b.timePeak[i] = Math.round(t) + 2;
        b.timeOverThreshold[i] = 4 + Math.floor(rnd() * 8);
        b.adcIntegral[i] = 50 + Math.floor(rnd() * 400);
        b.adcPeak[i] = 10 + Math.floor(rnd() * 40);
        b.detid[i] = face >> 1;
        b.type[i] = 1;
        b.owner[i] = bgOwner(0);
      }
      b.n = m;
      done += m;
      yield { tps: b, interactions: [] };
    }
  }
  return { header: { originDts: 100_000_000_000_000_000n, sources: ['bench'], hasTruth: false }, batches: batches() };
}

/** Runs `f` while sampling RSS; returns its result, seconds, peak RSS and RSS once `progress()` passed a tenth. */
async function measured<T>(
  f: (progress: (done: number) => void) => Promise<T>,
): Promise<{ result: T; seconds: number; cpuSeconds: number; peakRssMB: number; rssAtTenthMB: number; rssEndMB: number }> {
  globalThis.gc?.();
  let peak = 0,
    atTenth = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 50);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await f((done) => {
    sample();
    if (!atTenth && done >= N / 10) atTenth = process.memoryUsage().rss;
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = +((cpu.user + cpu.system) / 1e6).toFixed(2);
  clearInterval(timer);
  sample();
  const mb = (x: number) => +(x / 2 ** 20).toFixed(1);
  return { result, seconds: +seconds.toFixed(2), cpuSeconds, peakRssMB: mb(peak), rssAtTenthMB: mb(atTenth), rssEndMB: mb(process.memoryUsage().rss) };
}

const dir = mkdtempSync(join(a.dir ?? tmpdir(), 'daqyolo-bench-tps-'));
try {
  const file = join(dir, format === 'hdf5' ? 'tps.hdf5' : 'tps.txt');
  const gen = await measured(async () => writeTpStream(synthetic(N), format, file, { tpVersion: 2 }));
  // The peer: the bare read of the same file (lines split, or every fragment's bytes), no parsing.
  const peer = await measured(async (progress) => {
    let n = 0;
    if (format === 'hdf5') {
      const f = new h5wasm.File(file, 'r');
      for (const p of tpFragmentPaths(f)) {
        n += ((f.get(p) as H5Dataset).value as Int8Array).length;
        progress(0);
      }
      f.close();
      return n;
    }
    for await (const { lines } of readLines(file)) {
      n += lines.length;
      progress(n);
    }
    return n;
  });
  const read = await measured(async (progress) => {
    let n = 0;
    for await (const { tps } of (await openTpStream([file])).batches) {
      n += tps.n;
      progress(n);
    }
    return n;
  });
  const out = join(dir, 'imported.h5');
  const imp = await measured(async (progress) =>
    importTps({ files: [file], out, windowMs: 2.246, skipBad: false, force: true, seed: 0, split: [0.8, 0.1, 0.1], onProgress: progress }),
  );
  console.log(
    JSON.stringify(
      {
        command: `node dist/bench/import-tps.js --tps ${N} --format ${format}`,
        tps: N,
        format,
        fileMB: +(statSync(file).size / 2 ** 20).toFixed(1),
        // Wall seconds on a shared machine; cpuSeconds (this process, user + system) is what the work costs.
        write: { seconds: gen.seconds, cpuSeconds: gen.cpuSeconds, tpsPerCpuSecond: Math.round(N / gen.cpuSeconds), peakRssMB: gen.peakRssMB },
        peerBareRead: { seconds: peer.seconds, cpuSeconds: peer.cpuSeconds, peakRssMB: peer.peakRssMB },
        openTpStream: {
          seconds: read.seconds,
          cpuSeconds: read.cpuSeconds,
          tpsPerSecond: Math.round(read.result / read.seconds),
          tpsPerCpuSecond: Math.round(read.result / read.cpuSeconds),
          peakRssMB: read.peakRssMB,
          rssAtTenthMB: read.rssAtTenthMB,
          rssEndMB: read.rssEndMB,
          cpuVsBareRead: +(read.cpuSeconds / peer.cpuSeconds).toFixed(2),
        },
        importTps: {
          seconds: imp.seconds,
          cpuSeconds: imp.cpuSeconds,
          tpsPerSecond: Math.round(N / imp.seconds),
          tpsPerCpuSecond: Math.round(N / imp.cpuSeconds),
          peakRssMB: imp.peakRssMB,
          rssAtTenthMB: imp.rssAtTenthMB,
          rssEndMB: imp.rssEndMB,
          images: imp.result.images,
          windows: imp.result.windows,
          outputMB: +(statSync(out).size / 2 ** 20).toFixed(1),
        },
      },
      null,
      2,
    ),
  );
} finally {
  if (!a.keep) rmSync(dir, { recursive: true, force: true });
}
