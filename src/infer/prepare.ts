// From a loaded batch to network inputs: the image tensor letterboxed to the input size with
// the project's one letterbox (geometry/letterbox.ts: scale to fit, centre, pad with zeros — a
// no-op when sizes match), the boxes moved by exactly the pixels' transform, and the encoded
// targets as tensors. Bilinear resizing without align_corners maps an edge at x to x·nw/w, so
// boxes use the per-axis factors nw/w and nh/h of the rounded size.
import { Tensor, tensor, tidy, functional as F } from '../torch/index.js';
import { encodeTargets, type PixelBox } from '../data/targets.js';
import type { LoadedBatch } from '../data/batch.js';
import type { LossTargets } from '../loss/yolo-loss.js';
import { letterboxTransform, type Transform } from '../geometry/letterbox.js';

/** Maps dataset pixels to network-input pixels (x' = x·sx + dx), with the resized size nw×nh. */
export type Letterbox = Transform & { nw: number; nh: number; size: number };

/** The network input's letterbox of a width×height dataset image (geometry/letterbox.ts, same argument order). */
export function networkLetterbox(width: number, height: number, size: number): Letterbox {
  return { ...letterboxTransform(width, height, size), size };
}

export interface NetworkBatch {
  x: Tensor;
  boxes: PixelBox[][];
  box: Letterbox;
}

/**
 * The image tensor at the network size (on `device`), multiplied by `inputScale` (pixel values
 * are ADC sums in the hundreds; the network sees values of order one), and the target boxes in
 * network pixels (difficult ones left out).
 */
export function toNetworkInput(b: LoadedBatch, size: number, device: string, inputScale = 1): NetworkBatch {
  const B = b.indices.length;
  const lb = networkLetterbox(b.width, b.height, size);
  const x = tidy(() => {
    let t = tensor(b.images, { shape: [B, b.channels, b.height, b.width] });
    if (device !== 'cpu') t = t.to(device);
    if (inputScale !== 1) t.mul_(inputScale); // in place: t is this batch's own copy
    if (b.height === size && b.width === size) return t;
    const r = F.interpolate(t, { size: [lb.nh, lb.nw], mode: 'bilinear' });
    return F.pad(r, [lb.dx, size - lb.nw - lb.dx, lb.dy, size - lb.nh - lb.dy]);
  });
  // VOC difficult boxes are no training targets (Darknet's voc_label.py and keras-yolo3's
  // voc_annotation.py leave them out); the mAP figures ignore them (infer/map.ts).
  const boxes = b.boxes.map((list) =>
    list
      .filter((q) => !q.difficult)
      .map((q) => ({
        x1: q.x1 * lb.sx + lb.dx,
        y1: q.y1 * lb.sy + lb.dy,
        x2: q.x2 * lb.sx + lb.dx,
        y2: q.y2 * lb.sy + lb.dy,
        cls: q.cls,
        ...(q.ignore ? { ignore: true } : {}),
      })),
  );
  return { x, boxes, box: lb };
}

export interface TargetSpec {
  anchors: [number, number][][];
  strides: number[];
  numClasses: number;
}

/** Encodes boxes for a network input size and returns the loss targets as tensors. */
export function targetTensors(boxes: PixelBox[][], size: number, spec: TargetSpec, device: string): { targets: LossTargets; collisions: number } {
  const enc = encodeTargets(boxes, { netH: size, netW: size, strides: spec.strides, anchors: spec.anchors, numClasses: spec.numClasses });
  const B = boxes.length;
  const dev = { device };
  return {
    targets: {
      yTrue: enc.yTrue.map((y, s) => tensor(y, { shape: enc.shapes[s], ...dev })),
      trueBoxes: tensor(enc.trueBoxes, { shape: [B, enc.maxBoxes, 4], ...dev }),
      ownerGrid: tensor(enc.ownerGrid, { shape: [B, enc.maxBoxes, 2], ...dev }),
    },
    collisions: enc.collisions,
  };
}

/**
 * The input scale that makes the mean non-zero pixel of a sample of images equal to one
 * (ADC sums for simulated data, 0–255 grey levels for imported images). `pixels[k]`, when given,
 * lists image k's non-zero pixel indices (sparse datasets), which saves scanning every pixel.
 */
export function autoInputScale(images: Float32Array, shape?: { channels: number; height: number; width: number }, pixels?: (Int32Array | null)[]): number {
  let sum = 0;
  let n = 0;
  const add = (v: number) => {
    if (v !== 0) {
      sum += Math.abs(v);
      n++;
    }
  };
  if (shape && pixels && pixels.every((p) => p !== null)) {
    const hw = shape.height * shape.width;
    const per = shape.channels * hw;
    pixels.forEach((list, k) => {
      for (const p of list!) for (let c = 0; c < shape.channels; c++) add(images[k * per + c * hw + p]!);
    });
  } else {
    for (const v of images) add(v);
  }
  return n && sum > 0 ? n / sum : 1;
}
