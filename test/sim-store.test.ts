// The dataset store and the CLI around it: round trip, determinism, h5py, refusing and
// interrupted outputs, foreign files, streaming.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { Simulator } from '../src/sim/event.js';
import { densify } from '../src/sim/image.js';
import { PROCESSES } from '../src/sim/interactions.js';
import { contentDigest } from '../src/data/digest.js';
import { generateDataset } from '../src/data/generate.js';
import { openDataset } from '../src/data/store.js';
import { streamImages, streamImagesParallel } from '../src/data/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'bin', 'daqyolo.js');
const cfg = parseSimConfig({ image: { size: 240, extraChannels: ['peak_adc'] }, signal: { perImage: 1.5 }, storeTps: true });

const sparsePath = join(dir, 'a.h5');
const made = generateDataset({ out: sparsePath, config: cfg, images: 60, seed: 3, workers: 0, chunkSize: 16 });

test('write → read round trip: images, boxes, interactions, splits, attributes', async () => {
  await made;
  const r = openDataset(sparsePath);
  try {
    assert.equal(r.numImages, 60);
    assert.deepEqual([r.channels, r.height, r.width], [2, 240, 240]);
    assert.deepEqual(r.classNames, ['snnu']);
    assert.equal((r.attrs.config as { image: { size: number } }).image.size, 240);
    assert.equal(r.attrs.format_version, 1);
    const sizes = ['train', 'val', 'eval'].map((s) => r.split(s as 'train').length);
    assert.deepEqual(sizes, [48, 6, 6]);
    const all = new Set([...r.split('train'), ...r.split('val'), ...r.split('eval')]);
    assert.equal(all.size, 60);
    const sim = new Simulator(cfg, 3);
    const idx = [5, 0, 59, 17];
    const dense = r.readDense(idx);
    const per = 2 * 240 * 240;
    for (let k = 0; k < idx.length; k++) {
      const rec = sim.image(idx[k], { keepTps: true });
      const want = new Float32Array(per);
      densify(sim.layout, rec.sparse, want);
      assert.deepEqual(dense.subarray(k * per, (k + 1) * per), want);
      const boxes = r.boxes(idx[k]);
      assert.equal(boxes.length, rec.boxClass.length);
      boxes.forEach((b, j) =>
        assert.deepEqual([b.x1, b.y1, b.x2, b.y2, b.cls, b.interaction], [...rec.boxes.subarray(4 * j, 4 * j + 4), rec.boxClass[j], rec.boxInteraction[j]]),
      );
      const ints = r.interactions(idx[k]);
      assert.equal(ints.length, rec.interactions.length);
      ints.forEach((t, j) => {
        assert.equal(t.energyMeV, Math.fround(rec.interactions[j].energyMeV));
        assert.equal(t.process, PROCESSES[rec.interactions[j].process]);
        assert.equal(t.box, rec.interactions[j].box);
        assert.equal(t.nTps, rec.interactions[j].nTps);
      });
      assert.equal(r.tps(idx[k])!.channel.length, rec.tps!.n);
    }
    // A reused output buffer is zero-filled before scattering.
    const out = new Float32Array(per * 2).fill(7);
    r.readDense([1, 2], out);
    assert.deepEqual(out, r.readDense([1, 2]));
    const { w, h } = r.boxSizes('train');
    assert.ok(w.length > 0 && w.length === h.length && w.every((x) => x >= 1));
  } finally {
    r.close();
  }
});

test('same seed → identical content; different seed differs; worker count does not matter', async () => {
  await made;
  const b = join(dir, 'b.h5'),
    c = join(dir, 'c.h5');
  await generateDataset({ out: b, config: cfg, images: 60, seed: 3, workers: 2, chunkSize: 7 });
  await generateDataset({ out: c, config: cfg, images: 60, seed: 4, workers: 1 });
  const da = contentDigest(sparsePath);
  assert.equal(contentDigest(b), da);
  assert.notEqual(contentDigest(c), da);
});

test('h5py reads the file', async () => {
  await made;
  const py = `
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
off = f['images/offsets'][:]
print(json.dumps({'n': int(f.attrs['num_images']), 'version': int(f.attrs['format_version']),
  'classes': [str(c) for c in f.attrs['class_names']], 'pixels': int(off[-1]), 'value_shape': list(f['images/value'].shape),
  'sum': float(f['images/value'][:, 0].sum()), 'boxes': int(f['boxes/xyxy'].shape[0]), 'train': int(f['splits/train'].shape[0]),
  'config_size': json.loads(f.attrs['config'])['image']['size'], 'decay_cols': [str(c) for c in f['background/decays'].attrs['columns']]}))
`;
  const res = spawnSync('/usr/bin/python3', ['-c', py, sparsePath], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const got = JSON.parse(res.stdout);
  const r = openDataset(sparsePath);
  const all = r.readDense(Array.from({ length: 60 }, (_, i) => i));
  let sum = 0;
  for (let i = 0; i < 60; i++) for (let p = 0; p < 240 * 240; p++) sum += all[i * 2 * 240 * 240 + p];
  const nBoxes = Array.from({ length: 60 }, (_, i) => r.boxes(i).length).reduce((a, b) => a + b, 0);
  r.close();
  assert.equal(got.n, 60);
  assert.equal(got.version, 1);
  assert.deepEqual(got.classes, ['snnu']);
  assert.deepEqual(got.value_shape, [got.pixels, 2]);
  assert.ok(Math.abs(got.sum - sum) < 1e-3 * sum);
  assert.equal(got.boxes, nBoxes);
  assert.equal(got.train, 48);
  assert.equal(got.config_size, 240);
  assert.equal(got.decay_cols[0], 'ar39');
});

test('dense layout reads back the same images through the same reader', async () => {
  await made;
  const d = join(dir, 'dense.h5');
  await generateDataset({ out: d, config: cfg, images: 12, seed: 3, workers: 0, layout: 'dense' });
  const rs = openDataset(sparsePath),
    rd = openDataset(d);
  assert.deepEqual(rd.readDense([3, 11, 0]), rs.readDense([3, 11, 0]));
  assert.deepEqual(rd.boxes(3), rs.boxes(3));
  rs.close();
  rd.close();
});

test('streaming yields the dataset images; background mode has no signal; parallel = sequential', async () => {
  await made;
  const r = openDataset(sparsePath);
  const seq = [...streamImages({ config: cfg, seed: 3, start: 10, count: 5 })];
  seq.forEach((s, k) => {
    assert.deepEqual(s.image, r.readDense([10 + k]));
    assert.deepEqual(s.boxes, r.boxes(10 + k));
  });
  r.close();
  const bg = [...streamImages({ config: cfg, seed: 3, count: 20, mode: 'background', reuseBuffer: true })];
  assert.ok(bg.every((s) => s.interactions.length === 0 && s.boxes.length === 0));
  const a = [...streamImages({ config: cfg, seed: 8, count: 9, mode: 'background' })];
  const b: Float32Array[] = [];
  for await (const s of streamImagesParallel({ config: cfg, seed: 8, count: 9, mode: 'background', workers: 2, chunkSize: 2 })) b.push(s.image);
  assert.deepEqual(
    b,
    a.map((s) => s.image),
  );
});

function runCli(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
}

test('an existing output is refused without --force and replaced with it', async () => {
  await made;
  const out = join(dir, 'exists.h5');
  writeFileSync(out, 'precious');
  const r = runCli(['simulate', '--out', out, '--images', '3', '--workers', '0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /exists\.h5 already exists; pass --force/);
  const f = runCli(['simulate', '--out', out, '--images', '3', '--workers', '0', '--force', '--size', '64']);
  assert.equal(f.status, 0, f.stderr);
  assert.equal(openDataset(out).numImages, 3);
});

test('an interrupted simulate leaves no file at the output name (nor a partial one)', async () => {
  const out = join(dir, 'interrupted.h5');
  // Progress lines on (the test runner and CI turn them off): the first one says it is writing.
  const env = { ...process.env, DAQYOLO_PROGRESS: 'lines' };
  const child = spawn(process.execPath, [cli, 'simulate', '--out', out, '--images', '200000', '--workers', '1'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let exited = false;
  const exit = new Promise<number | null>((res) =>
    child.on('exit', (c) => {
      exited = true;
      res(c);
    }),
  );
  // Wait until it is writing (first progress line), then interrupt; give up if it dies or stalls.
  const t0 = Date.now();
  await new Promise<void>((res) => {
    const t = setInterval(() => {
      if (err.includes('simulate:') || exited || Date.now() - t0 > 30000) {
        clearInterval(t);
        res();
      }
    }, 50);
  });
  assert.ok(!exited && err.includes('simulate:'), `simulate did not start writing: ${err}`);
  assert.ok(
    readdirSync(dir).some((n) => n.startsWith('.interrupted.h5.partial')),
    'a partial file exists while running',
  );
  child.kill('SIGINT');
  const code = await exit;
  assert.equal(code, 130, err);
  assert.ok(!existsSync(out));
  assert.ok(!readdirSync(dir).some((n) => n.includes('interrupted')), readdirSync(dir).join(','));
});

test('foreign, corrupt or missing files give an error naming the file and what is missing', async () => {
  const foreign = join(dir, 'foreign.h5');
  const py = `import h5py, sys\nf = h5py.File(sys.argv[1], 'w')\nf['x'] = [1, 2, 3]\nf.close()`;
  assert.equal(spawnSync('/usr/bin/python3', ['-c', py, foreign]).status, 0);
  for (const args of [
    ['stats', foreign],
    ['show', foreign, '--index', '0', '--out', join(dir, 'x.png')],
  ]) {
    const r = runCli(args);
    assert.equal(r.status, 1);
    assert.match(r.stderr.trim(), /^daqyolo: .*foreign\.h5: not a daqyolo dataset: missing root attribute "format_version"$/);
  }
  const corrupt = join(dir, 'corrupt.h5');
  writeFileSync(corrupt, Buffer.alloc(4096, 0x42));
  const c = runCli(['stats', corrupt]);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /corrupt\.h5: not an HDF5 file/);
  // A daqyolo file with a dataset removed names that dataset.
  await made;
  const broken = join(dir, 'broken.h5');
  const strip = `import h5py, shutil, sys\nshutil.copy(sys.argv[1], sys.argv[2])\nf = h5py.File(sys.argv[2], 'a')\ndel f['images/offsets']\nf.close()`;
  assert.equal(spawnSync('/usr/bin/python3', ['-c', strip, sparsePath, broken]).status, 0);
  const b = runCli(['show', broken, '--index', '0', '--out', join(dir, 'y.png')]);
  assert.match(b.stderr, /broken\.h5: not a daqyolo dataset: missing dataset \/images\/offsets/);
  const m = runCli(['stats', join(dir, 'nope.h5')]);
  assert.match(m.stderr, /nope\.h5: no such file/);
});

test('stats and show work on a dataset', async () => {
  await made;
  const s = runCli(['stats', sparsePath, '--json']);
  assert.equal(s.status, 0, s.stderr);
  const j = JSON.parse(s.stdout);
  assert.equal(j.images, 60);
  assert.deepEqual(j.splits, { train: 48, val: 6, eval: 6 });
  assert.ok(j.tpsPerImage.signal > 0);
  assert.ok(Math.abs(j.decaysPerImage.ar39 - 152) < 10);
  const png = join(dir, 'ev.png');
  const sh = runCli(['show', sparsePath, '--index', '2', '--out', png]);
  assert.equal(sh.status, 0, sh.stderr);
  assert.ok(existsSync(png));
});
