// Module entry: registers every group of functions of the libtorch addon.
#include "common.h"

namespace dq {

// Declared here, not in common.h, so that the process-group file builds on its own.
void InitDist(Napi::Env env, Napi::Object exports);
void InitSparse(Napi::Env env, Napi::Object exports);  // sparse.cc (declared here so common.h, and every file, need not rebuild)

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  data->tensorCtor = Napi::Persistent(TensorHandle::Init(env));
  InitAlloc(env, exports);  // first: every tensor after this uses the caching allocator
  InitTensor(env, exports);
  InitOps(env, exports);
  InitNN(env, exports);
  InitAutograd(env, exports);
  InitOptim(env, exports);
  InitDist(env, exports);
  InitSparse(env, exports);
  return exports;
}

}  // namespace dq

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return dq::Init(env, exports); }
NODE_API_MODULE(daqyolo_torch, InitAddon)
