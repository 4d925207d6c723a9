// See nvme.h. A controller: its admin poller, failing, detaching, its namespaces, and the
// JavaScript class NativeNvmeController. Attaching is nvme_attach.cc.
#include <spdk/nvme.h>
#include <spdk/thread.h>
#include <spdk/uuid.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <optional>

#include "addon_data.h"
#include "crossing.h"
#include "nvme/nvme.h"

namespace spdk_node {

// ---- CtrlrState ---------------------------------------------------------------------------

namespace {
// App thread only. Every attached state by its SPDK controller. Attaching refuses a controller
// that already has one (EBUSY, see nvme_attach.cc), so there is one state per controller; the
// multimap keeps working if that ever changes.
std::multimap<spdk_nvme_ctrlr*, CtrlrState*> g_attached;
}  // namespace

namespace nvme {
CtrlrState* FindAttached(spdk_nvme_ctrlr* ctrlr) {
  auto it = g_attached.find(ctrlr);
  return it == g_attached.end() ? nullptr : it->second;
}

CtrlrState* FindAttached(const spdk_nvme_transport_id& trid, const char* hostnqn) {
  for (auto& [ctrlr, st] : g_attached) {
    if (spdk_nvme_transport_id_compare(&st->trid, &trid) != 0) continue;
    // A fabrics controller is per host: another host NQN is another controller (as SPDK sees it).
    if (trid.trtype != SPDK_NVME_TRANSPORT_PCIE && hostnqn != nullptr && st->hostnqn != hostnqn) continue;
    return st;
  }
  return nullptr;
}

std::vector<CtrlrState*> AllAttached() {
  std::vector<CtrlrState*> all;
  for (auto& [ctrlr, st] : g_attached) all.push_back(st);
  return all;
}
}  // namespace nvme

void CtrlrState::Attached(spdk_nvme_ctrlr* attached, bool register_with_runtime) {
  ctrlr = attached;
  const spdk_nvme_ctrlr_data* data = spdk_nvme_ctrlr_get_data(attached);
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  cdata.assign(bytes, bytes + sizeof(*data));
  max_xfer_size = spdk_nvme_ctrlr_get_max_xfer_size(attached);
  max_queue_depth = spdk_nvme_ctrlr_get_regs_cap(attached).bits.mqes + 1u;
  trid = *spdk_nvme_ctrlr_get_transport_id(attached);
  hostnqn = spdk_nvme_ctrlr_get_opts(attached)->hostnqn;
  fabrics = spdk_nvme_ctrlr_is_fabrics(attached);
  self_while_attached_ = shared_from_this();
  g_attached.emplace(attached, this);
  if (command_timeout_us > 0) {
    // One callback per controller and process: handles sharing a controller share it (the last
    // attach's timeout wins), so it finds them by controller rather than holding one.
    spdk_nvme_ctrlr_register_timeout_callback(attached, command_timeout_us, command_timeout_us, &CtrlrState::OnTimeout,
                                              nullptr);
  }
  if (trid.trtype == SPDK_NVME_TRANSPORT_PCIE) {
    spdk_nvme_ctrlr_set_remove_cb(attached, &CtrlrState::OnRemoved, nullptr);
    nvme::WatchForRemoval(trid, attached);
  }
  poller_ = SPDK_POLLER_REGISTER(&CtrlrState::AdminPoll, this, nvme::kAdminPollUs);
  if (register_with_runtime) runtime::Register(this);
}

// Called inside SPDK's completion processing, where failing the controller is not safe: mark
// it, and the admin poller fails it on its next run. A keep-alive times out after the keep-alive
// timeout, other commands after the command timeout.
void CtrlrState::OnTimeout(void*, spdk_nvme_ctrlr* ctrlr, spdk_nvme_qpair*, uint16_t) {
  auto range = g_attached.equal_range(ctrlr);
  for (auto it = range.first; it != range.second; ++it) it->second->timed_out = true;
}

// Called by SPDK's hotplug monitor (nvme_hotplug.cc) after it failed the controller: mark it;
// the admin poller sees the failure and fails the queue pairs.
void CtrlrState::OnRemoved(void*, spdk_nvme_ctrlr* ctrlr) {
  auto range = g_attached.equal_range(ctrlr);
  for (auto it = range.first; it != range.second; ++it) it->second->removed = true;
}

int CtrlrState::Unusable() const {
  if (ctrlr == nullptr || detaching) return -EBADF;
  if (failed) return LostConnectionError();
  return 0;
}

void CtrlrState::Shutdown(std::function<void()> done) {
  if (ctrlr == nullptr) {
    done();
    return;
  }
  on_detached_.push_back(std::move(done));
  if (detaching) return;
  detaching = true;
  runtime::Unregister(this);
  // Each queue pair waits for its commands, frees itself and calls QpairReleased(); the admin
  // poller detaches once none is left and no admin command is in flight.
  std::vector<std::shared_ptr<QpairState>> open = qpairs;
  for (auto& q : open) q->Shutdown([] {});
}

void CtrlrState::QpairReleased(QpairState* q) {
  for (auto it = qpairs.begin(); it != qpairs.end(); ++it) {
    if (it->get() == q) {
      qpairs.erase(it);
      return;
    }
  }
}

void CtrlrState::Fail() {
  if (failed) return;
  failed = true;
  // Usually SPDK failed it already (the admin queue's transport failed); make sure, so that
  // every queue pair stops too, then abort what the queue pairs have outstanding.
  spdk_nvme_ctrlr_fail(ctrlr);
  std::vector<std::shared_ptr<QpairState>> open = qpairs;
  for (auto& q : open) q->Fail();
}

int CtrlrState::AdminPoll(void* arg) {
  auto* self = static_cast<CtrlrState*>(arg);
  // Keep polling a failed controller too: that is where SPDK aborts its queued admin commands.
  int rc = spdk_nvme_ctrlr_process_admin_completions(self->ctrlr);
  if (rc < 0 || self->timed_out) self->Fail();
  if (self->detaching && self->admin_inflight == 0 && self->qpairs.empty()) {
    self->StartDetach();  // may release `self`
    return SPDK_POLLER_BUSY;
  }
  return rc > 0 ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
}

void CtrlrState::StartDetach() {
  spdk_poller_unregister(&poller_);
  int rc = spdk_nvme_detach_async(ctrlr, &detach_ctx_);
  // No context: another handle in this process still holds the controller, only ours went.
  if (rc != 0 || detach_ctx_ == nullptr) {
    Release();
    return;
  }
  poller_ = SPDK_POLLER_REGISTER(&CtrlrState::DetachPoll, this, nvme::kAdminPollUs);
}

int CtrlrState::DetachPoll(void* arg) {
  auto* self = static_cast<CtrlrState*>(arg);
  if (spdk_nvme_detach_poll_async(self->detach_ctx_) == -EAGAIN) return SPDK_POLLER_BUSY;
  self->detach_ctx_ = nullptr;
  spdk_poller_unregister(&self->poller_);
  self->Release();
  return SPDK_POLLER_BUSY;
}

void CtrlrState::Release() {
  nvme::StopWatching(ctrlr);
  auto range = g_attached.equal_range(ctrlr);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == this) {
      g_attached.erase(it);
      break;
    }
  }
  ctrlr = nullptr;
  std::vector<std::function<void()>> callbacks;
  callbacks.swap(on_detached_);
  std::shared_ptr<CtrlrState> last = std::move(self_while_attached_);  // may be the last reference
  for (auto& cb : callbacks) cb();
}

namespace {

// ---- detaching ----------------------------------------------------------------------------

class DetachRequest : public Request {
 public:
  DetachRequest(Napi::Env env, std::shared_ptr<CtrlrState> st, bool settle) : st_(std::move(st)) {
    if (settle) deferred_.emplace(Napi::Promise::Deferred::New(env));
  }
  void Execute() override {
    st_->Shutdown([this] { runtime::Complete(this); });
  }
  void Deliver(Napi::Env env) override {
    if (deferred_) deferred_->Resolve(env.Undefined());
  }
  Napi::Promise Promise() { return deferred_->Promise(); }

 private:
  std::shared_ptr<CtrlrState> st_;
  std::optional<Napi::Promise::Deferred> deferred_;  // none for the finalizer's detach
};

// ---- namespaces ---------------------------------------------------------------------------

struct NsInfo {
  uint32_t id;
  uint64_t num_sectors;
  uint32_t sector_size;
  uint32_t extended_sector_size;
  uint32_t md_size;
  bool extended_lba;
  uint32_t pi_type;
  uint32_t max_xfer_size;
  uint32_t optimal_io_boundary;
  bool supports_compare;
  std::string uuid;
  std::string nguid;
  std::string eui64;
};

std::string Hex(const uint8_t* p, size_t n) {
  bool any = false;
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; i++) {
    any = any || p[i] != 0;
    snprintf(b, sizeof(b), "%02x", p[i]);
    s += b;
  }
  return any ? s : std::string();
}

NsInfo ReadNamespace(spdk_nvme_ns* ns) {
  NsInfo n{};
  n.id = spdk_nvme_ns_get_id(ns);
  n.num_sectors = spdk_nvme_ns_get_num_sectors(ns);
  n.sector_size = spdk_nvme_ns_get_sector_size(ns);
  n.extended_sector_size = spdk_nvme_ns_get_extended_sector_size(ns);
  n.md_size = spdk_nvme_ns_get_md_size(ns);
  n.extended_lba = spdk_nvme_ns_supports_extended_lba(ns);
  n.pi_type = spdk_nvme_ns_get_pi_type(ns);
  n.max_xfer_size = spdk_nvme_ns_get_max_io_xfer_size(ns);
  n.optimal_io_boundary = spdk_nvme_ns_get_optimal_io_boundary(ns);
  n.supports_compare = spdk_nvme_ns_supports_compare(ns);
  if (const spdk_uuid* u = spdk_nvme_ns_get_uuid(ns)) {
    char text[SPDK_UUID_STRING_LEN];
    spdk_uuid_fmt_lower(text, sizeof(text), u);
    n.uuid = text;
  }
  if (const uint8_t* g = spdk_nvme_ns_get_nguid(ns)) n.nguid = Hex(g, 16);
  const spdk_nvme_ns_data* d = spdk_nvme_ns_get_data(ns);
  n.eui64 = Hex(reinterpret_cast<const uint8_t*>(&d->eui64), 8);
  return n;
}

Napi::Value NsToJs(Napi::Env env, const NsInfo& n) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", n.id);
  o.Set("numSectors", static_cast<double>(n.num_sectors));
  o.Set("sectorSize", n.sector_size);
  o.Set("extendedSectorSize", n.extended_sector_size);
  o.Set("metadataSize", n.md_size);
  o.Set("extendedLba", n.extended_lba);
  o.Set("protectionInfoType", n.pi_type);
  o.Set("maxTransferSize", n.max_xfer_size);
  o.Set("optimalIoBoundary", n.optimal_io_boundary);
  o.Set("supportsCompare", n.supports_compare);
  o.Set("uuid", n.uuid.empty() ? env.Null() : Napi::String::New(env, n.uuid));
  o.Set("nguid", n.nguid.empty() ? env.Null() : Napi::String::New(env, n.nguid));
  o.Set("eui64", n.eui64.empty() ? env.Null() : Napi::String::New(env, n.eui64));
  return o;
}

// ---- the JS class -------------------------------------------------------------------------

class NvmeController : public Napi::ObjectWrap<NvmeController> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeNvmeController",
                       {
                           InstanceMethod<&NvmeController::Namespaces>("namespaces"),
                           InstanceMethod<&NvmeController::AllocIoQpair>("allocIoQpair"),
                           InstanceMethod<&NvmeController::AdminRaw>("adminRaw"),
                           InstanceMethod<&NvmeController::GetLogPage>("getLogPage"),
                           InstanceMethod<&NvmeController::Detach>("detach"),
                       });
  }

  explicit NvmeController(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NvmeController>(info) {
    Napi::Env env = info.Env();
    st_ = *info[0].As<Napi::External<std::shared_ptr<CtrlrState>>>().Data();
    Napi::Object self = info.This().As<Napi::Object>();
    const spdk_nvme_transport_id& t = st_->trid;
    Napi::Object trid = Napi::Object::New(env);
    trid.Set("trtype", t.trstring);
    const char* adrfam = spdk_nvme_transport_id_adrfam_str(t.adrfam);
    if (adrfam != nullptr && t.trtype != SPDK_NVME_TRANSPORT_PCIE) trid.Set("adrfam", adrfam);
    if (t.traddr[0] != '\0') trid.Set("traddr", t.traddr);
    if (t.trsvcid[0] != '\0') trid.Set("trsvcid", t.trsvcid);
    if (t.subnqn[0] != '\0') trid.Set("subnqn", t.subnqn);
    self.Set("transportId", trid);
    self.Set("identifyData", Napi::Buffer<uint8_t>::Copy(env, st_->cdata.data(), st_->cdata.size()));
    self.Set("maxTransferSize", st_->max_xfer_size);
    self.Set("maxQueueDepth", st_->max_queue_depth);
    self.Set("fabrics", st_->fabrics);
  }

  // Safety net only: a controller collected without detach() is detached for the user.
  ~NvmeController() override {
    if (!detached_ && runtime::IsRunning()) runtime::Submit(Env(), new DetachRequest(Env(), st_, false));
  }

 private:
  void CheckAttached(Napi::Env env, const char* operation) {
    runtime::CheckRunning(env, operation);
    if (detached_) ThrowError(env, operation, EBADF, "the controller was detached; connect to it again");
  }

  Napi::Value Namespaces(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckAttached(env, "ctrlr.namespaces");
    // Owned by the message as much as by this frame: after a timeout the app thread may still fill it.
    struct Listing {
      std::vector<NsInfo> list;
      bool gone = false;
    };
    auto listing = std::make_shared<Listing>();
    std::shared_ptr<CtrlrState> st = st_;
    runtime::RunOnAppThreadSync(env, "ctrlr.namespaces", [listing, st] {
      if (st->ctrlr == nullptr || st->detaching) {
        listing->gone = true;
        return;
      }
      for (uint32_t id = spdk_nvme_ctrlr_get_first_active_ns(st->ctrlr); id != 0;
           id = spdk_nvme_ctrlr_get_next_active_ns(st->ctrlr, id)) {
        if (spdk_nvme_ns* ns = spdk_nvme_ctrlr_get_ns(st->ctrlr, id)) listing->list.push_back(ReadNamespace(ns));
      }
    });
    const std::vector<NsInfo>& list = listing->list;
    if (listing->gone) ThrowError(env, "ctrlr.namespaces", EBADF, "the controller was detached; connect to it again");
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(static_cast<uint32_t>(i), NsToJs(env, list[i]));
    return out;
  }

  Napi::Value AllocIoQpair(const Napi::CallbackInfo& info) {
    CheckAttached(info.Env(), "ctrlr.allocIoQpair");
    return nvme::AllocIoQpair(info, st_);
  }

  Napi::Value AdminRaw(const Napi::CallbackInfo& info) {
    CheckAttached(info.Env(), info[0].As<Napi::String>().Utf8Value().c_str());
    return nvme::AdminRaw(info, st_);
  }

  Napi::Value GetLogPage(const Napi::CallbackInfo& info) {
    CheckAttached(info.Env(), info[0].As<Napi::String>().Utf8Value().c_str());
    return nvme::GetLogPage(info, st_);
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (detached_ || !runtime::IsRunning()) {
      // Detaching twice, or after SPDK stopped (which detached everything), is a no-op.
      detached_ = true;
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(env.Undefined());
      return d.Promise();
    }
    detached_ = true;
    auto* req = new DetachRequest(env, st_, true);
    Napi::Promise promise = req->Promise();
    runtime::Submit(env, req);
    return promise;
  }

  std::shared_ptr<CtrlrState> st_;
  bool detached_ = false;  // JS thread view
};

}  // namespace

namespace nvme {

Napi::Value NewController(Napi::Env env, const std::shared_ptr<CtrlrState>& st) {
  auto* holder = new std::shared_ptr<CtrlrState>(st);
  auto ext = Napi::External<std::shared_ptr<CtrlrState>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<CtrlrState>* p) { delete p; });
  return Data(env).nvme_ctrlr_constructor.New({ext});
}

void InitCtrlr(Napi::Env env, Napi::Object exports) {
  Data(env).nvme_ctrlr_constructor = Napi::Persistent(NvmeController::Define(env));
  Data(env).nvme_qpair_constructor = Napi::Persistent(DefineQpairClass(env));
  exports.Set("nvmeConnect", Napi::Function::New(env, Connect, "nvmeConnect"));
  exports.Set("nvmeProbe", Napi::Function::New(env, Probe, "nvmeProbe"));
  exports.Set("nvmeList", Napi::Function::New(env, List, "nvmeList"));
  exports.Set("nvmeTransportAvailable", Napi::Function::New(env, TransportAvailable, "nvmeTransportAvailable"));
}
}  // namespace nvme

}  // namespace spdk_node
