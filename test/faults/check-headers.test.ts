// `daqyolo check` reads every dataset and attribute of the file, not only what it validates at
// open and the pixels (issue 30): 16 flipped bytes in the object header of /boxes/n_tps (a column
// no check used to read) are found, and h5py, which this project did not write, agrees it is damaged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, readSync, writeSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, errorLines, tinyDataset, PY } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-check-'));
const good = join(dir, 'good.h5');
before(() => tinyDataset(good));
after(() => rmSync(dir, { recursive: true, force: true }));

const py = (code: string, ...args: string[]) => spawnSync(PY, ['-c', code, ...args], { encoding: 'utf8' });

test('a damaged object header of a column check does not validate is found by check, as h5py finds it', () => {
  const addr = Number(py("import h5py, sys\nf = h5py.File(sys.argv[1], 'r')\nprint(h5py.h5o.get_info(f['boxes/n_tps'].id).addr)", good).stdout);
  assert.ok(addr > 0, 'the object header address of /boxes/n_tps');
  const bad = join(dir, 'bad.h5');
  copyFileSync(good, bad);
  const fd = openSync(bad, 'r+');
  const bytes = Buffer.alloc(16);
  readSync(fd, bytes, 0, 16, addr);
  writeSync(
    fd,
    bytes.map((b) => b ^ 0xff),
    0,
    16,
    addr,
  );
  closeSync(fd);
  const h5py = py("import h5py, sys\nf = h5py.File(sys.argv[1], 'r')\nf['boxes/n_tps'][...]", bad);
  assert.notEqual(h5py.status, 0, 'h5py cannot read it either');

  const ok = run(['check', good]);
  assert.equal(ok.status, 0, ok.stderr);
  const r = run(['check', bad]);
  assert.equal(r.status, 1, r.stdout);
  assert.deepEqual(errorLines(r), [`daqyolo: ${bad}: /boxes/n_tps: unreadable (bad object header version number) (1 problem)`]);
});
