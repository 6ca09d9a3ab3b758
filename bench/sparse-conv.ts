// The two forward algorithms of the sparse convolution, in the whole sparse networks on the same
// images: 'gather' (one gather of every (site, offset) row through a zero row, one GEMM) against
// 'offsets' (per kernel offset index_select → mm → index_add). Alternating rounds in one process;
// medians of training step time (forward + autograd backward + Adam) and of inference time.
//
// Run: node dist/bench/sparse-conv.js [--data D.h5 | --active 50] [--batch 8] [--rounds 5]
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { Adam, manualSeed, tensor, tidy, noGrad } from '../src/torch/index.js';
import { SparseConvBase } from '../src/nn/index.js';
import { createYolo, type Variant } from '../src/model/yolo.js';
import { benchImages } from './inputs.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    active: { type: 'string', default: '50' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '480' },
    width: { type: 'string', default: '0.25' },
    rounds: { type: 'string', default: '5' },
  },
});
const size = Number(a.size),
  batch = Number(a.batch);
const { images, activePerImage } = benchImages({ batch, size, seed: 0, data: a.data, active: a.data ? undefined : Number(a.active) });
const x = tensor(images, { shape: [batch, 1, size, size] });
const median = (xs: number[]): number => {
  const v = [...xs].sort((p, q) => p - q);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const load = [loadavg()[0]!];
const out: Record<string, unknown> = {};
for (const variant of ['sparse-yolov3', 'sparse-yolov3-tiny'] as Variant[]) {
  manualSeed(0);
  const model = createYolo({ variant, width: Number(a.width) });
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  const setAlgorithm = (alg: 'gather' | 'offsets') => {
    for (const [, m] of model.namedModules()) if (m instanceof SparseConvBase) m.algorithm = alg;
  };
  const trainStep = () =>
    tidy(() => {
      opt.zeroGrad();
      const ys = model.train().forward(x);
      let loss = ys[0]!.square().sum();
      for (const y of ys.slice(1)) loss = loss.add(y.square().sum());
      loss.backward();
      opt.step();
    });
  const inferStep = () =>
    tidy(() =>
      noGrad(() => {
        model.eval().forward(x);
      }),
    );
  const t: Record<string, { train: number[]; infer: number[] }> = { gather: { train: [], infer: [] }, offsets: { train: [], infer: [] } };
  for (const alg of ['gather', 'offsets'] as const) {
    setAlgorithm(alg);
    trainStep();
    inferStep();
  } // warm-up
  for (let r = 0; r < Number(a.rounds); r++) {
    for (const alg of ['gather', 'offsets'] as const) {
      setAlgorithm(alg);
      let t0 = performance.now();
      trainStep();
      t[alg]!.train.push(performance.now() - t0);
      t0 = performance.now();
      inferStep();
      t[alg]!.infer.push(performance.now() - t0);
    }
  }
  const g = t.gather!,
    o = t.offsets!;
  out[variant] = {
    train_ms_median: { gather: +median(g.train).toFixed(1), offsets: +median(o.train).toFixed(1) },
    infer_ms_per_batch_median: { gather: +median(g.infer).toFixed(1), offsets: +median(o.infer).toFixed(1) },
    offsets_over_gather: { train: +(median(o.train) / median(g.train)).toFixed(3), infer: +(median(o.infer) / median(g.infer)).toFixed(3) },
  };
  model.dispose();
}
load.push(loadavg()[0]!);
console.log(
  JSON.stringify({
    bench: 'sparse-conv',
    size,
    batch,
    width: Number(a.width),
    active_pixels_per_image: activePerImage,
    input: a.data ?? `random, ${a.active} active`,
    load_average_1m: load.map((l) => +l.toFixed(2)),
    ...out,
  }),
);
