// `daqyolo study --plan budget`: the dry-run estimate's arithmetic (worked by hand here), the Slurm
// array's content, a bad manifest's one-line error, and the whole plan in miniature (64 px, two
// points, a few hundred background images) killed after its first point and resumed: the finished
// point is not redone, the other is, and budget.json, the chart and the summary come out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  budgetDataset,
  budgetDefaults,
  budgetSlurmScript,
  budgetSummary,
  estimateBudget,
  expectedEpochs,
  expectedBestEpoch,
  MEASURED_BEST_EPOCHS,
  hms,
  readBudgetManifest,
  budgetRuns,
  type BudgetPoint,
  type BudgetSettings,
} from '../src/study/budget-plan.js';
import { pointsOverSeeds } from '../src/study/budget-seeds.js';
import { makeSplits } from '../src/data/splits.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-budget-'));
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI arguments of a 64-px miniature plan in `out` (tiny splits, 256 background images, two epochs at most), with `extra`. */
const miniaturePlan = (out: string, extra: string[]) => [
  cli,
  'study',
  '--plan',
  'budget',
  '--out',
  out,
  '--size',
  '64',
  '--width',
  '0.0625',
  '--budget-val-images',
  '16',
  '--budget-eval-images',
  '24',
  '--fp-images',
  '256',
  '--endpoint-epochs',
  '2',
  '--endpoint-patience',
  '1',
  '--warmup-epochs',
  '0',
  ...extra,
];
const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);
const full: BudgetSettings = { ...budgetDefaults(), points: [500, 20_000], maxEpochs: 100, patience: 5 };

test('the dry-run estimate: epochs to early stopping, training, fprate and evaluation per point, against a 3-hour sitting', () => {
  // 480 ms per bare step at batch 8 = 60 ms per image; a real epoch is twice the bare steps, validation a third of a step per image.
  const e = estimateBudget(full, { msPerStep: 480, fpImagesPerSecond: 100, baselineImagesPerSecond: 1000, simImagesPerSecond: 250 });
  const [small, large] = e.points;
  // 500 images: the best epoch measured at 500 (median of 7, 7, 8), plus 5 of patience.
  assert.equal(small!.epochs, 12);
  // 12 × (500 × 60 ms × 2 + 2 000 × 60 ms / 3) = 12 × 100 s.
  assert.equal(small!.trainSeconds, 1200);
  assert.equal(small!.fprateSeconds, 10_000, '10⁶ images at 100 images/s');
  assert.equal(small!.evaluateSeconds, 80, 'two rates × 2 000 images × 20 ms');
  assert.equal(small!.seconds, 11_280);
  assert.equal(small!.fits, false, '3 h 8 min is more than a sitting');
  // 20 000 images: the best epoch measured there (9), plus 5: 14 × (20 000 × 120 ms + 40 s).
  assert.equal(large!.epochs, 14);
  assert.equal(large!.trainSeconds, 34_160);
  assert.equal(large!.name, 'n20000');
  assert.equal(e.datasetSeconds, 24_000 / 250, 'the largest point, validation and evaluation simulated once');
  assert.equal(e.baselineSeconds, 1000 + 4, "the baseline's stream and its two evaluations");
  assert.equal(e.seconds, e.datasetSeconds + e.baselineSeconds + small!.seconds + large!.seconds);
  assert.match(e.basis, /480 ms per bare training step of sparse-yolov3 width 0.25 at 480 px/);
  // A point that fits; the epoch cap.
  const fast = estimateBudget(
    { ...full, points: [500], fpImages: 100_000 },
    { msPerStep: 48, fpImagesPerSecond: 1000, baselineImagesPerSecond: 1000, simImagesPerSecond: 250 },
  );
  assert.equal(fast.points[0]!.fits, true);
  assert.equal(expectedEpochs(500, { maxEpochs: 10, patience: 5 }), 10, 'capped');
  assert.equal(expectedEpochs(100_000, { maxEpochs: 100, patience: 2 }), 11, 'beyond the largest measured size: its best epoch');
  assert.equal(hms(11_280), '3:08:00');
});

test('the expected best epoch is the median of those measured at the nearest size', () => {
  // Every measured size gives its own median (an even count: the mean of the middle two, rounded up).
  for (const m of MEASURED_BEST_EPOCHS) {
    const s = [...m.bestEpochs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2]! : Math.ceil((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
    assert.equal(expectedBestEpoch(m.trainImages), median, `${m.trainImages} images`);
  }
  assert.deepEqual([500, 2000, 8000, 20_000].map(expectedBestEpoch), [7, 6, 8, 9]);
  // Nearest on a log scale: 1 100 is nearer 2 000 than 500 (ratio 1.8 against 2.2); 1 000 ties and takes the larger.
  assert.equal(expectedBestEpoch(1100), 6);
  assert.equal(expectedBestEpoch(1000), 6);
  assert.equal(expectedBestEpoch(900), 7);
  assert.equal(expectedBestEpoch(100), 7, 'below the smallest measured size');
  // Not the 1/N rule it replaced (18 000 / 500 = 36 epochs to the best).
  assert.ok(expectedBestEpoch(500) < 10);
});

test('the dataset holds exactly the largest point, the validation and the evaluation split', () => {
  const { images, split } = budgetDataset(full);
  assert.equal(images, 24_000);
  const s = makeSplits(images, split, 1);
  assert.deepEqual([s.train.length, s.val.length, s.eval.length], [20_000, 2000, 2000]);
  const tiny = budgetDataset({ points: [20, 40], valImages: 16, evalImages: 24 });
  const t = makeSplits(tiny.images, tiny.split, 3);
  assert.deepEqual([t.train.length, t.val.length, t.eval.length], [40, 16, 24]);
});

test('the Slurm array: one task per point, two cores, the time of the longest point with a margin, the task command', () => {
  const e = estimateBudget(full, { msPerStep: 480, fpImagesPerSecond: 100, baselineImagesPerSecond: 1000, simImagesPerSecond: 250 });
  const script = budgetSlurmScript({ out: '/scratch/my budget', cli: '/opt/daqyolo/bin/daqyolo.js', node: 'node', estimate: e, cpusPerTask: 2 });
  const lines = script.split('\n');
  assert.equal(lines[0], '#!/bin/bash');
  assert.ok(lines.includes('#SBATCH --array=0-1'));
  assert.ok(lines.includes('#SBATCH --cpus-per-task=2'));
  // The longest point (20 000 images: 34 160 + 10 000 + 80 s) × 1.5, rounded up to 10 minutes: 66 600 s.
  assert.ok(lines.includes('#SBATCH --time=18:30:00'), script);
  assert.ok(lines.includes('#SBATCH --output=/scratch/my budget/logs/slurm-%A_%a.out'));
  assert.ok(lines.includes('  500  # 0: n500, ~3:08:00'));
  assert.ok(
    lines.includes(`exec 'node' '/opt/daqyolo/bin/daqyolo.js' study --plan budget --out '/scratch/my budget' --budget-task "$SLURM_ARRAY_TASK_ID"`),
    script,
  );
  // bash parses it.
  const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});

test('what more data bought: each point against the previous, the baseline and the thesis at 1.8 Hz', () => {
  const row = (targetHz: number, efficiency: number | null, err = 0.02) => ({
    targetHz,
    threshold: efficiency === null ? null : 0.5,
    fpCount: 1,
    fpHz: targetHz,
    fpHzInterval: [0, targetHz] as [number, number],
    efficiency,
    efficiencyErr: efficiency === null ? null : err,
    efficiencyVisible: efficiency,
    efficiencySupernova: efficiency === null ? null : efficiency + 0.1,
  });
  const point = (n: number, e18: number, e10: number | null): BudgetPoint => ({
    trainImages: n,
    run: `n${n}`,
    epochs: 5,
    stopped: 'early-stop',
    fpImages: 1000,
    fpImagesPerSecond: 10,
    rows: [row(1.8, e18), row(10, e10)],
    seconds: { train: 1, fprate: 1, evaluate: 1 },
  });
  const lines = budgetSummary(
    [point(2000, 0.6, 0.7), point(500, 0.5, null)],
    { algorithm: 'clustering', fpImages: 1000, rows: [row(1.8, 0.8), row(10, 0.85)] },
    [1.8, 10],
  );
  assert.equal(
    lines[0],
    'at 1.8 Hz per module, network by training images — 500: 50.0 % ± 2.0 %; 2,000: 60.0 % ± 2.0 % (+10.0 points, σ 2.8); the largest point over the supernova spectrum 70.0 %; baseline 80.0 % ± 2.0 %; thesis 76.2 % ± 0.2 %',
  );
  assert.match(lines[1]!, /500: not reachable; 2,000: 70\.0 % ± 2\.0 %; .*baseline 85\.0 % ± 2\.0 %$/);
});

test('a bad budget-plan.json is one line naming the file and the field', () => {
  const out = join(dir, 'bad');
  mkdirSync(out, { recursive: true });
  const path = join(out, 'budget-plan.json');
  const good = { plan: 'budget', settings: full, data: 'snnu.h5', pointsDir: 'points', estimatedSeconds: { n500: 1 } };
  writeFileSync(path, JSON.stringify(good));
  assert.deepEqual(readBudgetManifest(path).settings.points, [500, 20_000]);
  // A plan written before the objectness setting trained with the seed preset's MSE, and keeps it.
  // So do plans written before the isolated-pixel setting: every pixel kept.
  // And those before positiveMinTps: every box a positive.
  const { objLoss: _, isolatedRadius: __, positiveMinTps: ___, ...older } = full;
  writeFileSync(path, JSON.stringify({ ...good, settings: older }));
  assert.equal(readBudgetManifest(path).settings.objLoss, 'mse');
  assert.equal(readBudgetManifest(path).settings.isolatedRadius, 0);
  assert.equal(readBudgetManifest(path).settings.positiveMinTps, 0);
  writeFileSync(path, JSON.stringify({ ...good, settings: { ...full, points: [500, 'many'] } }));
  assert.throws(() => readBudgetManifest(path), {
    name: 'UserError',
    message: new RegExp(`^${path.replace(/[.]/g, '\\.')}: field settings\\.points\\.1: .*\\(found "many"\\)$`),
  });
  // Through the command: exit 1, the same line.
  const r = spawnSync(process.execPath, [cli, 'study', '--plan', 'budget', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /budget-plan\.json: field settings\.points\.1: /);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  writeFileSync(path, '{"plan": "budget", ');
  assert.throws(() => readBudgetManifest(path), /budget-plan\.json: not valid JSON/);
});

test('study --plan budget: dry run, the plan killed after its first point and resumed, budget.json, the chart, the Slurm form', async () => {
  const out = join(dir, 'plan');
  const args = miniaturePlan(out, [
    '--budget-points',
    '40,20',
    // 1.8 Hz needs ~10⁵ images: unreachable here; 10⁵ Hz is reached by 256 images.
    '--budget-rates',
    '1.8,100000',
    // The lever against sure scores on small clusters, on: it must reach every point's training.
    '--budget-positive-min-tps',
    '3',
    // The control: one wider clustering streamed beside the baseline, the better on validation drawn.
    '--budget-cluster-variants',
    '8:80',
  ]);
  const dry = spawnSync(process.execPath, [...args, '--dry-run'], { encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /^n20\t20\t\d+\t\d+:\d\d:\d\d\t/m);
  assert.match(dry.stdout, /^n40\t40\t/m);
  assert.match(dry.stdout, /^total\t\d+:\d\d:\d\d on this machine$/m);
  assert.match(dry.stdout, /basis: \d+ ms per bare training step of sparse-yolov3 width 0.0625 at 64 px, batch 8 .* fprate \d+ images\/s/);
  assert.ok(!existsSync(out), '--dry-run writes nothing');
  // With the filter the step is timed on simulated images (random scattered pixels would all go).
  const dryFiltered = spawnSync(process.execPath, [...args, '--budget-isolated-radius', '1', '--dry-run'], { encoding: 'utf8' });
  assert.equal(dryFiltered.status, 0, dryFiltered.stderr);
  assert.match(dryFiltered.stdout, /objectness bce, isolated pixels dropped \(radius 1\), interactions under 3 TPs ignored in the loss; fprate/);
  const seedOnly = spawnSync(process.execPath, [...args, '--epochs', '3', '--dry-run'], { encoding: 'utf8' });
  assert.equal(seedOnly.status, 1, 'an option of the other plans is refused, not ignored');
  assert.match(
    seedOnly.stderr,
    /--epochs: not read by --plan budget \(only by the default study and --plan seed\); each point trains to convergence: --endpoint-epochs is the most/,
  );
  const dense = spawnSync(process.execPath, [...args, '--variant', 'yolov3', '--dry-run'], { encoding: 'utf8' });
  assert.equal(dense.status, 1);
  assert.match(dense.stderr, /--variant yolov3: the budget plan draws the curve for sparse-yolov3 or sparse-yolov3-tiny/);

  // The first run, killed (SIGKILL: nothing saved on the way out) once its first point is finished.
  const first = join(out, 'points', 'n20', 'point.json');
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let killed = false;
  while (child.exitCode === null) {
    if (existsSync(first)) {
      child.kill('SIGKILL');
      killed = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await exited;
  assert.ok(killed, 'the plan was killed after its first point');
  const firstWritten = statSync(first).mtimeMs;
  assert.ok(!existsSync(join(out, 'budget.json')));

  // The curve so far (a point per sitting): the baseline and the chart from the finished point alone.
  const soFar = spawnSync(process.execPath, [...args, '--budget-finished'], { encoding: 'utf8' });
  assert.equal(soFar.status, 0, soFar.stderr);
  assert.match(soFar.stderr, /\[2\/4\] n40: not finished, left out of the curve \(--budget-finished\)/);
  assert.ok(!existsSync(join(out, 'points', 'n40', 'point.json')), 'the unfinished point is neither trained nor measured');
  const partial = JSON.parse(readFileSync(join(out, 'budget.json'), 'utf8'));
  assert.deepEqual(
    partial.points.map((p: { trainImages: number }) => p.trainImages),
    [20],
  );
  assert.deepEqual(partial.pending, [40]);
  assert.match(
    partial.summary[1],
    /^at 100000 Hz per module, network by training images — 20: .*; not run yet: 40; the largest finished point .*; baseline \d/,
  );
  const partialHtml = readFileSync(join(out, 'budget.html'), 'utf8');
  assert.match(partialHtml, /training-budget curve: 1 of 2 points/);
  assert.match(partialHtml, /Not run yet: the points of 40 training images/);
  const mixed = spawnSync(process.execPath, [...args, '--budget-finished', '--budget-task', '0'], { encoding: 'utf8' });
  assert.equal(mixed.status, 1);
  assert.match(mixed.stderr, /--budget-finished draws the points already finished: not with --budget-task/);

  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /resuming .*budget-plan\.json \(2 points\)/);
  assert.match(r.stderr, /\[2\/4\] n20: finished/);
  assert.doesNotMatch(r.stderr, /n20: training/, 'the finished point is not trained again');
  assert.equal(statSync(first).mtimeMs, firstWritten, 'nor measured again');
  assert.match(r.stderr, /\[2\/4\] n40: fprate over 256/);

  const b = JSON.parse(readFileSync(join(out, 'budget.json'), 'utf8'));
  assert.deepEqual(
    b.points.map((p: { trainImages: number }) => p.trainImages),
    [20, 40],
  );
  assert.deepEqual(b.pending, [], 'the whole curve: nothing pending');
  assert.equal(b.evalImages, 24);
  for (const p of b.points) {
    assert.ok(p.epochs >= 1 && p.epochs <= 2, `${p.trainImages}: ${p.epochs} epochs`);
    assert.equal(p.fpImages, 256);
    const [slow, fast] = p.rows;
    assert.equal(slow.targetHz, 1.8);
    assert.equal(slow.threshold, null, '1.8 Hz cannot be shown by 256 images');
    assert.equal(slow.efficiency, null);
    assert.equal(fast.targetHz, 100_000);
    assert.equal(fast.match, 'tps', 'by the TP rule');
    assert.ok(fast.efficiency >= 0 && fast.efficiency <= 1 && fast.efficiencySupernova >= 0 && fast.efficiencySupernova <= 1, JSON.stringify(fast));
    // The evaluation at that rate is the point's own run's.
    assert.ok(existsSync(join(out, 'points', `n${p.trainImages}`, 'eval', 'budget-100000Hz.json')));
  }
  // Both points read the same training split in one shuffle: the smaller is the first 20 of the larger's 40.
  const cfg = (n: number) => JSON.parse(readFileSync(join(out, 'points', `n${n}`, 'config.json'), 'utf8'));
  assert.equal(cfg(20).config.trainLimit, 20);
  assert.equal(cfg(40).config.trainLimit, 40);
  assert.equal(cfg(20).config.seed, cfg(40).config.seed);
  // BCE objectness by default (the thesis's MSE saturates the scores: no cut reaches 1.8 Hz).
  assert.equal(cfg(20).config.loss.objLoss, 'bce');
  assert.equal(cfg(40).config.loss.objLoss, 'bce');
  assert.equal(b.settings.objLoss, 'bce');
  // Every pixel kept by default; --budget-isolated-radius reaches each point's model.
  assert.equal(cfg(20).config.model.isolatedRadius, 0);
  assert.equal(b.settings.isolatedRadius, 0);
  // --budget-positive-min-tps reaches each point's training config.
  assert.equal(cfg(20).config.positiveMinTps, 3);
  assert.equal(cfg(40).config.positiveMinTps, 3);
  assert.equal(b.settings.positiveMinTps, 3);
  assert.equal(b.baseline.fpImages, 256);
  assert.deepEqual(
    b.baseline.rows.map((x: { targetHz: number }) => x.targetHz),
    [1.8, 100_000],
  );
  // Where it loses, by energy: every reachable row carries its per-energy curve (the bins add up
  // to the row's efficiency), each point's the very bins of the evaluation that measured it.
  type Bin = { loMeV: number; hiMeV: number; k: number; n: number; efficiency: number | null };
  const sums = (bins: Bin[]) => bins.reduce((a, x) => [a[0]! + x.k, a[1]! + x.n], [0, 0]);
  const baseRow = b.baseline.rows[1];
  assert.equal(baseRow.byEnergy.length, 14);
  assert.deepEqual([baseRow.byEnergy[0].loMeV, baseRow.byEnergy.at(-1).hiMeV], [1, 70]);
  const [bk, bn] = sums(baseRow.byEnergy);
  assert.ok(bn > 0);
  close(bk / bn, baseRow.efficiency, 1e-12);
  for (const p of b.points) {
    const row = p.rows[1];
    const ev = JSON.parse(readFileSync(join(out, 'points', `n${p.trainImages}`, 'eval', 'budget-100000Hz.json'), 'utf8'));
    assert.deepEqual(
      row.byEnergy.map((x: Bin) => [x.k, x.n]),
      ev.trigger.efficiency.bins.map((x: { all: { k: number; n: number } }) => [x.all.k, x.all.n]),
    );
    const [k, n] = sums(row.byEnergy);
    assert.equal(n, bn, 'the same evaluation interactions as the baseline');
    close(k / n, row.efficiency, 1e-12);
    assert.equal(p.rows[0].byEnergy, undefined, 'an unreachable rate has no curve');
  }
  assert.match(readFileSync(join(out, 'budget-energy.svg'), 'utf8'), /neutrino energy, MeV/);
  assert.ok(statSync(join(out, 'budget-energy.png')).size > 1000);
  assert.match(readFileSync(join(out, 'budget.html'), 'utf8'), /Efficiency against Eν at 100000 Hz per module/);
  assert.equal(b.thesis.efficiency, 0.762);
  assert.equal(b.summary.length, 2);
  assert.match(b.summary[0], /^at 1\.8 Hz per module, network by training images — 20: not reachable; 40: not reachable; .*thesis 76\.2 %/);
  // The hybrid trigger at each point, from the same FP histogram: its gain is over the point's own
  // network-alone row (the same cut, the same evaluation interactions).
  for (const p of b.points) {
    assert.deepEqual(
      p.hybrid.map((x: { targetHz: number }) => x.targetHz),
      [1.8, 100_000],
    );
    assert.equal(p.hybrid[0].efficiency, null, '1.8 Hz cannot be shown by 256 images, with or without a requirement');
    const [hy, net] = [p.hybrid[1], p.rows[1]];
    close(hy.efficiency - hy.gain.delta, net.efficiency, 1e-12);
    assert.ok(existsSync(join(out, 'points', `n${p.trainImages}`, 'eval', 'hybrid-trigger.json')));
    assert.ok(p.seconds.hybrid > 0);
  }
  // The clustering tuned on validation over the TDR setting and gap 8, Δt 80: where it keeps the TDR
  // setting it is the baseline's own row; the summary, the chart and the table show it.
  assert.deepEqual(b.settings.clusterVariants, [{ channelTolerance: 8, maxDtTicks: 80 }]);
  const tunedRow = b.baseline.tuned[1];
  assert.equal(tunedRow.settings, 2);
  assert.ok([2, 8].includes(tunedRow.channelTolerance), JSON.stringify(tunedRow));
  if (tunedRow.channelTolerance === 2) {
    assert.equal(tunedRow.threshold, b.baseline.rows[1].threshold);
    assert.equal(tunedRow.efficiency, b.baseline.rows[1].efficiency);
  }
  assert.equal(b.baseline.tuned[0].efficiency, null, '1.8 Hz: not reachable by 256 images');
  assert.match(b.summary[1], /; clustering tuned on validation over 2 settings \(gap [28], Δt [28]0\) \d+\.\d % ± /);
  assert.match(readFileSync(join(out, 'budget.svg'), 'utf8'), /clustering tuned at 100000 Hz \(gap [28], Δt [28]0\)/);
  assert.match(b.summary[1], /; hybrid trigger \(its boxes with a ΣADC requirement\) — 20: \d+\.\d % ± \d+\.\d %; 40: /);
  assert.match(readFileSync(join(out, 'budget.html'), 'utf8'), /<td>20, hybrid<\/td>/);
  const svg = readFileSync(join(out, 'budget.svg'), 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, /training images/);
  assert.match(svg, /thesis 76\.2 % at 1\.8 Hz/);
  assert.match(svg, /baseline at 100000 Hz: /);
  // The x axis is labelled at the plan's sizes, and nowhere else.
  const ticks = [...svg.matchAll(/>([\d,]+)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(ticks, ['20', '40']);
  // The lines' labels sit right of the 520-px plot, where no point is, at least a line apart.
  const labelAt = [...svg.matchAll(/transform="translate\(([\d.]+),([\d.]+)\)"[^>]*>(?:baseline at|clustering tuned at) /g)].map((m) => [+m[1]!, +m[2]!]);
  assert.equal(labelAt.length, 2, 'the baseline and the tuned clustering at 100 kHz (1.8 Hz is not reachable here)');
  for (const [x] of labelAt) assert.ok(x! >= 520, `label at x = ${x}`);
  const ys = labelAt.map(([, y]) => y!).sort((a, b) => a - b);
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i]! - ys[i - 1]! >= 12 - 1e-9, `labels ${ys[i - 1]} and ${ys[i]} px overlap`);
  assert.ok(statSync(join(out, 'budget.png')).size > 1000);
  assert.match(readFileSync(join(out, 'budget.html'), 'utf8'), /What more data bought/);
  assert.match(r.stdout, /^- at 100000 Hz per module/m);

  // Another setting on the same folder is refused, not silently dropped.
  const other = spawnSync(
    process.execPath,
    args.map((a) => (a === '40,20' ? '80,20' : a)),
    { encoding: 'utf8' },
  );
  assert.equal(other.status, 1);
  assert.match(other.stderr, /budget-plan\.json: this folder's plan has points \[20,40\], the command line \[20,80\]/);
  const mse = spawnSync(process.execPath, [...args, '--budget-obj-loss', 'mse'], { encoding: 'utf8' });
  assert.equal(mse.status, 1);
  assert.match(mse.stderr, /this folder's plan has objLoss "bce", the command line "mse"/);
  const filtered = spawnSync(process.execPath, [...args, '--budget-isolated-radius', '1'], { encoding: 'utf8' });
  assert.equal(filtered.status, 1);
  assert.match(filtered.stderr, /this folder's plan has isolatedRadius 0, the command line 1/);
  const allPositive = spawnSync(process.execPath, [...args, '--budget-positive-min-tps', '0'], { encoding: 'utf8' });
  assert.equal(allPositive.status, 1);
  assert.match(allPositive.stderr, /this folder's plan has positiveMinTps 3, the command line 0/);

  // The Slurm form of the same plan: the script beside it, one task per point; a task on a finished point redoes nothing.
  const slurm = spawnSync(process.execPath, [...args, '--slurm'], { encoding: 'utf8' });
  assert.equal(slurm.status, 0, slurm.stderr);
  assert.match(slurm.stdout, /2 array tasks, one per point\./);
  const script = readFileSync(join(out, 'budget.sbatch'), 'utf8');
  assert.match(script, /#SBATCH --array=0-1\n/);
  assert.match(script, /--budget-task "\$SLURM_ARRAY_TASK_ID"\n/);
  const task = spawnSync(process.execPath, [cli, 'study', '--plan', 'budget', '--out', out, '--budget-task', '1'], { encoding: 'utf8' });
  assert.equal(task.status, 0, task.stderr);
  assert.match(task.stderr, /n40: finished/);
  assert.match(task.stdout, /^point 40: 1\.8 Hz –, 100000 Hz \d+\.\d %/);
  const bad = spawnSync(process.execPath, [cli, 'study', '--plan', 'budget', '--out', out, '--budget-task', '2'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--budget-task 2: the plan has points 0–1/);

  // A point finished before the per-energy curves gets its curve from its evaluation file.
  const n20 = join(out, 'points', 'n20', 'point.json');
  const written = JSON.parse(readFileSync(n20, 'utf8'));
  const curve = written.rows[1].byEnergy;
  for (const row of written.rows) delete row.byEnergy;
  writeFileSync(n20, JSON.stringify(written));
  const redrawn = spawnSync(process.execPath, [...args, '--budget-finished'], { encoding: 'utf8' });
  assert.equal(redrawn.status, 0, redrawn.stderr);
  const again = JSON.parse(readFileSync(join(out, 'budget.json'), 'utf8'));
  assert.deepEqual(again.points[0].rows[1].byEnergy, curve);
  // … unless that file was made at another threshold: then no curve rather than the wrong one.
  const evFile = join(out, 'points', 'n20', 'eval', 'budget-100000Hz.json');
  const ev = JSON.parse(readFileSync(evFile, 'utf8'));
  ev.trigger.efficiency.threshold += 0.001;
  writeFileSync(evFile, JSON.stringify(ev));
  assert.equal(spawnSync(process.execPath, [...args, '--budget-finished'], { encoding: 'utf8' }).status, 0);
  assert.equal(JSON.parse(readFileSync(join(out, 'budget.json'), 'utf8')).points[0].rows[1].byEnergy, undefined);

  // A point finished before the hybrid rows gets them from its fprate histogram, once, the same again.
  const beforeHybrid = JSON.parse(readFileSync(n20, 'utf8'));
  const hybridRows = beforeHybrid.hybrid;
  delete beforeHybrid.hybrid;
  writeFileSync(n20, JSON.stringify(beforeHybrid));
  const backfilled = spawnSync(process.execPath, [...args, '--budget-finished'], { encoding: 'utf8' });
  assert.equal(backfilled.status, 0, backfilled.stderr);
  assert.match(backfilled.stderr, /n20: the hybrid trigger/);
  assert.doesNotMatch(backfilled.stderr, /n40: the hybrid trigger/, 'a point that has them is not scanned again');
  assert.deepEqual(JSON.parse(readFileSync(n20, 'utf8')).hybrid, hybridRows);
});

test('training seeds: every point once per seed, seed-major task order; a point over its seeds is their mean, error and spread', () => {
  const s = { ...full, seed: 1, trainSeeds: [1, 7] };
  assert.deepEqual(
    budgetRuns(s).map((r) => [r.trainImages, r.seed, r.name]),
    [
      [500, 1, 'n500'],
      [20_000, 1, 'n20000'],
      [500, 7, 'n500-s7'],
      [20_000, 7, 'n20000-s7'],
    ],
  );
  assert.deepEqual(
    budgetRuns(full).map((r) => r.name),
    ['n500', 'n20000'],
    'a plan without trainSeeds: one training per point, task i = point i, as before',
  );
  const rates = { msPerStep: 480, fpImagesPerSecond: 100, baselineImagesPerSecond: 1000, simImagesPerSecond: 250 };
  const e = estimateBudget(s, rates);
  assert.deepEqual(
    e.points.map((p) => p.name),
    ['n500', 'n20000', 'n500-s7', 'n20000-s7'],
  );
  close(e.seconds - estimateBudget(full, rates).seconds, e.points[2]!.seconds + e.points[3]!.seconds, 1e-6);
  const script = budgetSlurmScript({ out: '/x', cli: '/c.js', node: 'node', estimate: e, cpusPerTask: 2 });
  assert.match(script, /#SBATCH --array=0-3\n/);
  assert.match(script, /  500  # 2: n500-s7, seed 7, ~/);

  const row = (efficiency: number, err = 0.01): BudgetPoint['rows'][number] => ({
    targetHz: 10,
    threshold: 0.5,
    fpCount: 3,
    fpHz: 9,
    fpHzInterval: [5, 15],
    efficiency,
    efficiencyErr: err,
    efficiencyVisible: efficiency,
  });
  const point = (n: number, seed: number, eff: number): BudgetPoint => ({
    trainImages: n,
    seed,
    run: `n${n}-s${seed}`,
    epochs: 5,
    stopped: 'early',
    fpImages: 1000,
    fpImagesPerSecond: 100,
    rows: [row(eff)],
    seconds: { train: 1, fprate: 1, evaluate: 1 },
  });
  const points = [point(500, 1, 0.5), point(500, 7, 0.7), point(2000, 1, 0.8)];
  const [a, b] = pointsOverSeeds(points, 10);
  assert.equal(a!.seeds, 2);
  close(a!.mean!, 0.6, 1e-12);
  close(a!.sd!, Math.SQRT2 / 10, 1e-12);
  close(a!.err!, 0.1, 1e-12);
  assert.deepEqual([a!.min, a!.max], [0.5, 0.7]);
  assert.equal(b!.seeds, 1);
  assert.equal(b!.err, 0.01, 'one seed: its binomial error');
  assert.equal(b!.sd, null);
  const [line] = budgetSummary(points, null, [10], [], ['n2000-s7']);
  assert.match(
    line!,
    /^at 10 Hz per module, network by training images — 500: 60\.0 % ± 10\.0 % \(2 seeds: 50\.0 %–70\.0 %, s\.d\. 14\.1 %\); 2,000: 80\.0 % ± 1\.0 % \(\+20\.0 points, σ 10\.0\); seeds still to run: n2000-s7/,
  );
});

test('study --plan budget --budget-seeds: one training per seed, a task each, the curve so far with the seeds still to run, then their mean', async () => {
  const out = join(dir, 'seeds');
  const args = miniaturePlan(out, ['--budget-points', '20', '--budget-seeds', '3,4', '--budget-rates', '100000']);
  const slurm = spawnSync(process.execPath, [...args, '--slurm'], { encoding: 'utf8' });
  assert.equal(slurm.status, 0, slurm.stderr);
  assert.match(slurm.stdout, /2 array tasks, one per training \(1 points × 2 seeds\)/);
  assert.match(readFileSync(join(out, 'budget.sbatch'), 'utf8'), /#SBATCH --array=0-1\n[\s\S]*# 1: n20-s4, seed 4,/);
  const task = (i: number) => spawnSync(process.execPath, [cli, 'study', '--plan', 'budget', '--out', out, '--budget-task', String(i)], { encoding: 'utf8' });
  const first = task(0);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /^point 20 seed 3: 100000 Hz \d+\.\d %/);
  const soFar = spawnSync(process.execPath, [...args, '--budget-finished'], { encoding: 'utf8' });
  assert.equal(soFar.status, 0, soFar.stderr);
  const partial = JSON.parse(readFileSync(join(out, 'budget.json'), 'utf8'));
  assert.deepEqual(
    partial.points.map((p: { seed: number }) => p.seed),
    [3],
  );
  assert.deepEqual(partial.pending, [], 'the point is on the curve with one seed');
  assert.deepEqual(partial.pendingSeeds, ['n20-s4']);
  assert.match(partial.summary[0], /seeds still to run: n20-s4/);
  assert.equal(task(1).status, 0);
  const all = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(all.status, 0, all.stderr);
  const b = JSON.parse(readFileSync(join(out, 'budget.json'), 'utf8'));
  assert.deepEqual(
    b.points.map((p: { seed: number }) => p.seed),
    [3, 4],
  );
  assert.equal(b.pendingSeeds, undefined);
  assert.deepEqual(b.settings.trainSeeds, [3, 4]);
  for (const seed of [3, 4]) {
    const cfg = JSON.parse(readFileSync(join(out, 'points', `n20-s${seed}`, 'config.json'), 'utf8'));
    assert.equal(cfg.config.seed, seed, 'each training its own seed');
    assert.equal(cfg.config.trainLimit, 20);
  }
  const effs = b.points.map((p: BudgetPoint) => p.rows[0]!.efficiency!);
  const mean = (effs[0] + effs[1]) / 2;
  assert.match(b.summary[0], new RegExp(`^at 100000 Hz per module, network by training images — 20: ${(100 * mean).toFixed(1)} % ± [\\d.]+ % \\(2 seeds: `));
  assert.match(readFileSync(join(out, 'budget.html'), 'utf8'), /training seed/);
  assert.match(readFileSync(join(out, 'budget.svg'), 'utf8'), /^<svg/);
  const bad = task(2);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--budget-task 2: the plan has trainings \(1 points × 2 seeds\) 0–1/);
});
