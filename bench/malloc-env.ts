// glibc allocator settings for the processes a bench starts, PyTorch's peer and daqyolo's alike.
//
// Why: on this project's VMs a page fault is dear. glibc serves an allocation over its mmap
// threshold (at most 32 MB) with a fresh mapping and unmaps it on free, so a process that makes
// and frees 100-MB activation maps on every pass faults every page of them in again each time.
// PyTorch's dense YOLOv3 at 480² does exactly that: on 2026-12-06 (AMD EPYC host, 2 threads,
// batch 16) it ran inference at 5.4 images/s as glibc is, 40.9 with freed memory kept
// (docs/engine.md, "The peer at its best"). A peer slowed by its allocator flatters every ratio
// taken against it, so the benches keep freed memory by default: `keep` turns mmap off for
// allocations (MALLOC_MMAP_MAX_=0) and never trims the heap (MALLOC_TRIM_THRESHOLD_ = 1 TiB);
// `default` leaves glibc as it is, to show the difference.
export type MallocMode = 'keep' | 'default';

export function mallocMode(value: string | undefined): MallocMode {
  if (value === undefined || value === 'keep' || value === 'default') return value ?? 'keep';
  throw new Error(`--malloc: expected keep or default, got '${value}'`);
}

/** Environment variables that put glibc's malloc in the given mode (none for `default`). */
export function mallocEnv(mode: MallocMode): Record<string, string> {
  return mode === 'keep' ? { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 40) } : {};
}
