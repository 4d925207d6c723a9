// See nvme.h. Attaching controllers: connect (one controller, fabrics or PCIe) and probe (the
// local PCIe bus), each an SPDK probe context polled on the app thread until it is done; and
// list, a probe whose probe callback answers false, so that SPDK attaches nothing.
//
// One NvmeController per controller: connecting to (or probing the address of) a controller this
// process already holds is refused with EBUSY naming the holder, rather than handing out a second
// handle to the same spdk_nvme_ctrlr (SPDK would: it finds an attached fabrics controller by
// transport ID and calls attach_cb again) or failing with SPDK's bare EIO (for PCIe, the device is
// claimed). A controller held by another user of SPDK's NVMe driver in this process (bdev_nvme)
// is detected the same way: SPDK calls attach_cb from inside spdk_nvme_connect_async() for an
// existing controller, which a new one never is.
#include <spdk/nvme.h>
#include <spdk/thread.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "addon_data.h"
#include "crossing.h"
#include "log.h"
#include "nvme/nvme.h"

namespace spdk_node::nvme {
namespace {

std::string TridText(const spdk_nvme_transport_id& t) {
  std::string s = std::string("trtype:") + t.trstring;
  if (t.traddr[0] != '\0') s += std::string(" traddr:") + t.traddr;
  if (t.trsvcid[0] != '\0') s += std::string(" trsvcid:") + t.trsvcid;
  if (t.subnqn[0] != '\0') s += std::string(" subnqn:") + t.subnqn;
  return s;
}

// ---- attaching: connect and probe ---------------------------------------------------------

struct AttachOptions {
  std::string trid;  // the canonical string form the TypeScript layer checked
  std::string hostnqn;
  uint32_t keep_alive_timeout_ms = 0;
  uint32_t ack_timeout = 0;  // exponent: 2^n ms
  uint32_t connect_timeout_ms = 0;
  uint32_t command_timeout_ms = 0;
  bool header_digest = false;
  bool data_digest = false;
};

class AttachRequest;

enum class AttachMode { kConnect, kProbe, kList };

// App thread only. Connects under way, so that a second connect to the same address is refused
// rather than racing the first into two controllers.
std::vector<AttachRequest*> g_connecting;

// App thread. Polls an spdk_nvme_detach_ctx to its end from a poller of its own.
struct DetachDrain {
  spdk_nvme_detach_ctx* ctx;
  spdk_poller* poller;
};

int PollDetachDrain(void* arg) {
  auto* d = static_cast<DetachDrain*>(arg);
  if (spdk_nvme_detach_poll_async(d->ctx) == -EAGAIN) return SPDK_POLLER_BUSY;
  spdk_poller_unregister(&d->poller);
  delete d;
  return SPDK_POLLER_BUSY;
}

void DrainDetach(spdk_nvme_detach_ctx* ctx) {
  auto* d = new DetachDrain{ctx, nullptr};
  d->poller = SPDK_POLLER_REGISTER(PollDetachDrain, d, kAdminPollUs);
}

std::string HolderText(const CtrlrState& st) {
  std::string detail = st.detaching ? " (being detached: wait for its detach() to settle)" : ": use that object, or detach it first (await ctrlr.detach())";
  return "an NvmeController from " + st.origin + " holds it" + detail;
}

// spdk_nvme_connect_async() hands attach_cb the opts pointer as its context: this struct begins
// with the opts so that the request can be found from it.
struct ConnectContext {
  spdk_nvme_ctrlr_opts opts;
  AttachRequest* owner;
};
static_assert(offsetof(ConnectContext, opts) == 0, "opts must come first");

class AttachRequest : public Request, public AppResource {
 public:
  AttachRequest(Napi::Env env, AttachMode mode, AttachOptions options)
      : deferred(Napi::Promise::Deferred::New(env)), mode_(mode), probe_(mode != AttachMode::kConnect), options_(std::move(options)) {
    context_.owner = this;
    mark_ = log::Mark();
  }

  void Execute() override {
    if (spdk_nvme_transport_id_parse(&trid_, options_.trid.c_str()) != 0) {
      Fail(-EINVAL, "SPDK could not parse the transport ID '" + options_.trid + "'");
      return;
    }
    if (!spdk_nvme_transport_available_by_name(trid_.trstring)) {
      Fail(-ENOTSUP, std::string("the ") + trid_.trstring + " transport is not available in this SPDK build");
      return;
    }
    spdk_nvme_ctrlr_opts& o = context_.opts;
    spdk_nvme_ctrlr_get_default_ctrlr_opts(&o, sizeof(o));
    if (!options_.hostnqn.empty()) snprintf(o.hostnqn, sizeof(o.hostnqn), "%s", options_.hostnqn.c_str());
    o.keep_alive_timeout_ms = options_.keep_alive_timeout_ms;
    o.transport_ack_timeout = static_cast<uint8_t>(options_.ack_timeout);
    if (options_.connect_timeout_ms > 0) o.fabrics_connect_timeout_us = uint64_t{options_.connect_timeout_ms} * 1000;
    o.header_digest = options_.header_digest;
    o.data_digest = options_.data_digest;
    // Failed commands are reported to JavaScript as errors; SPDK printing each is noise.
    o.disable_error_logging = true;

    if (mode_ == AttachMode::kList && trid_.traddr[0] != '\0') {
      if (CtrlrState* holder = FindAttached(trid_, nullptr)) {
        listed_.push_back({holder->trid.traddr, "an NvmeController from " + holder->origin});
        runtime::Complete(this);
        return;
      }
    }
    if (mode_ == AttachMode::kConnect || (mode_ == AttachMode::kProbe && trid_.traddr[0] != '\0')) {
      if (CtrlrState* holder = FindAttached(trid_, o.hostnqn)) {
        Fail(-EBUSY, TridText(trid_) + " is already attached in this process: " + HolderText(*holder));
        return;
      }
      for (AttachRequest* other : g_connecting) {
        if (spdk_nvme_transport_id_compare(&other->trid_, &trid_) == 0 && strcmp(other->context_.opts.hostnqn, o.hostnqn) == 0) {
          Fail(-EBUSY, "a connect() to " + TridText(trid_) + " is already under way in this process: await it, and use the NvmeController it gives");
          return;
        }
      }
    }

    in_start_call_ = true;
    switch (mode_) {
      case AttachMode::kConnect:
        probe_ctx_ = spdk_nvme_connect_async(&trid_, &o, &AttachRequest::OnConnectAttach);
        break;
      case AttachMode::kProbe:
        probe_ctx_ = spdk_nvme_probe_async(&trid_, this, &AttachRequest::OnProbe, &AttachRequest::OnAttach, nullptr);
        break;
      case AttachMode::kList:
        probe_ctx_ = spdk_nvme_probe_async(&trid_, this, &AttachRequest::OnListProbe, &AttachRequest::OnAttach, nullptr);
        break;
    }
    in_start_call_ = false;
    if (probe_ctx_ == nullptr) {
      std::string held = ReleaseAlreadyHeld();
      if (!held.empty()) {
        Fail(-EBUSY, TridText(trid_) + " is already attached in this process: " + held);
        return;
      }
      // DPDK says why it could not attach a device; a device already claimed is refused silently.
      bool dpdk_failed = false;
      for (const auto& line : log::Since(mark_)) {
        if (line.find("attach") != std::string::npos || line.find("EAL") != std::string::npos) dpdk_failed = true;
      }
      if (trid_.trtype == SPDK_NVME_TRANSPORT_PCIE && trid_.traddr[0] != '\0' && dpdk_failed) {
        Fail(-EIO, std::string("DPDK could not attach ") + trid_.traddr +
                       " (its log says why; with vfio-pci, every device of the IOMMU group must be bound to vfio-pci or to no driver)");
        return;
      }
      if (mode_ == AttachMode::kList && trid_.traddr[0] != '\0') {
        // The device is there (the TypeScript layer checked sysfs) but SPDK could not claim it.
        listed_.push_back({trid_.traddr, "another user of SPDK's NVMe driver (a bdev_nvme controller in this process, or another SPDK process)"});
        runtime::Complete(this);
        return;
      }
      if (trid_.trtype == SPDK_NVME_TRANSPORT_PCIE && trid_.traddr[0] != '\0') {
        // SPDK could not claim the device: it is attached already (by bdev_nvme in this process, or
        // another SPDK process), or DPDK cannot use it. The TypeScript layer checked the driver.
        Fail(-EBUSY, std::string("SPDK could not claim ") + trid_.traddr +
                         ": another user of SPDK's NVMe driver holds it (a bdev_nvme controller in this process: "
                         "bdev_nvme_get_controllers lists them, bdev_nvme_detach_controller releases one; or another SPDK process)");
        return;
      }
      Fail(-EIO, std::string(probe_ ? "could not start probing " : "could not start connecting to ") + TridText(trid_));
      return;
    }
    if (mode_ == AttachMode::kConnect) g_connecting.push_back(this);
    runtime::Register(this);
    poller_ = SPDK_POLLER_REGISTER(&AttachRequest::Poll, this, kAdminPollUs);
  }

  void Deliver(Napi::Env env) override {
    if (rc_ != 0) {
      deferred.Reject(MakeError(env, Operation(), rc_, message_, log_));
      return;
    }
    if (mode_ == AttachMode::kList) {
      Napi::Array list = Napi::Array::New(env, listed_.size());
      for (size_t i = 0; i < listed_.size(); i++) {
        Napi::Object entry = Napi::Object::New(env);
        entry.Set("traddr", listed_[i].traddr);
        entry.Set("heldBy", listed_[i].held_by.empty() ? env.Null() : Napi::String::New(env, listed_[i].held_by));
        list.Set(static_cast<uint32_t>(i), entry);
      }
      deferred.Resolve(list);
      return;
    }
    if (!probe_) {
      deferred.Resolve(NewController(env, attached_.front()));
      return;
    }
    Napi::Array list = Napi::Array::New(env, attached_.size());
    for (size_t i = 0; i < attached_.size(); i++) list.Set(static_cast<uint32_t>(i), NewController(env, attached_[i]));
    deferred.Resolve(list);
  }

  // SPDK is stopping while this attach is under way: it finishes, then detaches what it got.
  void Shutdown(std::function<void()> done) override {
    stopping_ = true;
    stop_done_ = std::move(done);
  }

  Napi::Promise::Deferred deferred;

 private:
  const char* Operation() const {
    return mode_ == AttachMode::kConnect ? "nvme.connect" : mode_ == AttachMode::kProbe ? "nvme.probe" : "nvme.list";
  }

  void Fail(int rc, std::string message) {
    rc_ = rc;
    message_ = std::move(message);
    log_ = log::Since(mark_);
    runtime::Complete(this);
  }

  static bool OnProbe(void* ctx, const spdk_nvme_transport_id*, spdk_nvme_ctrlr_opts* opts) {
    memcpy(opts, &static_cast<AttachRequest*>(ctx)->context_.opts, sizeof(*opts));
    return true;
  }

  // nvme.list(): note the controller, attach nothing.
  static bool OnListProbe(void* ctx, const spdk_nvme_transport_id* trid, spdk_nvme_ctrlr_opts*) {
    static_cast<AttachRequest*>(ctx)->listed_.push_back({trid->traddr, ""});
    return false;
  }

  static void OnAttach(void* ctx, const spdk_nvme_transport_id*, spdk_nvme_ctrlr* ctrlr, const spdk_nvme_ctrlr_opts*) {
    static_cast<AttachRequest*>(ctx)->Adopt(ctrlr);
  }

  static void OnConnectAttach(void* ctx, const spdk_nvme_transport_id*, spdk_nvme_ctrlr* ctrlr,
                              const spdk_nvme_ctrlr_opts*) {
    static_cast<ConnectContext*>(ctx)->owner->Adopt(ctrlr);
  }

  void Adopt(spdk_nvme_ctrlr* ctrlr) {
    if (in_start_call_ || FindAttached(ctrlr) != nullptr) {
      // SPDK handed out a controller that was attached before this request (see the top of the
      // file): someone in this process holds it. Give back the reference SPDK just took.
      already_held_.push_back(ctrlr);
      return;
    }
    auto st = std::make_shared<CtrlrState>();
    st->command_timeout_us = uint64_t{options_.command_timeout_ms} * 1000;
    st->origin = mode_ == AttachMode::kConnect ? "nvme.connect()" : "nvme.probe()";
    st->Attached(ctrlr, !stopping_);
    attached_.push_back(std::move(st));
  }

  // Drops the references SPDK took on controllers someone else holds; the message says who.
  std::string ReleaseAlreadyHeld() {
    std::string holder;
    for (spdk_nvme_ctrlr* ctrlr : already_held_) {
      CtrlrState* st = FindAttached(ctrlr);
      holder = st != nullptr ? HolderText(*st)
                             : "another user of SPDK's NVMe driver holds it (a bdev_nvme controller: bdev_nvme_get_controllers lists them, "
                               "bdev_nvme_detach_controller releases one)";
      // Another holder remains, so this only drops a reference and SPDK has nothing to destruct;
      // should the holder have let go meanwhile, the destruction is polled, never waited for.
      spdk_nvme_detach_ctx* ctx = nullptr;
      if (spdk_nvme_detach_async(ctrlr, &ctx) == 0 && ctx != nullptr) DrainDetach(ctx);
    }
    already_held_.clear();
    return holder;
  }

  static int Poll(void* arg) {
    auto* self = static_cast<AttachRequest*>(arg);
    if (spdk_nvme_probe_poll_async(self->probe_ctx_) == -EAGAIN) return SPDK_POLLER_BUSY;
    self->probe_ctx_ = nullptr;  // freed by SPDK
    spdk_poller_unregister(&self->poller_);
    self->Finished();
    return SPDK_POLLER_BUSY;
  }

  void Finished() {
    runtime::Unregister(this);
    g_connecting.erase(std::remove(g_connecting.begin(), g_connecting.end(), this), g_connecting.end());
    std::string held = ReleaseAlreadyHeld();
    if (stopping_) {
      auto done = std::move(stop_done_);
      auto remaining = std::make_shared<size_t>(attached_.size() + 1);
      auto finish = [done, remaining] {
        if (--*remaining == 0) done();
      };
      std::vector<std::shared_ptr<CtrlrState>> attached;
      attached.swap(attached_);
      for (auto& st : attached) st->Shutdown(finish);
      Fail(-ESHUTDOWN, "SPDK stopped while " + std::string(probe_ ? "probing " : "connecting to ") + TridText(trid_));
      finish();
      return;
    }
    if (mode_ == AttachMode::kList) {
      // SPDK's enumeration skips devices already attached: add this process's own.
      for (CtrlrState* st : AllAttached()) {
        if (st->trid.trtype != SPDK_NVME_TRANSPORT_PCIE) continue;
        if (trid_.traddr[0] != '\0' && spdk_nvme_transport_id_compare(&st->trid, &trid_) != 0) continue;
        listed_.push_back({st->trid.traddr, "an NvmeController from " + st->origin});
      }
      runtime::Complete(this);
      return;
    }
    if (!probe_ && attached_.empty() && !held.empty()) {
      Fail(-EBUSY, TridText(trid_) + " is already attached in this process: " + held);
      return;
    }
    if (!probe_ && attached_.empty()) {
      std::vector<std::string> lines = log::Since(mark_);
      bool refused = false;
      for (const auto& l : lines) {
        if (l.find("errno 111") != std::string::npos || l.find("refused") != std::string::npos) refused = true;
      }
      Fail(refused ? -ECONNREFUSED : -EIO,
           "could not connect to " + TridText(trid_) +
               (refused ? ": nothing listens there; check the address and port, and that the target is running"
                        : ": check the address, the subsystem NQN, and that the target allows this host"));
      return;
    }
    runtime::Complete(this);
  }

  struct Listed {
    std::string traddr;
    std::string held_by;  // empty: free
  };

  AttachMode mode_;
  bool probe_;
  bool in_start_call_ = false;
  std::vector<spdk_nvme_ctrlr*> already_held_;
  std::vector<Listed> listed_;
  AttachOptions options_;
  ConnectContext context_{};
  spdk_nvme_transport_id trid_{};
  spdk_nvme_probe_ctx* probe_ctx_ = nullptr;
  spdk_poller* poller_ = nullptr;
  std::vector<std::shared_ptr<CtrlrState>> attached_;
  bool stopping_ = false;
  std::function<void()> stop_done_;
  uint64_t mark_ = 0;
  int rc_ = 0;
  std::string message_;
  std::vector<std::string> log_;
};

AttachOptions ReadAttachOptions(const Napi::CallbackInfo& info) {
  AttachOptions o;
  o.trid = info[0].As<Napi::String>().Utf8Value();
  Napi::Object opts = info[1].As<Napi::Object>();
  o.hostnqn = opts.Get("hostnqn").As<Napi::String>().Utf8Value();
  o.keep_alive_timeout_ms = opts.Get("keepAliveTimeoutMs").As<Napi::Number>().Uint32Value();
  o.ack_timeout = opts.Get("ackTimeoutExponent").As<Napi::Number>().Uint32Value();
  o.connect_timeout_ms = opts.Get("connectTimeoutMs").As<Napi::Number>().Uint32Value();
  o.command_timeout_ms = opts.Get("commandTimeoutMs").As<Napi::Number>().Uint32Value();
  o.header_digest = opts.Get("headerDigest").ToBoolean();
  o.data_digest = opts.Get("dataDigest").ToBoolean();
  return o;
}

Napi::Value Attach(const Napi::CallbackInfo& info, AttachMode mode) {
  Napi::Env env = info.Env();
  runtime::CheckRunning(env, mode == AttachMode::kConnect ? "nvme.connect" : mode == AttachMode::kProbe ? "nvme.probe" : "nvme.list");
  auto* req = new AttachRequest(env, mode, ReadAttachOptions(info));
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

}  // namespace

Napi::Value Connect(const Napi::CallbackInfo& info) { return Attach(info, AttachMode::kConnect); }
Napi::Value Probe(const Napi::CallbackInfo& info) { return Attach(info, AttachMode::kProbe); }
Napi::Value List(const Napi::CallbackInfo& info) { return Attach(info, AttachMode::kList); }

Napi::Value TransportAvailable(const Napi::CallbackInfo& info) {
  // The transport list is fixed once the library is loaded: no need to ask the app thread.
  return Napi::Boolean::New(info.Env(), spdk_nvme_transport_available_by_name(info[0].As<Napi::String>().Utf8Value().c_str()));
}

}  // namespace spdk_node::nvme
