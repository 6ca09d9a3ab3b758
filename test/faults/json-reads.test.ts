// Files a user can edit or hand over are read through a schema: a corrupted config.json,
// metrics.jsonl, sweep.json or study-plan.json fails with one line naming the file, the field and
// the value found, and a file as daqyolo writes it passes unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { parseMetricsRecords, readDoneRecord, readResolvedRun, type ResolvedRun } from '../../src/schema/run.js';
import { readSweepFile } from '../../src/sweep/plan.js';
import { readStudyManifest, seedExperiments, seedPlanDefaults, type StudyManifest } from '../../src/study/seed-plan.js';
import { openRun } from '../../src/infer/open-run.js';

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
