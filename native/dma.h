// DMA-safe memory handed to JavaScript as ArrayBuffers, for zero-copy I/O.
//
// Ownership (see dma_block.h): the memory is a DmaBlock, owned by native code and freed when its
// last reference goes. The ArrayBuffer JS gets holds one reference, dropped by its finalizer; a
// ring holds one for its slot memory; every I/O in flight on a block holds one. So a JS view that
// is detached, transferred (ArrayBuffer.prototype.transfer(), a BYOB stream read) or collected
// never frees memory SPDK is still reading or writing.
//
// A registry on the JS thread remembers every block that has a JS view, so that an I/O can tell
// whether the Buffer it was given is DMA memory (use it directly, holding a reference) or ordinary
// memory (bounce it through a DMA copy). The memory belongs to SPDK's environment, which goes
// away when SPDK stops: before that every block's ArrayBuffer is detached, so JS sees a
// zero-length buffer instead of touching freed memory. A view JS moved to a new ArrayBuffer
// (transfer) cannot be reached to detach; its memory is replaced with zeroed anonymous memory once
// the environment is gone (CoverEscapedViews), so it reads zeros and writes nowhere that matters.
#pragma once

#include <napi.h>

#include <cstddef>

#include "dma_block.h"

namespace spdk_node::dma {

void Init(Napi::Env env, Napi::Object exports);
// JS thread, SPDK running: zeroed DMA memory as a registered ArrayBuffer (see above). Throws an
// SpdkError ENOMEM, naming `operation`, when there is none left. `block`, if given, receives a
// reference to the memory (a ring keeps its slot memory so).
Napi::ArrayBuffer NewArrayBuffer(Napi::Env env, const char* operation, size_t size, size_t align,
                                 DmaRef* block = nullptr);
// JS thread: the live DMA block [p, p + length) lies within, or null. An I/O on it holds the
// returned reference until it completes.
DmaRef Find(const void* p, size_t length);
// JS thread: detach every block's ArrayBuffer and forget the blocks (SPDK is stopping). Views
// that were transferred to another ArrayBuffer are remembered for CoverEscapedViews().
void DetachAll(Napi::Env env);
// The launcher, after spdk_env_fini(): map zeroed memory where escaped views point (see above).
void CoverEscapedViews();

// Bounce buffers for I/O on ordinary memory, filled and emptied on the JS thread (ring.h,
// nvme.h). Any thread: freed buffers are kept in per-size free lists (an rte_malloc per I/O costs
// more than the I/O). The launcher opens the cache before SPDK starts and forgets it when SPDK's
// environment goes away; bounces freed after that are not freed (their memory went with it).
// FreeBounce() takes the length and alignment the buffer was allocated with.
void* AllocBounce(size_t length, size_t align);
void FreeBounce(void* p, size_t length, size_t align);
void OpenBounces();
void ForgetBounces();

}  // namespace spdk_node::dma
