// Worker thread of the batch loader: opens the dataset once and answers batch requests.
import { parentPort, workerData } from 'node:worker_threads';
import { openDataset } from './store.js';
import { loadBatch, type BatchRequest, type TargetMarks } from './batch.js';

const { path, pool, marks, inject } = workerData as {
  path: string;
  pool: Int32Array;
  marks?: TargetMarks;
  inject?: { afterRequests: number; kind: 'exit' | 'throw' };
};
const reader = openDataset(path);
let answered = 0;
parentPort!.on('message', (req: BatchRequest | { close: true }) => {
  if ('close' in req) {
    reader.close();
    parentPort!.close();
    return;
  }
  if (inject && answered++ >= inject.afterRequests) {
    if (inject.kind === 'exit') process.exit(3);
    setImmediate(() => {
      throw new Error('injected worker failure');
    });
    return;
  }
  try {
    const b = loadBatch(reader, req, pool, marks);
    parentPort!.postMessage({ ok: true, batch: b }, [b.images.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ ok: false, id: req.id, error: (e as Error).message, userFacing: Boolean((e as { userFacing?: boolean }).userFacing) });
  }
});
