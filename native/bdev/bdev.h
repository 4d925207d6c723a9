// An open bdev: an SPDK descriptor and I/O channel on the app thread, wrapped for JavaScript.
//
// BdevState lives on the app thread (descriptor, channel, in-flight count, closing); the JS
// object (Bdev) holds a shared_ptr to it and never touches its SPDK fields. Reads and writes go
// through I/O rings on it (ring.h); flush, unmap, write-zeroes and reset are Requests through the
// crossing.
#pragma once

#include <napi.h>
#include <spdk/bdev.h>
#include <spdk/thread.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime.h"

namespace spdk_node {

// Something that queues I/O for the bdev on its own (an I/O ring, ring.h): I/O JS submitted
// there is in flight as far as JS knows, even before the app thread has taken it.
class BdevIoSource {
 public:
  virtual ~BdevIoSource() = default;
  // App thread: start everything submitted so far.
  virtual void TakeAll() = 0;
};

class BdevState : public AppResource, public std::enable_shared_from_this<BdevState> {
 public:
  // Fixed at open, readable from any thread afterwards.
  std::string name;
  bool writable = false;
  uint32_t block_size = 0;
  uint64_t num_blocks = 0;
  size_t buf_align = 1;

  // App thread only.
  spdk_bdev_desc* desc = nullptr;
  spdk_io_channel* channel = nullptr;
  uint64_t inflight = 0;
  bool closing = false;
  bool removed = false;

  // App thread. Close once in-flight I/O has drained; `done` runs when the descriptor is closed.
  // I/O submitted to a source (a queue) before this is taken first: it completes, not EBADF.
  // I/O a device never completes (it stopped answering) would hold the close, and stop(),
  // forever: kCloseGraceUs after the close, I/O still in flight is aborted by one reset of the
  // bdev (spdk_bdev_reset: the bdev module aborts what it holds; bdev_nvme resets the
  // controller), and fails with ECANCELED or the device's abort status. (Bdev.close() and
  // IoQueue.close() in JS do the same for the I/O they wait for: src/io/close-grace.ts.)
  static constexpr uint64_t kCloseGraceUs = 5'000'000;  // CLOSE_GRACE_MS in src/io/close-grace.ts
  void Shutdown(std::function<void()> done) override;
  // App thread: a source of I/O on this bdev (kept while it lives).
  void AddSource(std::weak_ptr<BdevIoSource> source);
  // App thread. 0 while I/O can be submitted; otherwise the errno it fails with (ENODEV once the
  // bdev was removed, EBADF once closed).
  int Unavailable() const {
    if (desc != nullptr && !closing) return 0;
    return removed ? -ENODEV : -EBADF;
  }
  // App thread. Called by each I/O completion.
  void IoFinished();
  // App thread, once open: SPDK's callbacks point at this object until it is released.
  void HoldWhileOpen() { self_while_open_ = shared_from_this(); }

 private:
  void Release();
  static int OnCloseOverdue(void* ctx);
  spdk_poller* close_timer_ = nullptr;  // app thread: armed while a close waits for I/O
  std::vector<std::function<void()>> on_closed_;
  std::vector<std::weak_ptr<BdevIoSource>> sources_;
  std::shared_ptr<BdevState> self_while_open_;  // keeps this alive while SPDK holds the descriptor
};

namespace bdev {
void Init(Napi::Env env, Napi::Object exports);
// App thread, in a failed I/O's completion: how it failed, in the bdev's own terms. An NVMe
// bdev's command status is returned as sct << 8 | sc (positive); any other failure as a negative
// errno (EIO for a plain failure, the aio bdev's own errno, ECANCELED for an abort, EILSEQ for a
// miscompare), never as a made-up NVMe status.
int32_t FailureOf(spdk_bdev_io* io);
// JS thread: the state of an open native bdev object (for queues on it). Throws if `v` is not
// one, or is closed.
std::shared_ptr<BdevState> StateOf(Napi::Value v);
}

}  // namespace spdk_node
