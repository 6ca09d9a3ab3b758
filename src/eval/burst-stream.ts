// The burst trigger checked end to end on a simulated TP stream (docs/burst.md "Validation"): a
// burst is injected into `simulateTpStream` with the model's time profile and spectrum, the stream
// trigger (`daqyolo trigger`'s StreamTrigger; the baseline clustering by default) turns its TPs into
// candidates, and the burst rule runs over their times. Over many bursts the fraction that fires is
// compared with the probability computed from the trigger's own figures, measured first on a
// calibration stream of the same configuration (per-energy efficiency, FP rate, candidates per
// detected interaction).
//
// A small configuration keeps it cheap: a few faces (their share of a module's burst), and the
// burst's 10 s compressed by `timeScale` together with the rule's window (the detector sees
// interactions at the same per-window density as long as the compressed burst stays sparse).
import type { SimConfig } from '../sim/config.js';
import { imageLayout } from '../sim/image.js';
import { simulateTpStream } from '../sim/stream-sim.js';
import { burstStreamSignal, BURST_DURATION_S, interactionSpectrum, makeSpectrumSampler, type BurstModel } from '../sim/supernova.js';
import { DTS_PER_TICK } from '../sim/tp-stream.js';
import type { ClusterParams } from '../trigger/cluster.js';
import { baselineDetector } from '../trigger/detectors.js';
import { runStreamTrigger } from '../trigger/run-stream.js';
import { MODULE_FACES, type WindowDetector } from '../trigger/stream.js';
import type { EfficiencyTable } from '../schema/evaluation.js';
import type { BurstValidationPoint } from '../schema/burst.js';
import { computeBurst, distanceAt, windowFires, type BurstComputation, type ThresholdTable } from './burst.js';
import { binomialSummary, spectrumAverage } from './efficiency.js';
import { poissonInterval } from './intervals.js';

/** Overlap of the stream trigger's windows, ticks (`daqyolo trigger`'s default, docs/trigger.md "Overlap"). */
const OVERLAP_TICKS = 2000;

export interface BurstStreamCheckOptions {
  config: SimConfig;
  faces: number;
  model: BurstModel;
  /** The clustering parameters and ΣADC threshold of the baseline detector (or a detector of one's own). */
  params: ClusterParams;
  threshold: number;
  detector?: WindowDetector;
  /** Burst compression and the rule's window on the compressed time axis, seconds. */
  timeScale: number;
  windowS: number;
  /** Calibration stream: length (s) and constant signal rate per face (Hz). */
  calibrationSeconds: number;
  calibrationRateHz: number;
  /** Bursts per distance, and the detection levels whose computed distances are checked. */
  trials: number;
  levels?: readonly number[];
  seed: number;
}

export interface BurstStreamCheck {
  calibration: {
    interactions: number;
    detected: number;
    candidates: number;
    fpCount: number;
    faceSeconds: number;
    fpHzPerModule: number;
    multiplicity: number;
  };
  computation: BurstComputation;
  points: BurstValidationPoint[];
  maxAbsPull: number;
}

const candidateSeconds = (dts: bigint, tickS: number) => (Number(dts) / DTS_PER_TICK) * tickS;

export async function burstStreamCheck(o: BurstStreamCheckOptions): Promise<BurstStreamCheck> {
  const cfg = o.config;
  const layout = imageLayout(cfg);
  const tickS = cfg.detector.tickUs * 1e-6;
  const detector = o.detector ?? baselineDetector(layout, o.params, o.threshold);
  const spectrum = interactionSpectrum(o.model);
  const energy = { sample: makeSpectrumSampler(spectrum) };
  const run = (stream: ReturnType<typeof simulateTpStream>, onTime: (t: number) => void) =>
    runStreamTrigger(stream, {
      layout,
      windowTicks: cfg.detector.windowTicks,
      overlapTicks: OVERLAP_TICKS,
      detector,
      threshold: o.threshold,
      tickSeconds: tickS,
      cores: 1,
      onCandidate: (c) => onTime(candidateSeconds(c.time_candidate, tickS)),
    });

  // 1. Calibration: the trigger's figures on a stream with signal at a constant rate.
  let candidates = 0;
  const cal = await run(simulateTpStream(cfg, { seconds: o.calibrationSeconds, faces: o.faces, snRateHz: o.calibrationRateHz, energy, seed: o.seed }), () => {
    candidates++;
  });
  const rep = cal.trigger;
  if (!rep) throw new Error('burstStreamCheck: the simulated stream carries no truth');
  const fp = rep.falsePositives;
  const edges = rep.efficiency.bins;
  const bins = edges.map((b) => ({ loMeV: b.loMeV, hiMeV: b.hiMeV, all: binomialSummary(b.k, b.n), visible: binomialSummary(0, 0) }));
  const table: EfficiencyTable = {
    threshold: o.threshold,
    bins,
    supernova: spectrumAverage(bins),
    integrated: { all: binomialSummary(rep.efficiency.integrated.k, rep.efficiency.integrated.n), visible: binomialSummary(0, 0) },
  };
  const perCount = MODULE_FACES / fp.faceSeconds;
  const mu = fp.count === 0 ? [0, 2.303] : poissonInterval(fp.count, 0.9);
  const tables: ThresholdTable[] = [
    { threshold: o.threshold, origin: 'calibration stream', table, fpHz: fp.hzPerModule, fpHzInterval: [mu[0] * perCount, mu[1] * perCount] },
  ];
  const detected = rep.efficiency.integrated.k;
  const multiplicity = detected > 0 ? Math.max(1, (candidates - fp.count) / detected) : 1;

  // 2. The computed curve for this configuration: the faces' share of a module, the compressed burst.
  const modules = o.faces / MODULE_FACES;
  const computation = computeBurst(tables, spectrum, { modules, windowsS: [o.windowS], timeScale: o.timeScale, multiplicity, seed: o.seed });

  // 3. Bursts injected into the stream at the distances where the curve crosses the levels.
  const onset = 2 * o.windowS;
  const seconds = onset + BURST_DURATION_S * o.timeScale + 2 * o.windowS;
  const points: BurstValidationPoint[] = [];
  const distances = (o.levels ?? [0.8, 0.5, 0.2]).map((q) => distanceAt(computation.probability, q)).filter((d): d is number => d !== null && d < 1000);
  for (const [i, d] of distances.entries()) {
    const signal = burstStreamSignal(spectrum, d, { facesPerModule: MODULE_FACES, onsetS: onset, timeScale: o.timeScale });
    let fired = 0;
    for (let t = 0; t < o.trials; t++) {
      const times: number[] = [];
      const stream = simulateTpStream(cfg, { seconds, faces: o.faces, profile: signal, energy, seed: o.seed + 7919 * (i + 1) + t });
      await run(stream, (time) => times.push(time));
      if (windowFires(Float64Array.from(times).sort(), computation.burstRule)) fired++;
    }
    const measured = fired / o.trials;
    const computed = computation.probability(d);
    const se = Math.sqrt((computed * (1 - computed)) / o.trials + (computed * (1 - computed)) / computation.trials);
    points.push({
      distanceKpc: d,
      trials: o.trials,
      detected: fired,
      measured,
      stdErr: Math.sqrt((measured * (1 - measured)) / o.trials),
      computed,
      pull: se > 0 ? (measured - computed) / se : 0,
    });
  }
  return {
    calibration: {
      interactions: rep.efficiency.integrated.n,
      detected,
      candidates,
      fpCount: fp.count,
      faceSeconds: fp.faceSeconds,
      fpHzPerModule: fp.hzPerModule,
      multiplicity,
    },
    computation,
    points,
    maxAbsPull: Math.max(0, ...points.map((p) => Math.abs(p.pull))),
  };
}
