// The one crossing between the JS thread and SPDK's threads. Everything in the addon that has to
// run on an SPDK thread, or report back to JavaScript, goes through here; nothing else invents
// its own mechanism.
//
// JS -> SPDK (submission):
//   The JS thread builds a Request and calls Crossing::Submit(). Requests are appended to a
//   submission list under a mutex. Only the Submit() that finds the list empty sends a message
//   (spdk_thread_send_msg, which is safe from any thread) to the target spdk_thread; that message
//   drains the whole list and calls Request::Execute() for each, on the SPDK thread. While SPDK is
//   busy, further submissions ride along without another message: one doorbell, many requests.
//
// SPDK -> JS (completion):
//   Whatever SPDK thread finishes a request calls Crossing::Complete(). On the target thread
//   (nearly always) the request goes into a list only that thread touches, and the first one in
//   it sends that thread a message to flush the list: everything that completes before SPDK gets
//   to that message (a reactor handles messages in batches) crosses together. The flush appends
//   the list to the completion list under a mutex; only a flush (or a Complete() from another
//   thread) that finds no wake-up pending signals the JS thread's event loop (uv_async_send, after
//   letting go of the mutex), so the JS thread wakes once for however many completions arrived in
//   the meantime. There it calls Request::Deliver() for each inside one N-API callback scope, so
//   promise reactions (microtasks) run once per batch, after all of them are settled.
//
//   Why a libuv async handle and not an N-API threadsafe function: Node signals a threadsafe
//   function's loop while holding that function's mutex. When the JS thread shares the sender's
//   core (Node pinned beside SPDK's reactor), the woken JS thread runs at once, blocks on that
//   mutex, and the core bounces back and forth: measured three context switches per wake-up
//   instead of one, and NVMe/TCP QD 1 at 21 K instead of 34 K IOPS. uv_async_send takes no lock.
//   The handle is Node's own loop's (napi_get_uv_event_loop); libuv keeps its ABI across 1.x.
//
// Ownership: a Request is owned by the crossing from Submit() until Deliver() returns, then
// deleted on the JS thread (so it may hold N-API references, e.g. to keep a Buffer alive until
// its I/O is done). Memory SPDK touches is native: a request holds a DmaRef to a DMA Buffer's
// block (dma_block.h) or a bounce buffer filled and emptied on the JS thread (nvme.h Payload),
// never a pointer into a JS Buffer, which JS can detach or transfer while the request runs. Execute() must not block: it starts asynchronous SPDK work and arranges for
// Complete() to be called later (or calls it at once on failure). SPDK never calls into V8.
//
// I/O rings (ring.h): reads and writes, the hot path, use the same two primitives without a
// Request per I/O: Send() rings a ring's doorbell on the target thread, and Notify() carries one
// wake-up request to JS, so the JS thread still wakes once per batch through the same handle.
//
// Keep-alive: while any request is outstanding the handle is referenced, so Node does not exit
// with I/O in flight; when none is, it is unreferenced and an idle SPDK instance does not keep
// the process alive. The handle is closed on the JS thread (CloseWake) when the crossing is
// deleted or orphaned, after any wake-up being sent has been sent; none is sent after that.
#pragma once

#include <napi.h>
#include <uv.h>

#include <atomic>
#include <mutex>
#include <vector>

struct spdk_thread;

namespace spdk_node {

class Request {
 public:
  virtual ~Request() = default;
  // Set by Submit()/Expect(): JS is waiting for this one (it counts toward keep-alive).
  bool tracked = false;
  // On the SPDK thread the request was submitted to. Must end, now or later, in Complete().
  virtual void Execute() = 0;
  // On the JS thread, inside a callback scope: settle the promise / hand over the results.
  virtual void Deliver(Napi::Env env) = 0;
};

class Crossing {
 public:
  explicit Crossing(Napi::Env env);
  ~Crossing();
  Crossing(const Crossing&) = delete;
  Crossing& operator=(const Crossing&) = delete;

  // JS thread. The spdk_thread that runs every Execute() (SPDK's app thread).
  void SetTarget(spdk_thread* target) { target_ = target; }
  // JS thread. Queues `request` for the target thread; takes ownership.
  void Submit(Request* request);
  // JS thread. For a request that is not Submit()ted but will be Complete()d by some other
  // thread (SPDK start-up and shutdown): counts it as outstanding; takes ownership at Complete().
  void Expect(Request* request);
  // JS thread. Keep Node's event loop alive for work that completes as untracked requests (a
  // queue's I/O, delivered in batches): Hold() when it starts, Release() when it is done.
  void Hold();
  void Release();
  // Any SPDK thread. Hands a finished request back to the JS thread. A request that was neither
  // submitted nor expected (a notice, a batch of queue completions) is delivered all the same.
  void Complete(Request* request);
  // Any SPDK thread. Hands `request` to the JS thread at once (Complete() on the target thread
  // waits for its flush message): for wake-ups whose sender has already batched its work.
  void Notify(Request* request) {
    std::vector<Request*> one{request};
    Publish(one);
  }
  // JS thread. Runs fn(ctx) on the target thread (a ring's doorbell). Never fails: while SPDK's
  // message pool is exhausted it retries, giving the reactor time to drain it.
  void Send(void (*fn)(void*), void* ctx);
  // The target thread's host, after SPDK stopped: hand over completions whose flush message
  // SPDK did not get to.
  void FlushLocal() {
    std::vector<Request*> rest;
    rest.swap(local_completed_);
    if (!rest.empty()) Publish(rest);
  }
  // JS thread. Delivers whatever has completed, now (used before tearing down).
  void DrainCompletions();
  // JS thread, its environment being torn down while SPDK (started there) has not stopped: from
  // now on completions are dropped, and the wake-up handle, which goes with the environment's
  // loop, is closed. The crossing itself is never deleted then (SPDK's threads may still call it).
  void Orphan();

  size_t Outstanding() const { return outstanding_; }

 private:
  static void OnDoorbell(void* ctx);
  static void OnFlush(void* ctx);
  void Publish(std::vector<Request*>& requests);
  static void OnWake(uv_async_t* handle);
  void CloseWake();
  void Deliver(std::vector<Request*>& batch);

  napi_env env_;
  napi_async_context async_context_ = nullptr;
  napi_ref resource_ = nullptr;
  uv_async_t* wake_ = nullptr;  // JS thread's loop; closed by CloseWake(), freed by libuv
  std::mutex wake_mutex_;       // held while a wake-up is sent, so CloseWake() can wait it out
  bool wake_closed_ = false;    // guarded by wake_mutex_

  spdk_thread* target_ = nullptr;
  std::mutex submit_mutex_;
  std::vector<Request*> submitted_;

  std::vector<Request*> local_completed_;  // target thread only
  bool flush_pending_ = false;              // target thread only: an OnFlush message is queued

  std::mutex complete_mutex_;
  std::vector<Request*> completed_;
  bool wake_pending_ = false;  // guarded by complete_mutex_
  bool orphaned_ = false;      // guarded by complete_mutex_

  size_t outstanding_ = 0;  // JS thread only
};

}  // namespace spdk_node
