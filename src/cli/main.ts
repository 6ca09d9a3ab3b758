// The `daqyolo` command: one subcommand per file in this folder, registered here.
import { Command } from 'commander';
import { registerCommands } from './registry.js';
import { ioCause } from '../util/atomic-write.js';

const program = new Command();
program
  .name('daqyolo')
  .description('Simulate DUNE trigger-primitive images of supernova neutrinos, train YOLOv3 on them, and see every term of the loss.')
  .showHelpAfterError();
registerCommands(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  // Errors meant for the user (bad input, bad config) and file-system errors (EACCES, ENOENT, ENOSPC…)
  // are printed as one line naming the path and the cause; others (bugs) with their stack.
  const e = err as Error & { userFacing?: boolean } & NodeJS.ErrnoException;
  if (e?.userFacing) console.error(`daqyolo: ${e.message}`);
  else if (e?.code && e.syscall) console.error(`daqyolo: ${e.path ? `${e.path}: ` : ''}${ioCause(e)} (${e.syscall})`);
  else console.error(e?.stack ?? String(err));
  process.exitCode = 1;
});
