// Every subcommand registers itself here; keep one line per command file.
import type { Command } from 'commander';
import { registerSimulate } from './simulate.js';
import { registerShow } from './show.js';
import { registerStats } from './stats.js';
import { registerCheck } from './check.js';
import { registerPhysics } from './physics.js';
import { registerBench } from './bench.js';
import { registerTrain } from './train.js';
import { registerEvaluate } from './evaluate.js';
import { registerCompare } from './compare.js';
import { registerHybrid } from './hybrid-trigger.js';
import { registerReport } from './report.js';
import { registerSweep } from './sweep.js';
import { registerAnchors } from './anchors.js';
import { registerStudy } from './study.js';
import { registerFpRate } from './fprate.js';
import { registerBaseline } from './baseline.js';
import { registerDetect } from './detect.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';
import { registerImportWeights } from './import-weights.js';
import { registerExportOnnx } from './export-onnx.js';
import { registerBurst } from './burst.js';
import { nameOptionErrors } from './options.js';
import { registerTrigger } from './trigger.js';

export function registerCommands(program: Command): void {
  registerSimulate(program);
  registerStats(program);
  registerCheck(program);
  registerPhysics(program);
  registerShow(program);
  registerBench(program);
  registerTrain(program);
  registerEvaluate(program);
  registerCompare(program);
  registerHybrid(program);
  registerReport(program);
  registerSweep(program);
  registerAnchors(program);
  registerStudy(program);
  registerFpRate(program);
  registerBaseline(program);
  registerDetect(program);
  registerImport(program);
  registerExport(program);
  registerImportWeights(program);
  registerExportOnnx(program);
  registerTrigger(program);
  registerBurst(program);
  nameOptionErrors(program); // last: every option's errors name its flag (options.ts)
}
