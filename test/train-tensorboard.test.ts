// TensorBoard event files read back by TensorBoard's own reader (the `tensorboard` Python package,
// installed by `setup --test` into build/pyref, and its EventAccumulator): every scalar equals the
// metrics.jsonl field it comes from, the histograms hold the epoch's objectness/IoU counts, the
// config text is the resolved run, and a run stopped mid-epoch and resumed holds each step once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { parseTrainConfig } from '../src/config/train-config.js';
import { train } from '../src/train/trainer.js';
import { RunDir } from '../src/run/run-dir.js';
import { batchScalars, epochScalars } from '../src/train/tensorboard.js';
import { EventFileWriter, crc32c, maskedCrc32c } from '../src/util/tfevents.js';
import type { BatchRecord, EpochRecord } from '../src/schema/run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const python = join(root, 'build', 'pyref', 'bin', 'python');
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-tb-'));
const data = join(dir, 'tiny.h5');
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const config = parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } });
  await generateDataset({ out: data, config, images: 40, seed: 7, workers: 0 });
});

const tinyConfig = (out: string, epochs: number) =>
  parseTrainConfig({
    data,
    out,
    epochs,
    batch: 8,
    seed: 3,
    workers: 1,
    threads: 1,
    logBatches: true,
    model: { variant: 'yolov3-tiny', width: 0.0625, size: 64 },
    optimizer: { lr: 3e-3 },
  });

/** Every scalar, histogram and text of a run's event files, as TensorBoard's EventAccumulator reads them. */
function readEvents(run: string): {
  scalars: Record<string, [number, number][]>;
  histograms: Record<string, { step: number; num: number; min: number; max: number; sum: number; limits: number[]; buckets: number[] }[]>;
  texts: Record<string, [number, string][]>;
  files: number;
} {
  const script = join(dir, 'read-events.py');
  writeFileSync(
    script,
    `
import json, sys, glob
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util
# purge_orphaned_data off: the test sees every record of the file, duplicates included
acc = EventAccumulator(sys.argv[1], purge_orphaned_data=False, size_guidance={'scalars': 0, 'histograms': 0, 'tensors': 0})
acc.Reload()
tags = acc.Tags()
out = {'scalars': {}, 'histograms': {}, 'texts': {}, 'files': len(glob.glob(sys.argv[1] + '/*tfevents*'))}
for t in tags['scalars']:
    out['scalars'][t] = [[e.step, e.value] for e in acc.Scalars(t)]
for t in tags['histograms']:
    out['histograms'][t] = [{'step': e.step, 'num': e.histogram_value.num, 'min': e.histogram_value.min, 'max': e.histogram_value.max,
        'sum': e.histogram_value.sum, 'limits': list(e.histogram_value.bucket_limit), 'buckets': list(e.histogram_value.bucket)} for e in acc.Histograms(t)]
for t in tags['tensors']:
    out['texts'][t] = [[e.step, tensor_util.make_ndarray(e.tensor_proto).item().decode('utf8')] for e in acc.Tensors(t)]
print(json.dumps(out))
`,
  );
  return JSON.parse(execFileSync(python, [script, run], { encoding: 'utf8' }));
}

/** float32 rounding, as the event file stores scalars. */
const f32 = (x: number) => Math.fround(x);

function checkAgainstMetrics(run: string): void {
  const recs = new RunDir(run).readMetrics<EpochRecord | BatchRecord>();
  const ev = readEvents(run);
  assert.equal(ev.files, 1, 'one event file per run');
  // Expected: every scalar of every record, at the record's step.
  const expected: Record<string, [number, number][]> = {};
  for (const r of recs) {
    const values = r.type === 'epoch' ? epochScalars(r) : batchScalars(r);
    for (const [tag, v] of Object.entries(values)) (expected[tag] ??= []).push([r.step, v]);
  }
  assert.deepEqual(Object.keys(ev.scalars).sort(), Object.keys(expected).sort());
  for (const [tag, series] of Object.entries(expected)) {
    const got = ev.scalars[tag]!;
    assert.deepEqual(
      got.map(([s]) => s),
      series.map(([s]) => s),
      `${tag}: steps`,
    );
    got.forEach(([, v], k) => assert.equal(v, f32(series[k]![1]), `${tag} step ${series[k]![0]}`));
  }
  // The names the issue asks for are among them.
  for (const tag of [
    'train/coarse/xy',
    'val/intermediate/conf2',
    'train/objective',
    'epoch/lr',
    'epoch/warm_fraction',
    'val/map50',
    'stats/coarse/avgIou',
    'stats/intermediate/recall50',
  ]) {
    assert.ok(tag in ev.scalars, `scalar ${tag}`);
  }
  const epochs = recs.filter((r): r is EpochRecord => r.type === 'epoch');
  for (const e of epochs) {
    e.val.stats.forEach((st, s) => {
      if (!st.count) return;
      for (const [q, counts, values] of [
        ['objectness', st.objHist, st.objectness],
        ['iou', st.iouHist, st.iou],
      ] as const) {
        const h = ev.histograms[`hist/${['coarse', 'intermediate'][s]}/${q}`]!.find((x) => x.step === e.step)!;
        assert.ok(h, `histogram ${q} scale ${s} at step ${e.step}`);
        assert.equal(h.num, st.count);
        assert.deepEqual(h.buckets, counts);
        assert.equal(h.limits.length, counts.length);
        assert.ok(Math.abs(h.min - Math.min(...values)) < 1e-12 && Math.abs(h.max - Math.max(...values)) < 1e-12);
      }
    });
  }
  const text = ev.texts.config;
  assert.ok(text && text.length === 1 && text[0]![0] === 0, 'config text once, at step 0');
  const cfg = JSON.parse(
    text[0]![1]
      .split('\n')
      .map((l) => l.slice(4))
      .join('\n'),
  );
  // config.json is the resolved run plus the dataset's path and identity.
  const { dataPath: _p, dataset: _d, ...resolved } = new RunDir(run).readConfig() as unknown as Record<string, unknown>;
  assert.deepEqual(cfg, resolved);
}

test('CRC-32C is the Castagnoli checksum (RFC 3720 check value) and TFRecord masks it', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  const c = crc32c(Buffer.from('abc'));
  assert.equal(maskedCrc32c(Buffer.from('abc')), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test('train writes an event file that TensorBoard reads back equal to metrics.jsonl', async () => {
  const out = join(dir, 'run');
  await train({ config: tinyConfig(out, 2) });
  checkAgainstMetrics(out);
});

test('a run stopped mid-epoch and resumed holds each step once in one event file', async () => {
  const out = join(dir, 'resumed');
  const control = { stop: false };
  await train({
    config: tinyConfig(out, 3),
    control,
    // Stop mid-epoch 1: epoch 0's records and a few of epoch 1's batches were written and flushed.
    onEvent: (e) => {
      if (e.kind === 'batch' && e.record.epoch === 1 && e.record.batch === 1) control.stop = true;
    },
  });
  // A crash after the checkpoint: the file grew past what `last` saw (a record of a later step).
  const evFile = readdirSync(out).find((f) => f.includes('tfevents'))!;
  const w = new EventFileWriter(join(out, evFile));
  w.scalars(8, { 'batch/objective': 123 });
  w.flush();
  await train({ config: tinyConfig(out, 3), resume: true });
  const recs = new RunDir(out).readMetrics<EpochRecord | BatchRecord>();
  assert.equal(recs.filter((r) => r.type === 'epoch').length, 3);
  assert.ok(readdirSync(out).includes(evFile));
  checkAgainstMetrics(out);
});
