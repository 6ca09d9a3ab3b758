// fprate's pixel-list path for sparse models (issue 15's throughput): the streamed pixel lists go
// straight into the sparse batch, never densified, and the FP histogram is the dense path's bit
// for bit (same sites, same features, same arithmetic) on one thread and with a worker, for an
// untrained and a trained checkpoint, resumed and in merged shards; the dense model keeps the dense path. fromSortedPixels equals
// SparseTensor.fromDense of the densified images (scale, zero-valued pixels, several channels).
// The background simulation's speed-ups keep its output: a fixed seed's TPs have a fixed digest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { parseSimConfig } from '../../src/sim/config.js';
import { Simulator } from '../../src/sim/event.js';
import { generateDataset } from '../../src/data/generate.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { train } from '../../src/train/trainer.js';
import { measureFpRate, mergeFpShards } from '../../src/eval/fprate.js';
import { streamImages, streamPixels, type StreamedPixels } from '../../src/data/stream.js';
import { SparseTensor, tensor, tidy } from '../../src/torch/index.js';
import { UserError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-fppix-'));
const data = join(dir, 'd.h5');
const sparseRun = join(dir, 'sparse');
const denseRun = join(dir, 'dense');
const simConfig = parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } });
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await generateDataset({ out: data, config: simConfig, images: 50, seed: 9, workers: 0 });
  await train({
    config: parseTrainConfig({ data, out: sparseRun, epochs: 1, batch: 8, threads: 1, model: { variant: 'sparse-yolov3-tiny', width: 0.0625, size: 64 } }),
  });
  await train({
    config: parseTrainConfig({ data, out: denseRun, epochs: 1, batch: 8, threads: 1, model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 } }),
  });
});

const fresh = (run: string) => rmSync(join(run, 'eval'), { recursive: true, force: true });

test("a sparse model reads pixel lists: the FP histogram is the dense path's, bit for bit", async () => {
  for (const checkpoint of ['init', 'last']) {
    for (const workers of [0, 1]) {
      fresh(sparseRun);
      const dense = await measureFpRate({ runDir: sparseRun, images: 40, batch: 8, workers, checkpoint, input: 'dense' });
      fresh(sparseRun);
      const pixels = await measureFpRate({ runDir: sparseRun, images: 40, batch: 8, workers, checkpoint, input: 'pixels' });
      const total = dense.counts.reduce((a, b) => a + b, 0);
      assert.ok(total > 0, `${checkpoint}: some detections to compare`);
      assert.deepEqual(pixels.counts, dense.counts, `${checkpoint}, ${workers} workers`);
      assert.equal(pixels.images, 40);
    }
  }
  // The default for a sparse model is the pixel path, and it resumes like the dense one.
  fresh(sparseRun);
  const whole = await measureFpRate({ runDir: sparseRun, images: 40, batch: 8, workers: 1, checkpoint: 'init', input: 'dense' });
  fresh(sparseRun);
  await measureFpRate({ runDir: sparseRun, images: 24, batch: 8, workers: 1, checkpoint: 'init' });
  const resumed = await measureFpRate({ runDir: sparseRun, images: 40, batch: 8, workers: 0, checkpoint: 'init' });
  assert.deepEqual(resumed.counts, whole.counts);
  // Shards of the pixel stream merge into the dense path's whole stream.
  fresh(sparseRun);
  for (const index of [0, 1]) await measureFpRate({ runDir: sparseRun, images: 40, batch: 8, workers: index, checkpoint: 'init', shard: { index, count: 2 } });
  assert.deepEqual(mergeFpShards(sparseRun).counts, whole.counts);
});

test('a dense model keeps the dense path; asking it for pixel lists is a clear error', async () => {
  fresh(denseRun);
  const auto = await measureFpRate({ runDir: denseRun, images: 16, batch: 8, workers: 1, checkpoint: 'init' });
  fresh(denseRun);
  const dense = await measureFpRate({ runDir: denseRun, images: 16, batch: 8, workers: 1, checkpoint: 'init', input: 'dense' });
  assert.deepEqual(auto.counts, dense.counts);
  fresh(denseRun);
  await assert.rejects(
    measureFpRate({ runDir: denseRun, images: 16, batch: 8, workers: 0, checkpoint: 'init', input: 'pixels' }),
    (e: unknown) => e instanceof UserError && /pixel-list input needs a sparse model/.test(e.message),
  );
});

test('SparseTensor.fromSortedPixels = SparseTensor.fromDense of the densified images, scaled, without zero-valued sites', async () => {
  const cfg = parseSimConfig({ image: { size: 64, extraChannels: ['peak_adc', 'tot'] } });
  const list: StreamedPixels[] = [];
  for await (const p of streamPixels({ config: cfg, seed: 3, start: 100, count: 6, mode: 'mixed', workers: 0 })) list.push(p);
  const dense = [...streamImages({ config: cfg, seed: 3, start: 100, count: 6, mode: 'mixed' })];
  assert.ok(list.every((p) => p.pixels.length > 0) && list[0]!.channels === 3);
  // A pixel whose channels are all zero is no site of a dense image: it must not be one here.
  list[1] = { ...list[1]!, values: list[1]!.values.slice() };
  list[1].values.fill(0, 0, 3);
  dense[1]!.image[list[1].pixels[0]!] = 0;
  const plane = 64 * 64;
  for (let c = 1; c < 3; c++) dense[1]!.image[c * plane + list[1].pixels[0]!] = 0;
  tidy(() => {
    const x = SparseTensor.fromSortedPixels(list, 3, 64, 64, 0.37);
    const imgs = new Float32Array(6 * 3 * plane);
    dense.forEach((d, i) => imgs.set(d.image, i * 3 * plane));
    const ref = SparseTensor.fromDense(tensor(imgs, { shape: [6, 3, 64, 64] }).mul(0.37));
    assert.deepEqual(x.grid.coords.toNumbers(), ref.grid.coords.toNumbers());
    assert.deepEqual(x.features.toNumbers(), ref.features.toNumbers());
    assert.equal(x.grid.size, list.reduce((n, p) => n + p.pixels.length, 0) - 1);
  });
  const bad = [{ ...list[0]!, pixels: Int32Array.from([5, 3]), values: new Float32Array(6).fill(1) }];
  assert.throws(() => SparseTensor.fromSortedPixels(bad, 3, 64, 64), /image 100 pixel 1 = 3 is not ascending/);
  assert.throws(() => SparseTensor.fromSortedPixels([{ pixels: [1], values: [1] }], 3, 64, 64), /image 0 has 1 values for 1 pixels × 3 channels/);
});

test('the background simulation is unchanged: a fixed seed gives the same TPs (digest)', () => {
  // Digest of every TP field and of the pixel lists of 120 images (every third with signal) at
  // the default configuration, taken before issue 15's speed-ups of src/sim. A change of the
  // physics changes it on purpose: update it then, with the reason in the commit.
  const sim = new Simulator(parseSimConfig({}), 5);
  const h = createHash('sha256');
  let n = 0;
  for (let i = 0; i < 120; i++) {
    const r = sim.image(20_000_000 + i, { signal: i % 3 === 0, keepTps: true });
    const t = r.tps!;
    n += t.n;
    for (const a of [t.channel, t.timeStart, t.timePeak, t.timeOverThreshold, t.adcIntegral, t.adcPeak, t.owner])
      h.update(Buffer.from(a.buffer, a.byteOffset, t.n * a.BYTES_PER_ELEMENT));
    h.update(Buffer.from(r.sparse.pixels.buffer));
    h.update(Buffer.from(r.sparse.values.buffer));
  }
  assert.equal(n, 12832);
  assert.equal(h.digest('hex'), '96e6fa09e05cdf90468b1e1909e9c98e066cfc5c3ce4cb7ff2cf4faec6e2fd57');
});
