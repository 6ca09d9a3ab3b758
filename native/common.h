// Shared helpers of the libtorch addon: the tensor handle, argument conversion, and the
// exception guard that turns libtorch errors into JavaScript Errors (never a crash).
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace dq {

// A JavaScript object that owns one at::Tensor reference. `free` drops the reference at once
// (deterministic memory); the destructor drops it when the JS object is collected otherwise.
class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;
  at::Tensor tensor;
  bool freed = false;
};

// Per-addon-instance data: the constructor used to create handles.
struct AddonData {
  Napi::FunctionReference tensorCtor;
};

Napi::Object Wrap(Napi::Env env, at::Tensor t);
at::Tensor& Unwrap(const Napi::Value& v, const char* what = "tensor");
bool IsTensor(const Napi::Value& v);
c10::optional<at::Tensor> OptTensor(const Napi::Value& v);
std::vector<at::Tensor> TensorList(const Napi::Value& v);
Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& ts);

std::vector<int64_t> IntList(const Napi::Value& v);
at::ScalarType DType(const Napi::Value& v);
const char* DTypeName(at::ScalarType s);
c10::Device DeviceOf(const Napi::Value& v);
// A number or a boolean becomes a Scalar; a tensor stays a tensor (see ScalarOrTensor users).
at::Scalar ToScalar(const Napi::Value& v);
c10::optional<double> OptDouble(const Napi::Value& v);
// Reduction names shared by the loss functions.
int64_t Reduction(const Napi::Value& v);

int64_t Live();  // number of live tensor handles (for memory tests)

// Runs fn, converting c10 / std exceptions into a JavaScript Error carrying libtorch's message.
template <typename F>
Napi::Value Guard(const Napi::CallbackInfo& info, F&& fn) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// Refuses a call with another number of arguments than the function reads (every function
// reads its arguments by position): "daqyolo_torch.conv2d takes 7 arguments, got 6".
void CheckArity(const Napi::CallbackInfo& info, const char* name, size_t arity);

#define DQ_FN(name) static Napi::Value name(const Napi::CallbackInfo& info)
// One line per exported function: its name and how many arguments it takes. The count is also
// set on the function as `arity`, which src/torch/native.ts checks against src/torch/native-api.ts
// at load (a function missing from either side, or declared with another count, stops there).
#define DQ_EXPORT(exports, name, arity)                                                                              \
  do {                                                                                                                \
    auto fn = Napi::Function::New(                                                                                    \
        env,                                                                                                          \
        [](const Napi::CallbackInfo& info) {                                                                          \
          return Guard(info, [&] {                                                                                    \
            CheckArity(info, #name, arity);                                                                           \
            return name(info);                                                                                        \
          });                                                                                                         \
        },                                                                                                            \
        #name);                                                                                                       \
    fn.Set("arity", Napi::Number::New(env, arity));                                                                   \
    exports.Set(#name, fn);                                                                                           \
  } while (0)

void InitTensor(Napi::Env env, Napi::Object exports);
void InitOps(Napi::Env env, Napi::Object exports);
void InitNN(Napi::Env env, Napi::Object exports);
void InitAutograd(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitAlloc(Napi::Env env, Napi::Object exports);

}  // namespace dq
