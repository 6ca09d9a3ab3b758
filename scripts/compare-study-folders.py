#!/usr/bin/env python3
# Proves that a change left a study's results alone: compares two folders made by the same study
# command before and after the change (e.g. `study --plan seed --quick … --out A` on the old commit
# and `--out B` on the new one), file by file:
# - safetensors checkpoints tensor by tensor, and their metadata;
# - HDF5 files dataset by dataset, data and attributes (h5py);
# - JSON and JSONL field by field;
# - TensorBoard event files through TensorBoard's own EventAccumulator: every scalar (tag, step,
#   value) and text summary (their file names hold the creation time, so they are paired by folder);
# - logs line by line, progress lines (rates, ETAs) left out;
# - anything else byte for byte.
# What may differ between two identical computations is left out everywhere and listed in WALL:
# wall-clock fields, the two folder paths (replaced by @), and the byte counts of files that hold
# them (a checkpoint records how long metrics.jsonl and the event file were when it was saved, so
# its file digest differs too; its tensors are compared directly).
# Run it with build/pyref/bin/python (h5py, numpy and tensorboard; `npm test`'s setup makes it):
#   build/pyref/bin/python scripts/compare-study-folders.py A B
# Exit status 0 when nothing differs. docs/development.md says how it was used and what it printed.
import glob, h5py, json, os, re, struct, sys
import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

A, B = sys.argv[1].rstrip('/'), sys.argv[2].rstrip('/')
WALL = {'seconds', 'time', 'date', 'created', 'generated', 'pid', 'host', 'hostname', 'estimate', 'ts', 'started', 'finished', 'wall', 'elapsed',
        'metricsBytes', 'eventsBytes', 'checkpointDigest'}
WALL_SUFFIX = ('Seconds', 'PerSecond', 'Ms', 'At')
EVENTS = 'events.out.tfevents.'


def strip(x):
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if k not in WALL and not k.endswith(WALL_SUFFIX)}
    if isinstance(x, list): return [strip(v) for v in x]
    if isinstance(x, str): return x.replace(A, '@').replace(B, '@')
    return x


def diffs(a, b, path=''):
    if type(a) != type(b): return [path]
    if isinstance(a, dict): return [d for k in sorted(set(a) | set(b)) for d in diffs(a.get(k), b.get(k), f'{path}.{k}')]
    if isinstance(a, list): return [path + '[len]'] if len(a) != len(b) else [d for i, (x, y) in enumerate(zip(a, b)) for d in diffs(x, y, f'{path}[{i}]')]
    return [] if a == b else [path]


def safetensors(p):
    d = open(p, 'rb').read()
    n = struct.unpack('<Q', d[:8])[0]
    h = json.loads(d[8:8 + n])
    meta = {k: (strip(json.loads(v)) if v.startswith('{') else v) for k, v in (h.pop('__metadata__', None) or {}).items()}
    body = d[8 + n:]
    return {k: (v['dtype'], v['shape'], body[v['data_offsets'][0]:v['data_offsets'][1]]) for k, v in h.items()}, meta


def hdf5(pa, pb):
    fa, fb = h5py.File(pa, 'r'), h5py.File(pb, 'r')
    bad, n = [], 0

    def attrs(x, y, name):
        for k in set(x.attrs) | set(y.attrs):
            va, vb = x.attrs.get(k), y.attrs.get(k)
            if isinstance(va, str) and isinstance(vb, str): va, vb = strip(va), strip(vb)
            if not np.array_equal(np.asarray(va), np.asarray(vb)): bad.append(f'attr {name}@{k}')

    def visit(name, o):
        nonlocal n
        o2 = fb.get(name)
        if o2 is None: return bad.append('missing ' + name)
        attrs(o, o2, name)
        if isinstance(o, h5py.Dataset):
            n += 1
            if not np.array_equal(o[()], o2[()]): bad.append('data ' + name)

    attrs(fa, fb, '/')
    fa.visititems(visit)
    fb.visititems(lambda name, o: None if name in fa else bad.append('extra ' + name))
    return f'hdf5: {n} datasets identical' if not bad else 'DIFF ' + ', '.join(bad[:8])


def log_lines(p):
    text = open(p, encoding='utf8', errors='replace').read().replace(A, '@').replace(B, '@')
    out = []
    for line in text.splitlines():
        if 'batches/s' in line or 'images/s' in line and 'ETA' in line: continue  # progress lines: their count depends on speed
        out.append(re.sub(r'ETA [0-9.]+ ?(s|min|h)|\b[0-9.]+ (s|min|h)\b', 'T', line))
    return out


def events(dir_):
    ea = EventAccumulator(dir_, size_guidance={'scalars': 0, 'tensors': 0})
    ea.Reload()
    tags = ea.Tags()
    scalars = {t: [(e.step, e.value) for e in ea.Scalars(t)] for t in tags['scalars'] if not t.endswith('seconds')}
    texts = {t: [(e.step, [strip(v.decode('utf8', 'replace')) for v in e.tensor_proto.string_val]) for e in ea.Tensors(t)] for t in tags.get('tensors', [])}
    return scalars, texts


def compare(f):
    pa, pb = os.path.join(A, f), os.path.join(B, f)
    if open(pa, 'rb').read() == open(pb, 'rb').read(): return 'identical bytes'
    if f.endswith('.safetensors'):
        (ta, ma), (tb, mb) = safetensors(pa), safetensors(pb)
        if ta != tb: return 'DIFF tensors ' + ' '.join(k for k in ta if ta[k] != tb.get(k))[:200]
        return f'{len(ta)} tensors identical' + ('' if ma == mb else ', DIFF metadata ' + ' '.join(diffs(ma, mb)[:6]))
    if f.endswith('.h5'): return hdf5(pa, pb)
    if f.endswith('.json') or f.endswith('.jsonl'):
        try:
            if f.endswith('.jsonl'): d = diffs([strip(json.loads(l)) for l in open(pa) if l.strip()], [strip(json.loads(l)) for l in open(pb) if l.strip()])
            else: d = diffs(strip(json.load(open(pa))), strip(json.load(open(pb))))
        except ValueError as e:
            return f'DIFF unreadable JSON: {e}'
        return 'json identical' if not d else 'DIFF ' + ' '.join(d[:10])
    if f.endswith('.log'): return 'log identical' if log_lines(pa) == log_lines(pb) else 'DIFF log lines'
    clean = lambda p: re.sub(rb'[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?', b'', open(p, 'rb').read().replace(A.encode(), b'@').replace(B.encode(), b'@'))
    return 'text identical' if clean(pa) == clean(pb) else 'DIFF bytes'


def files(root):
    return {os.path.relpath(os.path.join(r, f), root) for r, _, fs in os.walk(root) for f in fs if not f.startswith(EVENTS)}


counts, failed = {}, False
fa, fb = files(A), files(B)
for f in sorted(fa ^ fb):
    print(f'DIFF only in {"the first" if f in fa else "the second"} folder  {f}')
    failed = True
for f in sorted(fa & fb):
    r = compare(f)
    failed |= 'DIFF' in r
    key = 'DIFF' if 'DIFF' in r else re.sub(r'^\d+ |: \d+', '', r)
    counts[key] = counts.get(key, 0) + 1
    print(f'{r:40s} {f}')
# Event files: one per run folder, paired by folder.
for da in sorted({os.path.dirname(p) for p in glob.glob(f'{A}/**/{EVENTS}*', recursive=True)}):
    db = B + da[len(A):]
    sa, ta = events(da)
    sb, tb = events(db)
    same = sa == sb and ta == tb
    failed |= not same
    key = 'TensorBoard events identical' if same else 'DIFF'
    counts[key] = counts.get(key, 0) + 1
    print(f'{(key if same else "DIFF events"):40s} {da[len(A) + 1:]}/ ({sum(len(v) for v in sa.values())} scalars, {len(ta)} text tags)')
print('SUMMARY', json.dumps(counts))
sys.exit(1 if failed else 0)
