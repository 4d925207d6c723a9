// NVMe controllers and their I/O queue pairs, driven by SPDK's NVMe driver (lib/nvme) from
// SPDK's app thread. Nothing here waits: connecting, allocating a queue pair and detaching are
// state machines that SPDK advances when it is polled, so each is driven by an spdk_poller on the
// app thread, and a target in this same process (same reactor) gets its turn in between.
//
//   CtrlrState  one attached spdk_nvme_ctrlr. Its admin poller (every 1 ms) reaps admin
//               completions and sends keep-alives; when the admin queue fails, the controller
//               is failed and every queue pair with it. Shutdown (detach, SPDK stopping, the
//               finalizer) frees its queue pairs, waits for its admin commands, then
//               spdk_nvme_detach_async + spdk_nvme_detach_poll_async from a poller.
//   QpairState  one I/O queue pair of a controller, in an spdk_nvme_poll_group of its own,
//               connected asynchronously (async_mode). Its poller runs every reactor iteration
//               while it has commands in flight and pauses when idle. When the transport fails
//               (the group reports the queue pair disconnected, or the controller failed) it is
//               disconnected, which makes SPDK abort what is outstanding; those commands fail
//               with ENXIO, not with the NVMe status SPDK invents for them. Reads, writes and
//               compares come through I/O rings on it (nvme_ring.cc, ring.h); the other NVM
//               commands are Requests (nvme_io.cc). The same poller reaps both.
//
// Threads: every SPDK field is touched on the app thread only (Request::Execute, pollers, SPDK
// callbacks). JS objects hold shared_ptrs to these states and read only the fields documented
// as fixed. Every JS -> SPDK call is a Request through the crossing (crossing.h).
#pragma once

#include <napi.h>
#include <spdk/nvme.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dma_block.h"
#include "runtime.h"

struct spdk_poller;

namespace spdk_node {

namespace ring {
class RingState;
}
class QpairState;
class Request;

class CtrlrState : public AppResource, public std::enable_shared_from_this<CtrlrState> {
 public:
  // Fixed once attached; the JS thread reads them only after the attach was delivered.
  spdk_nvme_transport_id trid{};
  std::vector<uint8_t> cdata;  // identify controller data (4096 bytes) as of the attach
  uint32_t max_xfer_size = 0;
  uint32_t max_queue_depth = 0;  // CAP.MQES + 1
  bool fabrics = false;
  uint64_t command_timeout_us = 0;  // set before Attached(); 0: commands never time out
  std::string origin;               // set before Attached(): "nvme.connect()" or "nvme.probe()", for messages
  std::string hostnqn;              // the host NQN it was attached as (SPDK's default filled in)

  // App thread only.
  spdk_nvme_ctrlr* ctrlr = nullptr;
  std::vector<std::shared_ptr<QpairState>> qpairs;
  uint64_t admin_inflight = 0;
  bool failed = false;     // the admin queue failed: nothing more can be sent; detach it
  bool timed_out = false;  // a command outstanding too long made us fail it
  bool detaching = false;  // detach requested; no new commands or queue pairs
  bool removed = false;    // the PCIe device was hot-removed (SPDK failed the controller)

  // App thread. Takes over an attached controller: polls it, registers it with the runtime
  // (unless `register_with_runtime` is false: SPDK is already stopping).
  void Attached(spdk_nvme_ctrlr* attached, bool register_with_runtime);
  // App thread. Frees the queue pairs, waits for admin commands, detaches; `done` when detached.
  void Shutdown(std::function<void()> done) override;
  // App thread. 0 if commands can be sent now, else -EBADF (detached), -ENXIO (failed) or
  // -ETIMEDOUT (failed because a command timed out).
  int Unusable() const;
  // App thread. The error for a command SPDK aborted because the connection went away.
  int LostConnectionError() const { return timed_out ? -ETIMEDOUT : -ENXIO; }
  // App thread. SPDK's remove callback: the PCIe device of `ctrlr` was hot-removed.
  static void OnRemoved(void* arg, spdk_nvme_ctrlr* ctrlr);
  // App thread. A queue pair of this controller let go of its spdk_nvme_qpair.
  void QpairReleased(QpairState* q);

 private:
  static int AdminPoll(void* arg);
  static int DetachPoll(void* arg);
  static void OnTimeout(void* arg, spdk_nvme_ctrlr* ctrlr, spdk_nvme_qpair* qpair, uint16_t cid);
  void Fail();
  void StartDetach();
  void Release();
  spdk_poller* poller_ = nullptr;
  spdk_nvme_detach_ctx* detach_ctx_ = nullptr;
  std::vector<std::function<void()>> on_detached_;
  std::shared_ptr<CtrlrState> self_while_attached_;
};

// A command that found no free SPDK request (ENOMEM) and waits for a completion to free one.
class WaitingIo {
 public:
  virtual ~WaitingIo() = default;
  // App thread. Submit again; false if there is still no free request (it stays queued).
  virtual bool Retry() = 0;
  // App thread. Give up with `rc` (the queue pair failed or is being freed).
  virtual void Abandon(int rc) = 0;
};

class QpairState : public AppResource, public std::enable_shared_from_this<QpairState> {
 public:
  explicit QpairState(std::shared_ptr<CtrlrState> owner) : ctrlr(std::move(owner)) {}

  const std::shared_ptr<CtrlrState> ctrlr;
  // Fixed once connected.
  uint32_t depth = 0;
  uint16_t id = 0;

  // App thread only.
  spdk_nvme_qpair* qpair = nullptr;
  uint64_t inflight = 0;
  bool connecting = false;
  bool failed = false;   // the transport failed; outstanding commands were aborted
  bool closing = false;  // free requested; no new commands
  Request* pending_alloc = nullptr;     // completed when connecting ends
  int alloc_rc = 0;                     // how connecting ended
  std::deque<WaitingIo*> waiting;         // counted in `inflight` too
  std::vector<std::weak_ptr<ring::RingState>> rings;  // the I/O rings on this queue pair

  // App thread. Allocates and starts connecting; `alloc` is completed when that ends.
  int Connect(uint32_t queue_depth, uint32_t queue_requests, Request* alloc);
  // App thread. Waits for commands in flight, then frees the queue pair; `done` when freed.
  void Shutdown(std::function<void()> done) override;
  // App thread. 0 if commands can be submitted now, else a negative errno saying why not.
  int Unusable() const;
  // App thread. A command was submitted: make sure the poller runs.
  void Kick();
  // App thread. Disconnect after a transport failure (SPDK aborts what is outstanding).
  void Fail();
  // App thread. For a failed completion: the errno of a lost connection (ENXIO, or ETIMEDOUT
  // when a timeout failed the controller) if that is what it means, else 0 (the controller
  // answered with this status).
  int LossOf(const spdk_nvme_cpl* cpl) const;

 private:
  static int Poll(void* arg);
  static void OnDisconnected(spdk_nvme_qpair* qpair, void* ctx);
  void ConnectEnded(int rc);
  void Release();
  spdk_nvme_poll_group* group_ = nullptr;  // this queue pair's alone
  spdk_poller* poller_ = nullptr;
  bool paused_ = false;
  bool disconnected_ = false;  // the poll group said so
  bool disconnect_requested_ = false;
  std::vector<std::function<void()>> on_released_;
  std::shared_ptr<QpairState> self_while_allocated_;
};

namespace nvme {
void Init(Napi::Env env, Napi::Object exports);

// Admin completions, keep-alives, connect and detach progress: 1 ms is what bdev_nvme uses for
// connecting, and plenty for keep-alives of a few seconds.
constexpr uint64_t kAdminPollUs = 1000;
// How often the kernel's uevents are read while PCIe controllers are held (bdev_nvme's hotplug period).
constexpr uint64_t kHotplugPollUs = 100000;

// App thread. Hot removal of held PCIe controllers (nvme_hotplug.cc); fabrics trids are ignored.
void WatchForRemoval(const spdk_nvme_transport_id& trid, spdk_nvme_ctrlr* ctrlr);
void StopWatching(spdk_nvme_ctrlr* ctrlr);

// Each file's part of the JS surface. The CallbackInfo arguments are documented where defined;
// the TypeScript layer (src/nvme) checked them.
void InitCtrlr(Napi::Env env, Napi::Object exports);                                    // nvme_ctrlr.cc
Napi::Value NewController(Napi::Env env, const std::shared_ptr<CtrlrState>& st);
// App thread. The attached state (this process's NvmeController) of an SPDK controller, or of a
// transport ID and host NQN; nullptr when there is none.
CtrlrState* FindAttached(spdk_nvme_ctrlr* ctrlr);
CtrlrState* FindAttached(const spdk_nvme_transport_id& trid, const char* hostnqn);
// App thread. Every attached state, oldest first.
std::vector<CtrlrState*> AllAttached();
Napi::Value Connect(const Napi::CallbackInfo& info);                                   // nvme_attach.cc
Napi::Value Probe(const Napi::CallbackInfo& info);
Napi::Value List(const Napi::CallbackInfo& info);
Napi::Value TransportAvailable(const Napi::CallbackInfo& info);
Napi::Value AdminRaw(const Napi::CallbackInfo& info, const std::shared_ptr<CtrlrState>& st);  // nvme_admin.cc
Napi::Value GetLogPage(const Napi::CallbackInfo& info, const std::shared_ptr<CtrlrState>& st);
Napi::Function DefineQpairClass(Napi::Env env);                                        // nvme_qpair.cc
Napi::Value AllocIoQpair(const Napi::CallbackInfo& info, const std::shared_ptr<CtrlrState>& st);
const char* IoOperationName(int kind);                                                 // nvme_io.cc
Napi::Value SubmitIo(const Napi::CallbackInfo& info, const std::shared_ptr<QpairState>& q);
Napi::Value SubmitDeallocate(const Napi::CallbackInfo& info, const std::shared_ptr<QpairState>& q);
Napi::Value NewRingDevice(const Napi::CallbackInfo& info, const std::shared_ptr<QpairState>& q);  // nvme_ring.cc
void TakeRings(QpairState& q);

// NVMe needs dword alignment; a page keeps PCIe PRP lists short.
constexpr size_t kBounceAlign = 4096;

// A Buffer of `length` bytes at `data` for a command's payload: used in place if it is DMA
// memory, else bounced (app thread; see dma.h). Shared by admin and I/O commands.
// What a failed completion said, kept until it is delivered as an NvmeError.
struct CompletionStatus {
  bool failed = false;
  int sct = 0;
  int sc = 0;
  bool dnr = false;
  // SPDK completes the commands outstanding on a queue that went away with one of these statuses
  // itself (SQ deletion for a lost fabrics connection; "aborted by request" when the PCIe
  // transport aborts its trackers, as after a hot removal): when the queue did go away, it is a
  // lost connection, not something the controller said.
  static bool IsLossStandIn(const spdk_nvme_cpl* cpl) {
    return cpl->status.sct == SPDK_NVME_SCT_GENERIC &&
           (cpl->status.sc == SPDK_NVME_SC_ABORTED_SQ_DELETION || cpl->status.sc == SPDK_NVME_SC_ABORTED_BY_REQUEST);
  }
  // Records the controller's status; returns the errno the request settles with.
  int Record(const spdk_nvme_cpl* cpl) {
    failed = true;
    sct = cpl->status.sct;
    sc = cpl->status.sc;
    dnr = cpl->status.dnr;
    return -EIO;
  }
};

// A command's data. SPDK only ever touches memory native code owns: a DMA Buffer's block (held
// until the command is delivered) or a bounce buffer. An ordinary Buffer is copied on the JS
// thread, into the bounce at submission and out of it at delivery, after checking that the
// Buffer still has its memory (JS may detach, transfer or shrink it meanwhile).
struct Payload {
  size_t length = 0;
  DmaRef block;           // a DMA Buffer's memory
  void* memory = nullptr;  // what SPDK reads or writes: within `block`, or `bounce`
  void* bounce = nullptr;
  ~Payload();
  // JS thread: the Buffer's memory if it is DMA memory, else a bounce buffer, filled from the
  // Buffer now if `to_device`. False when no DMA memory is left for the bounce.
  bool Take(Napi::Value buffer, bool to_device);
  // JS thread, at delivery: copy the bounce back into `buffer` when `from_device` and the command
  // succeeded. False when the Buffer no longer holds `length` bytes (its data has nowhere to go).
  bool Settle(Napi::Value buffer, bool from_device, bool success);
};
}  // namespace nvme

}  // namespace spdk_node
