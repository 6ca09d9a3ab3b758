// Child process of trigger-stream.test.ts: a long synthetic TP stream (2 faces, 2 500 windows of
// time, ~400 noise TPs per face and window plus a track every 10 windows) through the stream
// trigger with the baseline; prints RSS after garbage collection at each quarter.
import { parseSimConfig } from '../src/sim/config.js';
import { imageLayout } from '../src/sim/image.js';
import { allocTpBatch, type TpStream } from '../src/sim/tp-stream.js';
import { defaultClusterParams } from '../src/trigger/cluster.js';
import { baselineDetector } from '../src/trigger/detectors.js';
import { runStreamTrigger } from '../src/trigger/run-stream.js';

const W = 4492,
  SPANS = 2500,
  FACES = 2,
  NOISE = 400;
const layout = imageLayout(parseSimConfig({}));
const params = defaultClusterParams();
const rssMb: number[] = [];
let seed = 99;
const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;

async function* batches() {
  for (let k = 0; k < SPANS; k++) {
    const rows: [number, number, number, number][] = [];
    for (let f = 0; f < FACES; f++) {
      for (let i = 0; i < NOISE; i++) rows.push([f, Math.floor(rand() * 480), k * W + rand() * W, 50 + rand() * 200]);
      if (k % 10 === 0) for (let j = 0; j < 30; j++) rows.push([f, 100 + j, k * W + 1000 + 5 * j, 400]);
    }
    rows.sort((a, b) => a[2] - b[2]);
    const b = allocTpBatch(rows.length);
    b.n = rows.length;
    rows.forEach(([f, w, t, adc], i) => {
      b.face[i] = f;
      b.wire[i] = w;
      b.channel[i] = w;
      b.plane[i] = 2;
      b.timeStart[i] = t;
      b.timePeak[i] = t + 3;
      b.timeOverThreshold[i] = 8;
      b.adcIntegral[i] = adc;
      b.adcPeak[i] = adc / 4;
      b.owner[i] = -1;
    });
    yield { tps: b, interactions: [] };
    if ((k + 1) % (SPANS / 4) === 0) {
      (globalThis as { gc?: () => void }).gc?.();
      rssMb.push(process.memoryUsage().rss / 2 ** 20);
    }
  }
}

const stream: TpStream = { header: { originDts: 0n, sources: ['rss'], hasTruth: false }, batches: batches() };
let candidates = 0;
const r = await runStreamTrigger(stream, {
  layout,
  windowTicks: W,
  overlapTicks: 2000,
  batchWindows: 16,
  detector: baselineDetector(layout, params),
  threshold: params.minSumAdc,
  tickSeconds: 0.5e-6,
  cores: 1,
  onCandidate: () => {
    candidates++;
  },
});
console.log(JSON.stringify({ rssMb, windows: r.summary.windows, candidates }));
