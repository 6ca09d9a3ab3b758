// Detector simulation: drifts the deposited charge to the collection wires (attenuation by the
// electron lifetime, longitudinal and transverse diffusion), forms the collection waveform
// (unipolar response, gain, noise, pedestal, digitisation with saturation) only on channels and
// times where there is charge, runs DUNE's TP finder on it (frugal pedestal, optional FIR,
// threshold), and adds the noise-only TPs of the rest of the face from the analytic model.
import type { SimConfig } from './config.js';
import { Deposits, NOISE_OWNER, type Owner } from './deposits.js';
import type { Geometry } from './geometry.js';
import { ar1Noise, NoiseTpModel } from './noise.js';
import { effectiveThreshold, normalCdf } from './threshold-crossing.js';
import type { Random } from './random.js';
import { finderTaps, findTps, pedestalSubtractAndFilter, TpList, type FinderOptions } from './tps.js';
import { Columns } from './columns.js';

/** Shape exponent of the unipolar response h(t) = (t/tp)^n e^{n(1 − t/tp)} (a CR–RC^n shaper). */
const SHAPE_N = 4;
/** Charges below this many electrons (≈ 0.05 ADC) are not followed. */
const MIN_ELECTRONS = 50;
/** A TP is truth-matched to the source whose noiseless signal gives at least this share of its integral. */
const MATCH_FRACTION = 0.2;
/** Noise-only ticks simulated before each charge cluster so the FIR and pedestal start settled. */
const LEAD_TICKS = 16;

export class DetectorResponse {
  /** Response per electron arriving at tick 0, sampled at ticks 0..K−1, in ADC. */
  readonly kernel: Float64Array;
  readonly adcPerElectron: number;
  readonly sigmaNoise: number;
  readonly rho: number;
  readonly threshold: number;
  readonly invLifetimeTicks: number;
  readonly sigmaLCm2PerTick: number; // 2 D_L per tick, cm²
  readonly sigmaTCm2PerTick: number;
  readonly finder: FinderOptions;
  readonly noiseModel: NoiseTpModel;
  readonly pedestal: number;
  readonly maxAdc: number;

  constructor(
    readonly cfg: SimConfig,
    readonly geo: Geometry,
  ) {
    const d = cfg.detector;
    const e = cfg.electronics;
    const tp = e.peakingTimeUs / d.tickUs; // peaking time in ticks
    const len = Math.ceil(tp * 5) + 1;
    this.kernel = new Float64Array(len);
    // Gain (PHYSICS.md): peak ADC per ke⁻ of charge arriving at once; the kernel peaks at 1 at t = tp.
    this.adcPerElectron = e.adcPerKe / 1000;
    for (let i = 0; i < len; i++) {
      const x = i / tp;
      this.kernel[i] = this.adcPerElectron * x ** SHAPE_N * Math.exp(SHAPE_N * (1 - x));
    }
    this.sigmaNoise = Math.hypot(e.noiseRmsAdc, e.coherentNoiseRmsAdc);
    this.rho = e.noiseCorrelation;
    this.threshold = cfg.tp.thresholdAdc;
    this.invLifetimeTicks = d.tickUs / d.electronLifetimeUs;
    this.sigmaLCm2PerTick = 2 * d.diffusionLongCm2PerS * d.tickUs * 1e-6;
    this.sigmaTCm2PerTick = 2 * d.diffusionTransCm2PerS * d.tickUs * 1e-6;
    this.finder = { taps: finderTaps(cfg.tp.fir), pedestal: cfg.tp.pedestal, frugalLimit: cfg.tp.frugalLimit };
    this.noiseModel = new NoiseTpModel(this.sigmaNoise, this.rho, { ...this.finder, thresholdAdc: this.threshold });
    this.pedestal = Math.round(e.pedestalAdc);
    this.maxAdc = 2 ** e.adcBits - 1;
  }

  /** Expected noise-only TPs per channel per window (the analytic model). */
  noiseTpsPerChannel(): number {
    return this.noiseModel.perChannel(this.geo.windowTicks);
  }

  /** Attenuation factor and diffusion widths (σ_u in cm, σ_t in ticks) after drifting d cm. */
  drift(dCm: number): { survive: number; sigmaUCm: number; sigmaTicks: number } {
    const ticks = dCm / this.geo.cmPerTick;
    return {
      survive: Math.exp(-ticks * this.invLifetimeTicks),
      sigmaUCm: Math.sqrt(this.sigmaTCm2PerTick * ticks),
      sigmaTicks: Math.sqrt(this.sigmaLCm2PerTick * ticks) / this.geo.cmPerTick,
    };
  }
}

/** Charge on one wire: arrival tick (centre), its spread, electrons, owner. */
class Hits extends Columns {
  protected readonly columns = ['channel', 'tick', 'sigma', 'q', 'owner'] as const;
  channel = new Int32Array(1024);
  tick = new Float64Array(1024);
  sigma = new Float64Array(1024);
  q = new Float64Array(1024);
  owner = new Int32Array(1024);
  push(c: number, t: number, s: number, q: number, o: Owner): void {
    const i = this.addRow();
    this.channel[i] = c;
    this.tick[i] = t;
    this.sigma[i] = s;
    this.q[i] = q;
    this.owner[i] = o;
  }
}

/** Scratch buffers reused across images of one worker (no allocation in the hot loop). */
export class DetSim {
  private readonly hits = new Hits();
  private order = new Int32Array(1024);
  private keys = new Float64Array(1024);
  private gauss = new Float64Array(4096); // Gaussian weights of one hit over ticks
  private sig = new Float64Array(4096); // per-owner noiseless waveforms, owner-major
  private charge = new Float64Array(4096);
  private wave = new Float64Array(4096);
  private noise = new Float64Array(4096);
  private found = new Float64Array(4096); // what the threshold compares
  private sub = new Float64Array(4096);
  private coherent: Map<number, Float64Array> = new Map();

  /** Clusters whose noiseless peak stays below this (ADC) are left to the analytic noise model. */
  private readonly skipBelow: number;
  private readonly noisePerChannel: number;

  constructor(readonly resp: DetectorResponse) {
    // The FIR never raises a peak (positive taps, unit gain); the pedestal may sit below the truth.
    this.skipBelow = effectiveThreshold(resp.threshold) + resp.noiseModel.minOffset - 5 * resp.sigmaNoise;
    this.noisePerChannel = resp.noiseTpsPerChannel();
  }

  /** Turns the deposits into TPs (appended to `tps`). */
  run(dep: Deposits, rng: Random, tps: TpList): void {
    const g = this.resp.geo;
    const hits = this.hits;
    hits.n = 0;
    this.coherent.clear();
    this.simulated.clear();
    const pitch = g.pitchCm;
    const r = this.resp;
    for (let i = 0; i < dep.n; i++) {
      const d = dep.d[i];
      const tick = dep.t0[i] + d / g.cmPerTick;
      if (tick < -50 || tick > g.windowTicks + 50) continue;
      // Inlined DetectorResponse.drift (hot loop: no object per deposit).
      const driftTicks = d / g.cmPerTick;
      const q = dep.electrons[i] * Math.exp(-driftTicks * r.invLifetimeTicks);
      if (q < MIN_ELECTRONS) continue;
      const sigmaUCm = Math.sqrt(r.sigmaTCm2PerTick * driftTicks);
      const sigmaTicks = Math.sqrt(r.sigmaLCm2PerTick * driftTicks) / g.cmPerTick;
      const u = dep.u[i];
      if (sigmaUCm < 0.02 * pitch) {
        hits.push(Math.floor(u / pitch), tick, sigmaTicks, q, dep.owner[i]);
        continue;
      }
      // Fraction of the charge collected by each wire: Gaussian integrated over the wire's cell.
      const c0 = Math.max(0, Math.floor((u - 3 * sigmaUCm) / pitch));
      const c1 = Math.min(g.channels - 1, Math.floor((u + 3 * sigmaUCm) / pitch));
      for (let c = c0; c <= c1; c++) {
        const f = normalCdf(((c + 1) * pitch - u) / sigmaUCm) - normalCdf((c * pitch - u) / sigmaUCm);
        const qc = q * f;
        if (qc >= MIN_ELECTRONS) hits.push(c, tick, sigmaTicks, qc, dep.owner[i]);
      }
    }
    if (hits.n > 0) this.waveforms(rng, tps);
    if (this.resp.cfg.tp.noiseTps) this.noiseOnly(rng, tps);
  }

  // Simulated [start, end) tick ranges per channel, so analytic noise TPs do not duplicate them.
  private simulated: Map<number, number[]> = new Map();

  private waveforms(rng: Random, tps: TpList): void {
    const hits = this.hits;
    const K = this.resp.kernel.length;
    if (this.order.length < hits.n) {
      this.order = new Int32Array(hits.n * 2);
      this.keys = new Float64Array(hits.n * 2);
    }
    // Sort by (channel, whole tick, insertion order) through one packed numeric key: a typed-array
    // sort without a comparator is several times faster than sorting indices with one.
    const keys = this.keys.subarray(0, hits.n);
    for (let i = 0; i < hits.n; i++) {
      const t = Math.min(16383, Math.max(0, Math.floor(hits.tick[i]) + 64));
      keys[i] = (hits.channel[i] * 16384 + t) * 1048576 + i;
    }
    keys.sort();
    const order = this.order.subarray(0, hits.n);
    for (let i = 0; i < hits.n; i++) order[i] = keys[i] % 1048576;
    const gap = 2 * K + 16;
    let i = 0;
    while (i < hits.n) {
      // A cluster: same channel, ticks closer than `gap`.
      const ch = hits.channel[order[i]];
      let j = i + 1;
      let lastEnd = hits.tick[order[i]] + 4 * hits.sigma[order[i]];
      while (j < hits.n && hits.channel[order[j]] === ch && hits.tick[order[j]] - 4 * hits.sigma[order[j]] < lastEnd + gap) {
        lastEnd = Math.max(lastEnd, hits.tick[order[j]] + 4 * hits.sigma[order[j]]);
        j++;
      }
      this.cluster(order, i, j, ch, rng, tps);
      i = j;
    }
  }

  /**
   * One cluster of hits on channel `ch` (hits order[i0..i1)): its noiseless waveform per owner,
   * digitised with noise, through the TP finder; the TPs found, with their truth owner, go to `tps`.
   */
  private cluster(order: Int32Array, i0: number, i1: number, ch: number, rng: Random, tps: TpList): void {
    const hits = this.hits;
    const resp = this.resp;
    const K = resp.kernel.length;
    // Cheap bound first: the response peaks at adcPerElectron per electron, so a cluster whose total
    // charge stays below threshold − 5 σ cannot make a TP except by noise (see below).
    let qSum = 0;
    for (let k = i0; k < i1; k++) qSum += hits.q[order[k]];
    if (qSum * resp.adcPerElectron < this.skipBelow) return;
    let lo = Infinity,
      hi = -Infinity;
    const owners: number[] = [];
    for (let k = i0; k < i1; k++) {
      const h = order[k];
      lo = Math.min(lo, hits.tick[h] - 4 * hits.sigma[h]);
      hi = Math.max(hi, hits.tick[h] + 4 * hits.sigma[h]);
      if (!owners.includes(hits.owner[h])) owners.push(hits.owner[h]);
    }
    // The segment may begin before the window: the detector reads continuously, the window is a slice.
    const start = Math.floor(lo) - 2 - LEAD_TICKS;
    const end = Math.min(resp.geo.windowTicks, Math.ceil(hi) + K + 2);
    const n = end - start;
    if (n <= 0) return;
    this.reserve(n, owners.length);
    this.noiselessWaveforms(order, i0, i1, owners, start, n);
    // A cluster that cannot reach threshold even with a 5 σ noise swing is left to the analytic
    // noise model (as if empty): this skips most ³⁹Ar blips without changing the statistics.
    let maxSig = 0;
    for (let y = 0; y < n; y++) if (this.wave[y] > maxSig) maxSig = this.wave[y];
    if (maxSig < this.skipBelow) return;
    let ranges = this.simulated.get(ch);
    if (!ranges) this.simulated.set(ch, (ranges = []));
    ranges.push(start, end);
    this.digitise(ch, start, n, rng);
    this.findClusterTps(ch, start, n, owners, rng, tps);
  }

  /** Grows the scratch buffers for a segment of n ticks and `owners` owners. */
  private reserve(n: number, owners: number): void {
    const K = this.resp.kernel.length;
    if (this.sig.length < n * owners) this.sig = new Float64Array(n * owners * 2);
    if (this.charge.length < n + K) {
      this.charge = new Float64Array((n + K) * 2);
      this.wave = new Float64Array((n + K) * 2);
      this.noise = new Float64Array((n + K) * 2);
      this.found = new Float64Array((n + K) * 2);
      this.sub = new Float64Array((n + K) * 2);
    }
  }

  /**
   * Each owner's charge binned in ticks (Gaussian in time from longitudinal diffusion, the window
   * can clip it), then folded with the response: `sig` (owner-major, n ticks each from `start`);
   * their sum, the noiseless waveform, in `wave`. The response starts before `start` too: charge
   * from up to K ticks earlier is included.
   */
  private noiselessWaveforms(order: Int32Array, i0: number, i1: number, owners: readonly number[], start: number, n: number): void {
    const hits = this.hits;
    const kern = this.resp.kernel;
    const K = kern.length;
    const no = owners.length;
    const sig = this.sig;
    sig.fill(0, 0, n * no);
    const wave = this.wave;
    wave.fill(0, 0, n);
    for (let o = 0; o < no; o++) {
      const charge = this.charge;
      charge.fill(0, 0, n + K);
      // charge[j] is the charge arriving at tick start − K + j.
      const base = start - K;
      for (let k = i0; k < i1; k++) {
        const h = order[k];
        if (hits.owner[h] !== owners[o]) continue;
        this.binCharge(charge, n + K, hits.tick[h] - base, hits.sigma[h], hits.q[h]);
      }
      const off = o * n;
      for (let x = 0; x < n + K; x++) {
        const q = charge[x];
        if (q === 0) continue;
        // Charge at index x lands at waveform sample x − K + m for kernel sample m (0 ≤ y < n:
        // the bounds of m, hoisted out of the loop; the same sums in the same order).
        const m0 = Math.max(0, K - x),
          m1 = Math.min(K, n + K - x),
          b = off + x - K;
        for (let m = m0; m < m1; m++) sig[b + m] += q * kern[m];
      }
      for (let y = 0; y < n; y++) wave[y] += sig[off + y];
    }
  }

  /** Adds charge q arriving at tick t (σ s ticks) to charge[0..len): linear split when narrow, else Gaussian. */
  private binCharge(charge: Float64Array, len: number, t: number, s: number, q: number): void {
    if (s < 0.3) {
      const f = Math.floor(t);
      const w = t - f;
      if (f >= 0 && f < len) charge[f] += q * (1 - w);
      if (f + 1 >= 0 && f + 1 < len) charge[f + 1] += q * w;
      return;
    }
    const a = Math.max(0, Math.floor(t - 3.5 * s));
    const b = Math.min(len - 1, Math.ceil(t + 3.5 * s));
    if (b - a + 1 > this.gauss.length) this.gauss = new Float64Array(2 * (b - a + 1));
    const gw = this.gauss;
    const inv = 1 / s;
    let norm = 0;
    for (let x = a; x <= b; x++) {
      const z = (x - t) * inv;
      norm += gw[x - a] = Math.exp(-0.5 * z * z);
    }
    if (norm > 0) {
      const qn = q / norm;
      for (let x = a; x <= b; x++) charge[x] += qn * gw[x - a];
    }
  }

  /** `wave` digitised in place: pedestal + signal + noise (own and coherent), rounded, clipped to the ADC range. */
  private digitise(ch: number, start: number, n: number, rng: Random): void {
    const resp = this.resp;
    const wave = this.wave;
    const noise = this.noise;
    const e = resp.cfg.electronics;
    ar1Noise(noise, n, e.noiseRmsAdc, resp.rho, rng);
    const coh = e.coherentNoiseRmsAdc > 0 ? this.coherentFor(Math.floor(ch / e.coherentGroup), rng) : null;
    const ped = resp.pedestal;
    for (let y = 0; y < n; y++) {
      const t = start + y;
      const c = coh && t >= 0 ? coh[t] : 0;
      wave[y] = Math.min(resp.maxAdc, Math.max(0, Math.round(ped + wave[y] + noise[y] + c)));
    }
  }

  /**
   * The TP finder over the digitised `wave` (pedestal tracked and subtracted, FIR); each TP's truth
   * is the owner whose noiseless signal, through the same filter, contributes most inside it.
   */
  private findClusterTps(ch: number, start: number, n: number, owners: readonly number[], rng: Random, tps: TpList): void {
    const resp = this.resp;
    const f = resp.finder;
    const ped = resp.pedestal;
    const found = this.found;
    const sig = this.sig;
    const windowTicks = resp.geo.windowTicks;
    pedestalSubtractAndFilter(this.wave, n, f, ped + resp.noiseModel.drawOffset(rng), ped, found, this.sub);
    // Truth matching compares like with like: each owner's noiseless signal through the same filter.
    const h = f.taps;
    findTps(found, n, resp.threshold, (tp) => {
      if (tp.start < LEAD_TICKS) return; // warm-up of the pedestal and filter
      const peakTick = start + tp.peakAt;
      if (peakTick < 0 || peakTick >= windowTicks) return;
      let best = NOISE_OWNER,
        bestSum = 0;
      for (let o = 0; o < owners.length; o++) {
        let s = 0;
        const off = o * n;
        for (let y = tp.start; y < tp.end; y++) {
          if (h.length === 1) {
            s += sig[off + y];
            continue;
          }
          let acc = 0;
          for (let j = 0; j < h.length && j <= y; j++) acc += h[j] * sig[off + y - j];
          s += acc;
        }
        if (s > bestSum) {
          bestSum = s;
          best = owners[o];
        }
      }
      if (bestSum < MATCH_FRACTION * tp.integral) best = NOISE_OWNER;
      const t0 = Math.max(0, start + tp.start);
      tps.push(ch, t0, peakTick, start + tp.end - t0, tp.integral, tp.peak, best);
    });
  }

  /** Coherent noise of a channel group: one AR(1) series over the whole window, made on demand. */
  private coherentFor(group: number, rng: Random): Float64Array {
    let c = this.coherent.get(group);
    if (!c) {
      c = new Float64Array(this.resp.geo.windowTicks);
      ar1Noise(c, c.length, this.resp.cfg.electronics.coherentNoiseRmsAdc, this.resp.rho, rng);
      this.coherent.set(group, c);
    }
    return c;
  }

  /** Noise-only TPs on the whole face, from the analytic up-crossing rate (noise.ts). */
  private noiseOnly(rng: Random, tps: TpList): void {
    const resp = this.resp;
    const g = resp.geo;
    const n = rng.poisson(this.noisePerChannel * g.channels);
    for (let k = 0; k < n; k++) {
      const ch = rng.int(g.channels);
      const t = rng.int(g.windowTicks);
      const ranges = this.simulated.get(ch);
      let covered = false;
      if (ranges) for (let r = 0; r < ranges.length; r += 2) if (t >= ranges[r] && t < ranges[r + 1]) covered = true;
      const ex = resp.noiseModel.sample(rng);
      if (covered) continue;
      const tot = Math.min(ex.tot, g.windowTicks - t);
      tps.push(ch, t, Math.min(t + ex.peakOffset, g.windowTicks - 1), tot, ex.integral, ex.peak, NOISE_OWNER);
    }
  }
}
