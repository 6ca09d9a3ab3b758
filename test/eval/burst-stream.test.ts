// The burst trigger end to end (issue 31, deliverable 2): bursts injected into a simulated TP stream
// with the model's time profile and spectrum, the baseline stream trigger, the burst rule over its
// candidates — the fraction that fires against the probability computed from the trigger's figures
// measured on a calibration stream. Small: 2 faces, the burst compressed 100×; the full check is
// `daqyolo burst --stream-check 60` (docs/burst.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { burstStreamCheck } from '../../src/eval/burst-stream.js';
import { parseSimConfig } from '../../src/sim/config.js';
import { BURST_MODELS } from '../../src/sim/supernova.js';
import { defaultClusterParams } from '../../src/trigger/cluster.js';

test('bursts in a simulated TP stream fire the burst rule as often as computed (baseline trigger, 2 faces, burst compressed 100×)', async () => {
  const config = parseSimConfig({});
  const params = defaultClusterParams(config.electronics.adcBits);
  const r = await burstStreamCheck({
    config,
    faces: 2,
    model: BURST_MODELS.livermore,
    params,
    threshold: params.minSumAdc,
    timeScale: 0.01,
    windowS: 0.01,
    calibrationSeconds: 1,
    calibrationRateHz: 50,
    trials: 16,
    levels: [0.5],
    seed: 3,
  });
  const c = r.calibration;
  assert.ok(c.interactions > 60 && c.detected / c.interactions > 0.5, `calibration: ${c.detected}/${c.interactions}`);
  assert.ok(c.fpCount > 0 && c.multiplicity >= 1);
  assert.equal(r.points.length, 1);
  const p = r.points[0];
  assert.ok(Math.abs(p.computed - 0.5) < 0.01);
  assert.ok(Math.abs(p.pull) < 4, `${p.detected}/${p.trials} fired vs computed ${p.computed} (pull ${p.pull})`);
});
