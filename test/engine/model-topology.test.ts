// The YOLOv3 family's wiring as data (model/topology.ts): forward runs it, the ONNX writer walks
// it. Checked here: a topology that reads a value before it is made, or names a module the
// network lacks, is refused at construction; running one frees every intermediate (including
// when a module throws half-way); concatenation order is keras' (upsampled first); the dense
// tiny network's forward equals its modules wired by hand; and the variants' classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, noGrad, cat, liveTensors, manualSeed, type Tensor } from '../../src/torch/index.js';
import { Module, Sequential, Layer } from '../../src/nn/index.js';
import { createYolo, type Variant, TinyYoloV3, DarknetYoloV3, SparseYoloV3, SparseTinyYoloV3, YOLOV3_TOPOLOGY, tinyTopology } from '../../src/model/yolo.js';
import { checkTopology, runTopology, moduleAt, INPUT, type Topology } from '../../src/model/topology.js';

class Double extends Layer {
  forward(x: Tensor): Tensor {
    return x.mul(2);
  }
}
class Fail extends Layer {
  forward(): Tensor {
    throw new Error('boom');
  }
}
class Net extends Module {
  constructor() {
    super();
    this.registerModule('a', new Sequential(new Double()));
    this.registerModule('b', new Double());
    this.registerModule('bad', new Fail());
  }
}

test('checkTopology refuses a value read before it is made, an unknown module, a value made twice, a missing output', () => {
  const net = new Net();
  assert.throws(
    () =>
      checkTopology(
        {
          nodes: [
            { id: 'x', module: 'a', from: 'y' },
            { id: 'y', module: 'b', from: INPUT },
          ],
          outputs: ['x'],
        },
        net,
      ),
    /x reads 'y' before it is made/,
  );
  assert.throws(() => checkTopology({ nodes: [{ id: 'x', module: 'a.7', from: INPUT }], outputs: ['x'] }, net), /no module 'a.7'/);
  assert.throws(
    () =>
      checkTopology(
        {
          nodes: [
            { id: 'x', module: 'a', from: INPUT },
            { id: 'x', module: 'b', from: INPUT },
          ],
          outputs: ['x'],
        },
        net,
      ),
    /'x' is made twice/,
  );
  assert.throws(() => checkTopology({ nodes: [{ id: 'x', module: 'a', from: INPUT }], outputs: ['z'] }, net), /output 'z' is never made/);
  assert.equal(moduleAt(net, 'a.0').constructor, Double);
});

test('runTopology: concatenation order, intermediates freed, the input kept, and everything freed when a module throws', () => {
  const net = new Net();
  const t: Topology = {
    nodes: [
      { id: 'p', module: 'a', from: INPUT },
      { id: 'q', module: 'b', from: 'p' },
      { id: 'j', concat: ['q', INPUT] },
      { id: 'out', head: 'b', from: 'j' },
    ],
    outputs: ['out', 'q'],
  };
  checkTopology(t, net);
  const x = tensor([1, 2], { shape: [1, 2, 1, 1] });
  const before = liveTensors();
  const [out, q] = runTopology(t, net, x);
  // p = 2x and j = [4x, x] are freed; the outputs and the input are live.
  assert.equal(liveTensors(), before + 2);
  assert.deepEqual(Array.from(out!.dataSync() as Float32Array), [8, 16, 2, 4]);
  assert.deepEqual(Array.from(q!.dataSync() as Float32Array), [4, 8]);
  out!.dispose();
  q!.dispose();
  const failing: Topology = {
    nodes: [
      { id: 'p', module: 'a', from: INPUT },
      { id: 'f', module: 'bad', from: 'p' },
    ],
    outputs: ['f'],
  };
  assert.throws(() => runTopology(failing, net, x), /boom/);
  assert.equal(liveTensors(), before, 'a module that throws leaves nothing behind');
  assert.deepEqual(Array.from(x.dataSync() as Float32Array), [1, 2]);
  x.dispose();
  net.dispose();
});

test('the dense tiny network through its topology equals its modules wired by hand (keras tiny_yolo_body)', () => {
  manualSeed(3);
  const m = new TinyYoloV3({ width: 0.125, channelsLast: false }).eval();
  const x = tidy(() =>
    tensor(
      Float32Array.from({ length: 2 * 64 * 64 }, (_, i) => ((i * 7919) % 13) / 13),
      { shape: [2, 1, 64, 64] },
    ),
  );
  tidy(() =>
    noGrad(() => {
      const run = (p: string, v: Tensor) => (moduleAt(m, p) as unknown as Layer).forward(v);
      const x1 = run('trunk1', x);
      const x2 = run('trunk2', x1);
      const want = [run('out1', x2), run('out2', cat([run('up', x2), x1], 1))];
      const got = m.forward(x);
      got.forEach((g, i) => assert.equal(g.sub(want[i]!).abs().max().item(), 0));
    }),
  );
  x.dispose();
  m.dispose();
});

test('variants are classes with their topology: createYolo picks the class, dense and sparse share the wiring', () => {
  const mk = (variant: Variant) => createYolo({ variant, width: 0.0625 });
  const cases = [
    ['yolov3', DarknetYoloV3, YOLOV3_TOPOLOGY],
    ['sparse-yolov3', SparseYoloV3, YOLOV3_TOPOLOGY],
    ['yolov3-tiny', TinyYoloV3, tinyTopology()],
    ['sparse-yolov3-tiny', SparseTinyYoloV3, tinyTopology(true)],
  ] as const;
  for (const [variant, cls, topology] of cases) {
    const m = mk(variant);
    assert.ok(m instanceof cls, variant);
    assert.equal(m.config.variant, variant);
    assert.deepEqual(m.topology, topology);
    m.dispose();
  }
  const full = new SparseTinyYoloV3({ width: 0.0625 }, { denseFrom: Infinity });
  assert.deepEqual(full.topology, tinyTopology(false));
  full.dispose();
  assert.throws(() => createYolo({ variant: 'resnet' as never }), /unknown model variant 'resnet'/);
});
