// A caching CPU allocator for tensor storage, installed in place of libtorch's default.
//
// Why: libtorch's default CPU allocator is glibc malloc. In a Node process the small, long-lived
// native objects behind JS tensor handles (freed only when V8 collects them) land between the
// multi-megabyte activation buffers in glibc's heap, so freed activations cannot be coalesced
// and every training step grows the heap: measured +12 MB/step at 128 px and +70 MB/step at
// 320 px for YOLOv3 (width 0.25, batch 8), with fresh page faults on every step. Python does not
// see this because its small objects live in pymalloc arenas. Forcing glibc to mmap large blocks
// keeps memory flat but costs a page fault per 4 KiB every step (+50 % time per step).
//
// So blocks ≥ 16 KiB come from mmap and, when freed, go to a best-fit free list instead
// of back to the kernel: a training step asks for the same sizes every time, so after the first
// step every request is served from the cache with its pages already resident. This is the
// scheme of PyTorch's CUDA caching allocator, minus block splitting. Cached free bytes are
// bounded (DAQYOLO_CPU_CACHE_MB, default 2048): a miss that would pass the bound first returns
// every cached block to the kernel. Small blocks use libtorch's own alloc_cpu (64-byte aligned).
// DAQYOLO_CPU_ALLOCATOR=system keeps libtorch's default allocator.
#include <sys/mman.h>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

#include "common.h"

namespace dq {
namespace {

// Tensor buffers from 16 KiB up are cached: below that, glibc's bins reuse freed chunks well;
// above it, buffers interleaved with the handles' small objects fragment the heap (measured).
constexpr size_t kLarge = 16 * 1024;
constexpr size_t kPage = 4096, kGranule = 64 * 1024;
// Page granules for blocks under 1 MiB (less waste), 64 KiB granules above (fewer distinct sizes).
inline size_t RoundUp(size_t n) {
  size_t g = n < (1u << 20) ? kPage : kGranule;
  return (n + g - 1) / g * g;
}

struct Pool {
  std::mutex mu;
  std::unordered_map<void*, size_t> live;  // large blocks in use → their size
  std::multimap<size_t, void*> free;       // cached large blocks by size
  size_t freeBytes = 0, liveBytes = 0, mappedBytes = 0, peakLiveBytes = 0;
  size_t cap = 2048ull << 20;
  uint64_t hits = 0, misses = 0;

  void ReleaseFreeLocked() {
    for (auto& [sz, p] : free) munmap(p, sz);
    mappedBytes -= freeBytes;
    free.clear();
    freeBytes = 0;
  }
};

Pool& ThePool() {
  static Pool* pool = new Pool();  // never destroyed: tensors may be freed during process exit
  return *pool;
}

void Delete(void* p) {
  if (p == nullptr) return;
  auto& pool = ThePool();
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    auto it = pool.live.find(p);
    if (it != pool.live.end()) {
      size_t sz = it->second;
      pool.live.erase(it);
      pool.liveBytes -= sz;
      pool.free.emplace(sz, p);
      pool.freeBytes += sz;
      return;
    }
  }
  c10::free_cpu(p);
}

class CachingCPUAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) const override {
    void* p = n < kLarge ? c10::alloc_cpu(n) : Large(n);
    return {p, p, &Delete, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }

 private:
  static void* Large(size_t n) {
    size_t want = RoundUp(n);
    auto& pool = ThePool();
    std::lock_guard<std::mutex> lock(pool.mu);
    // Best fit, but never waste more than a quarter of a block on a smaller request.
    auto it = pool.free.lower_bound(want);
    if (it != pool.free.end() && it->first <= want + want / 4) {
      size_t sz = it->first;
      void* p = it->second;
      pool.free.erase(it);
      pool.freeBytes -= sz;
      pool.live.emplace(p, sz);
      pool.liveBytes += sz;
      pool.peakLiveBytes = std::max(pool.peakLiveBytes, pool.liveBytes);
      pool.hits++;
      return p;
    }
    pool.misses++;
    if (pool.freeBytes + want > pool.cap) pool.ReleaseFreeLocked();
    void* p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      pool.ReleaseFreeLocked();  // one retry with the cache given back
      p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) TORCH_CHECK(false, "CPU out of memory: cannot map ", want, " bytes");
    }
    pool.mappedBytes += want;
    pool.live.emplace(p, want);
    pool.liveBytes += want;
    pool.peakLiveBytes = std::max(pool.peakLiveBytes, pool.liveBytes);
    return p;
  }
};

CachingCPUAllocator g_alloc;
bool g_installed = false;

}  // namespace

// cpuAllocatorStats() → {enabled, liveBytes, peakLiveBytes, cachedBytes, mappedBytes, hits, misses} of large blocks.
DQ_FN(cpuAllocatorStats) {
  auto env = info.Env();
  auto& pool = ThePool();
  std::lock_guard<std::mutex> lock(pool.mu);
  auto o = Napi::Object::New(env);
  o.Set("enabled", Napi::Boolean::New(env, g_installed));
  o.Set("liveBytes", Napi::Number::New(env, static_cast<double>(pool.liveBytes)));
  o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(pool.freeBytes)));
  o.Set("mappedBytes", Napi::Number::New(env, static_cast<double>(pool.mappedBytes)));
  o.Set("peakLiveBytes", Napi::Number::New(env, static_cast<double>(pool.peakLiveBytes)));
  o.Set("hits", Napi::Number::New(env, static_cast<double>(pool.hits)));
  o.Set("misses", Napi::Number::New(env, static_cast<double>(pool.misses)));
  return o;
}
// emptyCache(): returns every cached free block to the kernel (as torch.cuda.empty_cache).
DQ_FN(emptyCache) {
  auto& pool = ThePool();
  std::lock_guard<std::mutex> lock(pool.mu);
  pool.ReleaseFreeLocked();
  return info.Env().Undefined();
}

void InitAlloc(Napi::Env env, Napi::Object exports) {
  const char* which = std::getenv("DAQYOLO_CPU_ALLOCATOR");
  if (!(which && std::string(which) == "system") && !g_installed) {
    if (const char* mb = std::getenv("DAQYOLO_CPU_CACHE_MB")) ThePool().cap = static_cast<size_t>(std::atoll(mb)) << 20;
    c10::SetCPUAllocator(&g_alloc, /*priority=*/1);
    g_installed = true;
  }
  DQ_EXPORT(exports, cpuAllocatorStats, 0);
  DQ_EXPORT(exports, emptyCache, 0);
}

}  // namespace dq
