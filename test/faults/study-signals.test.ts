// SIGTERM in the middle of the default study's training (issue 28: the study's hand-written SIGINT
// handler became cli/signals.ts's onStopSignals, so SIGTERM is handled too): training stops after
// its current batch and saves `last`, the study says how to resume and exits non-zero, and the
// same command resumes the run and finishes every stage.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, start, metrics, waitFor } from './fixture.js';
import { readCheckpointMeta } from '../../src/nn/serialize.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-study-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("SIGTERM during the default study's training: stops after the current batch with last saved; the same command resumes and finishes", async () => {
  const out = join(dir, 'study');
  // 160 training images at batch 8: 20 batches per epoch, 2 epochs.
  const args = [
    'study',
    '--out',
    out,
    '--images',
    '200',
    '--epochs',
    '2',
    '--size',
    '128',
    '--background',
    '20',
    '--baseline-background',
    '40',
    '--workers',
    '1',
  ];
  const child = start(args);
  const batches = () => (existsSync(join(out, 'run', 'metrics.jsonl')) ? metrics(join(out, 'run')).filter((m) => m.type === 'batch').length : 0);
  await waitFor(() => batches() >= 3, 120_000, 'three training batches of the study');
  const seen = batches();
  child.kill('SIGTERM');
  const code = await child.exited;
  assert.notEqual(code, 0, 'an interrupted study is not a success');
  assert.match(child.output(), /SIGTERM: stopping after the current batch/);
  assert.match(child.output(), /study interrupted; run the same command again to resume/);
  const done = batches();
  assert.ok(done >= seen && done < 40, `stopped after the current batch: ${seen} seen at the signal, ${done} done`);
  const meta = readCheckpointMeta(join(out, 'run', 'checkpoints', 'last.safetensors'));
  assert.equal(meta.step, done, 'last saved at the batch it stopped after');
  assert.ok(!existsSync(join(out, 'study.json')), 'no summary of an unfinished study');
  const r = run(args);
  assert.equal(r.status, 0, r.stderr.slice(-800));
  assert.match(r.stderr, /\[3\/6\] training .* \(resuming\)/);
  assert.equal(batches(), 40, 'the resumed run trains the remaining batches only');
  const summary = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8'));
  assert.equal(summary.validation.last.epoch, 1, 'both epochs (numbered from 0) trained');
});
