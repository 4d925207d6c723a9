// See nvme.h. Admin commands (raw, Get Log Page) on a controller's admin queue, reaped by the
// controller's admin poller.
#include <spdk/nvme.h>

#include <cstring>

#include "addon_data.h"
#include "crossing.h"
#include "nvme/nvme.h"

namespace spdk_node::nvme {
namespace {

class AdminRequest : public Request {
 public:
  enum class Kind { kRaw, kLogPage };

  AdminRequest(Napi::Env env, std::shared_ptr<CtrlrState> st, Kind kind, std::string operation)
      : deferred(Napi::Promise::Deferred::New(env)), st_(std::move(st)), kind_(kind), operation_(std::move(operation)) {}

  void Execute() override {
    if (int why = st_->Unusable()) {
      rc_ = why;
      runtime::Complete(this);
      return;
    }
    if (no_memory) {
      rc_ = -ENOMEM;
      runtime::Complete(this);
      return;
    }
    void* buf = payload.memory;
    st_->admin_inflight++;
    auto len = static_cast<uint32_t>(payload.length);
    int r = kind_ == Kind::kRaw
                ? spdk_nvme_ctrlr_cmd_admin_raw(st_->ctrlr, &cmd, buf, len, &AdminRequest::Done, this)
                : spdk_nvme_ctrlr_cmd_get_log_page(st_->ctrlr, log_page, nsid, buf, len, offset, &AdminRequest::Done, this);
    if (r != 0) Finish(r);
  }

  void Deliver(Napi::Env env) override {
    if (!keep.IsEmpty() && !payload.Settle(keep.Value(), from_device, rc_ == 0 && !status_.failed)) {
      deferred.Reject(MakeError(env, operation_.c_str(), EINVAL,
                                "the Buffer was detached or shrank while the command was in flight; its data is lost"));
    } else if (status_.failed) {
      deferred.Reject(MakeNvmeError(env, operation_.c_str(), status_.sct, status_.sc, status_.dnr));
    } else if (rc_ != 0) {
      deferred.Reject(MakeError(env, operation_.c_str(), rc_, Describe(rc_)));
    } else if (kind_ == Kind::kLogPage) {
      deferred.Resolve(keep.Value());
    } else {
      Napi::Object cpl = Napi::Object::New(env);
      cpl.Set("cdw0", cdw0_);
      cpl.Set("cdw1", cdw1_);
      deferred.Resolve(cpl);
    }
  }

  Napi::Promise::Deferred deferred;
  spdk_nvme_cmd cmd{};
  uint8_t log_page = 0;
  uint32_t nsid = 0;
  uint64_t offset = 0;
  Payload payload;
  bool to_device = false;
  bool from_device = false;
  bool no_memory = false;  // no DMA memory for the bounce buffer: fail with ENOMEM
  Napi::Reference<Napi::Value> keep;

 private:
  static std::string Describe(int rc) {
    switch (rc) {
      case -EBADF: return "the controller was detached; connect to it again";
      case -ENXIO: return "the controller failed (its connection was lost, or the device was removed); detach it and connect again";
      case -ETIMEDOUT:
        return "the controller failed: a command got no answer within the command timeout (is the target hung?); "
               "detach it and connect again";
      case -ENOMEM: return "no memory for the command (DMA bounce buffer or SPDK request); retry later";
      default: return "the admin command could not be submitted";
    }
  }

  static void Done(void* arg, const spdk_nvme_cpl* cpl) {
    auto* self = static_cast<AdminRequest*>(arg);
    int rc = 0;
    if (spdk_nvme_cpl_is_error(cpl)) {
      if (CompletionStatus::IsLossStandIn(cpl) && spdk_nvme_ctrlr_is_failed(self->st_->ctrlr)) {
        rc = self->st_->LostConnectionError();
      } else {
        rc = self->status_.Record(cpl);
      }
    }
    self->cdw0_ = cpl->cdw0;
    self->cdw1_ = cpl->cdw1;
    self->Finish(rc);
  }

  void Finish(int rc) {
    rc_ = rc;
    st_->admin_inflight--;
    runtime::Complete(this);
  }

  std::shared_ptr<CtrlrState> st_;
  Kind kind_;
  std::string operation_;
  int rc_ = 0;
  CompletionStatus status_;
  uint32_t cdw0_ = 0;
  uint32_t cdw1_ = 0;
};

Napi::Value Submit(Napi::Env env, AdminRequest* req) {
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

}  // namespace

// (operation, command: 64-byte submission queue entry, buffer | undefined). The TypeScript layer
// checked the sizes; the data direction comes from the opcode's two low bits, as in the spec.
Napi::Value AdminRaw(const Napi::CallbackInfo& info, const std::shared_ptr<CtrlrState>& st) {
  Napi::Env env = info.Env();
  auto* req = new AdminRequest(env, st, AdminRequest::Kind::kRaw, info[0].As<Napi::String>().Utf8Value());
  auto command = info[1].As<Napi::Uint8Array>();
  memcpy(&req->cmd, command.Data(), sizeof(req->cmd));
  req->cmd.cid = 0;  // the driver assigns command ids
  if (info[2].IsTypedArray()) {
    req->to_device = (req->cmd.opc & 1) != 0;
    req->from_device = (req->cmd.opc & 2) != 0;
    req->no_memory = !req->payload.Take(info[2], req->to_device);
    req->keep = Napi::Persistent(info[2]);
  }
  return Submit(env, req);
}

// (operation, log page id, nsid, offset, buffer): resolves with the buffer, filled.
Napi::Value GetLogPage(const Napi::CallbackInfo& info, const std::shared_ptr<CtrlrState>& st) {
  Napi::Env env = info.Env();
  auto* req = new AdminRequest(env, st, AdminRequest::Kind::kLogPage, info[0].As<Napi::String>().Utf8Value());
  req->log_page = static_cast<uint8_t>(info[1].As<Napi::Number>().Uint32Value());
  req->nsid = info[2].As<Napi::Number>().Uint32Value();
  req->offset = static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value());
  req->from_device = true;
  req->no_memory = !req->payload.Take(info[4], false);
  req->keep = Napi::Persistent(info[4]);
  return Submit(env, req);
}

}  // namespace spdk_node::nvme
