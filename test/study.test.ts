// The quick start's main command end to end, in miniature: simulate, anchors, train, evaluate the
// untrained and the trained network, report, study.json — and a second call reuses every stage.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDataset } from '../src/data/store.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-study-'));
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));

test('daqyolo study runs every stage and writes study.json, the evaluations and the report', () => {
  const out = join(dir, 'study');
  const args = [
    cli,
    'study',
    '--out',
    out,
    '--images',
    '40',
    '--epochs',
    '1',
    '--size',
    '64',
    '--width',
    '0.0625',
    '--background',
    '8',
    '--baseline-background',
    '40',
    '--workers',
    '0',
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const stage of ['[1/6]', '[2/6]', '[3/6]', '[4/6]', '[5/6]', '[6/6]']) assert.ok(r.stderr.includes(stage), `stage ${stage}`);
  const summary = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8'));
  for (const who of ['untrained', 'trained']) {
    for (const k of ['map50', 'efficiency', 'fpHz', 'operatingPoints']) assert.ok(k in summary[who], `${who}.${k}`);
  }
  for (const k of ['efficiency', 'fpHz', 'operatingPoints', 'backgroundImages']) assert.ok(k in summary.baseline, `baseline.${k}`);
  assert.equal(summary.baseline.backgroundImages, 40);
  assert.ok(existsSync(join(out, 'run', 'baseline', 'eval.json')), 'the baseline beside the run, for the report');
  assert.match(r.stdout, /at 100 Hz per module: network .* baseline /);
  // Both by the default TP rule, side by side at the same rates, flat and over the supernova spectrum.
  assert.match(r.stdout, /network and baseline by the same rule — ≥ 2 of the interaction's TPs/);
  assert.deepEqual([summary.trained.match, summary.baseline.match, summary.comparison.match], ['tps', 'tps', 'tps']);
  assert.deepEqual(
    summary.comparison.rates.map((x: { targetHz: number }) => x.targetHz),
    [1, 10, 100],
  );
  assert.ok('efficiencySupernova' in summary.trained && 'efficiencySupernovaErr' in summary.trained.operatingPoints[0]);
  // The study's dataset stores the TPs with their owners (the TP rule reads them).
  const h5 = openDataset(join(out, 'snnu.h5'));
  try {
    assert.ok(h5.tps(0) !== null, 'TPs stored');
  } finally {
    h5.close();
  }
  assert.ok(existsSync(join(out, 'run', 'eval', 'eval-init.json')) && existsSync(join(out, 'run', 'eval', 'eval-best.json')));
  assert.ok(statSync(join(out, 'report.html')).size > 10_000);
  assert.match(r.stdout, /untrained network: mAP@0.5/);
  // Again: the dataset and the finished run are reused, not redone.
  const again = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /using the existing dataset/);
  assert.match(again.stderr, /using the finished run/);
  assert.match(again.stderr, /using the existing baseline/);
});
