// Child process of sparse-gemm-signals.test.ts: the sparse engine's per-offset convolution (one
// oneDNN sgemm per kernel offset) on layer shapes of the thesis network, over and over, while the
// parent or Node's own profiler sends signals. Prints "ready" once its signal handler is set, then
// one JSON line; exits 3 if any repetition's result differs from the first.
// Usage: node sparse-gemm-signals-child.js THREADS REPETITIONS
import { SparseTensor, manualSeed, noGrad, randn, setNumThreads, sparseConv, sparseGemm, tensor, tidy } from '../../src/torch/index.js';

const threads = Number(process.argv[2] ?? 1),
  repetitions = Number(process.argv[3] ?? 500);
setNumThreads(threads);
// A handler makes SIGUSR2 a handled signal, as SIGINT, SIGTERM, SIGCHLD and SIGWINCH are in the CLI.
process.on('SIGUSR2', () => {});
manualSeed(1);
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const sums: number[] = [];
// 128 → 256 and 256 → 128 channels on ≈ 330 sites per image: the stride-16/32 stages at width 0.25,
// where oneDNN picks its JIT kernels (smaller layers take other paths and did not crash).
for (const [cin, cout] of [
  [128, 256],
  [256, 128],
] as const) {
  const B = 2,
    H = 64,
    W = 64;
  const data = new Float32Array(B * cin * H * W);
  for (let i = 0; i < 700; i++) {
    const b = i % 2,
      y = Math.floor(rand() * H),
      x = Math.floor(rand() * W);
    for (let c = 0; c < cin; c++) data[((b * cin + c) * H + y) * W + x] = rand() - 0.5;
  }
  const s = SparseTensor.fromDense(tensor(data, { shape: [B, cin, H, W] }));
  const rb = s.grid.rulebook({ kernel: [3, 3], stride: 1, padding: [1, 1], submanifold: true });
  const w = randn([cout, cin, 3, 3]);
  sums.push(tidy(() => noGrad(() => sparseConv(s.features, rb, w, null, 'gather', 'offsets').sum().item())));
  if (sums.length === 1) console.log('ready');
  for (let i = 0; i < repetitions; i++) {
    const v = tidy(() => noGrad(() => sparseConv(s.features, rb, w, null, 'gather', 'offsets').sum().item()));
    if (v !== sums[sums.length - 1]) {
      console.error(`${cin} → ${cout} channels, repetition ${i}: sum ${v}, first ${sums[sums.length - 1]}`);
      process.exit(3);
    }
  }
}
console.log(JSON.stringify({ gemm: sparseGemm(), threads, repetitions, sums }));
