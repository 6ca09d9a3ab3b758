// Signals arriving while oneDNN's sgemm runs (native/sparse.cc, SignalsHeld and HoldSignalsInPool).
// oneDNN 2.6's JIT f32 GEMM kernels point rsp into a heap buffer while they run, so a handled
// signal on that thread wrote its frame into the heap: the stream trigger under `node --cpu-prof`
// died of "corrupted size vs. prev_size" (uxlfoundation/oneDNN#4845). Before the fix each case
// below crashed (SIGABRT or SIGSEGV) within a second; the child also checks every repetition
// gives the same result, which a corruption that does not crash would break.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sparseGemm } from '../../src/torch/index.js';

const child = fileURLToPath(new URL('./sparse-gemm-signals-child.js', import.meta.url));
// The hazard is oneDNN's; where libtorch did not load it the engine uses ATen's GEMM.
const dnnl = readFileSync('/proc/self/maps', 'utf8').includes('libdnnl.so') && sparseGemm() === 'dnnl';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  sent: number;
  stdout: string;
  stderr: string;
}

/** Runs the child; with `burst`, sends it 20 SIGUSR2 (process-directed: any thread may take one) every millisecond once it is ready. */
function run(nodeArgs: string[], threads: number, repetitions: number, burst: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...nodeArgs, child, String(threads), String(repetitions)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '',
      sent = 0,
      ready = false,
      done = false;
    p.stdout.on('data', (d: Buffer) => {
      stdout += d;
      ready = stdout.includes('ready');
      done = stdout.includes('"sums"');
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = burst
      ? setInterval(() => {
          if (!ready || done) return;
          for (let i = 0; i < 20; i++)
            try {
              p.kill('SIGUSR2');
              sent++;
            } catch {
              /* exited */
            }
        }, 1)
      : null;
    p.on('exit', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, sent, stdout, stderr });
    });
  });
}

function assertSurvived(o: Outcome, what: string): void {
  const line = o.stdout.split('\n').find((l) => l.includes('"sums"'));
  assert.ok(line, `${what}: the child did not finish (exit ${o.code}, signal ${o.signal}): ${o.stderr.trim().slice(-300)}`);
  const r = JSON.parse(line) as { gemm: string; sums: number[] };
  assert.equal(r.gemm, 'dnnl', `${what}: the child did not use oneDNN's sgemm`);
  assert.equal(r.sums.length, 2);
  for (const s of r.sums) assert.ok(Number.isFinite(s), `${what}: sum ${s}`);
}

test(
  "oneDNN sgemm under the profiler's SIGPROF (thread-directed, 20 000 a second): no heap corruption, same results",
  { skip: !dnnl && 'libtorch did not load oneDNN' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dq-sig-'));
    try {
      const o = await run(['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir], 1, 800, false);
      assertSurvived(o, 'SIGPROF');
      assert.equal(o.code, 0, o.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'oneDNN sgemm on 2 threads under bursts of SIGUSR2 (process-directed: the OpenMP worker may take one): no heap corruption, same results',
  { skip: !dnnl && 'libtorch did not load oneDNN' },
  async () => {
    const o = await run([], 2, 400, true);
    assertSurvived(o, 'SIGUSR2 bursts');
    assert.ok(o.sent > 1000, `only ${o.sent} signals were sent while the GEMMs ran`);
  },
);
