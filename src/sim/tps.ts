// Trigger primitives (the DUNE DAQ TP fields) and the finder that makes them from a digitised
// collection waveform the way DUNE's software TP generation does: the pedestal tracked by a frugal
// running median, an optional 7-tap FIR, then one TP per contiguous run above threshold.
import type { Owner } from './deposits.js';
import { Columns } from './columns.js';

/** DUNE-style TPs of one image as a growable structure of arrays. Times are in ticks of the window. */
export class TpList extends Columns {
  protected readonly columns = ['channel', 'timeStart', 'timePeak', 'timeOverThreshold', 'adcIntegral', 'adcPeak', 'owner'] as const;
  channel = new Int32Array(256);
  timeStart = new Int32Array(256);
  timePeak = new Int32Array(256);
  timeOverThreshold = new Int32Array(256);
  adcIntegral = new Float32Array(256);
  adcPeak = new Float32Array(256);
  owner = new Int32Array(256);

  push(channel: number, timeStart: number, timePeak: number, tot: number, integral: number, peak: number, owner: Owner): number {
    const i = this.addRow();
    this.channel[i] = channel;
    this.timeStart[i] = timeStart;
    this.timePeak[i] = timePeak;
    this.timeOverThreshold[i] = tot;
    this.adcIntegral[i] = integral;
    this.adcPeak[i] = peak;
    this.owner[i] = owner;
    return i;
  }
}

/** A found hit before truth matching: [start, end) in samples of the waveform. */
export interface RawTp {
  start: number;
  end: number;
  peakAt: number;
  integral: number;
  peak: number;
}

/**
 * Finds runs of samples strictly above `threshold` in wave[0..n). Each run gives one TP:
 * integral = sum of its samples, peak = its largest sample. A run still open at the end of the
 * waveform closes there. Calls `emit` for each TP in time order.
 */
export function findTps(wave: ArrayLike<number>, n: number, threshold: number, emit: (tp: RawTp) => void): number {
  let count = 0;
  let i = 0;
  while (i < n) {
    if (wave[i] > threshold) {
      const start = i;
      let integral = 0,
        peak = -Infinity,
        peakAt = i;
      while (i < n && wave[i] > threshold) {
        const x = wave[i];
        integral += x;
        if (x > peak) {
          peak = x;
          peakAt = i;
        }
        i++;
      }
      emit({ start, end: i, peakAt, integral, peak });
      count++;
    } else {
      i++;
    }
  }
  return count;
}

/** DUNE's software-TPG FIR taps (PHYSICS.md); they sum to 99, so /99 gives unit gain. */
export const DUNE_FIR_TAPS: readonly number[] = [2, 9, 23, 31, 23, 9, 2];

/** The taps the finder applies: the normalised DUNE FIR, or [1] (no filter). */
export function finderTaps(fir: boolean): number[] {
  if (!fir) return [1];
  const sum = DUNE_FIR_TAPS.reduce((a, b) => a + b, 0);
  return DUNE_FIR_TAPS.map((t) => t / sum);
}

/** The "frugal" streaming median of DUNE's software TPG: a sample above (below) the estimate counts +1
 *  (−1); after a net `limit` counts the estimate steps by ±1 ADC and the count restarts. It follows
 *  the pedestal with one integer and one counter per channel, and a pulse of a few ticks barely moves it. */
export class FrugalMedian {
  constructor(
    public value: number,
    private readonly limit: number,
    public acc = 0,
  ) {}
  update(sample: number): void {
    if (sample > this.value) this.acc++;
    else if (sample < this.value) this.acc--;
    if (this.acc >= this.limit) {
      this.value++;
      this.acc = 0;
    } else if (this.acc <= -this.limit) {
      this.value--;
      this.acc = 0;
    }
  }
}

export interface FinderOptions {
  /** Normalised FIR taps ([1] = none). */
  taps: readonly number[];
  pedestal: 'frugal' | 'ideal';
  frugalLimit: number;
}

/**
 * Pedestal subtraction and filtering of raw ADC samples raw[0..n): out[i] is what the threshold
 * compares. The frugal median starts at `pedestalStart`; 'ideal' subtracts `truePedestal`. The FIR is
 * causal (output i uses samples i−6 … i, so it delays by 3 ticks) and rounds to whole ADC counts;
 * samples before 0 count as 0, so the first taps − 1 outputs are a warm-up the caller discards.
 */
export function pedestalSubtractAndFilter(
  raw: ArrayLike<number>,
  n: number,
  o: FinderOptions,
  pedestalStart: number,
  truePedestal: number,
  out: Float64Array,
  sub: Float64Array,
): void {
  const med = new FrugalMedian(pedestalStart, o.frugalLimit);
  for (let i = 0; i < n; i++) {
    if (o.pedestal === 'frugal') {
      med.update(raw[i]);
      sub[i] = raw[i] - med.value;
    } else {
      sub[i] = raw[i] - truePedestal;
    }
  }
  const h = o.taps;
  if (h.length === 1) {
    for (let i = 0; i < n; i++) out[i] = sub[i];
    return;
  }
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < h.length && j <= i; j++) acc += h[j] * sub[i - j];
    out[i] = Math.round(acc);
  }
}
