// A continuous TP stream (`simulate --stream`): every face read without gaps, window after window,
// with the backgrounds of the image simulator at their rates and signal interactions Poisson in
// time that fall where they fall, across window edges too.
//
// How a stream is made from the image physics. Face f's time is cut into chunks of one readout
// window (cfg.detector.windowTicks); chunk k is simulated as image-like window k: its backgrounds
// (arrivals uniform in the chunk, as an image's), plus every signal interaction whose vertex charge
// arrives within SIGNAL_MARGIN_TICKS of the chunk. An interaction is transported from its own
// random stream (seeded by its id) in every chunk it reaches, so each chunk sees the same deposits,
// and the TP finder keeps a TP in the chunk holding its peak: an interaction across an edge leaves
// its early TPs in one chunk and its late TPs in the next, as a real one does. What remains of the
// image cut: a background decay's charge arriving after its chunk's end is lost (blips last ≲ 20
// ticks, so ≈ 0.5 % of background TPs at the default window), and the waveform noise of a signal
// cluster straddling an edge is drawn once per chunk.
//
// Deterministic: the stream depends only on (config, seed, faces, rate profile, energy sampler).
import type { SimConfig } from './config.js';
import { Deposits } from './deposits.js';
import { DetectorResponse, DetSim } from './detsim.js';
import { transportInteraction } from './event.js';
import { makeGeometry, type Geometry } from './geometry.js';
import { simulateBackgrounds } from './radiologicals.js';
import { imageSeed, Random } from './random.js';
import { makeEnergySampler, type EnergySampler } from './spectrum.js';
import { allocTpBatch, type TpBatch, type TpInteraction, type TpStream } from './tp-stream.js';
import { TpList } from './tps.js';
import { Transport } from './transport.js';

/**
 * How far (ticks) from the arrival tick of its vertex charge a signal interaction's TPs can reach: a
 * 70 MeV νe-CC electron showers over up to ~2 m of drift (1 000 interactions: the TPs' peak times
 * span ≤ 1 985 ticks for 99 %, ≤ 2 878 for all, and reach ≤ 2 400 ticks from the vertex's arrival;
 * docs/trigger.md "Overlap"), so chunks transport every interaction arriving within this margin.
 */
export const SIGNAL_MARGIN_TICKS = 3000;

/** When signal interactions happen: a rate in Hz per face at t seconds from the stream's start.
 *  A supernova burst injects its time profile here (and its spectrum through `energy`). */
export interface InteractionTimeProfile {
  rateHz(tSeconds: number): number;
  /** An upper bound of rateHz over the stream (interactions are drawn by thinning). */
  maxRateHz: number;
}

export interface StreamSimOptions {
  /** Stream length, s (rounded up to whole windows). */
  seconds: number;
  /** APA faces (face ids 0 … faces − 1). */
  faces: number;
  /** Constant signal rate per face, Hz (ignored when `profile` is given). */
  snRateHz?: number;
  profile?: InteractionTimeProfile;
  /** Eν sampler (default: the config's spectrum). */
  energy?: EnergySampler;
  seed: number;
  /** First chunk (window) index: a stream resumed at window k is the tail of the whole one. */
  firstWindow?: number;
}

/** Offline channel of a collection wire: FD-HD numbering (2 560 channels per APA, collection
 *  1600‥2559, 480 per drift face) when a face has ≤ 480 wires, else face·channels + wire. */
export function offlineChannel(face: number, wire: number, channelsPerFace: number): number {
  if (channelsPerFace <= 480) return Math.floor(face / 2) * 2560 + 1600 + (face % 2) * 480 + wire;
  return face * channelsPerFace + wire;
}

interface Pending {
  id: number;
  arrival: number;
  energyMeV: number;
  emitted: boolean;
}

/** The stream; each batch is one window of every face, rows in timeStart order. */
export function simulateTpStream(cfg: SimConfig, o: StreamSimOptions): TpStream {
  if (!(o.seconds > 0)) throw new Error(`simulateTpStream: seconds must be > 0, got ${o.seconds}`);
  if (!(Number.isInteger(o.faces) && o.faces >= 1)) throw new Error(`simulateTpStream: faces must be a whole number ≥ 1, got ${o.faces}`);
  const g = makeGeometry(cfg);
  const W = g.windowTicks;
  const windows = Math.ceil(o.seconds / g.windowS);
  const rate = o.snRateHz ?? 0;
  const profile: InteractionTimeProfile = o.profile ?? { rateHz: () => rate, maxRateHz: rate };
  const energy = o.energy ?? makeEnergySampler(cfg);
  async function* batches(): AsyncGenerator<{ tps: TpBatch; interactions: TpInteraction[] }> {
    const faces = Array.from({ length: o.faces }, (_, f) => new FaceSim(cfg, g, o.seed, f, o.faces, profile, energy));
    for (let k = o.firstWindow ?? 0; k < windows; k++) {
      const interactions: TpInteraction[] = [];
      const lists = faces.map((fs) => fs.chunk(k, interactions));
      yield { tps: toBatch(lists, k * W, cfg.detector.channels), interactions };
    }
  }
  return { header: { originDts: 0n, sources: [`sim:seed=${o.seed},faces=${o.faces},seconds=${o.seconds}`], hasTruth: true }, batches: batches() };
}

/** One face's simulator: its signal interactions drawn ahead in time, one chunk at a time. */
class FaceSim {
  private readonly response: DetectorResponse;
  private readonly detsim: DetSim;
  private readonly deposits = new Deposits();
  private readonly tps = new TpList();
  private readonly nuDir = new Float64Array(3);
  private readonly dir = new Float64Array(3);
  private readonly times: Random;
  private readonly faceSeed: number;
  private readonly pending: Pending[] = [];
  /** Arrival tick of the last drawn candidate time (thinning), and interactions drawn so far. */
  private tDrawn = 0;
  private drawn = 0;
  private readonly perTick: number;

  constructor(
    private readonly cfg: SimConfig,
    private readonly g: Geometry,
    seed: number,
    readonly face: number,
    private readonly faces: number,
    private readonly profile: InteractionTimeProfile,
    private readonly energy: EnergySampler,
  ) {
    this.response = new DetectorResponse(cfg, g);
    this.detsim = new DetSim(this.response);
    this.faceSeed = imageSeed(seed, 0x5eed0000 + face);
    this.times = new Random(imageSeed(this.faceSeed, 0x7fffffff));
    // One supernova direction for the whole stream (all faces see the same sky).
    new Random(imageSeed(seed, 0x51a)).isotropic(this.nuDir);
    this.perTick = g.windowS / g.windowTicks;
  }

  /** Draws interactions (thinning of a Poisson process at maxRateHz) until past `untilTick`. */
  private drawUntil(untilTick: number): void {
    const max = this.profile.maxRateHz;
    if (!(max > 0)) return;
    while (this.tDrawn < untilTick) {
      this.tDrawn += -Math.log(1 - this.times.uniform()) / (max * this.perTick);
      const tS = this.tDrawn * this.perTick;
      if (this.times.uniform() * max >= this.profile.rateHz(tS)) continue;
      const id = this.drawn++ * this.faces + this.face;
      const rng = new Random(imageSeed(this.faceSeed, id));
      this.pending.push({ id, arrival: this.tDrawn, energyMeV: this.energy.sample(rng), emitted: false });
    }
  }

  /** Chunk k's TPs (times relative to the chunk); interactions first reached are added to `out`. */
  chunk(k: number, out: TpInteraction[]): TpList {
    const g = this.g;
    const W = g.windowTicks;
    const t0 = k * W;
    this.drawUntil(t0 + W + SIGNAL_MARGIN_TICKS);
    while (this.pending.length && this.pending[0].arrival < t0 - SIGNAL_MARGIN_TICKS) this.pending.shift();
    const rng = new Random(imageSeed(this.faceSeed, 0x40000000 + k));
    const dep = this.deposits;
    dep.clear();
    const ids: number[] = [];
    for (const p of this.pending) {
      if (p.arrival >= t0 + W + SIGNAL_MARGIN_TICKS) break;
      const prng = new Random(imageSeed(this.faceSeed, p.id));
      const eNu = this.energy.sample(prng);
      const truth = transportInteraction(this.cfg, g, new Transport(this.cfg, g, prng, dep), prng, eNu, this.nuDir, this.dir, ids.length, p.arrival - t0);
      ids.push(p.id);
      if (!p.emitted) {
        p.emitted = true;
        out.push({
          id: p.id,
          face: this.face,
          time: p.arrival - truth.driftCm / g.cmPerTick,
          energyMeV: p.energyMeV,
          electronMeV: truth.electronMeV ?? NaN,
          origin: 'sim',
        });
      }
    }
    simulateBackgrounds(this.cfg, new Transport(this.cfg, g, rng, dep), rng);
    const tps = this.tps;
    tps.clear();
    this.detsim.run(dep, rng, tps);
    for (let i = 0; i < tps.n; i++) if (tps.owner[i] >= 0) tps.owner[i] = ids[tps.owner[i]];
    return tps;
  }
}

/** The chunk's TPs of every face as one batch, absolute times, rows by timeStart (then face, wire). */
function toBatch(lists: TpList[], t0: number, channelsPerFace: number): TpBatch {
  let n = 0;
  for (const l of lists) n += l.n;
  const keys = new Float64Array(n);
  const src = new Int32Array(n);
  const face = new Int32Array(n);
  let r = 0;
  lists.forEach((l, f) => {
    for (let i = 0; i < l.n; i++, r++) {
      src[r] = i;
      face[r] = f;
    }
  });
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) keys[i] = lists[face[i]].timeStart[src[i]];
  order.sort((a, b) => keys[a] - keys[b] || face[a] - face[b] || lists[face[a]].channel[src[a]] - lists[face[b]].channel[src[b]]);
  const b = allocTpBatch(n);
  b.n = n;
  for (let j = 0; j < n; j++) {
    const f = face[order[j]],
      i = src[order[j]],
      l = lists[f];
    b.face[j] = f;
    b.wire[j] = l.channel[i];
    b.channel[j] = offlineChannel(f, l.channel[i], channelsPerFace);
    b.plane[j] = 2;
    b.timeStart[j] = t0 + l.timeStart[i];
    b.timePeak[j] = t0 + l.timePeak[i];
    b.timeOverThreshold[j] = l.timeOverThreshold[i];
    b.adcIntegral[j] = l.adcIntegral[i];
    b.adcPeak[j] = l.adcPeak[i];
    b.owner[j] = l.owner[i];
  }
  return b;
}
