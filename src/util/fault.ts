// Test hook (documented in README "What survives what"): DAQYOLO_FAULT_AT=NAME makes the process
// kill itself with SIGKILL when it reaches the named point, so that test/faults/ can check what a
// crash at that exact moment leaves behind. Points: `rename:FILE` (just before FILE's temporary
// file is renamed over it), `after-last` / `after-best` (between the trainer's checkpoint renames),
// `after-epoch-record` (epoch record appended, checkpoints not yet written).
// DAQYOLO_FAULT_COUNT=N fires at the N-th time the point is reached (default 1).
const at = process.env.DAQYOLO_FAULT_AT;
const count = Number(process.env.DAQYOLO_FAULT_COUNT ?? 1);
let reached = 0;

export function faultPoint(name: string): void {
  if (at === undefined || at !== name) return;
  if (++reached < count) return;
  process.kill(process.pid, 'SIGKILL');
}
