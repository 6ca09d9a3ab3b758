// Process groups from libtorch's c10d: a store (TCPStore or FileStore) to meet, ProcessGroupGloo
// (CPU; ProcessGroupNCCL on CUDA builds) for the collectives. Every collective blocks until it
// completes or the group's timeout passes; c10d's and gloo's errors arrive as JavaScript Errors.
// Also: bucketed gradient all-reduce, bucketed broadcast of parameters and buffers, and a
// synchronised batch norm whose statistics are summed over the group (differentiably).
// libtorch builds with gloo (Debian's, pytorch.org's) export ProcessGroupGloo, but its header is
// guarded by the build's own define; set it here, for this file only.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef DQ_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "common.h"

namespace dq {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
  std::string backend;
  int64_t id = 0;
  // A heartbeat: a thread bumps user/heartbeat/<rank> in the store every second, so that after a
  // failed collective the survivors can tell which ranks are gone (their counters stand still)
  // even while the live ones are still blocked in the collective.
  c10::intrusive_ptr<c10d::Store> heartbeatStore;
  std::thread heartbeat;
  std::atomic<bool> stopping{false};
  void StartHeartbeat() {
    heartbeat = std::thread([this] {
      std::string key = "user/heartbeat/" + std::to_string(rank);
      for (int64_t beat = 0; !stopping; beat++) {
        try {
          auto v = std::to_string(beat);
          heartbeatStore->set(key, std::vector<uint8_t>(v.begin(), v.end()));
        } catch (...) {
          // The store is gone (rank 0 exited): nothing left to tell.
        }
        for (int i = 0; i < 10 && !stopping; i++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }
  ~Group() {
    stopping = true;
    if (heartbeat.joinable()) heartbeat.join();
  }
};

// Autograd nodes (the synchronised batch norm) find their group by id: a node may outlive the
// JavaScript call that made it, and c10::IValue cannot hold an unregistered class.
static std::map<int64_t, std::shared_ptr<Group>>& Groups() {
  static std::map<int64_t, std::shared_ptr<Group>> groups;
  return groups;
}
static int64_t nextGroupId = 1;

static std::shared_ptr<Group> UnwrapGroup(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a process group handle");
  auto id = *v.As<Napi::External<int64_t>>().Data();
  auto it = Groups().find(id);
  if (it == Groups().end()) throw Napi::Error::New(v.Env(), "the process group was shut down");
  return it->second;
}

// A group whose collective failed is never destroyed, so that the process can still exit: a
// TCPStore's destructor joins its threads, and a peer frozen half-way through a message to the
// store leaves rank 0's store daemon (one thread) blocked on that socket for good, so the join
// never returns — neither in shutdown() nor in the static destructors at exit (seen: the
// frozen-rank test hung 11 minutes after reporting the error; test/c10d/process-group.test.ts
// now freezes a peer mid-message on purpose). The OS closes the sockets when the process ends.
static void KeepForever(const Group& g) {
  static auto* kept = new std::vector<std::shared_ptr<Group>>();
  auto it = Groups().find(g.id);
  if (it != Groups().end()) kept->push_back(it->second);
}

static void Wait(const c10::intrusive_ptr<c10d::Work>& work, const Group& g, const char* what) {
  // wait() rethrows the collective's own exception (a closed connection, gloo's timeout);
  // a false return is the wait timing out here.
  bool done = false;
  try {
    done = work->wait(g.timeout);
  } catch (...) {
    KeepForever(g);
    throw;
  }
  if (!done) {
    KeepForever(g);
    TORCH_CHECK(false, what, " timed out after ", g.timeout.count(), " ms");
  }
}

static c10d::ReduceOp ReduceOpOf(const std::string& op) {
  if (op == "sum" || op == "mean") return c10d::ReduceOp::SUM;  // gloo has no AVG: sum, then divide
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  if (op == "product") return c10d::ReduceOp::PRODUCT;
  TORCH_CHECK(false, "unknown reduce op '", op, "' (expected sum, mean, max, min or product)");
}

static void AllReduceInPlace(const Group& g, at::Tensor& t, const std::string& op) {
  std::vector<at::Tensor> ts{t};
  c10d::AllreduceOptions o;
  o.reduceOp = ReduceOpOf(op);
  Wait(g.pg->allreduce(ts, o), g, "all-reduce");
  if (op == "mean") t.div_(g.size);
}

// distInit({backend, store: 'tcp'|'file', host, port, path, rank, worldSize, timeoutMs, ifname})
DQ_FN(distInit) {
  auto o = info[0].As<Napi::Object>();
  auto g = std::make_shared<Group>();
  g->rank = o.Get("rank").As<Napi::Number>().Int32Value();
  g->size = o.Get("worldSize").As<Napi::Number>().Int32Value();
  TORCH_CHECK(g->size >= 1 && g->rank >= 0 && g->rank < g->size, "rank ", g->rank, " is outside world size ", g->size);
  g->timeout = std::chrono::milliseconds(static_cast<int64_t>(o.Get("timeoutMs").As<Napi::Number>().DoubleValue()));
  g->backend = o.Get("backend").IsString() ? o.Get("backend").As<Napi::String>().Utf8Value() : "gloo";
  auto storeKind = o.Get("store").As<Napi::String>().Utf8Value();
  if (storeKind == "tcp") {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(o.Get("port").As<Napi::Number>().Uint32Value());
    so.isServer = g->rank == 0;
    so.numWorkers = g->size;
    so.waitWorkers = true;
    so.timeout = g->timeout;
    auto host = o.Get("host").As<Napi::String>().Utf8Value();
    g->store = c10::make_intrusive<c10d::TCPStore>(host, so);
    // Its own client connection: the heartbeat thread never shares a socket with the main thread.
    c10d::TCPStoreOptions hb;
    hb.port = so.port;
    hb.isServer = false;
    hb.waitWorkers = false;
    hb.timeout = g->timeout;
    g->heartbeatStore = c10::make_intrusive<c10d::TCPStore>(host, hb);
  } else if (storeKind == "file") {
    auto fs = c10::make_intrusive<c10d::FileStore>(o.Get("path").As<Napi::String>().Utf8Value(), g->size);
    fs->setTimeout(g->timeout);
    g->store = fs;
    g->heartbeatStore = fs;  // FileStore locks the file for each operation
  } else {
    TORCH_CHECK(false, "unknown store '", storeKind, "' (expected tcp or file)");
  }
  // The process group keeps its own namespace in the store; the rest is for the caller's keys.
  auto pgStore = c10::make_intrusive<c10d::PrefixStore>("pg", g->store);
  if (g->backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
    auto ifname = o.Get("ifname");
    if (ifname.IsString() && !ifname.As<Napi::String>().Utf8Value().empty()) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname.As<Napi::String>().Utf8Value()));
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pgStore, g->rank, g->size, opts);
  } else if (g->backend == "nccl") {
#ifdef DQ_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = g->timeout;
    g->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(pgStore, g->rank, g->size, opts);
#else
    TORCH_CHECK(false, "this libtorch was built without NCCL (CPU build): use the gloo backend");
#endif
  } else {
    TORCH_CHECK(false, "unknown backend '", g->backend, "' (expected gloo or nccl)");
  }
  g->StartHeartbeat();
  g->id = nextGroupId++;
  Groups()[g->id] = g;
  return Napi::External<int64_t>::New(info.Env(), new int64_t(g->id), [](Napi::Env, int64_t* id) {
    Groups().erase(*id);
    delete id;
  });
}

DQ_FN(distShutdown) {
  auto g = UnwrapGroup(info[0]);
  Groups().erase(g->id);
  return info.Env().Undefined();
}
DQ_FN(distRank) { return Napi::Number::New(info.Env(), UnwrapGroup(info[0])->rank); }
DQ_FN(distWorldSize) { return Napi::Number::New(info.Env(), UnwrapGroup(info[0])->size); }
DQ_FN(distBackend) { return Napi::String::New(info.Env(), UnwrapGroup(info[0])->backend); }

// distAllReduce(pg, tensor, op): in place; returns the tensor's handle for chaining.
DQ_FN(distAllReduce) {
  auto g = UnwrapGroup(info[0]);
  AllReduceInPlace(*g, Unwrap(info[1]), info[2].As<Napi::String>().Utf8Value());
  return info[1];
}
// distBroadcast(pg, tensor, root): in place.
DQ_FN(distBroadcast) {
  auto g = UnwrapGroup(info[0]);
  std::vector<at::Tensor> ts{Unwrap(info[1])};
  c10d::BroadcastOptions o;
  o.rootRank = info[2].As<Napi::Number>().Int32Value();
  Wait(g->pg->broadcast(ts, o), *g, "broadcast");
  return info[1];
}
// distAllGather(pg, tensor) → one tensor per rank (same shape on every rank).
DQ_FN(distAllGather) {
  auto g = UnwrapGroup(info[0]);
  std::vector<at::Tensor> in{Unwrap(info[1]).contiguous()};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g->size; r++) out[0].push_back(at::empty_like(in[0]));
  Wait(g->pg->allgather(out, in), *g, "all-gather");
  return WrapList(info.Env(), out[0]);
}
DQ_FN(distBarrier) {
  auto g = UnwrapGroup(info[0]);
  Wait(g->pg->barrier(), *g, "barrier");
  return info.Env().Undefined();
}

// Consecutive tensors of one dtype and device, up to bucketBytes each (a tensor larger than
// that is a bucket of its own): one flat buffer per bucket, as DistributedDataParallel does.
template <typename F>
static void ForEachBucket(std::vector<at::Tensor>& ts, int64_t bucketBytes, F&& fn) {
  size_t i = 0;
  while (i < ts.size()) {
    size_t j = i;
    int64_t bytes = 0;
    while (j < ts.size() && ts[j].scalar_type() == ts[i].scalar_type() && ts[j].device() == ts[i].device() &&
           (j == i || bytes + ts[j].nbytes() <= static_cast<size_t>(bucketBytes))) {
      bytes += ts[j].nbytes();
      j++;
    }
    std::vector<at::Tensor> bucket(ts.begin() + i, ts.begin() + j);
    std::vector<at::Tensor> flat;
    for (auto& t : bucket) flat.push_back(t.reshape({-1}));
    auto buffer = at::cat(flat);
    fn(buffer);
    int64_t off = 0;
    for (auto& t : bucket) {
      auto n = t.numel();
      t.copy_(buffer.narrow(0, off, n).view(t.sizes()));
      off += n;
    }
    i = j;
  }
}

// distAllReduceGrads(pg, params, bucketBytes, op): every parameter's gradient reduced in
// buckets. A parameter without a gradient on this rank counts as zeros so that every rank
// sends buckets of the same layout.
DQ_FN(distAllReduceGrads) {
  auto g = UnwrapGroup(info[0]);
  auto params = TensorList(info[1]);
  auto bucketBytes = static_cast<int64_t>(info[2].As<Napi::Number>().DoubleValue());
  auto op = info[3].As<Napi::String>().Utf8Value();
  std::vector<at::Tensor> grads;
  for (auto& p : params) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.mutable_grad());
  }
  int buckets = 0;
  torch::NoGradGuard ng;
  ForEachBucket(grads, bucketBytes, [&](at::Tensor& buf) {
    AllReduceInPlace(*g, buf, op);
    buckets++;
  });
  return Napi::Number::New(info.Env(), buckets);
}

// distBroadcastTensors(pg, tensors, root, bucketBytes): in place (parameters and buffers).
DQ_FN(distBroadcastTensors) {
  auto g = UnwrapGroup(info[0]);
  auto ts = TensorList(info[1]);
  int root = info[2].As<Napi::Number>().Int32Value();
  auto bucketBytes = static_cast<int64_t>(info[3].As<Napi::Number>().DoubleValue());
  torch::NoGradGuard ng;
  ForEachBucket(ts, bucketBytes, [&](at::Tensor& buf) {
    std::vector<at::Tensor> one{buf};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    Wait(g->pg->broadcast(one, o), *g, "broadcast");
  });
  return info.Env().Undefined();
}

// The store shared by the group, for small keys of the caller (e.g. the heartbeats read after a
// failed collective). distStoreSet(pg, key, value), distStoreGet(pg, key) → string,
// distStoreCheck(pg, keys) → whether all exist (never waits).
DQ_FN(distStoreSet) {
  auto g = UnwrapGroup(info[0]);
  auto v = info[2].As<Napi::String>().Utf8Value();
  g->store->set("user/" + info[1].As<Napi::String>().Utf8Value(), std::vector<uint8_t>(v.begin(), v.end()));
  return info.Env().Undefined();
}
DQ_FN(distStoreGet) {
  auto g = UnwrapGroup(info[0]);
  auto v = g->store->get("user/" + info[1].As<Napi::String>().Utf8Value());
  return Napi::String::New(info.Env(), std::string(v.begin(), v.end()));
}
DQ_FN(distStoreCheck) {
  auto g = UnwrapGroup(info[0]);
  std::vector<std::string> keys;
  auto arr = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) keys.push_back("user/" + arr.Get(i).As<Napi::String>().Utf8Value());
  return Napi::Boolean::New(info.Env(), g->store->check(keys));
}

// Sum over the group, differentiable: the gradient of y = Σ_r x_r with respect to each rank's x
// is the sum over ranks of ∂L_r/∂y, itself an all-reduce in the backward pass.
struct AllReduceSumFn : public torch::autograd::Function<AllReduceSumFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t groupId) {
    ctx->saved_data["group"] = groupId;
    auto y = x.clone();
    AllReduceInPlace(*Groups().at(groupId), y, "sum");
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto it = Groups().find(ctx->saved_data["group"].toInt());
    TORCH_CHECK(it != Groups().end(), "synchronised batch norm: the process group was shut down before backward");
    auto gx = grads[0].clone();
    AllReduceInPlace(*it->second, gx, "sum");
    return {gx, at::Tensor()};
  }
};

// distSyncBatchNorm(pg, x [N,C,...], weight|null, bias|null, runningMean, runningVar, training,
// momentum, eps): batch norm whose mean and variance are over the whole group's batch (one
// all-reduce of [Σx, Σx², count] per layer forward and one backward). In eval mode it is the
// ordinary batch norm with the running statistics.
DQ_FN(distSyncBatchNorm) {
  auto g = UnwrapGroup(info[0]);
  auto x = Unwrap(info[1]);
  auto weight = OptTensor(info[2]);
  auto bias = OptTensor(info[3]);
  auto runningMean = Unwrap(info[4]);
  auto runningVar = Unwrap(info[5]);
  bool training = info[6].ToBoolean();
  double momentum = info[7].As<Napi::Number>().DoubleValue();
  double eps = info[8].As<Napi::Number>().DoubleValue();
  if (!training) {
    return Wrap(info.Env(), at::batch_norm(x, weight, bias, runningMean, runningVar, false, momentum, eps, false));
  }
  int64_t C = x.size(1);
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); d++) dims.push_back(d);
  auto xf = x.to(at::kFloat);  // statistics in float32 at least
  if (x.scalar_type() == at::kDouble) xf = x;
  double count = static_cast<double>(x.numel() / C);
  auto local = at::cat({xf.sum(dims), xf.pow(2).sum(dims), at::full({1}, count, xf.options())});
  auto global = AllReduceSumFn::apply(local, g->id);
  auto n = global.narrow(0, 2 * C, 1);
  auto mean = global.narrow(0, 0, C) / n;
  auto var = global.narrow(0, C, C) / n - mean * mean;  // biased, as batch norm normalises
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = C;
  auto y = (xf - mean.view(shape)) * (var + eps).rsqrt().view(shape);
  if (weight) y = y * weight->to(y.scalar_type()).view(shape);
  if (bias) y = y + bias->to(y.scalar_type()).view(shape);
  {
    torch::NoGradGuard ng;
    double total = n.item<double>();
    auto unbiased = var.detach() * (total / std::max(1.0, total - 1));
    runningMean.mul_(1 - momentum).add_(mean.detach().to(runningMean.scalar_type()), momentum);
    runningVar.mul_(1 - momentum).add_(unbiased.to(runningVar.scalar_type()), momentum);
  }
  return Wrap(info.Env(), y.to(x.scalar_type()));
}

DQ_FN(distNcclAvailable) {
#ifdef DQ_NCCL
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

void InitDist(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, distInit, 1);
  DQ_EXPORT(exports, distShutdown, 1);
  DQ_EXPORT(exports, distRank, 1);
  DQ_EXPORT(exports, distWorldSize, 1);
  DQ_EXPORT(exports, distBackend, 1);
  DQ_EXPORT(exports, distAllReduce, 3);
  DQ_EXPORT(exports, distBroadcast, 3);
  DQ_EXPORT(exports, distAllGather, 2);
  DQ_EXPORT(exports, distBarrier, 1);
  DQ_EXPORT(exports, distAllReduceGrads, 4);
  DQ_EXPORT(exports, distBroadcastTensors, 4);
  DQ_EXPORT(exports, distStoreSet, 3);
  DQ_EXPORT(exports, distStoreGet, 2);
  DQ_EXPORT(exports, distStoreCheck, 2);
  DQ_EXPORT(exports, distSyncBatchNorm, 9);
  DQ_EXPORT(exports, distNcclAvailable, 0);
}

}  // namespace dq
