// openTpStream / writeTpStream: files written by an independent writer (Python inside the test,
// with the layouts of the upstream headers), round trips through daqyolo's own writer, and the
// FD-HD channel map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTpStream, writeTpStream, FD_HD_OFFLINE, readChannelMap, detectTpFormat, type TpFormat } from '../../src/formats/tps/index.js';
import { allocTpBatch, DTS_PER_TICK, faceId, UNKNOWN_OWNER, type TpBatch, type TpInteraction, type TpStream } from '../../src/sim/tp-stream.js';
import { bgOwner } from '../../src/sim/deposits.js';
import { collect, py } from './fixture.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'daqyolo-tps-'));

test('FD-HD offline map: collection 1600–2079 face 0, 2080–2559 face 1, wire within face; outside the map', () => {
  assert.deepEqual(FD_HD_OFFLINE.place(1600), { apa: 0, plane: 2, face: 0, wire: 0 });
  assert.deepEqual(FD_HD_OFFLINE.place(2079), { apa: 0, plane: 2, face: 0, wire: 479 });
  assert.deepEqual(FD_HD_OFFLINE.place(2080), { apa: 0, plane: 2, face: 1, wire: 0 });
  assert.deepEqual(FD_HD_OFFLINE.place(2560 * 3 + 2559), { apa: 3, plane: 2, face: 1, wire: 479 });
  assert.deepEqual(FD_HD_OFFLINE.place(805), { apa: 0, plane: 1, face: 0, wire: 5 });
  assert.equal(FD_HD_OFFLINE.place(-1), null);
  assert.equal(FD_HD_OFFLINE.place(150 * 2560), null);
  for (const c of [0, 799, 800, 1599, 1600, 2080, 2559, 5000]) {
    const p = FD_HD_OFFLINE.place(c)!;
    assert.equal(FD_HD_OFFLINE.channelOf(p.apa, p.plane, p.face, p.wire), c);
  }
});

test('channel-map CSV: channel, apa, plane, face, wire; bad lines named', () => {
  const d = tmp();
  try {
    const f = join(d, 'map.csv');
    writeFileSync(f, '# ProtoDUNE-HD style\nchannel,apa,plane,face,wire\n10,1,X,1,7\n11,1,2,0,3\n12,0,U,0,0\n');
    const m = readChannelMap(f);
    assert.deepEqual(m.place(10), { apa: 1, plane: 2, face: 1, wire: 7 });
    assert.deepEqual(m.place(12), { apa: 0, plane: 0, face: 0, wire: 0 });
    assert.equal(m.place(13), null);
    writeFileSync(f, '10,1,Q,1,7\n');
    assert.throws(() => readChannelMap(f), /map\.csv:1: field plane value "Q"/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('text8 and text11 from Python: DTS ticks from the first timestamp, faces and wires from the map, time order restored within the reorder window', async () => {
  const d = tmp();
  try {
    const t8 = join(d, 'a.txt'),
      t11 = join(d, 'b.txt');
    // Real DAQ timestamps are beyond float64's integers: 1e17 + k.
    py(`
base = 10**17
rows = [(base, 320, base + 64, 1700, 500, 40, 0, 1), (base + 3200, 64, base + 3232, 2100, 90, 12, 0, 1), (base + 1600, 32, base + 1600, 5000, 70, 9, 1, 1)]
open(${JSON.stringify(t8)}, 'w').write('\\n'.join(' '.join(str(v) for v in r) for r in rows) + '\\n')
open(${JSON.stringify(t11)}, 'w').write('# tpgtools\\n' + '\\n'.join(' '.join(str(v) for v in r + (3, 1, 1)) for r in rows) + '\\n')
`);
    assert.equal(await detectTpFormat(t8), 'text8');
    assert.equal(await detectTpFormat(t11), 'text11');
    for (const f of [t8, t11]) {
      const s = await openTpStream([f]);
      assert.equal(s.header.originDts, 10n ** 17n);
      assert.equal(s.header.hasTruth, false);
      const { rows } = await collect(s);
      assert.deepEqual(
        rows.map((r) => r.timeStart),
        [0, 1600 / DTS_PER_TICK, 3200 / DTS_PER_TICK],
      );
      assert.deepEqual(
        rows.map((r) => r.channel),
        [1700, 5000, 2100],
      );
      assert.deepEqual(
        rows.map((r) => r.face),
        [faceId(0, 0), faceId(1, 1), faceId(0, 1)],
      );
      assert.deepEqual(
        rows.map((r) => r.wire),
        [100, 5000 - 2560 - 2080, 20],
      );
      assert.equal(rows[0]!.tot, 320 / DTS_PER_TICK);
      assert.equal(rows[0]!.timePeak, 64 / DTS_PER_TICK);
      assert.deepEqual(
        rows.map((r) => r.owner),
        [UNKNOWN_OWNER, UNKNOWN_OWNER, UNKNOWN_OWNER],
      );
      if (f === t11)
        assert.deepEqual(
          rows.map((r) => [r.algorithm, r.flag]),
          [
            [3, 1],
            [3, 1],
            [3, 1],
          ],
        );
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

/** A small stream with truth: two faces, a signal interaction on both, backgrounds. */
export function sampleStream(originDts = 0n): TpStream {
  const b = allocTpBatch(6);
  const rows = [
    // face, wire, t, peak, tot, adc, peak adc, owner
    [0, 10, 100, 102, 5, 300, 40, 0],
    [1, 5, 101, 104, 6, 350, 44, 0],
    [0, 200, 150, 150, 2, 60, 10, bgOwner(0)],
    [0, 11, 160, 161, 4, 200, 30, 1],
    [1, 400, 4500, 4503, 7, 90, 12, bgOwner(4)],
    [0, 12, 9000, 9002, 3, 120, 20, bgOwner(1)],
  ];
  rows.forEach(([face, wire, t, p, tot, adc, pk, owner], i) => {
    b.face[i] = face!;
    b.wire[i] = wire!;
    b.plane[i] = 2;
    b.channel[i] = FD_HD_OFFLINE.channelOf(0, 2, face!, wire!)!;
    b.timeStart[i] = t!;
    b.timePeak[i] = p!;
    b.timeOverThreshold[i] = tot!;
    b.adcIntegral[i] = adc!;
    b.adcPeak[i] = pk!;
    b.detid[i] = 0;
    b.type[i] = 1;
    b.owner[i] = owner!;
    b.source[i] = -1;
    b.record[i] = -1;
  });
  b.n = rows.length;
  const interactions: TpInteraction[] = [
    { id: 0, face: 0, time: 99, energyMeV: 12.5, electronMeV: 10.25, origin: 'sim' },
    { id: 0, face: 1, time: 99, energyMeV: 12.5, electronMeV: 10.25, origin: 'sim' },
    { id: 1, face: 0, time: 158, energyMeV: 33.75, electronMeV: 30.5, origin: 'sim' },
  ];
  async function* batches(): AsyncGenerator<{ tps: TpBatch; interactions: TpInteraction[] }> {
    yield { tps: b, interactions };
  }
  return { header: { originDts, sources: ['sim:test'], hasTruth: true }, batches: batches() };
}

for (const format of ['text8', 'text11', 'tpstreamer', 'hdf5'] as TpFormat[]) {
  test(`writeTpStream → openTpStream round trip (${format}): TPs, faces, owners and energies`, async () => {
    const d = tmp();
    try {
      const out = join(d, format === 'hdf5' ? 'x.hdf5' : 'x.txt');
      const origin = format === 'tpstreamer' ? 0n : 123_456_789_000_000_000n;
      await writeTpStream(sampleStream(origin), format, out);
      assert.equal(await detectTpFormat(out), format);
      const s = await openTpStream([out], { alignTicks: format === 'tpstreamer' ? undefined : 4492 });
      assert.equal(s.header.hasTruth, true);
      const got = await collect(s);
      const want = await collect(sampleStream(origin));
      // DAQ times are whole DTS ticks: within 1/62.5 of an offline tick, and the first TP's time is
      // the origin unless aligned to a window boundary.
      const shift = format === 'tpstreamer' ? 0 : Number(origin % 140375n) / DTS_PER_TICK;
      assert.equal(got.rows.length, want.rows.length);
      got.rows.forEach((r, i) => {
        const w = want.rows[i]!;
        assert.ok(Math.abs(r.timeStart - shift - w.timeStart) < 0.02, `${format} row ${i} time ${r.timeStart} vs ${w.timeStart}`);
        assert.ok(Math.abs(r.timePeak - shift - w.timePeak) < 0.02);
        assert.ok(Math.abs(r.tot - w.tot) < 0.02);
        for (const k of ['face', 'wire', 'channel', 'adcIntegral', 'adcPeak', 'plane']) assert.equal(r[k], w[k], `${format} row ${i} ${k}`);
        if (w.owner >= 0) assert.equal(r.owner, w.owner);
        else assert.ok(r.owner < 0);
      });
      const key = (t: TpInteraction) => `${t.id}/${t.face}/${t.energyMeV}`;
      assert.deepEqual(got.interactions.map(key).sort(), want.interactions.map(key).sort());
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
}

test('TPStreamer dump from Python (duneana e83992d column order): events laid end to end, MARLEY interactions per face with Eν and Ee, ptypes as owners, hits sorted within an event', async () => {
  const d = tmp();
  try {
    const f = join(d, 'tpstreamer.txt');
    // start ToT peak channel sumADC peak detid type alg version flag ptype event view x y z nel trk_ptype Enu Ee px py pz
    py(`
def line(start, tot, peak, ch, adc, amp, ptype, event, view, enu=0.0, ee=0.0):
    return ' '.join(str(v) for v in [start, tot, peak, ch, adc, amp, ch // 2560, 1, 1, 1, 0, ptype, event, view, 10, 20, 30, 5000, ptype]) + ' %.8f %.8f 0.1 0.2 0.3' % (enu, ee)
rows = [line(900, 6, 902, 1700, 300, 40, 1, 7, 2, 0.0153, 0.0121), line(100, 4, 101, 1701, 200, 30, 1, 7, 2, 0.0153, 0.0121),
        line(400, 5, 403, 2100, 250, 35, 1, 7, 2, 0.0153, 0.0121), line(50, 3, 51, 1800, 90, 12, 2, 7, 2), line(60, 3, 61, 1810, 40, 9, 0, 7, 2),
        line(70, 3, 71, 100, 40, 9, 3, 7, 0),
        line(30, 8, 33, 1750, 500, 60, 1, 8, 2, 0.0300, 0.0281), line(10, 2, 10, 1900, 45, 8, 6, 8, 2)]
open(${JSON.stringify(f)}, 'w').write('\\n'.join(rows) + '\\n')
`);
    assert.equal(await detectTpFormat(f), 'tpstreamer');
    const s = await openTpStream([f]);
    assert.equal(s.header.hasTruth, true);
    const { rows, interactions } = await collect(s);
    // Event 7 sorted by start tick; event 8 starts one 4492-tick span later.
    assert.deepEqual(
      rows.map((r) => r.timeStart),
      [50, 60, 70, 100, 400, 900, 4492 + 10, 4492 + 30],
    );
    assert.deepEqual(
      rows.map((r) => r.record),
      [7, 7, 7, 7, 7, 7, 8, 8],
    );
    assert.deepEqual(
      rows.map((r) => r.owner),
      [bgOwner(0), -1000, bgOwner(1), 0, 0, 0, bgOwner(4), 1],
    );
    assert.deepEqual(
      rows.map((r) => r.plane),
      [2, 2, 0, 2, 2, 2, 2, 2],
    );
    assert.deepEqual(interactions.map((t) => [t.id, t.face, t.energyMeV, t.electronMeV]).sort(), [
      [0, 0, 15.3, 12.1],
      [0, 1, 15.3, 12.1],
      [1, 0, 30, 28.1],
    ]);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
