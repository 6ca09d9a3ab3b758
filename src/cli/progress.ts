// Progress for long work: a bar with rate and ETA on a terminal, periodic plain lines otherwise.
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the position within the current phase and the text shown beside it. */
  update(done: number, info?: string): void;
  /** Starts a new phase (e.g. the next epoch) with its own total. */
  phase(label: string, total: number): void;
  stop(): void;
}

export function progress(label: string, total: number, o: { everySeconds?: number } = {}): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({
      format: '{label} [{bar}] {value}/{total} {info} | {rate}/s | ETA {eta_formatted}',
      stream: process.stderr, hideCursor: true, etaBuffer: 20,
    }, cliProgress.Presets.shades_classic);
    let t0 = performance.now();
    let cur = label;
    bar.start(total, 0, { label: cur, info: '', rate: '0' });
    return {
      update(done, info = '') { bar.update(done, { label: cur, info, rate: (done / ((performance.now() - t0) / 1000 || 1)).toFixed(2) }); },
      phase(l, t) { cur = l; t0 = performance.now(); bar.setTotal(t); bar.update(0, { label: cur, info: '', rate: '0' }); },
      stop() { bar.stop(); },
    };
  }
  const every = (o.everySeconds ?? 15) * 1000;
  let last = 0;
  let t0 = performance.now();
  let cur = label;
  let tot = total;
  return {
    update(done, info = '') {
      const now = performance.now();
      if (now - last < every && done < tot) return;
      last = now;
      const rate = done / ((now - t0) / 1000 || 1);
      const eta = rate > 0 ? (tot - done) / rate : 0;
      process.stderr.write(`${cur}: ${done}/${tot} ${info} ${rate.toFixed(2)}/s ETA ${eta.toFixed(0)} s\n`);
    },
    phase(l, t) { cur = l; tot = t; t0 = performance.now(); last = 0; },
    stop() {},
  };
}
