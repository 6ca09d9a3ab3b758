// `daqyolo stats`: what is in a dataset (see README "stats").
import type { Command } from 'commander';
import { openDataset } from '../data/store.js';
import { datasetStats, formatStats } from '../data/stats.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('summarise a dataset: splits, occupancy, TPs by source, boxes, energies, anchors vs the seed')
    .argument('<file>', 'dataset (HDF5)')
    .option('--json', 'print one JSON object')
    .action((file: string, o: { json?: boolean }) => {
      const r = openDataset(file);
      try {
        const s = datasetStats(r);
        console.log(o.json ? JSON.stringify(s) : formatStats(s));
      } finally {
        r.close();
      }
    });
}
