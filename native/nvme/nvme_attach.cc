// See nvme.h. Attaching controllers: connect (one controller, fabrics or PCIe) and probe (the
// local PCIe bus), each an SPDK probe context polled on the app thread until it is done.
#include <spdk/nvme.h>
#include <spdk/thread.h>

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

// spdk_nvme_connect_async() hands attach_cb the opts pointer as its context: this struct begins
// with the opts so that the request can be found from it.
struct ConnectContext {
  spdk_nvme_ctrlr_opts opts;
  AttachRequest* owner;
};
static_assert(offsetof(ConnectContext, opts) == 0, "opts must come first");

class AttachRequest : public Request, public AppResource {
 public:
  AttachRequest(Napi::Env env, bool probe, AttachOptions options)
      : deferred(Napi::Promise::Deferred::New(env)), probe_(probe), options_(std::move(options)) {
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

    probe_ctx_ = probe_ ? spdk_nvme_probe_async(&trid_, this, &AttachRequest::OnProbe, &AttachRequest::OnAttach, nullptr)
                        : spdk_nvme_connect_async(&trid_, &o, &AttachRequest::OnConnectAttach);
    if (probe_ctx_ == nullptr) {
      Fail(-EIO, std::string(probe_ ? "could not start probing " : "could not start connecting to ") + TridText(trid_));
      return;
    }
    runtime::Register(this);
    poller_ = SPDK_POLLER_REGISTER(&AttachRequest::Poll, this, kAdminPollUs);
  }

  void Deliver(Napi::Env env) override {
    if (rc_ != 0) {
      deferred.Reject(MakeError(env, probe_ ? "nvme.probe" : "nvme.connect", rc_, message_, log_));
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

  static void OnAttach(void* ctx, const spdk_nvme_transport_id*, spdk_nvme_ctrlr* ctrlr, const spdk_nvme_ctrlr_opts*) {
    static_cast<AttachRequest*>(ctx)->Adopt(ctrlr);
  }

  static void OnConnectAttach(void* ctx, const spdk_nvme_transport_id*, spdk_nvme_ctrlr* ctrlr,
                              const spdk_nvme_ctrlr_opts*) {
    static_cast<ConnectContext*>(ctx)->owner->Adopt(ctrlr);
  }

  void Adopt(spdk_nvme_ctrlr* ctrlr) {
    auto st = std::make_shared<CtrlrState>();
    st->command_timeout_us = uint64_t{options_.command_timeout_ms} * 1000;
    st->Attached(ctrlr, !stopping_);
    attached_.push_back(std::move(st));
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

  bool probe_;
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

Napi::Value Attach(const Napi::CallbackInfo& info, bool probe) {
  Napi::Env env = info.Env();
  runtime::CheckRunning(env, probe ? "nvme.probe" : "nvme.connect");
  auto* req = new AttachRequest(env, probe, ReadAttachOptions(info));
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

}  // namespace

Napi::Value Connect(const Napi::CallbackInfo& info) { return Attach(info, false); }
Napi::Value Probe(const Napi::CallbackInfo& info) { return Attach(info, true); }

Napi::Value TransportAvailable(const Napi::CallbackInfo& info) {
  // The transport list is fixed once the library is loaded: no need to ask the app thread.
  return Napi::Boolean::New(info.Env(), spdk_nvme_transport_available_by_name(info[0].As<Napi::String>().Utf8Value().c_str()));
}

}  // namespace spdk_node::nvme
