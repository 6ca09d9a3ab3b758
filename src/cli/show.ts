// `daqyolo show`: event display of one image as a PNG (see README "show").
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { renderEvent } from '../data/render.js';
import { openDataset } from '../data/store.js';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('event display of one image: channel vs time, log colour scale, truth boxes labelled with Eν')
    .argument('<file>', 'dataset (HDF5)')
    .requiredOption('--index <i>', 'image index')
    .requiredOption('--out <png>', 'output PNG')
    .option('--scale <k>', 'screen pixels per image pixel', '2')
    .option('--channel <c>', 'pixel channel to draw (0 = ADC integral)', '0')
    .action((file: string, o: { index: string; out: string; scale: string; channel: string }) => {
      const index = Number(o.index);
      const scale = Number(o.scale);
      const channel = Number(o.channel);
      if (!Number.isInteger(index) || index < 0) throw new UserError(`--index: expected a non-negative integer, got "${o.index}"`);
      if (!Number.isInteger(scale) || scale < 1 || scale > 8) throw new UserError(`--scale: expected an integer 1..8, got "${o.scale}"`);
      const r = openDataset(file);
      try {
        if (!Number.isInteger(channel) || channel < 0 || channel >= r.channels) throw new UserError(`--channel: ${file} has ${r.channels} channel(s), got "${o.channel}"`);
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
