// What the trigger fires on at the lowest rates. An fprate count keeps its highest-scoring
// background images (state.top: stream index, score, box); each is one index of the seeded stream,
// so it can be made again exactly. `fprate --write-top top.h5` writes them as a simulated dataset
// with their TPs and who made each TP, for `detect` and `show` to draw as event displays, and
// describes each candidate by what its box holds: TPs by source and their ΣADC.
import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { openDataset } from '../data/store.js';
import { makeSplits } from '../data/splits.js';
import { simulatedAttrs } from '../data/generate.js';
import { DatasetWriter } from '../data/writer.js';
import { BACKGROUND_SOURCES, bgIndex, NOISE_OWNER } from '../sim/deposits.js';
import { Simulator, TP_SOURCES } from '../sim/event.js';
import { pixelX, pixelY } from '../sim/image.js';
import { packRecords } from '../sim/pack.js';
import type { FpState, FpTopImage } from './fprate-state.js';
import { simulatorOf } from './evaluate.js';

export interface TopImageSummary extends FpTopImage {
  /** Position in the written dataset (and in the list: 0 = highest score). */
  rank: number;
  /** The box in detector coordinates: channels [first, last] and ticks [first, last]. */
  channels: [number, number];
  ticks: [number, number];
  /** TPs whose pixel centre lies inside the box (the TP rule's notion of "held"), by source. */
  tps: number;
  bySource: Record<string, number>;
  sumAdc: number;
  /** The same within NEAR_PIXELS of the box: what the network saw around it (a box a pixel off a
   *  small cluster holds none of its TPs). */
  near: { tps: number; bySource: Record<string, number>; sumAdc: number };
  /** TPs in the whole image. */
  imageTps: number;
}

/** Margin in pixels around a candidate box within which its TPs are listed as near it. */
export const NEAR_PIXELS = 2;

/** Source name of a TP owner: `signal` (never on a background-only image), a background source, or noise. */
export function ownerSource(owner: number): string {
  if (owner >= 0) return 'signal';
  if (owner === NOISE_OWNER) return 'noise';
  return BACKGROUND_SOURCES[bgIndex(owner)] ?? 'unknown';
}

/**
 * Regenerates the state's highest-scoring images from the dataset's simulator and writes them to
 * `out` (all in the eval split, TPs stored), best first; returns what each candidate box holds.
 * The state's stream must be the dataset's (the caller checked its digest by measuring with it).
 */
export function writeTopImages(o: { state: FpState; statePath: string; data: string; out: string; count?: number; force?: boolean }): TopImageSummary[] {
  const top = o.state.top;
  if (!top || top.images === 0)
    throw new UserError(`${o.statePath}: keeps no highest-scoring images (an older daqyolo wrote it); measure again (delete it) to write them`);
  const list = top.list;
  if (list.length === 0) throw new UserError(`${o.statePath}: no candidate above the decode threshold on any of its ${top.images} images: nothing to write`);
  if (!existsSync(o.data)) throw new UserError(`${o.data}: dataset not found (the one whose simulator the count streamed)`);
  const reader = openDataset(o.data);
  const sim = simulatorOf(reader.attrs, o.data);
  reader.close();
  const chosen = list.slice(0, o.count ?? list.length);
  const simulator = new Simulator(sim.config, o.state.seed);
  const layout = simulator.layout;
  const writer = new DatasetWriter({
    path: o.out,
    force: o.force ?? false,
    layout: 'sparse',
    channels: layout.channels,
    height: layout.height,
    width: layout.width,
    storeTps: true,
    attrs: {
      ...simulatedAttrs(sim.config, o.state.seed, [0, 0, 1], 'daqyolo fprate --write-top'),
      // Image k of this file is image fprate_top[k].image of the stream, not image k of the seed.
      fprate_top: JSON.stringify({ run: o.state.run, checkpointDigest: o.state.checkpointDigest, seed: o.state.seed, images: top.images, list: chosen }),
    },
  });
  const out: TopImageSummary[] = [];
  try {
    chosen.forEach((t, rank) => {
      const rec = simulator.image(t.image, { keepTps: true, signal: false });
      writer.appendChunk(packRecords(rank, [rec], layout.channels, true));
      const tps = rec.tps!;
      const [x1, y1, x2, y2] = t.box;
      const within = (margin: number) => {
        const bySource: Record<string, number> = {};
        let tpsIn = 0,
          sumAdc = 0;
        for (let i = 0; i < tps.n; i++) {
          const cx = pixelX(layout, tps.channel[i]!) + 0.5;
          const cy = pixelY(layout, tps.timePeak[i]!) + 0.5;
          if (cx < x1 - margin || cx > x2 + margin || cy < y1 - margin || cy > y2 + margin) continue;
          tpsIn++;
          sumAdc += tps.adcIntegral[i]!;
          const s = ownerSource(tps.owner[i]!);
          bySource[s] = (bySource[s] ?? 0) + 1;
        }
        return { tps: tpsIn, bySource, sumAdc };
      };
      const inside = within(0);
      const clampPx = (v: number, n: number) => Math.min(n, Math.max(0, v));
      out.push({
        ...t,
        rank,
        channels: [Math.floor(clampPx(x1, layout.width) * layout.wiresPerPixel), Math.ceil(clampPx(x2, layout.width) * layout.wiresPerPixel) - 1],
        ticks: [Math.floor(clampPx(y1, layout.height) * layout.ticksPerPixel), Math.ceil(clampPx(y2, layout.height) * layout.ticksPerPixel) - 1],
        ...inside,
        near: within(NEAR_PIXELS),
        imageTps: tps.n,
      });
    });
    writer.finish(makeSplits(chosen.length, [0, 0, 1], o.state.seed), { decays: BACKGROUND_SOURCES, tps: TP_SOURCES });
  } catch (e) {
    writer.abort();
    throw e;
  }
  return out;
}

/** One line per image for the terminal: rank, score, where, and what the box holds. */
export function topImageLines(summaries: readonly TopImageSummary[]): string[] {
  const sources = (bySource: Record<string, number>) =>
    Object.entries(bySource)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
  return summaries.map(
    (s) =>
      `  ${String(s.rank).padStart(3)}  ${s.score.toFixed(3)}  stream image ${s.image}, channels ${s.channels[0]}–${s.channels[1]}, ticks ${s.ticks[0]}–${s.ticks[1]}: ` +
      `${s.tps} TPs inside${s.tps ? ` (${sources(s.bySource)}, ΣADC ${Math.round(s.sumAdc)})` : ''}; ` +
      `within ${NEAR_PIXELS} px ${s.near.tps}${s.near.tps ? ` (${sources(s.near.bySource)}, ΣADC ${Math.round(s.near.sumAdc)})` : ''}`,
  );
}
