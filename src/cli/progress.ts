// Progress for long work: a bar with rate and ETA on a terminal, periodic plain lines otherwise.
// The rate counts items since the first update of a phase, over the time since then: work done
// before that first update (e.g. the first training batch of an epoch) has no known start, and
// dividing it by the microseconds since phase() printed rates like "60775.50/s ETA 0 s".
// Rate and ETA are left out until they rest on at least MIN_RATE_SECONDS of measured work.
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the position within the current phase and the text shown beside it. */
  update(done: number, info?: string): void;
  /** Starts a new phase (e.g. the next epoch) with its own total. */
  phase(label: string, total: number): void;
  stop(): void;
}

export const MIN_RATE_SECONDS = 1;

/** Items per second since the first sample of a phase; null until it means something. */
export class RateMeter {
  #first: { done: number; t: number } | null = null;
  reset(): void { this.#first = null; }
  /** Rate and seconds left at `done` of `total` (now in ms); null while not yet known. */
  sample(done: number, total: number, now: number): { rate: number; eta: number } | null {
    if (!this.#first) { this.#first = { done, t: now }; return null; }
    const seconds = (now - this.#first.t) / 1000;
    const items = done - this.#first.done;
    if (seconds < MIN_RATE_SECONDS || items <= 0) return null;
    const rate = items / seconds;
    return { rate, eta: Math.max(0, total - done) / rate };
  }
}

export interface LineProgressOptions {
  /** Seconds between lines (default 15); the first and the last line of a phase always print. */
  everySeconds?: number;
  write?: (line: string) => void;
  /** Clock in milliseconds (tests pass their own). */
  now?: () => number;
}

/** Plain lines for logs and pipes: "label: done/total info [rate/s ETA s]". */
export function lineProgress(label: string, total: number, o: LineProgressOptions = {}): Progress {
  const every = (o.everySeconds ?? 15) * 1000;
  const write = o.write ?? ((l: string) => { process.stderr.write(l); });
  const now = o.now ?? (() => performance.now());
  const meter = new RateMeter();
  let last: number | null = null;
  let cur = label;
  let tot = total;
  return {
    update(done, info = '') {
      const t = now();
      const r = meter.sample(done, tot, t);
      if (last !== null && t - last < every && done < tot) return;
      last = t;
      const rate = r ? ` ${r.rate.toFixed(2)}/s ETA ${r.eta.toFixed(0)} s` : '';
      write(`${cur}: ${done}/${tot}${info ? ` ${info}` : ''}${rate}\n`);
    },
    phase(l, t) { cur = l; tot = t; last = null; meter.reset(); },
    stop() {},
  };
}

export function progress(label: string, total: number, o: { everySeconds?: number } = {}): Progress {
  if (!process.stderr.isTTY) return lineProgress(label, total, o);
  const bar = new cliProgress.SingleBar({
    format: '{label} [{bar}] {value}/{total} {info} | {rate}/s | ETA {left}', // not {eta}: cli-progress's own token would win
    stream: process.stderr, hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  const meter = new RateMeter();
  let cur = label;
  let tot = total;
  const unknown = { rate: '–', left: '–' };
  bar.start(total, 0, { label: cur, info: '', ...unknown });
  return {
    update(done, info = '') {
      const r = meter.sample(done, tot, performance.now());
      bar.update(done, { label: cur, info, ...(r ? { rate: r.rate.toFixed(2), left: `${r.eta.toFixed(0)} s` } : unknown) });
    },
    phase(l, t) { cur = l; tot = t; meter.reset(); bar.setTotal(t); bar.update(0, { label: cur, info: '', ...unknown }); },
    stop() { bar.stop(); },
  };
}
