// The `daqyolo` command: one subcommand per file in this folder, registered here.
import { Command } from 'commander';
import { registerCommands } from './registry.js';

const program = new Command();
program
  .name('daqyolo')
  .description('Simulate DUNE trigger-primitive images of supernova neutrinos, train YOLOv3 on them, and see every term of the loss.')
  .showHelpAfterError();
registerCommands(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  // Errors meant for the user (bad input, bad config) are printed as one line; others with their stack.
  const e = err as Error & { userFacing?: boolean };
  if (e?.userFacing) console.error(`daqyolo: ${e.message}`);
  else console.error(e?.stack ?? String(err));
  process.exitCode = 1;
});
