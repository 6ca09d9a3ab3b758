// Trigger primitives (the DUNE DAQ TP fields) and the threshold finder that makes them from a
// pedestal-subtracted, digitised collection waveform: one TP per contiguous run above threshold.
import type { Owner } from './deposits.js';

/** DUNE-style TPs of one image as a growable structure of arrays. Times are in ticks of the window. */
export class TpList {
  n = 0;
  channel = new Int32Array(256);
  timeStart = new Int32Array(256);
  timePeak = new Int32Array(256);
  timeOverThreshold = new Int32Array(256);
  adcIntegral = new Float32Array(256);
  adcPeak = new Float32Array(256);
  owner = new Int32Array(256);

  clear(): void {
    this.n = 0;
  }

  push(channel: number, timeStart: number, timePeak: number, tot: number, integral: number, peak: number, owner: Owner): number {
    if (this.n === this.channel.length) this.grow();
    const i = this.n++;
    this.channel[i] = channel;
    this.timeStart[i] = timeStart;
    this.timePeak[i] = timePeak;
    this.timeOverThreshold[i] = tot;
    this.adcIntegral[i] = integral;
    this.adcPeak[i] = peak;
    this.owner[i] = owner;
    return i;
  }

  private grow(): void {
    const m = this.channel.length * 2;
    const gi = (a: Int32Array) => { const b = new Int32Array(m); b.set(a); return b; };
    const gf = (a: Float32Array) => { const b = new Float32Array(m); b.set(a); return b; };
    this.channel = gi(this.channel);
    this.timeStart = gi(this.timeStart);
    this.timePeak = gi(this.timePeak);
    this.timeOverThreshold = gi(this.timeOverThreshold);
    this.adcIntegral = gf(this.adcIntegral);
    this.adcPeak = gf(this.adcPeak);
    this.owner = gi(this.owner);
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
      let integral = 0, peak = -Infinity, peakAt = i;
      while (i < n && wave[i] > threshold) {
        const x = wave[i];
        integral += x;
        if (x > peak) { peak = x; peakAt = i; }
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
