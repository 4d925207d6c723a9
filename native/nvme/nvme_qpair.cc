// See nvme.h. An I/O queue pair: allocation (asynchronous connect), its poller, failing,
// freeing, and the JavaScript class NativeNvmeQpair. The commands on it are nvme_io.cc.
#include <spdk/nvme.h>
#include <spdk/thread.h>

#include <algorithm>
#include <optional>

#include "addon_data.h"
#include "crossing.h"
#include "nvme/nvme.h"

namespace spdk_node {

// ---- QpairState ---------------------------------------------------------------------------

int QpairState::Connect(uint32_t queue_depth, uint32_t queue_requests, Request* alloc) {
  spdk_nvme_io_qpair_opts o;
  spdk_nvme_ctrlr_get_default_io_qpair_opts(ctrlr->ctrlr, &o, sizeof(o));
  if (queue_depth > 0) o.io_queue_size = queue_depth;
  o.io_queue_requests = std::max({o.io_queue_requests, o.io_queue_size, queue_requests});
  // Connect without waiting: the poller drives the connection (the target may be on this very
  // reactor), and reports when it is up. The queue pair goes into a poll group of its own
  // before it connects: SPDK reports disconnection through the group, and tears a grouped
  // queue pair down without polling a closed socket.
  o.async_mode = true;
  o.create_only = true;
  group_ = spdk_nvme_poll_group_create(this, nullptr);
  if (group_ == nullptr) return -ENOMEM;
  qpair = spdk_nvme_ctrlr_alloc_io_qpair(ctrlr->ctrlr, &o, sizeof(o));
  int rc = qpair == nullptr ? -EBUSY : spdk_nvme_poll_group_add(group_, qpair);
  if (rc == 0) rc = spdk_nvme_ctrlr_connect_io_qpair(ctrlr->ctrlr, qpair);
  if (rc != 0) {
    spdk_nvme_ctrlr_free_io_qpair(qpair);  // also takes it out of the group
    qpair = nullptr;
    spdk_nvme_poll_group_destroy(group_);
    group_ = nullptr;
    return rc;
  }
  depth = o.io_queue_size;
  id = spdk_nvme_qpair_get_id(qpair);
  connecting = true;
  pending_alloc = alloc;
  self_while_allocated_ = shared_from_this();
  ctrlr->qpairs.push_back(self_while_allocated_);
  poller_ = SPDK_POLLER_REGISTER(&QpairState::Poll, this, 0);
  return 0;
}

int QpairState::LossOf(const spdk_nvme_cpl* cpl) const {
  if (nvme::CompletionStatus::IsLossStandIn(cpl) &&
      (failed || !spdk_nvme_qpair_is_connected(qpair) || spdk_nvme_ctrlr_is_failed(ctrlr->ctrlr))) {
    return ctrlr->LostConnectionError();
  }
  return 0;
}

int QpairState::Unusable() const {
  if (closing || qpair == nullptr) return -EBADF;
  if (int why = ctrlr->Unusable()) return why;
  return failed ? -ENXIO : 0;
}

void QpairState::Kick() {
  if (paused_) {
    spdk_poller_resume(poller_);
    paused_ = false;
  }
}

void QpairState::Fail() {
  if (failed || qpair == nullptr) return;
  Kick();
  if (connecting) return;  // the poller sees the failure and ends the connect with it
  failed = true;
  spdk_nvme_ctrlr_disconnect_io_qpair(qpair);  // SPDK aborts what is outstanding, now
  while (!waiting.empty()) {
    WaitingIo* w = waiting.front();
    waiting.pop_front();
    w->Abandon(ctrlr->failed ? ctrlr->LostConnectionError() : -ENXIO);
  }
}

void QpairState::Shutdown(std::function<void()> done) {
  if (qpair == nullptr) {
    done();
    return;
  }
  // What JS submitted on the rings before it asked for this still runs (and completes) first.
  if (!closing) nvme::TakeRings(*this);
  on_released_.push_back(std::move(done));
  closing = true;
  Kick();  // the poller frees the queue pair once nothing is in flight
}

void QpairState::OnDisconnected(spdk_nvme_qpair*, void* ctx) { static_cast<QpairState*>(ctx)->disconnected_ = true; }

int QpairState::Poll(void* arg) {
  auto* self = static_cast<QpairState*>(arg);
  int64_t rc = spdk_nvme_poll_group_process_completions(self->group_, 0, &QpairState::OnDisconnected);
  bool lost = rc < 0 || self->disconnected_;
  if (self->connecting) {
    if (lost || self->closing) {
      self->ConnectEnded(lost ? -ECONNRESET : -ECANCELED);  // then freed as below
    } else if (spdk_nvme_qpair_is_connected(self->qpair)) {
      self->ConnectEnded(0);
    }
    return SPDK_POLLER_BUSY;
  }
  if (lost) self->Fail();
  while (!self->waiting.empty()) {
    WaitingIo* w = self->waiting.front();
    self->waiting.pop_front();
    if (!w->Retry()) {
      self->waiting.push_front(w);
      break;
    }
  }
  if (self->inflight == 0) {
    // Release and pause only here, outside SPDK's completion context.
    if (self->closing) {
      // Disconnect first and free once the group reports it disconnected (as bdev_nvme does):
      // freeing a connected asynchronous queue pair makes SPDK poll a closed socket.
      if (self->disconnected_) {
        self->Release();  // may release `self`
      } else if (!self->disconnect_requested_) {
        self->disconnect_requested_ = true;
        spdk_nvme_ctrlr_disconnect_io_qpair(self->qpair);
      }
      return SPDK_POLLER_BUSY;
    }
    spdk_poller_pause(self->poller_);
    self->paused_ = true;
  }
  return rc > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

void QpairState::ConnectEnded(int rc) {
  connecting = false;
  alloc_rc = rc;
  if (rc != 0) closing = true;
  Request* alloc = pending_alloc;
  pending_alloc = nullptr;
  runtime::Complete(alloc);
}

void QpairState::Release() {
  spdk_poller_unregister(&poller_);
  spdk_nvme_ctrlr_free_io_qpair(qpair);
  qpair = nullptr;
  spdk_nvme_poll_group_destroy(group_);
  group_ = nullptr;
  ctrlr->QpairReleased(this);
  std::vector<std::function<void()>> callbacks;
  callbacks.swap(on_released_);
  std::shared_ptr<QpairState> last = std::move(self_while_allocated_);  // may be the last reference
  for (auto& cb : callbacks) cb();
}

namespace {

// ---- allocating and freeing ---------------------------------------------------------------

class AllocRequest : public Request {
 public:
  AllocRequest(Napi::Env env, std::shared_ptr<CtrlrState> ctrlr, uint32_t depth, uint32_t requests)
      : deferred(Napi::Promise::Deferred::New(env)), ctrlr_(std::move(ctrlr)), depth_(depth), requests_(requests) {}

  void Execute() override {
    rc_ = ctrlr_->Unusable();
    if (rc_ == 0) {
      q_ = std::make_shared<QpairState>(ctrlr_);
      rc_ = q_->Connect(depth_, requests_, this);
    }
    if (rc_ != 0) runtime::Complete(this);
  }

  void Deliver(Napi::Env env) override {
    int rc = rc_ != 0 ? rc_ : q_->alloc_rc;
    if (rc != 0) {
      const char* why = rc == -EBADF        ? "the controller was detached; connect to it again"
                        : rc == -ENXIO      ? "the controller failed (its connection was lost); detach it and connect again"
                        : rc == -ETIMEDOUT  ? "the controller failed: a command got no answer in time; detach it and connect again"
                        : rc == -EBUSY      ? "the controller refused another I/O queue pair (free one you no longer use)"
                        : rc == -ECANCELED  ? "the controller was detached while the queue pair was connecting"
                                            : "the queue pair could not connect to the controller";
      deferred.Reject(MakeError(env, "ctrlr.allocIoQpair", rc, why));
      return;
    }
    auto* holder = new std::shared_ptr<QpairState>(q_);
    auto ext = Napi::External<std::shared_ptr<QpairState>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<QpairState>* p) { delete p; });
    deferred.Resolve(Data(env).nvme_qpair_constructor.New({ext}));
  }

  Napi::Promise::Deferred deferred;

 private:
  std::shared_ptr<CtrlrState> ctrlr_;
  uint32_t depth_;
  uint32_t requests_;
  std::shared_ptr<QpairState> q_;
  int rc_ = 0;
};

class FreeRequest : public Request {
 public:
  FreeRequest(Napi::Env env, std::shared_ptr<QpairState> q, bool settle) : q_(std::move(q)) {
    if (settle) deferred_.emplace(Napi::Promise::Deferred::New(env));
  }
  void Execute() override {
    q_->Shutdown([this] { runtime::Complete(this); });
  }
  void Deliver(Napi::Env env) override {
    if (deferred_) deferred_->Resolve(env.Undefined());
  }
  Napi::Promise Promise() { return deferred_->Promise(); }

 private:
  std::shared_ptr<QpairState> q_;
  std::optional<Napi::Promise::Deferred> deferred_;  // none for the finalizer's free
};

// ---- the JS class -------------------------------------------------------------------------

class NvmeQpair : public Napi::ObjectWrap<NvmeQpair> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeNvmeQpair",
                       {
                           InstanceMethod<&NvmeQpair::Io>("io"),
                           InstanceMethod<&NvmeQpair::Deallocate>("deallocate"),
                           InstanceMethod<&NvmeQpair::RingDevice>("ringDevice"),
                           InstanceMethod<&NvmeQpair::Free>("free"),
                       });
  }

  explicit NvmeQpair(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NvmeQpair>(info) {
    q_ = *info[0].As<Napi::External<std::shared_ptr<QpairState>>>().Data();
    Napi::Object self = info.This().As<Napi::Object>();
    self.Set("id", q_->id);
    self.Set("depth", q_->depth);
  }

  // Safety net only: a queue pair collected without free() is freed for the user.
  ~NvmeQpair() override {
    if (!freed_ && runtime::IsRunning()) runtime::Submit(Env(), new FreeRequest(Env(), q_, false));
  }

 private:
  void CheckUsable(Napi::Env env, const char* operation) {
    runtime::CheckRunning(env, operation);
    if (freed_) ThrowError(env, operation, EBADF, "the queue pair was freed; allocate another");
  }

  Napi::Value Io(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), nvme::IoOperationName(info[0].As<Napi::Number>().Int32Value()));
    return nvme::SubmitIo(info, q_);
  }

  Napi::Value RingDevice(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "ns.createQueue");
    return nvme::NewRingDevice(info, q_);
  }

  Napi::Value Deallocate(const Napi::CallbackInfo& info) {
    CheckUsable(info.Env(), "ns.deallocate");
    return nvme::SubmitDeallocate(info, q_);
  }

  Napi::Value Free(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (freed_ || !runtime::IsRunning()) {
      // Freeing twice, or after SPDK stopped (which freed everything), is a no-op.
      freed_ = true;
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(env.Undefined());
      return d.Promise();
    }
    freed_ = true;
    auto* req = new FreeRequest(env, q_, true);
    Napi::Promise promise = req->Promise();
    runtime::Submit(env, req);
    return promise;
  }

  std::shared_ptr<QpairState> q_;
  bool freed_ = false;  // JS thread view
};

}  // namespace

namespace nvme {

Napi::Function DefineQpairClass(Napi::Env env) { return NvmeQpair::Define(env); }

// (depth, requests): resolves with a connected NativeNvmeQpair.
Napi::Value AllocIoQpair(const Napi::CallbackInfo& info, const std::shared_ptr<CtrlrState>& st) {
  Napi::Env env = info.Env();
  auto* req = new AllocRequest(env, st, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value());
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

}  // namespace nvme

}  // namespace spdk_node
