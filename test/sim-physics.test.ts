// Physics of the simulator: radiological rates, electron ranges, energy conservation, recombination.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSimConfig, parseSimConfig } from '../src/sim/config.js';
import { Deposits, Recombination } from '../src/sim/deposits.js';
import { Simulator } from '../src/sim/event.js';
import { makeGeometry } from '../src/sim/geometry.js';
import { deexcitation, nueCC, nueES } from '../src/sim/interactions.js';
import { csdaRangeCm, CSDA_RANGE_TABLE_CM, ELECTRON_MASS_MEV } from '../src/sim/materials.js';
import { BETA_SPECTRA, expectedDecays } from '../src/sim/radiologicals.js';
import { Random } from '../src/sim/random.js';
import { Transport } from '../src/sim/transport.js';

test('³⁹Ar decays per image match activity × mass × window within Poisson error', () => {
  const cfg = parseSimConfig({ signal: { perImage: 0 } });
  const g = makeGeometry(cfg);
  const lambda = 1.01 * g.massKg * g.windowS; // PHYSICS.md: 1.01 Bq/kg
  assert.equal(expectedDecays(cfg, g.massKg, g.windowS)[0], lambda);
  // PHYSICS.md quotes ≈ 67 t per face and ≈ 150 decays per window.
  assert.ok(g.massKg > 60e3 && g.massKg < 75e3, `mass ${g.massKg}`);
  assert.ok(lambda > 130 && lambda < 170, `expected ${lambda}`);
  const sim = new Simulator(cfg, 7);
  const n = 300;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sim.image(i).decays[0];
  const mean = sum / n;
  const err = Math.sqrt(lambda / n);
  assert.ok(Math.abs(mean - lambda) < 4 * err, `mean ${mean} vs ${lambda} ± ${err}`);
});

test('electron path length matches the CSDA range table within 20 % and grows with energy', () => {
  const cfg = defaultSimConfig();
  const big = parseSimConfig({ detector: { wireLengthCm: 10000, driftLengthCm: 10000, channels: 4096 } });
  const geo = makeGeometry(big);
  const rng = new Random(3);
  const tr = new Transport(cfg, geo, rng, new Deposits());
  let last = 0;
  for (const t of [1, 3, 10, 30, 70]) {
    const ref = CSDA_RANGE_TABLE_CM.find(([e]) => e === t)![1];
    let sum = 0;
    const n = 200;
    for (let k = 0; k < n; k++) {
      tr.begin(0, 0);
      // Mean path of the primary only: bremsstrahlung photons travel on but are not its range.
      sum += tr.electron(geo.widthCm / 2, geo.lengthCm / 2, geo.driftCm / 2, 1, 0, 0, t);
    }
    const mean = sum / n;
    assert.ok(Math.abs(mean / ref - 1) < 0.2, `T = ${t} MeV: simulated ${mean.toFixed(3)} cm vs table ${ref} cm`);
    assert.ok(mean > last, `range must grow with energy (${t} MeV: ${mean})`);
    last = mean;
  }
  assert.ok(Math.abs(csdaRangeCm(10) / 4.2 - 1) < 0.01, `table lookup ${csdaRangeCm(10)}`);
});

test('νe-CC conserves energy: Eν = T_e + Q + E_x and the de-excitation γs sum to E_x', () => {
  const cfg = defaultSimConfig();
  const rng = new Random(11);
  for (let k = 0; k < 2000; k++) {
    const eNu = rng.range(4, 70);
    const p = nueCC(cfg, eNu, rng);
    assert.ok(cfg.signal.ccLevelsMeV.includes(p.excitationMeV));
    const sumG = p.gammas.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sumG - p.excitationMeV) < 1e-12, `γ sum ${sumG} vs ${p.excitationMeV}`);
    assert.ok(p.gammas.length >= 1 && p.gammas.length <= 3 && p.gammas.every((e) => e > 0));
    assert.ok(Math.abs(p.electronMeV + cfg.signal.ccQMeV + p.excitationMeV - eNu) < 1e-12);
  }
  // Below the lowest level the channel is closed: nothing is made.
  assert.equal(nueCC(cfg, 3, rng).electronMeV, 0);
  for (let k = 0; k < 200; k++) {
    const ex = rng.range(2, 5);
    assert.ok(Math.abs(deexcitation(ex, rng).reduce((a, b) => a + b, 0) - ex) < 1e-12);
  }
});

test('ν–e scattering stays within kinematic limits and goes forward', () => {
  const rng = new Random(5);
  for (let k = 0; k < 500; k++) {
    const e = rng.range(2, 70);
    const p = nueES(e, rng);
    const tMax = (2 * e * e) / (ELECTRON_MASS_MEV + 2 * e);
    assert.ok(p.electronMeV >= 0 && p.electronMeV <= tMax);
    assert.ok(p.electronCos > 0 && p.electronCos <= 1);
  }
});

test('visible energy of a contained νe-CC event does not exceed Eν − Q', () => {
  const cfg = parseSimConfig({ signal: { mode: 'fixed', perImage: 3 } });
  const sim = new Simulator(cfg, 2);
  let contained = 0;
  for (let i = 0; i < 40; i++) {
    for (const t of sim.image(i).interactions) {
      assert.ok(t.visibleEnergyMeV <= Math.max(0, t.energyMeV - cfg.signal.ccQMeV) + 1e-6, `${t.visibleEnergyMeV} > ${t.energyMeV}`);
      if (t.visibleEnergyMeV > 0.9 * (t.energyMeV - cfg.signal.ccQMeV)) contained++;
    }
  }
  assert.ok(contained > 20, `only ${contained} mostly contained events`);
});

test('recombination: ≈ 0.7 of the charge survives for a MIP (modified Box, PHYSICS.md)', () => {
  const r = new Recombination(defaultSimConfig());
  const s = r.survival(2.1);
  assert.ok(Math.abs(s - 0.7) < 0.02, `R = ${s}`);
  assert.ok(r.survival(10) < s, 'more recombination at higher dE/dx');
});

test('β spectra: endpoints and mean energies (³⁹Ar mean ≈ 0.22 MeV)', () => {
  const rng = new Random(9);
  let sum = 0;
  const n = 20000;
  for (let k = 0; k < n; k++) {
    const t = BETA_SPECTRA.ar39.sample(rng);
    assert.ok(t > 0 && t < 0.565);
    sum += t;
  }
  const mean = sum / n;
  assert.ok(mean > 0.19 && mean < 0.26, `³⁹Ar mean β energy ${mean}`);
});
