// Sparse 2-D convolutions on libtorch: a sparse batch is coordinates [N, 3] (image, y, x) plus
// features [N, C]. A rulebook lists, for every output site and every kernel offset, the row of
// the input feature matrix it reads (or N: an appended row of zeros, or of -inf for max-pool).
// It is built once per batch and resolution on the CPU from a dense index grid (B·H·W int32,
// < 1 MB per 480² image) and shared by every convolution with the same geometry.
//
// The arithmetic is ATen ops (index_select, mm, index_add, max, index_put), so libtorch's
// autograd gives the backward pass and the same code runs on any device the features live on;
// except on the CPU in float32, where a convolution's copies and the batch norm + leaky ReLU
// after it are hand loops with their own backward (SparseGatherMm, SparseSpreadMm,
// SparseOffsetMm, BnLeaky below): at the default simulation's occupancy a layer is a few
// thousand rows of 8–64 channels, where index_select, its index_add backward and ATen's batch
// norm cost 5–20× the GEMM they feed, and each convolution takes the form with the least work
// for its fill (ChooseForm) (bench/sparse-profile.ts, bench/sparse-forms.ts; docs/engine.md).
// Their GEMMs call oneDNN's sgemm (Mm below), twice OpenBLAS's speed on such small matrices.
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "common.h"

namespace dq {

// The index grid and the covered-cell marks are kept between calls and reset only where they
// were written, so a rulebook costs O(N · K), not O(B · H · W): a fresh 64 × 480² grid is 59 MB
// of memset and page faults (measured: batch 64 inference 6× slower per image than batch 16).
// JavaScript calls the addon from one thread at a time; thread_local keeps workers apart.
static std::vector<int32_t>& ScratchGrid(size_t n) {
  thread_local std::vector<int32_t> grid;
  if (grid.size() < n) grid.resize(n, -1);
  return grid;
}
static std::vector<uint8_t>& ScratchMarks(size_t n) {
  thread_local std::vector<uint8_t> marks;
  if (marks.size() < n) marks.resize(n, 0);
  return marks;
}

// sparseRulebook(coords int64 [N, 3], batch, inH, inW, outH, outW, kh, kw, stride, padTop,
// padLeft, submanifold) → [outCoords int64 [M, 3], neighbours int64 [M, kh·kw]].
// Output site (b, oy, ox) reads input (b, oy·stride − padTop + ky, ox·stride − padLeft + kx).
// Submanifold: the output sites are the input sites. Otherwise they are the covered cells, the
// output cells whose receptive field holds at least one active input, in (b, y, x) order.
DQ_FN(sparseRulebook) {
  at::Tensor coords = Unwrap(info[0], "coords").to(at::kCPU, at::kLong).contiguous();
  const int64_t B = info[1].As<Napi::Number>().Int64Value(), H = info[2].As<Napi::Number>().Int64Value(),
                W = info[3].As<Napi::Number>().Int64Value(), Ho = info[4].As<Napi::Number>().Int64Value(),
                Wo = info[5].As<Napi::Number>().Int64Value(), kh = info[6].As<Napi::Number>().Int64Value(),
                kw = info[7].As<Napi::Number>().Int64Value(), s = info[8].As<Napi::Number>().Int64Value(),
                pt = info[9].As<Napi::Number>().Int64Value(), pl = info[10].As<Napi::Number>().Int64Value();
  const bool submanifold = info[11].ToBoolean();
  if (coords.dim() != 2 || coords.size(1) != 3) throw std::invalid_argument("sparseRulebook: coords must be [N, 3] (image, y, x)");
  if (submanifold && (s != 1 || Ho != H || Wo != W)) throw std::invalid_argument("sparseRulebook: a submanifold rulebook keeps stride 1 and the input size");
  const int64_t N = coords.size(0);
  const int64_t* c = coords.data_ptr<int64_t>();
  // The dense index grid of the input: row of each active site, −1 elsewhere (reset on exit).
  std::vector<int32_t>& grid = ScratchGrid(static_cast<size_t>(B * H * W));
  int64_t written = 0;
  struct Reset {
    std::vector<int32_t>& g; const int64_t* c; const int64_t& n; int64_t H, W;
    ~Reset() { for (int64_t i = 0; i < n; i++) g[static_cast<size_t>((c[3 * i] * H + c[3 * i + 1]) * W + c[3 * i + 2])] = -1; }
  } reset{grid, c, written, H, W};
  for (int64_t i = 0; i < N; i++) {
    const int64_t b = c[3 * i], y = c[3 * i + 1], x = c[3 * i + 2];
    if (b < 0 || b >= B || y < 0 || y >= H || x < 0 || x >= W)
      throw std::invalid_argument("sparseRulebook: site " + std::to_string(i) + " (" + std::to_string(b) + ", " + std::to_string(y) + ", " +
                                  std::to_string(x) + ") is outside the " + std::to_string(B) + "×" + std::to_string(H) + "×" + std::to_string(W) + " batch");
    auto& g = grid[static_cast<size_t>((b * H + y) * W + x)];
    if (g >= 0) throw std::invalid_argument("sparseRulebook: site " + std::to_string(i) + " repeats site " + std::to_string(g));
    g = static_cast<int32_t>(i);
    written = i + 1;
  }
  at::Tensor out;
  if (submanifold) {
    out = coords;
  } else {
    // Covered cells: every output whose window contains an input, found from the inputs' side,
    // listed, then sorted into (b, y, x) order; the marks are cleared through the list.
    std::vector<uint8_t>& covered = ScratchMarks(static_cast<size_t>(B * Ho * Wo));
    std::vector<int64_t> cells;
    for (int64_t i = 0; i < N; i++) {
      const int64_t b = c[3 * i], y = c[3 * i + 1], x = c[3 * i + 2];
      for (int64_t ky = 0; ky < kh; ky++) {
        const int64_t ty = y + pt - ky;
        if (ty < 0 || ty % s) continue;
        const int64_t oy = ty / s;
        if (oy >= Ho) continue;
        for (int64_t kx = 0; kx < kw; kx++) {
          const int64_t tx = x + pl - kx;
          if (tx < 0 || tx % s) continue;
          const int64_t ox = tx / s;
          if (ox >= Wo) continue;
          const int64_t cell = (b * Ho + oy) * Wo + ox;
          auto& cv = covered[static_cast<size_t>(cell)];
          if (!cv) { cv = 1; cells.push_back(cell); }
        }
      }
    }
    std::sort(cells.begin(), cells.end());
    const int64_t M = static_cast<int64_t>(cells.size());
    out = at::empty({M, 3}, at::kLong);
    int64_t* o = out.data_ptr<int64_t>();
    for (int64_t m = 0; m < M; m++) {
      const int64_t k = cells[static_cast<size_t>(m)];
      covered[static_cast<size_t>(k)] = 0;
      o[3 * m] = k / (Ho * Wo);
      o[3 * m + 1] = (k / Wo) % Ho;
      o[3 * m + 2] = k % Wo;
    }
  }
  const int64_t M = out.size(0), K = kh * kw;
  at::Tensor nbr = at::empty({M, K}, at::kLong);
  const int64_t* o = out.data_ptr<int64_t>();
  int64_t* n = nbr.data_ptr<int64_t>();
  for (int64_t m = 0; m < M; m++) {
    const int64_t b = o[3 * m], oy = o[3 * m + 1], ox = o[3 * m + 2];
    for (int64_t ky = 0; ky < kh; ky++) {
      const int64_t y = oy * s - pt + ky;
      for (int64_t kx = 0; kx < kw; kx++) {
        const int64_t x = ox * s - pl + kx;
        int64_t r = N;
        if (y >= 0 && y < H && x >= 0 && x < W) {
          const int32_t g = grid[static_cast<size_t>((b * H + y) * W + x)];
          if (g >= 0) r = g;
        }
        n[m * K + ky * kw + kx] = r;
      }
    }
  }
  return WrapList(info.Env(), {out, nbr});
}

// sparseRulebookPairs(neighbours [M, K], N) → [in_0, out_0, in_1, out_1, …]: for each kernel
// offset the (input row, output row) pairs that exist, for the per-offset convolution.
DQ_FN(sparseRulebookPairs) {
  at::Tensor nbr = Unwrap(info[0], "neighbours").to(at::kCPU).contiguous();
  const int64_t N = info[1].As<Napi::Number>().Int64Value();
  const int64_t M = nbr.size(0), K = nbr.size(1);
  const int64_t* n = nbr.data_ptr<int64_t>();
  std::vector<at::Tensor> out;
  for (int64_t k = 0; k < K; k++) {
    std::vector<int64_t> in, op;
    for (int64_t m = 0; m < M; m++) {
      if (n[m * K + k] < N) { in.push_back(n[m * K + k]); op.push_back(m); }
    }
    out.push_back(at::tensor(in, at::kLong).to(Unwrap(info[0]).device()));
    out.push_back(at::tensor(op, at::kLong).to(Unwrap(info[0]).device()));
  }
  return WrapList(info.Env(), out);
}

// The weight [Cout, Cin, kh, kw] as the [kh·kw·Cin, Cout] matrix the gathered rows multiply.
// The hand-written float32 CPU convolutions' GEMMs. ATen's at::mm calls Debian's OpenBLAS, which
// on the small matrices of a sparse layer (a few hundred rows × 32–256 channels) ran at 44–91
// GFLOP/s on one AVX-512 core where oneDNN's sgemm ran at 59–185 (2026-12-06, AMD EPYC;
// docs/engine.md, "oneDNN's GEMM"). libtorch already loads oneDNN (libdnnl.so.2) for its dense
// convolutions, so the engine finds its row-major sgemm there (the addon's dependencies are not
// in the global symbol scope) and falls back to at::mm where it is absent, where a tensor is not a
// plain or transposed matrix, or where the caller asked for ATen: DAQYOLO_SPARSE_GEMM=aten, or
// sparseGemm('aten') (the tests' A/B). oneDNN threads over libtorch's OpenMP pool, whose size
// at::set_num_threads sets.
using DnnlSgemmFn = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*, int64_t);
static DnnlSgemmFn FindDnnlSgemm() {
  for (const char* lib : {"libdnnl.so.2", "libdnnl.so", "libmkldnn.so.1"}) {
    if (void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
      void* f = dlsym(h, "dnnl_sgemm");
      dlclose(h);
      if (f) return reinterpret_cast<DnnlSgemmFn>(f);
    }
  }
  return reinterpret_cast<DnnlSgemmFn>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
}
static const DnnlSgemmFn kDnnlSgemm = FindDnnlSgemm();
static bool UseDnnl() {
  static bool use = [] {
    const char* v = std::getenv("DAQYOLO_SPARSE_GEMM");
    return !(v && std::string(v) == "aten");
  }();
  return use && kDnnlSgemm != nullptr;
}
static bool& GemmAten() {
  static bool aten = false;
  return aten;
}
static bool DnnlInUse() { return !GemmAten() && UseDnnl(); }
// Whether a 2-D tensor is a row-major ('N') or column-major ('T') matrix, and its leading dimension.
static bool MatrixLayout(const at::Tensor& t, char& trans, int64_t& ld) {
  const int64_t r = t.size(0), c = t.size(1), s0 = t.stride(0), s1 = t.stride(1);
  if (s1 == 1 && s0 >= std::max<int64_t>(c, 1)) {
    trans = 'N';
    ld = s0;
    return true;
  }
  if (s0 == 1 && s1 >= std::max<int64_t>(r, 1)) {
    trans = 'T';
    ld = s1;
    return true;
  }
  return false;
}
// Signals must not reach a thread inside oneDNN's sgemm. Its JIT f32 GEMM kernels (AVX2 and
// AVX-512) point rsp into a heap buffer while they run, so a signal handled on that thread pushes
// its frame into the heap and corrupts it: "corrupted size vs. prev_size" at a later free, or a
// segfault (uxlfoundation/oneDNN#4845, fixed in oneDNN 3.11.2 by PR #4855; Debian's libtorch
// loads 2.6.3). Node handles signals — SIGINT/SIGTERM for train's clean stop, SIGCHLD for child
// processes, SIGWINCH for the terminal, SIGPROF for --cpu-prof — so the asynchronous signals are
// blocked on the calling thread while its GEMMs run (delivered when they return), and libtorch's
// OpenMP workers, which run the kernel when threads > 1, block them for good: they never handle
// a signal, and a process-directed one then goes to a thread that can.
// test/engine/sparse-gemm-signals.test.ts drives both kinds of signal at the GEMM.
static const sigset_t& AsyncSignals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigfillset(&s);
    for (int sync : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&s, sync);
    return s;
  }();
  return set;
}
// Blocks them for its scope. A pair of pthread_sigmask calls costs ≈ 2 µs on this project's VMs,
// as much as a small GEMM, so a convolution holds them once over all its GEMMs (up to 9 per
// offset form and pass) and Mm's own hold inside it is free.
class SignalsHeld {
 public:
  explicit SignalsHeld(bool hold = true) : hold_(hold) {
    if (hold_ && depth()++ == 0) pthread_sigmask(SIG_BLOCK, &AsyncSignals(), &old_);
  }
  ~SignalsHeld() {
    if (hold_ && --depth() == 0) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  static int& depth() {
    thread_local int d = 0;
    return d;
  }
  bool hold_;
  sigset_t old_;
};
// The OpenMP pool (libgomp, which libtorch and Debian's oneDNN share) is per calling thread and
// grows with at::set_num_threads (omp_set_num_threads); a thread it creates inherits its creator's
// mask, one it reuses keeps its own, so the pass reruns whenever the count changes. The addon is
// compiled with -fopenmp for this region (binding.gyp).
static void HoldSignalsInPool() {
  thread_local int heldFor = 1;
  const int n = omp_get_max_threads();
  if (n == heldFor) return;
  const pthread_t caller = pthread_self();
#pragma omp parallel num_threads(n)
  {
    if (!pthread_equal(pthread_self(), caller)) pthread_sigmask(SIG_BLOCK, &AsyncSignals(), nullptr);
  }
  heldFor = n;
}
// a [M, K] · b [K, N] → a new contiguous [M, N].
static at::Tensor Mm(const at::Tensor& a, const at::Tensor& b) {
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  if (!DnnlInUse() || M == 0 || N == 0 || K == 0 || !(a.device().is_cpu() && b.device().is_cpu()) || a.scalar_type() != at::kFloat ||
      b.scalar_type() != at::kFloat)
    return at::mm(a, b);
  char ta, tb;
  int64_t lda, ldb;
  const at::Tensor A = MatrixLayout(a, ta, lda) ? a : a.contiguous();
  if (!A.is_same(a)) MatrixLayout(A, ta, lda);
  const at::Tensor B = MatrixLayout(b, tb, ldb) ? b : b.contiguous();
  if (!B.is_same(b)) MatrixLayout(B, tb, ldb);
  at::Tensor c = at::empty({M, N}, a.options());
  HoldSignalsInPool();
  int status;
  {
    SignalsHeld held;
    status = kDnnlSgemm(ta, tb, M, N, K, 1.0f, A.data_ptr<float>(), lda, B.data_ptr<float>(), ldb, 0.0f, c.data_ptr<float>(), N);
  }
  return status == 0 ? c : at::mm(a, b);
}
// sparseGemm(name | null) → the GEMM the hand-written convolutions use now ('dnnl' or 'aten');
// with a name, sets it first ('aten' forces at::mm; 'dnnl' uses oneDNN where it was found).
DQ_FN(sparseGemm) {
  if (info.Length() > 0 && info[0].IsString()) {
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    if (name != "aten" && name != "dnnl") throw std::invalid_argument("sparseGemm: expected 'aten' or 'dnnl', got '" + name + "'");
    GemmAten() = name == "aten";
  }
  return Napi::String::New(info.Env(), DnnlInUse() ? "dnnl" : "aten");
}

static at::Tensor GemmWeight(const at::Tensor& w) { return w.permute({2, 3, 1, 0}).reshape({-1, w.size(0)}); }
// The weight as [Cin, K·Cout]: column (ky·kw + kx)·Cout + o, the offset order of the rulebook.
static at::Tensor SpreadWeight(const at::Tensor& w) { return w.permute({1, 2, 3, 0}).reshape({w.size(1), -1}); }

// The hand loops of this file are compiled at O3 without trapping math, so that GCC vectorises
// them over the channels, masks included (measured: the leaky ReLU's backward loops 20× faster
// than at O2, where its select is a branch that mispredicts on half the rows).
#pragma GCC push_options
#pragma GCC optimize("O3", "no-trapping-math")

// Rows of f [N, C] through a neighbour table [M, K]: out[m, k·C + c] = f[nbr[m, k], c], 0 where
// nbr = N. f contiguous float32, nbr contiguous int64, both on the CPU.
static at::Tensor GatherRows(const at::Tensor& f, const at::Tensor& nbr) {
  const int64_t N = f.size(0), C = f.size(1), M = nbr.size(0), K = nbr.size(1);
  at::Tensor out = at::empty({M, K * C}, f.options());
  const float* src = f.data_ptr<float>();
  const int64_t* n = nbr.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  // One thread: the copy is memory-bound, and on shared cores each parallel region waits for a
  // second thread to be scheduled (measured: more wall time per step, for less CPU time).
  for (int64_t m = 0; m < M; m++)
    for (int64_t k = 0; k < K; k++) {
      const int64_t r = n[m * K + k];
      float* d = dst + (m * K + k) * C;
      if (r < N) std::memcpy(d, src + r * C, static_cast<size_t>(C) * sizeof(float));
      else std::memset(d, 0, static_cast<size_t>(C) * sizeof(float));
    }
  return out;
}

// The gather's transpose: g [M, K·C] summed into [N, C] at the rows the gather read.
static at::Tensor ScatterRows(const at::Tensor& g, const at::Tensor& nbr, int64_t N, int64_t C) {
  const int64_t M = nbr.size(0), K = nbr.size(1);
  at::Tensor out = at::zeros({N, C}, g.options());
  const float* src = g.data_ptr<float>();
  const int64_t* n = nbr.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  for (int64_t m = 0; m < M; m++)
    for (int64_t k = 0; k < K; k++) {
      const int64_t r = n[m * K + k];
      if (r >= N) continue;
      const float* __restrict s = src + (m * K + k) * C;
      float* __restrict d = dst + r * C;
      for (int64_t c = 0; c < C; c++) d[c] += s[c];
    }
  return out;
}

// y = f · wmat for the identity rulebook (1×1 submanifold: every site reads itself), so that its
// GEMMs take oneDNN's sgemm as the other forms do; backward ∂f = ∂y·wmatᵀ, ∂wmat = fᵀ·∂y.
struct SparseIdentityMm : public torch::autograd::Function<SparseIdentityMm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& f, const at::Tensor& wmat) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    ctx->save_for_backward({f, wmat});
    return Mm(f, wmat);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    auto saved = ctx->get_saved_variables();
    const at::Tensor gy = grads[0].contiguous();
    at::Tensor gf, gw;
    if (ctx->needs_input_grad(0)) gf = Mm(gy, saved[1].t());
    if (ctx->needs_input_grad(1)) gw = Mm(saved[0].t(), gy);
    return {gf, gw};
  }
};

// y = gather(f, nbr) · wmat with a hand-written backward: ∂wmat = gatherᵀ·∂y, ∂f = scatter(∂y·wmatᵀ).
struct SparseGatherMm : public torch::autograd::Function<SparseGatherMm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& f, const at::Tensor& nbr, const at::Tensor& wmat) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    at::Tensor g = GatherRows(f.contiguous(), nbr);
    ctx->save_for_backward({g, nbr, wmat});
    ctx->saved_data["N"] = f.size(0);
    return Mm(g, wmat);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    auto saved = ctx->get_saved_variables();
    const at::Tensor &g = saved[0], &nbr = saved[1], &wmat = saved[2];
    const at::Tensor gy = grads[0].contiguous();
    at::Tensor gf, gw;
    if (ctx->needs_input_grad(2)) gw = Mm(g.t(), gy);
    if (ctx->needs_input_grad(0)) {
      const int64_t N = ctx->saved_data["N"].toInt(), C = g.size(1) / nbr.size(1);
      gf = ScatterRows(Mm(gy, wmat.t()).contiguous(), nbr, N, C);
    }
    return {gf, at::Tensor(), gw};
  }
};

// Rows of Y [N, K·Cout] summed per output site: y[m] = Σ_k Y[nbr[m, k], k·Cout .. (k+1)·Cout],
// skipping absent inputs (nbr = N).
static at::Tensor SumOffsetBlocks(const at::Tensor& Y, const at::Tensor& nbr, int64_t N, int64_t Cout) {
  const int64_t M = nbr.size(0), K = nbr.size(1);
  at::Tensor out = at::zeros({M, Cout}, Y.options());
  const float* src = Y.data_ptr<float>();
  const int64_t* n = nbr.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  for (int64_t m = 0; m < M; m++) {
    float* __restrict d = dst + m * Cout;
    for (int64_t k = 0; k < K; k++) {
      const int64_t r = n[m * K + k];
      if (r >= N) continue;
      const float* __restrict s = src + (r * K + k) * Cout;
      for (int64_t c = 0; c < Cout; c++) d[c] += s[c];
    }
  }
  return out;
}

// The transpose of SumOffsetBlocks: gy [M, Cout] added into [N, K·Cout] at each (input row, offset).
static at::Tensor SpreadOffsetBlocks(const at::Tensor& gy, const at::Tensor& nbr, int64_t N) {
  const int64_t M = nbr.size(0), K = nbr.size(1), Cout = gy.size(1);
  at::Tensor out = at::zeros({N, K * Cout}, gy.options());
  const float* src = gy.data_ptr<float>();
  const int64_t* n = nbr.data_ptr<int64_t>();
  float* dst = out.data_ptr<float>();
  for (int64_t m = 0; m < M; m++) {
    const float* __restrict s = src + m * Cout;
    for (int64_t k = 0; k < K; k++) {
      const int64_t r = n[m * K + k];
      if (r >= N) continue;
      float* __restrict d = dst + (r * K + k) * Cout;
      for (int64_t c = 0; c < Cout; c++) d[c] += s[c];
    }
  }
  return out;
}

// The same convolution computed from the input side, for a layer with fewer input rows than
// output sites (N < M: a 'same' conv that grows the active set, as the heads' output convs do,
// or a stride-2 conv whose inputs each reach up to four outputs): one GEMM Y = f · wcat
// [N, K·Cout] (every input row times every offset's weights), then each output site sums the
// blocks of its present inputs. N·K·Cin·Cout multiply-adds instead of the gather's M·K·Cin·Cout
// (measured on the default simulation with isolated pixels dropped: the stride-32 head's output
// conv has 737 input rows for 2 027 output sites). Backward: ∂Y = spread(∂y), ∂wcat = fᵀ·∂Y,
// ∂f = ∂Y·wcatᵀ.
struct SparseSpreadMm : public torch::autograd::Function<SparseSpreadMm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& f, const at::Tensor& nbr, const at::Tensor& wcat) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    const at::Tensor fc = f.contiguous();
    ctx->save_for_backward({fc, nbr, wcat});
    const int64_t K = nbr.size(1);
    return SumOffsetBlocks(Mm(fc, wcat), nbr, fc.size(0), wcat.size(1) / K);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    auto saved = ctx->get_saved_variables();
    const at::Tensor &f = saved[0], &nbr = saved[1], &wcat = saved[2];
    const at::Tensor gY = SpreadOffsetBlocks(grads[0].contiguous(), nbr, f.size(0));
    at::Tensor gf, gw;
    if (ctx->needs_input_grad(2)) gw = Mm(f.t(), gY);
    if (ctx->needs_input_grad(0)) gf = Mm(gY, wcat.t());
    return {gf, at::Tensor(), gw};
  }
};

// The pairs of one kernel offset k: output sites m whose input nbr[m, k] is present, and that input.
static void OffsetPairs(const int64_t* n, int64_t M, int64_t K, int64_t N, int64_t k, std::vector<int64_t>& outs, std::vector<int64_t>& ins) {
  outs.clear();
  ins.clear();
  for (int64_t m = 0; m < M; m++) {
    const int64_t r = n[m * K + k];
    if (r < N) {
      outs.push_back(m);
      ins.push_back(r);
    }
  }
}
// rows[p] = src[idx[p]] (C floats each), or src itself when idx is 0, 1, … (no copy).
static at::Tensor TakeRows(const at::Tensor& src, const std::vector<int64_t>& idx) {
  const int64_t C = src.size(1), P = static_cast<int64_t>(idx.size());
  bool identity = P == src.size(0);
  for (int64_t p = 0; identity && p < P; p++) identity = idx[p] == p;
  if (identity) return src;
  at::Tensor out = at::empty({P, C}, src.options());
  const float* s = src.data_ptr<float>();
  float* d = out.data_ptr<float>();
  for (int64_t p = 0; p < P; p++) std::memcpy(d + p * C, s + idx[p] * C, static_cast<size_t>(C) * sizeof(float));
  return out;
}
// dst[idx[p]] += rows[p].
static void AddRows(const at::Tensor& rows, const std::vector<int64_t>& idx, at::Tensor& dst) {
  const int64_t C = rows.size(1), P = static_cast<int64_t>(idx.size());
  const float* s = rows.data_ptr<float>();
  float* d = dst.data_ptr<float>();
  for (int64_t p = 0; p < P; p++) {
    const float* __restrict a = s + p * C;
    float* __restrict b = d + idx[p] * C;
    for (int64_t c = 0; c < C; c++) b[c] += a[c];
  }
}

// The convolution per kernel offset, on present pairs only (spconv's gather–GEMM–scatter, with
// hand copies): for each offset k, the input rows of its pairs times W_k [Cin, Cout], added into
// their output rows. Pairs·Cin·Cout multiply-adds, the least any sparse convolution computes,
// in K smaller GEMMs; worth it where a layer's kernel windows are partly empty (see ChooseForm).
struct SparseOffsetMm : public torch::autograd::Function<SparseOffsetMm> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& f, const at::Tensor& nbr, const at::Tensor& wmat) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    const at::Tensor fc = f.contiguous(), wc = wmat.contiguous();
    const int64_t N = fc.size(0), C = fc.size(1), M = nbr.size(0), K = nbr.size(1);
    at::Tensor y = at::zeros({M, wc.size(1)}, fc.options());
    std::vector<int64_t> outs, ins;
    for (int64_t k = 0; k < K; k++) {
      OffsetPairs(nbr.data_ptr<int64_t>(), M, K, N, k, outs, ins);
      if (outs.empty()) continue;
      AddRows(Mm(TakeRows(fc, ins), wc.narrow(0, k * C, C)).contiguous(), outs, y);
    }
    ctx->save_for_backward({fc, nbr, wc});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    SignalsHeld held(DnnlInUse());  // over all this pass's GEMMs (see Mm)
    auto saved = ctx->get_saved_variables();
    const at::Tensor &f = saved[0], &nbr = saved[1], &wmat = saved[2];
    const at::Tensor gy = grads[0].contiguous();
    const int64_t N = f.size(0), C = f.size(1), M = nbr.size(0), K = nbr.size(1);
    const bool wantW = ctx->needs_input_grad(2), wantF = ctx->needs_input_grad(0);
    at::Tensor gf = wantF ? at::zeros({N, C}, f.options()) : at::Tensor();
    at::Tensor gw = wantW ? at::zeros_like(wmat) : at::Tensor();
    std::vector<int64_t> outs, ins;
    for (int64_t k = 0; k < K; k++) {
      OffsetPairs(nbr.data_ptr<int64_t>(), M, K, N, k, outs, ins);
      if (outs.empty()) continue;
      const at::Tensor g = TakeRows(gy, outs);
      if (wantW) gw.narrow(0, k * C, C).copy_(Mm(TakeRows(f, ins).t(), g));
      if (wantF) AddRows(Mm(g, wmat.narrow(0, k * C, C).t()).contiguous(), ins, gf);
    }
    return {gf, at::Tensor(), gw};
  }
};

constexpr int64_t kOffsetsMinMac = 8 * 16;

// The per-row loops of the batch norm below, written so that the compiler vectorises them over
// the channels (float lanes, __restrict pointers, no branches): sums over rows are taken in
// float over blocks of 256 rows and added into double, so precision does not fall with N.
constexpr int64_t kRowBlock = 256;
// Per-channel Σx and Σ(x − mean)² over the rows of x [N, C] (two passes).
static void ChannelMoments(const float* __restrict x, int64_t N, int64_t C, std::vector<double>& mean, std::vector<double>& sq) {
  std::vector<float> acc(static_cast<size_t>(C));
  float* __restrict a = acc.data();
  mean.assign(static_cast<size_t>(C), 0.0);
  sq.assign(static_cast<size_t>(C), 0.0);
  std::vector<float> m(static_cast<size_t>(C));
  for (int pass = 0; pass < 2; pass++) {
    for (int64_t r0 = 0; r0 < N; r0 += kRowBlock) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      const int64_t r1 = std::min(N, r0 + kRowBlock);
      const float* __restrict mm = m.data();
      for (int64_t n = r0; n < r1; n++) {
        const float* __restrict row = x + n * C;
        if (pass == 0) for (int64_t c = 0; c < C; c++) a[c] += row[c];
        else for (int64_t c = 0; c < C; c++) { const float d = row[c] - mm[c]; a[c] += d * d; }
      }
      std::vector<double>& into = pass == 0 ? mean : sq;
      for (int64_t c = 0; c < C; c++) into[c] += a[c];
    }
    if (pass == 0) for (int64_t c = 0; c < C; c++) { mean[c] /= static_cast<double>(N); m[c] = static_cast<float>(mean[c]); }
  }
}
// y = leaky(x · scale + shift) per channel.
static void AffineLeaky(const float* __restrict x, const float* __restrict scale, const float* __restrict shift, float slope, int64_t N, int64_t C, float* __restrict y) {
  for (int64_t n = 0; n < N; n++) {
    const float* __restrict row = x + n * C;
    float* __restrict out = y + n * C;
    // max(z, 0) + slope·min(z, 0), not z > 0 ? z : slope·z: selects of z and 0 vectorise
    // (std::max would not be inlined into this O3 code), a branch would mispredict on half the
    // rows (activations' signs are random).
    for (int64_t c = 0; c < C; c++) { const float z = row[c] * scale[c] + shift[c]; out[c] = (z > 0.0f ? z : 0.0f) + slope * (z < 0.0f ? z : 0.0f); }
  }
}
// Σ gz and Σ gz·x̂ per channel, gz = ∂y masked by the leaky ReLU (y > 0 exactly where z > 0).
static void BackwardSums(const float* __restrict x, const float* __restrict y, const float* __restrict g, const float* __restrict mean, const float* __restrict invstd,
                         float slope, int64_t N, int64_t C, std::vector<double>& sg, std::vector<double>& sgx) {
  std::vector<float> a1(static_cast<size_t>(C)), a2(static_cast<size_t>(C));
  float* __restrict p1 = a1.data();
  float* __restrict p2 = a2.data();
  sg.assign(static_cast<size_t>(C), 0.0);
  sgx.assign(static_cast<size_t>(C), 0.0);
  for (int64_t r0 = 0; r0 < N; r0 += kRowBlock) {
    std::fill(a1.begin(), a1.end(), 0.0f);
    std::fill(a2.begin(), a2.end(), 0.0f);
    const int64_t r1 = std::min(N, r0 + kRowBlock);
    for (int64_t n = r0; n < r1; n++) {
      const float *__restrict xr = x + n * C, *__restrict yr = y + n * C, *__restrict gr = g + n * C;
      for (int64_t c = 0; c < C; c++) {
        const float gz = gr[c] * (slope + (1.0f - slope) * static_cast<float>(yr[c] > 0));  // branch-free mask
        p1[c] += gz;
        p2[c] += gz * ((xr[c] - mean[c]) * invstd[c]);
      }
    }
    for (int64_t c = 0; c < C; c++) { sg[c] += p1[c]; sgx[c] += p2[c]; }
  }
}
// ∂x = k·(gz − a − x̂·b) per channel (a = b = 0 with running statistics).
static void BackwardInput(const float* __restrict x, const float* __restrict y, const float* __restrict g, const float* __restrict mean, const float* __restrict invstd,
                          const float* __restrict k, const float* __restrict a, const float* __restrict b, float slope, int64_t N, int64_t C, float* __restrict out) {
  for (int64_t n = 0; n < N; n++) {
    const float *__restrict xr = x + n * C, *__restrict yr = y + n * C, *__restrict gr = g + n * C;
    float* __restrict o = out + n * C;
    for (int64_t c = 0; c < C; c++) {
      const float gz = gr[c] * (slope + (1.0f - slope) * static_cast<float>(yr[c] > 0));  // branch-free mask
      o[c] = k[c] * (gz - a[c] - (xr[c] - mean[c]) * invstd[c] * b[c]);
    }
  }
}
#pragma GCC pop_options

// Batch norm over the rows of x [N, C] (batch statistics in training, running ones otherwise;
// training updates the running mean and unbiased variance as PyTorch does), then leaky ReLU,
// in one kernel each way. float32 on the CPU.
struct BnLeaky : public torch::autograd::Function<BnLeaky> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& xIn, const at::Tensor& gamma, const at::Tensor& beta,
                            const at::Tensor& runningMean, const at::Tensor& runningVar, bool training, double momentum, double eps, double slope) {
    const at::Tensor x = xIn.contiguous();
    const int64_t N = x.size(0), C = x.size(1);
    at::Tensor mean = at::empty({C}, x.options()), invstd = at::empty({C}, x.options());
    float* mp = mean.data_ptr<float>();
    float* ip = invstd.data_ptr<float>();
    auto rm = runningMean.accessor<float, 1>();
    auto rv = runningVar.accessor<float, 1>();
    if (training) {
      std::vector<double> s, q;
      ChannelMoments(x.data_ptr<float>(), N, C, s, q);
      for (int64_t c = 0; c < C; c++) {
        const double var = q[c] / static_cast<double>(N);
        mp[c] = static_cast<float>(s[c]);
        ip[c] = static_cast<float>(1.0 / std::sqrt(var + eps));
        rm[c] = static_cast<float>((1 - momentum) * rm[c] + momentum * s[c]);
        rv[c] = static_cast<float>((1 - momentum) * rv[c] + momentum * (N > 1 ? q[c] / static_cast<double>(N - 1) : var));
      }
    } else {
      for (int64_t c = 0; c < C; c++) { mp[c] = rm[c]; ip[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rv[c]) + eps)); }
    }
    const at::Tensor gc = gamma.contiguous(), bc = beta.contiguous();
    const float* gp = gc.data_ptr<float>();
    const float* bp = bc.data_ptr<float>();
    std::vector<float> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; c++) { scale[c] = gp[c] * ip[c]; shift[c] = bp[c] - mp[c] * scale[c]; }
    at::Tensor y = at::empty({N, C}, x.options());
    AffineLeaky(x.data_ptr<float>(), scale.data(), shift.data(), static_cast<float>(slope), N, C, y.data_ptr<float>());
    ctx->save_for_backward({x, gc, mean, invstd, y});
    ctx->saved_data["training"] = training;
    ctx->saved_data["slope"] = slope;
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &gamma = saved[1], &mean = saved[2], &invstd = saved[3], &y = saved[4];
    const bool training = ctx->saved_data["training"].toBool();
    const float sl = static_cast<float>(ctx->saved_data["slope"].toDouble());
    const at::Tensor gy = grads[0].contiguous();
    const int64_t N = x.size(0), C = x.size(1);
    const float *xp = x.data_ptr<float>(), *yp = y.data_ptr<float>(), *gp = gy.data_ptr<float>();
    const float *mp = mean.data_ptr<float>(), *ip = invstd.data_ptr<float>(), *wp = gamma.data_ptr<float>();
    std::vector<double> sg, sgx;
    BackwardSums(xp, yp, gp, mp, ip, sl, N, C, sg, sgx);
    at::Tensor gx, gGamma, gBeta;
    if (ctx->needs_input_grad(0)) {
      gx = at::empty({N, C}, x.options());
      std::vector<float> k(static_cast<size_t>(C)), a(static_cast<size_t>(C)), b(static_cast<size_t>(C));
      for (int64_t c = 0; c < C; c++) {
        k[c] = wp[c] * ip[c];
        a[c] = training ? static_cast<float>(sg[c] / static_cast<double>(N)) : 0.0f;
        b[c] = training ? static_cast<float>(sgx[c] / static_cast<double>(N)) : 0.0f;
      }
      BackwardInput(xp, yp, gp, mp, ip, k.data(), a.data(), b.data(), sl, N, C, gx.data_ptr<float>());
    }
    if (ctx->needs_input_grad(1)) gGamma = at::tensor(std::vector<float>(sgx.begin(), sgx.end()), x.options());
    if (ctx->needs_input_grad(2)) gBeta = at::tensor(std::vector<float>(sg.begin(), sg.end()), x.options());
    return {gx, gGamma, gBeta, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

static bool CpuFloat(const at::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == at::kFloat; }

// sparseBnLeaky(features [N, C], weight [C], bias [C], runningMean [C], runningVar [C], training,
// momentum, eps, negativeSlope) → [N, C]: batch norm of the rows then leaky ReLU, one kernel each
// way (float32 CPU; elsewhere ATen's batch_norm and leaky_relu).
DQ_FN(sparseBnLeaky) {
  const at::Tensor& x = Unwrap(info[0], "features");
  const at::Tensor& gamma = Unwrap(info[1], "weight");
  const at::Tensor& beta = Unwrap(info[2], "bias");
  const at::Tensor& runningMean = Unwrap(info[3], "runningMean");
  const at::Tensor& runningVar = Unwrap(info[4], "runningVar");
  const bool training = info[5].ToBoolean();
  const double momentum = info[6].As<Napi::Number>().DoubleValue();
  const double eps = info[7].As<Napi::Number>().DoubleValue();
  const double slope = info[8].As<Napi::Number>().DoubleValue();
  if (x.dim() != 2 || gamma.numel() != x.size(1)) throw std::invalid_argument("sparseBnLeaky: expected features [N, C] and C-long weight, bias and statistics");
  if (slope <= 0) throw std::invalid_argument("sparseBnLeaky: the negative slope must be > 0, got " + std::to_string(slope));
  if (!(CpuFloat(x) && CpuFloat(gamma) && CpuFloat(beta) && CpuFloat(runningMean) && CpuFloat(runningVar)) || (training && x.size(0) < 2)) {
    at::Tensor z = at::batch_norm(x, gamma, beta, runningMean, runningVar, training && x.size(0) > 1, momentum, eps, true);
    return Wrap(info.Env(), at::leaky_relu(z, slope));
  }
  return Wrap(info.Env(), BnLeaky::apply(x, gamma, beta, runningMean, runningVar, training, momentum, eps, slope));
}

// How a float32 CPU convolution is computed; all give the same result within float rounding.
enum class ConvForm : int64_t { Auto = 0, Gather = 1, Spread = 2, Offsets = 3 };
// The form with the least time: multiply-adds per Cin·Cout are M·K (gather), N·K (spread) and
// the present pairs (offsets), but the offsets form runs K smaller GEMMs and copies each pair's
// rows in and out on one thread, so it gains less where the GEMMs have a second thread.
// Measured per layer of sparse-yolov3 on the default simulation (bench/sparse-forms.ts,
// docs/engine.md): on 1 thread the offsets form was the fastest at every fill up to the 78 % of
// the stride-32 stage; on 2 threads it was level with gather at fills of 46–57 % (forward) and
// slower at 70–78 %, faster by 1.2–2× at 13–40 % (the strided and growing convs). So: offsets
// where the kernel windows are at most 85 % full on 1 thread, 60 % on more; else the cheaper of
// gather and spread. The one-channel stem (Cin·Cout = 8: a few µs either way) keeps gather/spread.
static ConvForm ChooseForm(int64_t N, const at::Tensor& nbr, int64_t Cin, int64_t Cout) {
  const int64_t M = nbr.size(0), K = nbr.size(1);
  if (K > 1 && Cin * Cout >= kOffsetsMinMac) {
    const int64_t* n = nbr.data_ptr<int64_t>();
    int64_t pairs = 0;
    for (int64_t i = 0; i < M * K; i++) pairs += n[i] < N;
    const int64_t percent = at::get_num_threads() > 1 ? 60 : 85;
    if (100 * pairs <= percent * std::min(M, N) * K) return ConvForm::Offsets;
  }
  return N < M ? ConvForm::Spread : ConvForm::Gather;
}

// sparseConv(features [N, Cin], neighbours [M, K], weight [Cout, Cin, kh, kw], bias|null, identity, form)
// → [M, Cout]. A 1×1 kernel on the same sites is a plain matrix product. Otherwise, on float32
// CPU tensors, the form (ConvForm; 0 = the least work) of hand-written gather, spread or
// per-offset GEMMs; elsewhere ATen ops: one gather through a zero row, one GEMM.
DQ_FN(sparseConv) {
  const at::Tensor& f = Unwrap(info[0], "features");
  const at::Tensor& nbr = Unwrap(info[1], "neighbours");
  const at::Tensor& w = Unwrap(info[2], "weight");
  auto bias = OptTensor(info[3]);
  const int64_t mode = info[5].As<Napi::Number>().Int64Value();
  if (mode < 0 || mode > 3) throw std::invalid_argument("sparseConv: form must be 0 (auto), 1 (gather), 2 (spread) or 3 (offsets), got " + std::to_string(mode));
  const ConvForm form = static_cast<ConvForm>(mode);
  const int64_t M = nbr.size(0), K = nbr.size(1), C = f.size(1);
  if (w.size(1) != C || w.size(2) * w.size(3) != K)
    throw std::invalid_argument("sparseConv: weight [" + std::to_string(w.size(0)) + ", " + std::to_string(w.size(1)) + ", " + std::to_string(w.size(2)) + ", " +
                                std::to_string(w.size(3)) + "] does not fit " + std::to_string(C) + " input channels and " + std::to_string(K) + " kernel offsets");
  at::Tensor y;
  if (info[4].ToBoolean()) {  // identity rulebook (1×1 submanifold): no gather at all
    const at::Tensor wmat = w.reshape({w.size(0), C}).t();
    y = CpuFloat(f) && CpuFloat(w) ? SparseIdentityMm::apply(f.contiguous(), wmat) : at::mm(f, wmat);
  } else if (CpuFloat(f) && CpuFloat(w) && nbr.device().is_cpu() && nbr.scalar_type() == at::kLong) {
    const at::Tensor nb = nbr.contiguous();
    switch (form == ConvForm::Auto ? ChooseForm(f.size(0), nb, C, w.size(0)) : form) {
      case ConvForm::Spread: y = SparseSpreadMm::apply(f, nb, SpreadWeight(w)); break;
      case ConvForm::Offsets: y = SparseOffsetMm::apply(f, nb, GemmWeight(w)); break;
      default: y = SparseGatherMm::apply(f, nb, GemmWeight(w));
    }
  } else {
    at::Tensor padded = at::cat({f, at::zeros({1, C}, f.options())});
    y = at::mm(padded.index_select(0, nbr.reshape({-1})).view({M, K * C}), GemmWeight(w));
  }
  if (bias) y = y + *bias;
  return Wrap(info.Env(), y);
}

// sparseConvOffsets(features, [in_0, out_0, …], M, weight, bias|null) → [M, Cout]: per kernel
// offset index_select → mm → index_add (spconv's gather-GEMM-scatter), no zero rows.
DQ_FN(sparseConvOffsets) {
  const at::Tensor& f = Unwrap(info[0], "features");
  auto pairs = TensorList(info[1]);
  const int64_t M = info[2].As<Napi::Number>().Int64Value();
  const at::Tensor& w = Unwrap(info[3], "weight");
  auto bias = OptTensor(info[4]);
  const int64_t kw = w.size(3);
  at::Tensor y = at::zeros({M, w.size(0)}, f.options());
  for (size_t k = 0; k * 2 < pairs.size(); k++) {
    if (pairs[2 * k].numel() == 0) continue;
    at::Tensor wk = w.select(2, static_cast<int64_t>(k) / kw).select(2, static_cast<int64_t>(k) % kw).t();  // [Cin, Cout]
    y = y.index_add(0, pairs[2 * k + 1], at::mm(f.index_select(0, pairs[2 * k]), wk));
  }
  if (bias) y = y + *bias;
  return Wrap(info.Env(), y);
}

// sparseMaxPool(features [N, C], neighbours [M, K]) → [M, C]: the maximum over the active
// inputs of each window (absent inputs read a −inf row, so they never win).
DQ_FN(sparseMaxPool) {
  const at::Tensor& f = Unwrap(info[0], "features");
  const at::Tensor& nbr = Unwrap(info[1], "neighbours");
  const int64_t M = nbr.size(0), K = nbr.size(1), C = f.size(1);
  at::Tensor padded = at::cat({f, at::full({1, C}, -std::numeric_limits<double>::infinity(), f.options())});
  return Wrap(info.Env(), std::get<0>(padded.index_select(0, nbr.reshape({-1})).view({M, K, C}).max(1)));
}

// Row of each site in the flattened [B·H·W] grid.
static at::Tensor LinearIndex(const at::Tensor& coords, int64_t H, int64_t W, c10::Device dev) {
  at::Tensor c = coords.to(dev, at::kLong);
  return (c.select(1, 0) * H + c.select(1, 1)) * W + c.select(1, 2);
}

// sparseDensify(features [N, C], coords [N, 3], B, H, W, fill) → [B, C, H, W] (NHWC strides):
// the features scattered into a grid of `fill` (0 for convolutions, −inf for pooling).
DQ_FN(sparseDensify) {
  const at::Tensor& f = Unwrap(info[0], "features");
  const int64_t B = info[2].As<Napi::Number>().Int64Value(), H = info[3].As<Napi::Number>().Int64Value(),
                W = info[4].As<Napi::Number>().Int64Value();
  const double fill = info[5].As<Napi::Number>().DoubleValue();
  at::Tensor idx = LinearIndex(Unwrap(info[1], "coords"), H, W, f.device());
  at::Tensor grid = at::full({B * H * W, f.size(1)}, fill, f.options());
  c10::List<c10::optional<at::Tensor>> indices;
  indices.push_back(idx);
  return Wrap(info.Env(), at::index_put(grid, indices, f).view({B, H, W, f.size(1)}).permute({0, 3, 1, 2}));
}

// sparseSparsify(dense [B, C, H, W], coords [N, 3]) → features [N, C] at the sites.
DQ_FN(sparseSparsify) {
  const at::Tensor& x = Unwrap(info[0], "dense");
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3);
  at::Tensor idx = LinearIndex(Unwrap(info[1], "coords"), H, W, x.device());
  return Wrap(info.Env(), x.permute({0, 2, 3, 1}).reshape({-1, C}).index_select(0, idx));
}

// sparseActiveSites(dense [B, C, H, W]) → coords [N, 3] of the pixels with any non-zero channel,
// in (b, y, x) order (for dense inputs; the data pipeline builds coords from its pixel lists).
DQ_FN(sparseActiveSites) {
  const at::Tensor& x = Unwrap(info[0], "dense");
  if (x.dim() != 4) throw std::invalid_argument("sparseActiveSites: expected dense images [B, C, H, W]");
  if (x.device().is_cpu() && x.scalar_type() == at::kFloat) {
    // One pass over the pixels in (b, y, x) order, reading every channel through the strides
    // (NCHW or NHWC alike): ne → any → nonzero is four passes and three temporaries.
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t sb = x.stride(0), sc = x.stride(1), sh = x.stride(2), sw = x.stride(3);
    const float* d = x.data_ptr<float>();
    std::vector<int64_t> sites;
    for (int64_t b = 0; b < B; b++)
      for (int64_t y = 0; y < H; y++)
        for (int64_t xx = 0; xx < W; xx++) {
          const float* p = d + b * sb + y * sh + xx * sw;
          for (int64_t c = 0; c < C; c++)
            if (p[c * sc] != 0.0f) { sites.insert(sites.end(), {b, y, xx}); break; }
        }
    return Wrap(info.Env(), at::tensor(sites, at::kLong).view({-1, 3}));
  }
  return Wrap(info.Env(), at::nonzero(x.ne(0).any(1)).to(at::kCPU));
}

void InitSparse(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, sparseRulebook, 12);
  DQ_EXPORT(exports, sparseRulebookPairs, 2);
  DQ_EXPORT(exports, sparseConv, 6);
  DQ_EXPORT(exports, sparseConvOffsets, 5);
  DQ_EXPORT(exports, sparseBnLeaky, 9);
  DQ_EXPORT(exports, sparseMaxPool, 2);
  DQ_EXPORT(exports, sparseDensify, 6);
  DQ_EXPORT(exports, sparseSparsify, 2);
  DQ_EXPORT(exports, sparseActiveSites, 1);
  DQ_EXPORT(exports, sparseGemm, 1);
}

}  // namespace dq
