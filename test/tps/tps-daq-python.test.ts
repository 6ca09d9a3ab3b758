// DAQ HDF5 files written inside the test by h5py + struct with the field offsets of the upstream
// headers (daqdataformats FragmentHeader.hpp at 3f617d5: 72 bytes; trgdataformats
// TriggerPrimitive.hpp v1 at d2b2701: 56 bytes; v2 at 90d351f: 24 bytes of bitfields), in the
// hdf5libs layout (one int8 dataset [nbytes, 1] per fragment at <Record>/RawData/<SourceID>_Trigger_Primitive),
// TimeSlice and TriggerRecord files; and every bad-input case, each with its one line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openTpStream } from '../../src/formats/tps/index.js';
import { importTps } from '../../src/formats/tps/import.js';
import { DTS_PER_TICK } from '../../src/sim/tp-stream.js';
import { collect, py } from './fixture.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'daqyolo-tps-py-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Python that writes fragments: frag(tps_bytes, marker=…, version=…) and v1/v2 TP packers. */
const PY_LIB = `
import struct, h5py, numpy as np
def header(payload_len, marker=0x11112222, ftype=6, size=None, sid=0):
    # FragmentHeader v5: marker u32, version u32, size u64, trigger_number u64, trigger_timestamp u64,
    # window_begin u64, window_end u64, run u32, error_bits u32, fragment_type u32, sequence u16,
    # detector_id u16, SourceID {version u16, subsystem u16 (3 = kTrigger), id u32}: 72 bytes
    return struct.pack('<IIQQQQQIIIHHHHI', marker, 5, size if size is not None else 72 + payload_len, 1, 0, 0, 0, 1, 0, ftype, 0, 0, 2, 3, sid)
def tp1(ts, tp, tot, ch, adc, peak, detid=0, flag=0, version=1):
    # v1: version u16 @0, time_start u64 @8, time_peak u64 @16, time_over_threshold u64 @24, channel i32 @32,
    # adc_integral u32 @36, adc_peak u16 @40, detid u16 @42, type i32 @44, algorithm i32 @48, flag u16 @52: 56 bytes
    b = struct.pack('<H6xQQQiIHHiiH2x', version, ts, tp, tot, ch, adc, peak, detid, 1, 1, flag)
    assert len(b) == 56
    return b
def tp2(ts, stp, sot, ch, adc, peak, detid=0, flag=0, version=2):
    # v2: u64 bitfields from the low bit: version:8 flag:8 detid:8 channel:24 samples_over_threshold:16,
    # time_start:64, samples_to_peak:16 adc_integral:32 adc_peak:16: 24 bytes
    w0 = version | (flag << 8) | (detid << 16) | (ch << 24) | (sot << 48)
    w2 = stp | (adc << 16) | (peak << 48)
    return struct.pack('<QQQ', w0, ts, w2)
def write(path, frags):
    with h5py.File(path, 'w') as f:
        for name, data in frags:
            f.create_dataset(name, data=np.frombuffer(data, dtype=np.int8).reshape(-1, 1))
`;
const pyFile = (name: string, body: string): string => {
  const path = join(dir, name);
  py(`${PY_LIB}\npath = ${JSON.stringify(path)}\n${body}`);
  return path;
};

const T0 = 10n ** 17n + 12345n;

test('h5py-written TimeSlice file, v1 TPs: every field at its upstream offset', async () => {
  const f = pyFile(
    'v1.hdf5',
    `
t0 = ${T0}
a = b''.join([tp1(t0, t0 + 64, 320, 1700, 500, 40, detid=3, flag=1), tp1(t0 + 3200, t0 + 3300, 96, 2100, 90, 12)])
b = tp1(t0 + 1600, t0 + 1632, 32, 2560 + 1610, 70, 9)
write(path, [('TimeSlice000001/RawData/Trigger_0x00000000_Trigger_Primitive', header(len(a)) + a),
             ('TimeSlice000001/RawData/Trigger_0x00000001_Trigger_Primitive', header(len(b), sid=1) + b),
             ('TimeSlice000001/RawData/Trigger_0x00000000_TimeSliceHeader', b'\\0' * 16)])
`,
  );
  const s = await openTpStream([f]);
  assert.equal(s.format, 'hdf5');
  assert.equal(s.header.originDts, T0);
  const { rows } = await collect(s);
  assert.deepEqual(
    rows.map((r) => r.channel),
    [1700, 2560 + 1610, 2100],
  );
  assert.deepEqual(
    rows.map((r) => r.timeStart),
    [0, 1600 / DTS_PER_TICK, 3200 / DTS_PER_TICK],
  );
  assert.deepEqual(
    rows.map((r) => r.timePeak),
    [64 / DTS_PER_TICK, 1632 / DTS_PER_TICK, 3300 / DTS_PER_TICK],
  );
  assert.deepEqual(
    rows.map((r) => r.tot),
    [320 / DTS_PER_TICK, 32 / DTS_PER_TICK, 96 / DTS_PER_TICK],
  );
  assert.deepEqual(
    rows.map((r) => [r.adcIntegral, r.adcPeak, r.detid, r.flag, r.record]),
    [
      [500, 40, 3, 1, 1],
      [70, 9, 0, 0, 1],
      [90, 12, 0, 0, 1],
    ],
  );
  assert.deepEqual(
    rows.map((r) => [r.face, r.wire]),
    [
      [0, 100],
      [2, 10],
      [1, 20],
    ],
  );
});

test('h5py-written TriggerRecord file, v2 TPs (24-byte bitfields): ToT and peak in ADC samples of 32 DTS ticks', async () => {
  const f = pyFile(
    'v2.hdf5',
    `
t0 = ${T0}
a = b''.join([tp2(t0, 3, 10, 2079, 70000, 900, detid=5, flag=2), tp2(t0 + 64, 0, 1, 2560 * 149 + 2559, 5, 4)])
write(path, [('TriggerRecord00007.0000/RawData/Trigger_0x0000000a_Trigger_Primitive', header(len(a)) + a)])
`,
  );
  const { rows } = await collect(await openTpStream([f]));
  assert.deepEqual(
    rows.map((r) => r.channel),
    [2079, 2560 * 149 + 2559],
  );
  assert.deepEqual(
    rows.map((r) => r.tot),
    [(10 * 32) / DTS_PER_TICK, 32 / DTS_PER_TICK],
  );
  assert.deepEqual(
    rows.map((r) => r.timePeak - r.timeStart),
    [(3 * 32) / DTS_PER_TICK, 0],
  );
  assert.deepEqual(
    rows.map((r) => [r.adcIntegral, r.adcPeak, r.detid, r.flag, r.record]),
    [
      [70000, 900, 5, 2, 7],
      [5, 4, 0, 0, 7],
    ],
  );
  assert.deepEqual(
    rows.map((r) => [r.face, r.wire]),
    [
      [0, 479],
      [299, 479],
    ],
  );
});

test('import tps of an h5py DAQ file without truth: every image background-only, full TP table kept', async () => {
  const f = pyFile(
    'noise.hdf5',
    `
t0 = ${T0}
tps = [tp1(t0 + 32 * k * 50, t0 + 32 * k * 50 + 32, 64, 1600 + (k * 7) % 960, 100 + k, 20) for k in range(400)] + [tp1(t0 + 32 * 400 * 50, t0 + 32 * 400 * 50, 64, 5, 50, 9)]
write(path, [('TimeSlice%06d/RawData/Trigger_0x00000000_Trigger_Primitive' % (1 + i // 100), header(56 * len(c)) + b''.join(c)) for i, c in [(i, tps[i:i + 100]) for i in range(0, 400, 100)]]
      + [('TimeSlice000005/RawData/Trigger_0x00000000_Trigger_Primitive', header(56) + tps[400])])
`,
  );
  const out = join(dir, 'noise.h5');
  const r = await importTps({ files: [f], out, windowMs: 2.246, skipBad: false, force: true, seed: 0, split: [0.8, 0.1, 0.1] });
  assert.equal(r.hasTruth, false);
  assert.equal(r.tps, 401);
  assert.equal(r.tpsImaged, 400); // the U-plane TP is kept in the table, not imaged
  assert.equal(r.backgroundImages, r.images);
  assert.equal(r.interactions, 0);
  // 400 TPs 50 samples apart = 1600 DTS ticks = 51.2 offline ticks: 20480 ticks over 2 faces.
  assert.deepEqual(r.faces, [0, 1]);
  // The origin is the first timestamp rounded down to a whole window (4492 × 31.25 DTS ticks).
  const shift = Number(T0 % 140375n) / DTS_PER_TICK;
  const windows = new Set(Array.from({ length: 401 }, (_, k) => Math.floor((shift + k * 51.2) / 4492)));
  assert.equal(r.windows, windows.size);
  // One image per face seen by the end of each window (face 1's first TP is k = 69).
  const face1From = Math.floor((shift + 69 * 51.2) / 4492);
  assert.equal(
    r.images,
    [...windows].reduce((a, w) => a + (w >= face1From ? 2 : 1), 0),
  );
  const h = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `import h5py; f = h5py.File(${JSON.stringify(out)}); print(len(f['import/tps/time_start']), f['import/tps/plane'][:].tolist().count(0), f.attrs['tp_origin_dts'])`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(h.stdout.trim(), `401 1 ${T0 - (T0 % 140375n)}`);
});

// ---- bad input: one line naming file, line or dataset, field and value ----

const text8 = (name: string, lines: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
};
const GOOD = '1000000 320 1000064 1700 500 40 0 1';

const badCases: { name: string; make: () => string; message: RegExp }[] = [
  {
    name: 'wrong column count',
    make: () => text8('cols.txt', [GOOD, '1000100 320 1000164 1700 500 40 0']),
    message: /cols\.txt:2: expected 8 columns \(text8\), got 7/,
  },
  {
    name: 'non-number',
    make: () => text8('nan.txt', [GOOD, '1000100 320 1000164 1700 5x0 40 0 1']),
    message: /nan\.txt:2: field adc_integral value "5x0" is not a number/,
  },
  {
    name: 'negative ToT',
    make: () => text8('tot.txt', [GOOD, '1000100 -32 1000164 1700 500 40 0 1']),
    message: /tot\.txt:2: field time_over_threshold value -32 is negative/,
  },
  {
    name: 'channel outside the map',
    make: () => text8('chan.txt', [GOOD, '1000100 32 1000164 384000 500 40 0 1']),
    message: /chan\.txt:2: field channel value 384000 is outside the channel map/,
  },
  {
    name: 'time backwards beyond the reorder window',
    make: () => text8('back.txt', [GOOD, '2000000 32 2000000 1700 500 40 0 1', '1000100 32 1000100 1700 500 40 0 1']),
    message: /back\.txt:3: field time_start value 1000100 goes back 31996\.8 ticks, beyond the reorder window of 10000 ticks/,
  },
  {
    name: 'fragment payload not a whole number of TPs',
    make: () =>
      pyFile(
        'frac.hdf5',
        `a = tp1(5, 5, 32, 1700, 1, 1) + b'\\0' * 10\nwrite(path, [('TimeSlice000001/RawData/Trigger_0x00000000_Trigger_Primitive', header(len(a)) + a)])`,
      ),
    message:
      /frac\.hdf5 dataset \/TimeSlice000001\/RawData\/Trigger_0x00000000_Trigger_Primitive: payload of 66 bytes is not a whole number of 56-byte v1 TriggerPrimitives/,
  },
  {
    name: 'wrong header marker',
    make: () =>
      pyFile(
        'marker.hdf5',
        `a = tp1(5, 5, 32, 1700, 1, 1)\nwrite(path, [('TimeSlice000001/RawData/Trigger_0x00000000_Trigger_Primitive', header(len(a), marker=0xdeadbeef) + a)])`,
      ),
    message:
      /marker\.hdf5 dataset \/TimeSlice000001\/RawData\/Trigger_0x00000000_Trigger_Primitive: field fragment_header_marker value 0xdeadbeef is not 0x11112222/,
  },
  {
    name: 'unknown TP version',
    make: () =>
      pyFile(
        'version.hdf5',
        `a = tp1(5, 5, 32, 1700, 1, 1, version=7)\nwrite(path, [('TimeSlice000001/RawData/Trigger_0x00000000_Trigger_Primitive', header(len(a)) + a)])`,
      ),
    message:
      /version\.hdf5 dataset \/TimeSlice000001\/RawData\/Trigger_0x00000000_Trigger_Primitive: field version value 7 of TP 0 is not a known TriggerPrimitive version \(1 or 2\)/,
  },
];

for (const c of badCases) {
  test(`bad input, ${c.name}: one line naming where, the field and the value; nothing at the output; --skip-bad counts and lists it`, async () => {
    const f = c.make();
    const out = join(dir, `bad-${c.name.replace(/\W+/g, '-')}.h5`);
    await assert.rejects(importTps({ files: [f], out, windowMs: 2.246, skipBad: false, force: false, seed: 0, split: [0.8, 0.1, 0.1] }), (e: Error) => {
      assert.match(e.message, c.message);
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
    assert.equal(existsSync(out), false);
    const text = f.endsWith('.txt');
    // With --skip-bad the good rows are imported (the HDF5 cases hold only the bad fragment).
    const run = importTps({ files: [f], out, windowMs: 2.246, skipBad: true, force: false, seed: 0, split: [0.8, 0.1, 0.1] });
    if (text) {
      const r = await run;
      assert.equal(r.skipped.count, 1);
      assert.match(`${r.skipped.rows[0]!.where}: ${r.skipped.rows[0]!.problem}`, c.message);
    } else await assert.rejects(run, /no TP to import \(1 bad rows skipped\)/);
  });
}

test('the CLI prints a bad row as one daqyolo: line and exits non-zero', () => {
  const f = text8('cli.txt', [GOOD, '1000100 -32 1000164 1700 500 40 0 1']);
  const cli = join(process.cwd(), 'bin', 'daqyolo.js');
  const r = spawnSync(process.execPath, [cli, 'import', 'tps', f, '--out', join(dir, 'cli.h5')], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('daqyolo:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /cli\.txt:2: field time_over_threshold value -32 is negative \(pass --skip-bad/);
});

test('the CLI reads text from standard input ("-") with a --channel-map CSV', () => {
  const map = join(dir, 'pdhd.csv');
  writeFileSync(map, 'channel,apa,plane,face,wire\n4160,0,X,0,0\n4161,0,X,0,1\n4640,0,X,1,0\n');
  const cli = join(process.cwd(), 'bin', 'daqyolo.js');
  const out = join(dir, 'stdin.h5');
  const r = spawnSync(process.execPath, [cli, 'import', 'tps', '-', '--channel-map', map, '--out', out], {
    encoding: 'utf8',
    input: '# online channels\n1000000 320 1000064 4161 500 40 0 1\n1000100 32 1000164 4640 90 12 0 1\n',
  });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { tps: number; faces: number[]; images: number; sources: string[] };
  assert.deepEqual([report.tps, report.faces, report.images, report.sources], [2, [0, 1], 2, ['-']]);
  const bad = spawnSync(process.execPath, [cli, 'import', 'tps', '-', '--channel-map', map, '--out', join(dir, 'stdin2.h5')], {
    encoding: 'utf8',
    input: '1000000 320 1000064 1700 500 40 0 1\n',
  });
  assert.match(bad.stderr, /-:1: field channel value 1700 is outside the channel map \(.*pdhd\.csv \(3 channels\)\)/);
});

test('daqyolo-written DAQ HDF5 read back by h5py + struct with the upstream offsets (v1 and v2)', async () => {
  const { writeTpStream } = await import('../../src/formats/tps/index.js');
  const { allocTpBatch } = await import('../../src/sim/tp-stream.js');
  for (const version of [1, 2] as const) {
    const b = allocTpBatch(2);
    [
      [1700, 10, 12, 5, 300, 40],
      [2100, 20, 26, 8, 90, 12],
    ].forEach(([ch, t, p, tot, adc, pk], i) => {
      b.channel[i] = ch!;
      b.face[i] = ch! < 2080 ? 0 : 1;
      b.plane[i] = 2;
      b.timeStart[i] = t!;
      b.timePeak[i] = p!;
      b.timeOverThreshold[i] = tot!;
      b.adcIntegral[i] = adc!;
      b.adcPeak[i] = pk!;
      b.type[i] = 1;
      b.flag[i] = 1;
    });
    b.n = 2;
    const out = join(dir, `ours-v${version}.hdf5`);
    async function* batches() {
      yield { tps: b, interactions: [] };
    }
    await writeTpStream({ header: { originDts: T0, sources: ['t'], hasTruth: false }, batches: batches() }, 'hdf5', out, { tpVersion: version });
    const got = py(`
import h5py, struct, json
rows = []
with h5py.File(${JSON.stringify(out)}, 'r') as f:
    for rec in sorted(k for k in f.keys() if k.startswith('TimeSlice')):
        for name in sorted(f[rec]['RawData'].keys()):
            raw = f[rec]['RawData'][name][:].tobytes()
            marker, ver, size = struct.unpack_from('<IIQ', raw, 0)
            ftype, = struct.unpack_from('<I', raw, 56)
            sub, sid = struct.unpack_from('<HI', raw, 66)
            assert marker == 0x11112222 and ver == 5 and size == len(raw) and ftype == 6 and sub == 3, (marker, ver, size, ftype, sub)
            p = raw[72:]
            if ${version} == 1:
                for k in range(len(p) // 56):
                    v, ts, tp, tot, ch, adc, pk, det, typ, alg, flag = struct.unpack_from('<H6xQQQiIHHiiH', p, 56 * k)
                    rows.append([name, v, ts - ${T0}, tp - ts, tot, ch, adc, pk, flag])
            else:
                for k in range(len(p) // 24):
                    w0, ts, w2 = struct.unpack_from('<QQQ', p, 24 * k)
                    rows.append([name, w0 & 0xff, ts - ${T0}, (w2 & 0xffff) * 32, ((w0 >> 48) & 0xffff) * 32, (w0 >> 24) & 0xffffff, (w2 >> 16) & 0xffffffff, w2 >> 48, (w0 >> 8) & 0xff])
print(json.dumps(rows))
`);
    const dts = (t: number) => Math.round(t * 31.25);
    const samples = (t: number) => Math.round((t * 31.25) / 32) * 32;
    const want = [
      [
        'Trigger_0x00000000_Trigger_Primitive',
        version,
        dts(10),
        version === 1 ? dts(12) - dts(10) : samples(2),
        version === 1 ? dts(5) : samples(5),
        1700,
        300,
        40,
        1,
      ],
      [
        'Trigger_0x00000001_Trigger_Primitive',
        version,
        dts(20),
        version === 1 ? dts(26) - dts(20) : Math.round((dts(26) - dts(20)) / 32) * 32,
        version === 1 ? dts(8) : samples(8),
        2100,
        90,
        12,
        1,
      ],
    ];
    assert.deepEqual(JSON.parse(got), want, `v${version}`);
  }
});
