// Full disks and unwritable folders (tmpfs mounted by the test, unmounted after): every writer
// exits non-zero with one line, the final name keeps its previous content, no temporary file stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, existsSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, errorLines, tinyDataset, trainArgs, mountTmpfs } from './fixture.js';
import { writeVoc } from '../import/fixture.js';
import { writeFileAtomic, writeAllSync, removeStaleTemps, WriteError } from '../../src/util/atomic-write.js';
import { loadSafetensors, saveSafetensors, tensor } from '../../src/torch/index.js';
import { openDataset } from '../../src/data/store.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-disk-'));
const data = join(dir, 'tiny.h5');
const mounts: (() => void)[] = [];
const small = (name: string, size: string, options = '') => {
  const m = mountTmpfs(dir, name, size, options);
  mounts.push(m.unmount);
  return m.path;
};
before(() => tinyDataset(data));
after(() => {
  for (const u of mounts) u();
  rmSync(dir, { recursive: true, force: true });
});

test('simulate onto a full disk: one line, exit 1, the previous file intact, no partial file', () => {
  const disk = small('sim', '1m');
  writeFileSync(join(disk, 's.h5'), 'previous content');
  const r = run(['simulate', '--out', 's.h5', '--images', '400', '--size', '128', '--force'], { cwd: disk });
  assert.equal(r.status, 1, r.stderr.slice(-500));
  assert.deepEqual(errorLines(r), ['daqyolo: no space left on device writing s.h5']);
  assert.ok(!r.stderr.includes('HDF5-DIAG'), 'no HDF5 error stack');
  assert.equal(readFileSync(join(disk, 's.h5'), 'utf8'), 'previous content');
  assert.deepEqual(readdirSync(disk), ['s.h5']);
});

test('import voc onto a full disk: one line, exit 1, no file at the final name and no import report', () => {
  const voc = join(dir, 'voc');
  writeVoc(voc, 40, [[160, 120]]);
  const disk = small('import', '1m');
  const out = join(disk, 'v.h5');
  const r = run(['import', 'voc', '--images', join(voc, 'JPEGImages'), '--annotations', join(voc, 'Annotations'), '--out', out]);
  assert.equal(r.status, 1, r.stderr.slice(-500));
  assert.deepEqual(errorLines(r), [`daqyolo: no space left on device writing ${out}`]);
  assert.deepEqual(readdirSync(disk), []);
});

test('a read-only folder: one line naming the output, not hundreds of HDF5 lines', () => {
  const ro = small('ro', '1m', 'ro');
  const r = run(['simulate', '--out', 's.h5', '--images', '20', '--size', '32'], { cwd: ro });
  assert.equal(r.status, 1);
  assert.deepEqual(errorLines(r), ['daqyolo: read-only file system writing s.h5']);
  assert.ok(r.stderr.split('\n').filter(Boolean).length <= 3, r.stderr);
  const show = run(['show', data, '--index', '0', '--out', join(ro, 'e.png')]);
  assert.equal(show.status, 1);
  assert.deepEqual(errorLines(show), [`daqyolo: read-only file system writing ${join(ro, 'e.png')}`]);
  const missing = run(['show', data, '--index', '0', '--out', join(dir, 'no-such-folder', 'e.png')]);
  assert.equal(missing.status, 1);
  assert.deepEqual(errorLines(missing), [`daqyolo: no such file or folder writing ${join(dir, 'no-such-folder', 'e.png')}`]);
});

test('training onto a full disk stops with one line; the checkpoints present load; moved, the run resumes', () => {
  const disk = small('train', '3m'); // init + last fit, best's temporary file does not
  const out = join(disk, 'run');
  const r = run(trainArgs(data, out, 2));
  assert.equal(r.status, 1, r.stderr.slice(-800));
  const lines = errorLines(r);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^daqyolo: no space left on device writing .*checkpoints\/(best|last)\.safetensors$/);
  const ckpts = readdirSync(join(out, 'checkpoints'));
  assert.ok(
    ckpts.every((f) => f.endsWith('.safetensors')),
    `no temporary files: ${ckpts}`,
  );
  for (const f of ckpts) assert.doesNotThrow(() => loadSafetensors(join(out, 'checkpoints', f)), f);
  assert.ok(!existsSync(join(out, 'lock')), 'the lock is released');
  // Moved to a disk with room, the run resumes there (its best is rebuilt from last if it was lost).
  const moved = join(dir, 'moved');
  cpSync(out, moved, { recursive: true });
  const resumed = run(['train', '--resume', moved]);
  assert.equal(resumed.status, 0, resumed.stderr.slice(-800));
  assert.ok(existsSync(join(moved, 'done.json')) && existsSync(join(moved, 'checkpoints', 'best.safetensors')));
});

test('safetensors and JSON writers: a full disk keeps the previous file (short writes are not ignored)', () => {
  const disk = small('st', '1m');
  const path = join(disk, 'w.safetensors');
  saveSafetensors(path, { a: tensor(new Float32Array(1000).fill(1), { shape: [1000] }) });
  const before = readFileSync(path);
  assert.throws(
    () => saveSafetensors(path, { a: tensor(new Float32Array(400_000).fill(2), { shape: [400_000] }) }),
    (e: Error) => e instanceof WriteError && e.message === `no space left on device writing ${path}`,
  );
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(readdirSync(disk), ['w.safetensors']);
  // writeAllSync: a write that the disk cuts short is finished or reported, never silently short.
  const fd = openSync(join(disk, 'fill'), 'w');
  try {
    assert.throws(() => writeAllSync(fd, new Uint8Array(2 << 20)), /ENOSPC/);
  } finally {
    closeSync(fd);
  }
});

test('stale temporary files of dead writers are removed the next time that output is written', () => {
  const out = join(dir, 'x.json');
  const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
  writeFileSync(join(dir, `.x.json.tmp-${dead}`), 'left by a killed writer');
  writeFileSync(join(dir, `x.json.tmp-${dead}`), 'older naming');
  writeFileSync(join(dir, `.x.json.tmp-${process.pid}`), 'ours (alive): kept until we write');
  const live = join(dir, `.x.json.partial-1`); // PID 1 is alive
  writeFileSync(live, 'a live writer');
  assert.deepEqual(removeStaleTemps(out).sort(), [`.x.json.tmp-${dead}`, `x.json.tmp-${dead}`].sort());
  writeFileAtomic(out, '{}\n');
  assert.ok(existsSync(live));
  assert.ok(!readdirSync(dir).some((f) => f.includes(`tmp-${dead}`)));
  // A dataset output too: simulate removes a dead writer's .NAME.partial-PID.
  const stale = join(dir, `.tiny.h5.partial-${dead}`);
  writeFileSync(stale, 'x');
  const r = run(['simulate', '--out', data, '--images', '20', '--size', '32', '--force']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!existsSync(stale));
  openDataset(data).close();
});
