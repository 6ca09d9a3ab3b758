// The simulator at DUNE's scale: `daqyolo physics` passes on the defaults and fails when the
// response leaves its band; the 14-bit option; the radiological model's rates as cited; bad configs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli } from './report-fixture.js';
import { parseSimConfig, simConfigWarnings } from '../src/sim/config.js';
import { BACKGROUND_SOURCES } from '../src/sim/deposits.js';
import { makeGeometry } from '../src/sim/geometry.js';
import { physicsTable } from '../src/sim/physics.js';
import { expectedDecays } from '../src/sim/radiologicals.js';

const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('daqyolo physics passes on the defaults and prints every required figure', () => {
  const r = run(['physics', '--images', '40', '--interactions', '60', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { quantity: string; pass: boolean | null; simulated: number }[];
  for (const q of [
    'MIP peak on one wire at mid drift',
    'MIP S/N (peak / noise RMS)',
    'ar39 decays per face per window',
    'ar39 TPs per face per window',
    'kr85 TPs per face per window',
    'ncapture TPs per face per window',
    'noise-only TPs per face per window',
    'electron path length, 70 MeV',
    'νe-CC 10 MeV: ΣADC per interaction',
    'νe-CC 30 MeV: TPs per interaction',
    'fraction of interactions with no TP, Eν 10–70 MeV',
  ]) {
    assert.ok(
      rows.some((x) => x.quantity === q),
      `missing row ${q}`,
    );
  }
  assert.ok(
    rows.every((x) => x.pass !== false),
    rows
      .filter((x) => x.pass === false)
      .map((x) => x.quantity)
      .join('; '),
  );
});

test('daqyolo physics exits non-zero when the gain leaves its band', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daqyolo-physics-'));
  try {
    const cfg = join(dir, 'half-gain.json');
    writeFileSync(cfg, JSON.stringify({ electronics: { adcPerKe: 3.6 } }));
    const r = run(['physics', '--config', cfg, '--images', '20', '--interactions', '30']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL\s+MIP peak on one wire at mid drift/);
    assert.match(r.stderr, /out of band/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('14-bit ADCs read 4× the counts: gain, noise, pedestal and threshold scale; the MIP peak scales with them', () => {
  const c = parseSimConfig({ electronics: { adcBits: 14 } });
  assert.equal(c.electronics.adcPerKe, 4 * 7.3);
  assert.equal(c.electronics.noiseRmsAdc, 12);
  assert.equal(c.electronics.pedestalAdc, 3600);
  assert.equal(c.tp.thresholdAdc, 80);
  // An explicit value is kept as given.
  assert.equal(parseSimConfig({ electronics: { adcBits: 14 }, tp: { thresholdAdc: 100 } }).tp.thresholdAdc, 100);
  const peak = (cfg: object) => physicsTable(cfg, { images: 5, interactions: 10 }).find((r) => r.quantity === 'MIP peak on one wire at mid drift')!;
  const p12 = peak({}),
    p14 = peak({ electronics: { adcBits: 14 } });
  assert.ok(Math.abs(p14.simulated / p12.simulated - 4) < 1e-9);
  assert.equal(p14.pass, true);
});

test('background rates follow the cited radiological model', () => {
  const cfg = parseSimConfig({});
  const g = makeGeometry(cfg);
  const e = expectedDecays(cfg, g.massKg, g.windowS, g.widthCm * g.lengthCm);
  const at = (s: string) => e[BACKGROUND_SOURCES.indexOf(s as never)];
  // dunesim gives Bq/cm³; LAr is 1.396e-3 kg/cm³.
  const perKg = (bqPerCc: number) => bqPerCc / 1.396e-3;
  const rel = (a: number, b: number) => Math.abs(a / b - 1);
  assert.ok(rel(at('ar39'), perKg(0.00141) * g.massKg * g.windowS) < 1e-3);
  assert.ok(rel(at('kr85'), perKg(0.00016) * g.massKg * g.windowS) < 5e-3); // 0.115 Bq/kg; dunesim rounds to 0.00016 Bq/cm³
  assert.ok(rel(at('ar42'), perKg(1.283768e-7) * g.massKg * g.windowS) < 1e-3);
  assert.ok(rel(at('k42'), perKg(0.2 * 1.283768e-7) * g.massKg * g.windowS) < 1e-3);
  assert.ok(rel(at('rn222'), perKg(1.395e-6) * g.massKg * g.windowS) < 1e-3);
  assert.ok(rel(at('po218'), perKg(1.203885e-6) * g.massKg * g.windowS) < 1e-3);
  assert.ok(rel(at('bi214'), at('po214')) < 1e-12);
  // Neutron captures: 2.6996e-7 n/cm²/s at the boundary, half inward, over 3433 m², shared by 200 faces.
  assert.ok(rel(at('ncapture'), ((2.6996e-7 * 0.5 * 3433e4) / 200) * 2.246e-3) < 1e-3);
  assert.equal(at('external_gamma'), 0, 'external γ is an option');
  assert.ok(at('ncapture') > 0, 'neutron captures are on by default');
});

test('bad physics configs: one-line errors naming the field, or a warning with the TP rate', () => {
  assert.throws(() => parseSimConfig({ background: { kr85: { activityBqPerKg: -1 } } }), /field background\.kr85\.activityBqPerKg/);
  assert.throws(
    () => parseSimConfig({ detector: { windowTicks: 9000 } }),
    /field detector\.windowTicks \(9000 ticks = 4\.500 ms\) is longer than the drift allows/,
  );
  assert.throws(() => parseSimConfig({ tp: { thresholdAdc: 3 } }), /field tp\.thresholdAdc \(3 ADC\).*noise TPs per image/);
  assert.deepEqual(simConfigWarnings(parseSimConfig({})), []);
  const w = simConfigWarnings(parseSimConfig({ tp: { thresholdAdc: 10 } }));
  assert.equal(w.length, 1);
  assert.match(w[0], /noise TPs per image \(\d+ kHz per face\)/);
});
