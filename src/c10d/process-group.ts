// A c10d process group (libtorch's own: TCPStore or FileStore to meet, Gloo on CPU, NCCL on CUDA
// builds) under a small TypeScript API. Collectives block until done or until the group's
// timeout; when one fails, the survivors read the ranks' heartbeats in the store so that the
// error names the ranks that are gone, followed by c10d's own message.
import { native, type GroupHandle, type Handle } from '../torch/native.js';
import { Tensor, wrap } from '../torch/tensor.js';
import { tensor } from '../torch/creation.js';
import { UserError } from '../errors.js';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'product';

export interface ProcessGroupOptions {
  /** `tcp://host:port` (rank 0 hosts the TCPStore) or `file:///shared/path` (a FileStore). */
  url: string;
  rank: number;
  worldSize: number;
  /** Collectives, store waits and the first meeting fail after this long (c10d's timeout). */
  timeoutMs?: number;
  /** 'gloo' (CPU tensors) or 'nccl' (CUDA tensors, CUDA builds of libtorch only). */
  backend?: 'gloo' | 'nccl';
  /** Network interface for gloo (as GLOO_SOCKET_IFNAME); default: the host name's address. */
  ifname?: string;
}

/** A collective failed: names the ranks that no longer answer when it can tell. */
export class CollectiveError extends UserError {
  constructor(
    message: string,
    readonly missingRanks: number[],
  ) {
    super(message);
    this.name = 'CollectiveError';
  }
}

export const DEFAULT_TIMEOUT_MS = 300_000;
/** How long survivors watch the heartbeats after a failure (they beat every second). */
const HEARTBEAT_WATCH_MS = 2500;

/** Parses `tcp://host:port` / `file:///path` into the store settings native.distInit takes. */
export function parseDistUrl(url: string): { store: 'tcp'; host: string; port: number } | { store: 'file'; path: string } {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new UserError(`--dist-url ${url}: port ${port} is outside 1–65535`);
    return { store: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port };
  }
  if (url.startsWith('file://') && url.length > 'file://'.length) return { store: 'file', path: url.slice('file://'.length) };
  throw new UserError(`--dist-url ${url}: expected tcp://host:port or file:///path`);
}

export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly backend: string;
  readonly timeoutMs: number;
  #handle: GroupHandle | null;
  #failed: CollectiveError | null = null;

  private constructor(handle: GroupHandle, timeoutMs: number) {
    this.#handle = handle;
    this.rank = native.distRank(handle);
    this.worldSize = native.distWorldSize(handle);
    this.backend = native.distBackend(handle);
    this.timeoutMs = timeoutMs;
  }

  /** Meets the other ranks (blocks until all `worldSize` have joined, or the timeout). */
  static init(o: ProcessGroupOptions): ProcessGroup {
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1) throw new UserError(`world size ${o.worldSize}: expected a whole number ≥ 1`);
    if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize)
      throw new UserError(`rank ${o.rank}: expected 0…${o.worldSize - 1} (world size ${o.worldSize})`);
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const store = parseDistUrl(o.url);
    try {
      const h = native.distInit({
        ...store,
        rank: o.rank,
        worldSize: o.worldSize,
        timeoutMs,
        backend: o.backend ?? 'gloo',
        ifname: o.ifname ?? process.env.GLOO_SOCKET_IFNAME ?? '',
      });
      return new ProcessGroup(h, timeoutMs);
    } catch (e) {
      throw new CollectiveError(`rank ${o.rank} of ${o.worldSize} could not join the process group at ${o.url}: ${(e as Error).message}`, []);
    }
  }

  static ncclAvailable(): boolean {
    return native.distNcclAvailable();
  }

  get handle(): GroupHandle {
    if (this.#failed) throw this.#failed;
    if (this.#handle === null) throw new Error('use of a process group after shutdown');
    return this.#handle;
  }

  /** Runs one collective; a failure becomes a CollectiveError naming the silent ranks. */
  #collective<T>(what: string, fn: () => T): T {
    const h = this.handle;
    try {
      return fn();
    } catch (e) {
      throw this.#explain(what, h, e as Error);
    }
  }

  #explain(what: string, h: GroupHandle, e: Error): CollectiveError {
    const cause = e.message.split('\n')[0]!;
    let missing: number[] = [];
    let detail: string;
    try {
      // Each rank's heartbeat counter (native/dist.cc) moves every second while its process lives.
      // Ranks that saw a failure say so first: they may exit before this watch ends, and are not
      // the cause.
      native.distStoreSet(h, `failed/${this.rank}`, cause);
      const others = [...Array(this.worldSize).keys()].filter((r) => r !== this.rank);
      const beats = () => others.map((r) => (native.distStoreCheck(h, [`heartbeat/${r}`]) ? (native.distStoreGet(h, `heartbeat/${r}`) as string) : null));
      const before = beats();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HEARTBEAT_WATCH_MS);
      const after = beats();
      missing = others.filter((r, i) => (after[i] === null || after[i] === before[i]) && !native.distStoreCheck(h, [`failed/${r}`]));
      detail = missing.length
        ? `rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} stopped (no heartbeat for ${HEARTBEAT_WATCH_MS / 1000} s)`
        : 'every rank is still alive';
    } catch {
      // The TCPStore lives in rank 0: when it cannot be reached, rank 0 is the one gone.
      missing = this.rank === 0 ? [] : [0];
      detail = this.rank === 0 ? 'the store cannot be reached' : 'rank 0 (which hosts the store) stopped';
    }
    this.#failed = new CollectiveError(`${what} failed on rank ${this.rank} of ${this.worldSize}: ${detail} (c10d: ${cause})`, missing);
    return this.#failed;
  }

  /** Reduces `t` over the group, in place; returns `t`. */
  allReduce(t: Tensor, op: ReduceOp = 'sum'): Tensor {
    this.#collective(`all-reduce (${op})`, () => native.distAllReduce(this.handle, t.handle, op));
    return t;
  }
  /** Copies rank `root`'s `t` into every rank's `t`; returns `t`. */
  broadcast(t: Tensor, root = 0): Tensor {
    this.#collective('broadcast', () => native.distBroadcast(this.handle, t.handle, root));
    return t;
  }
  /** Every rank's `t` (same shape everywhere), in rank order. */
  allGather(t: Tensor): Tensor[] {
    return this.#collective('all-gather', () => (native.distAllGather(this.handle, t.handle) as Handle[]).map((h) => wrap(h)));
  }
  barrier(): void {
    this.#collective('barrier', () => native.distBarrier(this.handle));
  }
  /** Every parameter's gradient reduced in flat buckets of up to `bucketBytes`; returns the bucket count. */
  allReduceGrads(params: Tensor[], o: { bucketBytes?: number; op?: ReduceOp } = {}): number {
    return this.#collective('gradient all-reduce', () =>
      native.distAllReduceGrads(
        this.handle,
        params.map((p) => p.handle),
        o.bucketBytes ?? 25 * 2 ** 20,
        o.op ?? 'mean',
      ),
    );
  }
  /** Copies rank `root`'s tensors into every rank's, in place (bucketed). */
  broadcastTensors(ts: Tensor[], root = 0, bucketBytes = 25 * 2 ** 20): void {
    this.#collective('broadcast', () =>
      native.distBroadcastTensors(
        this.handle,
        ts.map((t) => t.handle),
        root,
        bucketBytes,
      ),
    );
  }
  /** Batch norm with the statistics of the whole group's batch (autograd through the sums). */
  syncBatchNorm(
    x: Tensor,
    weight: Tensor | null,
    bias: Tensor | null,
    runningMean: Tensor,
    runningVar: Tensor,
    o: { training: boolean; momentum: number; eps: number },
  ): Tensor {
    return this.#collective('synchronised batch norm', () =>
      wrap(
        native.distSyncBatchNorm(
          this.handle,
          x.handle,
          weight?.handle ?? null,
          bias?.handle ?? null,
          runningMean.handle,
          runningVar.handle,
          o.training,
          o.momentum,
          o.eps,
        ),
      ),
    );
  }

  /** Every rank's JSON-serialisable value, in rank order (two all-gathers: lengths, then bytes). */
  allGatherJson<T>(value: T): T[] {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    const length = tensor(Float64Array.of(bytes.length));
    const lengths = this.allGather(length).map((t) => {
      const n = Number(t.dataSync()[0]!);
      t.dispose();
      return n;
    });
    length.dispose();
    const max = Math.max(...lengths);
    const padded = new Uint8Array(Math.max(1, max));
    padded.set(bytes);
    const local = tensor(padded);
    const parts = this.allGather(local);
    local.dispose();
    const decoder = new TextDecoder();
    return parts.map((t, r) => {
      const data = t.dataSync() as Uint8Array;
      t.dispose();
      return JSON.parse(decoder.decode(data.subarray(0, lengths[r]))) as T;
    });
  }

  /**
   * Runs `fn` on every rank and lets them agree: if it throws on any rank, every rank throws that
   * error (the first failing rank's message), so that no rank waits alone in a later collective.
   */
  agree<T>(fn: () => T): T {
    let result: T | undefined;
    let error: Error | null = null;
    try {
      result = fn();
    } catch (e) {
      error = e as Error;
    }
    const all = this.allGatherJson(error ? { message: error.message, user: (error as UserError).userFacing === true } : null);
    if (error) throw error;
    const first = all.findIndex((x) => x !== null);
    if (first >= 0) {
      const m = all[first]!;
      throw m.user ? new UserError(`rank ${first}: ${m.message}`) : new Error(`rank ${first}: ${m.message}`);
    }
    return result as T;
  }

  /** Leaves the group (every rank should call it; later calls fail). */
  shutdown(): void {
    if (this.#handle !== null) native.distShutdown(this.#handle);
    this.#handle = null;
  }
}
