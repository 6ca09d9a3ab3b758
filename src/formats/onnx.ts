// ONNX export of YoloV3 (opset 13): the graph follows the variant's topology (model/topology.ts,
// the wiring YoloV3.forward runs: modules, concatenations, head outputs), and each module becomes
// nodes by walking its layers (Sequential layers in order; ConvBNLeaky → [Pad] Conv (BN folded
// in) LeakyRelu; residual blocks → Add; MaxPool2d, the keras 'same' pool (edge Pad + MaxPool),
// Upsample → Resize nearest). BN is folded in
// float64: w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε), which is exactly eval-mode inference.
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { noGrad, type Tensor } from '../torch/index.js';
import { BatchNorm2d, Conv2d, LeakyReLU, MaxPool2d, Sequential, Upsample, ZeroPad2d, type Layer } from '../nn/index.js';
import { ConvBNLeaky, SamePool } from '../model/blocks.js';
import type { YoloV3 } from '../model/yolo.js';
import { INPUT, moduleAt } from '../model/topology.js';
import { onnxTypes } from './onnx-proto.js';

export const OPSET = 13;
const IR_VERSION = 7; // the IR version that goes with opset 13
const FLOAT = 1,
  INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

type Attr = { name: string; type: number; f?: number; i?: number; s?: Uint8Array; ints?: number[] };
const attrI = (name: string, i: number): Attr => ({ name, type: ATTR.INT, i });
const attrF = (name: string, f: number): Attr => ({ name, type: ATTR.FLOAT, f });
const attrS = (name: string, s: string): Attr => ({ name, type: ATTR.STRING, s: Buffer.from(s) });
const attrInts = (name: string, ints: number[]): Attr => ({ name, type: ATTR.INTS, ints });

/** Accumulates nodes and initialisers with unique names. */
class GraphBuilder {
  nodes: object[] = [];
  inits: object[] = [];
  private n = 0;
  fresh(base: string): string {
    return `${base}_${this.n++}`;
  }
  node(op: string, inputs: string[], attrs: Attr[] = [], name = op): string {
    const out = this.fresh(name);
    this.nodes.push({ opType: op, name: out, input: inputs, output: [out], attribute: attrs });
    return out;
  }
  floats(name: string, dims: number[], data: Float32Array): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims, dataType: FLOAT, rawData: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    return n;
  }
  int64s(name: string, data: number[]): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims: [data.length], dataType: INT64, int64Data: data });
    return n;
  }
}

const values = (t: Tensor): Float32Array => {
  const c = t.contiguous(); // logical NCHW order whatever the stored layout
  const v = Float32Array.from(c.dataSync() as Float32Array);
  c.dispose();
  return v;
};

/** Conv2d (optionally followed by a BatchNorm2d to fold) as one ONNX Conv. */
function emitConv(g: GraphBuilder, x: string, conv: Conv2d, bn: BatchNorm2d | null, name: string): string {
  const w = values(conv.weight);
  const [cout, cin, kh, kw] = conv.weight.shape as [number, number, number, number];
  const b = conv.bias ? Float64Array.from(values(conv.bias)) : new Float64Array(cout);
  if (bn) {
    const gamma = values(bn.weight),
      beta = values(bn.bias),
      mean = values(bn.runningMean),
      vari = values(bn.runningVar);
    const per = cin * kh * kw;
    for (let o = 0; o < cout; o++) {
      const s = gamma[o] / Math.sqrt(vari[o] + bn.eps);
      for (let k = 0; k < per; k++) w[o * per + k] = w[o * per + k] * s;
      b[o] = beta[o] + (b[o] - mean[o]) * s;
    }
  }
  const W = g.floats(`${name}.weight`, [cout, cin, kh, kw], w);
  const B = g.floats(`${name}.bias`, [cout], Float32Array.from(b));
  const [ph, pw] = conv.padding;
  return g.node(
    'Conv',
    [x, W, B],
    [
      attrInts('kernel_shape', [kh, kw]),
      attrInts('strides', conv.stride),
      attrInts('pads', [ph, pw, ph, pw]),
      attrInts('dilations', conv.dilation),
      attrI('group', conv.groups),
    ],
    name || 'conv',
  );
}

/** One layer of the module tree → nodes; returns the output name. */
function emitLayer(g: GraphBuilder, x: string, layer: Layer, name: string): string {
  if (layer instanceof ConvBNLeaky) {
    let cur = x;
    for (const l of layer.layers) {
      if (l instanceof ZeroPad2d) cur = emitLayer(g, cur, l, `${name}.pad`);
      else if (l instanceof Conv2d) {
        const bn = layer.layers.find((q): q is BatchNorm2d => q instanceof BatchNorm2d) ?? null;
        cur = emitConv(g, cur, l, bn, `${name}.conv`);
      } else if (l instanceof LeakyReLU) cur = g.node('LeakyRelu', [cur], [attrF('alpha', l.negativeSlope)], `${name}.leaky`);
      else if (!(l instanceof BatchNorm2d)) throw new Error(`ONNX export: unexpected ${l.constructor.name} in ${name}`);
    }
    return cur;
  }
  if (layer instanceof Conv2d) return emitConv(g, x, layer, null, name);
  if (layer instanceof ZeroPad2d) {
    const [l, r, t, b] = layer.pads;
    return g.node('Pad', [x, g.int64s(`${name}.pads`, [0, 0, t, l, 0, 0, b, r])], [attrS('mode', 'constant')], name);
  }
  if (layer instanceof MaxPool2d) {
    const k = typeof layer.kernelSize === 'number' ? [layer.kernelSize, layer.kernelSize] : layer.kernelSize;
    const s = typeof layer.stride === 'number' ? [layer.stride, layer.stride] : layer.stride;
    const p = typeof layer.padding === 'number' ? [layer.padding, layer.padding] : layer.padding;
    return g.node('MaxPool', [x], [attrInts('kernel_shape', k), attrInts('strides', s), attrInts('pads', [p[0], p[1], p[0], p[1]])], name);
  }
  if (layer instanceof Upsample) {
    if (layer.mode !== 'nearest') throw new Error(`ONNX export: ${layer.mode} upsampling is not supported`);
    const scales = g.floats(`${name}.scales`, [4], Float32Array.from([1, 1, layer.scaleFactor, layer.scaleFactor]));
    // PyTorch's nearest: source index = floor(dst · in/out) ≡ asymmetric + floor.
    return g.node(
      'Resize',
      [x, '', scales],
      [attrS('mode', 'nearest'), attrS('coordinate_transformation_mode', 'asymmetric'), attrS('nearest_mode', 'floor')],
      name,
    );
  }
  if (layer instanceof Sequential) {
    let cur = x;
    layer.layers.forEach((l, i) => {
      cur = emitLayer(g, cur, l, `${name}.${i}`);
    });
    return cur;
  }
  // Residual (yolo.ts): body(x) + x.
  const body = (layer as unknown as { body?: Sequential }).body;
  if (body instanceof Sequential) return g.node('Add', [x, emitLayer(g, x, body, `${name}.body`)], [], `${name}.add`);
  // keras 'same' max pool (kernel 2, stride 1): replicate the right/bottom edge, then pool.
  if (layer instanceof SamePool) {
    const padded = g.node('Pad', [x, g.int64s(`${name}.pads`, [0, 0, 0, 0, 0, 0, 1, 1])], [attrS('mode', 'edge')], `${name}.pad`);
    return g.node('MaxPool', [padded], [attrInts('kernel_shape', [2, 2]), attrInts('strides', [1, 1])], name);
  }
  throw new Error(`ONNX export: no mapping for ${layer.constructor.name} (${name})`);
}

export interface OnnxExportOptions {
  size: number;
  inputScale?: number;
  batch?: number | 'dynamic';
}

/** Encodes the model (eval mode: BN running statistics) as ONNX bytes. Input "images" [B, C, S, S]; outputs coarse first. */
export function exportOnnx(model: YoloV3, o: OnnxExportOptions): Uint8Array {
  if (o.size % 32) throw new Error(`ONNX export: size ${o.size} is not a multiple of 32`);
  // ONNX has no sparse convolution (its ops are dense), and densifying the sparse network is not
  // the same function (dense layers fill the empty sites), so there is no faithful graph to write.
  if (model.sparse) throw new UserError(`ONNX export: ${model.config.variant} runs sparse convolutions, which ONNX cannot express; export a dense variant`);
  if (model.config.isolatedRadius > 0)
    throw new Error('ONNX export: the isolated-pixel filter (model.isolatedRadius) has no ONNX form; train with 0 to export');
  const g = new GraphBuilder();
  const cfg = model.config;
  const outputs: string[] = [];
  noGrad(() => {
    let x = 'images';
    if (o.inputScale !== undefined && o.inputScale !== 1) x = g.node('Mul', [x, g.floats('input_scale', [], Float32Array.from([o.inputScale]))], [], 'scale');
    // The variant's topology, as YoloV3.forward runs it: one ONNX value per topology value.
    const at = new Map<string, string>([[INPUT, x]]);
    for (const n of model.topology.nodes) {
      if ('densify' in n) throw new UserError(`ONNX export: ${cfg.variant} densifies a sparse map, which ONNX cannot express`);
      if ('concat' in n)
        at.set(
          n.id,
          g.node(
            'Concat',
            n.concat.map((i) => at.get(i)!),
            [attrI('axis', 1)],
            n.id,
          ),
        );
      else {
        const path = 'module' in n ? n.module : n.head;
        at.set(n.id, emitLayer(g, at.get(n.from)!, moduleAt(model, path) as Layer, path));
      }
    }
    for (const o of model.topology.outputs) outputs.push(at.get(o)!);
  });
  // Name the head outputs by stride.
  const names = model.strides.map((s) => `stride${s}`);
  outputs.forEach((out, i) => g.nodes.push({ opType: 'Identity', name: names[i], input: [out], output: [names[i]], attribute: [] }));
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  const batch = o.batch === undefined || o.batch === 'dynamic' ? 'batch' : o.batch;
  const per = cfg.anchorsPerScale * (5 + cfg.numClasses);
  const valueInfo = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(dim) } } } });
  const { ModelProto } = onnxTypes();
  const msg = ModelProto.fromObject({
    irVersion: IR_VERSION,
    producerName: 'daqyolo',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    docString: `YOLOv3 (${cfg.variant}, width ${cfg.width}, ${cfg.numClasses} classes); outputs are raw head maps [B, A·(5+C), S/stride, S/stride], coarse first`,
    graph: {
      name: `daqyolo_${cfg.variant}`,
      node: g.nodes,
      initializer: g.inits,
      input: [valueInfo('images', [batch, cfg.inChannels, o.size, o.size])],
      output: model.strides.map((s, i) => valueInfo(names[i], [batch, per, o.size / s, o.size / s])),
    },
  });
  return ModelProto.encode(msg).finish();
}

/** Writes the ONNX file atomically. */
export function saveOnnx(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, bytes);
}
