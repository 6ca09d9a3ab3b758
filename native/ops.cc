// Elementwise arithmetic, comparisons, reductions, views, copies and indexing.
// Ops are dispatched by name so the binding stays one function per family.
#include <cmath>
#include <unordered_map>

#include "common.h"

namespace dq {

enum class Bin { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, logical_and, logical_or, remainder, floor_divide, atan2 };
enum class Un { neg, abs, exp, log, sqrt, rsqrt, square, sigmoid, tanh, relu, floor, ceil, round, trunc, sign, logical_not, log1p, expm1, sin, cos, reciprocal, isnan, isinf, isfinite };

template <typename E>
static E Lookup(const Napi::Value& v, const std::unordered_map<std::string, E>& table, const char* what) {
  std::string s = v.As<Napi::String>();
  auto it = table.find(s);
  if (it == table.end()) throw Napi::TypeError::New(v.Env(), std::string("unknown ") + what + " '" + s + "'");
  return it->second;
}

static const std::unordered_map<std::string, Bin> kBin = {
    {"add", Bin::add}, {"sub", Bin::sub}, {"mul", Bin::mul}, {"div", Bin::div}, {"pow", Bin::pow},
    {"maximum", Bin::maximum}, {"minimum", Bin::minimum}, {"eq", Bin::eq}, {"ne", Bin::ne}, {"lt", Bin::lt},
    {"le", Bin::le}, {"gt", Bin::gt}, {"ge", Bin::ge}, {"logicalAnd", Bin::logical_and}, {"logicalOr", Bin::logical_or},
    {"remainder", Bin::remainder}, {"floorDivide", Bin::floor_divide}, {"atan2", Bin::atan2}};

static const std::unordered_map<std::string, Un> kUn = {
    {"neg", Un::neg}, {"abs", Un::abs}, {"exp", Un::exp}, {"log", Un::log}, {"sqrt", Un::sqrt}, {"rsqrt", Un::rsqrt},
    {"square", Un::square}, {"sigmoid", Un::sigmoid}, {"tanh", Un::tanh}, {"relu", Un::relu}, {"floor", Un::floor},
    {"ceil", Un::ceil}, {"round", Un::round}, {"trunc", Un::trunc}, {"sign", Un::sign}, {"logicalNot", Un::logical_not},
    {"log1p", Un::log1p}, {"expm1", Un::expm1}, {"sin", Un::sin}, {"cos", Un::cos}, {"reciprocal", Un::reciprocal},
    {"isnan", Un::isnan}, {"isinf", Un::isinf}, {"isfinite", Un::isfinite}};

// A scalar operand becomes a 0-d tensor of the other operand's kind so that libtorch's type
// promotion treats it as a "wrapped number" (as Python does with a float literal).
static at::Tensor Operand(const Napi::Value& v) {
  if (IsTensor(v)) return Unwrap(v);
  // JavaScript has one number type: an integral value acts as a Python int, others as a float.
  at::ScalarType st = at::kDouble;
  if (v.IsBoolean()) st = at::kBool;
  else if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) st = at::kLong;
  }
  auto t = at::scalar_tensor(ToScalar(v), st);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

static at::Tensor Binary(Bin op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case Bin::add: return at::add(a, b);
    case Bin::sub: return at::sub(a, b);
    case Bin::mul: return at::mul(a, b);
    case Bin::div: return at::div(a, b);
    case Bin::pow: return at::pow(a, b);
    case Bin::maximum: return at::maximum(a, b);
    case Bin::minimum: return at::minimum(a, b);
    case Bin::eq: return at::eq(a, b);
    case Bin::ne: return at::ne(a, b);
    case Bin::lt: return at::lt(a, b);
    case Bin::le: return at::le(a, b);
    case Bin::gt: return at::gt(a, b);
    case Bin::ge: return at::ge(a, b);
    case Bin::logical_and: return at::logical_and(a, b);
    case Bin::logical_or: return at::logical_or(a, b);
    case Bin::remainder: return at::remainder(a, b);
    case Bin::floor_divide: return at::div(a, b, "floor");
    case Bin::atan2: return at::atan2(a, b);
  }
  throw std::runtime_error("unreachable");
}

static void BinaryInplace(Bin op, at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case Bin::add: a.add_(b); return;
    case Bin::sub: a.sub_(b); return;
    case Bin::mul: a.mul_(b); return;
    case Bin::div: a.div_(b); return;
    case Bin::pow: a.pow_(b); return;
    case Bin::remainder: a.remainder_(b); return;
    default: a.copy_(Binary(op, a, b)); return;
  }
}

static at::Tensor Unary(Un op, const at::Tensor& a) {
  switch (op) {
    case Un::neg: return at::neg(a);
    case Un::abs: return at::abs(a);
    case Un::exp: return at::exp(a);
    case Un::log: return at::log(a);
    case Un::sqrt: return at::sqrt(a);
    case Un::rsqrt: return at::rsqrt(a);
    case Un::square: return at::square(a);
    case Un::sigmoid: return at::sigmoid(a);
    case Un::tanh: return at::tanh(a);
    case Un::relu: return at::relu(a);
    case Un::floor: return at::floor(a);
    case Un::ceil: return at::ceil(a);
    case Un::round: return at::round(a);
    case Un::trunc: return at::trunc(a);
    case Un::sign: return at::sign(a);
    case Un::logical_not: return at::logical_not(a);
    case Un::log1p: return at::log1p(a);
    case Un::expm1: return at::expm1(a);
    case Un::sin: return at::sin(a);
    case Un::cos: return at::cos(a);
    case Un::reciprocal: return at::reciprocal(a);
    case Un::isnan: return at::isnan(a);
    case Un::isinf: return at::isinf(a);
    case Un::isfinite: return at::isfinite(a);
  }
  throw std::runtime_error("unreachable");
}

// binary(op, a, b) with broadcasting; a or b may be a number.
DQ_FN(binary) {
  auto op = Lookup(info[0], kBin, "binary op");
  return Wrap(info.Env(), Binary(op, Operand(info[1]), Operand(info[2])));
}
// binaryInplace(op, a, b): a ← a op b; returns a.
DQ_FN(binaryInplace) {
  auto op = Lookup(info[0], kBin, "binary op");
  BinaryInplace(op, Unwrap(info[1]), Operand(info[2]));
  return info[1];
}
DQ_FN(unary) { return Wrap(info.Env(), Unary(Lookup(info[0], kUn, "unary op"), Unwrap(info[1]))); }
DQ_FN(unaryInplace) {
  auto& t = Unwrap(info[1]);
  t.copy_(Unary(Lookup(info[0], kUn, "unary op"), t));
  return info[1];
}
DQ_FN(where) { return Wrap(info.Env(), at::where(Unwrap(info[0]), Operand(info[1]), Operand(info[2]))); }
DQ_FN(clamp) {
  auto lo = OptDouble(info[1]);
  auto hi = OptDouble(info[2]);
  c10::optional<at::Scalar> l, h;
  if (lo) l = *lo;
  if (hi) h = *hi;
  return Wrap(info.Env(), at::clamp(Unwrap(info[0]), l, h));
}
DQ_FN(softmax) { return Wrap(info.Env(), at::softmax(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value())); }
DQ_FN(logSoftmax) { return Wrap(info.Env(), at::log_softmax(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value())); }
DQ_FN(matmul) { return Wrap(info.Env(), at::matmul(Unwrap(info[0]), Unwrap(info[1]))); }
DQ_FN(to) {
  auto& t = Unwrap(info[0]);
  auto dtype = info[1].IsString() ? DType(info[1]) : t.scalar_type();
  auto device = info[2].IsString() ? DeviceOf(info[2]) : t.device();
  return Wrap(info.Env(), t.to(device, dtype));
}
DQ_FN(clone) { return Wrap(info.Env(), Unwrap(info[0]).clone()); }
DQ_FN(copyInplace) {
  Unwrap(info[0]).copy_(Unwrap(info[1]));
  return info[0];
}
DQ_FN(fillInplace) {
  Unwrap(info[0]).fill_(ToScalar(info[1]));
  return info[0];
}

// --- reductions: dims null → all elements ------------------------------------------------------
enum class Red { sum, mean, amax, amin, prod, any, all, std, var_ };
static const std::unordered_map<std::string, Red> kRed = {{"sum", Red::sum}, {"mean", Red::mean}, {"amax", Red::amax}, {"amin", Red::amin},
                                                          {"prod", Red::prod}, {"any", Red::any}, {"all", Red::all}, {"std", Red::std}, {"var", Red::var_}};
DQ_FN(reduce) {
  auto op = Lookup(info[0], kRed, "reduction");
  auto& t = Unwrap(info[1]);
  bool all = info[2].IsUndefined() || info[2].IsNull();
  auto dims = all ? std::vector<int64_t>{} : IntList(info[2]);
  bool keep = info[3].ToBoolean();
  switch (op) {
    case Red::sum: return Wrap(info.Env(), all ? t.sum() : t.sum(dims, keep));
    case Red::mean: return Wrap(info.Env(), all ? t.mean() : t.mean(dims, keep));
    case Red::amax: return Wrap(info.Env(), t.amax(dims, keep));
    case Red::amin: return Wrap(info.Env(), t.amin(dims, keep));
    case Red::prod:
      if (all) return Wrap(info.Env(), t.prod());
      if (dims.size() != 1) throw Napi::Error::New(info.Env(), "prod reduces one dim at a time");
      return Wrap(info.Env(), t.prod(dims[0], keep));
    case Red::any:
      if (all) return Wrap(info.Env(), t.any());
      if (dims.size() != 1) throw Napi::Error::New(info.Env(), "any reduces one dim at a time");
      return Wrap(info.Env(), t.any(dims[0], keep));
    case Red::all:
      if (all) return Wrap(info.Env(), t.all());
      if (dims.size() != 1) throw Napi::Error::New(info.Env(), "all reduces one dim at a time");
      return Wrap(info.Env(), t.all(dims[0], keep));
    case Red::std: return Wrap(info.Env(), all ? t.std() : t.std(at::OptionalIntArrayRef(dims), 1, keep));
    case Red::var_: return Wrap(info.Env(), all ? t.var() : t.var(at::OptionalIntArrayRef(dims), 1, keep));
  }
  throw std::runtime_error("unreachable");
}
// maxDim / minDim(t, dim, keepdim) → [values, indices]
DQ_FN(maxDim) {
  auto r = at::max(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(), info[2].ToBoolean());
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
DQ_FN(minDim) {
  auto r = at::min(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(), info[2].ToBoolean());
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
DQ_FN(maxAll) { return Wrap(info.Env(), at::max(Unwrap(info[0]))); }
DQ_FN(minAll) { return Wrap(info.Env(), at::min(Unwrap(info[0]))); }
DQ_FN(argmax) {
  auto& t = Unwrap(info[0]);
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(info.Env(), at::argmax(t));
  return Wrap(info.Env(), at::argmax(t, info[1].As<Napi::Number>().Int64Value(), info[2].ToBoolean()));
}
DQ_FN(argmin) {
  auto& t = Unwrap(info[0]);
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(info.Env(), at::argmin(t));
  return Wrap(info.Env(), at::argmin(t, info[1].As<Napi::Number>().Int64Value(), info[2].ToBoolean()));
}
DQ_FN(sort) {
  auto r = at::sort(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(), info[2].ToBoolean());
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
DQ_FN(topk) {
  auto r = at::topk(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(), info[2].As<Napi::Number>().Int64Value());
  return WrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

// --- views and copies -----------------------------------------------------------------------
DQ_FN(reshape) { return Wrap(info.Env(), Unwrap(info[0]).reshape(IntList(info[1]))); }
DQ_FN(view) { return Wrap(info.Env(), Unwrap(info[0]).view(IntList(info[1]))); }
DQ_FN(permute) { return Wrap(info.Env(), Unwrap(info[0]).permute(IntList(info[1]))); }
DQ_FN(transpose) {
  return Wrap(info.Env(), Unwrap(info[0]).transpose(info[1].As<Napi::Number>().Int64Value(), info[2].As<Napi::Number>().Int64Value()));
}
// contiguous(t, format?): format 'channels_last' gives NHWC strides (oneDNN's fast path for conv).
DQ_FN(contiguous) {
  bool cl = info[1].IsString() && std::string(info[1].As<Napi::String>()) == "channels_last";
  return Wrap(info.Env(), Unwrap(info[0]).contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
}
DQ_FN(unsqueeze) { return Wrap(info.Env(), Unwrap(info[0]).unsqueeze(info[1].As<Napi::Number>().Int64Value())); }
DQ_FN(squeeze) {
  auto& t = Unwrap(info[0]);
  if (info[1].IsUndefined() || info[1].IsNull()) return Wrap(info.Env(), t.squeeze());
  return Wrap(info.Env(), t.squeeze(info[1].As<Napi::Number>().Int64Value()));
}
DQ_FN(expand) { return Wrap(info.Env(), Unwrap(info[0]).expand(IntList(info[1]))); }
DQ_FN(narrow) {
  return Wrap(info.Env(), Unwrap(info[0]).narrow(info[1].As<Napi::Number>().Int64Value(), info[2].As<Napi::Number>().Int64Value(),
                                                 info[3].As<Napi::Number>().Int64Value()));
}
DQ_FN(select) {
  return Wrap(info.Env(), Unwrap(info[0]).select(info[1].As<Napi::Number>().Int64Value(), info[2].As<Napi::Number>().Int64Value()));
}
// slice(t, dim, start|null, end|null, step)
DQ_FN(slice) {
  c10::optional<int64_t> start, end;
  if (info[2].IsNumber()) start = info[2].As<Napi::Number>().Int64Value();
  if (info[3].IsNumber()) end = info[3].As<Napi::Number>().Int64Value();
  int64_t step = info[4].IsNumber() ? info[4].As<Napi::Number>().Int64Value() : 1;
  return Wrap(info.Env(), Unwrap(info[0]).slice(info[1].As<Napi::Number>().Int64Value(), start, end, step));
}
// index(t, [idx|null, ...]): advanced indexing with bool masks or int64 index tensors per dim.
static c10::List<c10::optional<at::Tensor>> IndexList(const Napi::Value& v) {
  auto arr = v.As<Napi::Array>();
  c10::List<c10::optional<at::Tensor>> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto e = arr.Get(i);
    if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
    else out.push_back(Unwrap(e));
  }
  return out;
}
DQ_FN(index) { return Wrap(info.Env(), at::index(Unwrap(info[0]), IndexList(info[1]))); }
// indexPut(t, indices, values, accumulate, inplace)
DQ_FN(indexPut) {
  auto& t = Unwrap(info[0]);
  auto idx = IndexList(info[1]);
  // A number takes the destination's dtype, as `t[mask] = 9` does in Python.
  auto vals = IsTensor(info[2]) ? Unwrap(info[2]) : at::scalar_tensor(ToScalar(info[2]), t.options());
  bool acc = info[3].ToBoolean();
  if (info[4].ToBoolean()) {
    t.index_put_(idx, vals, acc);
    return info[0];
  }
  return Wrap(info.Env(), at::index_put(t, idx, vals, acc));
}
DQ_FN(indexSelect) {
  return Wrap(info.Env(), at::index_select(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(), Unwrap(info[2])));
}
DQ_FN(gather) { return Wrap(info.Env(), at::gather(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value(), Unwrap(info[2]))); }
DQ_FN(maskedFill) { return Wrap(info.Env(), at::masked_fill(Unwrap(info[0]), Unwrap(info[1]), ToScalar(info[2]))); }
DQ_FN(maskedSelect) { return Wrap(info.Env(), at::masked_select(Unwrap(info[0]), Unwrap(info[1]))); }
DQ_FN(nonzero) { return Wrap(info.Env(), at::nonzero(Unwrap(info[0]))); }
DQ_FN(cat) { return Wrap(info.Env(), at::cat(TensorList(info[0]), info[1].As<Napi::Number>().Int64Value())); }
DQ_FN(stack) { return Wrap(info.Env(), at::stack(TensorList(info[0]), info[1].As<Napi::Number>().Int64Value())); }
// split(t, sizeOrSizes, dim)
DQ_FN(split) {
  auto& t = Unwrap(info[0]);
  int64_t dim = info[2].As<Napi::Number>().Int64Value();
  if (info[1].IsNumber()) return WrapList(info.Env(), t.split(info[1].As<Napi::Number>().Int64Value(), dim));
  return WrapList(info.Env(), t.split_with_sizes(IntList(info[1]), dim));
}
DQ_FN(flip) { return Wrap(info.Env(), at::flip(Unwrap(info[0]), IntList(info[1]))); }
DQ_FN(roll) { return Wrap(info.Env(), at::roll(Unwrap(info[0]), IntList(info[1]), IntList(info[2]))); }
DQ_FN(meshgrid) {
  return WrapList(info.Env(), at::meshgrid(TensorList(info[0]), std::string(info[1].As<Napi::String>())));
}
DQ_FN(cumsum) { return Wrap(info.Env(), at::cumsum(Unwrap(info[0]), info[1].As<Napi::Number>().Int64Value())); }
DQ_FN(allclose) {
  return Napi::Boolean::New(info.Env(), at::allclose(Unwrap(info[0]), Unwrap(info[1]), info[2].As<Napi::Number>().DoubleValue(),
                                                     info[3].As<Napi::Number>().DoubleValue()));
}

void InitOps(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, binary, 3);
  DQ_EXPORT(exports, binaryInplace, 3);
  DQ_EXPORT(exports, unary, 2);
  DQ_EXPORT(exports, unaryInplace, 2);
  DQ_EXPORT(exports, where, 3);
  DQ_EXPORT(exports, clamp, 3);
  DQ_EXPORT(exports, softmax, 2);
  DQ_EXPORT(exports, logSoftmax, 2);
  DQ_EXPORT(exports, matmul, 2);
  DQ_EXPORT(exports, to, 3);
  DQ_EXPORT(exports, clone, 1);
  DQ_EXPORT(exports, copyInplace, 2);
  DQ_EXPORT(exports, fillInplace, 2);
  DQ_EXPORT(exports, reduce, 4);
  DQ_EXPORT(exports, maxDim, 3);
  DQ_EXPORT(exports, minDim, 3);
  DQ_EXPORT(exports, maxAll, 1);
  DQ_EXPORT(exports, minAll, 1);
  DQ_EXPORT(exports, argmax, 3);
  DQ_EXPORT(exports, argmin, 3);
  DQ_EXPORT(exports, sort, 3);
  DQ_EXPORT(exports, topk, 3);
  DQ_EXPORT(exports, reshape, 2);
  DQ_EXPORT(exports, view, 2);
  DQ_EXPORT(exports, permute, 2);
  DQ_EXPORT(exports, transpose, 3);
  DQ_EXPORT(exports, contiguous, 2);
  DQ_EXPORT(exports, unsqueeze, 2);
  DQ_EXPORT(exports, squeeze, 2);
  DQ_EXPORT(exports, expand, 2);
  DQ_EXPORT(exports, narrow, 4);
  DQ_EXPORT(exports, select, 3);
  DQ_EXPORT(exports, slice, 5);
  DQ_EXPORT(exports, index, 2);
  DQ_EXPORT(exports, indexPut, 5);
  DQ_EXPORT(exports, indexSelect, 3);
  DQ_EXPORT(exports, gather, 3);
  DQ_EXPORT(exports, maskedFill, 3);
  DQ_EXPORT(exports, maskedSelect, 2);
  DQ_EXPORT(exports, nonzero, 1);
  DQ_EXPORT(exports, cat, 2);
  DQ_EXPORT(exports, stack, 2);
  DQ_EXPORT(exports, split, 3);
  DQ_EXPORT(exports, flip, 2);
  DQ_EXPORT(exports, roll, 3);
  DQ_EXPORT(exports, meshgrid, 2);
  DQ_EXPORT(exports, cumsum, 2);
  DQ_EXPORT(exports, allclose, 4);
}

}  // namespace dq
