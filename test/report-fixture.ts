// Tiny real runs for the report tests: a simulated 64 px dataset, two 3-epoch YOLOv3-tiny runs
// that differ in the objectness loss (MSE vs BCE), each evaluated with a few background images.
// Everything goes through the real CLI, as a user would run it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSimConfig } from '../src/sim/config.js';
import { generateDataset } from '../src/data/generate.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(repoRoot, 'bin', 'daqyolo.js');
/** libtorch's default CPU allocator is being fixed; the system one avoids a slowdown meanwhile. */
export const env = { ...process.env, DAQYOLO_CPU_ALLOCATOR: 'system' };

export function daqyolo(args: string[], cwd = repoRoot): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, env });
  if (r.status !== 0) throw new Error(`daqyolo ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

export async function tinyDataset(path: string, images = 60): Promise<void> {
  const config = parseSimConfig({ image: { size: 64 }, signal: { perImage: 2, mode: 'fixed' } });
  await generateDataset({ out: path, config, images, seed: 5, workers: 0 });
}

/** Two evaluated runs in `dir` (named mse and bce); returns their directories. */
export async function twoRuns(dir: string): Promise<{ data: string; runs: string[] }> {
  const data = join(dir, 'tiny.h5');
  await tinyDataset(data);
  const runs = ['mse', 'bce'].map((k) => join(dir, k));
  for (const [i, out] of runs.entries()) {
    daqyolo([
      'train',
      '--data',
      data,
      '--out',
      out,
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
      '--obj-loss',
      i === 0 ? 'mse' : 'bce',
      '--warmup-epochs',
      '1',
      '--threads',
      '1',
      '--lr',
      '0.003',
    ]);
    daqyolo(['evaluate', out, '--data', data, '--background', '16', '--batch', '8']);
  }
  return { data, runs };
}
