// One rank of the process-group tests (spawned by process-group.test.ts): runs the scenario named
// by argv[2] and prints one JSON line of what it saw. Rank, world size and URL come from argv.
import { connect } from 'node:net';
import { ProcessGroup } from '../../src/c10d/process-group.js';
import { tensor, randn, manualSeed, cat, functional as F, zeros, ones, liveTensors } from '../../src/torch/index.js';

const [scenario, rankArg, worldArg, url, timeoutArg] = process.argv.slice(2);
const rank = Number(rankArg);
const world = Number(worldArg);
const out = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n');
/** One all-reduce; prints its error (message, name, ms until it came) or `error: null`. */
function allReduceAndReport(pg: ProcessGroup): void {
  const t0 = Date.now();
  try {
    pg.allReduce(tensor([1]), 'sum');
    out({ error: null });
  } catch (e) {
    out({ error: (e as Error).message, name: (e as Error).name, ms: Date.now() - t0 });
  }
}

try {
  const pg = ProcessGroup.init({ url: url!, rank, worldSize: world, timeoutMs: Number(timeoutArg ?? 20000) });
  if (scenario === 'collectives') {
    const x = tensor([rank + 1, 10 * (rank + 1), -rank]);
    const sum = pg.allReduce(x.clone(), 'sum').toNumbers();
    const mean = pg.allReduce(x.clone(), 'mean').toNumbers();
    const max = pg.allReduce(x.clone(), 'max').toNumbers();
    const b = pg.broadcast(tensor([rank, rank, rank]), world - 1).toNumbers();
    const gathered = pg.allGather(tensor([[rank, rank * rank]])).map((t) => t.toNumbers());
    pg.barrier();
    const json = pg.allGatherJson({ rank, text: 'x'.repeat(rank * 7) });
    // Gradients of three parameters reduced in 8-byte buckets (several buckets), one without grad.
    const params = [
      tensor([1, 2]).requiresGrad_(),
      tensor([
        [3, 4],
        [5, 6],
      ]).requiresGrad_(),
      tensor([7]).requiresGrad_(),
    ];
    params[0]!
      .mul(rank + 1)
      .sum()
      .add(params[1]!.mul(rank).sum())
      .backward();
    const buckets = pg.allReduceGrads(params, { op: 'mean', bucketBytes: 8 });
    const grads = params.map((p) => p.grad!.toNumbers());
    const ts = [tensor([rank, rank]), tensor([rank], { dtype: 'int64' })];
    pg.broadcastTensors(ts, 0, 1 << 20);
    // The JSON gather and agreement free every tensor they make (no scope around them here).
    const live0 = liveTensors();
    for (let i = 0; i < 3; i++) {
      pg.allGatherJson({ i });
      pg.agree(() => i);
    }
    const leaked = liveTensors() - live0;
    out({ sum, mean, max, b, gathered, json, buckets, grads, bcast: ts.map((t) => t.toNumbers()), backend: pg.backend, leaked });
  } else if (scenario === 'agree') {
    try {
      pg.agree(() => {
        if (rank === world - 1) throw new Error('bad input on the last rank');
        return 1;
      });
      out({ ok: true });
    } catch (e) {
      out({ error: (e as Error).message });
    }
  } else if (scenario === 'die') {
    // The last rank dies without a word; the others are in an all-reduce.
    if (rank === world - 1) process.kill(process.pid, 'SIGKILL');
    allReduceAndReport(pg);
  } else if (scenario === 'hang') {
    // The last rank freezes (SIGSTOP: its sockets stay open, its heartbeat stops); the others
    // wait in an all-reduce until the group's timeout.
    if (rank === world - 1) process.kill(process.pid, 'SIGSTOP');
    allReduceAndReport(pg);
  } else if (scenario === 'hang-mid-message') {
    // The last rank freezes half-way through a message to the store (rank 0's TCPStore daemon,
    // one thread, then waits on that socket): here a raw connection that sends a query's first
    // byte and no more, then SIGSTOP. A real frozen rank does this when it stops while its
    // heartbeat thread is writing. The others must fail after the timeout and still exit.
    if (rank === world - 1) {
      const { hostname, port } = new URL(url!);
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), hostname, () => s.write(Buffer.from([0]), () => resolve()));
      });
      await new Promise((r) => setTimeout(r, 300));
      process.kill(process.pid, 'SIGSTOP');
    }
    await new Promise((r) => setTimeout(r, 500));
    allReduceAndReport(pg);
  } else if (scenario === 'prepare') {
    // Each rank initialises its network from its own seed; prepareModel gives all rank 0's.
    const { DataParallel } = await import('../../src/train/distributed.js');
    const { createYolo } = await import('../../src/model/yolo.js');
    manualSeed(100 + rank);
    const model = createYolo({ variant: 'yolov3-tiny', inChannels: 1, numClasses: 1, width: 0.0625 });
    const digest = () => [...model.stateDict().values()].map((t) => t.to('float64').sum().item());
    const before = digest();
    new DataParallel(pg).prepareModel(model);
    out({ before, after: digest() });
  } else if (scenario === 'objective') {
    // Per-image totals of 2 scales for a global batch of 2·W images; rank r holds positions r, r+W.
    // Reference: the loss's own objective over the whole batch in one process, and its gradient.
    const { DataParallel } = await import('../../src/train/distributed.js');
    const { objectiveOf } = await import('../../src/loss/yolo-loss.js');
    const dp = new DataParallel(pg);
    const all = [
      [3, 1, 4, 1, 5, 9],
      [2, 7, 1, 8, 2, 8],
    ].map((v) => v.slice(0, 2 * world));
    const res: Record<string, { value: number; ref: number; grad: number }> = {};
    for (const reduction of ['sqrt-per-scale', 'sqrt-total', 'sum', 'mean'] as const) {
      const mine = all.map((v) => tensor(dp.shard(v)).requiresGrad_());
      const fake = { objective: tensor(0), warm: 0 as const, scales: mine.map((total) => ({ total })) } as unknown as Parameters<typeof dp.globalObjective>[0];
      const { result } = dp.globalObjective(fake, 2 * world, reduction, false);
      result.objective.backward();
      const whole = all.map((v) => tensor(v).requiresGrad_());
      const ref = objectiveOf(
        whole.map((t) => t.sum()),
        2 * world,
        reduction,
      );
      ref.backward();
      const refGrads = whole.map((t) => dp.shard(t.grad!.toNumbers()));
      const grad = Math.max(...mine.map((t, s) => Math.max(...t.grad!.toNumbers().map((g, i) => Math.abs(g - refGrads[s]![i]!)))));
      res[reduction] = { value: result.objective.item(), ref: ref.item(), grad };
    }
    out(res);
  } else if (scenario === 'syncbn') {
    // Every rank builds the same global batch; rank r normalises its positions r, r+W, …
    // The reference is libtorch's own batch_norm over the whole batch in one process.
    manualSeed(3);
    const xs = randn([2 * world, 3, 4, 5])
      .mul(2)
      .add(1);
    const weight = tensor([1.5, -0.5, 2]).requiresGrad_();
    const bias = tensor([0.1, 0.2, -0.3]).requiresGrad_();
    const dy = randn([2 * world, 3, 4, 5]);
    const mine = [...Array(2).keys()].map((i) => i * world + rank);
    const xMine = cat(mine.map((i) => xs.narrow(0, i, 1))).requiresGrad_();
    const rm = zeros([3]);
    const rv = ones([3]);
    const y = pg.syncBatchNorm(xMine, weight, bias, rm, rv, { training: true, momentum: 0.1, eps: 1e-5 });
    y.mul(cat(mine.map((i) => dy.narrow(0, i, 1))))
      .sum()
      .backward();
    pg.allReduceGrads([weight, bias], { op: 'sum' });
    const xr = xs.clone().requiresGrad_();
    const wr = tensor([1.5, -0.5, 2]).requiresGrad_();
    const br = tensor([0.1, 0.2, -0.3]).requiresGrad_();
    const rmr = zeros([3]);
    const rvr = ones([3]);
    const yr = F.batchNorm(xr, rmr, rvr, { weight: wr, bias: br, training: true, momentum: 0.1, eps: 1e-5 });
    yr.mul(dy).sum().backward();
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    const yRef = cat(mine.map((i) => yr.narrow(0, i, 1))).toNumbers();
    const gxRef = cat(mine.map((i) => xr.grad!.narrow(0, i, 1))).toNumbers();
    out({
      y: maxDiff(y.toNumbers(), yRef),
      gx: maxDiff(xMine.grad!.toNumbers(), gxRef),
      gw: maxDiff(weight.grad!.toNumbers(), wr.grad!.toNumbers()),
      gb: maxDiff(bias.grad!.toNumbers(), br.grad!.toNumbers()),
      rm: maxDiff(rm.toNumbers(), rmr.toNumbers()),
      rv: maxDiff(rv.toNumbers(), rvr.toNumbers()),
    });
  }
  pg.shutdown();
} catch (e) {
  out({ initError: (e as Error).message });
}
