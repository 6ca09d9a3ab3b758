// `daqyolo import voc|yolo|coco`: detection datasets in the common formats → a daqyolo dataset.
import { Command, Option } from 'commander';
import { UserError } from '../errors.js';
import { collectVoc } from '../formats/voc.js';
import { collectYolo } from '../formats/yolo.js';
import { collectCoco } from '../formats/coco.js';
import { importRecords, reportPath, DEFAULT_MIXED_SIZE, type ChannelMode, type ImportOptions } from '../formats/importer.js';
import type { Collected } from '../formats/record.js';
import { integer, MAX } from './options.js';
import { progress, type Progress } from './progress.js';
import { registerImportTps } from './tps.js';

interface CommonFlags {
  out?: string;
  labels?: string;
  size?: number;
  channels: ChannelMode;
  skipBad?: boolean;
  force?: boolean;
  seed: number;
}

function common(c: Command): Command {
  return c
    .requiredOption('--out <file>', 'output HDF5 dataset')
    .option('--labels <names>', 'class names in index order: "a,b,c" or a file with one name per line (unknown classes are then bad records)')
    .option(
      '--size <px>',
      `letterbox every image into px × px (aspect kept, zero padding, boxes follow); default: images of one size are kept as they are, mixed sizes are letterboxed into ${DEFAULT_MIXED_SIZE} × ${DEFAULT_MIXED_SIZE}`,
      integer({ min: 1, max: MAX.imageSize }),
    )
    .addOption(
      new Option('--channels <mode>', 'keep (grey if every image is grey, else RGB), grey (ITU-R 601 luma) or rgb')
        .choices(['keep', 'grey', 'rgb'])
        .default('keep'),
    )
    .option('--skip-bad', 'skip bad records (listed in the import report) instead of stopping at the first')
    .option('--seed <n>', 'seed of the 80/10/10 split when the source has no splits', integer({ max: MAX.seed }), 0)
    .option('--force', 'overwrite the output');
}

async function run(format: ImportOptions['format'], source: Record<string, string>, collect: () => Collected, f: CommonFlags): Promise<void> {
  const collected = collect();
  let bar: Progress | null = null;
  const report = await importRecords(collected, {
    format,
    source,
    out: f.out!,
    size: f.size,
    channels: f.channels,
    skipBad: !!f.skipBad,
    force: !!f.force,
    seed: f.seed,
    onProgress: (done, total) => {
      (bar ??= progress(`import ${format}`, total)).update(done);
    },
  });
  (bar as Progress | null)?.stop();
  console.log(JSON.stringify(report, null, 2));
  console.error(
    `${report.images} images, ${report.boxes} boxes, ${report.classNames.length} classes → ${report.output}; ${report.skipped.count} skipped; ${report.warnings.count} decoder warnings; report ${reportPath(report.output)}`,
  );
}

export function registerImport(program: Command): void {
  const imp = program
    .command('import')
    .description('import a VOC, YOLO or COCO detection dataset (PNG/JPEG), or DUNE trigger primitives, into a daqyolo HDF5 dataset');
  registerImportTps(imp);
  common(
    imp
      .command('voc')
      .description('Pascal VOC: one XML per image (splits from ../ImageSets/Main/{train,val,test}.txt when present)')
      .requiredOption('--images <dir>', 'image folder (JPEGImages)')
      .requiredOption('--annotations <dir>', 'XML folder (Annotations)'),
  ).action(async (o: CommonFlags & { images: string; annotations: string }) => {
    await run('voc', { images: o.images, annotations: o.annotations }, () => collectVoc({ images: o.images, annotations: o.annotations, labels: o.labels }), o);
  });
  common(
    imp
      .command('yolo <dir>')
      .description('ultralytics layout: <dir>/images/[train|val|test/]*.png, <dir>/labels/…/*.txt, names from data.yaml, classes.txt or --labels'),
  ).action(async (dir: string, o: CommonFlags) => run('yolo', { dir }, () => collectYolo(dir, o.labels), o));
  common(
    imp
      .command('coco')
      .description('COCO instances JSON (several files: a name with train/val/test sets the split)')
      .requiredOption('--images <dir>', 'image folder (file_name is relative to it)')
      .requiredOption('--annotations <files...>', 'instances JSON file(s)'),
  ).action(async (o: CommonFlags & { images: string; annotations: string[] }) => {
    if (!o.annotations.length) throw new UserError('--annotations: give at least one instances JSON file');
    await run('coco', { images: o.images, annotations: o.annotations.join(',') }, () => collectCoco(o.images, o.annotations, o.labels), o);
  });
}
