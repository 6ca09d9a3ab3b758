// Event displays (show, detect, the report): a fixture's TPs, located with h5py (not daqyolo's
// reader), appear in the PNG at their channel and peak time with the colour of their ΣADC on the
// log colour scale, as markers at least MIN_MARKER_PX wide at any zoom; sources and truth labels
// are drawn; --zoom frames the interaction.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';
import { openDataset } from '../src/data/store.js';
import {
  MIN_MARKER_PX,
  colourOf,
  datasetScene,
  eventSvg,
  frameInteraction,
  kindOfOwner,
  layoutOf,
  logScale,
  parseZoom,
  sceneDetections,
  sceneMatchRule,
  type EventScene,
  type SceneTp,
  type View,
} from '../src/report/event-scene.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'bin', 'daqyolo.js');
const dir = mkdtempSync(join(tmpdir(), 'daqyolo-evd-'));
const data = join(dir, 'tps.h5');
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const config = parseSimConfig({ image: { size: 96 }, signal: { perImage: 1, mode: 'fixed' }, storeTps: true });
  await generateDataset({ out: data, config, images: 4, seed: 11, workers: 0 });
});

/** An image's TPs as h5py reads them: channel, peak tick, ΣADC, owner; and the binning. */
function h5pyTps(index: number): { channel: number[]; tick: number[]; adc: number[]; owner: number[]; wpp: number; tpp: number } {
  const py = `
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r'); i = int(sys.argv[2])
o = f['tps/offsets'][i:i + 2]
s = lambda k: f['tps/' + k][o[0]:o[1]].tolist()
print(json.dumps({'channel': s('channel'), 'tick': s('time_peak'), 'adc': s('adc_integral'), 'owner': s('owner'),
  'wpp': float(f.attrs['wires_per_pixel']), 'tpp': float(f.attrs['ticks_per_pixel'])}))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, data, String(index)], { encoding: 'utf8' }));
}

/** The RGB at a screen point of a PNG. */
function pixelAt(png: PNG, x: number, y: number): [number, number, number] {
  const o = (Math.floor(y) * png.width + Math.floor(x)) * 4; // pixel i covers [i, i + 1)
  return [png.data[o]!, png.data[o + 1]!, png.data[o + 2]!];
}
const near = (a: number[], b: number[], tol = 3) => a.every((v, k) => Math.abs(v - b[k]!) <= tol);

/** Checks the brightest interaction TP and the faintest TP in view against the PNG of a drawing. */
function checkTps(pngPath: string, scene: EventScene, view: View | undefined, plotWidth: number) {
  const t = h5pyTps(0);
  const png = PNG.sync.read(readFileSync(pngPath));
  const L = layoutOf(scene, { view, plotWidth });
  assert.equal(png.width, L.width);
  assert.ok(L.marker >= MIN_MARKER_PX);
  const screen = (k: number) => [L.left + ((t.channel[k]! + 0.5) / t.wpp - L.view.x0) * L.sx, L.top + ((t.tick[k]! + 0.5) / t.tpp - L.view.y0) * L.sy] as const;
  const inView = t.channel
    .map((_, k) => k)
    .filter((k) => {
      const [x, y] = screen(k);
      return x >= L.left && x <= L.left + L.plotW && y >= L.top && y <= L.top + L.plotH;
    });
  const scale = logScale(inView.map((k) => t.adc[k]!));
  // The interaction's brightest TP is drawn last (signal on top, brighter over fainter): its
  // centre has the colour at the top of the colour bar.
  const signal = inView.filter((k) => t.owner[k]! >= 0);
  assert.ok(signal.length > 0, 'the fixture has signal TPs in view');
  const best = signal.reduce((a, b) => (t.adc[b]! > t.adc[a]! ? b : a));
  const [bx, by] = screen(best);
  assert.ok(
    near(pixelAt(png, bx, by), colourOf(scale.t(t.adc[best]!))),
    `TP ${best} at (${bx.toFixed(1)}, ${by.toFixed(1)}): ${pixelAt(png, bx, by)} vs ${colourOf(scale.t(t.adc[best]!))}`,
  );
  // Its marker is at least MIN_MARKER_PX wide: the fill holds ±(MIN_MARKER_PX/2 − 1.5) px around
  // the centre (a 0.6 px outline, anti-aliased, takes the rest).
  const h = MIN_MARKER_PX / 2 - 1.5;
  for (const [dx, dy] of [
    [-h, 0],
    [h, 0],
    [0, -h],
    [0, h],
  ] as const)
    assert.ok(
      near(pixelAt(png, bx + dx, by + dy), colourOf(scale.t(t.adc[best]!)), 8),
      `marker of TP ${best} at offset ${dx},${dy}: ${pixelAt(png, bx + dx, by + dy)} (centre ${bx}, ${by}, marker ${L.marker})`,
    );
  return { t, scale, png, screen };
}

test('show: the brightest interaction TP appears at its channel and tick with its ΣADC colour; truth labelled with Eν', () => {
  const out = join(dir, 'show.png');
  const r = spawnSync(process.execPath, [cli, 'show', data, '--index', '0', '--out', out, '--width', '500'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const reader = openDataset(data);
  const scene = datasetScene(reader, 0, 'x');
  reader.close();
  assert.ok(scene.rawTps && scene.units && scene.units.tickUs === 0.5);
  const { scale } = checkTps(out, scene, undefined, 500);
  // A log scale: the geometric mean of the lowest and highest ΣADC sits half-way up the colour bar.
  assert.ok(scale.hi > scale.lo && Math.abs(scale.t(Math.sqrt(scale.lo * scale.hi)) - 0.5) < 1e-9);
  const svg = eventSvg(scene, { plotWidth: 500 });
  assert.match(svg, /Eν \d+\.\d MeV nue(CC|ES)/);
  assert.match(svg, /TPs: \d+ ν/);
  assert.match(svg, /channel \(detector wire\)/);
  assert.match(svg, /time \(µs, 0\.5 µs per tick\)/);
  assert.match(svg, /³⁹Ar: \d+/, 'background TPs by source in the legend');
});

test('--zoom frames the interaction: its TPs are drawn larger, still in their colour', () => {
  const out = join(dir, 'zoom.png');
  const r = spawnSync(process.execPath, [cli, 'show', data, '--index', '0', '--out', out, '--width', '500', '--zoom'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const reader = openDataset(data);
  const scene = datasetScene(reader, 0, 'x');
  reader.close();
  const view = frameInteraction(scene);
  const b = scene.truths[0]!;
  assert.ok(view.x0 <= b.x1 && view.x1 >= b.x2 && view.y0 <= b.y1 && view.y1 >= b.y2, 'the window holds the truth box');
  assert.ok(view.x1 - view.x0 < scene.width || view.y1 - view.y0 < scene.height, 'and is smaller than the image');
  checkTps(out, scene, view, 500);
  // An explicit window in channels and ticks.
  const w = parseZoom('0-48,0-1000', scene);
  assert.deepEqual(
    [w.x0 * scene.units!.wiresPerPixel, w.x1 * scene.units!.wiresPerPixel, w.y0 * scene.units!.ticksPerPixel, w.y1 * scene.units!.ticksPerPixel],
    [0, 48, 0, 1000],
  );
  const bad = spawnSync(process.execPath, [cli, 'show', data, '--index', '0', '--out', out, '--zoom', '5-2,0-10'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.trim(), /^daqyolo: --zoom: "5-2,0-10" is an empty window/);
});

test('owner codes map to the sources a physicist names', () => {
  assert.equal(kindOfOwner(0), 'signal');
  assert.equal(kindOfOwner(-1), 'ar39');
  assert.equal(kindOfOwner(-2), 'kr85');
  assert.equal(kindOfOwner(-5), 'rn');
  assert.equal(kindOfOwner(-10), 'ncapture');
  assert.equal(kindOfOwner(-1000), 'noise');
  assert.equal(kindOfOwner(-3), 'other');
});

test('detections are marked by the TP rule when the TPs are stored: ≥ 2 of one interaction inside the box, not IoU', () => {
  const truth = [{ x1: 10, y1: 10, x2: 30, y2: 30 }];
  // Interaction 0 has TPs at pixels (12,12), (13,12), (28,28); ³⁹Ar (owner −1) at (20,20) and (21,20).
  const tp = (px: number, py: number, owner: number) => ({ x: px + 0.5, y: py + 0.5, adc: 100, kind: owner >= 0 ? 'nu' : 'ar39', owner, px, py }) as SceneTp;
  const tps = [tp(12, 12, 0), tp(13, 12, 0), tp(28, 28, 0), tp(20, 20, -1), tp(21, 20, -1)];
  const det = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2, score: 0.9, cls: 0 });
  const marked = sceneDetections(
    [
      det(11, 11, 15, 14), //   2 TPs of interaction 0, IoU with the truth box 0.03: on it by the TP rule
      det(10, 10, 29, 29), //   IoU 0.9 and 2 of interaction 0's TPs inside (the ³⁹Ar ones do not count): on it
      det(19, 19, 29, 29), //   IoU 0.25, one TP of interaction 0 and two ³⁹Ar: a false positive by the TP rule
    ],
    truth,
    tps,
  ).map((d) => d.matched);
  assert.deepEqual(marked, [true, true, false]);
  // Without stored TPs (imported pictures) the display falls back to IoU ≥ 0.1 and says so.
  assert.deepEqual(
    sceneDetections([det(11, 11, 15, 14), det(19, 19, 29, 29)], truth, []).map((d) => d.matched),
    [false, true],
  );
  assert.match(sceneMatchRule([]), /IoU ≥ 0\.1 .*not the TP rule/);
  assert.match(sceneMatchRule(tps), /≥ 2 of the interaction's TPs/);
});
