// See dma_block.h.
#include "dma_block.h"

#include <spdk/env.h>

#include <mutex>

namespace spdk_node {
namespace {
// Guards the generation against a free racing the environment's end: a block is freed only
// while the mutex is held and its environment is the current one.
std::mutex g_env_mutex;
uint64_t g_generation = 0;  // guarded by g_env_mutex
}  // namespace

std::shared_ptr<DmaBlock> DmaBlock::Allocate(size_t size, size_t align) {
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(g_env_mutex);
    generation = g_generation;
  }
  void* p = spdk_dma_zmalloc(size, align, nullptr);
  if (p == nullptr) return nullptr;
  return std::shared_ptr<DmaBlock>(new DmaBlock(static_cast<uint8_t*>(p), size, generation));
}

DmaBlock::~DmaBlock() {
  std::lock_guard<std::mutex> lock(g_env_mutex);
  if (generation_ == g_generation) spdk_dma_free(data_);
}

void DmaBlock::EnvironmentGone() {
  std::lock_guard<std::mutex> lock(g_env_mutex);
  g_generation++;
}

}  // namespace spdk_node
