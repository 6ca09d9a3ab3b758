// `daqyolo show`: event display of one image as a PNG (see README "show").
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { integer, MAX } from './options.js';
import { renderEvent } from '../data/render.js';
import { openDataset } from '../data/store.js';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('event display of one image: channel vs time, log colour scale, truth boxes labelled with Eν')
    .argument('<file>', 'dataset (HDF5)')
    .requiredOption('--index <i>', 'image index', integer({ max: MAX.datasetImages }))
    .requiredOption('--out <png>', 'output PNG')
    .option('--scale <k>', 'screen pixels per image pixel', integer({ min: 1, max: 8 }), 2)
    .option('--channel <c>', 'pixel channel to draw (0 = ADC integral)', integer({ max: 1024 }), 0)
    .action((file: string, o: { index: number; out: string; scale: number; channel: number }) => {
      const { index, scale, channel } = o;
      const r = openDataset(file);
      try {
        if (channel >= r.channels) throw new UserError(`--channel: ${file} has ${r.channels} channel(s), got "${o.channel}"`);
        const img = r.readDense([index]);
        const boxes = r.boxes(index);
        const inter = r.interactions(index);
        writeFileAtomic(o.out, renderEvent(img, r, boxes, inter, { scale, channel }));
        const e = inter.map((t) => `${t.process} ${t.energyMeV.toFixed(1)} MeV${t.box < 0 ? ' (no TP)' : ''}`).join('; ');
        console.log(`wrote ${o.out}: image ${index} of ${file}, ${boxes.length} box(es)${e ? `: ${e}` : ''}`);
      } finally {
        r.close();
      }
    });
}
