// Darknet .weights files (the original YOLOv3 release format) in and out of daqyolo's YoloV3.
// Layout: int32 major, minor, revision; "seen" as int64 when major·10 + minor ≥ 2 (else int32);
// then, per convolutional layer in cfg order, float32: with batch norm — beta, gamma, running
// mean, running variance (out channels each) then the weights [out, in, k, k]; without — bias
// then weights. YoloV3 creates its modules in darknet cfg order, so registration order is cfg
// order. A file may stop at a layer boundary (e.g. darknet53.conv.74, a backbone only): those
// layers load and the rest keep their initialisation.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';
import { UserError } from '../errors.js';
import { noGrad, tensor, type Tensor } from '../torch/index.js';
import { BatchNorm2d, Conv2d } from '../nn/index.js';
import { ConvBNLeaky } from '../model/blocks.js';
import type { YoloV3 } from '../model/yolo.js';

export interface DarknetLayer {
  name: string;
  conv: Conv2d;
  bn: BatchNorm2d | null;
}

/** The model's convolutional layers in cfg order: conv + BN blocks, and the biased output convs. */
export function darknetLayers(model: YoloV3): DarknetLayer[] {
  const inBlock = new Set<Conv2d>();
  const out: DarknetLayer[] = [];
  for (const [name, m] of model.namedModules()) {
    if (m instanceof ConvBNLeaky) {
      const bn = m.layers.find((l): l is BatchNorm2d => l instanceof BatchNorm2d) ?? null;
      inBlock.add(m.conv);
      out.push({ name, conv: m.conv, bn });
    } else if (m instanceof Conv2d && !inBlock.has(m)) {
      if (!m.bias) throw new Error(`${name}: a convolution without bias or batch norm has no darknet layout`);
      out.push({ name, conv: m, bn: null });
    }
  }
  return out;
}

export interface DarknetHeader {
  major: number;
  minor: number;
  revision: number;
  seen: number;
}

export interface LoadedWeights {
  header: DarknetHeader;
  layersLoaded: number;
  layersInModel: number;
  floats: number;
}

const floatsOf = (l: DarknetLayer) => l.conv.weight.numel + l.conv.outChannels * (l.bn ? 4 : 1);

/** Loads a .weights file into the model; the message names the file and the layer on mismatch. */
export function loadDarknetWeights(model: YoloV3, path: string): LoadedWeights {
  const buf = readFileSync(path);
  if (buf.length < 16) throw new UserError(`${path}: too short for a darknet weights header (${buf.length} bytes)`);
  const major = buf.readInt32LE(0),
    minor = buf.readInt32LE(4),
    revision = buf.readInt32LE(8);
  const wide = major * 10 + minor >= 2 && major < 1000;
  const seen = wide ? Number(buf.readBigInt64LE(12)) : buf.readInt32LE(12);
  const start = wide ? 20 : 16;
  if ((buf.length - start) % 4) throw new UserError(`${path}: ${buf.length - start} bytes after the header is not a whole number of float32 values`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const layers = darknetLayers(model);
  let p = 0,
    k = 0;
  noGrad(() => {
    for (; k < layers.length && p < data.length; k++) {
      const l = layers[k];
      const need = floatsOf(l);
      if (p + need > data.length) {
        throw new UserError(
          `${path}: ends inside layer ${k} (${l.name}, conv ${l.conv.inChannels}→${l.conv.outChannels}, k ${l.conv.weight.shape[2]}): ${data.length - p} of ${need} values; is it for this --variant, --width, --channels and --classes?`,
        );
      }
      const n = l.conv.outChannels;
      const take = (len: number) => data.subarray(p, (p += len));
      const set = (t: Tensor, values: Float32Array) => {
        const src = tensor(values.slice(), { shape: t.shape });
        t.copy_(src); // copy_ keeps the destination's memory format (NHWC conv weights)
        src.dispose();
      };
      if (l.bn) {
        set(l.bn.bias, take(n));
        set(l.bn.weight, take(n));
        set(l.bn.runningMean, take(n));
        set(l.bn.runningVar, take(n));
      } else set(l.conv.bias!, take(n));
      set(l.conv.weight, take(l.conv.weight.numel));
    }
  });
  if (p < data.length)
    throw new UserError(
      `${path}: ${data.length - p} values left after all ${layers.length} layers; the file is for a larger network than this --variant/--width/--classes`,
    );
  return { header: { major, minor, revision, seen }, layersLoaded: k, layersInModel: layers.length, floats: p };
}

/** Writes the model's weights as a darknet .weights file (version 0.2.0, int64 seen), atomically. */
export function saveDarknetWeights(model: YoloV3, path: string, seen = 0): void {
  const layers = darknetLayers(model);
  const total = layers.reduce((a, l) => a + floatsOf(l), 0);
  const head = Buffer.alloc(20);
  head.writeInt32LE(0, 0);
  head.writeInt32LE(2, 4);
  head.writeInt32LE(0, 8);
  head.writeBigInt64LE(BigInt(seen), 12);
  const data = new Float32Array(total);
  let p = 0;
  const put = (t: Tensor) => {
    const c = t.contiguous(); // logical NCHW order whatever the stored layout
    data.set(c.dataSync() as Float32Array, p);
    p += t.numel;
    if (c !== t) c.dispose();
  };
  noGrad(() => {
    for (const l of layers) {
      if (l.bn) {
        put(l.bn.bias);
        put(l.bn.weight);
        put(l.bn.runningMean);
        put(l.bn.runningVar);
      } else put(l.conv.bias!);
      put(l.conv.weight);
    }
  });
  writeFileAtomic(path, Buffer.concat([head, Buffer.from(data.buffer)]));
}
