// One rank of the sharded-validation test: validates a run's checkpoint over its validation split
// (world 1: alone, without a process group) and prints the validation record as JSON.
import { openRun } from '../../src/infer/open-run.js';
import { openDataset } from '../../src/data/store.js';
import { BatchLoader } from '../../src/data/loader.js';
import { validateEpoch as validate } from '../../src/train/trainer.js';
import { DataParallel } from '../../src/train/distributed.js';
import { ProcessGroup } from '../../src/c10d/process-group.js';

const [runDir, rankArg, worldArg, url, batchArg] = process.argv.slice(2);
const world = Number(worldArg);
const group = world > 1 ? ProcessGroup.init({ url: url!, rank: Number(rankArg), worldSize: world, timeoutMs: 30000 }) : null;
const opened = openRun(runDir!, { checkpoint: 'init', threads: 1 });
const reader = openDataset(opened.run.config.data);
const val = Array.from(reader.split('val'));
reader.close();
const loader = new BatchLoader({ path: opened.run.config.data, workers: 0, prefetch: 2, pool: Int32Array.from([]) });
const record = await validate(loader, opened.ctx, val, Number(batchArg), 0, group ? new DataParallel(group) : null);
await loader.close();
opened.model.dispose();
group?.shutdown();
process.stdout.write(JSON.stringify(record) + '\n');
