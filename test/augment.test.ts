// Augmentations: every one moves the pixels and the boxes together (each box still holds its
// pixels), flips are involutions, and the sum of ADC is kept where it should be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augment, type AugImage, type AugmentOptions } from '../src/data/augment.js';
import { mulberry32 } from '../src/util/rng.js';

const none: AugmentOptions = { timeJitter: 0, flipChannels: 0, flipTime: 0, timeStretch: 0, tpDropout: 0, noiseTps: 0, overlayBackground: 0 };
const C = 2,
  H = 40,
  W = 30;

/** Two clusters of hits with their boxes, in both channels. */
function image(): AugImage {
  const data = new Float32Array(C * H * W);
  const hits = [
    [3, 5],
    [4, 6],
    [6, 9],
    [20, 25],
    [22, 30],
    [24, 27],
  ];
  hits.forEach(([x, y], i) => {
    data[y! * W + x!] = 10 + i;
    data[H * W + y! * W + x!] = 1;
  });
  return {
    data,
    channels: C,
    height: H,
    width: W,
    boxes: [
      { x1: 3, y1: 5, x2: 7, y2: 10, cls: 0 },
      { x1: 20, y1: 25, x2: 25, y2: 31, cls: 0 },
    ],
  };
}

const sum = (d: Float32Array, c = 0) => d.subarray(c * H * W, (c + 1) * H * W).reduce((a, b) => a + b, 0);

/** Every non-zero pixel of channel 0 lies inside some box. */
function pixelsInBoxes(img: AugImage): void {
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!img.data[y * W + x]) continue;
      assert.ok(
        img.boxes.some((b) => x >= b.x1 && x < b.x2 && y >= b.y1 && y < b.y2),
        `pixel (${x}, ${y}) outside every box ${JSON.stringify(img.boxes)}`,
      );
    }
  }
}

test('flips mirror pixels and boxes together and undo themselves', () => {
  for (const key of ['flipChannels', 'flipTime'] as const) {
    const img = image();
    const before = image();
    const log = augment(img, { ...none, [key]: 1 }, mulberry32(1));
    assert.equal(log[key], 1);
    pixelsInBoxes(img);
    assert.equal(sum(img.data), sum(before.data));
    assert.notDeepEqual(Array.from(img.data), Array.from(before.data));
    augment(img, { ...none, [key]: 1 }, mulberry32(1));
    assert.deepEqual(Array.from(img.data), Array.from(before.data), `${key} twice is the identity`);
    assert.deepEqual(img.boxes, before.boxes);
  }
});

test('time jitter and stretch keep each box around its pixels; dropout only removes', () => {
  for (let seed = 0; seed < 20; seed++) {
    const img = image();
    augment(img, { ...none, timeJitter: 0.2 }, mulberry32(seed));
    pixelsInBoxes(img);
    const st = image();
    augment(st, { ...none, timeStretch: 0.3 }, mulberry32(seed));
    pixelsInBoxes(st);
    assert.equal(sum(st.data), sum(image().data), 'stretch keeps the ADC sum (rows may merge)');
    const dr = image();
    augment(dr, { ...none, tpDropout: 0.5 }, mulberry32(seed));
    pixelsInBoxes(dr);
    assert.ok(sum(dr.data) <= sum(image().data));
    // Dropout removes whole pixels: both channels together.
    for (let p = 0; p < H * W; p++) assert.equal(dr.data[p] === 0, dr.data[H * W + p] === 0);
  }
  // A jitter that pushes a cluster out of the image drops its box.
  const img = image();
  let dropped = false;
  for (let seed = 0; seed < 200 && !dropped; seed++) {
    const j = image();
    augment(j, { ...none, timeJitter: 0.5 }, mulberry32(seed));
    pixelsInBoxes(j);
    dropped = j.boxes.length < img.boxes.length;
  }
  assert.ok(dropped, 'some jitter drops a box pushed out of the image');
});

/** Non-zero pixels of channel 0 inside a box. */
function pixelsIn(img: AugImage, b: { x1: number; y1: number; x2: number; y2: number }): number {
  let n = 0;
  for (let y = Math.max(0, Math.floor(b.y1)); y < Math.min(H, Math.ceil(b.y2)); y++) {
    for (let x = Math.floor(b.x1); x < Math.ceil(b.x2); x++) if (img.data[y * W + x]) n++;
  }
  return n;
}

test('minVisible: a box the time edge cuts below that fraction of its pixels becomes an ignore box; the geometry is unchanged', () => {
  const seen = { marked: 0, cutKept: 0 };
  for (const opt of [{ timeJitter: 0.5 }, { timeStretch: 0.5 }]) {
    for (let seed = 0; seed < 300; seed++) {
      const plain = image();
      augment(plain, { ...none, ...opt }, mulberry32(seed));
      const img = image();
      const log = augment(img, { ...none, ...opt, minVisible: 0.5 }, mulberry32(seed));
      // Same pixels, same boxes: the rule only flags.
      assert.deepEqual(img.data, plain.data);
      assert.deepEqual(
        img.boxes.map(({ ignore: _i, ...b }) => b),
        plain.boxes,
      );
      // Expected independently: the pixels still inside the moved box (the two clusters are
      // apart in x and a cut never merges rows) against the box's pixels before.
      let marked = 0;
      for (const b of img.boxes) {
        const before = image().boxes.find((o) => o.x1 === b.x1)!;
        const frac = pixelsIn(img, b) / pixelsIn(image(), before);
        assert.equal(b.ignore === true, frac < 0.5, `seed ${seed} ${JSON.stringify(opt)}: box ${JSON.stringify(b)} keeps ${frac}`);
        if (b.ignore) marked++;
        else if (frac < 1) seen.cutKept++;
      }
      assert.equal(log.minVisible ?? 0, marked, 'the log counts the marked boxes left in the image');
      seen.marked += marked;
    }
  }
  assert.ok(seen.marked > 0, 'some cut box was marked');
  assert.ok(seen.cutKept > 0, 'some box cut above the fraction stayed a positive');
  // Without the option nothing is marked, and minVisible alone is no augmentation.
  const img = image();
  const log = augment(img, { ...none, minVisible: 1 }, mulberry32(1));
  assert.deepEqual(log, {});
  assert.deepEqual(img.boxes, image().boxes);
});

test('noise hits and background overlay add pixels without moving the boxes', () => {
  const img = image();
  const log = augment(img, { ...none, noiseTps: 5 }, mulberry32(3));
  assert.ok((log.noiseTps ?? 0) > 0);
  assert.ok(sum(img.data) > sum(image().data));
  assert.deepEqual(img.boxes, image().boxes);
  const bg = image();
  bg.data.fill(0);
  bg.data[1 * W + 1] = 7; // outside its box: background, added
  bg.data[6 * W + 4] = 100; // inside its box: signal of the other image, not added
  bg.boxes = [{ x1: 3, y1: 5, x2: 7, y2: 10, cls: 0 }];
  const ov = image();
  augment(ov, { ...none, overlayBackground: 1 }, mulberry32(1), () => bg);
  assert.equal(sum(ov.data), sum(image().data) + 7);
});

test('dropout and noise give the same image from the stored pixel list as from a scan', () => {
  for (let seed = 0; seed < 10; seed++) {
    const scanned = image();
    const listed = image();
    const list: number[] = [];
    for (let p = 0; p < H * W; p++) if (listed.data[p] !== 0) list.push(p);
    listed.nonzero = Int32Array.from(list);
    const o = { ...none, tpDropout: 0.4, noiseTps: 3 };
    augment(scanned, o, mulberry32(seed));
    augment(listed, o, mulberry32(seed));
    assert.deepEqual(Array.from(listed.data), Array.from(scanned.data));
  }
});

test('noise hits write consistent values to every channel: ADC and ToT add a donor hit, peak ADC takes the maximum', () => {
  const names = ['adc_integral', 'peak_adc', 'tot'];
  const K = 3,
    plane = H * W;
  const hits = [
    [3, 5, 40],
    [4, 6, 90],
    [22, 30, 60],
  ]; // x, y, ADC integral; peak = ADC/4, ToT = ADC/10
  const make = (): AugImage => {
    const data = new Float32Array(K * plane);
    for (const [x, y, a] of hits) {
      const p = y! * W + x!;
      data[p] = a!;
      data[plane + p] = a! / 4;
      data[2 * plane + p] = a! / 10;
    }
    return { data, channels: K, height: H, width: W, boxes: [], channelNames: names };
  };
  const before = make();
  const img = make();
  const log = augment(img, { ...none, noiseTps: 40 }, mulberry32(7));
  assert.ok((log.noiseTps ?? 0) > 10);
  const donors = hits.map(([, , a]) => [a!, a! / 4, a! / 10]);
  let changed = 0;
  for (let p = 0; p < plane; p++) {
    const d0 = img.data[p]! - before.data[p]!;
    if (d0 === 0) continue;
    changed++;
    // Each hit added one donor's ADC; a pixel hit twice holds the sum of two donors' ADC and ToT.
    const dTot = img.data[2 * plane + p]! - before.data[2 * plane + p]!;
    assert.ok(Math.abs(dTot - d0 / 10) < 1e-4, `pixel ${p}: ToT grew by ${dTot}, ADC by ${d0}`);
    const peak = img.data[plane + p]!;
    assert.ok(
      peak >= before.data[plane + p]! && donors.some((v) => Math.abs(v[1]! - peak) < 1e-4 || Math.abs(before.data[plane + p]! - peak) < 1e-4),
      `pixel ${p}: peak ${peak}`,
    );
    assert.ok(peak < before.data[plane + p]! + d0 / 4 + 1e-4 || before.data[plane + p] === 0, `pixel ${p}: peak is a maximum, not a sum`);
  }
  assert.ok(changed > 10, `${changed} pixels hit`);
});
