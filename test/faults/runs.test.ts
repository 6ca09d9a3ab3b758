// Damaged or partial run directories: NaN weights refused by evaluate, export-onnx and detect;
// `report` on a run with fprate but no evaluate; a missing or unreadable `last` names what is
// usable; file-system errors (read-only folder, missing paths) are one line in every command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, errorLines, tinyDataset, trainArgs, mountTmpfs } from './fixture.js';
import { loadSafetensors, saveSafetensors, tensor } from '../../src/torch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-runs-'));
const data = join(dir, 'tiny.h5');
const trained = join(dir, 'trained');
let ro: { path: string; unmount: () => void } | null = null;
before(async () => {
  await tinyDataset(data);
  const r = run(trainArgs(data, trained, 1));
  assert.equal(r.status, 0, r.stderr);
  ro = mountTmpfs(dir, 'ro', '1m', 'ro');
});
after(() => {
  ro?.unmount();
  rmSync(dir, { recursive: true, force: true });
});

test('a checkpoint with NaN weights is refused by evaluate, export-onnx and detect, naming the tensor', () => {
  const content = loadSafetensors(join(trained, 'checkpoints', 'last.safetensors'));
  const [name, t] = [...content.tensors].find(([k, v]) => !k.startsWith('optim.') && v.dtype === 'float32')!;
  const values = Float32Array.from(t.dataSync() as Float32Array);
  values[0] = NaN;
  content.tensors.set(name, tensor(values, { shape: t.shape }));
  const nan = join(dir, 'nan.safetensors');
  saveSafetensors(nan, content.tensors, content.metadata);
  const want = `daqyolo: ${nan}: tensor '${name}' holds NaN or infinite values; its detections would be meaningless (train diverged?): use another checkpoint (--checkpoint best, last or init)`;
  for (const args of [
    ['evaluate', trained, '--data', data, '--checkpoint', nan],
    ['export-onnx', trained, '--out', join(dir, 'm.onnx'), '--checkpoint', nan],
    ['detect', trained, data, '--out', join(dir, 'det'), '--indices', '0-1', '--checkpoint', nan],
  ]) {
    const r = run(args);
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr.slice(-300)}`);
    assert.deepEqual(errorLines(r), [want], args[0]);
  }
  assert.ok(!existsSync(join(dir, 'm.onnx')) && !existsSync(join(trained, 'eval', 'eval.json')));
});

test('report on a run with fprate results but no evaluate writes the report', () => {
  const fp = run(['fprate', trained, '--images', '8', '--workers', '0', '--batch', '4']);
  assert.equal(fp.status, 0, fp.stderr.slice(-300));
  const out = join(dir, 'report.html');
  const r = run(['report', trained, '--out', out, '--events', '0']);
  assert.equal(r.status, 0, r.stderr.slice(-500));
  assert.ok(readFileSync(out, 'utf8').includes('<html'));
});

test('a missing or unreadable last: resume and evaluate say that best (or init) is usable, and how', () => {
  const run2 = join(dir, 'no-last');
  cpSync(trained, run2, { recursive: true });
  rmSync(join(run2, 'checkpoints', 'last.safetensors'));
  const r = run(['train', '--resume', run2]);
  assert.equal(r.status, 1);
  assert.deepEqual(errorLines(r), [
    `daqyolo: ${run2}: checkpoints/last.safetensors is missing; checkpoints/best.safetensors is usable: \`daqyolo evaluate ${run2} --checkpoint best\`, or train on from its weights in a new run: \`daqyolo train --init-weights ${join(run2, 'checkpoints', 'best.safetensors')} --out NEW …\``,
  ]);
  const ev = run(['evaluate', run2, '--data', data, '--checkpoint', 'last']);
  assert.equal(ev.status, 1);
  assert.match(errorLines(ev)[0]!, /no checkpoint 'last' \(.*last\.safetensors is missing\); usable: --checkpoint best, --checkpoint init$/);
  // Unreadable (cut short by a disk error outside daqyolo): the same advice after the cause.
  const last = join(trained, 'checkpoints', 'last.safetensors');
  const cut = join(dir, 'cut-last');
  cpSync(trained, cut, { recursive: true });
  writeFileSync(join(cut, 'checkpoints', 'last.safetensors'), readFileSync(last).subarray(0, 1000));
  const r2 = run(['train', '--resume', cut]);
  assert.equal(r2.status, 1);
  assert.match(errorLines(r2)[0]!, /runs past the end of the file .*; checkpoints\/best\.safetensors is usable: `daqyolo evaluate/);
});

test('file-system errors are one line naming the path: read-only folders, missing runs and files', () => {
  const readOnly = ro!.path;
  const cases: [string[], RegExp][] = [
    [trainArgs(data, join(readOnly, 'run'), 1), new RegExp(`^daqyolo: ${join(readOnly, 'run')}: read-only file system \\(mkdir\\)$`)],
    [
      ['report', trained, '--out', join(readOnly, 'r.html'), '--events', '0'],
      new RegExp(`^daqyolo: read-only file system writing ${join(readOnly, 'r.html')}$`),
    ],
    [['export-onnx', trained, '--out', join(readOnly, 'm.onnx')], new RegExp(`^daqyolo: read-only file system writing ${join(readOnly, 'm.onnx')}$`)],
    [['export', 'yolo', data, '--out', join(readOnly, 'y')], new RegExp(`^daqyolo: read-only file system writing ${join(readOnly, 'y')}$`)],
    [
      ['detect', trained, data, '--out', join(readOnly, 'det'), '--indices', '0-1'],
      new RegExp(`^daqyolo: ${join(readOnly, 'det')}: read-only file system \\(mkdir\\)$`),
    ],
    [['report', join(dir, 'no-such-run')], /not a run directory \(no config\.json\)$/],
    [['train', '--resume', join(dir, 'no-such-run')], /not a run directory \(no config\.json\)$/],
    [['show', join(dir, 'none.h5'), '--index', '0', '--out', join(dir, 'x.png')], /none\.h5: no such file$/],
  ];
  for (const [args, want] of cases) {
    const r = run(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr.slice(-300)}`);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `${args[0]}: one line, got ${r.stderr}`);
    assert.match(lines[0]!, want, args.join(' '));
  }
});
