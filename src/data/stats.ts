// Dataset statistics for `daqyolo stats`: split sizes, occupancy, TPs per image by source, boxes per
// image, box-size distribution, neutrino energy spectrum (with the fraction that made a box), and a
// realism check: IoU k-means anchors of the box sizes next to the seed's anchors.
import { kmeansAnchors } from '../anchors/kmeans.js';
import { SPLIT_NAMES } from './splits.js';
import type { DatasetReader, DatasetTables } from './store.js';

/** The anchors of the seed's SNNu dataset, in 480-px images (Bristol DAQ ML studies; PHYSICS.md). */
export const SEED_ANCHORS: [number, number][] = [
  [3, 2],
  [3, 3],
  [4, 3],
  [6, 6],
  [9, 12],
  [13, 33],
  [26, 16],
  [39, 51],
  [217, 143],
];

export interface DatasetStats {
  file: string;
  images: number;
  shape: [number, number, number];
  layout: string;
  classNames: string[];
  splits: Record<string, number>;
  occupancy: { meanPixelsPerImage: number; meanFraction: number; maxPixels: number } | null;
  tpsPerImage: Record<string, number> | null;
  decaysPerImage: Record<string, number> | null;
  boxesPerImage: { mean: number; histogram: Record<string, number> };
  boxSize: { count: number; w: Percentiles; h: Percentiles };
  energy: { binsMeV: number[]; interactions: number[]; withBox: number[]; totalInteractions: number; invisible: number };
  anchors: {
    kmeans: [number, number][];
    meanIouOwn: number;
    seed: [number, number][];
    meanIouSeed: number;
    /** Our anchors scaled to the seed's image size when the images are not 480 px. */
    scaleTo480: number;
  } | null;
}

interface Percentiles {
  mean: number;
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentiles(a: Float32Array): Percentiles {
  if (a.length === 0) return { mean: 0, p10: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const s = Float32Array.from(a).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { mean: s.reduce((x, y) => x + y, 0) / s.length, p10: q(0.1), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] };
}

/** Mean over boxes of the best centred IoU with any anchor. */
export function meanBestIou(w: Float32Array, h: Float32Array, anchors: readonly (readonly [number, number])[]): number {
  if (w.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    let best = 0;
    for (const [aw, ah] of anchors) {
      const inter = Math.min(w[i], aw) * Math.min(h[i], ah);
      best = Math.max(best, inter / (w[i] * h[i] + aw * ah - inter));
    }
    sum += best;
  }
  return sum / w.length;
}

export function datasetStats(r: DatasetReader & DatasetTables): DatasetStats {
  const n = r.numImages;
  const splits: Record<string, number> = {};
  for (const s of SPLIT_NAMES) splits[s] = r.split(s).length;
  const pc = r.pixelCounts();
  let occupancy: DatasetStats['occupancy'] = null;
  if (pc) {
    let sum = 0,
      max = 0;
    for (const v of pc) {
      sum += v;
      max = Math.max(max, v);
    }
    occupancy = { meanPixelsPerImage: sum / n, meanFraction: sum / n / (r.height * r.width), maxPixels: max };
  }
  const perImage = (name: 'decays' | 'tps_by_source') => {
    const t = r.table(name);
    if (!t) return null;
    const out: Record<string, number> = {};
    t.columns.forEach((c, j) => {
      let s = 0;
      for (let i = 0; i < t.rows; i++) s += t.data[i * t.columns.length + j];
      out[c] = s / Math.max(1, t.rows);
    });
    return out;
  };
  const hist: Record<string, number> = { '0': 0, '1': 0, '2': 0, '3': 0, '4+': 0 };
  let nBoxes = 0;
  for (let i = 0; i < n; i++) {
    const k = r.boxes(i).length;
    nBoxes += k;
    hist[k >= 4 ? '4+' : String(k)]++;
  }
  const { w, h } = r.boxSizes();
  const ints = r.allInteractions();
  const binsMeV = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70];
  const counts = new Array(binsMeV.length).fill(0);
  const withBox = new Array(binsMeV.length).fill(0);
  let invisible = 0;
  for (let k = 0; k < ints.energy.length; k++) {
    const b = Math.min(binsMeV.length - 1, Math.floor(ints.energy[k] / 5));
    counts[b]++;
    if (ints.box[k] >= 0) withBox[b]++;
    else invisible++;
  }
  let anchors: DatasetStats['anchors'] = null;
  if (w.length >= 9) {
    const km = kmeansAnchors(w, h, { k: 9, seed: 0, restarts: 3 });
    const scale = 480 / r.width;
    const sw = Float32Array.from(w, (x) => x * scale);
    const sh = Float32Array.from(h, (x) => x * (480 / r.height));
    const own = km.anchors.map(([a, b]) => [round1(a * scale), round1(b * (480 / r.height))] as [number, number]);
    anchors = { kmeans: own, meanIouOwn: meanBestIou(sw, sh, own), seed: SEED_ANCHORS, meanIouSeed: meanBestIou(sw, sh, SEED_ANCHORS), scaleTo480: scale };
  }
  return {
    file: r.path,
    images: n,
    shape: [r.channels, r.height, r.width],
    layout: String(r.attrs.layout ?? 'sparse'),
    classNames: r.classNames,
    splits,
    occupancy,
    tpsPerImage: perImage('tps_by_source'),
    decaysPerImage: perImage('decays'),
    boxesPerImage: { mean: nBoxes / Math.max(1, n), histogram: hist },
    boxSize: { count: w.length, w: percentiles(w), h: percentiles(h) },
    energy: { binsMeV, interactions: counts, withBox, totalInteractions: ints.energy.length, invisible },
    anchors,
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Human-readable report. */
export function formatStats(s: DatasetStats): string {
  const f = (x: number, d = 2) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d));
  const lines: string[] = [];
  lines.push(`${s.file}: ${s.images} images, [C,H,W] = [${s.shape.join(',')}], ${s.layout}, classes ${s.classNames.join(',')}`);
  lines.push(
    `splits: ${Object.entries(s.splits)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (s.occupancy)
    lines.push(
      `occupancy: ${f(s.occupancy.meanPixelsPerImage, 1)} non-zero pixels per image (${(100 * s.occupancy.meanFraction).toFixed(3)} %), max ${s.occupancy.maxPixels}`,
    );
  if (s.tpsPerImage)
    lines.push(
      `TPs per image (one face, one window) by source: ${Object.entries(s.tpsPerImage)
        .map(([k, v]) => `${k} ${f(v, 3)}`)
        .join(', ')}`,
    );
  if (s.decaysPerImage)
    lines.push(
      `decays per image (one face, one window) by source: ${Object.entries(s.decaysPerImage)
        .map(([k, v]) => `${k} ${f(v, 3)}`)
        .join(', ')}`,
    );
  lines.push(
    `boxes per image: mean ${f(s.boxesPerImage.mean)}; images with ${Object.entries(s.boxesPerImage.histogram)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}`,
  );
  const p = (q: Percentiles) => `mean ${f(q.mean, 1)}, p10 ${q.p10}, p50 ${q.p50}, p90 ${q.p90}, p99 ${q.p99}, max ${q.max}`;
  lines.push(`box width (channels axis, px): ${p(s.boxSize.w)}`);
  lines.push(`box height (time axis, px):    ${p(s.boxSize.h)}`);
  const e = s.energy;
  lines.push(`neutrino energy (${e.totalInteractions} interactions, ${e.invisible} without a box):`);
  for (let i = 0; i < e.binsMeV.length; i++) {
    if (e.interactions[i] === 0) continue;
    const lo = e.binsMeV[i];
    const label = i === e.binsMeV.length - 1 ? `≥${lo}` : `${lo}–${lo + 5}`;
    lines.push(`  ${label.padEnd(6)} MeV: ${String(e.interactions[i]).padStart(6)}  with box ${((100 * e.withBox[i]) / e.interactions[i]).toFixed(1)} %`);
  }
  if (s.anchors) {
    const a = (xs: [number, number][]) => xs.map(([x, y]) => `[${x},${y}]`).join(' ');
    lines.push(`anchors (IoU k-means, k=9, in 480 px): ${a(s.anchors.kmeans)}  mean best IoU ${s.anchors.meanIouOwn.toFixed(3)}`);
    lines.push(`seed anchors:                          ${a(s.anchors.seed)}  mean best IoU of these boxes ${s.anchors.meanIouSeed.toFixed(3)}`);
    // Per scale, ours by area (smallest three → detailed) beside the seed's as it grouped them.
    const own = [...s.anchors.kmeans].sort((p, q) => p[0] * p[1] - q[0] * q[1]),
      seed = s.anchors.seed;
    (['detailed', 'intermediate', 'coarse'] as const).forEach((name, k) => {
      lines.push(`  ${name.padEnd(12)} ours ${a(own.slice(3 * k, 3 * k + 3)).padEnd(28)} seed ${a(seed.slice(3 * k, 3 * k + 3))}`);
    });
  } else {
    lines.push('anchors: fewer than 9 boxes, no k-means');
  }
  return lines.join('\n');
}
