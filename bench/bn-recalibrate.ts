// Does a run's batch norm carry the statistics its weights were trained with? Validates a run's
// checkpoint as saved (running statistics: an exponential average, momentum 0.1, of the last
// training batches' statistics while the weights moved), then again after recomputing every
// BN layer's running mean and variance as the plain average over the training images with the
// weights fixed ("precise BN"), and prints both validation losses and mAPs as one JSON object.
// With --save the recomputed statistics go into a copy of the checkpoint, for fprate/compare.
//
// Run: node dist/bench/bn-recalibrate.js --data D.h5 RUN [--images 2000] [--save out.safetensors]
import { parseArgs } from 'node:util';
import { toNetworkInput } from '../src/infer/prepare.js';
import { openRunOnData } from './measure.js';
import { validateEpoch } from '../src/train/validate-epoch.js';
import { BatchNorm2d } from '../src/nn/index.js';
import { saveCheckpoint } from '../src/nn/serialize.js';
import { noGrad, tidy } from '../src/torch/index.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    batch: { type: 'string', default: '8' },
    images: { type: 'string', default: '2000' },
    checkpoint: { type: 'string', default: 'best' },
    save: { type: 'string' },
  },
});
const runDir = positionals[0];
if (!a.data || !runDir) throw new Error('usage: bn-recalibrate.js --data D.h5 RUN [--images N] [--save out.safetensors]');

const {
  opened,
  indices: [val, trainIdx],
  loader,
} = openRunOnData(runDir, a.data, ['val', 'train'], { checkpoint: a.checkpoint });
const bs = Number(a.batch);
const { ctx } = opened;

const summary = (v: Awaited<ReturnType<typeof validateEpoch>>) => ({
  lossPerImage: +v.lossPerImage.toFixed(3),
  map50: v.map50 === null ? null : +v.map50.toFixed(4),
});
try {
  const before = summary(await validateEpoch(loader, ctx, val, bs, 0));
  // Shuffled (fixed seed) so each batch mixes images as training's did.
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = trainIdx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [trainIdx[i], trainIdx[j]] = [trainIdx[j]!, trainIdx[i]!];
  }
  const use = trainIdx.slice(0, Number(a.images));
  const bns = [...ctx.model.namedModules()].map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const momentum0 = bns.map((b) => b.momentum);
  noGrad(() => {
    for (const b of bns) {
      b.runningMean.zero_();
      b.runningVar.fill_(1);
    }
  });
  const reqs = [];
  for (let i = 0; i < use.length; i += bs) reqs.push({ id: -(i + 1) - 1e7, indices: use.slice(i, i + bs), seed: 0, augment: null });
  loader.enqueue(reqs);
  ctx.model.train();
  for (let r = 0; r < reqs.length; r++) {
    // Cumulative average: batch k enters with weight 1/k.
    for (const b of bns) (b as { momentum: number }).momentum = 1 / (r + 1);
    const b = await loader.next();
    noGrad(() => tidy(() => void ctx.model.forward(toNetworkInput(b, ctx.size, ctx.device, ctx.inputScale).x)));
  }
  bns.forEach((b, i) => ((b as { momentum: number }).momentum = momentum0[i]!));
  ctx.model.eval();
  const after = summary(await validateEpoch(loader, ctx, val, bs, 0));
  if (a.save) saveCheckpoint(a.save, { model: ctx.model, meta: { ...opened.meta, preciseBn: { images: use.length, batch: bs } } });
  console.log(
    JSON.stringify({
      bench: 'bn-recalibrate',
      run: runDir,
      variant: opened.run.config.model.variant,
      bnLayers: bns.length,
      recalibratedOn: use.length,
      before,
      after,
      saved: a.save ?? null,
    }),
  );
} finally {
  await loader.close();
}
