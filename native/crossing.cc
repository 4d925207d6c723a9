// See crossing.h for the mechanism and its rules.
#include "crossing.h"

#include <spdk/thread.h>

#include <cassert>
#include <cstdio>
#include <thread>

namespace spdk_node {

Crossing::Crossing(Napi::Env env) : env_(env) {
  Napi::Object resource = Napi::Object::New(env);
  Napi::String name = Napi::String::New(env, "spdk-node:completions");
  napi_create_reference(env_, resource, 1, &resource_);
  napi_async_init(env_, resource, name, &async_context_);
  uv_loop_t* loop = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env_, napi_get_uv_event_loop(env_, &loop));
  wake_ = new uv_async_t;
  if (uv_async_init(loop, wake_, &Crossing::OnWake) != 0) {
    delete wake_;
    wake_ = nullptr;
    NAPI_THROW_VOID(Napi::Error::New(env, "spdk-node: could not create the completion wake-up (uv_async_init)"));
  }
  wake_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(wake_));
}

Crossing::~Crossing() {
  CloseWake();
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
  if (resource_ != nullptr) napi_delete_reference(env_, resource_);
  // Requests still listed belong to an SPDK instance that is gone; their promises can no longer
  // be settled (the environment is being torn down), so only their memory is reclaimed.
  for (Request* r : submitted_) delete r;
  for (Request* r : completed_) delete r;
}

void Crossing::CloseWake() {
  {
    // Waits for a wake-up being sent; none is sent after this.
    std::lock_guard<std::mutex> lock(wake_mutex_);
    if (wake_closed_) return;
    wake_closed_ = true;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(wake_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  wake_ = nullptr;
}

void Crossing::Hold() {
  if (outstanding_++ == 0 && wake_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(wake_));
}

void Crossing::Release() {
  if (--outstanding_ == 0 && wake_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(wake_));
}

void Crossing::Expect(Request* request) {
  request->tracked = true;
  Hold();
}

void Crossing::Submit(Request* request) {
  assert(target_ != nullptr);
  Expect(request);
  bool ring;
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    ring = submitted_.empty();
    submitted_.push_back(request);
  }
  if (ring) Send(&Crossing::OnDoorbell, this);
}

void Crossing::Send(void (*fn)(void*), void* ctx) {
  assert(target_ != nullptr);
  // Fails only when SPDK's message pool is exhausted; a doorbell must not be lost, so retry.
  // Each retry gives the reactor time to drain (the pool refills as messages are handled).
  while (spdk_thread_send_msg(target_, fn, ctx) != 0) std::this_thread::yield();
}

void Crossing::OnDoorbell(void* ctx) {
  auto* self = static_cast<Crossing*>(ctx);
  std::vector<Request*> batch;
  {
    std::lock_guard<std::mutex> lock(self->submit_mutex_);
    batch.swap(self->submitted_);
  }
  for (Request* r : batch) r->Execute();
}

// Completions handed over early, without waiting for the flush message: SPDK defers most
// completions as messages and handles a few per poll iteration, so the flush message can sit
// behind a whole queue's worth. Handing over every few keeps JS refilling the queue while SPDK
// is still completing the rest, instead of the two taking turns.
constexpr size_t kHandOverEvery = 16;

void Crossing::Complete(Request* request) {
  if (target_ != nullptr && spdk_get_thread() == target_) {
    local_completed_.push_back(request);
    if (local_completed_.size() >= kHandOverEvery) {
      // The queued flush message later takes whatever completes after this.
      std::vector<Request*> now;
      now.swap(local_completed_);
      Publish(now);
      return;
    }
    if (flush_pending_) return;
    if (spdk_thread_send_msg(target_, &Crossing::OnFlush, this) == 0) {
      flush_pending_ = true;
      return;
    }
    // No message could be sent (message pool exhausted): hand it over now instead.
    std::vector<Request*> now;
    now.swap(local_completed_);
    Publish(now);
    return;
  }
  std::vector<Request*> one{request};
  Publish(one);
}

void Crossing::OnFlush(void* ctx) {
  auto* self = static_cast<Crossing*>(ctx);
  self->flush_pending_ = false;
  std::vector<Request*> batch;
  batch.swap(self->local_completed_);
  self->Publish(batch);
}

void Crossing::Publish(std::vector<Request*>& requests) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(complete_mutex_);
    if (orphaned_) {
      // The JS environment is gone: these can be neither delivered nor deleted (their N-API
      // references belong to that environment), so they are dropped.
      requests.clear();
      return;
    }
    completed_.insert(completed_.end(), requests.begin(), requests.end());
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  // Outside complete_mutex_: the JS thread, woken on this thread's core, runs at once and takes
  // that mutex first thing (see "SPDK -> JS" in crossing.h).
  if (wake) {
    std::lock_guard<std::mutex> lock(wake_mutex_);  // only CloseWake() ever waits on it
    if (!wake_closed_) uv_async_send(wake_);
  }
}

void Crossing::Orphan() {
  {
    std::lock_guard<std::mutex> lock(complete_mutex_);
    orphaned_ = true;
  }
  CloseWake();
}

void Crossing::OnWake(uv_async_t* handle) { static_cast<Crossing*>(handle->data)->DrainCompletions(); }

void Crossing::DrainCompletions() {
  std::vector<Request*> batch;
  {
    std::lock_guard<std::mutex> lock(complete_mutex_);
    batch.swap(completed_);
    wake_pending_ = false;
  }
  if (!batch.empty()) Deliver(batch);
}

void Crossing::Deliver(std::vector<Request*>& batch) {
  Napi::Env env(env_);
  Napi::HandleScope handle_scope(env);
  napi_value resource;
  napi_get_reference_value(env_, resource_, &resource);
  napi_callback_scope scope;
  napi_open_callback_scope(env_, resource, async_context_, &scope);
  for (Request* r : batch) {
    try {
      r->Deliver(env);
    } catch (const Napi::Error& e) {
      // A delivery that throws (out of memory creating a result) must not stop the others.
      fprintf(stderr, "spdk-node: failed to deliver a completion: %s\n", e.what());
    }
    if (r->tracked) Release();
    delete r;
  }
  // Closing the outermost callback scope runs the microtask queue: the batch's promise
  // reactions run here, once.
  napi_close_callback_scope(env_, scope);
}

}  // namespace spdk_node
