// Files a user can edit or hand over are read through a schema: a corrupted config.json,
// metrics.jsonl, sweep.json, study-plan.json, evaluation JSON (eval, baseline, burst), endpoint.json
// or baseline fprate state fails with one line naming the file, the field and
// the value found, and a file as daqyolo writes it passes unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/errors.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { parseMetricsRecords, readDoneRecord, readResolvedRun, type ResolvedRun } from '../../src/schema/run.js';
import { readSweepFile } from '../../src/sweep/plan.js';
import { readStudyManifest, seedExperiments, seedPlanDefaults, type StudyManifest } from '../../src/study/seed-plan.js';
import { openRun } from '../../src/infer/open-run.js';
import { readBaselineReport, readEvaluateReport, type BaselineReport, type EvaluateReport } from '../../src/schema/evaluation.js';
import { readBurstReport } from '../../src/schema/burst.js';
import { evaluateTrigger, type Detection, type TriggerImage } from '../../src/eval/efficiency.js';
import { evaluateDetections } from '../../src/infer/map.js';
import { burstReport, readTriggerReport } from '../../src/eval/burst.js';
import { BURST_MODELS } from '../../src/sim/supernova.js';
import { readBaselineFpState, type BaselineFpState } from '../../src/eval/fprate.js';
import { defaultClusterParams } from '../../src/trigger/cluster.js';
import { loadRun } from '../../src/report/load.js';
import { THESIS, endpointRow, readEndpointResult, unreachableRow, type EndpointResult, type RateThreshold } from '../../src/study/endpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'dq-json-reads-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `value` to `name` in the test folder and returns the path. */
function file(name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return p;
}

/** The error `fn` throws: a UserError of one line matching every pattern. */
function oneLine(fn: () => unknown, ...patterns: RegExp[]): string {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
  const msg = (err as Error).message;
  assert.ok(!msg.includes('\n'), `more than one line: ${msg}`);
  for (const p of patterns) assert.match(msg, p);
  return msg;
}

const run: ResolvedRun = {
  config: parseTrainConfig({ data: 'snnu.h5', out: 'run' }),
  size: 160,
  inputScale: 0.5,
  anchors: [
    [
      [18.5, 19.6],
      [40.4, 14],
      [36.4, 31.1],
    ],
    [
      [1.8, 1.8],
      [8.2, 6],
      [18.6, 8.4],
    ],
  ],
  strides: [32, 16],
  classNames: ['snnu'],
  channels: 1,
  device: 'cpu',
  threads: 1,
  trainImages: 80,
  valImages: 10,
  batchesPerEpoch: 10,
  warmupBatches: 0,
};
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test("a run's config.json: as written it passes unchanged; a wrong or missing field is named with its value", () => {
  const good = file('config.json', run);
  assert.deepEqual(readResolvedRun(good), run);

  const wide = clone(run) as unknown as { config: { model: { width: unknown } } };
  wide.config.model.width = 'wide';
  oneLine(() => readResolvedRun(file('config.json', wide)), /config\.json: field config\.model\.width: /, /found "wide"/);

  const noAnchors = clone(run) as Partial<ResolvedRun>;
  delete noAnchors.anchors;
  oneLine(() => readResolvedRun(file('config.json', noAnchors)), /config\.json: field anchors: /, /missing/);

  const badVariant = clone(run) as unknown as { config: { model: { variant: unknown } } };
  badVariant.config.model.variant = 'yolov9';
  oneLine(() => readResolvedRun(file('config.json', badVariant)), /field config\.model\.variant/, /found "yolov9"/);

  oneLine(() => readResolvedRun(file('config.json', '{"size": 160,')), /config\.json: not valid JSON/);

  // openRun (evaluate, detect, fprate, export) reads it the same way, before any checkpoint.
  const strides = clone(run) as unknown as { strides: unknown };
  strides.strides = [32, 'sixteen'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(strides));
  oneLine(() => openRun(dir), /config\.json: field strides\.1: /, /found "sixteen"/);
});

test("a run's done.json: as the trainer writes it it passes; a wrong field is named", () => {
  const done = { reason: 'early-stop', epochs: 7, step: 70, bestValLossPerImage: 12.5 };
  assert.deepEqual(readDoneRecord(file('done.json', done)), done);
  oneLine(() => readDoneRecord(file('done.json', { ...done, epochs: 'seven' })), /done\.json: field epochs: /, /found "seven"/);
});

test('metrics.jsonl: each line is checked, the error names file:line and the field; a half-written last line is skipped', () => {
  const batch = {
    type: 'batch',
    step: 1,
    epoch: 0,
    batch: 0,
    lr: 1e-4,
    warm: 1,
    size: 160,
    objective: 12.5,
    collisions: 0,
    scales: [{ xy: 1, wh: 2, total: 3 }],
  };
  const epoch = {
    type: 'epoch',
    epoch: 1,
    step: 10,
    lr: 1e-4,
    seconds: 3,
    warmFraction: 1,
    train: { objective: 10, scales: [{ total: 3 }] },
    val: { objective: 9, lossPerImage: 8, scales: [{ total: null }], images: 10, stats: [], map50: null, ap50: null },
    augment: {},
    best: true,
  };
  const text = [batch, epoch].map((r) => JSON.stringify(r)).join('\n') + '\n{"type": "ba';
  assert.deepEqual(parseMetricsRecords(text, 'run/metrics.jsonl'), [batch, epoch]);

  // The numbers every reader indexes by are checked first (schema/run.ts badRecord, issue 30).
  oneLine(
    () => parseMetricsRecords(JSON.stringify(batch) + '\n' + JSON.stringify({ ...epoch, epoch: 'one' }) + '\n', 'run/metrics.jsonl'),
    /^run\/metrics\.jsonl:2: epoch record with epoch "one"/,
  );
  oneLine(
    () => parseMetricsRecords(JSON.stringify({ ...batch, lr: 'fast' }) + '\n', 'run/metrics.jsonl'),
    /^run\/metrics\.jsonl:1: field lr: /,
    /found "fast"/,
  );
  oneLine(
    () => parseMetricsRecords(JSON.stringify({ ...batch, type: 'bach' }) + '\n', 'run/metrics.jsonl'),
    /^run\/metrics\.jsonl:1: field type: /,
    /found "bach"/,
  );
  oneLine(
    () => parseMetricsRecords(JSON.stringify({ ...epoch, val: { ...epoch.val, scales: [{ total: 'x' }] } }) + '\n', 'm.jsonl'),
    /^m\.jsonl:1: field val\.scales\.0\.total: /,
    /found "x"/,
  );
  // A broken line that is not the last one is not a record being written.
  oneLine(() => parseMetricsRecords('{"type": \n' + JSON.stringify(batch) + '\n', 'm.jsonl'), /^m\.jsonl:1: not valid JSON/);
});

test('sweep.json: a wrong field is named; a good one is read with its defaults', () => {
  const good = readSweepFile(file('sweep.json', { out: 'runs', base: { data: 'd.h5' }, grid: { batch: [4, 8] } }));
  assert.equal(good.parallel, 1);
  assert.deepEqual(good.grid, { batch: [4, 8] });
  oneLine(() => readSweepFile(file('sweep.json', { out: 'runs', grid: { batch: [] } })), /sweep\.json: field grid\.batch: /, /found \[\]/);
  oneLine(() => readSweepFile(file('sweep.json', { out: 'runs', parallel: 'two' })), /sweep\.json: field parallel: /, /found "two"/);
  oneLine(() => readSweepFile(join(dir, 'no-such-sweep.json')), /no-such-sweep\.json: cannot read/);
});

test('study-plan.json: as the plan writes it it passes unchanged; a corrupted setting or experiment is named', () => {
  const settings = seedPlanDefaults(true);
  const manifest: StudyManifest = {
    plan: 'seed',
    settings,
    data: '/tmp/p/snnu.h5',
    sweepFile: '/tmp/p/sweep.json',
    runsDir: '/tmp/p/runs',
    experiments: seedExperiments(settings),
    estimatedSeconds: { reference: 60 },
  };
  assert.deepEqual(readStudyManifest(file('study-plan.json', manifest)), manifest);

  const images = clone(manifest) as unknown as { settings: { images: unknown } };
  images.settings.images = -5;
  oneLine(() => readStudyManifest(file('study-plan.json', images)), /study-plan\.json: field settings\.images: /, /found -5/);

  const group = clone(manifest) as unknown as { experiments: { group: unknown }[] };
  group.experiments[1]!.group = 'objectness';
  oneLine(() => readStudyManifest(file('study-plan.json', group)), /study-plan\.json: field experiments\.1\.group: /, /found "objectness"/);

  const noRuns = clone(manifest) as Partial<StudyManifest>;
  delete noRuns.runsDir;
  oneLine(() => readStudyManifest(file('study-plan.json', noRuns)), /field runsDir: .*\(missing\)/);
});

// ---- The evaluation JSON a user hands over (issue 28): eval/<split>.json, baseline/<split>.json,
// burst/<name>.json, a plan's endpoint.json and the baseline's fprate state. The fixtures are made by
// the writers' own functions (evaluateTrigger, evaluateDetections, burstReport, endpointRow) and typed
// by the record types, so "as written" means as daqyolo writes them.

const box = (x: number, y: number): [number, number, number, number] => [x, y, x + 20, y + 30];
const detAt = (b: [number, number, number, number], score: number): Detection => ({ x1: b[0], y1: b[1], x2: b[2], y2: b[3], score, cls: 0 });
const triggerImages: TriggerImage[] = [
  {
    interactions: [
      { energyMeV: 12, box: box(0, 0) },
      { energyMeV: 30, box: box(100, 100) },
      { energyMeV: 5, box: null },
    ],
    detections: [detAt(box(1, 0), 0.9), detAt(box(300, 300), 0.4)],
  },
  { interactions: [{ energyMeV: 50, box: box(50, 50) }], detections: [detAt(box(50, 51), 0.7)] },
];
const background: TriggerImage[] = Array.from({ length: 50 }, (_, i) => ({
  interactions: [],
  detections: i % 10 === 0 ? [detAt(box(0, 0), 0.3 + i / 100)] : [],
}));
const trigger = evaluateTrigger(triggerImages, { match: 'iou' }, background);
const centreTrigger = evaluateTrigger(triggerImages, { match: 'centre' }, background);
const evalReport: EvaluateReport = {
  run: 'run',
  checkpoint: 'best',
  checkpointMeta: { epoch: 3 },
  data: 'snnu.h5',
  split: 'eval',
  images: 2,
  backgroundImages: 50,
  loss: { objective: 12.5, scales: [{ xy: 1, wh: 2, conf1: 3, conf2: 4, class: 0, total: 10 }] },
  detections: { perScale: [3, 1], scoreThreshold: 0.005, nmsIou: 0.45 },
  map: evaluateDetections([{ truths: [{ box: box(0, 0), cls: 0 }], detections: [detAt(box(1, 0), 0.9), detAt(box(300, 300), 0.4)] }]),
  trigger,
  otherRules: [centreTrigger],
};
const baselineReport: BaselineReport = {
  algorithm: 'TDR clustering',
  params: defaultClusterParams(),
  data: 'snnu.h5',
  split: 'eval',
  images: 2,
  backgroundImages: 50,
  seconds: 1.5,
  trigger: centreTrigger,
};

/** `value` with `edit` applied to a deep copy. */
function edited<T>(value: T, edit: (v: any) => void): unknown {
  const v = clone(value);
  edit(v);
  return v;
}

test('eval/<split>.json: as evaluate writes it (and as written before the TP rule) it passes; a truncated file or a wrong-typed field is one line', () => {
  assert.deepEqual(readEvaluateReport(file('eval.json', evalReport)), clone(evalReport));
  // Before issue 26: no `match`, no supernova average, no FP-rate interval at the operating points, no other rules.
  const old = edited(evalReport, (v) => {
    delete v.trigger.match;
    delete v.trigger.efficiency.supernova;
    for (const p of v.trigger.operatingPoints) delete p.fpHzInterval;
    delete v.otherRules;
  });
  assert.deepEqual(readEvaluateReport(file('eval.json', old)), old);
  oneLine(() => readEvaluateReport(file('eval.json', JSON.stringify(evalReport).slice(0, 200))), /eval\.json: not valid JSON/);
  const count = edited(evalReport, (v) => (v.trigger.falsePositives.count = '3'));
  oneLine(() => readEvaluateReport(file('eval.json', count)), /eval\.json: field trigger\.falsePositives\.count: /, /found "3"/);
  const ap = edited(evalReport, (v) => (v.map.perClass[0].ap50 = 'high'));
  oneLine(() => readEvaluateReport(file('eval.json', ap)), /eval\.json: field map\.perClass\.0\.ap50: /, /found "high"/);
  const bins = edited(evalReport, (v) => (v.otherRules[0].efficiency.bins[2].all = null));
  oneLine(() => readEvaluateReport(file('eval.json', bins)), /eval\.json: field otherRules\.0\.efficiency\.bins\.2\.all: /, /found null/);
});

test('baseline/<split>.json: as baseline writes it it passes; a truncated file or a wrong-typed field is one line', () => {
  assert.deepEqual(readBaselineReport(file('baseline.json', baselineReport)), clone(baselineReport));
  oneLine(() => readBaselineReport(file('baseline.json', '{"algorithm": "TDR clustering", "params": {')), /baseline\.json: not valid JSON/);
  const minHits = edited(baselineReport, (v) => (v.params.minHits = 'two'));
  oneLine(() => readBaselineReport(file('baseline.json', minHits)), /baseline\.json: field params\.minHits: /, /found "two"/);
  const op = edited(baselineReport, (v) => (v.trigger.operatingPoints[0].targetHz = '1 Hz'));
  oneLine(() => readBaselineReport(file('baseline.json', op)), /baseline\.json: field trigger\.operatingPoints\.0\.targetHz: /, /found "1 Hz"/);
});

test('burst/<name>.json: as burst writes it it passes; a truncated file or a wrong-typed field is one line', () => {
  const burst = burstReport(trigger, { kind: 'network', source: 'run/eval/eval.json', model: BURST_MODELS.livermore!, trials: 200, windowsS: [1] });
  assert.deepEqual(readBurstReport(file('burst.json', burst)), clone(burst));
  oneLine(() => readBurstReport(file('burst.json', JSON.stringify(burst).slice(0, -10))), /burst\.json: not valid JSON/);
  const p = edited(burst, (v) => (v.curve[3].probability = 'likely'));
  oneLine(() => readBurstReport(file('burst.json', p)), /burst\.json: field curve\.3\.probability: /, /found "likely"/);
  const rule = edited(burst, (v) => (v.rule.minCount = 2.5));
  oneLine(() => readBurstReport(file('burst.json', rule)), /burst\.json: field rule\.minCount: /, /found 2\.5/);
});

test("readTriggerReport (burst's input): a wrong-typed trigger field is named", () => {
  const k = edited(evalReport, (v) => (v.trigger.efficiency.bins[0].all.k = -1));
  oneLine(() => readTriggerReport(file('eval.json', k)), /eval\.json: field trigger\.efficiency\.bins\.0\.all\.k: /, /found -1/);
  oneLine(() => readTriggerReport(file('eval.json', '{"trigger": {"matchRule": ')), /eval\.json: not valid JSON/);
});

test('a run read by the report: a damaged eval, baseline or burst JSON stops it naming the file; a JSON of another kind in eval/ is skipped', () => {
  const runDir = join(dir, 'report-run');
  for (const d of ['eval', 'baseline', 'burst']) mkdirSync(join(runDir, d), { recursive: true });
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(run));
  writeFileSync(join(runDir, 'eval', 'eval.json'), JSON.stringify(evalReport));
  writeFileSync(join(runDir, 'eval', 'notes.json'), JSON.stringify({ note: 'not an evaluation' }));
  writeFileSync(join(runDir, 'baseline', 'eval.json'), JSON.stringify(baselineReport));
  const r = loadRun(runDir);
  assert.deepEqual(Object.keys(r.evals), ['eval']);
  assert.deepEqual(Object.keys(r.baselines), ['eval']);
  writeFileSync(join(runDir, 'eval', 'val.json'), JSON.stringify(edited(evalReport, (v) => (v.images = 'ten'))));
  oneLine(() => loadRun(runDir), /eval\/val\.json: field images: /, /found "ten"/);
  rmSync(join(runDir, 'eval', 'val.json'));
  writeFileSync(join(runDir, 'baseline', 'val.json'), JSON.stringify(baselineReport).slice(0, 100));
  oneLine(() => loadRun(runDir), /baseline\/val\.json: not valid JSON/);
  rmSync(join(runDir, 'baseline', 'val.json'));
  writeFileSync(join(runDir, 'burst', 'network-eval.json'), JSON.stringify({ curve: [], trigger: 'network' }));
  oneLine(() => loadRun(runDir), /burst\/network-eval\.json: field /);
});

test("a plan's endpoint.json: as the plan writes it (and as written before the TP rule) it passes; a truncated file or a wrong-typed field is one line", () => {
  const reachable: RateThreshold = { targetHz: 10, threshold: 0.5, fpCount: 2, fpHz: 8.9, fpHzInterval: [2.1, 20.3] };
  const unreachable: RateThreshold = { targetHz: 1, threshold: null, fpCount: 0, fpHz: 0, fpHzInterval: [0, 4.5] };
  const endpoint: EndpointResult = {
    experiment: 'reference',
    selectedBy: 'best validation AP@0.5',
    run: 'endpoint/reference',
    checkpoint: 'best',
    epochs: 7,
    stopped: 'early stop after 7 of up to 12 epochs',
    evalImages: 125,
    fpImages: 20000,
    fpImagesPerSecond: 697,
    rows: [unreachableRow(unreachable), endpointRow(reachable, [trigger, centreTrigger])],
    baseline: { algorithm: 'TDR clustering', fpImages: 20000, rows: [endpointRow(reachable, [centreTrigger, trigger])] },
    thesis: THESIS,
    differences: ['simulation: daqyolo, not LArSoft'],
  };
  assert.deepEqual(readEndpointResult(file('endpoint.json', endpoint)), clone(endpoint));
  // Before issue 26: IoU rows without match, byRule or supernova figures, the baseline's centre column; before the baseline end point, no baseline.
  const old = edited(endpoint, (v) => {
    for (const r of [...v.rows, ...v.baseline.rows]) for (const k of ['match', 'byRule', 'efficiencySupernova', 'efficiencySupernovaErr']) delete r[k];
    v.baseline.rows[0].efficiencyCentre = 0.9;
  });
  assert.deepEqual(readEndpointResult(file('endpoint.json', old)), old);
  const noBaseline = edited(endpoint, (v) => delete v.baseline);
  assert.deepEqual(readEndpointResult(file('endpoint.json', noBaseline)), noBaseline);
  oneLine(() => readEndpointResult(file('endpoint.json', JSON.stringify(endpoint).slice(0, 300))), /endpoint\.json: not valid JSON/);
  const fpHz = edited(endpoint, (v) => (v.rows[1].fpHz = '8.9 Hz'));
  oneLine(() => readEndpointResult(file('endpoint.json', fpHz)), /endpoint\.json: field rows\.1\.fpHz: /, /found "8\.9 Hz"/);
  const rule = edited(endpoint, (v) => (v.baseline.rows[0].byRule[1].match = 'overlap'));
  oneLine(() => readEndpointResult(file('endpoint.json', rule)), /endpoint\.json: field baseline\.rows\.0\.byRule\.1\.match: /, /found "overlap"/);
});

test("the baseline's fprate state (endpoint/baseline-fprate.json): as the stream saves it it passes; a truncated file or a wrong-typed field is one line", () => {
  const state: BaselineFpState = {
    data: 'snnu.h5',
    seed: 1,
    start: 1_000_100,
    params: defaultClusterParams(),
    images: 256,
    sumAdc: [1200, 3400.5],
    seconds: 1.5,
  };
  assert.deepEqual(readBaselineFpState(file('baseline-fprate.json', state)), state);
  oneLine(() => readBaselineFpState(file('baseline-fprate.json', JSON.stringify(state).slice(0, 50))), /baseline-fprate\.json: not valid JSON/);
  oneLine(
    () => readBaselineFpState(file('baseline-fprate.json', { ...state, sumAdc: [1200, 'big'] })),
    /baseline-fprate\.json: field sumAdc\.1: /,
    /found "big"/,
  );
  oneLine(() => readBaselineFpState(file('baseline-fprate.json', { ...state, images: -1 })), /field images: /, /found -1/);
  // With other clusterings (--cluster-variants): each keeps its largest ΣADC and how many it dropped.
  const variants = { ...state, variants: [{ params: { ...defaultClusterParams(), channelTolerance: 8 }, sumAdc: [5000], keep: 20_000, dropped: 0 }] };
  assert.deepEqual(readBaselineFpState(file('baseline-fprate.json', variants)), variants);
  const noKeep = { ...variants, variants: [{ ...variants.variants[0]!, keep: 0 }] };
  oneLine(() => readBaselineFpState(file('baseline-fprate.json', noKeep)), /field variants\.0\.keep: /, /found 0/);
});

test("train --resume reads the run's config.json through its schema: a damaged one is one line, before anything runs", () => {
  const runDir = join(dir, 'resume-run');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'config.json'), JSON.stringify(edited(run, (v) => delete v.config)));
  const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
  const r = spawnSync(process.execPath, [cli, 'train', '--resume', runDir], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^daqyolo: .*resume-run\/config\.json: field config: .*\(missing\)$/);
});
