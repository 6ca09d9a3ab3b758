// The tensor handle, argument conversions, creation, data in and out, and runtime settings
// (threads, seed, devices).
#include <dlfcn.h>
#include <atomic>
#include <cstring>

#include "common.h"

namespace dq {

static std::atomic<int64_t> g_live{0};
int64_t Live() { return g_live.load(); }

Napi::Function TensorHandle::Init(Napi::Env env) { return DefineClass(env, "TensorHandle", {}); }

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  g_live++;
}

TensorHandle::~TensorHandle() {
  if (!freed) g_live--;
}

Napi::Object Wrap(Napi::Env env, at::Tensor t) {
  auto obj = env.GetInstanceData<AddonData>()->tensorCtor.New({});
  TensorHandle::Unwrap(obj)->tensor = std::move(t);
  return obj;
}

bool IsTensor(const Napi::Value& v) {
  if (!v.IsObject()) return false;
  auto ctor = v.Env().GetInstanceData<AddonData>()->tensorCtor.Value();
  return v.As<Napi::Object>().InstanceOf(ctor);
}

at::Tensor& Unwrap(const Napi::Value& v, const char* what) {
  if (!IsTensor(v)) throw Napi::TypeError::New(v.Env(), std::string("expected a tensor handle for ") + what);
  auto* h = TensorHandle::Unwrap(v.As<Napi::Object>());
  if (h->freed) throw Napi::Error::New(v.Env(), std::string("use of a disposed tensor (") + what + ")");
  return h->tensor;
}

c10::optional<at::Tensor> OptTensor(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return Unwrap(v);
}

std::vector<at::Tensor> TensorList(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(Unwrap(arr.Get(i)));
  return out;
}

Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); i++) arr.Set(i, Wrap(env, ts[i]));
  return arr;
}

std::vector<int64_t> IntList(const Napi::Value& v) {
  if (v.IsNumber()) return {v.As<Napi::Number>().Int64Value()};
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "expected an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) out[i] = arr.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

at::ScalarType DType(const Napi::Value& v) {
  std::string s = v.As<Napi::String>();
  if (s == "float32") return at::kFloat;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  if (s == "float16") return at::kHalf;
  throw Napi::TypeError::New(v.Env(), "unknown dtype '" + s + "' (float32, float64, int64, int32, uint8, bool)");
}

const char* DTypeName(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kHalf: return "float16";
    default: return "other";
  }
}

c10::Device DeviceOf(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::Device(c10::kCPU);
  return c10::Device(std::string(v.As<Napi::String>()));
}

at::Scalar ToScalar(const Napi::Value& v) {
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) return at::Scalar(v.As<Napi::Number>().DoubleValue());
  throw Napi::TypeError::New(v.Env(), "expected a number");
}

c10::optional<double> OptDouble(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return v.As<Napi::Number>().DoubleValue();
}

int64_t Reduction(const Napi::Value& v) {
  std::string s = v.IsString() ? std::string(v.As<Napi::String>()) : std::string("mean");
  if (s == "mean") return at::Reduction::Mean;
  if (s == "sum") return at::Reduction::Sum;
  if (s == "none") return at::Reduction::None;
  throw Napi::TypeError::New(v.Env(), "reduction must be 'mean', 'sum' or 'none'");
}

void CheckArity(const Napi::CallbackInfo& info, const char* name, size_t arity) {
  if (info.Length() != arity)
    throw Napi::TypeError::New(info.Env(), std::string("daqyolo_torch.") + name + " takes " + std::to_string(arity) + " argument" +
                                               (arity == 1 ? "" : "s") + ", got " + std::to_string(info.Length()));
}

static at::TensorOptions Options(const Napi::CallbackInfo& info, size_t dtypeArg, size_t deviceArg) {
  auto o = at::TensorOptions().dtype(info[dtypeArg].IsString() ? DType(info[dtypeArg]) : at::kFloat);
  return o.device(DeviceOf(info[deviceArg]));
}

// --- lifetime ----------------------------------------------------------------------------------
DQ_FN(free) {
  auto* h = TensorHandle::Unwrap(info[0].As<Napi::Object>());
  if (!h->freed) {
    h->tensor = at::Tensor();
    h->freed = true;
    g_live--;
  }
  return info.Env().Undefined();
}
DQ_FN(liveTensors) { return Napi::Number::New(info.Env(), static_cast<double>(Live())); }

// --- creation ----------------------------------------------------------------------------------
// fromBuffer(typedArray, shape, dtype, device): copies the bytes (JS keeps its array).
DQ_FN(fromBuffer) {
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = IntList(info[1]);
  auto dtype = DType(info[2]);
  auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t bytes = t.numel() * t.element_size();
  if (bytes != ta.ByteLength())
    throw Napi::RangeError::New(info.Env(), "buffer holds " + std::to_string(ta.ByteLength()) + " bytes, shape and dtype need " + std::to_string(bytes));
  auto ab = ta.ArrayBuffer();
  std::memcpy(t.data_ptr(), static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset(), bytes);
  auto dev = DeviceOf(info[3]);
  return Wrap(info.Env(), dev.is_cpu() ? t : t.to(dev));
}

DQ_FN(full) {
  return Wrap(info.Env(), at::full(IntList(info[0]), ToScalar(info[1]), Options(info, 2, 3)));
}
DQ_FN(empty) { return Wrap(info.Env(), at::empty(IntList(info[0]), Options(info, 1, 2))); }
DQ_FN(arange) {
  return Wrap(info.Env(), at::arange(ToScalar(info[0]), ToScalar(info[1]), ToScalar(info[2]), Options(info, 3, 4)));
}
DQ_FN(linspace) {
  return Wrap(info.Env(), at::linspace(ToScalar(info[0]), ToScalar(info[1]), info[2].As<Napi::Number>().Int64Value(), Options(info, 3, 4)));
}
DQ_FN(rand) { return Wrap(info.Env(), at::rand(IntList(info[0]), Options(info, 1, 2))); }
DQ_FN(randn) { return Wrap(info.Env(), at::randn(IntList(info[0]), Options(info, 1, 2))); }
DQ_FN(randint) {
  return Wrap(info.Env(), at::randint(info[0].As<Napi::Number>().Int64Value(), info[1].As<Napi::Number>().Int64Value(),
                                      IntList(info[2]), Options(info, 3, 4)));
}
DQ_FN(randperm) {
  return Wrap(info.Env(), at::randperm(info[0].As<Napi::Number>().Int64Value(), at::TensorOptions().dtype(at::kLong)));
}

// --- information -----------------------------------------------------------------------------
DQ_FN(shape) {
  auto& t = Unwrap(info[0]);
  auto arr = Napi::Array::New(info.Env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) arr.Set(i, Napi::Number::New(info.Env(), static_cast<double>(t.size(i))));
  return arr;
}
DQ_FN(dtype) { return Napi::String::New(info.Env(), DTypeName(Unwrap(info[0]).scalar_type())); }
DQ_FN(device) { return Napi::String::New(info.Env(), Unwrap(info[0]).device().str()); }
DQ_FN(isContiguous) {
  auto& t = Unwrap(info[0]);
  bool cl = info[1].IsString() && std::string(info[1].As<Napi::String>()) == "channels_last";
  return Napi::Boolean::New(info.Env(), t.is_contiguous(cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
}

// toBuffer(t): a fresh ArrayBuffer with the tensor's elements in row-major order (copied to CPU).
DQ_FN(toBuffer) {
  auto t = Unwrap(info[0]).detach().to(at::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  auto ab = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes) std::memcpy(ab.Data(), t.data_ptr(), bytes);
  return ab;
}
DQ_FN(item) {
  auto& t = Unwrap(info[0]);
  if (t.numel() != 1) throw Napi::Error::New(info.Env(), "item() needs a tensor with one element, got " + std::to_string(t.numel()));
  return Napi::Number::New(info.Env(), t.item<double>());
}

// --- runtime settings ------------------------------------------------------------------------
DQ_FN(manualSeed) {
  at::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}
// OpenBLAS, which Debian's libtorch calls for its GEMMs, keeps its own pthreads pool (one thread
// per core) that at::set_num_threads does not size: with 1 libtorch thread a sparse inference
// batch still used 2.5× its wall time in CPU (157 against 62 ms with OPENBLAS_NUM_THREADS=1,
// `bench infer --isolated-radius 1`), the idle pool thread spinning, and each rank of
// `train --nproc N` ran a BLAS thread per core. Its setter, found in the already loaded library
// (the addon's dependencies are not in the global symbol scope); null where the BLAS is another.
using BlasThreadsFn = void (*)(int);
using BlasGetThreadsFn = int (*)();
template <typename Fn>
static Fn OpenBlasSymbol(const char* name) {
  for (const char* lib : {"libopenblas.so.0", "libblas.so.3", "libopenblas.so"}) {
    if (void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {
      void* f = dlsym(h, name);
      dlclose(h);
      if (f) return reinterpret_cast<Fn>(f);
    }
  }
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

DQ_FN(setNumThreads) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  at::set_num_threads(n);
  static const BlasThreadsFn setBlas = OpenBlasSymbol<BlasThreadsFn>("openblas_set_num_threads");
  if (setBlas) setBlas(n);
  return info.Env().Undefined();
}
DQ_FN(getNumThreads) { return Napi::Number::New(info.Env(), at::get_num_threads()); }
// OpenBLAS's thread count, or −1 where the BLAS is not OpenBLAS.
DQ_FN(getBlasThreads) {
  static const BlasGetThreadsFn getBlas = OpenBlasSymbol<BlasGetThreadsFn>("openblas_get_num_threads");
  return Napi::Number::New(info.Env(), getBlas ? getBlas() : -1);
}
DQ_FN(cudaAvailable) { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); }
DQ_FN(cudaDeviceCount) { return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count())); }
DQ_FN(configInfo) { return Napi::String::New(info.Env(), at::show_config() + at::get_parallel_info()); }

void InitTensor(Napi::Env env, Napi::Object exports) {
  DQ_EXPORT(exports, free, 1);
  DQ_EXPORT(exports, liveTensors, 0);
  DQ_EXPORT(exports, fromBuffer, 4);
  DQ_EXPORT(exports, full, 4);
  DQ_EXPORT(exports, empty, 3);
  DQ_EXPORT(exports, arange, 5);
  DQ_EXPORT(exports, linspace, 5);
  DQ_EXPORT(exports, rand, 3);
  DQ_EXPORT(exports, randn, 3);
  DQ_EXPORT(exports, randint, 5);
  DQ_EXPORT(exports, randperm, 1);
  DQ_EXPORT(exports, shape, 1);
  DQ_EXPORT(exports, dtype, 1);
  DQ_EXPORT(exports, device, 1);
  DQ_EXPORT(exports, isContiguous, 2);
  DQ_EXPORT(exports, toBuffer, 1);
  DQ_EXPORT(exports, item, 1);
  DQ_EXPORT(exports, manualSeed, 1);
  DQ_EXPORT(exports, setNumThreads, 1);
  DQ_EXPORT(exports, getNumThreads, 0);
  DQ_EXPORT(exports, getBlasThreads, 0);
  DQ_EXPORT(exports, cudaAvailable, 0);
  DQ_EXPORT(exports, cudaDeviceCount, 0);
  DQ_EXPORT(exports, configInfo, 0);
}

}  // namespace dq
