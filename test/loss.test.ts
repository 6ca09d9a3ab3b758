// The YOLOv3 loss against LOSS.md: hand-computed terms, the objective identity, reductions,
// warm-up, BCE stability, no gradient through IoU targets, finite-difference gradients, and
// the encode → decode round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, zeros, randn, manualSeed, Tensor } from '../src/torch/index.js';
import { yoloLoss, readLoss, lossStatistics, type LossTargets } from '../src/loss/yolo-loss.js';
import { encodeTargets, type PixelBox, type EncodeSpec } from '../src/data/targets.js';
import { decodeOutputs } from '../src/infer/decode.js';
import type { LossOptions } from '../src/loss/options.js';

const close = (a: number, b: number, tol = 1e-5, msg = '') => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${msg} ${a} ≠ ${b}`);

/** Targets as tensors of a dtype. */
function targetTensors(batch: PixelBox[][], spec: EncodeSpec, dtype: 'float32' | 'float64' = 'float32'): LossTargets {
  const enc = encodeTargets(batch, spec);
  return {
    yTrue: enc.yTrue.map((y, s) => tensor(y, { shape: enc.shapes[s], dtype })),
    trueBoxes: tensor(enc.trueBoxes, { shape: [batch.length, enc.maxBoxes, 4], dtype }),
    ownerGrid: tensor(enc.ownerGrid, { shape: [batch.length, enc.maxBoxes, 2], dtype }),
  };
}

// One scale, 64 × 64 input, stride 32 → a 2 × 2 grid, one anchor [32, 32], one class (D = 6).
const tiny: EncodeSpec = { netH: 64, netW: 64, strides: [32], anchors: [[[32, 32]]], numClasses: 1 };
// Truth box centred at (48, 16), 16 wide and 32 tall → cell (row 0, col 1); x = 1.5, y = 0.5 grid units,
// t_w = ln(16/32) = −ln 2, t_h = 0.
const truth: PixelBox = { x1: 40, y1: 0, x2: 56, y2: 32, cls: 0 };

/** Raw output [1, 6, 2, 2] with chosen logits: values[row][col] = [tx, ty, tw, th, to, class]. */
function rawOutput(values: number[][][], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  // [1, Gh, Gw, 6] → [1, 6, Gh, Gw]
  return tidy(() =>
    tensor(values.flat(2), { shape: [1, 2, 2, 6], dtype })
      .permute(0, 3, 1, 2)
      .contiguous(),
  );
}

test('hand-computed terms on a 2×2 grid (MSE objectness, defaults)', () => {
  tidy(() => {
    const ln3 = Math.log(3); // σ(ln 3) = 0.75
    const out = rawOutput([
      [
        [0, 0, 0, 0, 0, 0],
        [ln3, 0, 0, 0, 0, 0],
      ],
      [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ],
    ]);
    const targets = targetTensors([[truth]], tiny);
    const ctx = { anchors: tiny.anchors, netH: 64, netW: 64, batchIndex: 100, training: true };
    const v = readLoss(yoloLoss([out], targets, ctx));
    const s = v.scales[0]!;
    // wh_scale = 2 − (e^{−ln2}·32/64)·(e^0·32/64) = 2 − 0.25·0.5 = 1.875
    const whScale = 1.875;
    // xy: predicted x = 1 + σ(ln 3) = 1.75 vs 1.5; y = 0 + 0.5 vs 0.5 → (0.25·1.875)²
    close(s.xy[0]!, (0.25 * whScale) ** 2, 1e-6, 'xy');
    // wh: t_w = 0 vs −ln 2, t_h = 0 vs 0 → (ln2·1.875)²
    close(s.wh[0]!, (Math.LN2 * whScale) ** 2, 1e-6, 'wh');
    // conf1: σ(0) = 0.5 vs 1, obj_scale 5 → ((0.5 − 1)·5)² = 6.25
    close(s.conf1[0]!, 6.25, 1e-6, 'conf1');
    // conf2: the three other cells predict 0.5 and none overlaps the truth box (ignore = 1) → 3·0.25
    close(s.conf2[0]!, 0.75, 1e-6, 'conf2');
    // One class: softmax cross-entropy is exactly 0.
    assert.equal(s.class[0], 0);
    const total = (0.25 * whScale) ** 2 + (Math.LN2 * whScale) ** 2 + 6.25 + 0.75;
    close(s.total[0]!, total, 1e-6, 'total');
    close(v.objective, Math.sqrt(total), 1e-6, 'objective');
  });
});

test('the ignore mask removes conf2 of predictions overlapping a truth box', () => {
  tidy(() => {
    // Cell (row 0, col 0) predicts a box 4× the anchor width: centre 0.25, width 2 → covers the truth box.
    const out = rawOutput([
      [
        [0, 0, Math.log(4), 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ],
      [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ],
    ]);
    const targets = targetTensors([[truth]], tiny);
    const ctx = { anchors: tiny.anchors, netH: 64, netW: 64, batchIndex: 0, training: false };
    // That box spans x ∈ [−0.75, 1.25], y ∈ [0, 0.5] (normalised); the truth box x ∈ [0.625, 0.875],
    // y ∈ [0, 0.5]: intersection 0.125, union 1.0 → IoU 0.125, below 0.5: not ignored
    close(readLoss(yoloLoss([out], targets, ctx)).scales[0]!.conf2[0]!, 0.75, 1e-6, 'ignore 0.5');
    // With ignore_thresh 0.1 the IoU 0.125 is above it: that cell's conf2 drops out → 2·0.25
    close(readLoss(yoloLoss([out], targets, ctx, { ignoreThresh: 0.1 })).scales[0]!.conf2[0]!, 0.5, 1e-6, 'ignore 0.1');
  });
});

test('warm-up targets are used for exactly the first warmupBatches training batches, never in validation', () => {
  tidy(() => {
    const ln3 = Math.log(3);
    // Every cell predicts σ(t_x) = 0.75: warm-up pulls the three empty cells to their centre (0.5).
    const out = rawOutput([
      [
        [ln3, 0, 0, 0, 0, 0],
        [ln3, 0, 0, 0, 0, 0],
      ],
      [
        [ln3, 0, 0, 0, 0, 0],
        [ln3, 0, 0, 0, 0, 0],
      ],
    ]);
    const targets = targetTensors([[truth]], tiny);
    const opts: Partial<LossOptions> = { warmupBatches: 2 };
    const xyAt = (batchIndex: number, training: boolean) => {
      const v = readLoss(yoloLoss([out], targets, { anchors: tiny.anchors, netH: 64, netW: 64, batchIndex, training }, opts));
      return { xy: v.scales[0]!.xy[0]!, warm: v.warm };
    };
    const objCell = (0.25 * 1.875) ** 2;
    // Empty cells: true_wh = 0 → wh_scale = 2 − 0.5·0.5 = 1.75, delta 0.25·1.75
    const warmXY = objCell + 3 * (0.25 * 1.75) ** 2;
    for (const [i, warm] of [
      [0, 1],
      [1, 1],
      [2, 0],
      [3, 0],
    ] as const) {
      const r = xyAt(i, true);
      assert.equal(r.warm, warm, `batch ${i}`);
      close(r.xy, warm ? warmXY : objCell, 1e-6, `xy at batch ${i}`);
    }
    const val = xyAt(0, false);
    assert.equal(val.warm, 0);
    close(val.xy, objCell, 1e-6, 'validation never warm');
  });
});

function randomBatch(B: number, net: number, seed: number): PixelBox[][] {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: B }, () =>
    Array.from({ length: 1 + Math.floor(r() * 4) }, () => {
      const w = 2 + r() * (net / 2);
      const h = 2 + r() * (net / 2);
      const x1 = r() * (net - w);
      const y1 = r() * (net - h);
      return { x1, y1, x2: x1 + w, y2: y1 + h, cls: Math.floor(r() * 2) };
    }),
  );
}

const spec3: EncodeSpec = {
  netH: 96,
  netW: 96,
  strides: [32, 16, 8],
  numClasses: 2,
  anchors: [
    [
      [40, 30],
      [50, 60],
      [80, 70],
    ],
    [
      [12, 12],
      [18, 24],
      [26, 20],
    ],
    [
      [3, 2],
      [5, 5],
      [8, 6],
    ],
  ],
};

function randomOutputs(B: number, dtype: 'float32' | 'float64' = 'float32'): Tensor[] {
  return spec3.strides.map((s) =>
    randn([B, 3 * 7, 96 / s, 96 / s], { dtype })
      .mul(0.5)
      .requiresGrad_(),
  );
}

test('objective identity and every reduction option', () => {
  manualSeed(1);
  tidy(() => {
    const B = 3;
    const outs = randomOutputs(B);
    const targets = targetTensors(randomBatch(B, 96, 7), spec3);
    const ctx = { anchors: spec3.anchors, netH: 96, netW: 96, batchIndex: 0, training: true };
    const v = readLoss(yoloLoss(outs, targets, ctx));
    const sums = v.scales.map((s) => s.total.reduce((a, b) => a + b, 0));
    close(
      v.objective,
      sums.reduce((a, s) => a + Math.sqrt(s), 0),
      1e-6,
      'sqrt-per-scale',
    );
    for (const s of v.scales) {
      for (let b = 0; b < B; b++) close(s.total[b]!, s.xy[b]! + s.wh[b]! + s.conf1[b]! + s.conf2[b]! + s.class[b]!, 1e-5, 'total = Σ terms');
      assert.ok(
        s.conf1.every((x) => x >= 0),
        'conf1 ≥ 0',
      );
      assert.ok(
        s.class.some((x) => x > 0),
        'two classes give a class term',
      );
    }
    const all = sums.reduce((a, b) => a + b, 0);
    close(readLoss(yoloLoss(outs, targets, ctx, { reduction: 'sqrt-total' })).objective, Math.sqrt(all), 1e-6, 'sqrt-total');
    close(readLoss(yoloLoss(outs, targets, ctx, { reduction: 'sum' })).objective, all, 1e-6, 'sum');
    close(readLoss(yoloLoss(outs, targets, ctx, { reduction: 'mean' })).objective, all / B, 1e-6, 'mean');
    const g = readLoss(yoloLoss(outs, targets, ctx, { gridScales: [2, 1, 0.5] }));
    close(g.scales[0]!.total[0]!, 2 * v.scales[0]!.total[0]!, 1e-6, 'gridScales');
  });
});

test('logged terms add up to the logged total, and totals to the objective, for every option', () => {
  manualSeed(5);
  tidy(() => {
    const B = 2;
    const outs = randomOutputs(B);
    const targets = targetTensors(randomBatch(B, 96, 13), spec3);
    const reduce: Record<LossOptions['reduction'], (sums: number[]) => number> = {
      'sqrt-per-scale': (s) => s.reduce((a, x) => a + Math.sqrt(x), 0),
      'sqrt-total': (s) => Math.sqrt(s.reduce((a, x) => a + x, 0)),
      sum: (s) => s.reduce((a, x) => a + x, 0),
      mean: (s) => s.reduce((a, x) => a + x, 0) / B,
    };
    for (const objLoss of ['mse', 'bce'] as const)
      for (const objTarget of ['one', 'iou'] as const)
        for (const reduction of ['sqrt-per-scale', 'sqrt-total', 'sum', 'mean'] as const)
          for (const gridScales of [
            [1, 1, 1],
            [2, 1, 0.5],
            [0, 3, 1],
          ])
            for (const warm of [0, 5]) {
              const options: Partial<LossOptions> = {
                objLoss,
                objTarget,
                reduction,
                gridScales,
                warmupBatches: warm,
                noobjScale: 0.7,
                xywhScale: 1.5,
                classScale: 2,
              };
              const what = JSON.stringify(options);
              const v = readLoss(yoloLoss(outs, targets, { anchors: spec3.anchors, netH: 96, netW: 96, batchIndex: 0, training: true }, options));
              for (const s of v.scales) {
                for (let b = 0; b < B; b++) close(s.total[b]!, s.xy[b]! + s.wh[b]! + s.conf1[b]! + s.conf2[b]! + s.class[b]!, 1e-5, `total = Σ terms ${what}`);
              }
              close(v.objective, reduce[reduction](v.scales.map((s) => s.total.reduce((a, x) => a + x, 0))), 1e-5, `objective ${what}`);
            }
  });
});

test('a scale with zero loss gives finite (zero) gradients under the √ reductions', () => {
  tidy(() => {
    // No truth boxes and noobjScale 0: every term of every scale is exactly 0.
    for (const reduction of ['sqrt-per-scale', 'sqrt-total'] as const) {
      const outs = randomOutputs(1, 'float64');
      const r = yoloLoss(
        outs,
        targetTensors([[]], spec3, 'float64'),
        { anchors: spec3.anchors, netH: 96, netW: 96, batchIndex: 0, training: true },
        { noobjScale: 0, reduction },
      );
      assert.equal(r.objective.item(), 0);
      r.objective.backward();
      for (const o of outs) assert.equal(o.grad!.isfinite().all().item(), 1, `${reduction}: finite gradient`);
    }
  });
});

test("objLoss 'bce' stays finite for logits of ±100", () => {
  tidy(() => {
    for (const big of [100, -100]) {
      const out = rawOutput([
        [
          [0, 0, 0, 0, big, 0],
          [0, 0, 0, 0, -big, 0],
        ],
        [
          [0, 0, 0, 0, big, 0],
          [0, 0, 0, 0, big, 0],
        ],
      ]).requiresGrad_();
      const r = yoloLoss(
        [out],
        targetTensors([[truth]], tiny),
        { anchors: tiny.anchors, netH: 64, netW: 64, batchIndex: 0, training: true },
        { objLoss: 'bce' },
      );
      const v = readLoss(r);
      assert.ok(Number.isFinite(v.objective), `objective finite for ${big}`);
      r.objective.backward();
      assert.ok(out.grad!.isfinite().all().item() === 1, 'finite gradient');
      // conf1 = 5 · BCE(σ(−big), 1) = 5·big for the object cell that predicts −big
      if (big === 100) close(v.scales[0]!.conf1[0]!, 5 * 100, 1e-4, 'conf1 at logit −100');
    }
  });
});

test("objTarget 'iou' passes no gradient through the IoU", () => {
  tidy(() => {
    const ln3 = Math.log(3);
    const out = rawOutput(
      [
        [
          [0, 0, 0, 0, 0, 0],
          [ln3, 0, 0.3, 0, 0, 0],
        ],
        [
          [0, 0, 0, 0, 0, 0],
          [0, 0, 0, 0, 0, 0],
        ],
      ],
      'float64',
    ).requiresGrad_();
    const targets = targetTensors([[truth]], tiny, 'float64');
    const ctx = { anchors: tiny.anchors, netH: 64, netW: 64, batchIndex: 0, training: true };
    // Only conf1 depends on the box through the IoU target: with xywhScale 0 the box logits
    // (t_x, t_y, t_w, t_h) get gradient only if the IoU is differentiated.
    const r = yoloLoss([out], targets, ctx, { objTarget: 'iou', xywhScale: 0 });
    r.objective.backward();
    const g = out.grad!.permute(0, 2, 3, 1).toNumbers(); // [row][col][6]
    const objCell = g.slice(6, 12); // row 0, col 1
    for (let k = 0; k < 4; k++) assert.equal(objCell[k], 0, `no gradient on box logit ${k}`);
    assert.notEqual(objCell[4], 0, 'objectness logit has a gradient');
  });
});

test('gradients of the objective match finite differences', () => {
  manualSeed(3);
  for (const options of [{}, { objLoss: 'bce' as const, warmupBatches: 5 }, { reduction: 'mean' as const, objTarget: 'iou' as const }]) {
    tidy(() => {
      const B = 2;
      const outs = randomOutputs(B, 'float64');
      const targets = targetTensors(randomBatch(B, 96, 11), spec3, 'float64');
      const ctx = { anchors: spec3.anchors, netH: 96, netW: 96, batchIndex: 0, training: true };
      const f = () => tidy(() => yoloLoss(outs, targets, ctx, options).objective.item());
      tidy(() => yoloLoss(outs, targets, ctx, options).objective.backward());
      const eps = 1e-6;
      // Probe a few entries of every head, including the object slots' box and objectness logits.
      outs.forEach((o, s) => {
        const grad = o.grad!.toNumbers();
        const flat = o.detach().reshape(-1);
        const n = flat.size(0);
        for (const i of [0, 1, 4, 5, Math.floor(n / 3), Math.floor(n / 2) + 1, n - 1]) {
          const orig = flat.select(0, i).item();
          flat.select(0, i).fill_(orig + eps);
          const up = f();
          flat.select(0, i).fill_(orig - eps);
          const down = f();
          flat.select(0, i).fill_(orig);
          const numeric = (up - down) / (2 * eps);
          assert.ok(
            Math.abs(numeric - grad[i]!) <= 1e-5 + 1e-4 * Math.abs(numeric),
            `scale ${s} index ${i} (${JSON.stringify(options)}): numeric ${numeric} vs autograd ${grad[i]}`,
          );
        }
      });
    });
  }
});

test('encode → perfect prediction → decode recovers every truth box (IoU > 0.999) at every scale', () => {
  tidy(() => {
    const B = 4;
    const batch = randomBatch(B, 96, 5).map((boxes) => boxes.slice(0, 1)); // one box per image: no collisions
    const enc = encodeTargets(batch, spec3);
    // Build raw outputs that decode exactly to the targets: σ(t_x) = frac(x), t_wh = target, t_o = +12.
    const outs = enc.yTrue.map((y, s) => {
      const [, gh, gw, A, D] = enc.shapes[s]! as [number, number, number, number, number];
      const raw = new Float32Array(y.length);
      for (let i = 0; i < y.length; i += D) {
        raw[i + 4] = -12;
        if (y[i + 4] === 1) {
          const fx = y[i]! - Math.floor(y[i]!);
          const fy = y[i + 1]! - Math.floor(y[i + 1]!);
          raw[i] = Math.log(fx / (1 - fx));
          raw[i + 1] = Math.log(fy / (1 - fy));
          raw[i + 2] = y[i + 2]!;
          raw[i + 3] = y[i + 3]!;
          raw[i + 4] = 12;
          raw[i + 5 + (y[i + 6] === 1 ? 1 : 0)] = 8;
        }
      }
      return tensor(raw, { shape: [B, gh, gw, A * D] })
        .permute(0, 3, 1, 2)
        .contiguous();
    });
    const dets = decodeOutputs(outs, { anchors: spec3.anchors, netH: 96, netW: 96, scoreThreshold: 0.5 });
    const scalesSeen = new Set<number>();
    batch.forEach((boxes, b) => {
      const t = boxes[0]!;
      assert.equal(dets[b]!.length, 1, `image ${b}: one detection`);
      const d = dets[b]![0]!;
      scalesSeen.add(d.scale);
      const iw = Math.max(0, Math.min(d.x2, t.x2) - Math.max(d.x1, t.x1));
      const ih = Math.max(0, Math.min(d.y2, t.y2) - Math.max(d.y1, t.y1));
      const inter = iw * ih;
      const iou = inter / ((d.x2 - d.x1) * (d.y2 - d.y1) + (t.x2 - t.x1) * (t.y2 - t.y1) - inter);
      assert.ok(iou > 0.999, `image ${b}: IoU ${iou}`);
      assert.equal(d.cls, t.cls, 'class');
    });
    // Statistics see every encoded box with its objectness and IoU.
    const stats = lossStatistics(
      outs,
      { yTrue: enc.yTrue.map((y, s) => tensor(y, { shape: enc.shapes[s] })), trueBoxes: zeros([B, 1, 4]) },
      { anchors: spec3.anchors, netH: 96, netW: 96, batchIndex: 0, training: false },
    );
    assert.equal(
      stats.reduce((n, s) => n + s.count, 0),
      B,
    );
    for (const s of stats)
      if (s.count) {
        close(s.avgIou, 1, 1e-3, 'avgIou');
        assert.equal(s.recall75, 1);
      }
  });
});

test('encoding: best anchor over all scales, log sizes, collisions resolved by area', () => {
  const enc = encodeTargets(
    [
      [
        { x1: 0, y1: 0, x2: 8, y2: 6, cls: 1 }, // best anchor [8, 6] on the detailed scale
        { x1: 1, y1: 1, x2: 6, y2: 6, cls: 0 }, // same cell of the detailed scale, anchor [5, 5]
        { x1: 2, y1: 0, x2: 10, y2: 6, cls: 0 }, // anchor [8, 6] again, same cell (centre 6, 3 → cell 0): collision
      ],
    ],
    spec3,
  );
  assert.equal(enc.collisions, 1);
  const D = 7;
  const y = enc.yTrue[2]!; // stride 8 → 12 × 12 grid, anchors [[3,2],[5,5],[8,6]]
  const slot = (row: number, col: number, a: number) => ((row * 12 + col) * 3 + a) * D;
  // Box 1 (centre 4, 3; area 48) and box 3 (centre 6, 3; area 48) tie: the earlier box keeps the slot.
  close(y[slot(0, 0, 2)]!, 4 / 8, 1e-6, 'x in grid units');
  close(y[slot(0, 0, 2) + 2]!, Math.log(8 / 8), 1e-6, 't_w');
  assert.equal(y[slot(0, 0, 2) + 6], 1, 'one-hot class 1');
  assert.equal(y[slot(0, 0, 1) + 4], 1, 'box 2 on anchor [5, 5]');
  assert.deepEqual(enc.perScale, [0, 0, 2]);
});

test("compat.trueBoxUnits 'owner-grid' reproduces keras-yolo3's misplaced truth boxes in other scales' ignore masks", () => {
  tidy(() => {
    // Two scales of a 64 px input: coarse 2 × 2 (stride 32), fine 4 × 4 (stride 16). One box owned by
    // the coarse scale, centred at (48, 16): in owner grid units (1.5, 0.5). Divided by the fine
    // grid (4) as keras-yolo3 does, the fine scale's ignore mask sees it at (0.375, 0.125) in
    // normalised units instead of (0.75, 0.25): a different set of fine predictions is ignored.
    const spec: EncodeSpec = { netH: 64, netW: 64, strides: [32, 16], anchors: [[[16, 32]], [[4, 4]]], numClasses: 1 };
    const t = targetTensors([[truth]], spec);
    const outs = [zeros([1, 6, 2, 2]), zeros([1, 6, 4, 4])];
    const ctx = { anchors: spec.anchors, netH: 64, netW: 64, batchIndex: 0, training: false };
    // Fine predictions are anchor-sized (4 px) boxes at the cell centres; make them 16 × 32 px
    // (t_w = ln 4, t_h = ln 8) so they overlap boxes of the truth's size.
    const fine = tensor(Array.from({ length: 16 }, () => [0, 0, Math.log(4), Math.log(8), 0, 0]).flat(), { shape: [1, 4, 4, 6] })
      .permute(0, 3, 1, 2)
      .contiguous();
    const right = readLoss(yoloLoss([outs[0]!, fine], t, ctx, { ignoreThresh: 0.3 }));
    const owner = readLoss(yoloLoss([outs[0]!, fine], t, ctx, { ignoreThresh: 0.3, compat: { trueBoxUnits: 'owner-grid' } }));
    assert.notEqual(owner.scales[1]!.conf2[0], right.scales[1]!.conf2[0], 'the fine scale ignores different cells');
    // The owning (coarse) scale divides by its own grid: identical either way.
    assert.equal(owner.scales[0]!.conf2[0], right.scales[0]!.conf2[0]);
  });
});

test('a box marked ignore is no positive but stays in the ignore mask (train.positiveMinTps)', () => {
  tidy(() => {
    // Every cell predicts σ = 0.5 at its centre with the anchor's shape. The cell of the truth box
    // (row 0, col 1) predicts (48, 16) 32 × 32 against the truth 16 × 32 there: IoU 0.5, not below
    // the 0.5 threshold, so that cell is ignored.
    const out = rawOutput([
      [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ],
      [
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ],
    ]);
    const ctx = { anchors: tiny.anchors, netH: 64, netW: 64, batchIndex: 100, training: true };
    const terms = (boxes: PixelBox[]) => readLoss(yoloLoss([out], targetTensors([boxes], tiny), ctx)).scales[0]!;
    const positive = terms([truth]);
    const ignored = terms([{ ...truth, ignore: true }]);
    const none = terms([]);
    // As a positive: conf1 ((0.5 − 1)·5)² and the wh term; the three other cells' conf2.
    close(positive.conf1[0]!, 6.25, 1e-6, 'conf1 positive');
    close(positive.conf2[0]!, 0.75, 1e-6, 'conf2 positive');
    assert.ok(positive.wh[0]! > 0);
    // Ignored: no positive terms at all; its cell is still masked out of conf2 (0.75, not 4 · 0.25).
    for (const k of ['xy', 'wh', 'conf1', 'class'] as const) assert.equal(ignored[k][0], 0, k);
    close(ignored.conf2[0]!, 0.75, 1e-6, 'conf2 ignored');
    close(none.conf2[0]!, 1, 1e-6, 'conf2 without the box');
    const enc = encodeTargets(
      [
        [
          { ...truth, ignore: true },
          { x1: 0, y1: 32, x2: 20, y2: 60, cls: 0 },
        ],
      ],
      tiny,
    );
    assert.deepEqual(enc.perScale, [1], 'only the unmarked box is encoded');
    assert.deepEqual(Array.from(enc.trueBoxes.slice(0, 4)), [48, 16, 16, 32], 'the marked box is in trueBoxes');
    assert.deepEqual(Array.from(enc.ownerGrid.slice(0, 2)), [2, 2], 'with its owning grid (owner-grid compat)');
  });
});

test('one class: a box scores σ(t_o) whatever its class logit, class 0 (the decoder skips the softmax)', () => {
  tidy(() => {
    // Four cells, each with a different objectness and class logit; t_xy = 0, t_wh = 0.
    const logits = [
      [0.5, -3],
      [2, 7],
      [-1, 0],
      [4, -20],
    ];
    const cells = logits.map(([to, cls]) => [0, 0, 0, 0, to!, cls!]);
    const out = rawOutput([cells.slice(0, 2), cells.slice(2, 4)]);
    const dets = decodeOutputs([out], { anchors: tiny.anchors, netH: 64, netW: 64, scoreThreshold: 0, nms: false })[0]!;
    assert.equal(dets.length, 4);
    const want = logits.map(([to]) => 1 / (1 + Math.exp(-to!))).sort((a, b) => b - a);
    dets.forEach((d, i) => {
      assert.equal(d.score, d.objectness, 'score is the objectness exactly');
      assert.equal(d.cls, 0);
      close(d.score, want[i]!, 1e-6, `box ${i}`);
    });
  });
});
