// A run's records damaged or not what a command can use (issue 30): export-onnx of a sparse run,
// a bad epoch record in metrics.jsonl (report), an emptied metrics.jsonl (train --resume), a
// checkpoint header without its epoch record — each one line, no stack, no quiet loss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, tinyDataset, trainArgs } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-records-'));
const data = join(dir, 'tiny.h5');
const sparse = join(dir, 'sparse');
before(async () => {
  await tinyDataset(data);
  const r = run(trainArgs(data, sparse, 2, ['--variant', 'sparse-yolov3-tiny']));
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function copyRun(name: string): string {
  const to = join(dir, name);
  rmSync(to, { recursive: true, force: true });
  cpSync(sparse, to, { recursive: true });
  return to;
}
/** stderr as lines, the progress lines of a non-terminal aside. */
const stderrLines = (s: string) => s.split('\n').filter((l) => l && !/^[^:]*: \d+\/\d+/.test(l));

test('export-onnx of a sparse run: one line, no stack after it', () => {
  const r = run(['export-onnx', sparse, '--out', join(dir, 'm.onnx')]);
  assert.equal(r.status, 1);
  assert.deepEqual(stderrLines(r.stderr), [
    'daqyolo: ONNX export: sparse-yolov3-tiny runs sparse convolutions, which ONNX cannot express; export a dense variant',
  ]);
});

test('report on a run whose last epoch record is bad: one line naming the file and line', () => {
  const r1 = copyRun('bad-epoch');
  const metrics = join(r1, 'metrics.jsonl');
  const lines = readFileSync(metrics, 'utf8').split('\n').filter(Boolean).length;
  appendFileSync(metrics, '{"type":"epoch","epoch":"x"}\n');
  const r = run(['report', r1, '--out', join(dir, 'r.html'), '--events', '0']);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(stderrLines(r.stderr), [
    `daqyolo: ${metrics}:${lines + 1}: epoch record with epoch "x": not a record daqyolo train writes (a damaged or edited line)`,
  ]);
});

test('train --resume with an emptied metrics.jsonl is refused, naming the bytes the checkpoint was saved after', () => {
  const r1 = copyRun('emptied');
  const metrics = join(r1, 'metrics.jsonl');
  const bytes = statSync(metrics).size;
  truncateSync(metrics, 0);
  const r = run(['train', '--resume', r1, '--epochs', '3', '--threads', '1']);
  assert.equal(r.status, 1, r.stderr);
  const lines = stderrLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.equal(
    lines[0]!.replace(/\(step \d+, epoch 2\)/, '(step S, epoch 2)'),
    `daqyolo: ${metrics}: 0 bytes, but the checkpoint being resumed (step S, epoch 2) was saved after ${bytes}: the run's history was cut or emptied; put it back, or train into a new --out`,
  );
  assert.equal(statSync(metrics).size, 0, 'nothing appended');
});

test('a checkpoint header that lost its epoch record is named as such, not "holds epoch NaN"', () => {
  const r1 = copyRun('header');
  for (const name of ['best', 'last']) {
    const f = join(r1, 'checkpoints', `${name}.safetensors`);
    const bytes = readFileSync(f);
    const at = bytes.indexOf('daqyolo.meta');
    assert.ok(at > 0 && at < bytes.readUInt32LE(0) + 8, 'the key is in the header');
    bytes[at] = 'D'.charCodeAt(0); // one flipped byte: the metadata key no longer matches
    writeFileSync(f, bytes);
  }
  const r = run(['export-onnx', r1, '--out', join(dir, 'h.onnx')]);
  assert.equal(r.status, 1);
  const lines = stderrLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(lines[0]!, /NaN/);
  assert.match(
    lines[0]!,
    /best\.safetensors has no epoch record in its header \(damaged\? its metadata daqyolo\.meta is missing or unreadable\) but metrics\.jsonl names epoch \d best/,
  );
});
