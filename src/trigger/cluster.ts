// The TDR-era supernova trigger on collection TPs (PHYSICS.md "the classical baseline"): TPs on
// nearby channels (gap ≤ channelTolerance) whose peak times differ by ≤ maxDtTicks are linked
// (single linkage), a linked group is a cluster, and a cluster with ≥ minHits TPs on ≥ minChannels
// channels is a candidate scored by its ΣADC (summed adc_integral). Scanning the ΣADC threshold gives
// its efficiency versus false-positive rate, on the same footing as the network's score.
import { pixelX, pixelY, type ImageLayout } from '../sim/image.js';

export interface ClusterParams {
  /** Largest channel gap inside a cluster: 1 = adjacent wires only, 2 = one dead or silent wire allowed. */
  channelTolerance: number;
  /** Largest difference of peak times between linked TPs, ticks (TDR: 20). */
  maxDtTicks: number;
  /** Fewest TPs in a candidate (TDR: 2–6). */
  minHits: number;
  /** Fewest distinct channels in a candidate (TDR: 2). */
  minChannels: number;
  /** ΣADC threshold of the headline table (TDR: 350–450 on the 12-bit scale); the scan covers every value. */
  minSumAdc: number;
}

/** Defaults: the TDR's numbers; ΣADC threshold scaled with the ADC counts (× 4 for 14 bits). */
export function defaultClusterParams(adcBits = 12): ClusterParams {
  return { channelTolerance: 2, maxDtTicks: 20, minHits: 3, minChannels: 2, minSumAdc: 400 * 2 ** (adcBits - 12) };
}

/** The TP fields the clustering reads. */
export interface TpColumns {
  channel: ArrayLike<number>;
  timePeak: ArrayLike<number>;
  adcIntegral: ArrayLike<number>;
}

export interface Candidate {
  /** Box in image pixels, [x1, y1, x2, y2] as the truth boxes (a one-pixel cluster is 1 × 1). */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  sumAdc: number;
  hits: number;
  channels: number;
  /** Indices of its TPs in the image's TP list (what the TP matching rule counts). */
  tps: number[];
}

/** Clusters the n TPs of one image and returns its candidates (every ΣADC; callers cut on it). */
export function clusterTps(tps: TpColumns, n: number, p: ClusterParams, layout: ImageLayout): Candidate[] {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => tps.timePeak[a] - tps.timePeak[b] || tps.channel[a] - tps.channel[b]);
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (let a = 0; a < n; a++) {
    const i = order[a];
    for (let b = a + 1; b < n; b++) {
      const j = order[b];
      if (tps.timePeak[j] - tps.timePeak[i] > p.maxDtTicks) break;
      if (Math.abs(tps.channel[j] - tps.channel[i]) <= p.channelTolerance) {
        const ri = find(i),
          rj = find(j);
        if (ri !== rj) parent[rj] = ri;
      }
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(i);
  }
  const out: Candidate[] = [];
  for (const g of groups.values()) {
    if (g.length < p.minHits) continue;
    const chans = new Set<number>();
    let sum = 0,
      x0 = Infinity,
      y0 = Infinity,
      x1 = -Infinity,
      y1 = -Infinity;
    for (const i of g) {
      chans.add(tps.channel[i]);
      sum += tps.adcIntegral[i];
      const x = pixelX(layout, tps.channel[i]),
        y = pixelY(layout, tps.timePeak[i]);
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
    if (chans.size < p.minChannels) continue;
    out.push({ x1: x0, y1: y0, x2: x1 + 1, y2: y1 + 1, sumAdc: sum, hits: g.length, channels: chans.size, tps: g });
  }
  return out.sort((a, b) => b.sumAdc - a.sumAdc);
}
