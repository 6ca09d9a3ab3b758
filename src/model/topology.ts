// A network's wiring as data: which registered module runs on which earlier value, where two
// maps are concatenated, where a sparse map becomes dense, and which values are the head
// outputs. YoloV3.forward runs it (dense and sparse variants of one family share it) and the
// ONNX writer walks it, so a change of topology is one change here, not one in every consumer.
// Intermediate values are freed after their last use, so no variant places dispose() by hand.
import { Tensor, SparseTensor, cat, sparseUpsample } from '../torch/index.js';
import type { Module } from '../nn/index.js';

/** One step; `id` names its value for later steps. The network's input is `'input'`. */
export type TopologyNode =
  /** Run the module at this dotted path (e.g. `backbone.stages.2`) on `from`. */
  | { id: string; module: string; from: string }
  /** A head's output map: the module at this path, read out as a dense [B, A·(5+C), H, W] map. */
  | { id: string; head: string; from: string }
  /**
   * Channel concatenation, first value's channels first (keras' Concatenate([upsampled, skip])).
   * A sparse first value on a coarser grid is upsampled (nearest) onto the second's sites first.
   */
  | { id: string; concat: [string, string] }
  /** Sparse → dense NHWC map (a hybrid network's switch to dense layers). */
  | { id: string; densify: string };

export interface Topology {
  nodes: readonly TopologyNode[];
  /** Head output ids, coarse (largest stride) first. */
  outputs: readonly string[];
}

export const INPUT = 'input';

/** The ids a node reads. */
export const inputsOf = (n: TopologyNode): string[] => ('concat' in n ? [...n.concat] : 'densify' in n ? [n.densify] : [n.from]);

/** The module at a dotted path below `root`; the error names the path. */
export function moduleAt(root: Module, path: string): Module {
  let cur = root;
  for (const part of path.split('.')) {
    const next = cur.children().find(([n]) => n === part);
    if (!next) throw new Error(`topology: no module '${path}' (no '${part}')`);
    cur = next[1];
  }
  return cur;
}

/** Checks that every node reads only earlier values and every output exists (at construction). */
export function checkTopology(t: Topology, root: Module): void {
  const known = new Set([INPUT]);
  for (const n of t.nodes) {
    for (const i of inputsOf(n)) if (!known.has(i)) throw new Error(`topology: ${n.id} reads '${i}' before it is made`);
    if ('module' in n) moduleAt(root, n.module);
    if ('head' in n) moduleAt(root, n.head);
    if (known.has(n.id)) throw new Error(`topology: '${n.id}' is made twice`);
    known.add(n.id);
  }
  for (const o of t.outputs) if (!known.has(o)) throw new Error(`topology: output '${o}' is never made`);
}

type Value = Tensor | SparseTensor;
/** A sparse head output block reads itself out densely; a dense one is its forward. */
interface DenseReadout {
  dense(x: SparseTensor): Tensor;
}
const hasDenseReadout = (m: unknown): m is DenseReadout => typeof (m as DenseReadout).dense === 'function';

/** Runs the topology on `input` (never freed here); returns the head outputs, coarse first. */
export function runTopology(t: Topology, root: Module, input: Value): Tensor[] {
  const lastUse = new Map<string, number>();
  t.nodes.forEach((n, k) => {
    for (const i of inputsOf(n)) lastUse.set(i, k);
  });
  const outputs = new Set(t.outputs);
  const values = new Map<string, Value>([[INPUT, input]]);
  const get = (id: string) => values.get(id)!;
  try {
    t.nodes.forEach((n, k) => {
      values.set(n.id, runNode(n, root, get));
      for (const i of inputsOf(n)) {
        if (lastUse.get(i) !== k || i === INPUT || outputs.has(i)) continue;
        values.get(i)!.dispose();
        values.delete(i);
      }
    });
    return t.outputs.map((o) => get(o) as Tensor);
  } catch (e) {
    // On an error, free what was made (the caller's input stays).
    for (const [id, v] of values) if (id !== INPUT) v.dispose();
    throw e;
  }
}

/** One node's value from the values it reads (runTopology's step; bench/sparse-profile.ts times it). */
export function runNode(n: TopologyNode, root: Module, get: (id: string) => Value): Value {
  if ('module' in n) return (moduleAt(root, n.module) as unknown as { forward(x: Value): Value }).forward(get(n.from));
  if ('head' in n) {
    const m = moduleAt(root, n.head);
    const x = get(n.from);
    if (x instanceof SparseTensor) {
      if (!hasDenseReadout(m)) throw new Error(`topology: sparse head ${n.head} has no dense readout`);
      return m.dense(x);
    }
    return (m as unknown as { forward(x: Tensor): Tensor }).forward(x);
  }
  if ('densify' in n) {
    const s = get(n.densify) as SparseTensor;
    const d = s.dense();
    const nhwc = d.contiguous('channels_last');
    if (nhwc !== d) d.dispose();
    return nhwc;
  }
  const [a, b] = n.concat.map(get) as [Value, Value];
  if (a instanceof SparseTensor && b instanceof SparseTensor) {
    const factor = b.grid.height / a.grid.height;
    const up = factor === 1 ? null : sparseUpsample(a, b.grid, factor);
    const joined = b.withFeatures(cat([(up ?? a).features, b.features], 1));
    up?.dispose();
    return joined;
  }
  if (a instanceof SparseTensor || b instanceof SparseTensor) throw new Error(`topology: ${n.id} concatenates a sparse and a dense map`);
  return cat([a, b], 1);
}
