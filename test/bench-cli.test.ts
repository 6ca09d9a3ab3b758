// `daqyolo bench train|infer`: one JSON line for any variant, on a dataset's images (--data) or
// random sparse ones (--active), with the active pixels per image; bad options give one line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { openDataset } from '../src/data/store.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-bench-cli-'));
const data = join(dir, 'd.h5');
const cli = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'daqyolo.js');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await generateDataset({
    out: data,
    config: parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } }),
    images: 20,
    seed: 5,
    workers: 0,
  });
});
const bench = (...args: string[]) => spawnSync(process.execPath, [cli, 'bench', ...args], { encoding: 'utf8', env: { ...process.env, DAQYOLO_THREADS: '1' } });

test("bench infer --data: img/s, peak RSS and the dataset's active pixels per image", () => {
  const r = bench('infer', '--variant', 'sparse-yolov3-tiny', '--data', data, '--size', '64', '--batch', '2', '--iters', '1', '--width', '0.125', '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const j = JSON.parse(lines[0]!);
  assert.equal(j.variant, 'sparse-yolov3-tiny');
  assert.ok(j.img_per_s > 0 && j.peak_rss_mb > 0 && j.input === 'data');
  const reader = openDataset(data);
  const imgs = reader.readDense(Array.from(reader.split('train').slice(0, 2)));
  reader.close();
  assert.equal(j.active_pixels_per_image, imgs.filter((v) => v !== 0).length / 2);
});

test('bench train --active N: N active pixels per image, ms per step for a dense variant too', () => {
  for (const variant of ['sparse-yolov3', 'yolov3-tiny']) {
    const r = bench(
      'train',
      '--variant',
      variant,
      '--active',
      '7',
      '--size',
      '64',
      '--batch',
      '2',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--width',
      '0.125',
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.equal(j.active_pixels_per_image, 7);
    assert.ok(j.ms_per_step > 0 && j.input === 'sparse-random');
  }
});

test('bench: a bad variant or a wrong-size dataset is one line naming what was expected', () => {
  const v = bench('infer', '--variant', 'resnet', '--json');
  assert.notEqual(v.status, 0);
  assert.match(v.stderr.trim(), /^daqyolo: --variant: expected one of yolov3, yolov3-tiny, sparse-yolov3, sparse-yolov3-tiny, got "resnet"$/);
  const s = bench('train', '--data', data, '--size', '96', '--json');
  assert.notEqual(s.status, 0);
  assert.match(s.stderr, /images are \[1, 64, 64\]; the benchmark needs \[1, 96, 96\]/);
});
