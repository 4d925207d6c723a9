// DMA-safe memory (spdk_dma_malloc) handed to JavaScript as ArrayBuffers, for zero-copy I/O.
//
// A registry on the JS thread remembers every live block, so that an I/O can tell whether the
// Buffer it was given is DMA-safe (use it directly) or ordinary memory (bounce through a DMA
// copy). The memory belongs to SPDK's environment, which goes away when SPDK stops: before that
// happens every block's ArrayBuffer is detached, so JS sees a zero-length buffer instead of
// touching freed memory.
#pragma once

#include <napi.h>

#include <cstddef>

namespace spdk_node::dma {

void Init(Napi::Env env, Napi::Object exports);
// JS thread, SPDK running: zeroed DMA memory as a registered ArrayBuffer (see above). Throws an
// SpdkError ENOMEM, naming `operation`, when there is none left.
Napi::ArrayBuffer NewArrayBuffer(Napi::Env env, const char* operation, size_t size, size_t align);
// JS thread: does [p, p + length) lie within one live DMA block?
bool Contains(const void* p, size_t length);
// JS thread: detach every block's ArrayBuffer and forget the blocks (SPDK is stopping).
void DetachAll(Napi::Env env);

// Bounce buffers for I/O on ordinary memory. App thread only: freed buffers are kept in
// per-size free lists there (an rte_malloc per I/O costs more than the I/O), and dropped with
// ForgetBounces() when SPDK's environment goes away.
void* AllocBounce(size_t length, size_t align);
void FreeBounce(void* p, size_t length);
void ForgetBounces();

}  // namespace spdk_node::dma
