// Shared pieces of the fault suite: the CLI as a child process, a tiny dataset, tiny training
// flags (32 px, YOLOv3-tiny at width 0.125), a small tmpfs (the tests run as root), and waits.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../../src/sim/config.js';
import { generateDataset } from '../../src/data/generate.js';

export const cli = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bin', 'daqyolo.js');
/** Debian's Python, with h5py (COMMON rules: the reference peer). */
export const PY = '/usr/bin/python3';

export function run(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: o.cwd, env: { ...process.env, ...o.env }, timeout: 180_000 });
}

export function start(
  args: string[],
  o: { cwd?: string; env?: Record<string, string> } = {},
): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('close', (code, signal) => res(code ?? (signal ? -1 : null))));
  return Object.assign(child, { output: () => out, exited });
}

/** The daqyolo lines of stderr (progress lines aside). */
export const errorLines = (r: SpawnSyncReturns<string>) => r.stderr.split('\n').filter((l) => l.startsWith('daqyolo:'));

/** A tiny simulated dataset: 32 px images, 2 interactions each. */
export async function tinyDataset(path: string, images = 60, seed = 5): Promise<void> {
  const config = parseSimConfig({ image: { size: 32 }, signal: { perImage: 2, mode: 'fixed' } });
  await generateDataset({ out: path, config, images, seed, workers: 0 });
}

/** Flags for a tiny, fast training run. */
export function trainArgs(data: string, out: string, epochs = 2, extra: string[] = []): string[] {
  return [
    'train',
    '--data',
    data,
    '--out',
    out,
    '--epochs',
    String(epochs),
    '--batch',
    '4',
    '--variant',
    'yolov3-tiny',
    '--width',
    '0.125',
    '--size',
    '32',
    '--seed',
    '3',
    '--threads',
    '1',
    '--workers',
    '1',
    ...extra,
  ];
}

/** A tmpfs of `size` (e.g. '1m') mounted at a fresh folder under `parent`; unmount it with the returned function. */
export function mountTmpfs(parent: string, name: string, size: string, options = ''): { path: string; unmount: () => void } {
  const path = join(parent, name);
  mkdirSync(path, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${options ? `,${options}` : ''}`, 'tmpfs', path], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount tmpfs at ${path} failed (the fault tests run as root): ${m.stderr}`);
  return {
    path,
    unmount: () => {
      spawnSync('umount', [path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds (polling), failing after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Records of metrics.jsonl. */
export function metrics(run: string): { type: string; epoch: number; batch?: number; best?: boolean; step: number }[] {
  const p = join(run, 'metrics.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}
