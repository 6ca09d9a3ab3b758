// `daqyolo export voc|yolo|coco`: a daqyolo dataset → a folder in a common detection format (PNG images).
import { Command, Argument } from 'commander';
import { UserError } from '../errors.js';
import { exportDataset, type ExportFormat } from '../formats/exporter.js';
import { oneOf, text } from './options.js';
import { exportTps } from './tps.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'write a dataset as Pascal VOC, YOLO (ultralytics) or COCO, images as 8-bit PNG at the stored size; or its simulated TPs in a DUNE format (tps --format …)',
    )
    .addArgument(new Argument('<format>', 'voc, yolo, coco, or tps (the TPs: see --format)').choices(['voc', 'yolo', 'coco', 'tps']))
    .argument('<dataset>', 'daqyolo HDF5 dataset')
    .requiredOption('--out <dir>', 'output folder (written under a temporary name, then renamed)')
    .option('--scale <x>', 'multiply pixel values before the 8-bit PNG (default: 1 for imported datasets, "auto" = 255 / max for simulated ones)', text())
    .option('--force', 'replace an existing output folder')
    .option('--format <kind>', 'tps: text8, text11, tpstreamer or hdf5 (docs/tps.md)', oneOf(['text8', 'text11', 'tpstreamer', 'hdf5']))
    .option('--tp-version <v>', 'tps --format hdf5: TriggerPrimitive version 1 (56 B, default) or 2 (24 B)', oneOf(['1', '2']))
    .action(async (format: ExportFormat | 'tps', dataset: string, o: { out: string; scale?: string; force?: boolean; format?: string; tpVersion?: string }) => {
      if (format === 'tps') return exportTps(dataset, o);
      let scale: number | 'auto' | undefined;
      if (o.scale !== undefined) {
        scale = o.scale === 'auto' ? 'auto' : Number(o.scale);
        if (scale !== 'auto' && (!Number.isFinite(scale) || scale <= 0)) throw new UserError(`--scale: expected a positive number or "auto", got "${o.scale}"`);
      }
      const report = exportDataset({ format, dataset, out: o.out, force: !!o.force, scale });
      console.log(JSON.stringify(report, null, 2));
      if (report.clampedPixels)
        console.error(`warning: ${report.clampedPixels} pixel values were outside 0..255 after scaling ×${report.scale} and were clamped`);
    });
}
