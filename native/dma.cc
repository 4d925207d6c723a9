// See dma.h.
#include "dma.h"

#include <spdk/env.h>

#include <cstdint>
#include <map>
#include <vector>

#include "addon_data.h"
#include "runtime.h"

namespace spdk_node::dma {
namespace {

struct Block {
  size_t length;
  napi_ref buffer;  // weak: the ArrayBuffer may be collected, its finalizer frees the block
};

// JS thread only. Keyed by start address.
std::map<uintptr_t, Block> g_blocks;
// Bumped when SPDK's environment goes away: finalizers of older blocks must not free them.
uint64_t g_generation = 0;
// The block Contains() found last: I/O tends to reuse the same few buffers. Empty when 0, 0;
// reset whenever a block goes away.
uintptr_t g_last_start = 0;
uintptr_t g_last_end = 0;

struct FinalizeHint {
  uint64_t generation;
};

void Finalize(napi_env env, void* data, void* hint) {
  auto* h = static_cast<FinalizeHint*>(hint);
  if (h->generation == g_generation) {
    auto it = g_blocks.find(reinterpret_cast<uintptr_t>(data));
    if (it != g_blocks.end()) {
      napi_delete_reference(env, it->second.buffer);
      g_blocks.erase(it);
      g_last_start = g_last_end = 0;
    }
    spdk_dma_free(data);
  }
  delete h;
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  runtime::CheckRunning(env, "Spdk.allocBuffer");
  size_t size = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  size_t align = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  return NewArrayBuffer(env, "Spdk.allocBuffer", size, align);
}

// dmaAddress(arrayBuffer): where a live DMA block starts, or 0. Lets the TypeScript layer name
// the memory of an I/O on it without a call per I/O (the ring checks it with Contains()).
Napi::Value Address(const Napi::CallbackInfo& info) {
  double address = 0;
  if (info[0].IsArrayBuffer()) {
    auto ab = info[0].As<Napi::ArrayBuffer>();
    if (ab.ByteLength() > 0 && Contains(ab.Data(), ab.ByteLength())) address = static_cast<double>(reinterpret_cast<uintptr_t>(ab.Data()));
  }
  return Napi::Number::New(info.Env(), address);
}

}  // namespace

Napi::ArrayBuffer NewArrayBuffer(Napi::Env env, const char* operation, size_t size, size_t align) {
  void* p = spdk_dma_zmalloc(size, align, nullptr);
  if (p == nullptr) {
    ThrowError(env, operation, ENOMEM,
               "no DMA memory left for " + std::to_string(size) + " bytes; start SPDK with a larger memSizeMb, "
               "reserve more hugepages, or free buffers you no longer use");
  }
  auto* hint = new FinalizeHint{g_generation};
  napi_value ab;
  napi_status status = napi_create_external_arraybuffer(env, p, size, &Finalize, hint, &ab);
  if (status != napi_ok) {
    delete hint;
    spdk_dma_free(p);
    NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());
  }
  napi_ref ref;
  napi_create_reference(env, ab, 0, &ref);
  g_blocks[reinterpret_cast<uintptr_t>(p)] = Block{size, ref};
  return Napi::ArrayBuffer(env, ab);
}

bool Contains(const void* p, size_t length) {
  auto addr = reinterpret_cast<uintptr_t>(p);
  if (g_last_end != 0 && addr >= g_last_start && addr + length <= g_last_end) return true;
  auto it = g_blocks.upper_bound(addr);
  if (it == g_blocks.begin()) return false;
  --it;
  if (addr < it->first || addr + length > it->first + it->second.length) return false;
  g_last_start = it->first;
  g_last_end = it->first + it->second.length;
  return true;
}

void DetachAll(Napi::Env env) {
  for (auto& [addr, block] : g_blocks) {
    napi_value ab;
    if (napi_get_reference_value(env, block.buffer, &ab) == napi_ok && ab != nullptr) {
      napi_detach_arraybuffer(env, ab);
    }
    napi_delete_reference(env, block.buffer);
  }
  g_blocks.clear();
  g_last_start = g_last_end = 0;
  g_generation++;
}

namespace {
// Size classes 4 KiB << k, k < kClasses (4 KiB .. 1 MiB); larger buffers are not kept.
constexpr size_t kMinBounce = 4096;
constexpr int kClasses = 9;
constexpr size_t kKeepPerClass = 256;
std::vector<void*> g_free_bounces[kClasses];

int SizeClass(size_t length) {
  size_t size = kMinBounce;
  for (int k = 0; k < kClasses; k++, size <<= 1) {
    if (length <= size) return k;
  }
  return -1;
}
}  // namespace

void* AllocBounce(size_t length, size_t align) {
  int k = SizeClass(length);
  if (k < 0 || align > kMinBounce) return spdk_dma_malloc(length, align, nullptr);
  if (!g_free_bounces[k].empty()) {
    void* p = g_free_bounces[k].back();
    g_free_bounces[k].pop_back();
    return p;
  }
  return spdk_dma_malloc(kMinBounce << k, kMinBounce, nullptr);
}

void FreeBounce(void* p, size_t length) {
  int k = SizeClass(length);
  if (k >= 0 && g_free_bounces[k].size() < kKeepPerClass) {
    g_free_bounces[k].push_back(p);
    return;
  }
  spdk_dma_free(p);
}

void ForgetBounces() {
  for (auto& list : g_free_bounces) list.clear();
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("allocDma", Napi::Function::New(env, Alloc, "allocDma"));
  exports.Set("dmaAddress", Napi::Function::New(env, Address, "dmaAddress"));
}

}  // namespace spdk_node::dma
