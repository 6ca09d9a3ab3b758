// `daqyolo export voc|yolo|coco`: a daqyolo dataset → a folder in a common detection format (PNG images).
import { Command, Argument } from 'commander';
import { UserError } from '../errors.js';
import { exportDataset, type ExportFormat } from '../formats/exporter.js';
import { text } from './options.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a dataset as Pascal VOC, YOLO (ultralytics) or COCO, images as 8-bit PNG at the stored size')
    .addArgument(new Argument('<format>', 'voc, yolo or coco').choices(['voc', 'yolo', 'coco']))
    .argument('<dataset>', 'daqyolo HDF5 dataset')
    .requiredOption('--out <dir>', 'output folder (written under a temporary name, then renamed)')
    .option('--scale <x>', 'multiply pixel values before the 8-bit PNG (default: 1 for imported datasets, "auto" = 255 / max for simulated ones)', text())
    .option('--force', 'replace an existing output folder')
    .action((format: ExportFormat, dataset: string, o: { out: string; scale?: string; force?: boolean }) => {
      let scale: number | 'auto' | undefined;
      if (o.scale !== undefined) {
        scale = o.scale === 'auto' ? 'auto' : Number(o.scale);
        if (scale !== 'auto' && (!Number.isFinite(scale) || scale <= 0)) throw new UserError(`--scale: expected a positive number or "auto", got "${o.scale}"`);
      }
      const report = exportDataset({ format, dataset, out: o.out, force: !!o.force, scale });
      console.log(JSON.stringify(report, null, 2));
      if (report.clampedPixels) console.error(`warning: ${report.clampedPixels} pixel values were outside 0..255 after scaling ×${report.scale} and were clamped`);
    });
}
