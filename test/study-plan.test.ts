// `daqyolo study --plan seed`: the plan covers every comparison of the slides with the seed preset
// as the reference; the findings answer each question from the runs' numbers (synthetic runs with
// known behaviour), judge differences against the seeds' spread, and say when a run is missing;
// the end point's threshold for a target rate; and the whole plan end to end in miniature,
// including its resume, --dry-run and --slurm.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { revisedEstimate, seedExperiments, seedPlanDefaults, seedSweep, type Experiment, type ExperimentGroup } from '../src/study/seed-plan.js';
import { baselineThresholdForRate, thresholdForRate } from '../src/study/endpoint.js';
import { judge, seedFindings, spreadOf, type PlanRuns } from '../src/report/findings.js';
import { planSweep } from '../src/sweep/plan.js';
import { fpPerImageToHz } from '../src/eval/efficiency.js';
import { NOTHING_PASSES, SCORE_BINS, scoreCutText } from '../src/eval/fprate.js';
import type { RunData } from '../src/report/load.js';
import type { EpochRecord, ResolvedRun } from '../src/schema/run.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-plan-'));
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));

test('the seed plan holds every comparison of the slides, around the seed preset', () => {
  const s = seedPlanDefaults(true);
  const ex = seedExperiments(s);
  const groups = new Set(ex.map((e) => e.group));
  for (const g of [
    'reference',
    'spread',
    'statistics',
    'objectness-loss',
    'objectness-target',
    'warmup',
    'augmentation',
    'owner-grid',
    'batch-lr',
  ] satisfies ExperimentGroup[]) {
    assert.ok(groups.has(g), g);
  }
  // 3 seeds of the reference, 6 single comparisons, the 3 × 3 grid without its reference point.
  assert.equal(ex.length, 1 + 2 + 6 + 8);
  assert.equal(new Set(ex.map((e) => e.name)).size, ex.length, 'unique run names');
  const plan = planSweep(join(dir, 'sweep.json'), seedSweep(s, join(dir, 'd.h5'), join(dir, 'runs'), 1), { threadsPerRun: 1 });
  const cfg = (name: string) => plan.points.find((p) => p.name === name)!.config;
  assert.deepEqual(
    plan.points.map((p) => p.name),
    ex.map((e) => e.name),
    'run directories are named after the experiments',
  );
  const ref = cfg('reference');
  assert.equal(ref.loss.objScale, 50, 'the seed preset is under every run');
  assert.equal(ref.batch, 8);
  assert.equal(ref.optimizer.lr, 1e-4);
  assert.equal(ref.loss.objLoss, 'mse');
  assert.equal(cfg('obj-bce').loss.objLoss, 'bce');
  assert.equal(cfg('target-iou').loss.objTarget, 'iou');
  assert.equal(cfg('no-warmup').warmupEpochs, 0);
  assert.equal(cfg('low-stats').trainLimit, s.lowStats);
  assert.equal(cfg('owner-grid').loss.compat.trueBoxUnits, 'owner-grid');
  assert.ok(
    cfg('augment').augment.flipChannels > 0 &&
      cfg('augment').augment.timeJitter > 0 &&
      cfg('augment').augment.tpDropout > 0 &&
      cfg('augment').augment.noiseTps > 0,
  );
  assert.equal(cfg('batch16-lr1e-3').batch, 16);
  assert.equal(cfg('batch16-lr1e-3').optimizer.lr, 1e-3);
  assert.equal(cfg('reference-seed3').seed, 3);
  assert.equal(ref.augment.flipChannels, 0, 'the reference has no augmentation');
});

test('the expected time of the remaining runs scales with what the finished runs measured', () => {
  const est = { a: 100, b: 100, c: 50, d: 200 };
  // a and b took twice their estimate; c and d remain, two at a time.
  const r = revisedEstimate(
    est,
    [
      { name: 'a', seconds: 180 },
      { name: 'b', seconds: 220 },
    ],
    ['c', 'd'],
    2,
  )!;
  assert.equal(r.ratio, 2);
  assert.equal(r.remainingSeconds, ((50 + 200) * 2) / 2);
  // Runs without an estimate (an older plan's) say nothing.
  assert.equal(revisedEstimate(est, [{ name: 'x', seconds: 10 }], ['c'], 1), null);
});

test('the end point takes the lowest histogram edge whose FP rate meets the target, or says it is unreachable', () => {
  const counts = new Array<number>(SCORE_BINS).fill(0);
  counts[500] = 20; // 20 FPs at score 0.500
  counts[900] = 5; //   5 FPs at score 0.900
  const images = 10_000;
  const hz = (n: number) => fpPerImageToHz(n / images);
  const between = (hz(5) + hz(25)) / 2;
  const t = thresholdForRate({ images, counts }, between);
  assert.equal(t.threshold, 0.501, 'above the 0.5 FPs, at the 0.9 ones');
  assert.equal(t.fpCount, 5);
  assert.ok(t.fpHz <= between && t.fpHzInterval[0] < t.fpHz && t.fpHzInterval[1] > t.fpHz);
  assert.equal(thresholdForRate({ images, counts }, hz(25) * 1.01).threshold, 0, 'every FP allowed: threshold 0');
  // Nothing above 0.9: zero FPs, but 10 000 images cannot show a rate below their 90 % upper limit (2.3 FPs).
  const low = thresholdForRate({ images, counts }, hz(1));
  assert.equal(low.threshold, null);
  assert.equal(low.fpCount, 0);
  assert.ok(Math.abs(low.fpHzInterval[1] - hz(2.302585)) / hz(2.3) < 1e-3);
});

test('a network whose scores saturate at 1: when even the top bin exceeds the rate, the cut passes nothing, not the boxes of score 1', () => {
  // A poorly trained sparse-yolov3 (2026-12-05) put ≈ 500 of 50 000 background images' FPs at score
  // ≥ 0.999, many at exactly 1 (float32 sigmoid). The old cut "score ≥ 1" claimed 0 FP and let them pass.
  const counts = new Array<number>(SCORE_BINS).fill(0);
  counts[999] = 30; // [0.999, 1]: score 1 is kept here
  counts[400] = 100;
  const images = 50_000;
  const hz = (n: number) => fpPerImageToHz(n / images);
  const t = thresholdForRate({ images, counts }, hz(10));
  assert.equal(t.threshold, NOTHING_PASSES);
  assert.equal(t.fpCount, 0);
  assert.ok(!(1 >= t.threshold!), 'a box of score exactly 1 does not pass');
  assert.equal(scoreCutText(t.threshold!), 'nothing passes (score > 1)');
  // A rate that allows the top bin's 30: the cut is just above the 0.4 FPs, and it passes the saturated boxes.
  const top = thresholdForRate({ images, counts }, hz(30));
  assert.equal(top.threshold, 0.401);
  assert.equal(top.fpCount, 30);
  assert.equal(scoreCutText(top.threshold!), 'score ≥ 0.401');
});

test("the baseline's ΣADC cut for a target rate leaves at most the allowed candidates, ties included", () => {
  const images = 10_000;
  const hz = (n: number) => fpPerImageToHz(n / images);
  const sumAdc = [...new Array<number>(20).fill(1600), ...new Array<number>(5).fill(3000), 2500, 2500];
  const between = (hz(7) + hz(8)) / 2; // 7 allowed: the 5 at 3000 and both 2500s
  const t = baselineThresholdForRate({ images, sumAdc }, between);
  assert.equal(t.fpCount, 7);
  assert.ok(t.threshold! > 1600 && t.threshold! < 1600.001, `just above the first candidate cut, got ${t.threshold}`);
  // 6 allowed: a cut between the two 2500s is impossible, so both go (5 left).
  const six = baselineThresholdForRate({ images, sumAdc }, (hz(6) + hz(7)) / 2);
  assert.equal(six.fpCount, 5);
  assert.ok(six.threshold! > 2500 && six.threshold! <= 3000);
  assert.equal(baselineThresholdForRate({ images, sumAdc }, hz(27) * 1.01).threshold, 0, 'every candidate allowed: no cut');
  const low = baselineThresholdForRate({ images, sumAdc }, hz(1));
  assert.equal(low.threshold, null, '10 000 images cannot show a rate below their 90 % upper limit');
  assert.equal(low.fpCount, 0);
});

// ---- findings on synthetic runs -------------------------------------------------------------

interface Curves {
  conf1?: number[];
  valMap?: number;
  obj?: number[];
  efficiency?: number;
}
const term = (conf1: number, other: number) => ({ xy: other, wh: other, conf1, conf2: other, class: 0, total: conf1 + 3 * other });
function fakeRun(name: string, c: Curves, config: Record<string, unknown> = { batch: 8, optimizer: { lr: 1e-4 } }): RunData {
  const conf1 = c.conf1 ?? [10, 8, 6, 5];
  const epochs = conf1.map((v, i) => ({
    type: 'epoch',
    epoch: i,
    step: i,
    lr: 1e-4,
    seconds: 1,
    warmFraction: 0,
    augment: {},
    best: false,
    train: { objective: 10 - i, scales: [term(v, 5 - i), term(v, 5 - i)] },
    val: {
      objective: 11 - i,
      scales: [term(v * 1.1, 5.5 - i), term(v * 1.1, 5.5 - i)],
      images: 10,
      map50: c.valMap ?? 0.1,
      ap50: null,
      stats: [0, 1].map(() => ({
        count: 5,
        avgObj: c.obj?.[i] ?? 0.6,
        avgNoobj: 0.01,
        avgIou: 0.5,
        recall50: 0.5,
        recall75: 0.1,
        objHist: [],
        iouHist: [],
        objectness: [],
        iou: [],
      })),
    },
  })) as unknown as EpochRecord[];
  const run = { config, size: 64, anchors: [[[1, 1]], [[1, 1]]], strides: [32, 16], classNames: ['snnu'], trainImages: 100 } as unknown as ResolvedRun;
  const evals =
    c.efficiency === undefined
      ? {}
      : { eval: { trigger: { efficiency: { integrated: { all: { efficiency: c.efficiency, stdErr: 0.01 } } }, falsePositives: {} } } };
  return { dir: `/runs/${name}`, label: name, run, epochs, batches: [], done: null, evals } as unknown as RunData;
}
const ex = seedExperiments(seedPlanDefaults(true));
function planRuns(runs: Record<string, Curves>): PlanRuns {
  const m: PlanRuns = new Map();
  for (const [name, c] of Object.entries(runs)) m.set(name, { experiment: ex.find((e) => e.name === name) as Experiment, run: fakeRun(name, c) });
  return m;
}
const href = (g: string, id: string) => `comparisons/${g}.html#${id}`;

test("findings: conf1 that stays flat on one scale, objectness that decays, differences judged against the seeds' spread", () => {
  const runs = planRuns({
    reference: { conf1: [10, 10, 9.8, 9.7], valMap: 0.1, efficiency: 0.5 },
    'reference-seed2': { valMap: 0.12, efficiency: 0.52 },
    'reference-seed3': { valMap: 0.11, efficiency: 0.51 },
    'no-warmup': { valMap: 0.3 },
    'owner-grid': { valMap: 0.115 },
    'obj-bce': { obj: [0.3, 0.02, 0.01, 0.01], efficiency: 0.7 },
  });
  const spread = spreadOf(runs);
  assert.equal(spread.seeds, 3);
  assert.ok(Math.abs(spread.valMap! - 0.01) < 1e-12, 'sample std of 0.10, 0.12, 0.11');
  const f = Object.fromEntries(seedFindings(runs, href).map((x) => [x.id, x]));
  assert.match(f.conf1!.answer, /does not optimise .* on the coarse and intermediate scales/, 'conf1 falls by 3 % only');
  assert.match(f['objectness-decay']!.answer, /obj-bce coarse \(below 0.05 from epoch 2, i\.e\. almost at once\)/);
  assert.doesNotMatch(f['objectness-decay']!.answer, /reference coarse \(below/);
  assert.equal(f.warmup!.verdict, 'answered', '0.30 vs 0.10 is far beyond 2√2 σ = 0.028');
  assert.match(f.warmup!.answer, /beyond the run-to-run spread/);
  assert.equal(f['owner-grid']!.verdict, 'inconclusive', '0.115 vs 0.10 is within the spread');
  assert.match(f['owner-grid']!.answer, /within the run-to-run spread/);
  assert.match(f.objectness!.answer, /the best is obj-bce, 20\.0 % above reference, beyond the run-to-run spread/, 'the best is judged against the runner-up');
  assert.equal(f.objectness!.verdict, 'answered');
  assert.equal(f.statistics!.verdict, 'missing', 'no low-stats run');
  assert.match(f.statistics!.answer, /low-stats has no finished epoch/);
  assert.equal(f.overfitting!.link!.href, 'comparisons/reference.html#terms-coarse');
});

test('judge: no spread measured or identical seeds make a difference inconclusive', () => {
  assert.equal(judge(0.5, null).real, null);
  assert.equal(judge(0.5, 0).real, null);
  assert.equal(judge(0.05, 0.01).real, true);
  assert.equal(judge(0.02, 0.01).real, false);
});

// ---- the plan end to end, in miniature --------------------------------------------------------

test('study --plan seed --quick runs every experiment, evaluates them, measures the end point, writes findings, and resumes', () => {
  const out = join(dir, 'plan');
  const args = [
    cli,
    'study',
    '--plan',
    'seed',
    '--quick',
    '--out',
    out,
    '--images',
    '40',
    '--size',
    '64',
    '--epochs',
    '2',
    '--width',
    '0.0625',
    '--background',
    '8',
    '--fp-images',
    '64',
    '--low-stats',
    '16',
    '--warmup-epochs',
    '0',
    '--endpoint-epochs',
    '3',
    '--endpoint-patience',
    '1',
  ];
  const dry = spawnSync(process.execPath, [...args, '--dry-run'], { encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stderr, /expected time: .* from \d+ ms per training step of sparse-yolov3-tiny width 0.0625 at 64 px/);
  assert.match(dry.stderr, /then the end point: up to 3 epochs and fprate over 64 images/);
  const tooWarm = spawnSync(process.execPath, [...args, '--warmup-epochs', '2', '--dry-run'], { encoding: 'utf8' });
  assert.equal(tooWarm.status, 1, 'warm-up as long as the runs is refused');
  assert.match(tooWarm.stderr, /--warmup-epochs 2: must be fewer than the plan's 2 epochs/);
  assert.equal(dry.stdout.trim().split('\n').length, 17, 'one line per run');
  assert.ok(!existsSync(out), '--dry-run writes nothing, not even the folder');

  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\(finished runs took \d+\.\d\d× their estimate: the other 16 ≈ /, 'the expected time corrected as runs finish');
  const manifest = JSON.parse(readFileSync(join(out, 'study-plan.json'), 'utf8'));
  assert.equal(manifest.experiments.length, 17);
  assert.deepEqual([manifest.settings.warmupEpochs, manifest.settings.endpointEpochs, manifest.settings.endpointPatience], [0, 3, 1]);
  for (const e of manifest.experiments) {
    assert.ok(existsSync(join(out, 'runs', e.name, 'done.json')), `${e.name} finished`);
    assert.ok(existsSync(join(out, 'runs', e.name, 'eval', 'eval.json')), `${e.name} evaluated`);
  }
  const endpoint = JSON.parse(readFileSync(join(out, 'endpoint.json'), 'utf8'));
  assert.deepEqual(
    endpoint.rows.map((x: { targetHz: number }) => x.targetHz),
    [1, 1.8, 10, 100],
  );
  assert.equal(endpoint.fpImages, 64);
  assert.ok(endpoint.epochs >= 1 && endpoint.epochs <= 3, `end point trained ${endpoint.epochs} of at most 3 epochs`);
  assert.ok(endpoint.differences.length >= 3);
  assert.equal(endpoint.thesis.efficiency, 0.762);
  // Beside it, the clustering trigger at the same rates on as many background images.
  assert.deepEqual(
    endpoint.baseline.rows.map((x: { targetHz: number }) => x.targetHz),
    [1, 1.8, 10, 100],
  );
  assert.equal(endpoint.baseline.fpImages, 64);
  // Every row by every rule, the TP rule first (the headline), for the network and the baseline alike.
  for (const row of [...endpoint.rows, ...endpoint.baseline.rows]) {
    assert.equal(row.efficiency === null, row.threshold === null, 'an efficiency wherever the rate is reachable');
    if (row.threshold === null) continue;
    assert.equal(row.match, 'tps');
    assert.deepEqual(
      row.byRule.map((x: { match: string }) => x.match),
      ['tps', 'iou', 'centre'],
    );
    for (const x of row.byRule)
      assert.ok(x.efficiency >= 0 && x.efficiency <= 1 && x.efficiencySupernova >= 0 && x.efficiencySupernova <= 1, JSON.stringify(x));
  }
  assert.ok(existsSync(join(out, 'endpoint', 'baseline-fprate.json')));
  const { findings } = JSON.parse(readFileSync(join(out, 'findings.json'), 'utf8'));
  const ids = findings.map((f: { id: string }) => f.id);
  for (const id of ['spread', 'overfitting', 'conf1', 'objectness-decay', 'objectness', 'statistics', 'augmentation', 'batch-lr', 'warmup', 'owner-grid'])
    assert.ok(ids.includes(id), id);
  assert.ok(
    findings.every((f: { verdict: string }) => f.verdict !== 'missing'),
    'every run finished',
  );
  // The report's links point at plots that exist in the comparison reports.
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<section id="findings">/);
  assert.match(html, /The trigger it would replace at the same rates/);
  assert.match(html, /Network and baseline at the same FP rate per module, by the same matching rule/);
  assert.ok(ids.includes('endpoint'), "the end point's finding: which trigger wins by the same rule");
  const links = [...html.matchAll(/href="(comparisons\/[a-z-]+\.html)#([a-z0-9-]+)"/g)];
  assert.ok(links.length >= 8, `${links.length} plot links`);
  for (const [, file, id] of links) assert.match(readFileSync(join(out, file!), 'utf8'), new RegExp(`id="${id}"`), `${file}#${id}`);
  assert.equal(readdirSync(join(out, 'comparisons')).length, 9, 'one comparison report per question');

  // Again: everything is reused, nothing trained.
  const again = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resuming .*study-plan\.json \(17 runs\)/);
  assert.doesNotMatch(again.stderr, /: training$/m);
  assert.doesNotMatch(again.stderr, /evaluating/);

  // And as a Slurm array instead of the local pool.
  const slurm = spawnSync(process.execPath, [...args, '--slurm'], { encoding: 'utf8' });
  assert.equal(slurm.status, 0, slurm.stderr);
  assert.match(readFileSync(join(out, 'sweep.sbatch'), 'utf8'), /#SBATCH --array=0-16/);
});
