// Whether a process is alive: the lock of a run (run/run-dir.ts) and the temporary files of a
// writer (atomic-write.ts) belong to a PID, and are stale once that process is gone.
import { readFileSync } from 'node:fs';

/**
 * True when a process with this id is running (EPERM: it exists but belongs to someone else). A
 * zombie is not: a killed process whose parent died too waits, dead, until init reaps it — which
 * in a container can take a while, or never happen — and kill(pid, 0) still succeeds for it.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux: the state field of /proc/PID/stat is Z (zombie) or X (dead). Elsewhere: false. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "PID (comm) S …": comm may hold spaces and parentheses, so read after the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
