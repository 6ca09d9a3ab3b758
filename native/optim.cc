// Optimisers: torch::optim::Adam and SGD running in libtorch, with a learning rate that can
// change between steps and per-parameter state that can be read out and restored (checkpoints).
#include <memory>

#include "common.h"

namespace dq {

using Optim = torch::optim::Optimizer;

// The JavaScript handle owns the optimiser until `optimFree` (deterministic, as a tensor's
// `free`) or, failing that, until the handle is collected. Its per-parameter state (Adam's two
// moments: twice the parameters' bytes) is reported to V8 as external memory, so that the
// collector sees what an unreleased optimiser holds.
struct OptimBox {
  std::unique_ptr<Optim> opt;
  int64_t reported = 0;  // bytes last reported to V8 through AdjustExternalMemory
};

static int64_t StateBytes(Optim& opt) {
  int64_t n = 0;
  for (auto& [key, st] : opt.state()) {
    (void)key;
    if (auto* a = dynamic_cast<torch::optim::AdamParamState*>(st.get())) {
      for (const at::Tensor* t : {&a->exp_avg(), &a->exp_avg_sq(), &a->max_exp_avg_sq()})
        if (t->defined()) n += static_cast<int64_t>(t->nbytes());
    } else if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(st.get())) {
      if (s->momentum_buffer().defined()) n += static_cast<int64_t>(s->momentum_buffer().nbytes());
    }
  }
  return n;
}
// Brings V8's count of this optimiser's external bytes to its current state size.
static void Report(Napi::Env env, OptimBox& box) {
  int64_t now = box.opt ? StateBytes(*box.opt) : 0;
  if (now != box.reported) Napi::MemoryManagement::AdjustExternalMemory(env, now - box.reported);
  box.reported = now;
}

static Napi::Value WrapOptim(Napi::Env env, std::unique_ptr<Optim> opt) {
  auto* box = new OptimBox{std::move(opt), 0};
  return Napi::External<OptimBox>::New(env, box, [](Napi::Env e, OptimBox* b) {
    if (b->reported) Napi::MemoryManagement::AdjustExternalMemory(e, -b->reported);
    delete b;
  });
}
static OptimBox& UnwrapBox(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected an optimiser handle");
  return *v.As<Napi::External<OptimBox>>().Data();
}
static Optim& UnwrapOptim(const Napi::Value& v) {
  auto& box = UnwrapBox(v);
  if (!box.opt) throw Napi::Error::New(v.Env(), "use of a disposed optimiser");
  return *box.opt;
}
static double Num(const Napi::Object& o, const char* key, double dflt) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}
static std::string Key(const at::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

// adam(params, {lr, beta1, beta2, eps, weightDecay, amsgrad})
DQ_FN(adam) {
  auto params = TensorList(info[0]);
  auto o = info[1].As<Napi::Object>();
  auto opts = torch::optim::AdamOptions(Num(o, "lr", 1e-3))
                  .betas({Num(o, "beta1", 0.9), Num(o, "beta2", 0.999)})
                  .eps(Num(o, "eps", 1e-8))
                  .weight_decay(Num(o, "weightDecay", 0))
                  .amsgrad(o.Get("amsgrad").ToBoolean());
  return WrapOptim(info.Env(), std::make_unique<torch::optim::Adam>(params, opts));
}
// sgd(params, {lr, momentum, dampening, weightDecay, nesterov})
DQ_FN(sgd) {
  auto params = TensorList(info[0]);
  auto o = info[1].As<Napi::Object>();
  auto opts = torch::optim::SGDOptions(Num(o, "lr", 1e-2))
                  .momentum(Num(o, "momentum", 0))
                  .dampening(Num(o, "dampening", 0))
                  .weight_decay(Num(o, "weightDecay", 0))
                  .nesterov(o.Get("nesterov").ToBoolean());
  return WrapOptim(info.Env(), std::make_unique<torch::optim::SGD>(params, opts));
}
DQ_FN(optimStep) {
  UnwrapOptim(info[0]).step();
  Report(info.Env(), UnwrapBox(info[0]));  // the first step creates the state
  return info.Env().Undefined();
}
// optimFree(opt): drops the optimiser and its state now; a second call does nothing.
DQ_FN(optimFree) {
  auto& box = UnwrapBox(info[0]);
  box.opt.reset();
  Report(info.Env(), box);
  return info.Env().Undefined();
}
// optimZeroGrad(opt): gradients set to None (no memory kept between steps, as PyTorch ≥ 2.0).
DQ_FN(optimZeroGrad) {
  for (auto& g : UnwrapOptim(info[0]).param_groups())
    for (auto& p : g.params()) p.mutable_grad() = at::Tensor();
  return info.Env().Undefined();
}
DQ_FN(optimSetLr) {
  double lr = info[1].As<Napi::Number>().DoubleValue();
  for (auto& g : UnwrapOptim(info[0]).param_groups()) g.options().set_lr(lr);
  return info.Env().Undefined();
}
DQ_FN(optimGetLr) { return Napi::Number::New(info.Env(), UnwrapOptim(info[0]).param_groups().at(0).options().get_lr()); }

// optimGetState(opt) → one entry per parameter (in order): null before the first step, else
// Adam {step, expAvg, expAvgSq, maxExpAvgSq?} or SGD {momentumBuffer}. The tensors are copies.
DQ_FN(optimGetState) {
  auto& opt = UnwrapOptim(info[0]);
  auto env = info.Env();
  auto out = Napi::Array::New(env);
  uint32_t i = 0;
  for (auto& g : opt.param_groups()) {
    for (auto& p : g.params()) {
      auto it = opt.state().find(Key(p));
      if (it == opt.state().end()) {
        out.Set(i++, env.Null());
        continue;
      }
      auto entry = Napi::Object::New(env);
      if (auto* a = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
        entry.Set("step", Napi::Number::New(env, static_cast<double>(a->step())));
        entry.Set("expAvg", Wrap(env, a->exp_avg().clone()));
        entry.Set("expAvgSq", Wrap(env, a->exp_avg_sq().clone()));
        if (a->max_exp_avg_sq().defined()) entry.Set("maxExpAvgSq", Wrap(env, a->max_exp_avg_sq().clone()));
      } else if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
        if (s->momentum_buffer().defined()) entry.Set("momentumBuffer", Wrap(env, s->momentum_buffer().clone()));
      }
      out.Set(i++, entry);
    }
  }
  return out;
}

// optimSetState(opt, entries): the inverse of optimGetState; shapes must match the parameters.
DQ_FN(optimSetState) {
  auto& opt = UnwrapOptim(info[0]);
  auto arr = info[1].As<Napi::Array>();
  bool isAdam = dynamic_cast<torch::optim::Adam*>(&opt) != nullptr;
  uint32_t i = 0;
  for (auto& g : opt.param_groups()) {
    for (auto& p : g.params()) {
      if (i >= arr.Length()) throw Napi::Error::New(info.Env(), "optimiser state has fewer entries than parameters");
      auto e = arr.Get(i++);
      auto key = Key(p);
      if (e.IsNull() || e.IsUndefined()) {
        opt.state().erase(key);
        continue;
      }
      auto o = e.As<Napi::Object>();
      auto check = [&](const at::Tensor& t, const char* what) {
        if (t.sizes() != p.sizes())
          throw Napi::Error::New(info.Env(), std::string("optimiser state ") + what + " of parameter " + std::to_string(i - 1) + " has shape " +
                                                 c10::str(t.sizes()) + ", the parameter has " + c10::str(p.sizes()));
        return t.to(p.device(), p.scalar_type()).clone();
      };
      if (isAdam) {
        auto st = std::make_unique<torch::optim::AdamParamState>();
        st->step(static_cast<int64_t>(Num(o, "step", 0)));
        st->exp_avg(check(Unwrap(o.Get("expAvg")), "expAvg"));
        st->exp_avg_sq(check(Unwrap(o.Get("expAvgSq")), "expAvgSq"));
        if (o.Has("maxExpAvgSq")) st->max_exp_avg_sq(check(Unwrap(o.Get("maxExpAvgSq")), "maxExpAvgSq"));
        opt.state()[key] = std::move(st);
      } else {
        auto st = std::make_unique<torch::optim::SGDParamState>();
        if (o.Has("momentumBuffer")) st->momentum_buffer(check(Unwrap(o.Get("momentumBuffer")), "momentumBuffer"));
        opt.state()[key] = std::move(st);
      }
    }
  }
  if (i != arr.Length()) throw Napi::Error::New(info.Env(), "optimiser state has more entries than parameters");
  Report(info.Env(), UnwrapBox(info[0]));
  return info.Env().Undefined();
}

void InitOptim(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, adam, 2);
  DQ_EXPORT(exports, sgd, 2);
  DQ_EXPORT(exports, optimStep, 1);
  DQ_EXPORT(exports, optimZeroGrad, 1);
  DQ_EXPORT(exports, optimSetLr, 2);
  DQ_EXPORT(exports, optimGetLr, 1);
  DQ_EXPORT(exports, optimGetState, 1);
  DQ_EXPORT(exports, optimSetState, 2);
  DQ_EXPORT(exports, optimFree, 1);
}

}  // namespace dq
