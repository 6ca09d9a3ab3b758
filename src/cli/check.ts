// `daqyolo check`: validates a whole dataset (the checks made at every open, then every pixel) and
// prints each problem with the file, HDF5 path and record; exit 1 when there is any.
import type { Command } from 'commander';
import { checkDataset } from '../data/store.js';
import { count } from './options.js';
import { progress } from './progress.js';
import { UserError } from '../errors.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate a dataset: offsets, splits, boxes, energies and every pixel; names file, path and record of each problem')
    .argument('<file>', 'dataset (HDF5)')
    .option('--max-problems <n>', 'stop after this many problems', count(1_000_000), 20)
    .action((file: string, o: { maxProblems: number }) => {
      let bar: ReturnType<typeof progress> | null = null;
      const r = checkDataset(file, o.maxProblems, (done, total) => {
        (bar ??= progress('check', total)).update(done);
      });
      (bar as ReturnType<typeof progress> | null)?.stop();
      if (r.problems.length) {
        for (const p of r.problems.slice(0, -1)) console.error(`daqyolo: ${p}`);
        const count = `${r.problems.length}${r.problems.length >= o.maxProblems ? ' or more' : ''}`;
        throw new UserError(`${r.problems[r.problems.length - 1]} (${count} problem${r.problems.length > 1 ? 's' : ''})`);
      }
      console.log(`${file}: ${r.images} images, no problems found`);
    });
}
