// See nvme.h. The NVM commands (read, write, compare, write zeroes, deallocate, flush) submitted
// on an I/O queue pair: checked by the TypeScript layer, submitted on the app thread, completed
// by the queue pair's poller. Ordinary Buffers are bounced through DMA memory (Payload).
#include <spdk/nvme.h>

#include <cstring>

#include "addon_data.h"
#include "crossing.h"
#include "nvme/nvme.h"

namespace spdk_node::nvme {
namespace {

// ---- namespace commands -------------------------------------------------------------------

enum class IoKind { kRead, kWrite, kCompare, kWriteZeroes, kDeallocate, kFlush };

const char* OperationName(IoKind kind) {
  switch (kind) {
    case IoKind::kRead: return "ns.read";
    case IoKind::kWrite: return "ns.write";
    case IoKind::kCompare: return "ns.compare";
    case IoKind::kWriteZeroes: return "ns.writeZeroes";
    case IoKind::kDeallocate: return "ns.deallocate";
    default: return "ns.flush";
  }
}

class IoRequest : public Request, public WaitingIo {
 public:
  IoRequest(Napi::Env env, std::shared_ptr<QpairState> q, IoKind kind, uint32_t nsid, uint64_t lba, uint32_t count)
      : deferred(Napi::Promise::Deferred::New(env)), q_(std::move(q)), kind_(kind), nsid_(nsid), lba_(lba), count_(count) {}

  void Execute() override {
    QpairState* q = q_.get();
    if (int why = q->Unusable()) {
      rc_ = why;
      runtime::Complete(this);
      return;
    }
    ns_ = spdk_nvme_ctrlr_get_ns(q->ctrlr->ctrlr, nsid_);
    if (ns_ == nullptr || !spdk_nvme_ns_is_active(ns_)) {
      rc_ = -ENODEV;
      runtime::Complete(this);
      return;
    }
    // The TypeScript layer checked sizes against the namespace as it was when listed; check them
    // against the namespace as it is now (it may have been reformatted since).
    if (int why = CheckGeometry()) {
      rc_ = why;
      runtime::Complete(this);
      return;
    }
    if (no_memory) {
      rc_ = -ENOMEM;
      runtime::Complete(this);
      return;
    }
    buf_ = payload.memory;
    q->inflight++;
    if (!Retry()) q->waiting.push_back(this);
    q->Kick();  // `this` may be gone (completed at once); `q` is not: only its poller releases it
  }

  bool Retry() override {
    spdk_nvme_qpair* qp = q_->qpair;
    int r;
    switch (kind_) {
      case IoKind::kRead: r = spdk_nvme_ns_cmd_read(ns_, qp, buf_, lba_, count_, &Done, this, 0); break;
      case IoKind::kWrite: r = spdk_nvme_ns_cmd_write(ns_, qp, buf_, lba_, count_, &Done, this, 0); break;
      case IoKind::kCompare: r = spdk_nvme_ns_cmd_compare(ns_, qp, buf_, lba_, count_, &Done, this, 0); break;
      case IoKind::kWriteZeroes: r = spdk_nvme_ns_cmd_write_zeroes(ns_, qp, lba_, count_, &Done, this, 0); break;
      case IoKind::kDeallocate:
        r = spdk_nvme_ns_cmd_dataset_management(ns_, qp, SPDK_NVME_DSM_ATTR_DEALLOCATE, ranges.data(),
                                                static_cast<uint16_t>(ranges.size()), &Done, this);
        break;
      default: r = spdk_nvme_ns_cmd_flush(ns_, qp, &Done, this); break;
    }
    if (r == -ENOMEM) return false;
    if (r != 0) Finish(r);
    return true;
  }

  void Abandon(int rc) override { Finish(rc); }

  // App thread: 0, or why this command does not fit the namespace's live format.
  int CheckGeometry() {
    bool transfers = kind_ == IoKind::kRead || kind_ == IoKind::kWrite || kind_ == IoKind::kCompare;
    if (!transfers) return 0;
    if (spdk_nvme_ns_get_md_size(ns_) > 0 && !spdk_nvme_ns_supports_extended_lba(ns_)) {
      // Metadata in a buffer of its own: the command would go out without one.
      return -ENOTSUP;
    }
    uint64_t block = spdk_nvme_ns_get_extended_sector_size(ns_);
    uint64_t max = spdk_nvme_ns_get_max_io_xfer_size(ns_);
    // (An LBA past the end is the controller's to report: LBA_OUT_OF_RANGE.)
    if (block == 0 || static_cast<uint64_t>(count_) * block != payload.length || (max != 0 && payload.length > max)) {
      live_block_ = block;
      return -ERANGE;
    }
    return 0;
  }

  void Deliver(Napi::Env env) override {
    const char* op = OperationName(kind_);
    if (!keep.IsEmpty() && !payload.Settle(keep.Value(), kind_ == IoKind::kRead, rc_ == 0 && !status_.failed)) {
      deferred.Reject(MakeError(env, op, EINVAL, "the Buffer was detached or shrank while the command was in flight; its data is lost"));
    } else if (status_.failed) {
      deferred.Reject(MakeNvmeError(env, op, status_.sct, status_.sc, status_.dnr));
    } else if (rc_ != 0) {
      deferred.Reject(MakeError(env, op, rc_, Describe()));
    } else {
      deferred.Resolve(kind_ == IoKind::kRead ? keep.Value() : env.Undefined());
    }
  }

  Napi::Promise::Deferred deferred;
  Payload payload;
  bool no_memory = false;  // no DMA memory for the bounce buffer: fail with ENOMEM
  Napi::Reference<Napi::Value> keep;
  std::vector<spdk_nvme_dsm_range> ranges;

 private:
  std::string Describe() const {
    std::string qp = "queue pair " + std::to_string(q_->id);
    switch (rc_) {
      case -EBADF: return qp + " was freed, or its controller detached";
      case -ENXIO:
        return qp + " is disconnected: the controller failed (the connection to it was lost, or the device was "
                    "removed) and the command's outcome is unknown; detach the controller and connect again";
      case -ETIMEDOUT:
        return "the controller failed: a command on " + qp + " got no answer within the command timeout (is the "
               "target hung?) and this command's outcome is unknown; detach the controller and connect again";
      case -ENODEV: return "namespace " + std::to_string(nsid_) + " is not active on this controller";
      case -ENOTSUP:
        return "namespace " + std::to_string(nsid_) + " keeps its metadata in a separate buffer, which spdk-node does "
               "not support; format it with metadata interleaved (extended LBA) or without metadata";
      case -ERANGE:
        return "the command no longer fits namespace " + std::to_string(nsid_) + " (now " + std::to_string(live_block_) +
               "-byte blocks): it was reformatted or resized; list ctrlr.namespaces() again";
      case -ENOMEM: return "no DMA memory left for a bounce buffer; use smaller I/O or buffers from spdk.allocBuffer()";
      case -EINVAL: return "SPDK refused the command's parameters";
      default: return "the command could not be submitted";
    }
  }

  static void Done(void* arg, const spdk_nvme_cpl* cpl) {
    auto* self = static_cast<IoRequest*>(arg);
    int rc = 0;
    if (spdk_nvme_cpl_is_error(cpl)) {
      rc = self->q_->LossOf(cpl);
      if (rc == 0) rc = self->status_.Record(cpl);
    }
    self->Finish(rc);
  }

  void Finish(int rc) {
    rc_ = rc;
    q_->inflight--;
    runtime::Complete(this);
  }

  std::shared_ptr<QpairState> q_;
  IoKind kind_;
  uint32_t nsid_;
  uint64_t lba_;
  uint32_t count_;
  spdk_nvme_ns* ns_ = nullptr;
  void* buf_ = nullptr;
  uint64_t live_block_ = 0;
  int rc_ = 0;
  CompletionStatus status_;
};

}  // namespace

const char* IoOperationName(int kind) { return OperationName(static_cast<IoKind>(kind)); }

// (kind, nsid, lba, count, buffer | undefined).
Napi::Value SubmitIo(const Napi::CallbackInfo& info, const std::shared_ptr<QpairState>& q) {
  Napi::Env env = info.Env();
  auto* req = new IoRequest(env, q, static_cast<IoKind>(info[0].As<Napi::Number>().Int32Value()),
                            info[1].As<Napi::Number>().Uint32Value(),
                            static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value()),
                            info[3].As<Napi::Number>().Uint32Value());
  if (info[4].IsTypedArray()) {
    auto kind = static_cast<IoKind>(info[0].As<Napi::Number>().Int32Value());
    req->no_memory = !req->payload.Take(info[4], kind == IoKind::kWrite || kind == IoKind::kCompare);
    req->keep = Napi::Persistent(info[4]);
  }
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

// (nsid, ranges: 16 bytes each, as struct spdk_nvme_dsm_range).
Napi::Value SubmitDeallocate(const Napi::CallbackInfo& info, const std::shared_ptr<QpairState>& q) {
  Napi::Env env = info.Env();
  auto* req = new IoRequest(env, q, IoKind::kDeallocate, info[0].As<Napi::Number>().Uint32Value(), 0, 0);
  auto bytes = info[1].As<Napi::Uint8Array>();
  req->ranges.resize(bytes.ByteLength() / sizeof(spdk_nvme_dsm_range));
  memcpy(req->ranges.data(), bytes.Data(), req->ranges.size() * sizeof(spdk_nvme_dsm_range));
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

}  // namespace spdk_node::nvme
