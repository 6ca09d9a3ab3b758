// `daqyolo show`: event display of one image (docs/event-displays.md): every TP as a marker
// coloured by ΣADC (log scale), shaped by its source, axes in channels, ticks and µs, truth boxes
// with Eν; PNG, or SVG when --out ends in .svg.
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Command } from 'commander';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { openDataset } from '../data/store.js';
import { checkZoomSpec, datasetScene, eventPng, eventSvg, parseZoom, type EventScene } from '../report/event-scene.js';
import { custom, integer, MAX, OptionValueError } from './options.js';

/** --zoom's value: "interaction" or a window "C0-C1,T0-T1" (checked here; converted per image by parseZoom). */
export const zoomOption = () => custom('zoom window', (v) => {
  try {
    return checkZoomSpec(v);
  } catch (e) {
    throw new OptionValueError((e as Error).message);
  }
});
/** --width: the plotting area in screen pixels. */
export const plotWidthOption = () => integer({ min: 200, max: 4000 });

/** --zoom and --width as drawing options (shared with detect). */
export function drawOptions(scene: EventScene, o: { zoom?: string | boolean; width: number }) {
  try {
    return { plotWidth: o.width, view: o.zoom === undefined || o.zoom === false ? undefined : parseZoom(o.zoom === true ? 'interaction' : o.zoom, scene) };
  } catch (e) {
    throw new UserError(`--zoom: ${(e as Error).message}`);
  }
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('event display of one image: every TP coloured by ΣADC (log) and shaped by its source, channel and tick/µs axes, truth boxes with Eν')
    .argument('<file>', 'dataset (HDF5)')
    .requiredOption('--index <i>', 'image index', integer({ max: MAX.datasetImages }))
    .requiredOption('--out <file>', 'output PNG (or SVG when it ends in .svg)')
    .option('--zoom [window]', 'frame the interaction (no value), or a window "C0-C1,T0-T1" in channels and ticks', zoomOption())
    .option('--width <px>', 'width of the plotting area in screen pixels', plotWidthOption(), 760)
    .action((file: string, o: { index: number; out: string; zoom?: string | boolean; width: number }) => {
      const { index } = o;
      const r = openDataset(file);
      try {
        if (index >= r.numImages) throw new UserError(`--index: ${file} has ${r.numImages} images (0..${r.numImages - 1}), got ${index}`);
        const scene = datasetScene(r, index, `${basename(file)} image ${index}`);
        const d = drawOptions(scene, o);
        writeFileAtomic(o.out, o.out.toLowerCase().endsWith('.svg') ? eventSvg(scene, d) : eventPng(scene, d));
        const inter = r.interactions(index);
        const e = inter.map((t) => `${t.process} ${t.energyMeV.toFixed(1)} MeV${t.box < 0 ? ' (no TP)' : ''}`).join('; ');
        console.log(`wrote ${o.out}: image ${index} of ${file}, ${scene.tps.length} ${scene.rawTps ? 'TPs' : 'pixels'}, ${scene.truths.length} box(es)${e ? `: ${e}` : ''}`);
      } finally {
        r.close();
      }
    });
}
