// A block of DMA-safe memory (spdk_dma_malloc) owned by native code.
//
// Ownership rule: whoever may still touch a block's memory holds a reference (a DmaRef):
//   - the JavaScript ArrayBuffer made over it (dma.h), released by its finalizer;
//   - an I/O ring, for the slot memory its queue reads and writes (ring.h);
//   - each I/O in flight on it (a ring slot, an NVMe command's Payload), until it completes.
// The memory is freed when the last reference goes, on whatever thread that is. So detaching or
// transferring a JS view (ArrayBuffer.prototype.transfer(), a BYOB stream read, postMessage), or
// collecting the view, never frees memory an I/O or a ring still uses.
//
// The memory belongs to SPDK's environment: once that is gone (spdk_env_fini), a block still
// referenced is not freed, its memory went with the environment (EnvironmentGone()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace spdk_node {

class DmaBlock {
 public:
  // Any thread, SPDK's environment up: zeroed memory, or null when there is none left.
  static std::shared_ptr<DmaBlock> Allocate(size_t size, size_t align);
  ~DmaBlock();
  DmaBlock(const DmaBlock&) = delete;
  DmaBlock& operator=(const DmaBlock&) = delete;

  uint8_t* data() const { return data_; }
  size_t length() const { return length_; }
  bool Contains(const void* p, size_t length) const {
    auto a = reinterpret_cast<uintptr_t>(p);
    auto start = reinterpret_cast<uintptr_t>(data_);
    return a >= start && length <= length_ && a - start <= length_ - length;
  }

  // The launcher, before spdk_env_fini(): blocks of this environment are never freed after it.
  static void EnvironmentGone();

 private:
  DmaBlock(uint8_t* data, size_t length, uint64_t generation) : data_(data), length_(length), generation_(generation) {}
  uint8_t* data_;
  size_t length_;
  uint64_t generation_;  // the environment the memory came from
};

using DmaRef = std::shared_ptr<DmaBlock>;

}  // namespace spdk_node
