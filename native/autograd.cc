// Autograd: requires_grad, backward, .grad, detach and the thread-local grad mode.
#include "common.h"

namespace dq {

DQ_FN(requiresGrad) { return Napi::Boolean::New(info.Env(), Unwrap(info[0]).requires_grad()); }
DQ_FN(setRequiresGrad) {
  Unwrap(info[0]).set_requires_grad(info[1].ToBoolean());
  return info[0];
}
// backward(t, grad|null, retainGraph)
DQ_FN(backward) {
  auto& t = Unwrap(info[0]);
  auto g = OptTensor(info[1]);
  t.backward(g ? *g : at::Tensor(), info[2].ToBoolean() ? c10::optional<bool>(true) : c10::nullopt);
  return info.Env().Undefined();
}
DQ_FN(grad) {
  auto g = Unwrap(info[0]).grad();
  if (!g.defined()) return info.Env().Null();
  return Wrap(info.Env(), g);
}
// setGrad(t, g|null): null clears the gradient (as optimizer.zero_grad(set_to_none=True)).
DQ_FN(setGrad) {
  auto& t = Unwrap(info[0]);
  auto g = OptTensor(info[1]);
  t.mutable_grad() = g ? *g : at::Tensor();
  return info.Env().Undefined();
}
DQ_FN(detach) { return Wrap(info.Env(), Unwrap(info[0]).detach()); }
DQ_FN(isLeaf) { return Napi::Boolean::New(info.Env(), Unwrap(info[0]).is_leaf()); }
DQ_FN(retainGrad) {
  Unwrap(info[0]).retain_grad();
  return info.Env().Undefined();
}
DQ_FN(isGradEnabled) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }
DQ_FN(setGradEnabled) {
  at::GradMode::set_enabled(info[0].ToBoolean());
  return info.Env().Undefined();
}

void InitAutograd(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, requiresGrad, 1);
  DQ_EXPORT(exports, setRequiresGrad, 2);
  DQ_EXPORT(exports, backward, 3);
  DQ_EXPORT(exports, grad, 1);
  DQ_EXPORT(exports, setGrad, 2);
  DQ_EXPORT(exports, detach, 1);
  DQ_EXPORT(exports, isLeaf, 1);
  DQ_EXPORT(exports, retainGrad, 1);
  DQ_EXPORT(exports, isGradEnabled, 0);
  DQ_EXPORT(exports, setGradEnabled, 1);
}

}  // namespace dq
