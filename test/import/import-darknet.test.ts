// Darknet .weights import: a file written by the test with known values, layer by layer in the
// darknet yolov3-tiny.cfg order (spelled out here, independently of the model code), lands in
// every tensor; a full YOLOv3 round trip, a backbone-only prefix, and files that do not fit.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createYolo } from '../../src/model/yolo.js';
import { loadDarknetWeights, saveDarknetWeights, darknetLayers } from '../../src/formats/darknet.js';
import { loadCheckpoint } from '../../src/nn/serialize.js';
import type { Tensor } from '../../src/torch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-darknet-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const values = (t: Tensor) => Array.from(t.contiguous().dataSync() as Float32Array);

// yolov3-tiny.cfg at width 1/16 (16 → 1, 32 → 2, …), 2 classes (3·(5+2) = 21 outputs), 3 input
// channels: [in, out, kernel, batch-normalised] in cfg order.
const OUT = 21;
const TINY: [number, number, number, boolean][] = [
  [3, 1, 3, true],
  [1, 2, 3, true],
  [2, 4, 3, true],
  [4, 8, 3, true],
  [8, 16, 3, true],
  [16, 32, 3, true],
  [32, 64, 3, true],
  [64, 16, 1, true],
  [16, 32, 3, true],
  [32, OUT, 1, false],
  [16, 8, 1, true],
  [24, 16, 3, true],
  [16, OUT, 1, false],
];

test('yolov3-tiny: every value of a hand-written .weights file lands in its tensor', () => {
  // Value of float j of layer i: i + j·1e-4 (distinct per position, exact enough in float32).
  const header = Buffer.alloc(20);
  header.writeInt32LE(0, 0);
  header.writeInt32LE(2, 4);
  header.writeInt32LE(5, 8);
  header.writeBigInt64LE(123456789n, 12);
  const parts: Float32Array[] = TINY.map(([cin, cout, k, bn], i) =>
    Float32Array.from({ length: cout * (bn ? 4 : 1) + cout * cin * k * k }, (_, j) => i + j * 1e-4),
  );
  const file = join(dir, 'tiny.weights');
  writeFileSync(file, Buffer.concat([header, ...parts.map((p) => Buffer.from(p.buffer))]));
  const model = createYolo({ variant: 'yolov3-tiny', numClasses: 2, inChannels: 3, width: 1 / 16 });
  const r = loadDarknetWeights(model, file);
  assert.deepEqual(r.header, { major: 0, minor: 2, revision: 5, seen: 123456789 });
  assert.equal(r.layersLoaded, TINY.length);
  const layers = darknetLayers(model);
  assert.equal(layers.length, TINY.length);
  layers.forEach((l, i) => {
    const [cin, cout, k, bn] = TINY[i];
    assert.deepEqual(l.conv.weight.shape, [cout, cin, k, k], `layer ${i} (${l.name}) shape`);
    const p = Array.from(parts[i]);
    const per = (t: Tensor, from: number) => assert.deepEqual(values(t), p.slice(from, from + t.numel), `layer ${i} ${l.name}`);
    if (bn) {
      per(l.bn!.bias, 0);
      per(l.bn!.weight, cout);
      per(l.bn!.runningMean, 2 * cout);
      per(l.bn!.runningVar, 3 * cout);
      per(l.conv.weight, 4 * cout);
    } else {
      assert.equal(l.bn, null);
      per(l.conv.bias!, 0);
      per(l.conv.weight, cout);
    }
  });
  model.dispose();
});

test('yolov3: save → load gives every tensor back; a prefix loads its layers; wrong sizes are refused', () => {
  const a = createYolo({ variant: 'yolov3', numClasses: 3, inChannels: 1, width: 1 / 16 });
  const file = join(dir, 'full.weights');
  saveDarknetWeights(a, file, 42);
  const b = createYolo({ variant: 'yolov3', numClasses: 3, inChannels: 1, width: 1 / 16 });
  const r = loadDarknetWeights(b, file);
  assert.equal(r.layersLoaded, 75); // 52 backbone + 3 × 7 head + 2 upsample convs
  assert.equal(r.header.seen, 42);
  const sb = b.stateDict();
  let compared = 0;
  for (const [k, t] of a.stateDict()) {
    if (k.endsWith('num_batches_tracked')) continue;
    assert.deepEqual(values(sb.get(k)!), values(t), k);
    compared++;
  }
  assert.equal(compared, 72 * 5 + 3 * 2); // 72 conv + BN layers (weight, 4 BN tensors), 3 output convs (weight, bias)
  // The first 52 layers (Darknet-53 backbone) as a file of their own: they load, the heads keep their init.
  const buf = readFileSync(file);
  const layers = darknetLayers(a);
  const backbone = layers.slice(0, 52).reduce((n, l) => n + l.conv.weight.numel + l.conv.outChannels * 4, 0);
  writeFileSync(join(dir, 'backbone.weights'), buf.subarray(0, 20 + 4 * backbone));
  const c = createYolo({ variant: 'yolov3', numClasses: 3, inChannels: 1, width: 1 / 16 });
  const headBefore = values(c.stateDict().get('head1.out.1.weight')!);
  assert.equal(loadDarknetWeights(c, join(dir, 'backbone.weights')).layersLoaded, 52);
  const last = layers[51];
  assert.match(last.name, /^backbone\.stages\.4\./);
  assert.deepEqual(values(darknetLayers(c)[51].conv.weight), values(last.conv.weight));
  assert.deepEqual(values(darknetLayers(c)[51].bn!.runningVar), values(last.bn!.runningVar));
  assert.deepEqual(values(c.stateDict().get('head1.out.1.weight')!), headBefore);
  // Cut inside a layer, one value too many, or another class count: one-line errors.
  writeFileSync(join(dir, 'cut.weights'), buf.subarray(0, 20 + 4 * backbone + 8));
  assert.throws(() => loadDarknetWeights(c, join(dir, 'cut.weights')), /ends inside layer 52 \(head1\.trunk\.0/);
  writeFileSync(join(dir, 'long.weights'), Buffer.concat([buf, Buffer.alloc(4)]));
  assert.throws(() => loadDarknetWeights(c, join(dir, 'long.weights')), /1 values left after all 75 layers/);
  const d = createYolo({ variant: 'yolov3', numClasses: 80, inChannels: 1, width: 1 / 16 });
  assert.throws(() => loadDarknetWeights(d, file), /ends inside layer/);
  for (const m of [a, b, c, d]) m.dispose();
});

test('import-weights CLI writes a checkpoint that loads into the same model', () => {
  const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
  const a = createYolo({ variant: 'yolov3-tiny', numClasses: 2, inChannels: 1, width: 1 / 16 });
  const file = join(dir, 'cli.weights');
  saveDarknetWeights(a, file);
  const out = join(dir, 'init.safetensors');
  const r = spawnSync(
    process.execPath,
    [cli, 'import-weights', file, '--variant', 'yolov3-tiny', '--classes', '2', '--channels', '1', '--width', '0.0625', '--out', out],
    { encoding: 'utf8', env: { ...process.env, DAQYOLO_CPU_ALLOCATOR: 'system' } },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).layersLoaded, 13);
  const b = createYolo({ variant: 'yolov3-tiny', numClasses: 2, inChannels: 1, width: 1 / 16 });
  const { meta } = loadCheckpoint(out, { model: b });
  assert.equal(meta.format, 'darknet');
  assert.deepEqual(values(b.stateDict().get('out2.1.weight')!), values(a.stateDict().get('out2.1.weight')!));
  a.dispose();
  b.dispose();
});
