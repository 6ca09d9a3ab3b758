// Worker-thread entry of the simulation pool: builds one Simulator, then turns each task
// (a range of image indices) into a packed chunk sent back with zero-copy transfer.
import { parentPort, workerData } from 'node:worker_threads';
import { Simulator } from './event.js';
import { chunkBuffers } from './pack.js';
import { makeChunk, type WorkerInit, type WorkerTask } from './pool.js';

const init = workerData as WorkerInit;
const sim = new Simulator(init.config, init.seed);
parentPort!.on('message', (t: WorkerTask) => {
  const c = makeChunk(sim, t.start, t.count, init.keepTps, init.signal);
  parentPort!.postMessage(c, chunkBuffers(c));
});
