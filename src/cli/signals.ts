// Ctrl-C and SIGTERM for long commands (train, fprate): the first asks the work to stop at its next
// safe point (control.stop; the command saves what it has), and the process then exits 130 (SIGINT)
// or 143 (SIGTERM), as a shell does for a process killed by that signal. A second signal exits at
// once: every file is written atomically (src/util/atomic-write), so nothing is left half-written.
const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export function onStopSignals(control: { stop: boolean }, what: string): { readonly received: NodeJS.Signals | null; done(): void } {
  let received: NodeJS.Signals | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      console.error(`\n${signal} again: stopping at once`);
      process.exit(CODES[signal as keyof typeof CODES] ?? 130);
    }
    received = signal;
    control.stop = true;
    console.error(`\n${signal}: ${what} (${signal === 'SIGINT' ? 'Ctrl-C' : 'send it'} again to stop at once)…`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return received;
    },
    done() {
      if (received) {
        // Stopped by a signal: exit with its code; the handler stays, so that another signal while
        // the process winds down (workers closing) still exits with that code, at once.
        process.exitCode = CODES[received as keyof typeof CODES] ?? 130;
        return;
      }
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * A child of a daqyolo parent that watches it over IPC (fprate --parallel's shards, train --nproc's
 * ranks): when the parent is gone (killed: its IPC channel closes), stop as on Ctrl-C and save, so
 * that no child runs on unattended (holding a run's lock) and no count or step is lost.
 */
export function stopWithParent(control: { stop: boolean }, what: string): void {
  // A child started with an IPC channel keeps process.send after the channel closes (process.channel
  // is then null), so this tells an orphan from a process that never had a parent to watch.
  if (typeof process.send !== 'function') return;
  const stop = () => {
    control.stop = true;
    process.stderr.on('error', () => {}); // a stderr piped to the parent is closed too (EPIPE)
    console.error(`daqyolo: the parent process is gone: ${what}`);
  };
  // The parent may have gone while this process was still loading (libtorch takes a second): its
  // 'disconnect' was emitted before anyone listened, so stop now rather than run on unattended.
  if (!process.connected) return stop();
  process.on('disconnect', stop);
  process.channel?.unref(); // the channel alone does not keep this process running
}
