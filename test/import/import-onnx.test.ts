// ONNX export checked with onnxruntime-node: the same head outputs as daqyolo's own forward
// (eval mode) within 1e-4, for YOLOv3 and YOLOv3-tiny with non-trivial BN statistics, and the
// export-onnx command on a trained run (input scale folded into the graph).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { createYolo, type YoloV3, type Variant } from '../../src/model/yolo.js';
import { BatchNorm2d } from '../../src/nn/index.js';
import { noGrad, rand, tensor } from '../../src/torch/index.js';
import { exportOnnx, saveOnnx } from '../../src/formats/onnx.js';
import { openRun } from '../../src/infer/open-run.js';
import { collectVoc } from '../../src/formats/voc.js';
import { importRecords } from '../../src/formats/importer.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { train } from '../../src/train/trainer.js';
import { writeVoc, lcg } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Largest |a − b| over all outputs. */
async function compare(model: YoloV3, file: string, input: Float32Array, shape: number[], inputScale = 1): Promise<number> {
  const session = await ort.InferenceSession.create(file);
  const res = await session.run({ images: new ort.Tensor('float32', input, shape) });
  const ours = noGrad(() => {
    const x = tensor(input, { shape }).mul(inputScale);
    const ys = model.forward(x);
    const v = ys.map((y) => ({ shape: y.shape, data: Float32Array.from(y.contiguous().dataSync() as Float32Array) }));
    ys.forEach((y) => y.dispose());
    x.dispose();
    return v;
  });
  assert.deepEqual(
    session.outputNames,
    model.strides.map((s) => `stride${s}`),
  );
  let worst = 0;
  session.outputNames.forEach((n, i) => {
    const got = res[n];
    assert.deepEqual([...got.dims], ours[i].shape, `${n} shape`);
    const d = got.data as Float32Array;
    for (let k = 0; k < d.length; k++) worst = Math.max(worst, Math.abs(d[k] - ours[i].data[k]));
  });
  return worst;
}

for (const variant of ['yolov3', 'yolov3-tiny'] as Variant[]) {
  test(`${variant}: onnxruntime gives daqyolo's outputs within 1e-4 (opset 13, BN folded)`, async () => {
    const model = createYolo({ variant, numClasses: 2, inChannels: 3, width: 0.125 });
    // Running statistics and affine BN parameters away from their defaults, so folding is tested.
    noGrad(() => {
      for (const [, m] of model.namedModules())
        if (m instanceof BatchNorm2d) {
          const n = m.numFeatures;
          for (const [t, lo, span] of [
            [m.runningMean, -0.2, 0.4],
            [m.runningVar, 0.5, 1],
            [m.weight, 0.5, 1],
            [m.bias, -0.2, 0.4],
          ] as const) {
            const r = rand([n]).mul(span).add(lo);
            t.copy_(r);
            r.dispose();
          }
        }
    });
    model.eval();
    const file = join(dir, `${variant}.onnx`);
    saveOnnx(file, exportOnnx(model, { size: 64 }));
    const next = lcg(7);
    const shape = [2, 3, 64, 64];
    const input = Float32Array.from({ length: 2 * 3 * 64 * 64 }, () => next());
    const worst = await compare(model, file, input, shape);
    assert.ok(worst < 1e-4, `max |Δ| = ${worst}`);
    model.dispose();
  });
}

test("export-onnx on a trained run: the file runs in onnxruntime and matches the run's model", async () => {
  const src = join(dir, 'voc');
  writeVoc(src, 16, [[64, 64]], { seed: 2 });
  const data = join(dir, 'voc.h5');
  await importRecords(collectVoc({ images: join(src, 'JPEGImages'), annotations: join(src, 'Annotations') }), {
    format: 'voc',
    source: {},
    out: data,
    channels: 'keep',
    skipBad: false,
    force: false,
    seed: 0,
  });
  const runDir = join(dir, 'run');
  await train({ config: parseTrainConfig({ data, out: runDir, epochs: 1, batch: 8, threads: 1, model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 } }) });
  const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
  const out = join(dir, 'run.onnx');
  const r = spawnSync(process.execPath, [cli, 'export-onnx', runDir, '--out', out], {
    encoding: 'utf8',
    env: { ...process.env, DAQYOLO_CPU_ALLOCATOR: 'system' },
  });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.opset, 13);
  assert.equal(info.size, 64);
  assert.ok(readFileSync(out).length > 1000);
  const opened = openRun(runDir, { checkpoint: 'last' });
  const next = lcg(3);
  const input = Float32Array.from({ length: 3 * 64 * 64 }, () => Math.floor(next() * 256)); // raw 8-bit pixels
  const worst = await compare(opened.model, out, input, [1, 3, 64, 64], opened.ctx.inputScale);
  assert.ok(worst < 1e-4, `max |Δ| = ${worst}`);
});
