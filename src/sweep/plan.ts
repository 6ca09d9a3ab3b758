// A sweep file (sweep.json) and the plan it expands to: the cartesian product of `grid` (and,
// when given, each entry of `list`) over dotted training-config keys, each point a run directory
// named from its values, with its full training config validated before anything runs.
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { deepMerge, parseTrainConfig, presets, type TrainConfig } from '../config/train-config.js';
import { setDotted } from '../util/merge.js';
import { readJsonFile } from '../util/json-file.js';

export const sweepSchema = z
  .object({
    /** Folder that receives one run directory per point (relative paths: to the sweep file). */
    out: z.string().min(1),
    /** Preset applied under `base` (e.g. "seed"). */
    preset: z.string().optional(),
    /** Training config shared by every point (any key of `daqyolo train --config`); `data` is needed. */
    base: z.record(z.string(), z.unknown()).default({}),
    /** Dotted key → values; every combination is a point. */
    grid: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
    /**
     * Explicit points (dotted key → value); combined with every grid point when both are given.
     * The reserved key `@name` names a point's run directory instead of its values.
     */
    list: z.array(z.record(z.string(), z.unknown())).optional(),
    /** Runs at once on this machine (`--parallel` overrides). */
    parallel: z.number().int().positive().default(1),
    /** libtorch threads shared by the parallel runs (0 = every core). */
    threads: z.number().int().min(0).default(0),
    slurm: z
      .object({
        partition: z.string().optional(),
        account: z.string().optional(),
        time: z.string().optional(),
        mem: z.string().optional(),
        cpusPerTask: z.number().int().positive().default(4),
        /** Extra `#SBATCH` options, e.g. "--gres=gpu:1". */
        options: z.array(z.string()).default([]),
        /** Shell lines run before the task, e.g. "module load nodejs". */
        setup: z.array(z.string()).default([]),
        /** The node executable on the cluster. */
        node: z.string().default('node'),
      })
      .strict()
      .default({ cpusPerTask: 4, options: [], setup: [], node: 'node' }),
  })
  .strict();

export type SweepFile = z.infer<typeof sweepSchema>;

export interface SweepPoint {
  index: number;
  name: string;
  /** The swept values of this point (dotted keys). */
  values: Record<string, unknown>;
  dir: string;
  config: TrainConfig;
}

export interface SweepPlan {
  file: string;
  out: string;
  sweep: SweepFile;
  points: SweepPoint[];
}

export { setDotted };

/** List-entry key that names the point's run directory (it is not a config key). */
export const NAME_KEY = '@name';

/** Every combination of the grid's values, keys in the file's order, the last key varying fastest. */
export function cartesian(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  return points;
}

/** A value as it appears in a directory name: short, and only [A-Za-z0-9.+-]. */
function nameValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return (
    s
      .replace(/[^A-Za-z0-9.+-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'x'
  );
}

/** Directory name of a point: key-value pairs joined by "_" (e.g. batch-8_optimizer.lr-0.001). */
export function pointName(values: Record<string, unknown>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}-${nameValue(v)}`);
  return parts.length ? parts.join('_') : 'base';
}

/** A sweep file checked against its schema (defaults filled in); a bad one fails naming the field. */
export function readSweepFile(path: string): SweepFile {
  return readJsonFile(path, sweepSchema);
}

export interface PlanOptions {
  /** libtorch threads given to each run (the caller divides the machine). */
  threadsPerRun: number;
}

/** Expands a sweep file into validated points. Relative paths are taken from the sweep file's folder. */
export function planSweep(file: string, sweep: SweepFile, o: PlanOptions): SweepPlan {
  const here = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : join(here, p));
  const out = abs(sweep.out);
  let base: unknown = {};
  if (sweep.preset) {
    const p = presets[sweep.preset];
    if (!p) throw new UserError(`${file}: preset ${sweep.preset} is unknown (known: ${Object.keys(presets).join(', ')})`);
    base = deepMerge(base, p);
  }
  base = deepMerge(base, sweep.base);
  const rows = (sweep.list ?? [{}]).flatMap((entry) => cartesian(sweep.grid).map((g) => ({ ...entry, ...g })));
  if (rows.length === 0) throw new UserError(`${file}: the sweep has no points`);
  const seen = new Map<string, number>();
  const points = rows.map((row, index) => {
    const { [NAME_KEY]: given, ...values } = row;
    if (given !== undefined && (typeof given !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/.test(given))) {
      throw new UserError(`${file}: list entry ${index}: ${NAME_KEY} must be a folder name of letters, digits and . + _ -, got ${JSON.stringify(given)}`);
    }
    let name = given ?? pointName(values);
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n > 1) name = `${name}-${n}`;
    const patch: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) setDotted(patch, k, v);
    const dir = join(out, name);
    const merged = deepMerge(base, patch) as Record<string, unknown>;
    const raw: Record<string, unknown> = { ...merged, out: dir, threads: 'threads' in values || 'threads' in sweep.base ? merged.threads : o.threadsPerRun };
    if (typeof raw.data === 'string') raw.data = abs(raw.data);
    const config = parseTrainConfig(raw, `${file} point ${index} (${name})`);
    return { index, name, values, dir, config };
  });
  return { file: resolve(file), out, sweep, points };
}
