// Sparse 2-D convolutions on libtorch: a sparse batch is coordinates [N, 3] (image, y, x) plus
// features [N, C]. A rulebook lists, for every output site and every kernel offset, the row of
// the input feature matrix it reads (or N: an appended row of zeros, or of -inf for max-pool).
// It is built once per batch and resolution on the CPU from a dense index grid (B·H·W int32,
// < 1 MB per 480² image) and shared by every convolution with the same geometry.
//
// The arithmetic is ATen ops only (index_select, mm, index_add, max, index_put), so libtorch's
// autograd gives the backward pass and the same code runs on any device the features live on.
#include <algorithm>
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
static at::Tensor GemmWeight(const at::Tensor& w) { return w.permute({2, 3, 1, 0}).reshape({-1, w.size(0)}); }

// sparseConv(features [N, Cin], neighbours [M, K], weight [Cout, Cin, kh, kw], bias|null)
// → [M, Cout]: one gather through a zero row, one GEMM. A 1×1 kernel on the same sites is a
// plain matrix product.
DQ_FN(sparseConv) {
  const at::Tensor& f = Unwrap(info[0], "features");
  const at::Tensor& nbr = Unwrap(info[1], "neighbours");
  const at::Tensor& w = Unwrap(info[2], "weight");
  auto bias = OptTensor(info[3]);
  const int64_t M = nbr.size(0), K = nbr.size(1), C = f.size(1);
  if (w.size(1) != C || w.size(2) * w.size(3) != K)
    throw std::invalid_argument("sparseConv: weight [" + std::to_string(w.size(0)) + ", " + std::to_string(w.size(1)) + ", " + std::to_string(w.size(2)) + ", " +
                                std::to_string(w.size(3)) + "] does not fit " + std::to_string(C) + " input channels and " + std::to_string(K) + " kernel offsets");
  at::Tensor y;
  if (info[4].ToBoolean()) {  // identity rulebook (1×1 submanifold): no gather at all
    y = at::mm(f, w.reshape({w.size(0), C}).t());
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
  DQ_EXPORT(exports, sparseConv, 5);
  DQ_EXPORT(exports, sparseConvOffsets, 5);
  DQ_EXPORT(exports, sparseMaxPool, 2);
  DQ_EXPORT(exports, sparseDensify, 6);
  DQ_EXPORT(exports, sparseSparsify, 2);
  DQ_EXPORT(exports, sparseActiveSites, 1);
}

}  // namespace dq
