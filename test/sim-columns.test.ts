// The simulator's growable column store (sim/columns.ts): every column grows together, keeps its
// type and its rows, and clear() reuses the storage. Checked on the three lists that use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deposits } from '../src/sim/deposits.js';
import { TpList } from '../src/sim/tps.js';

test('Deposits: 5000 rows through four doublings keep every value and column type', () => {
  const d = new Deposits();
  for (let i = 0; i < 5000; i++) d.push(i, i + 0.5, -i, i * 2, i / 3, i * 10, -1 - (i % 11));
  assert.equal(d.n, 5000);
  assert.ok(d.u.length >= 5000 && d.u instanceof Float64Array && d.owner instanceof Int32Array);
  for (const a of [d.u, d.v, d.d, d.t0, d.electrons, d.energy, d.owner]) assert.equal(a.length, d.u.length);
  for (const i of [0, 1023, 1024, 2047, 2048, 4999]) {
    assert.deepEqual([d.u[i], d.v[i], d.d[i], d.t0[i], d.energy[i], d.electrons[i], d.owner[i]], [i, i + 0.5, -i, i * 2, i / 3, i * 10, -1 - (i % 11)]);
  }
  const capacity = d.u.length;
  d.clear();
  d.push(1, 2, 3, 4, 5, 6, 7);
  assert.equal(d.n, 1);
  assert.equal(d.u.length, capacity, 'clear() keeps the storage');
});

test('TpList: integer and float32 columns grow together', () => {
  const t = new TpList();
  for (let i = 0; i < 700; i++) assert.equal(t.push(i, i + 1, i + 2, 3, i * 0.25, i * 0.5, -1000), i);
  assert.ok(t.channel instanceof Int32Array && t.adcIntegral instanceof Float32Array);
  assert.equal(t.adcPeak.length, t.channel.length);
  assert.deepEqual(
    [t.channel[699], t.timeStart[699], t.timePeak[699], t.timeOverThreshold[699], t.adcIntegral[699], t.adcPeak[699], t.owner[699]],
    [699, 700, 701, 3, 174.75, 349.5, -1000],
  );
  assert.equal(t.channel[255], 255);
  assert.equal(t.channel[256], 256);
});
