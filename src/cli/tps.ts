// `daqyolo import tps` and `daqyolo export tps`: DUNE trigger-primitive files in and out (docs/tps.md).
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { openDataset } from '../data/store.js';
import { parseSplitFractions } from '../data/splits.js';
import { readChannelMap, TP_FORMATS, writeTpStream, type TpFormat } from '../formats/tps/index.js';
import { DEFAULT_WINDOW_MS, importTps } from '../formats/tps/import.js';
import { withProgress } from './progress.js';
import { datasetTpStream } from '../formats/tps/export.js';
import { reportPath } from '../formats/importer.js';
import { integer, MAX, number, text } from './options.js';

interface ImportTpsFlags {
  out: string;
  format?: TpFormat;
  channelMap?: string;
  window: number;
  planes: string;
  like?: string;
  size?: number;
  timeDownsample?: number;
  extraChannels?: string;
  reorderTicks?: number;
  skipBad?: boolean;
  force?: boolean;
  seed: number;
  split: string;
}

/** The image settings of a simulated dataset (so imported images match what a network was trained on). */
function imageSettings(f: ImportTpsFlags): Record<string, unknown> {
  const image: Record<string, unknown> = {};
  if (f.like) {
    const r = openDataset(f.like);
    const cfg = r.attrs.config as { image?: Record<string, unknown> } | undefined;
    r.close();
    if (!cfg?.image) throw new UserError(`--like ${f.like}: not a simulated dataset (no simulator config)`);
    Object.assign(image, cfg.image);
  }
  if (f.size !== undefined) image.size = f.size;
  if (f.timeDownsample !== undefined) image.timeDownsample = f.timeDownsample;
  if (f.extraChannels)
    image.extraChannels = f.extraChannels
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return { image };
}

export function registerImportTps(imp: Command): void {
  imp
    .command('tps <files...>')
    .description('DUNE trigger primitives (text8, text11, TPStreamer dumps, DAQ HDF5; "-" = stdin) → one image per APA face × window (docs/tps.md)')
    .requiredOption('--out <file>', 'output HDF5 dataset')
    .addOption(new Option('--format <kind>', 'force the format (default: found from the content)').choices([...TP_FORMATS]))
    .option('--channel-map <csv>', 'channel map CSV: channel,apa,plane,face,wire (default: FD-HD offline numbering)', text())
    .option('--window <ms>', 'window length per image', number({ min: 0, max: 1000, exclusiveMin: true }), DEFAULT_WINDOW_MS)
    .option('--planes <list>', 'planes made into images: 0 U, 1 V, 2 collection', '2')
    .option('--like <dataset>', 'image settings (size, time downsampling, extra channels) of this simulated dataset')
    .option('--size <px>', 'square image side in pixels', integer({ min: 8, max: MAX.imageSize }))
    .option('--time-downsample <ticks>', 'ticks per pixel row', number({ min: 0, max: 1e6, exclusiveMin: true }))
    .option('--extra-channels <list>', 'extra pixel channels: peak_adc,tot')
    .option(
      '--reorder-ticks <n>',
      'offline ticks a TP may come back in time and still be sorted in (default 10000; TPStreamer: the whole event)',
      number({ min: 0, max: 1e12 }),
    )
    .option('--skip-bad', 'skip bad rows (counted and listed in the import report) instead of stopping at the first')
    .option('--split <fractions>', 'train,val,eval fractions of the images', '0.8,0.1,0.1')
    .option('--seed <n>', 'seed of the split', integer({ min: 0, max: MAX.seed }), 0)
    .option('--force', 'overwrite the output')
    .action(async (files: string[], f: ImportTpsFlags) => {
      const planes = f.planes.split(',').map((s) => Number(s.trim()));
      if (planes.some((p) => ![0, 1, 2].includes(p))) throw new UserError(`--planes: expected 0, 1 or 2, got "${f.planes}"`);
      // The TPs of a stream are not counted in advance: the count so far and its rate.
      const report = await withProgress(
        'import tps',
        0,
        (p) =>
          importTps({
            files,
            out: f.out,
            format: f.format,
            channelMap: f.channelMap ? readChannelMap(f.channelMap) : undefined,
            windowMs: f.window,
            planes,
            imageConfig: imageSettings(f),
            reorderTicks: f.reorderTicks,
            skipBad: !!f.skipBad,
            force: !!f.force,
            seed: f.seed,
            split: parseSplitFractions(f.split),
            onProgress: (tps) => p.update(tps),
          }),
        { unit: 'TPs' },
      );
      console.log(JSON.stringify({ ...report, skipped: { count: report.skipped.count, rows: report.skipped.rows.slice(0, 20) } }, null, 2));
      console.error(
        `${report.tps} TPs (${report.tpsImaged} imaged) → ${report.images} images (${report.backgroundImages} background-only) of ${report.faces.length} faces × ${report.windows} windows, ${report.boxes} boxes, ${report.interactions} interactions → ${report.output}; ${report.skipped.count} bad rows skipped; report ${reportPath(report.output)}`,
      );
    });
}

/** `export tps`: a simulated dataset's TPs in a DUNE format. */
export async function exportTps(dataset: string, o: { out: string; format?: string; tpVersion?: string; force?: boolean }): Promise<void> {
  if (existsSync(o.out) && !o.force) throw new UserError(`${o.out} already exists; pass --force to overwrite it`);
  const format = o.format as TpFormat | undefined;
  if (!format || !TP_FORMATS.includes(format))
    throw new UserError(`export tps: --format must be one of ${TP_FORMATS.join(', ')}${o.format ? `, got "${o.format}"` : ''}`);
  const version = o.tpVersion === undefined ? 1 : Number(o.tpVersion);
  if (version !== 1 && version !== 2) throw new UserError(`--tp-version: expected 1 or 2, got "${o.tpVersion}"`);
  const { stream, windowTicks, images } = datasetTpStream(dataset);
  const r = await writeTpStream(stream, format, o.out, { eventTicks: windowTicks, sliceTicks: windowTicks, tpVersion: version });
  console.log(JSON.stringify({ output: o.out, format, images, windowTicks, ...r }, null, 2));
}
