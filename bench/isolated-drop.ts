// What dropping isolated pixels before the network (DUNE's first trigger step; the model's
// `isolatedRadius`, off by default) costs in signal and buys in work, on a dataset's images:
// per radius, the active pixels per image kept, the pixels inside truth boxes kept, and the
// interactions (by true energy) whose box loses every pixel — those the network can no longer
// see at all, an upper bound on the efficiency the filter alone can cost. One JSON object.
//
// Run: node scripts/setup.mjs && node dist/bench/isolated-drop.js --data D.h5 [--radii 1,2] [--images 500]
import { parseArgs } from 'node:util';
import { tensor, tidy, SparseTensor } from '../src/torch/index.js';
import { dropIsolated } from '../src/model/sparse-blocks.js';
import { openDataset } from '../src/data/store.js';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    radii: { type: 'string', default: '1,2' },
    images: { type: 'string', default: '500' },
    batch: { type: 'string', default: '16' },
  },
});
if (!a.data) throw new Error('give --data D.h5');
const reader = openDataset(a.data);
const n = Math.min(Number(a.images), reader.numImages);
const { channels: C, height: H, width: W } = reader;
const radii = a.radii!.split(',').map(Number);
const bins = [0, 10, 20, 30, 50, Infinity];
const binName = (i: number) => `${bins[i]}-${bins[i + 1] === Infinity ? '' : bins[i + 1]} MeV`;

interface Tally {
  pixels: number;
  inBox: number;
  boxes: number[];
  boxesEmptied: number[];
}
const fresh = (): Tally => ({ pixels: 0, inBox: 0, boxes: bins.slice(1).map(() => 0), boxesEmptied: bins.slice(1).map(() => 0) });
const before = fresh();
const after = new Map(radii.map((r) => [r, fresh()]));

/** Active pixels (image, y, x) of a sparse batch, per image. */
const sitesOf = (s: SparseTensor): number[][] => {
  const c = s.grid.coords.toNumbers();
  const per: number[][] = Array.from({ length: s.grid.batch }, () => []);
  for (let i = 0; i < c.length; i += 3) per[c[i]!]!.push(c[i + 1]! * W + c[i + 2]!);
  return per;
};
function count(t: Tally, sites: number[], boxes: { x1: number; y1: number; x2: number; y2: number; energy: number }[]): void {
  t.pixels += sites.length;
  const inside = (p: number, b: (typeof boxes)[number]) => {
    const y = Math.floor(p / W),
      x = p % W;
    return x >= b.x1 && x < b.x2 && y >= b.y1 && y < b.y2;
  };
  for (const p of sites) if (boxes.some((b) => inside(p, b))) t.inBox++;
  for (const b of boxes) {
    const k = bins.findIndex((lo, i) => b.energy >= lo && b.energy < bins[i + 1]!);
    t.boxes[k]!++;
    if (!sites.some((p) => inside(p, b))) t.boxesEmptied[k]!++;
  }
}

const bs = Number(a.batch);
for (let i0 = 0; i0 < n; i0 += bs) {
  const idx = Array.from({ length: Math.min(bs, n - i0) }, (_, k) => i0 + k);
  const dense = reader.readDense(idx);
  // Each interaction with a box (interaction.box indexes the image's boxes), at its true energy.
  const boxesOf = idx.map((i) => {
    const boxes = reader.boxes(i);
    return reader
      .interactions(i)
      .filter((it) => it.box >= 0)
      .map((it) => {
        const b = boxes[it.box]!;
        return { x1: Math.floor(b.x1), y1: Math.floor(b.y1), x2: Math.ceil(b.x2), y2: Math.ceil(b.y2), energy: it.energyMeV };
      });
  });
  tidy(() => {
    const s = SparseTensor.fromDense(tensor(dense, { shape: [idx.length, C, H, W] }));
    sitesOf(s).forEach((sites, k) => count(before, sites, boxesOf[k]!));
    for (const r of radii) sitesOf(dropIsolated(s, r)).forEach((sites, k) => count(after.get(r)!, sites, boxesOf[k]!));
  });
}
reader.close();

const r3 = (x: number) => +x.toFixed(3);
console.log(
  JSON.stringify({
    bench: 'isolated-drop',
    data: a.data,
    images: n,
    active_pixels_per_image: r3(before.pixels / n),
    pixels_in_boxes_per_image: r3(before.inBox / n),
    boxes_by_energy: Object.fromEntries(before.boxes.map((c, i) => [binName(i), c])),
    radii: radii.map((r) => {
      const t = after.get(r)!;
      return {
        radius: r,
        active_pixels_per_image: r3(t.pixels / n),
        kept_fraction: r3(t.pixels / before.pixels),
        in_box_kept_fraction: r3(t.inBox / before.inBox),
        outside_box_kept_fraction: r3((t.pixels - t.inBox) / (before.pixels - before.inBox)),
        boxes_emptied_fraction: r3(t.boxesEmptied.reduce((p, q) => p + q, 0) / t.boxes.reduce((p, q) => p + q, 0)),
        boxes_emptied_by_energy: Object.fromEntries(t.boxesEmptied.map((e, i) => [binName(i), t.boxes[i] ? r3(e / t.boxes[i]!) : null])),
      };
    }),
  }),
);
