// daqyolo simulate --stream and daqyolo trigger end to end: a stream written as text8 and read
// back gives the candidates of the same stream triggered in memory; standard input fed in uneven
// pieces gives the file's candidates; Ctrl-C stops cleanly with the summary and what was decided.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { cli, env } from './report-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-trigger-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
const stream = join(dir, 's.txt');
const sim = ['--faces', '2', '--sn-rate', '200', '--seed', '3'];

test("simulate --stream → text8 → trigger gives the candidates of the same stream in memory; stdin in pieces gives the file's", async () => {
  const w = run(['simulate', '--stream', '0.04', ...sim, '--out', stream]);
  assert.equal(w.status, 0, w.stderr);
  assert.ok(existsSync(`${stream}.owners`) && existsSync(`${stream}.interactions.csv`), 'truth beside the TPs');
  const fromFile = join(dir, 'file.jsonl'),
    inMemory = join(dir, 'mem.jsonl');
  const binary = join(dir, 'tc.bin');
  const a = run(['trigger', '--baseline', stream, '--out', fromFile, '--json', '--out-binary', binary]);
  assert.equal(a.status, 0, a.stderr);
  const b = run(['trigger', '--baseline', '--simulate', '0.04', ...sim, '--out', inMemory]);
  assert.equal(b.status, 0, b.stderr);
  const lines = readFileSync(fromFile, 'utf8').trim().split('\n');
  assert.ok(lines.length >= 5, `${lines.length} candidates`);
  assert.equal(readFileSync(inMemory, 'utf8'), readFileSync(fromFile, 'utf8'));
  const c = JSON.parse(lines[0]);
  for (const k of ['version', 'time_start', 'time_end', 'time_candidate', 'detid', 'type', 'algorithm', 'channel_start', 'channel_end', 'face', 'score'])
    assert.ok(k in c, k);
  assert.ok(c.channel_start >= 1600 && c.channel_start < 2560 * 2, `FD-HD offline collection channel ${c.channel_start}`);
  // The binary TriggerCandidates read by numpy with the struct's offsets (trgdataformats
  // TriggerCandidateData + TriggerObjectOverlay's n_inputs, x86-64 layout): the JSON lines' fields.
  const py = spawnSync(
    'python3',
    [
      '-c',
      [
        'import numpy as np, json, sys',
        "dt = np.dtype({'names': ['version','time_start','time_end','time_candidate','detid','type','algorithm','n_inputs'],",
        "  'formats': ['<u2','<u8','<u8','<u8','<u2','<i4','<i4','<u8'], 'offsets': [0,8,16,24,32,36,40,48], 'itemsize': 56})",
        'a = np.fromfile(sys.argv[1], dtype=dt)',
        'print(json.dumps([{k: int(r[k]) for k in dt.names} for r in a]))',
      ].join('\n'),
      binary,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  const structs = JSON.parse(py.stdout) as Record<string, number>[];
  assert.equal(structs.length, lines.length);
  structs.forEach((t, i) => {
    const j = JSON.parse(lines[i]);
    for (const k of ['version', 'time_start', 'time_end', 'time_candidate', 'detid', 'type', 'algorithm']) assert.equal(t[k], j[k], `candidate ${i} ${k}`);
    assert.equal(t.n_inputs, 0);
  });
  const summary = JSON.parse(a.stdout);
  assert.ok(summary.trigger.efficiency.integrated.n >= 3, 'truth read from the sidecars');
  assert.ok(summary.realTime.faceWindowsPerSecond > 0 && summary.realTime.coresPerModule > 0);

  // Standard input in uneven pieces, with pauses: the same lines (no truth sidecar on stdin).
  const fromStdin = join(dir, 'stdin.jsonl');
  const child = spawn(process.execPath, [cli, 'trigger', '--baseline', '-', '--out', fromStdin], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const bytes = readFileSync(stream);
  for (let i = 0, k = 1; i < bytes.length; k = ((k * 131 + 7) % 20011) + 1) {
    child.stdin.write(bytes.subarray(i, i + k));
    i += k;
    await new Promise((r) => setTimeout(r, 2));
  }
  child.stdin.end();
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, err);
  assert.equal(readFileSync(fromStdin, 'utf8'), readFileSync(fromFile, 'utf8'));
});

test('trigger: Ctrl-C stops cleanly, prints the summary and keeps the candidates decided', async () => {
  const out = join(dir, 'stopped.jsonl');
  const child = spawn(process.execPath, [cli, 'trigger', '--baseline', '--simulate', '100', '--faces', '1', '--out', out], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  // The handler is in place once the candidates file is open (it is opened right after).
  for (let i = 0; i < 600 && !existsSync(`${out}.partial`); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 130, err);
  assert.match(err, /stopped early/);
  assert.match(err, /face-windows\/s/);
  assert.ok(existsSync(out), 'candidates written under the final name');
  for (const l of readFileSync(out, 'utf8').trim().split('\n').filter(Boolean)) JSON.parse(l);
});
