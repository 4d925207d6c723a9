// See nvme.h and ring.h. An NVMe namespace on an I/O queue pair as an I/O ring's device: reads,
// writes and compares from the ring's slots are submitted on the app thread with
// spdk_nvme_ns_cmd_*, and complete when the queue pair's poller (nvme_qpair.cc) reaps them with
// spdk_nvme_poll_group_process_completions. They count in the queue pair's `inflight`, so free(),
// detach() and SPDK stopping wait for them; a failed transport aborts them with ENXIO (or
// ETIMEDOUT) like any other command.
#include <spdk/nvme.h>

#include <algorithm>
#include <vector>

#include "addon_data.h"
#include "crossing.h"
#include "nvme/nvme.h"
#include "io/ring.h"

namespace spdk_node::nvme {
namespace {

// Registers a ring with its queue pair on the app thread, ahead (in the crossing's order) of
// any free or detach JS asks for later: those first take what the ring has published.
class AttachRingRequest : public Request {
 public:
  AttachRingRequest(std::shared_ptr<QpairState> q, std::weak_ptr<ring::RingState> r) : q_(std::move(q)), ring_(std::move(r)) {}
  void Execute() override {
    auto& rings = q_->rings;
    rings.erase(std::remove_if(rings.begin(), rings.end(), [](const std::weak_ptr<ring::RingState>& w) { return w.expired(); }),
                rings.end());
    rings.push_back(ring_);
    runtime::Complete(this);
  }
  void Deliver(Napi::Env) override {}

 private:
  std::shared_ptr<QpairState> q_;
  std::weak_ptr<ring::RingState> ring_;
};

class NvmeRingDevice : public ring::Device {
 public:
  NvmeRingDevice(std::shared_ptr<QpairState> q, uint32_t nsid, uint32_t block_size)
      : q_(std::move(q)), nsid_(nsid), block_size_(block_size) {}

  const char* CreateOperation() const override { return "ns.createQueue"; }
  bool Accepts(int opcode) const override {
    return opcode == ring::kRead || opcode == ring::kWrite || opcode == ring::kCompare;
  }
  size_t BufAlign() const override { return kBounceAlign; }

  void Attach(Napi::Env env, uint32_t depth, const std::shared_ptr<ring::RingState>& r) override {
    commands_.resize(depth);
    for (Command& c : commands_) c.device = this;
    runtime::Submit(env, new AttachRingRequest(q_, r));
  }

  int Unavailable() override { return q_->Unusable(); }

  // The TypeScript layer checked sizes against the namespace as it was when listed; check them
  // against the namespace as it is now (it may have been reformatted since). The LBA range is
  // left to the controller, which answers LBA_OUT_OF_RANGE.
  int CheckGeometry(spdk_nvme_ns* ns, const ring::Slot& s) const {
    if (spdk_nvme_ns_get_md_size(ns) > 0 && !spdk_nvme_ns_supports_extended_lba(ns)) return -ENOTSUP;
    uint32_t max = spdk_nvme_ns_get_max_io_xfer_size(ns);
    if (spdk_nvme_ns_get_extended_sector_size(ns) != block_size_ || (max != 0 && s.length > max)) return -ERANGE;
    return 0;
  }

  void Issue(ring::Slot& s) override {
    QpairState& q = *q_;
    // The namespace object lives as long as the controller (which is attached: Unavailable()
    // said so); looking it up takes the controller's lock, so once per ring.
    if (ns_ == nullptr) ns_ = spdk_nvme_ctrlr_get_ns(q.ctrlr->ctrlr, nsid_);
    spdk_nvme_ns* ns = ns_;
    if (ns == nullptr || !spdk_nvme_ns_is_active(ns)) {
      ring::Complete(s, -ENODEV);
      return;
    }
    if (int why = CheckGeometry(ns, s)) {
      ring::Complete(s, why);
      return;
    }
    Command& c = commands_[s.index];
    c.slot = &s;
    c.ns = ns;
    q.inflight++;
    if (!c.Retry()) q.waiting.push_back(&c);
    q.Kick();  // the caller of Issue holds the ring, so this device is still here
  }

 private:
  struct Command : WaitingIo {
    NvmeRingDevice* device = nullptr;
    ring::Slot* slot = nullptr;
    spdk_nvme_ns* ns = nullptr;

    bool Retry() override {
      ring::Slot& s = *slot;
      spdk_nvme_qpair* qp = device->q_->qpair;
      auto count = static_cast<uint32_t>(s.length / device->block_size_);
      int r;
      switch (s.opcode) {
        case ring::kRead: r = spdk_nvme_ns_cmd_read(ns, qp, s.Memory(), s.offset, count, &Done, this, 0); break;
        case ring::kWrite: r = spdk_nvme_ns_cmd_write(ns, qp, s.Memory(), s.offset, count, &Done, this, 0); break;
        default: r = spdk_nvme_ns_cmd_compare(ns, qp, s.Memory(), s.offset, count, &Done, this, 0); break;
      }
      if (r == -ENOMEM) return false;  // no free SPDK request: the poller retries after completions
      if (r != 0) Finish(r);
      return true;
    }

    void Abandon(int rc) override { Finish(rc); }

    static void Done(void* arg, const spdk_nvme_cpl* cpl) {
      auto* c = static_cast<Command*>(arg);
      int32_t result = 0;
      if (spdk_nvme_cpl_is_error(cpl)) {
        result = c->device->q_->LossOf(cpl);
        if (result == 0) {
          result = (cpl->status.dnr ? ring::kDnrBit : 0) | (cpl->status.sct & 0x7) << 8 | (cpl->status.sc & 0xff);
        }
      }
      c->Finish(result);
    }

    // Nothing may touch the device after ring::Complete: the ring may let go of it.
    void Finish(int32_t result) {
      device->q_->inflight--;
      ring::Complete(*slot, result);
    }
  };

  std::shared_ptr<QpairState> q_;
  const uint32_t nsid_;
  const uint32_t block_size_;
  spdk_nvme_ns* ns_ = nullptr;  // app thread
  std::vector<Command> commands_;
};

}  // namespace

// (nsid, blockSize): a device for `new IoRing(device, ...)`; checked by src/nvme.
Napi::Value NewRingDevice(const Napi::CallbackInfo& info, const std::shared_ptr<QpairState>& q) {
  auto* device = new std::shared_ptr<ring::Device>(std::make_shared<NvmeRingDevice>(
      q, info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value()));
  return Napi::External<std::shared_ptr<ring::Device>>::New(info.Env(), device,
                                                           [](Napi::Env, std::shared_ptr<ring::Device>* d) { delete d; });
}

void TakeRings(QpairState& q) {
  std::vector<std::weak_ptr<ring::RingState>> rings = q.rings;  // a ring's I/O may complete at once
  for (auto& w : rings) {
    if (std::shared_ptr<ring::RingState> r = w.lock()) ring::TakeAll(*r);
  }
}

}  // namespace spdk_node::nvme
