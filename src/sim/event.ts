// One image, from (config, seed, index) alone: signal interactions, backgrounds, detector
// response, TPs, image and truth. A Simulator holds the per-config tables and scratch buffers
// so that a worker can make thousands of images without reallocating.
import type { SimConfig } from './config.js';
import { BACKGROUND_SOURCES, bgIndex, Deposits, NOISE_OWNER } from './deposits.js';
import { DetectorResponse, DetSim } from './detsim.js';
import { makeGeometry, type Geometry } from './geometry.js';
import { boxOf, imageLayout, tpsToSparse, type ImageLayout, type SparseImage } from './image.js';
import { nueCC, nueES, PROCESSES } from './interactions.js';
import { simulateBackgrounds } from './radiologicals.js';
import { imageSeed, Random } from './random.js';
import { makeEnergySampler, type EnergySampler } from './spectrum.js';
import { TpList } from './tps.js';
import { rotate, Transport } from './transport.js';

/** Columns of the per-image TP count table: signal, each background source, noise. */
export const TP_SOURCES = ['signal', ...BACKGROUND_SOURCES, 'noise'] as const;

export interface InteractionTruth {
  energyMeV: number;
  /** Index into PROCESSES. */
  process: number;
  visibleEnergyMeV: number;
  nTps: number;
  /** Index into this image's boxes, or −1 when the interaction made no TP. */
  box: number;
  /** Vertex: detector channel (continuous), arrival tick of its charge, drift distance (cm). */
  vertexChannel: number;
  vertexTick: number;
  driftCm: number;
  /** Kinetic energy of the primary electron (0 for none), MeV; absent when unknown (imported). */
  electronMeV?: number;
}

export interface ImageRecord {
  index: number;
  seed: number;
  sparse: SparseImage;
  /** Boxes, row-major [x1, y1, x2, y2] in pixels. */
  boxes: Float32Array;
  boxClass: Int32Array;
  /** Index of each box's interaction in `interactions`. */
  boxInteraction: Int32Array;
  interactions: InteractionTruth[];
  /** Decays (or captures, external γ) simulated per background source. */
  decays: Int32Array;
  /** TPs per source, in TP_SOURCES order. */
  tpsBySource: Int32Array;
  /** The raw TPs (only kept when asked for). */
  tps?: TpList;
}

export function classNames(cfg: SimConfig): string[] {
  return cfg.signal.multiClass ? [...PROCESSES] : ['snnu'];
}

export class Simulator {
  readonly geo: Geometry;
  readonly layout: ImageLayout;
  readonly response: DetectorResponse;
  private readonly detsim: DetSim;
  private readonly deposits = new Deposits();
  private readonly tps = new TpList();
  private readonly energy: EnergySampler;
  private readonly nuDir = new Float64Array(3);
  private readonly dir = new Float64Array(3);

  constructor(
    readonly cfg: SimConfig,
    readonly seed: number,
  ) {
    this.geo = makeGeometry(cfg);
    this.layout = imageLayout(cfg);
    this.response = new DetectorResponse(cfg, this.geo);
    this.detsim = new DetSim(this.response);
    this.energy = makeEnergySampler(cfg);
  }

  /** Image `index` of the dataset; depends only on (config, seed, index). */
  image(index: number, opts: { keepTps?: boolean; signal?: boolean } = {}): ImageRecord {
    const cfg = this.cfg;
    const s = imageSeed(this.seed, index);
    const rng = new Random(s);
    const g = this.geo;
    const dep = this.deposits;
    dep.clear();
    const tr = new Transport(cfg, g, rng, dep);
    const sig = cfg.signal;
    const withSignal = opts.signal ?? true;
    const nSignal = !withSignal ? 0 : sig.mode === 'fixed' ? sig.perImage : rng.poisson(sig.perImage);
    // One supernova direction per image: all its neutrinos come from the same place.
    rng.isotropic(this.nuDir);
    const truths: InteractionTruth[] = [];
    for (let k = 0; k < nSignal; k++) {
      const eNu = this.energy.sample(rng);
      truths.push(transportInteraction(cfg, g, tr, rng, eNu, this.nuDir, this.dir, k));
    }
    const decays = simulateBackgrounds(cfg, tr, rng);
    const tps = this.tps;
    tps.clear();
    this.detsim.run(dep, rng, tps);

    const tpsBySource = new Int32Array(TP_SOURCES.length);
    for (let i = 0; i < tps.n; i++) {
      const o = tps.owner[i];
      if (o >= 0) {
        tpsBySource[0]++;
        truths[o].nTps++;
      } else if (o === NOISE_OWNER) tpsBySource[TP_SOURCES.length - 1]++;
      else tpsBySource[1 + bgIndex(o)]++;
    }
    const boxes: number[] = [];
    const boxClass: number[] = [];
    const boxInteraction: number[] = [];
    for (let k = 0; k < truths.length; k++) {
      if (truths[k].nTps === 0) continue;
      const b = boxOf(this.layout, tps, k)!;
      truths[k].box = boxClass.length;
      boxes.push(...b);
      boxClass.push(cfg.signal.multiClass ? truths[k].process : 0);
      boxInteraction.push(k);
    }
    const rec: ImageRecord = {
      index,
      seed: s,
      sparse: tpsToSparse(this.layout, tps),
      boxes: Float32Array.from(boxes),
      boxClass: Int32Array.from(boxClass),
      boxInteraction: Int32Array.from(boxInteraction),
      interactions: truths,
      decays,
      tpsBySource,
    };
    if (opts.keepTps) rec.tps = copyTps(tps);
    return rec;
  }
}

/**
 * One signal interaction of energy eNu at a uniform point of the face: its primaries (νe-CC or, with
 * elastic scattering on, ν–e ES) transported with owner `owner`. The charge of its vertex arrives at
 * `arrivalTick` (uniform over the window when omitted; drawn after the vertex, as images always did).
 * The image and the continuous stream (stream-sim.ts) both make their interactions here.
 */
export function transportInteraction(
  cfg: SimConfig,
  g: Geometry,
  tr: Transport,
  rng: Random,
  eNu: number,
  nuDir: Float64Array,
  dir: Float64Array,
  owner: number,
  arrivalTick?: number,
): InteractionTruth {
  const sig = cfg.signal;
  const es = sig.elasticScattering && rng.uniform() < sig.elasticFraction;
  const prim = es ? nueES(eNu, rng) : nueCC(cfg, eNu, rng);
  const u = rng.uniform() * g.widthCm;
  const v = rng.uniform() * g.lengthCm;
  const d = rng.uniform() * g.driftCm;
  const arrival = arrivalTick ?? rng.uniform() * g.windowTicks;
  tr.begin(arrival - d / g.cmPerTick, owner);
  if (prim.electronMeV > 0) {
    if (Number.isNaN(prim.electronCos)) rng.isotropic(dir);
    else {
      dir.set(nuDir);
      rotate(dir, prim.electronCos, 2 * Math.PI * rng.uniform());
    }
    tr.electron(u, v, d, dir[0], dir[1], dir[2], prim.electronMeV);
  }
  for (const e of prim.gammas) {
    rng.isotropic(dir);
    tr.photon(u, v, d, dir[0], dir[1], dir[2], e);
  }
  return {
    energyMeV: eNu,
    process: PROCESSES.indexOf(prim.process),
    visibleEnergyMeV: tr.visible,
    nTps: 0,
    box: -1,
    vertexChannel: u / g.pitchCm,
    vertexTick: arrival,
    driftCm: d,
    electronMeV: prim.electronMeV,
  };
}

function copyTps(t: TpList): TpList {
  const c = new TpList();
  for (let i = 0; i < t.n; i++) c.push(t.channel[i], t.timeStart[i], t.timePeak[i], t.timeOverThreshold[i], t.adcIntegral[i], t.adcPeak[i], t.owner[i]);
  return c;
}
