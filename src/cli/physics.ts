// `daqyolo physics`: the simulator's physics figures against their published values and bands
// (docs/physics.md); exits non-zero when one leaves its band.
import type { Command } from 'commander';
import { parseSimConfig, simConfigWarnings } from '../sim/config.js';
import { formatPhysicsTable, physicsTable } from '../sim/physics.js';
import { readJsonConfig } from './args.js';
import { count, integer, MAX } from './options.js';

export function registerPhysics(program: Command): void {
  program
    .command('physics')
    .description('simulate and check the physics: MIP response, background and noise TP rates, electron ranges, νe-CC response; non-zero exit when out of band')
    .option('--config <file>', 'JSON simulator config to check (default: the defaults)')
    .option('--images <n>', 'background-only images for the rates', count(MAX.streamImages), 200)
    .option('--interactions <n>', 'νe-CC interactions per fixed energy', count(10_000_000), 300)
    .option('--seed <n>', 'random seed', integer({ max: MAX.seed }), 1)
    .option('--json', 'print the rows as JSON')
    .action((o: { config?: string; images: number; interactions: number; seed: number; json?: boolean }) => {
      const input = readJsonConfig(o.config);
      const cfg = parseSimConfig(input, o.config ?? 'config');
      for (const w of simConfigWarnings(cfg)) console.error(`daqyolo physics: warning: ${w}`);
      const rows = physicsTable(cfg, { images: o.images, interactions: o.interactions, seed: o.seed });
      console.log(o.json ? JSON.stringify(rows, null, 2) : formatPhysicsTable(rows));
      const failed = rows.filter((r) => r.pass === false);
      if (failed.length) {
        console.error(`daqyolo physics: ${failed.length} figure(s) out of band: ${failed.map((r) => r.quantity).join('; ')}`);
        process.exitCode = 1;
      }
    });
}
