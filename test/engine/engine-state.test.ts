// State dicts, safetensors and checkpoints: strict loading with clear errors, round trips, and
// files exchanged with Python (/usr/bin/python3 with torch; Debian has no python3-safetensors,
// so the Python side parses the format with json + struct + torch.frombuffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, zeros, tidy, Adam, saveSafetensors, loadSafetensors, type Tensor } from '../../src/torch/index.js';
import { StateDictError, saveCheckpoint, loadCheckpoint, CheckpointError, Conv2d, Sequential, BatchNorm2d } from '../../src/nn/index.js';
import { smallNet } from './nets.js';

const PY = '/usr/bin/python3';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'daqyolo-state-'));

test('stateDict uses PyTorch key names; loadStateDict names missing, unexpected and mis-shaped keys', () =>
  tidy(() => {
    const m = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2));
    assert.deepEqual([...m.stateDict().keys()], ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
    const good = new Map([...m.stateDict()].map(([k, t]) => [k, t.detach().add(1).to(t.dtype)] as [string, Tensor]));
    const missing = new Map(good);
    missing.delete('1.running_var');
    assert.throws(
      () => m.loadStateDict(missing),
      (e: Error) => e instanceof StateDictError && /missing keys: 1\.running_var/.test(e.message),
    );
    const unexpected = new Map(good);
    unexpected.set('2.weight', zeros([1]));
    assert.throws(() => m.loadStateDict(unexpected), /unexpected keys: 2\.weight/);
    const shaped = new Map(good);
    shaped.set('0.weight', zeros([2, 1, 5, 5]));
    assert.throws(() => m.loadStateDict(shaped), /shape mismatch for 0\.weight: checkpoint \[2,1,5,5\] vs model \[2,1,3,3\]/);
    assert.deepEqual(m.loadStateDict(missing, { strict: false }), { missing: ['1.running_var'], unexpected: [] });
    m.loadStateDict(good);
    assert.deepEqual(m.stateDict().get('1.running_mean')!.tolist(), [1, 1]);
    assert.equal(m.stateDict().get('1.num_batches_tracked')!.dtype, 'int64');
    m.dispose();
  }));

test('safetensors round trip of every dtype with metadata; atomic write leaves no temporary file', () => {
  const dir = tmp();
  try {
    tidy(() => {
      const path = join(dir, 'a.safetensors');
      const src = {
        f32: tensor([
          [1.5, -2],
          [3, 4],
        ]),
        f64: tensor([Math.PI], { dtype: 'float64' }),
        i64: tensor([2 ** 40, -1], { dtype: 'int64' }),
        i32: tensor([7], { dtype: 'int32' }),
        u8: tensor([255, 0], { dtype: 'uint8' }),
        b: tensor([true, false]),
        scalar: tensor(2.5),
      };
      saveSafetensors(path, src, { who: 'daqyolo' });
      assert.deepEqual(readdirSync(dir), ['a.safetensors']);
      const { tensors, metadata } = loadSafetensors(path);
      assert.deepEqual(metadata, { who: 'daqyolo' });
      for (const [k, t] of Object.entries(src)) {
        const r = tensors.get(k)!;
        assert.equal(r.dtype, t.dtype, k);
        assert.deepEqual(r.shape, t.shape, k);
        assert.deepEqual(r.tolist(), t.tolist(), k);
      }
      writeFileSync(join(dir, 'bad.safetensors'), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
      assert.throws(() => loadSafetensors(join(dir, 'bad.safetensors')), /bad\.safetensors: header length 1 runs past|header is not JSON/);
      assert.throws(() => loadSafetensors(join(dir, 'none.safetensors')), /cannot read .*none\.safetensors/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint errors name the file and the key', () => {
  const dir = tmp();
  try {
    const m = smallNet(1);
    const opt = new Adam(m.parameters());
    const path = join(dir, 'c.safetensors');
    saveCheckpoint(path, { model: m });
    assert.throws(
      () => loadCheckpoint(path, { model: m, optimizer: opt }),
      (e: Error) => e instanceof CheckpointError && e.message.includes(path) && /holds no optimiser state/.test(e.message),
    );
    const other = new Sequential(new Conv2d(1, 4, 3));
    assert.throws(
      () => loadCheckpoint(path, { model: other }),
      (e: Error) => e.message.startsWith(`${path}: cannot load state dict`) && /0\.weight/.test(e.message),
    );
    assert.throws(() => loadCheckpoint(join(dir, 'missing.safetensors'), { model: m }), /missing\.safetensors/);
    // An optimiser tensor with the wrong shape names its key.
    tidy(() => {
      const { tensors, metadata } = loadSafetensors(path);
      tensors.set('optim.0.exp_avg', zeros([3]));
      tensors.set('optim.0.exp_avg_sq', zeros([3]));
      metadata['daqyolo.optim'] = JSON.stringify({ type: 'Adam', lr: 1e-3, params: opt.params.length, steps: opt.params.map((_, i) => (i === 0 ? 1 : null)) });
      saveSafetensors(join(dir, 'd.safetensors'), tensors, metadata);
    });
    assert.throws(
      () => loadCheckpoint(join(dir, 'd.safetensors'), { model: m, optimizer: opt }),
      /d\.safetensors: 'optim\.0\.exp_avg' has shape \[3\], parameter 0 has \[8,1,3,3\]/,
    );
    m.dispose();
    other.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Python reads the format by hand: json header, then torch.frombuffer on each byte range.
const PY_READ = `
import json, struct, sys, torch
DT = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8, 'BOOL': torch.bool}
def load(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n])
    meta = h.pop('__metadata__', {})
    out = {}
    for k, e in h.items():
        s, t = e['data_offsets']
        buf = bytearray(b[8 + n + s: 8 + n + t])
        out[k] = (torch.frombuffer(buf, dtype=DT[e['dtype']]) if len(buf) else torch.empty(0, dtype=DT[e['dtype']])).reshape(e['shape'])
    return out, meta
`;

test('a checkpoint written by daqyolo loads into the same network built in PyTorch', () => {
  const dir = tmp();
  try {
    const m = smallNet(5);
    const opt = new Adam(m.parameters());
    const path = join(dir, 'net.safetensors');
    saveCheckpoint(path, { model: m, optimizer: opt, meta: { epoch: 1 } });
    const { x, want } = tidy(() => {
      m.eval();
      const xx = tensor([
        [
          [
            [0.5, -1, 2, 0],
            [1, 1, 0, -2],
            [0, 3, 1, 1],
            [2, 0, -1, 1],
          ],
        ],
      ]);
      return { x: xx.tolist(), want: m.forward(xx).toNumbers() };
    });
    const script =
      PY_READ +
      `
import torch.nn as nn
sd, meta = load(sys.argv[1])
net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.1), nn.Conv2d(8, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.1), nn.Conv2d(8, 1, 1))
net.load_state_dict({k: v for k, v in sd.items() if not k.startswith('optim.')})
net.eval()
y = net(torch.tensor(json.loads(sys.argv[2])))
print(json.dumps({'y': y.flatten().tolist(), 'meta': json.loads(meta['daqyolo.meta']), 'format': meta['daqyolo.format']}))
`;
    const r = spawnSync(PY, ['-c', script, path, JSON.stringify(x)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { y: number[]; meta: unknown; format: string };
    assert.deepEqual(got.meta, { epoch: 1 });
    assert.equal(got.format, 'checkpoint/1');
    got.y.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `output ${i}: python ${v}, daqyolo ${want[i]}`));
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a safetensors file written by Python is read by daqyolo', () => {
  const dir = tmp();
  try {
    const path = join(dir, 'py.safetensors');
    // Writer by hand, as safetensors.torch.save_file lays it out (header padded to 8 bytes).
    const script = `
import json, struct, sys, torch
ts = {'w': torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4, 'n': torch.tensor([-5, 2**40]), 'm': torch.tensor([True, False, True]), 'd': torch.tensor([1e-300], dtype=torch.float64)}
CODE = {torch.float32: 'F32', torch.int64: 'I64', torch.bool: 'BOOL', torch.float64: 'F64'}
header, blobs, off = {'__metadata__': {'from': 'python'}}, [], 0
for k, t in ts.items():
    b = t.numpy().tobytes()
    header[k] = {'dtype': CODE[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
    blobs.append(b); off += len(b)
h = json.dumps(header).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
`;
    const r = spawnSync(PY, ['-c', script, path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(path) && readFileSync(path).length > 8);
    tidy(() => {
      const { tensors, metadata } = loadSafetensors(path);
      assert.deepEqual(metadata, { from: 'python' });
      assert.deepEqual(tensors.get('w')!.tolist(), [
        [0, 0.25, 0.5],
        [0.75, 1, 1.25],
      ]);
      assert.deepEqual(tensors.get('n')!.tolist(), [-5, 2 ** 40]);
      assert.equal(tensors.get('n')!.dtype, 'int64');
      assert.deepEqual(tensors.get('m')!.tolist(), [true, false, true]);
      assert.deepEqual(tensors.get('d')!.tolist(), [1e-300]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
