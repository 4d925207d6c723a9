// See queue.h.
#include "queue.h"

#include <spdk/bdev.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "addon_data.h"
#include "bdev.h"
#include "crossing.h"
#include "dma.h"
#include "runtime.h"

namespace spdk_node::queue {
namespace {

enum Opcode : int { kRead = 0, kWrite = 1 };
constexpr size_t kHandOverEvery = 16;

struct Completion {
  uint32_t slot;
  int32_t result;  // 0 or -errno
};

class QueueState;

// One per slot, so that SPDK's callbacks (completion, ENOMEM retry) know their slot.
struct Slot {
  QueueState* queue;
  uint32_t index;
  int opcode;
  uint64_t offset;
  uint64_t length;
  spdk_bdev_io_wait_entry wait;
};

struct Entry {
  int opcode;
  uint32_t slot;
  uint64_t offset;
  uint64_t length;
};

// Shared between the JS object and the app thread; kept alive by both.
class QueueState : public std::enable_shared_from_this<QueueState> {
 public:
  QueueState(std::shared_ptr<BdevState> bdev, uint32_t depth, size_t io_size, uint8_t* base)
      : bdev(std::move(bdev)), depth(depth), io_size(io_size), base(base), slots(depth) {
    for (uint32_t i = 0; i < depth; i++) slots[i] = Slot{this, i, 0, 0, 0, {}};
  }

  // App thread. The slot's I/O already counts as in flight on the bdev; a failure to submit
  // completes it with the error (and gives the count back).
  void Start(Slot& s) {
    BdevState& b = *bdev;
    void* buf = base + static_cast<size_t>(s.index) * io_size;
    int rc = s.opcode == kRead ? spdk_bdev_read(b.desc, b.channel, buf, s.offset, s.length, &OnIoDone, &s)
                               : spdk_bdev_write(b.desc, b.channel, buf, s.offset, s.length, &OnIoDone, &s);
    if (rc == -ENOMEM) {
      // Out of bdev_io structures: SPDK calls back when one is free.
      s.wait.bdev = spdk_bdev_desc_get_bdev(b.desc);
      s.wait.cb_fn = [](void* arg) {
        auto* slot = static_cast<Slot*>(arg);
        slot->queue->Start(*slot);
      };
      s.wait.cb_arg = &s;
      rc = spdk_bdev_queue_io_wait(s.wait.bdev, b.channel, &s.wait);
      if (rc == 0) return;
    }
    if (rc != 0) Done(s, rc, true);
  }

  // App thread. `counted`: the I/O reached the bdev (in flight on the descriptor).
  void Done(Slot& s, int result, bool counted) {
    if (counted) bdev->IoFinished();
    bool post;
    size_t waiting;
    {
      std::lock_guard<std::mutex> lock(mutex);
      completed.push_back({s.index, result});
      waiting = completed.size();
      post = !delivery_pending;
      delivery_pending = true;
    }
    if (post) {
      runtime::Complete(new Delivery(shared_from_this()));
    } else if (waiting % kHandOverEvery == 0) {
      // Let JS have these while SPDK completes the rest (see crossing.h).
      runtime::HandOver();
    }
  }

  static void OnIoDone(spdk_bdev_io* io, bool success, void* arg) {
    spdk_bdev_free_io(io);
    auto* s = static_cast<Slot*>(arg);
    s->queue->Done(*s, success ? 0 : -EIO, true);
  }

  // Carries one batch of completions to the JS thread.
  class Delivery : public Request {
   public:
    explicit Delivery(std::shared_ptr<QueueState> q) : q_(std::move(q)) {}
    void Execute() override {}
    void Deliver(Napi::Env env) override { q_->DeliverCompletions(env); }

   private:
    std::shared_ptr<QueueState> q_;
  };

  // JS thread.
  void DeliverCompletions(Napi::Env env) {
    std::vector<Completion> batch;
    {
      std::lock_guard<std::mutex> lock(mutex);
      batch.swap(completed);
      delivery_pending = false;
    }
    if (batch.empty()) return;
    // At most `depth` I/Os are ever in flight, so a batch fits the completion arrays.
    for (size_t i = 0; i < batch.size(); i++) {
      cq_slots[i] = batch[i].slot;
      cq_results[i] = batch[i].result;
    }
    inflight_js -= batch.size();
    if (inflight_js == 0 && holding) {
      holding = false;
      Data(env).crossing->Release();
    }
    if (!on_completions.IsEmpty()) {
      try {
        on_completions.Call({Napi::Number::New(env, static_cast<double>(batch.size()))});
      } catch (const Napi::Error& e) {
        // The user's callback threw: report it like any uncaught exception.
        napi_fatal_exception(env, e.Value());
      }
    }
  }

  std::shared_ptr<BdevState> bdev;
  const uint32_t depth;
  const size_t io_size;
  uint8_t* const base;  // depth * io_size bytes of DMA memory (owned by a JS ArrayBuffer)
  std::vector<Slot> slots;

  std::mutex mutex;
  std::vector<Completion> completed;  // guarded by mutex
  bool delivery_pending = false;      // guarded by mutex

  // JS thread only.
  uint32_t* cq_slots = nullptr;
  int32_t* cq_results = nullptr;
  Napi::FunctionReference on_completions;
  Napi::Reference<Napi::Value> keep_memory;  // the DMA ArrayBuffer and the shared arrays
  Napi::Reference<Napi::Value> keep_sq, keep_cq_slots, keep_cq_results;
  uint64_t inflight_js = 0;
  bool holding = false;
};

class SubmitRequest : public Request {
 public:
  SubmitRequest(std::shared_ptr<QueueState> q, std::vector<Entry> entries) : q_(std::move(q)), entries_(std::move(entries)) {}
  void Execute() override {
    BdevState& b = *q_->bdev;
    for (const Entry& e : entries_) {
      Slot& s = q_->slots[e.slot];
      s.opcode = e.opcode;
      s.offset = e.offset;
      s.length = e.length;
      if (int unavailable = b.Unavailable()) {
        q_->Done(s, unavailable, false);
      } else {
        b.inflight++;
        q_->Start(s);
      }
    }
    runtime::Complete(this);
  }
  void Deliver(Napi::Env) override {}

 private:
  std::shared_ptr<QueueState> q_;
  std::vector<Entry> entries_;
};

class IoQueue : public Napi::ObjectWrap<IoQueue> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeIoQueue",
                       {InstanceMethod<&IoQueue::Submit>("submit"), InstanceMethod<&IoQueue::Close>("close")});
  }

  // new NativeIoQueue(bdev, depth, ioSize, sq: Float64Array, cqSlots: Uint32Array,
  //                   cqResults: Int32Array, onCompletions) — validated by src/queue.ts.
  explicit IoQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IoQueue>(info) {
    Napi::Env env = info.Env();
    runtime::CheckRunning(env, "bdev.createQueue");
    std::shared_ptr<BdevState> bdev = bdev::StateOf(info[0]);
    uint32_t depth = info[1].As<Napi::Number>().Uint32Value();
    size_t io_size = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
    Napi::ArrayBuffer memory = dma::NewArrayBuffer(env, "bdev.createQueue", depth * io_size, 4096);
    q_ = std::make_shared<QueueState>(bdev, depth, io_size, static_cast<uint8_t*>(memory.Data()));
    auto sq = info[3].As<Napi::Float64Array>();
    sq_ = sq.Data();
    q_->cq_slots = info[4].As<Napi::Uint32Array>().Data();
    q_->cq_results = info[5].As<Napi::Int32Array>().Data();
    q_->on_completions = Napi::Persistent(info[6].As<Napi::Function>());
    q_->keep_memory = Napi::Persistent(Napi::Value(memory));
    q_->keep_sq = Napi::Persistent(info[3]);
    q_->keep_cq_slots = Napi::Persistent(info[4]);
    q_->keep_cq_results = Napi::Persistent(info[5]);
    info.This().As<Napi::Object>().Set("memory", memory);
  }

  ~IoQueue() override {
    // Break the cycle JS callback -> queue object; the QueueState may outlive us until its last
    // completion is delivered.
    if (q_ && q_->holding) {
      q_->holding = false;
      Data(Env()).crossing->Release();
    }
  }

 private:
  // submit(n): the first n rows of the submission array. Returns n.
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    runtime::CheckRunning(env, "queue.submit");
    uint32_t n = info[0].As<Napi::Number>().Uint32Value();
    if (closed_) ThrowError(env, "queue.submit", EBADF, "the queue is closed");
    if (n > q_->depth) ThrowError(env, "queue.submit", EINVAL, "more operations than the queue's depth");
    std::vector<Entry> entries(n);
    for (uint32_t i = 0; i < n; i++) {
      const double* row = sq_ + 4 * i;
      Entry& e = entries[i];
      e.opcode = static_cast<int>(row[0]);
      e.slot = static_cast<uint32_t>(row[1]);
      e.offset = static_cast<uint64_t>(row[2]);
      e.length = static_cast<uint64_t>(row[3]);
      // The TypeScript layer validated these; memory safety does not rely on it.
      if (e.slot >= q_->depth || e.length > q_->io_size || (e.opcode != kRead && e.opcode != kWrite)) {
        ThrowError(env, "queue.submit", EINVAL, "invalid submission row " + std::to_string(i));
      }
    }
    if (n == 0) return Napi::Number::New(env, 0);
    if (q_->inflight_js == 0 && !q_->holding) {
      q_->holding = true;
      Data(env).crossing->Hold();
    }
    q_->inflight_js += n;
    runtime::Submit(env, new SubmitRequest(q_, std::move(entries)));
    return Napi::Number::New(env, n);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    return info.Env().Undefined();
  }

  std::shared_ptr<QueueState> q_;
  const double* sq_ = nullptr;
  bool closed_ = false;
};

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("IoQueue", IoQueue::Define(env));
}

}  // namespace spdk_node::queue
