// The SPDK application inside Node: spdk_app_start() runs on a thread of its own (its reactor
// is SPDK's app thread), started and stopped from JavaScript. SPDK is a process-wide singleton
// (DPDK's EAL initialises once per process), so this is too; it belongs to the JS environment
// that started it.
//
// Threads:
//   JS thread   - calls Start/Stop/Submit; receives completions through the Crossing.
//   launcher    - one std::thread for the life of the process: it runs spdk_app_start() (blocked
//                 there while SPDK runs, as SPDK's main reactor), then spdk_app_fini(), then waits
//                 for the next start. DPDK makes the thread that first initialised it its main
//                 lcore, so a restart must run on that same thread.
//   app thread  - SPDK's app spdk_thread on the first core of the mask; every Request::Execute().
#pragma once

#include <napi.h>

#include <functional>

struct spdk_thread;

namespace spdk_node {

class Crossing;
class Request;

// Something JS opened in SPDK (a bdev descriptor, an NVMe controller) that must be closed before
// SPDK stops. Registered and shut down on the app thread.
class AppResource {
 public:
  virtual ~AppResource() = default;
  // App thread. Finish outstanding work, release the SPDK resource, then call `done` (once).
  virtual void Shutdown(std::function<void()> done) = 0;
};

namespace runtime {

void Init(Napi::Env env, Napi::Object exports);

// JS thread: is SPDK running and owned by this environment? Throws an SpdkError if not.
void CheckRunning(Napi::Env env, const char* operation);
bool IsRunning();
// JS thread: submit work to SPDK's app thread (see crossing.h).
void Submit(Napi::Env env, Request* request);
// Any SPDK thread: hand a finished request back to JS.
void Complete(Request* request);
// Any SPDK thread: hand a wake-up to JS now (see Crossing::Notify).
void Wake(Request* request);

// App thread: resources to shut down when SPDK stops.
void Register(AppResource* resource);
void Unregister(AppResource* resource);

// JS thread: run `fn` on the app thread and wait for it (bounded). For short, non-blocking
// queries whose JS API is synchronous (listing bdevs). Throws ETIMEDOUT if SPDK does not answer.
// After a timeout `fn` may still run, later: it must own (capture by value, e.g. a shared_ptr)
// everything it touches, never a reference into the caller's stack frame. The bound is 5 s, or
// SPDK_NODE_SYNC_CALL_TIMEOUT_MS milliseconds from the environment.
void RunOnAppThreadSync(Napi::Env env, const char* operation, std::function<void()> fn);

}  // namespace runtime
}  // namespace spdk_node
