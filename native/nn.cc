// nn.functional: convolution, batch norm, activations, pooling, resampling, padding, losses.
#include "common.h"

namespace dq {

static std::vector<int64_t> Pair(const Napi::Value& v, int64_t dflt) {
  if (v.IsUndefined() || v.IsNull()) return {dflt, dflt};
  auto l = IntList(v);
  if (l.size() == 1) return {l[0], l[0]};
  return l;
}

// conv2d(x, w, b|null, stride, padding, dilation, groups)
DQ_FN(conv2d) {
  return Wrap(info.Env(), at::conv2d(Unwrap(info[0]), Unwrap(info[1]), OptTensor(info[2]), Pair(info[3], 1), Pair(info[4], 0),
                                     Pair(info[5], 1), info[6].IsNumber() ? info[6].As<Napi::Number>().Int64Value() : 1));
}
// batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps):
// in training mode libtorch updates the running statistics in place.
DQ_FN(batchNorm) {
  return Wrap(info.Env(), at::batch_norm(Unwrap(info[0]), OptTensor(info[1]), OptTensor(info[2]), OptTensor(info[3]), OptTensor(info[4]),
                                         info[5].ToBoolean(), info[6].As<Napi::Number>().DoubleValue(),
                                         info[7].As<Napi::Number>().DoubleValue(), true));
}
DQ_FN(leakyRelu) { return Wrap(info.Env(), at::leaky_relu(Unwrap(info[0]), ToScalar(info[1]))); }
DQ_FN(maxPool2d) {
  auto k = Pair(info[1], 1);
  auto s = info[2].IsUndefined() || info[2].IsNull() ? k : Pair(info[2], 1);
  return Wrap(info.Env(), at::max_pool2d(Unwrap(info[0]), k, s, Pair(info[3], 0), Pair(info[4], 1), info[5].ToBoolean()));
}
// interpolate(x, size|null, scale|null, mode, alignCorners)
DQ_FN(interpolate) {
  auto& x = Unwrap(info[0]);
  std::string mode = info[3].As<Napi::String>();
  c10::optional<at::IntArrayRef> size;
  std::vector<int64_t> sz;
  if (!(info[1].IsUndefined() || info[1].IsNull())) {
    sz = Pair(info[1], 1);
    size = sz;
  }
  c10::optional<at::ArrayRef<double>> scale;
  std::vector<double> sc;
  if (!(info[2].IsUndefined() || info[2].IsNull())) {
    double f = info[2].As<Napi::Number>().DoubleValue();
    sc = {f, f};
    scale = sc;
  }
  if (mode == "nearest") return Wrap(info.Env(), at::upsample_nearest2d(x, size, scale));
  if (mode == "bilinear") return Wrap(info.Env(), at::upsample_bilinear2d(x, size, info[4].ToBoolean(), scale));
  throw Napi::Error::New(info.Env(), "interpolate mode must be 'nearest' or 'bilinear', got '" + mode + "'");
}
// pad(x, [left, right, top, bottom, ...], mode, value)
DQ_FN(pad) {
  auto pads = IntList(info[1]);
  std::string mode = info[2].IsString() ? std::string(info[2].As<Napi::String>()) : "constant";
  if (mode == "constant") return Wrap(info.Env(), at::constant_pad_nd(Unwrap(info[0]), pads, info[3].IsNumber() ? ToScalar(info[3]) : at::Scalar(0)));
  if (mode == "reflect") return Wrap(info.Env(), at::reflection_pad2d(Unwrap(info[0]), pads));
  if (mode == "replicate") return Wrap(info.Env(), at::replication_pad2d(Unwrap(info[0]), pads));
  throw Napi::Error::New(info.Env(), "pad mode must be constant, reflect or replicate");
}
DQ_FN(mseLoss) { return Wrap(info.Env(), at::mse_loss(Unwrap(info[0]), Unwrap(info[1]), Reduction(info[2]))); }
// binaryCrossEntropyWithLogits(logits, target, weight|null, posWeight|null, reduction): stable for any logit.
DQ_FN(bceWithLogits) {
  return Wrap(info.Env(), at::binary_cross_entropy_with_logits(Unwrap(info[0]), Unwrap(info[1]), OptTensor(info[2]), OptTensor(info[3]),
                                                               Reduction(info[4])));
}
// crossEntropy(logits [N, C, ...], target int64 [N, ...], reduction)
DQ_FN(crossEntropy) { return Wrap(info.Env(), at::cross_entropy_loss(Unwrap(info[0]), Unwrap(info[1]), {}, Reduction(info[2]))); }
DQ_FN(linear) { return Wrap(info.Env(), at::linear(Unwrap(info[0]), Unwrap(info[1]), OptTensor(info[2]))); }

void InitNN(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, conv2d, 7);
  DQ_EXPORT(exports, batchNorm, 8);
  DQ_EXPORT(exports, leakyRelu, 2);
  DQ_EXPORT(exports, maxPool2d, 6);
  DQ_EXPORT(exports, interpolate, 5);
  DQ_EXPORT(exports, pad, 4);
  DQ_EXPORT(exports, mseLoss, 3);
  DQ_EXPORT(exports, bceWithLogits, 5);
  DQ_EXPORT(exports, crossEntropy, 3);
  DQ_EXPORT(exports, linear, 3);
}

}  // namespace dq
