// A tiny two-class VOC dataset drawn in the test is imported, trains for a few steps and
// evaluates: the class term of the loss is non-zero and the evaluation reports both classes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { collectVoc } from '../../src/formats/voc.js';
import { importRecords } from '../../src/formats/importer.js';
import { parseTrainConfig } from '../../src/config/train-config.js';
import { train } from '../../src/train/trainer.js';
import { writeVoc } from './fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-import-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');

test('imported multi-class VOC data trains (class loss > 0) and evaluates with per-class AP', async () => {
  const src = join(dir, 'voc');
  writeVoc(
    src,
    30,
    [
      [96, 64],
      [64, 64],
    ],
    { seed: 21 },
  );
  const data = join(dir, 'voc.h5');
  const rep = await importRecords(collectVoc({ images: join(src, 'JPEGImages'), annotations: join(src, 'Annotations') }), {
    format: 'voc',
    source: {},
    out: data,
    size: 64,
    channels: 'keep',
    skipBad: false,
    force: false,
    seed: 0,
  });
  assert.deepEqual(rep.classNames, ['bar', 'block']);
  const run = join(dir, 'run');
  await train({ config: parseTrainConfig({ data, out: run, epochs: 1, batch: 8, threads: 1, model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 } }) });
  const records = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const batches = records.filter((r) => r.type === 'batch');
  assert.ok(batches.length >= 3, `${batches.length} steps`);
  for (const b of batches) {
    assert.ok(Number.isFinite(b.objective));
    const cls = b.scales.reduce((a: number, s: { class: number }) => a + s.class, 0);
    assert.ok(cls > 0, `step ${b.step}: class loss ${cls}`);
  }
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.deepEqual(config.classNames, ['bar', 'block']);
  assert.equal(config.channels, 3);

  // No --background flag: imported data has no simulator, so evaluate reports detection metrics and says why there is no trigger figure.
  const r = spawnSync(process.execPath, [cli, 'evaluate', run, '--data', data, '--split', 'val', '--checkpoint', 'last'], {
    encoding: 'utf8',
    env: { ...process.env, DAQYOLO_CPU_ALLOCATOR: 'system' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /mAP@0\.5 /);
  assert.equal(r.stdout.split('\n').filter((l) => /trigger figures .* need simulated data/.test(l)).length, 1, r.stdout);
  const ev = JSON.parse(readFileSync(join(run, 'eval', 'val.json'), 'utf8'));
  assert.equal(ev.images, 3);
  assert.equal(ev.backgroundImages, 0);
  assert.equal(ev.trigger, null);
  assert.ok(
    ev.loss.scales.some((s: { class: number }) => s.class > 0),
    'class term on the val split',
  );
  assert.equal(Object.keys(ev.map.perClass).length, 2, JSON.stringify(ev.map.perClass));

  // Imported boxes have no simulated interaction, so there are no TPs to count: one line, by file, image and box.
  await assert.rejects(
    train({
      config: parseTrainConfig({
        data,
        out: join(dir, 'min-tps'),
        epochs: 1,
        batch: 8,
        threads: 1,
        positiveMinTps: 5,
        model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 },
      }),
    }),
    /voc\.h5: image \d+ box \d+ has no simulated interaction \(boxes\/interaction = -1\), so positiveMinTps 5 cannot count its TPs/,
  );
});
