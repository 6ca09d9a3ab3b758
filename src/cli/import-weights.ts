// `daqyolo import-weights`: a darknet .weights file → a daqyolo checkpoint (safetensors) of the
// matching YoloV3, to start training from (e.g. a pretrained backbone).
import { Command, Option } from 'commander';
import { createYolo } from '../model/yolo.js';
import { saveCheckpoint } from '../nn/serialize.js';
import { loadDarknetWeights } from '../formats/darknet.js';
import { checkOutput } from '../data/writer.js';
import { count, number, MAX } from './options.js';

export function registerImportWeights(program: Command): void {
  program
    .command('import-weights <file>')
    .description(
      'load darknet .weights into the matching YOLOv3 and save a daqyolo checkpoint (a file that stops at a layer boundary, e.g. a backbone, loads those layers)',
    )
    .addOption(new Option('--variant <name>', 'network').choices(['yolov3', 'yolov3-tiny']).default('yolov3'))
    .option('--classes <n>', 'classes of the output layers', count(100_000), 80)
    .option('--channels <n>', 'input channels', count(1024), 3)
    .option('--width <w>', 'channel-width multiplier (1 = the published network)', number({ min: 0, max: MAX.width, exclusiveMin: true }), 1)
    .requiredOption('--out <file>', 'output checkpoint (.safetensors)')
    .option('--force', 'overwrite the output')
    .action((file: string, o: { variant: 'yolov3' | 'yolov3-tiny'; classes: number; channels: number; width: number; out: string; force?: boolean }) => {
      checkOutput(o.out, !!o.force);
      const model = createYolo({ variant: o.variant, numClasses: o.classes, inChannels: o.channels, width: o.width });
      const loaded = loadDarknetWeights(model, file);
      const meta = { source: file, format: 'darknet', variant: o.variant, classes: o.classes, channels: o.channels, width: o.width, ...loaded };
      saveCheckpoint(o.out, { model, meta });
      console.log(JSON.stringify({ out: o.out, ...meta }, null, 2));
    });
}
