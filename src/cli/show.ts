// `daqyolo show`: event display of one image (docs/event-displays.md): every TP as a marker
// coloured by ΣADC (log scale), shaped by its source, axes in channels, ticks and µs, truth boxes
// with Eν; PNG, or SVG when --out ends in .svg.
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { integer, MAX, text } from './options.js';
import { openDataset } from '../data/store.js';
import { datasetScene, eventPng, eventSvg, parseZoom } from '../report/event-scene.js';
import { basename } from 'node:path';

/** --zoom and --width as drawing options (shared with detect); throws UserError naming the flag. */
export function drawOptions(scene: Parameters<typeof parseZoom>[1], o: { zoom?: string | boolean; width?: string | number }) {
  const plotWidth = Number(o.width ?? 760);
  if (!Number.isInteger(plotWidth) || plotWidth < 200 || plotWidth > 4000)
    throw new UserError(`--width: expected an integer 200..4000 (screen pixels), got "${o.width}"`);
  try {
    return { plotWidth, view: o.zoom === undefined || o.zoom === false ? undefined : parseZoom(o.zoom === true ? 'interaction' : o.zoom, scene) };
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('event display of one image: every TP coloured by ΣADC (log) and shaped by its source, channel and tick/µs axes, truth boxes with Eν')
    .argument('<file>', 'dataset (HDF5)')
    .requiredOption('--index <i>', 'image index', integer({ max: MAX.datasetImages }))
    .requiredOption('--out <file>', 'output PNG (or SVG when it ends in .svg)')
    .option('--zoom [window]', 'frame the interaction (no value), or a window "C0-C1,T0-T1" in channels and ticks', text())
    .option('--width <px>', 'width of the plotting area in screen pixels', integer({ min: 200, max: 4000 }), 760)
    .action((file: string, o: { index: number; out: string; zoom?: string | boolean; width: number }) => {
      const index = o.index;
      const r = openDataset(file);
      try {
        if (index >= r.numImages) throw new UserError(`--index: ${file} has ${r.numImages} images (0..${r.numImages - 1}), got ${index}`);
        const scene = datasetScene(r, index, `${basename(file)} image ${index}`);
        const d = drawOptions(scene, o);
        writeFileAtomic(o.out, o.out.toLowerCase().endsWith('.svg') ? eventSvg(scene, d) : eventPng(scene, d));
        const inter = r.interactions(index);
        const e = inter.map((t) => `${t.process} ${t.energyMeV.toFixed(1)} MeV${t.box < 0 ? ' (no TP)' : ''}`).join('; ');
        console.log(
          `wrote ${o.out}: image ${index} of ${file}, ${scene.tps.length} ${scene.rawTps ? 'TPs' : 'pixels'}, ${scene.truths.length} box(es)${e ? `: ${e}` : ''}`,
        );
      } finally {
        r.close();
      }
    });
}
