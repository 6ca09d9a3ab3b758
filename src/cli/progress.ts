// Progress for long work: a bar with rate and ETA on a terminal, periodic plain lines without one
// (logs, Slurm), nothing in CI. Every long command uses it through one call:
//
//   const result = await withProgress('trigger', images, (p) => run({ onProgress: (done) => p.update(done) }));
//
// (or `const p = progress(label, total)` … `p.stop()` where the work is not one call). The mode
// (progressMode): DAQYOLO_PROGRESS=bar|lines|off wins; else off when CI is set (CI=true, as
// GitHub Actions, GitLab and most CI systems set it), a bar on a terminal, lines otherwise.
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
  reset(): void {
    this.#first = null;
  }
  /** Rate and seconds left at `done` of `total` (now in ms); null while not yet known. */
  sample(done: number, total: number, now: number): { rate: number; eta: number } | null {
    if (!this.#first) {
      this.#first = { done, t: now };
      return null;
    }
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
  /** What is counted, shown with the rate ("images" → "12.0 images/s"). */
  unit?: string;
}

/** Plain lines for logs and pipes: "label: done/total info [rate/s ETA s]". */
export function lineProgress(label: string, total: number, o: LineProgressOptions = {}): Progress {
  const every = (o.everySeconds ?? 15) * 1000;
  const write =
    o.write ??
    ((l: string) => {
      process.stderr.write(l);
    });
  const now = o.now ?? (() => performance.now());
  const meter = new RateMeter();
  let last: number | null = null;
  let cur = label;
  let tot = total;
  let pending: { done: number; info: string; r: ReturnType<RateMeter['sample']> } | null = null;
  const line = (done: number, info: string, r: ReturnType<RateMeter['sample']>) => {
    const rate = r ? ` ${r.rate.toFixed(2)}${o.unit ? ` ${o.unit}` : ''}/s${tot > 0 ? ` ETA ${formatEta(r.eta)}` : ''}` : '';
    write(`${cur}: ${done}${tot > 0 ? `/${tot}` : ''}${info ? ` ${info}` : ''}${rate}\n`);
  };
  return {
    update(done, info = '') {
      const t = now();
      const r = meter.sample(done, tot, t);
      pending = null;
      // total 0: not known in advance (a stream): the count and its rate, no ETA; the last count at stop().
      if (last !== null && t - last < every && (tot <= 0 || done < tot)) {
        pending = { done, info, r };
        return;
      }
      last = t;
      line(done, info, r);
    },
    phase(l, t) {
      cur = l;
      tot = t;
      last = null;
      pending = null;
      meter.reset();
    },
    stop() {
      if (tot <= 0 && pending) line(pending.done, pending.info, pending.r);
      pending = null;
    },
  };
}

export type ProgressMode = 'bar' | 'lines' | 'off';

/** How progress is shown here: see the header. */
export function progressMode(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): ProgressMode {
  const asked = env.DAQYOLO_PROGRESS?.trim().toLowerCase();
  if (asked === 'bar' || asked === 'lines' || asked === 'off') return asked;
  const ci = env.CI?.trim().toLowerCase();
  if (ci && ci !== 'false' && ci !== '0') return 'off';
  return isTTY ? 'bar' : 'lines';
}

/** Shows nothing (CI, DAQYOLO_PROGRESS=off). */
export const silentProgress = (): Progress => ({ update() {}, phase() {}, stop() {} });

/** Progress of `total` items labelled `label` (0: not known in advance), shown as progressMode says. */
export interface ProgressOptions {
  everySeconds?: number;
  mode?: ProgressMode;
  unit?: string;
}

/** An onProgress(done, total, phase) for a command of several phases: each new phase restarts the bar. */
export function phasedProgress(bar: Progress): (done: number, total: number, phase: string) => void {
  let current = '';
  return (done, total, phase) => {
    if (phase !== current) {
      current = phase;
      bar.phase(phase, total);
    }
    bar.update(done);
  };
}

/** Seconds left as people read them: "42 s", "12 min 5 s", "3 h 20 min". */
export function formatEta(s: number): string {
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function progress(label: string, total: number, o: ProgressOptions = {}): Progress {
  const mode = o.mode ?? progressMode();
  if (mode === 'off') return silentProgress();
  // A total not known in advance (0) has no bar to fill: lines, every 5 s on a terminal.
  if (mode === 'lines' || total <= 0) return lineProgress(label, total, { everySeconds: mode === 'lines' ? undefined : 5, ...o });
  const bar = new cliProgress.SingleBar(
    {
      format: `{label} [{bar}] {value}/{total} {info} | {rate}${o.unit ? ` ${o.unit}` : ''}/s | ETA {left}`, // not {eta}: cli-progress's own token would win
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const meter = new RateMeter();
  let cur = label;
  let tot = total;
  const unknown = { rate: '–', left: '–' };
  bar.start(total, 0, { label: cur, info: '', ...unknown });
  return {
    update(done, info = '') {
      const r = meter.sample(done, tot, performance.now());
      bar.update(done, { label: cur, info, ...(r ? { rate: r.rate.toFixed(2), left: formatEta(r.eta) } : unknown) });
    },
    phase(l, t) {
      cur = l;
      tot = t;
      meter.reset();
      bar.setTotal(t);
      bar.update(0, { label: cur, info: '', ...unknown });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Runs `work` with a progress display that is stopped however the work ends (the one call). */
export async function withProgress<T>(label: string, total: number, work: (p: Progress) => T | Promise<T>, o: ProgressOptions = {}): Promise<T> {
  const p = progress(label, total, o);
  try {
    return await work(p);
  } finally {
    p.stop();
  }
}
