// `report --watch`: the report is rewritten as epoch records land in metrics.jsonl, the page
// reloads itself while watching, the watch ends by itself when every run has finished, and Ctrl-C
// stops it cleanly (exit 0, the last report whole and no longer reloading).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, daqyolo, env, tinyDataset } from './report-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-watch-'));
const done = join(dir, 'done-run');
let lines: string[] = [];
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const data = join(dir, 'tiny.h5');
  await tinyDataset(data, 40);
  daqyolo([
    'train',
    '--data',
    data,
    '--out',
    done,
    '--epochs',
    '3',
    '--batch',
    '8',
    '--width',
    '0.0625',
    '--size',
    '64',
    '--variant',
    'yolov3-tiny',
    '--threads',
    '1',
  ]);
  lines = readFileSync(join(done, 'metrics.jsonl'), 'utf8').trimEnd().split('\n');
});

/** A copy of the finished run as it stood after `epochs` epochs (still training: no done.json). */
function partialRun(name: string, epochs: number): string {
  const out = join(dir, name);
  cpSync(done, out, { recursive: true });
  rmSync(join(out, 'done.json'));
  let seen = 0;
  const keep = lines.filter((l) => seen < epochs && (JSON.parse(l).type !== 'epoch' || ++seen <= epochs));
  writeFileSync(join(out, 'metrics.jsonl'), keep.join('\n') + '\n');
  return out;
}

/** Starts `report --watch` and resolves each time its stdout gains a line matching `re`. */
function watch(run: string, out: string): { child: ChildProcess; next: (re: RegExp) => Promise<string>; exit: Promise<number | null>; stdout: () => string } {
  const child = spawn(process.execPath, [cli, 'report', run, '--out', out, '--events', '0', '--watch', '--interval', '0.3'], { env });
  let stdout = '';
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString();
    for (const w of [...waiters]) {
      const m = stdout.split('\n').find((l) => w.re.test(l));
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr!.on('data', () => {});
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exit, stdout: () => stdout, next: (re) => new Promise((resolve) => waiters.push({ re, resolve })) };
}

const epochLines = (run: string) => lines.filter((l) => JSON.parse(l).type === 'epoch');

test('the report is rewritten as epochs land, reloads itself meanwhile, and the watch ends when the run is done', async () => {
  const run = partialRun('growing', 1);
  const out = join(dir, 'growing.html');
  const w = watch(run, out);
  await w.next(/wrote .*\(epochs: growing 1\); watching/);
  assert.match(readFileSync(out, 'utf8'), /<meta http-equiv="refresh"/);
  appendFileSync(join(run, 'metrics.jsonl'), epochLines(run)[1] + '\n');
  await w.next(/wrote .*\(epochs: growing 2\)/);
  appendFileSync(join(run, 'metrics.jsonl'), epochLines(run)[2] + '\n');
  cpSync(join(done, 'done.json'), join(run, 'done.json')); // as training writes it when the run ends
  assert.equal(await w.exit, 0, w.stdout());
  assert.match(w.stdout(), /wrote .*\(epochs: growing 3\)/);
  assert.match(w.stdout(), /every run has finished/);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /http-equiv="refresh"/, 'the final report no longer reloads');
});

test('Ctrl-C stops the watch cleanly with the last report whole', async () => {
  const run = partialRun('stopped', 2);
  const out = join(dir, 'stopped.html');
  const w = watch(run, out);
  await w.next(/watching every/);
  w.child.kill('SIGINT');
  assert.equal(await w.exit, 0, w.stdout());
  assert.match(w.stdout(), /stopped watching: .* holds the last state/);
  const html = readFileSync(out, 'utf8');
  assert.ok(html.trimEnd().endsWith('</html>'));
  assert.doesNotMatch(html, /http-equiv="refresh"/);
});
