// How long and wide a νe-CC interaction of a given Eν is in this simulator's TPs: the span of its
// TPs' peak times (ticks) and wires, over many interactions without backgrounds or noise. It sets
// the stream trigger's window overlap (an interaction no longer than the overlap fits whole in one
// window) and the stream simulator's signal margin (docs/trigger.md "Overlap"). One JSON object.
//
// Run: node dist/bench/interaction-extent.js [--energy 70] [--n 1000]
import { parseArgs } from 'node:util';
import { parseSimConfig, noBackgroundPatch } from '../src/sim/config.js';
import { Deposits } from '../src/sim/deposits.js';
import { DetectorResponse, DetSim } from '../src/sim/detsim.js';
import { transportInteraction } from '../src/sim/event.js';
import { makeGeometry } from '../src/sim/geometry.js';
import { Random } from '../src/sim/random.js';
import { TpList } from '../src/sim/tps.js';
import { Transport } from '../src/sim/transport.js';

const { values: a } = parseArgs({ options: { energy: { type: 'string', default: '70' }, n: { type: 'string', default: '1000' } } });
const E = Number(a.energy),
  N = Number(a.n);
// The longest window the config allows, with the vertex charge arriving in its middle, so that
// nothing of the interaction is cut.
const cfg = parseSimConfig({ background: noBackgroundPatch(), tp: { noiseTps: false }, detector: { windowTicks: 4800 } });
const g = makeGeometry(cfg);
const det = new DetSim(new DetectorResponse(cfg, g));
const dep = new Deposits(),
  tps = new TpList();
const nu = new Float64Array([0, 0, 1]),
  dir = new Float64Array(3);
const span: number[] = [],
  reach: number[] = [],
  wires: number[] = [];
for (let i = 0; i < N; i++) {
  const rng = new Random(1000 + i);
  dep.clear();
  tps.clear();
  transportInteraction(cfg, g, new Transport(cfg, g, rng, dep), rng, E, nu, dir, 0, 2400);
  det.run(dep, rng, tps);
  let lo = Infinity,
    hi = -Infinity,
    r = 0,
    w0 = Infinity,
    w1 = -Infinity,
    n = 0;
  for (let k = 0; k < tps.n; k++) {
    if (tps.owner[k] !== 0) continue;
    n++;
    lo = Math.min(lo, tps.timePeak[k]);
    hi = Math.max(hi, tps.timePeak[k]);
    r = Math.max(r, Math.abs(tps.timeStart[k] - 2400), Math.abs(tps.timeStart[k] + tps.timeOverThreshold[k] - 2400));
    w0 = Math.min(w0, tps.channel[k]);
    w1 = Math.max(w1, tps.channel[k]);
  }
  if (n < 2) continue;
  span.push(hi - lo);
  reach.push(r);
  wires.push(w1 - w0 + 1);
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const longer = (o: number) => span.filter((x) => x > o).length / span.length;
console.log(
  JSON.stringify({
    command: `node dist/bench/interaction-extent.js ${process.argv.slice(2).join(' ')}`,
    energyMeV: E,
    interactions: span.length,
    timeSpanTicks: { p50: q(span, 0.5), p90: q(span, 0.9), p99: q(span, 0.99), max: Math.max(...span) },
    reachFromVertexArrivalTicks: { p99: q(reach, 0.99), max: Math.max(...reach) },
    wireSpan: { p50: q(wires, 0.5), p99: q(wires, 0.99), max: Math.max(...wires) },
    longerThanOverlap: Object.fromEntries([500, 1000, 1500, 2000, 2246].map((o) => [o, longer(o)])),
  }),
);
