// `daqyolo export-onnx`: a trained run's model as a standard ONNX file (opset 13).
import { Command } from 'commander';
import { openRun } from '../infer/open-run.js';
import { exportOnnx, saveOnnx, OPSET } from '../formats/onnx.js';
import { checkOutput } from '../data/writer.js';
import { UserError } from '../errors.js';
import { integer, text, MAX } from './options.js';

export function registerExportOnnx(program: Command): void {
  program
    .command('export-onnx <run>')
    .description(
      'write the run\'s model as ONNX (opset 13): input "images" [batch, C, S, S] in dataset pixel units (the run\'s input scale is in the graph), outputs the raw head maps "stride32", "stride16"[, "stride8"]',
    )
    .requiredOption('--out <file>', 'output .onnx file')
    .option('--size <px>', "input size (multiple of 32; default: the run's training size)", integer({ min: 32, max: MAX.imageSize, multipleOf: 32 }))
    .option('--checkpoint <name>', 'best, last, init or a .safetensors path', text(), 'best')
    .option('--force', 'overwrite the output')
    .action((runDir: string, o: { out: string; size?: number; checkpoint: string; force?: boolean }) => {
      checkOutput(o.out, !!o.force);
      const opened = openRun(runDir, { checkpoint: o.checkpoint, device: 'cpu' });
      const size = o.size ?? opened.run.size;
      if (size % 32) throw new UserError(`--size ${size} is not a multiple of 32`);
      const bytes = exportOnnx(opened.model, { size, inputScale: opened.ctx.inputScale });
      saveOnnx(o.out, bytes);
      console.log(
        JSON.stringify(
          {
            out: o.out,
            opset: OPSET,
            size,
            variant: opened.run.config.model.variant,
            classes: opened.run.classNames,
            channels: opened.run.channels,
            inputScale: opened.ctx.inputScale,
            anchors: opened.run.anchors,
            strides: opened.run.strides,
            checkpoint: opened.checkpoint,
            bytes: bytes.length,
          },
          null,
          2,
        ),
      );
    });
}
