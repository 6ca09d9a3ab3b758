// The report in a real browser: headless Chromium (Debian's) opens the self-contained HTML with
// no console errors and no network requests, every plot is present and non-empty, and a
// two-run comparison shows both runs' series on every plot with a single run legend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { daqyolo, twoRuns } from './report-fixture.js';
import { runColorOf } from '../src/report/figure.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-report-'));
let runs: string[] = [];
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run 'node scripts/setup.mjs --test' (installs Debian's chromium)`);
  ({ runs } = await twoRuns(dir));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface PlotInfo {
  id: string;
  width: number;
  height: number;
  marks: number;
  visibleMarks: number;
  legends: string[][];
  colours: string[];
}

/** Opens a report and describes every plot as the browser laid it out. */
async function inspect(html: string) {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
  });
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
  const plots: PlotInfo[] = await page.$$eval('figure.plot', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const marks = svg ? [...svg.querySelectorAll('.role-mark > *')] : [];
      const visibleMarks = marks.filter((m) => {
        const b = (m as unknown as { getBBox?: () => { width: number; height: number } }).getBBox?.();
        return b && (b.width > 0 || b.height > 0);
      }).length;
      const legends = svg ? [...svg.querySelectorAll('.role-legend')].map((l) => [...l.querySelectorAll('text')].map((t) => t.textContent ?? '')) : [];
      const colours = [
        ...new Set(
          marks
            .flatMap((m) => [m.getAttribute('stroke'), m.getAttribute('fill')])
            .filter((c): c is string => !!c)
            .map((c) => c.toLowerCase()),
        ),
      ];
      return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, marks: marks.length, visibleMarks, legends, colours };
    }),
  );
  const tables = await page.$$eval('table', (ts) => ts.map((t) => t.querySelectorAll('tbody tr').length));
  await page.close();
  return { errors, requests, plots, tables };
}

const EXPECTED = [
  'terms-coarse',
  'terms-intermediate',
  'objective',
  'warmup',
  'batch-objective',
  'val-stats',
  'val-distributions',
  'val-evolution',
  'anchors',
  'precision-recall',
  'efficiency-energy',
  'efficiency-fp',
];

test('one run: the report opens in Chromium without errors and every plot is drawn', async () => {
  const out = join(dir, 'one.html');
  daqyolo(['report', runs[0]!, '--out', out]);
  const r = await inspect(out);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.requests, [], 'a self-contained report loads nothing');
  const ids = r.plots.map((p) => p.id);
  for (const id of EXPECTED) assert.ok(ids.includes(id), `plot ${id} missing (have ${ids.join(', ')})`);
  assert.ok(!ids.includes('terms-detailed'), 'YOLOv3-tiny has two scales');
  assert.equal(ids.filter((id) => id.startsWith('event-')).length, 3, 'three event displays by default');
  for (const p of r.plots) {
    assert.ok(p.width > 100 && p.height > 100, `${p.id}: empty box ${p.width}×${p.height}`);
    assert.ok(p.visibleMarks > 0, `${p.id}: no visible marks`);
  }
  assert.ok(r.tables.length >= 2 && r.tables[0] === 1, 'headline table has one row per run');
});

test('two runs: every plot shows both runs in one legend', async () => {
  const out = join(dir, 'two.html');
  const figs = join(dir, 'figs');
  daqyolo(['report', ...runs, '--out', out, '--figures', figs]);
  const r = await inspect(out);
  assert.deepEqual(r.errors, []);
  assert.ok(r.plots.length >= EXPECTED.length);
  // Event displays: one per image and run (each with that run's detections).
  const events = r.plots.filter((p) => p.id.startsWith('event-'));
  assert.equal(events.length, 6, `three images × two runs: ${events.map((p) => p.id)}`);
  assert.ok(events.every((p) => p.visibleMarks > 0));
  for (const p of r.plots.filter((x) => !x.id.startsWith('event-'))) {
    const runLegends = p.legends.filter((l) => l.includes('mse') || l.includes('bce'));
    assert.equal(runLegends.length, 1, `${p.id}: expected one legend naming the runs, got ${JSON.stringify(p.legends)}`);
    assert.ok(runLegends[0]!.includes('mse') && runLegends[0]!.includes('bce'), `${p.id}: the legend names both runs`);
    for (const c of [runColorOf(0), runColorOf(1)]) assert.ok(p.colours.includes(c), `${p.id}: no mark in ${c} (colours ${p.colours.join(' ')})`);
  }
  // --figures: an SVG and a PNG per plot.
  const files = readdirSync(figs);
  for (const p of r.plots) {
    assert.ok(files.includes(`${p.id}.svg`) && files.includes(`${p.id}.png`), `${p.id}: figure files`);
    assert.ok(statSync(join(figs, `${p.id}.png`)).size > 2000, `${p.id}.png is not empty`);
  }
});

test('the baseline trigger is drawn beside the network in both trigger plots', async () => {
  daqyolo(['baseline', join(dir, 'tiny.h5'), '--run', runs[0]!, '--background', '16', '--workers', '0']);
  const out = join(dir, 'baseline.html');
  daqyolo(['report', runs[0]!, '--out', out]);
  const r = await inspect(out);
  assert.deepEqual(r.errors, []);
  for (const id of ['efficiency-energy', 'efficiency-fp']) {
    const p = r.plots.find((x) => x.id === id);
    assert.ok(p, `${id} missing`);
    assert.ok(
      p.legends.some((l) => l.some((t) => t.endsWith('· baseline'))),
      `${id}: no baseline in the legend ${JSON.stringify(p.legends)}`,
    );
    assert.ok(p.colours.includes('#555555'), `${id}: no baseline mark (colours ${p.colours.join(' ')})`);
  }
  // The summary puts the two side by side by the same rule (the default TP rule of both reports).
  const html = readFileSync(out, 'utf8');
  assert.match(html, /Network and baseline at the same FP rate per module, by the same matching rule/);
  assert.match(html, /≥ 2 TPs/);
  // A baseline measured by another rule is not drawn beside the network: the caption says why.
  daqyolo(['baseline', join(dir, 'tiny.h5'), '--run', runs[0]!, '--background', '16', '--workers', '0', '--match', 'iou']);
  const other = join(dir, 'baseline-iou.html');
  daqyolo(['report', runs[0]!, '--out', other]);
  const text = readFileSync(other, 'utf8');
  assert.match(text, /its baseline was measured by the rule &quot;iou&quot;, not the network's &quot;tps&quot;/);
  assert.match(text, /not measured by this rule/);
});
