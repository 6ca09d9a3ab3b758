// The import direction of docs/architecture.md, enforced: every folder of src/ imports (values or
// types) only from itself and folders earlier in the pipeline, and what `daqyolo report` and the
// schema load reaches no native code. The compiled JavaScript is what Node loads, so the native
// check follows dist/; the direction check reads the TypeScript (type-only imports count too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The pipeline, earliest first; root files are named by their base name. */
export const ORDER = [
  'errors',
  'util',
  'torch',
  'c10d',
  'nn',
  'geometry',
  'sim',
  'anchors',
  'data',
  'model',
  'loss',
  'config',
  'schema',
  'run',
  'infer',
  'train',
  'formats',
  'trigger',
  'eval',
  'sweep',
  'study',
  'report',
  'bench',
  'cli',
  'index',
];
// 'bench' is the repository's bench/ folder: `daqyolo bench` (cli/bench.ts) runs its scripts.

/** Later stages that still must not import an earlier one: evaluation and reports use infer/, never the trainer. */
export const FORBIDDEN: readonly [string, string][] = [
  ['eval', 'train'],
  ['report', 'train'],
  ['study', 'train'],
];

/** Files of report/ that may load libtorch: each says why. */
const NATIVE_IN_REPORT: Record<string, string> = {
  'event-display.js': 'runs the model to draw detections; report.ts imports it dynamically, only when event displays are drawn',
  'sweep-summary.js': 'reads run states through run/run-dir.js, whose checkpoint metadata reader lives in nn/serialize.js',
};

function walk(dir: string, ext: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, ext, out);
    else if (name.endsWith(ext) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

interface Edge {
  from: string;
  to: string;
  spec: string;
  typeOnly: boolean;
  dynamic: boolean;
}

/** Relative imports and re-exports of one source text (static and dynamic). */
export function importsOf(text: string): { spec: string; typeOnly: boolean; dynamic: boolean }[] {
  const out: { spec: string; typeOnly: boolean; dynamic: boolean }[] = [];
  const stat = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of text.matchAll(stat)) out.push({ spec: m[4]!, typeOnly: !!m[2], dynamic: false });
  const bare = /^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of text.matchAll(bare)) out.push({ spec: m[1]!, typeOnly: false, dynamic: false });
  for (const m of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false, dynamic: true });
  return out;
}

/** The pipeline stage of a file under `base` (its folder, or its base name for root files). */
function stageOf(base: string, file: string): string {
  const rel = relative(base, file).split(/[\\/]/);
  if (rel[0] === '..') return rel[1] ?? '..';
  return rel.length === 1 ? rel[0]!.replace(/\.(ts|js)$/, '') : rel[0]!;
}

/** Edges that point to a later stage (or to a stage ORDER does not know). */
export function violations(edges: readonly Edge[], order: readonly string[], forbidden: readonly [string, string][] = FORBIDDEN): string[] {
  const rank = new Map(order.map((s, i) => [s, i]));
  const bad: string[] = [];
  for (const e of edges) {
    if (forbidden.some(([a, b]) => a === e.from && b === e.to)) bad.push(`${e.from} imports ${e.to} (${e.spec}): not allowed (FORBIDDEN)`);
    const a = rank.get(e.from);
    const b = rank.get(e.to);
    if (a === undefined || b === undefined) bad.push(`${e.from} → ${e.to} (${e.spec}): stage not in ORDER`);
    else if (b > a) bad.push(`${e.from} imports ${e.to} (${e.spec}${e.typeOnly ? ', type only' : ''}), which comes later in the pipeline`);
  }
  return bad;
}

function sourceEdges(): Edge[] {
  const base = join(root, 'src');
  const edges: Edge[] = [];
  for (const f of walk(base, '.ts')) {
    for (const i of importsOf(readFileSync(f, 'utf8'))) {
      const target = resolve(dirname(f), i.spec.replace(/\.js$/, '.ts'));
      const from = stageOf(base, f);
      const to = stageOf(base, target);
      if (from !== to) edges.push({ from, to, typeOnly: i.typeOnly, dynamic: i.dynamic, spec: `${relative(base, f)} → ${i.spec}` });
    }
  }
  return edges;
}

test('the checker finds an import against the pipeline and passes one along it', () => {
  const parsed = importsOf(
    "import { a } from '../train/x.js';\nimport type { B } from '../schema/y.js';\nexport { c } from './z.js';\nconst m = await import('../infer/w.js');\n",
  );
  assert.deepEqual(
    parsed.map((p) => [p.spec, p.typeOnly, p.dynamic]),
    [
      ['../train/x.js', false, false],
      ['../schema/y.js', true, false],
      ['./z.js', false, false],
      ['../infer/w.js', false, true],
    ],
  );
  assert.equal(violations([{ from: 'train', to: 'infer', spec: 'x', typeOnly: false, dynamic: false }], ORDER).length, 0);
  assert.equal(violations([{ from: 'eval', to: 'train', spec: 'x', typeOnly: true, dynamic: false }], ORDER).length, 1);
  assert.equal(violations([{ from: 'train', to: 'eval', spec: 'x', typeOnly: true, dynamic: false }], ORDER).length, 1);
  assert.equal(violations([{ from: 'report', to: 'nowhere', spec: 'x', typeOnly: false, dynamic: false }], ORDER).length, 1);
});

test('every folder of src/ imports only from folders earlier in the pipeline', () => {
  const edges = sourceEdges();
  assert.ok(edges.length > 100, `only ${edges.length} cross-folder imports found: is the parser broken?`);
  const folders = readdirSync(join(root, 'src')).map((n) => n.replace(/\.ts$/, ''));
  assert.deepEqual(
    folders.filter((f) => !ORDER.includes(f)),
    [],
    'a folder of src/ missing from ORDER (add it where it belongs in the pipeline and in docs/architecture.md)',
  );
  assert.deepEqual(violations(edges, ORDER), []);
});

/** Every compiled file a file loads when imported (static imports only, transitively). */
function staticClosure(file: string): Set<string> {
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const i of importsOf(readFileSync(f, 'utf8'))) if (!i.dynamic && !i.typeOnly) stack.push(resolve(dirname(f), i.spec));
  }
  return seen;
}

test('schema/ and report/ (but for the files named with a reason) load no native addon', () => {
  const dist = join(root, 'dist', 'src');
  const native = join(dist, 'torch', 'native.js');
  // The check itself: something that must reach the addon does.
  assert.ok(staticClosure(join(dist, 'infer', 'predict.js')).has(native));
  const files = [...walk(join(dist, 'schema'), '.js'), ...walk(join(dist, 'report'), '.js').filter((f) => !(f.split(/[\\/]/).at(-1)! in NATIVE_IN_REPORT))];
  assert.ok(files.some((f) => f.endsWith(join('report', 'report.js'))) && files.some((f) => f.endsWith(join('schema', 'run.js'))));
  const loading = files.filter((f) => staticClosure(f).has(native)).map((f) => relative(dist, f));
  assert.deepEqual(loading, [], 'these load the libtorch addon (through a static import chain)');
});

/**
 * The import cycles among files: each strongly connected component of the file graph with more
 * than one file (Tarjan), listed as its files. Dynamic imports are left out (they load later, on
 * purpose); type-only imports count (a cycle of types is still two files that must change together).
 */
export function fileCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

test('the cycle finder finds a cycle of three files and none in a chain', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(fileCycles(g), [['a', 'b', 'c']]);
  assert.deepEqual(
    fileCycles(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    [],
  );
});

test('no two files of src/ import each other, directly or through others', () => {
  const base = join(root, 'src');
  const graph = new Map<string, string[]>();
  for (const f of walk(base, '.ts')) {
    const targets = importsOf(readFileSync(f, 'utf8'))
      .filter((i) => !i.dynamic)
      .map((i) => relative(base, resolve(dirname(f), i.spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(base, f), targets);
  }
  assert.ok(graph.size > 100, `only ${graph.size} files found`);
  assert.deepEqual(fileCycles(graph), [], 'files that import each other (move the shared part into a file both import)');
});
