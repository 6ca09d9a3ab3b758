// import(export(x)) == x, per format: a simulated dataset's TPs written as text8, text11, TPStreamer
// and DAQ HDF5 (v1) come back as the same images (pixels), TPs, boxes and interaction energies.
// v2 stores ToT and peak in whole ADC samples of 0.512 µs, so only its TP count, channels and
// charges are compared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSimConfig } from '../../src/sim/config.js';
import { generateDataset } from '../../src/data/generate.js';
import { openDataset } from '../../src/data/store.js';
import { writeTpStream, type TpFormat } from '../../src/formats/tps/index.js';
import { datasetTpStream } from '../../src/formats/tps/export.js';
import { importTps } from '../../src/formats/tps/import.js';

let dir = '';
let sim = '';
const IMAGES = 10;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daqyolo-tps-rt-'));
  sim = join(dir, 'sim.h5');
  const config = parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' }, storeTps: true });
  await generateDataset({ out: sim, config, images: IMAGES, seed: 11, workers: 0 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function roundTrip(format: TpFormat, tpVersion: 1 | 2 = 1): Promise<string> {
  const file = join(dir, `x-${format}-${tpVersion}`);
  const { stream, windowTicks } = datasetTpStream(sim);
  await writeTpStream(stream, format, file, { eventTicks: windowTicks, sliceTicks: windowTicks, tpVersion });
  const out = join(dir, `imp-${format}-${tpVersion}.h5`);
  const like = openDataset(sim);
  const image = (like.attrs.config as { image: unknown }).image;
  like.close();
  await importTps({
    files: [file],
    out,
    windowMs: (windowTicks * 0.5) / 1000,
    imageConfig: { image },
    skipBad: false,
    force: true,
    seed: 0,
    split: [0.8, 0.1, 0.1],
  });
  return out;
}

for (const format of ['text8', 'text11', 'tpstreamer', 'hdf5'] as TpFormat[]) {
  test(`import(export(x)) == x for ${format}: pixels, TPs, boxes, energies`, async () => {
    const out = await roundTrip(format);
    const a = openDataset(sim),
      b = openDataset(out);
    try {
      assert.equal(b.numImages, a.numImages);
      assert.deepEqual([b.channels, b.height, b.width], [a.channels, a.height, a.width]);
      const all = Array.from({ length: IMAGES }, (_, i) => i);
      assert.deepEqual(b.readDense(all), a.readDense(all), 'pixels');
      for (let i = 0; i < IMAGES; i++) {
        const ia = a.interactions(i),
          ib = b.interactions(i);
        if (format !== 'tpstreamer') {
          assert.deepEqual(b.boxes(i), a.boxes(i), `boxes of image ${i}`);
          assert.deepEqual(
            ib.map((t) => [t.energyMeV, t.nTps, t.box]),
            ia.map((t) => [t.energyMeV, t.nTps, t.box]),
            `interactions of image ${i}`,
          );
        }
        // TPStreamer has no interaction ids (MARLEY TPs of an event, told apart by their Eν): the
        // interactions come back in the order their TPs are met, so boxes are compared by energy.
        const boxSet = (r: typeof a, list: typeof ia) =>
          r
            .boxes(i)
            .map((x) => `${list[x.interaction]!.energyMeV} ${x.x1} ${x.y1} ${x.x2} ${x.y2} ${x.cls}`)
            .sort();
        assert.deepEqual(boxSet(b, ib), boxSet(a, ia), `boxes of image ${i}`);
        // A TPStreamer dump lists hits only: an interaction that made no TP is not in it.
        const seen = format === 'tpstreamer' ? ia.filter((t) => t.nTps > 0) : ia;
        assert.deepEqual(ib.map((t) => `${t.energyMeV} ${t.nTps}`).sort(), seen.map((t) => `${t.energyMeV} ${t.nTps}`).sort(), `interactions of image ${i}`);
        const ta = a.tps(i)!,
          tb = b.tps(i)!;
        // The simulator's TPs are in channel order, the imported ones in time order: compare as sets;
        // a signal TP's owner as its interaction's energy.
        const rows = (t: typeof ta, list: typeof ia) =>
          Array.from(t.channel, (_, k) =>
            [
              t.channel[k],
              t.timeStart[k],
              t.timePeak[k],
              t.timeOverThreshold[k],
              t.adcIntegral[k],
              t.adcPeak[k],
              t.owner[k]! >= 0 ? `E${list[t.owner[k]!]!.energyMeV}` : t.owner[k],
            ].join(' '),
          ).sort();
        assert.deepEqual(rows(tb, ib), rows(ta, ia), `TPs of image ${i}`);
      }
    } finally {
      a.close();
      b.close();
    }
  });
}

test('DAQ HDF5 v2 (24-byte TPs): every TP back on its channel with its charge; times within one ADC sample', async () => {
  const out = await roundTrip('hdf5', 2);
  const a = openDataset(sim),
    b = openDataset(out);
  try {
    for (let i = 0; i < IMAGES; i++) {
      const ta = a.tps(i)!,
        tb = b.tps(i)!;
      const key = (t: typeof ta, k: number) => `${t.channel[k]} ${t.timeStart[k]} ${t.adcIntegral[k]} ${t.adcPeak[k]} ${t.owner[k]}`;
      assert.deepEqual(Array.from(tb.channel, (_, k) => key(tb, k)).sort(), Array.from(ta.channel, (_, k) => key(ta, k)).sort());
      const byKey = new Map(Array.from(ta.channel, (_, k) => [key(ta, k), k]));
      for (let k = 0; k < tb.channel.length; k++) {
        const j = byKey.get(key(tb, k))!;
        assert.ok(Math.abs(tb.timeOverThreshold[k]! - ta.timeOverThreshold[j]!) <= 1, 'ToT within a sample');
        assert.ok(Math.abs(tb.timePeak[k]! - ta.timePeak[j]!) <= 1, 'peak within a sample');
      }
    }
  } finally {
    a.close();
    b.close();
  }
});

test('a failed import leaves nothing at the output name', async () => {
  const out = join(dir, 'fail.h5');
  await assert.rejects(
    importTps({ files: [join(dir, 'missing.txt')], out, windowMs: 2.246, skipBad: false, force: false, seed: 0, split: [0.8, 0.1, 0.1] }),
    /missing\.txt: no such file/,
  );
  assert.equal(existsSync(out), false);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('fail.h5')),
    [],
  );
});
