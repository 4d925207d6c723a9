// See dma.h.
#include "dma.h"

#include <spdk/env.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#include "addon_data.h"
#include "runtime.h"

namespace spdk_node::dma {
namespace {

// A block with a JS view. JS thread only.
struct Entry {
  std::weak_ptr<DmaBlock> block;
  napi_ref view;  // weak: the ArrayBuffer may be collected (or transferred; see dma.h)
};

// Keyed by start address. An entry lives from the view's creation until its finalizer runs (or
// SPDK stops): the view's reference keeps the block, so the address is not reused meanwhile.
std::map<uintptr_t, Entry> g_blocks;
// The block Find() found last: I/O tends to reuse the same few buffers. Empty when 0, 0;
// reset whenever a block goes away.
uintptr_t g_last_start = 0;
uintptr_t g_last_end = 0;
std::weak_ptr<DmaBlock> g_last;

// Views moved to an ArrayBuffer DetachAll() could not reach: (start, length). Written by the JS
// thread before SPDK stops, read by the launcher after.
std::mutex g_escaped_mutex;
std::vector<std::pair<uintptr_t, size_t>>& g_escaped = *new std::vector<std::pair<uintptr_t, size_t>>;  // never destroyed

// The JS view's reference, released by its finalizer.
struct ViewHold {
  DmaRef block;
};

void Finalize(napi_env env, void* data, void* hint) {
  std::unique_ptr<ViewHold> hold(static_cast<ViewHold*>(hint));
  auto it = g_blocks.find(reinterpret_cast<uintptr_t>(data));
  if (it != g_blocks.end() && it->second.block.lock() == hold->block) {
    napi_delete_reference(env, it->second.view);
    g_blocks.erase(it);
    g_last_start = g_last_end = 0;
    g_last.reset();
  }
  // `hold` goes: the memory is freed now unless a ring or an I/O still holds it.
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  runtime::CheckRunning(env, "Spdk.allocBuffer");
  size_t size = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  size_t align = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  return NewArrayBuffer(env, "Spdk.allocBuffer", size, align);
}

// dmaAddress(arrayBuffer): where a live DMA block starts, or 0. Lets the TypeScript layer name
// the memory of an I/O on it without a call per I/O (the ring checks it with Find()).
Napi::Value Address(const Napi::CallbackInfo& info) {
  double address = 0;
  if (info[0].IsArrayBuffer()) {
    auto ab = info[0].As<Napi::ArrayBuffer>();
    if (ab.ByteLength() > 0 && Find(ab.Data(), ab.ByteLength()) != nullptr) {
      address = static_cast<double>(reinterpret_cast<uintptr_t>(ab.Data()));
    }
  }
  return Napi::Number::New(info.Env(), address);
}

}  // namespace

Napi::ArrayBuffer NewArrayBuffer(Napi::Env env, const char* operation, size_t size, size_t align, DmaRef* block) {
  DmaRef b = DmaBlock::Allocate(size, align);
  if (b == nullptr) {
    ThrowError(env, operation, ENOMEM,
               "no DMA memory left for " + std::to_string(size) + " bytes; start SPDK with a larger memSizeMb, "
               "reserve more hugepages, or free buffers you no longer use");
  }
  auto* hold = new ViewHold{b};
  napi_value ab;
  napi_status status = napi_create_external_arraybuffer(env, b->data(), size, &Finalize, hold, &ab);
  if (status != napi_ok) {
    delete hold;
    NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());
  }
  napi_ref ref;
  napi_create_reference(env, ab, 0, &ref);
  g_blocks[reinterpret_cast<uintptr_t>(b->data())] = Entry{b, ref};
  if (block != nullptr) *block = std::move(b);
  return Napi::ArrayBuffer(env, ab);
}

DmaRef Find(const void* p, size_t length) {
  auto addr = reinterpret_cast<uintptr_t>(p);
  if (g_last_end != 0 && addr >= g_last_start && addr + length <= g_last_end) {
    if (DmaRef b = g_last.lock()) return b;
  }
  auto it = g_blocks.upper_bound(addr);
  if (it == g_blocks.begin()) return nullptr;
  --it;
  DmaRef b = it->second.block.lock();
  if (b == nullptr || !b->Contains(p, length)) return nullptr;
  g_last_start = it->first;
  g_last_end = it->first + b->length();
  g_last = b;
  return b;
}

void DetachAll(Napi::Env env) {
  std::vector<std::pair<uintptr_t, size_t>> escaped;
  for (auto& [addr, entry] : g_blocks) {
    napi_value ab = nullptr;
    bool detached = false;
    if (napi_get_reference_value(env, entry.view, &ab) == napi_ok && ab != nullptr) {
      napi_is_detached_arraybuffer(env, ab, &detached);
      if (!detached) napi_detach_arraybuffer(env, ab);
    }
    // The view is gone or detached, yet its finalizer has not run: the memory was moved to an
    // ArrayBuffer this registry never saw.
    if (ab == nullptr || detached) {
      if (DmaRef b = entry.block.lock()) escaped.emplace_back(addr, b->length());
    }
    napi_delete_reference(env, entry.view);
  }
  g_blocks.clear();
  g_last_start = g_last_end = 0;
  g_last.reset();
  std::lock_guard<std::mutex> lock(g_escaped_mutex);
  g_escaped.insert(g_escaped.end(), escaped.begin(), escaped.end());
}

void CoverEscapedViews() {
  std::vector<std::pair<uintptr_t, size_t>> escaped;
  {
    std::lock_guard<std::mutex> lock(g_escaped_mutex);
    escaped.swap(g_escaped);
  }
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (auto [addr, length] : escaped) {
    uintptr_t start = addr & ~(page - 1);
    uintptr_t end = (addr + length + page - 1) & ~(page - 1);
    // Where the environment unmapped its memory, nothing else must have taken its place
    // (NOREPLACE); where it is still mapped (DPDK leaves anonymous memory mapped), it is the
    // finished environment's and is replaced. This runs right after spdk_env_fini(), on the
    // thread that ran it.
    void* p = mmap(reinterpret_cast<void*>(start), end - start, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED && errno == EEXIST) {
      p = mmap(reinterpret_cast<void*>(start), end - start, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0);
    }
    if (p == MAP_FAILED || p != reinterpret_cast<void*>(start)) {
      if (p != MAP_FAILED) munmap(p, end - start);
      fprintf(stderr, "spdk-node: a DMA buffer transferred to another ArrayBuffer outlived SPDK and could not be "
                      "covered (%s); do not use it\n", strerror(errno));
    }
  }
}

namespace {
// Size classes 4 KiB << k, k < kClasses (4 KiB .. 1 MiB); larger buffers are not kept.
constexpr size_t kMinBounce = 4096;
constexpr int kClasses = 9;
constexpr size_t kKeepPerClass = 256;
// Any thread takes and returns bounces; SPDK's environment must be up for either.
std::mutex g_bounce_mutex;
// Never destroyed: an app thread still running at exit (a shutdown that gave up) may free a bounce.
std::vector<void*>* const g_free_bounces = new std::vector<void*>[kClasses];  // guarded by g_bounce_mutex
bool g_bounces_open = false;                  // guarded by g_bounce_mutex: the environment is up

int SizeClass(size_t length) {
  size_t size = kMinBounce;
  for (int k = 0; k < kClasses; k++, size <<= 1) {
    if (length <= size) return k;
  }
  return -1;
}
}  // namespace

void* AllocBounce(size_t length, size_t align) {
  std::lock_guard<std::mutex> lock(g_bounce_mutex);
  if (!g_bounces_open) return nullptr;
  int k = SizeClass(length);
  if (k < 0 || align > kMinBounce) return spdk_dma_malloc(length, align, nullptr);
  if (!g_free_bounces[k].empty()) {
    void* p = g_free_bounces[k].back();
    g_free_bounces[k].pop_back();
    return p;
  }
  return spdk_dma_malloc(kMinBounce << k, kMinBounce, nullptr);
}

void FreeBounce(void* p, size_t length, size_t align) {
  std::lock_guard<std::mutex> lock(g_bounce_mutex);
  if (!g_bounces_open) return;  // its memory went with the environment
  int k = SizeClass(length);
  // Only what AllocBounce() took at a class's full size is filed under that class: a block
  // allocated at its exact size (larger alignment) would be handed to a larger I/O later.
  if (k >= 0 && align <= kMinBounce && g_free_bounces[k].size() < kKeepPerClass) {
    g_free_bounces[k].push_back(p);
    return;
  }
  spdk_dma_free(p);
}

void OpenBounces() {
  std::lock_guard<std::mutex> lock(g_bounce_mutex);
  g_bounces_open = true;
}

void ForgetBounces() {
  std::lock_guard<std::mutex> lock(g_bounce_mutex);
  for (int k = 0; k < kClasses; k++) g_free_bounces[k].clear();
  g_bounces_open = false;
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("allocDma", Napi::Function::New(env, Alloc, "allocDma"));
  exports.Set("dmaAddress", Napi::Function::New(env, Address, "dmaAddress"));
}

}  // namespace spdk_node::dma
