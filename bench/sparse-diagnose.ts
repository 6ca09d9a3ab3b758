// Where a sparse network can see a truth box: for every positive target slot (the cell holding a
// box centre, on the scale of its best anchor) of a split, whether that cell is an active site of
// a fully sparse network at that stride (a covered cell of an input pixel, or within one cell of
// one: the 'grow' conv before each output), and the trained runs' objectness there — split by
// active / inactive cell, so a gap between a dense and a sparse run can be traced to the cells a
// submanifold network cannot reach; and the negative slots (no box), split the same way: their
// no-object BCE per image and how many score ≥ 0.5 / 0.9, where the background losses and false
// positives come from. One JSON object.
//
// Run: node dist/bench/sparse-diagnose.js --data D.h5 [--split val] RUN [RUN…]
import { parseArgs } from 'node:util';
import { toNetworkInput, targetTensors } from '../src/infer/prepare.js';
import { openRunOnData } from './measure.js';
import { noGrad, tidy } from '../src/torch/index.js';
import { maxPool2d } from '../src/torch/functional.js';

const { values: a, positionals: runs } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: 'string' },
    split: { type: 'string', default: 'val' },
    batch: { type: 'string', default: '16' },
    checkpoint: { type: 'string', default: 'best' },
  },
});
if (!a.data || runs.length === 0) throw new Error('usage: sparse-diagnose.js --data D.h5 [--split val] RUN [RUN…]');

interface Tally {
  positives: number;
  covered: number;
  grown: number;
  objCovered: number;
  objGrownOnly: number;
  objUnreached: number;
  /** Negative slots (no box assigned), split by whether the cell is within one cell of an input pixel. */
  negEmpty: number;
  negNear: number;
  bceEmpty: number;
  bceNear: number;
  /** Negative slots scoring ≥ 0.5 / ≥ 0.9 (empty + near): where a threshold can fire on background. */
  hot50: [number, number];
  hot90: [number, number];
}
const mean = (s: number, n: number) => (n ? +(s / n).toFixed(4) : null);

async function diagnose(runDir: string) {
  const {
    opened,
    indices: [indices],
    loader,
  } = openRunOnData(runDir, a.data!, [a.split!], { checkpoint: a.checkpoint });
  const { ctx } = opened;
  const per: Tally[] = ctx.model.strides.map(() => ({
    positives: 0,
    covered: 0,
    grown: 0,
    objCovered: 0,
    objGrownOnly: 0,
    objUnreached: 0,
    negEmpty: 0,
    negNear: 0,
    bceEmpty: 0,
    bceNear: 0,
    hot50: [0, 0],
    hot90: [0, 0],
  }));
  const bs = Number(a.batch);
  const reqs = [];
  for (let i = 0; i < indices!.length; i += bs) reqs.push({ id: -(i + 1), indices: indices!.slice(i, i + bs), seed: 0, augment: null });
  const images = indices!.length;
  loader.enqueue(reqs);
  ctx.model.eval();
  const D = 5 + ctx.spec.numClasses;
  try {
    for (let r = 0; r < reqs.length; r++) {
      const b = await loader.next();
      noGrad(() =>
        tidy(() => {
          const inp = toNetworkInput(b, ctx.size, ctx.device, ctx.inputScale);
          const outputs = ctx.model.forward(inp.x);
          const { targets } = targetTensors(inp.boxes, ctx.size, ctx.spec, ctx.device);
          const occupied = inp.x.abs().sum([1], true).gt(0).to('float32');
          ctx.model.strides.forEach((s, k) => {
            const cov = maxPool2d(occupied, s, { stride: s });
            const grown = maxPool2d(cov, 3, { stride: 1, padding: 1 });
            const [B, , gh, gw] = outputs[k]!.shape as [number, number, number, number];
            const A = ctx.spec.anchors[k]!.length;
            const y = outputs[k]!.toNumbers();
            const t = targets.yTrue[k]!.toNumbers();
            const c = cov.toNumbers(),
              g = grown.toNumbers();
            for (let bi = 0; bi < B; bi++)
              for (let row = 0; row < gh; row++)
                for (let col = 0; col < gw; col++)
                  for (let an = 0; an < A; an++) {
                    const logit = y[((bi * A * D + an * D + 4) * gh + row) * gw + col]!;
                    const obj = 1 / (1 + Math.exp(-logit));
                    const cell = (bi * gh + row) * gw + col;
                    const p = per[k]!;
                    if (t[(((bi * gh + row) * gw + col) * A + an) * D + 4]! !== 1) {
                      // BCE of a 'nothing here' target: softplus(logit), computed stably.
                      const bce = Math.max(logit, 0) + Math.log1p(Math.exp(-Math.abs(logit)));
                      const near = g[cell]! > 0 ? 1 : 0;
                      if (near) {
                        p.negNear++;
                        p.bceNear += bce;
                      } else {
                        p.negEmpty++;
                        p.bceEmpty += bce;
                      }
                      if (obj >= 0.5) p.hot50[near]++;
                      if (obj >= 0.9) p.hot90[near]++;
                      continue;
                    }
                    p.positives++;
                    if (c[cell]! > 0) {
                      p.covered++;
                      p.grown++;
                      p.objCovered += obj;
                    } else if (g[cell]! > 0) {
                      p.grown++;
                      p.objGrownOnly += obj;
                    } else p.objUnreached += obj;
                  }
          });
        }),
      );
    }
  } finally {
    await loader.close();
  }
  opened.model.dispose();
  return {
    run: runDir,
    variant: opened.run.config.model.variant,
    scales: ctx.model.strides.map((s, k) => {
      const p = per[k]!;
      return {
        stride: s,
        positives: p.positives,
        centre_cell_covered: mean(p.covered, p.positives),
        centre_cell_within_one: mean(p.grown, p.positives),
        objectness_mean: {
          covered: mean(p.objCovered, p.covered),
          one_cell_away: mean(p.objGrownOnly, p.grown - p.covered),
          unreached: mean(p.objUnreached, p.positives - p.grown),
        },
        negatives_per_image: { empty: mean(p.negEmpty, images), near_pixels: mean(p.negNear, images) },
        noobj_bce_per_image: { empty: mean(p.bceEmpty, images), near_pixels: mean(p.bceNear, images) },
        negatives_scoring_per_image: {
          ge_0_5: { empty: mean(p.hot50[0], images), near_pixels: mean(p.hot50[1], images) },
          ge_0_9: { empty: mean(p.hot90[0], images), near_pixels: mean(p.hot90[1], images) },
        },
      };
    }),
  };
}

const out = [];
for (const r of runs) out.push(await diagnose(r));
console.log(JSON.stringify({ bench: 'sparse-diagnose', data: a.data, split: a.split, runs: out }));
