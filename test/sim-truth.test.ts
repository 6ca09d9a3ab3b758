// Truth boxes and images: every box holds all its TPs and lies in the image; pixels sum the TPs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSimConfig } from '../src/sim/config.js';
import { Simulator } from '../src/sim/event.js';
import { pixelX, pixelY } from '../src/sim/image.js';

for (const size of [480, 416, 128]) {
  test(`every truth box contains all its TPs and lies inside the ${size}-px image`, () => {
    const cfg = parseSimConfig({
      image: { size, extraChannels: ['peak_adc', 'tot'] },
      signal: { mode: 'fixed', perImage: 3, elasticScattering: true, elasticFraction: 0.3 },
    });
    const sim = new Simulator(cfg, 99);
    const L = sim.layout;
    let boxes = 0;
    for (let i = 0; i < 30; i++) {
      const r = sim.image(i, { keepTps: true });
      const tps = r.tps!;
      for (let b = 0; b < r.boxClass.length; b++) {
        const [x1, y1, x2, y2] = r.boxes.subarray(4 * b, 4 * b + 4);
        assert.ok(x1 >= 0 && y1 >= 0 && x2 <= L.width && y2 <= L.height && x2 > x1 && y2 > y1, `box ${[x1, y1, x2, y2]}`);
        const k = r.boxInteraction[b];
        assert.equal(r.interactions[k].box, b);
        let n = 0;
        for (let t = 0; t < tps.n; t++) {
          if (tps.owner[t] !== k) continue;
          n++;
          const x = pixelX(L, tps.channel[t]);
          const y = pixelY(L, tps.timePeak[t]);
          assert.ok(x >= x1 && x < x2 && y >= y1 && y < y2, `TP at (${x}, ${y}) outside box ${[x1, y1, x2, y2]}`);
        }
        assert.equal(n, r.interactions[k].nTps);
        boxes++;
      }
      for (const t of r.interactions) if (t.box < 0) assert.equal(t.nTps, 0);
      // Channel 0 is the sum of adc_integral over TPs, channel 2 the sum of ToT.
      let sumPix = 0,
        sumTps = 0,
        sumTot = 0,
        sumTotPix = 0;
      for (let p = 0; p < r.sparse.pixels.length; p++) {
        sumPix += r.sparse.values[3 * p];
        sumTotPix += r.sparse.values[3 * p + 2];
      }
      for (let t = 0; t < tps.n; t++) {
        sumTps += tps.adcIntegral[t];
        sumTot += tps.timeOverThreshold[t];
      }
      assert.ok(Math.abs(sumPix - sumTps) < 1e-3 * Math.max(1, sumTps));
      assert.equal(sumTotPix, sumTot);
    }
    assert.ok(boxes > 40, `only ${boxes} boxes`);
  });
}

test('one-pixel blips make 1×1 boxes; the multi-class option labels boxes by process', () => {
  const cfg = parseSimConfig({
    signal: { mode: 'fixed', perImage: 2, elasticScattering: true, elasticFraction: 0.5, multiClass: true, flatMinMeV: 5, flatMaxMeV: 8 },
  });
  const sim = new Simulator(cfg, 5);
  let small = 0;
  const classes = new Set<number>();
  for (let i = 0; i < 60; i++) {
    const r = sim.image(i);
    for (let b = 0; b < r.boxClass.length; b++) {
      const w = r.boxes[4 * b + 2] - r.boxes[4 * b];
      const h = r.boxes[4 * b + 3] - r.boxes[4 * b + 1];
      assert.ok(w >= 1 && h >= 1 && Number.isInteger(w) && Number.isInteger(h));
      if (w === 1 && h === 1) small++;
      assert.equal(r.boxClass[b], r.interactions[r.boxInteraction[b]].process);
      classes.add(r.boxClass[b]);
    }
  }
  assert.ok(small > 0, 'no 1×1 box among low-energy events');
  assert.deepEqual([...classes].sort(), [0, 1]);
});

test('signal count per image: fixed is exact, Poisson has the right mean, 0 gives background only', () => {
  const fixed = new Simulator(parseSimConfig({ signal: { mode: 'fixed', perImage: 2 } }), 1);
  for (let i = 0; i < 10; i++) assert.equal(fixed.image(i).interactions.length, 2);
  const pois = new Simulator(parseSimConfig({ signal: { mode: 'poisson', perImage: 1.5 } }), 1);
  let n = 0;
  for (let i = 0; i < 200; i++) n += pois.image(i).interactions.length;
  assert.ok(Math.abs(n / 200 - 1.5) < 4 * Math.sqrt(1.5 / 200), `mean ${n / 200}`);
  const none = new Simulator(parseSimConfig({ signal: { perImage: 0 } }), 1);
  for (let i = 0; i < 5; i++) assert.equal(none.image(i).boxClass.length, 0);
});

test('config errors name the field', () => {
  assert.throws(() => parseSimConfig({ signal: { perImage: -1 } }), /signal\.perImage/);
  assert.throws(() => parseSimConfig({ detector: { bogus: 1 } }), /detector/);
  assert.throws(() => parseSimConfig({ signal: { flatMinMeV: 10, flatMaxMeV: 5 } }), /signal\.flatMaxMeV/);
});
