// Crashes at each checkpoint phase (DAQYOLO_FAULT_AT makes the child SIGKILL itself at a named
// point), concurrent starts on one run directory, relocated run directories, and runs killed
// before their first checkpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, start, errorLines, tinyDataset, trainArgs, metrics, waitFor } from './fixture.js';
import { readCheckpointMeta } from '../../src/nn/serialize.js';
import { loadSafetensors } from '../../src/torch/index.js';

const dir = mkdtempSync(join(tmpdir(), 'daqyolo-faults-crash-'));
const data = join(dir, 'tiny.h5');
before(() => tinyDataset(data));
after(() => rmSync(dir, { recursive: true, force: true }));

const bestEpochInMetrics = (r: string) =>
  metrics(r)
    .filter((m) => m.type === 'epoch' && m.best)
    .at(-1)!.epoch;
const ckptEpoch = (r: string, name: string) => Number(readCheckpointMeta(join(r, 'checkpoints', `${name}.safetensors`)).epoch);
/** metrics.jsonl without the wall-clock field (epoch seconds). */
const records = (r: string) => metrics(r).map((m) => ({ ...m, seconds: undefined }));
/** Every tensor of a checkpoint, as numbers (the metadata holds byte offsets that depend on timings). */
const weights = (path: string) => Object.fromEntries([...loadSafetensors(path).tensors].map(([k, t]) => [k, Array.from(t.dataSync() as Float32Array, Number)]));

let reference: { records: unknown[]; last: Record<string, number[]> };
test('an uninterrupted reference run', () => {
  const out = join(dir, 'ref');
  const r = run(trainArgs(data, out, 3));
  assert.equal(r.status, 0, r.stderr);
  reference = { records: records(out), last: weights(join(out, 'checkpoints', 'last.safetensors')) };
});

for (const point of ['after-epoch-record', 'after-last', 'after-best', 'rename:last.safetensors', 'rename:best.safetensors']) {
  test(`killed at ${point} of epoch 2, resumed: the same metrics and weights as an uninterrupted run, best consistent`, () => {
    const out = join(dir, `kill-${point.replace(':', '-')}`);
    const killed = run(trainArgs(data, out, 3), { env: { DAQYOLO_FAULT_AT: point, DAQYOLO_FAULT_COUNT: '2' } });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr.slice(-500));
    const r = run(['train', '--resume', out]);
    assert.equal(r.status, 0, r.stderr.slice(-800));
    assert.deepEqual(records(out), reference.records);
    assert.deepEqual(weights(join(out, 'checkpoints', 'last.safetensors')), reference.last);
    assert.equal(ckptEpoch(out, 'best'), bestEpochInMetrics(out) + 1, 'best holds the epoch metrics.jsonl names');
    assert.ok(
      readdirSync(join(out, 'checkpoints')).every((f) => !f.includes('.tmp-')),
      "the dead writer's temporary file is gone",
    );
    assert.ok(!existsSync(join(out, 'lock')));
  });
}

test('a stale best (crash between the last and best renames) is repaired by evaluate, and refused when last cannot repair it', () => {
  const out = join(dir, 'stale-best');
  // Seed 4 at lr 0.01 improves on the validation loss per image in every epoch of this dataset
  // (checked with the current simulator defaults), so epoch 1 writes a new best.
  const killed = run(trainArgs(data, out, 3, ['--seed', '4', '--lr', '0.01']), { env: { DAQYOLO_FAULT_AT: 'after-last', DAQYOLO_FAULT_COUNT: '2' } });
  assert.equal(killed.signal, 'SIGKILL');
  const e = metrics(out).filter((m) => m.type === 'epoch');
  assert.equal(e.length, 2);
  if (!e[1]!.best) return assert.fail('fixture: epoch 1 should improve on epoch 0 (seed 4, lr 0.01)');
  assert.equal(ckptEpoch(out, 'best'), 1, 'best still holds epoch 0');
  // last cannot repair it once it has moved on: refused, naming both epochs.
  const copy = join(dir, 'stale-best-copy');
  cpSync(out, copy, { recursive: true });
  cpSync(join(copy, 'checkpoints', 'init.safetensors'), join(copy, 'checkpoints', 'last.safetensors'));
  const refused = run(['evaluate', copy, '--data', data]);
  assert.equal(refused.status, 1);
  assert.match(errorLines(refused)[0]!, /best\.safetensors holds epoch 0 but metrics\.jsonl names epoch 1 best/);
  // Here last holds epoch 1: evaluate repairs best from it.
  const ev = run(['evaluate', out, '--data', data]);
  assert.equal(ev.status, 0, ev.stderr);
  assert.equal(ckptEpoch(out, 'best'), 2);
  assert.deepEqual(readFileSync(join(out, 'checkpoints', 'best.safetensors')), readFileSync(join(out, 'checkpoints', 'last.safetensors')));
});

test('killed before the first checkpoint: --resume and train both start it again cleanly', () => {
  for (const how of ['resume', 'train']) {
    const out = join(dir, `early-${how}`);
    const killed = run(trainArgs(data, out, 1), { env: { DAQYOLO_FAULT_AT: 'rename:init.safetensors' } });
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(existsSync(join(out, 'config.json')) && !existsSync(join(out, 'checkpoints', 'last.safetensors')));
    const r = how === 'resume' ? run(['train', '--resume', out]) : run(trainArgs(data, out, 1));
    assert.equal(r.status, 0, r.stderr.slice(-500));
    assert.match(r.stderr, /stopped before its first checkpoint: nothing to keep, starting it again/);
    assert.ok(existsSync(join(out, 'done.json')));
    assert.equal(metrics(out).filter((m) => m.type === 'epoch').length, 1);
  }
});

test("two trains on one run directory: the second is refused with the first one's PID; a dead process's lock is taken over", async () => {
  const out = join(dir, 'concurrent');
  // The first is frozen (SIGSTOP) once it holds the lock: a fast machine could otherwise finish its
  // 4 tiny epochs before the second has started, and both would succeed (as study-folder's test did on CI).
  const a = start(trainArgs(data, out, 4));
  await waitFor(() => existsSync(join(out, 'lock')), 60_000, 'the first train to take its run directory');
  a.kill('SIGSTOP');
  const b = start(trainArgs(data, out, 4));
  const loserCode = await b.exited;
  a.kill('SIGCONT');
  const codes = [await a.exited, loserCode];
  assert.deepEqual(codes, [0, 1], a.output().slice(-300) + b.output().slice(-300));
  const [winner, loser] = [a, b];
  assert.match(loser.output(), new RegExp(`daqyolo: ${out} is in use by process ${winner.pid} `));
  assert.equal(metrics(out).filter((m) => m.type === 'epoch').length, 4, 'epochs of one process only');
  assert.equal(
    new Set(
      metrics(out)
        .filter((m) => m.type === 'epoch')
        .map((m) => m.epoch),
    ).size,
    4,
  );
  // A lock left by a killed process does not stick.
  const stale = join(dir, 'stale-lock');
  const r0 = run(trainArgs(data, stale, 1));
  assert.equal(r0.status, 0);
  writeFileSync(join(stale, 'lock'), `${2 ** 22 + 4321}\n`);
  const r1 = run(['train', '--resume', stale, '--epochs', '2']);
  assert.equal(r1.status, 0, r1.stderr.slice(-500));
  assert.ok(!existsSync(join(stale, 'lock')));
});

test('--resume trains the folder it names: a copied run extends the copy; an absolute path from elsewhere works', () => {
  const r1 = join(dir, 'r1');
  assert.equal(run(trainArgs(data, r1, 1)).status, 0);
  const copy = join(dir, 'r1copy');
  cpSync(r1, copy, { recursive: true });
  const before = readFileSync(join(r1, 'metrics.jsonl'), 'utf8');
  const r = run(['train', '--resume', 'r1copy', '--epochs', '2'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(r1, 'metrics.jsonl'), 'utf8'), before, 'the original is untouched');
  assert.equal(metrics(copy).filter((m) => m.type === 'epoch').length, 2);
  const elsewhere = mkdtempSync(join(tmpdir(), 'daqyolo-elsewhere-'));
  try {
    const rel = run(trainArgs('tiny.h5', 'r2', 1), { cwd: dir }); // relative data path
    assert.equal(rel.status, 0, rel.stderr);
    const abs = run(['train', '--resume', join(dir, 'r2'), '--epochs', '2'], { cwd: elsewhere });
    assert.equal(abs.status, 0, abs.stderr);
    assert.equal(metrics(join(dir, 'r2')).filter((m) => m.type === 'epoch').length, 2);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
});
