// Shared by the TP-format tests: Python (the independent writer) and a stream's rows as plain objects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TpInteraction, TpStream } from '../../src/sim/tp-stream.js';

export const PY = '/usr/bin/python3';
export function py(script: string): string {
  const r = spawnSync(PY, ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Every TP of a stream as plain rows, and its interactions. */
export async function collect(s: TpStream): Promise<{ rows: Record<string, number>[]; interactions: TpInteraction[] }> {
  const rows: Record<string, number>[] = [];
  const interactions: TpInteraction[] = [];
  for await (const { tps, interactions: list } of s.batches) {
    interactions.push(...list);
    for (let i = 0; i < tps.n; i++) {
      rows.push({
        face: tps.face[i]!,
        wire: tps.wire[i]!,
        channel: tps.channel[i]!,
        plane: tps.plane[i]!,
        timeStart: tps.timeStart[i]!,
        timePeak: tps.timePeak[i]!,
        tot: tps.timeOverThreshold[i]!,
        adcIntegral: tps.adcIntegral[i]!,
        adcPeak: tps.adcPeak[i]!,
        detid: tps.detid[i]!,
        owner: tps.owner[i]!,
        record: tps.record[i]!,
        flag: tps.flag[i]!,
        algorithm: tps.algorithm[i]!,
      });
    }
  }
  return { rows, interactions };
}
