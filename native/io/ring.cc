// See ring.h for the mechanism and its rules.
#include "io/ring.h"

#include <spdk/bdev.h>
#include <spdk/thread.h>

#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "bdev/bdev.h"
#include "crossing.h"
#include "dma.h"
#include "runtime.h"

namespace spdk_node::ring {
namespace {

// A submission row: opcode, slot, offset, length, address (0: the slot's memory or Buffer).
constexpr size_t kRowWords = 5;

// Completions published together at most: JS refills the queue while SPDK completes the rest,
// instead of the two taking turns (16 measured better than 32 and 64).
constexpr uint32_t kPublishEvery = 16;
constexpr uint32_t kTakeAtMost = 16;

uint32_t PowerOfTwoAtLeast(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

class IoRing;

}  // namespace

class RingState : public BdevIoSource, public std::enable_shared_from_this<RingState> {
 public:
  RingState(std::shared_ptr<Device> device, uint32_t depth)
      : device_(std::move(device)),
        depth(depth),
        capacity_(PowerOfTwoAtLeast(depth)),
        mask_(capacity_ - 1),
        slots(depth),
        sq_(capacity_) {
    for (uint32_t i = 0; i < depth; i++) {
      slots[i].ring = this;
      slots[i].index = i;
    }
    shared_bytes = (kEntryWord + 2 * static_cast<size_t>(capacity_)) * sizeof(int32_t);
    shared = static_cast<int32_t*>(std::aligned_alloc(64, (shared_bytes + 63) / 64 * 64));
    if (shared == nullptr) throw std::bad_alloc();
    memset(shared, 0, shared_bytes);
    shared[kArmedWord] = 1;  // JS starts out waiting
  }
  ~RingState() { std::free(shared); }
  RingState(const RingState&) = delete;
  RingState& operator=(const RingState&) = delete;

  // ---- JS thread ----

  void Push(uint32_t slot) { sq_[sq_tail_js_++ & mask_] = slot; }

  // Makes pushed slots visible to the app thread. While the app thread polls this ring (it has
  // I/O in flight) that is all; otherwise one doorbell starts it polling.
  void Publish(Crossing& crossing) {
    int cpu = sched_getcpu();
    js_cpu_.store(cpu, std::memory_order_relaxed);
    __atomic_store_n(&shared[kSameCoreWord], cpu == app_cpu_.load(std::memory_order_relaxed) ? 1 : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sq_tail_, sq_tail_js_, __ATOMIC_SEQ_CST);
    if (watched_.load() != 0 || watched_.exchange(1) != 0) return;
    crossing.Send(&RingState::OnDoorbell, new std::shared_ptr<RingState>(shared_from_this()));
  }

  // ---- app thread ----

  static void OnDoorbell(void* ctx) {
    std::unique_ptr<std::shared_ptr<RingState>> keep(static_cast<std::shared_ptr<RingState>*>(ctx));
    RingState& r = **keep;
    r.app_cpu_.store(sched_getcpu(), std::memory_order_relaxed);  // a reactor stays on its core
    if (r.poller_ == nullptr) {
      r.poller_ = spdk_poller_register_named(&RingState::Poll, &r, 0, "spdk_node_ring");
      if (r.poller_ != nullptr) r.poller_keep_ = r.shared_from_this();
    }
    if (r.poller_ == nullptr) {
      r.watched_.store(0);  // no poller (out of memory): every submit rings, and this takes all
      while (r.TakeSubmissions() != 0) {
      }
      return;
    }
    r.TakeSubmissions();
  }

  // Each reactor iteration while the ring is busy: take new submissions, publish completions.
  // Idle (nothing in flight, nothing submitted): stop, and let the next submit ring the doorbell.
  static int Poll(void* ctx) {
    auto* r = static_cast<RingState*>(ctx);
    uint32_t took = r->TakeSubmissions();
    bool published = r->cq_tail_ != r->cq_published_;
    // No completion since the last iteration: a JS thread waiting for a batch gets what there is.
    bool stalled = r->cq_tail_ == r->cq_tail_last_poll_;
    r->cq_tail_last_poll_ = r->cq_tail_;
    if (published) {
      r->PublishCompletions(stalled);
    } else if (stalled) {
      r->WakeIfDue(true);  // a wake-up held back for a batch that is not coming
    }
    if (r->JsAwakeOnThisCore()) sched_yield();  // see "Sharing a core" in ring.h
    // Busy or idle as SPDK counts it (its load statistics); the poller stays while I/O is in flight.
    if (took != 0 || r->inflight_ != 0) return took != 0 || published ? SPDK_POLLER_BUSY : SPDK_POLLER_IDLE;
    r->watched_.store(0);
    // A submit that still saw the ring watched published before the store: take it. A submit
    // after it rings the doorbell (harmless if this keeps polling).
    if (r->TakeSubmissions() != 0) return SPDK_POLLER_BUSY;
    spdk_poller_unregister(&r->poller_);
    std::shared_ptr<RingState> last = std::move(r->poller_keep_);  // may be the last reference
    return SPDK_POLLER_IDLE;
  }

  // The JS thread has been woken or is busy (not armed) and last submitted from this core.
  bool JsAwakeOnThisCore() const { return __atomic_load_n(&shared[kArmedWord], __ATOMIC_RELAXED) == 0 && JsOnThisCore(); }

  // Takes at most kTakeAtMost at a time (the poller takes the rest next iteration): a bdev that
  // does its work at submission, like malloc's memcpy, would otherwise take a whole queue's
  // worth at once while JS waits, then leave SPDK idle while JS handles the whole batch. Sharing
  // a core, JS cannot run meanwhile anyway: take all (ring.h, "Sharing a core").
  uint32_t TakeSubmissions() { return Take(JsOnThisCore() ? UINT32_MAX : kTakeAtMost); }

  uint32_t Take(uint32_t at_most) {
    uint32_t tail = __atomic_load_n(&sq_tail_, __ATOMIC_SEQ_CST);
    if (tail - sq_head_ > at_most) tail = sq_head_ + at_most;
    uint32_t took = tail - sq_head_;
    while (sq_head_ != tail) {
      Slot& s = slots[sq_[sq_head_++ & mask_]];
      Start(s);
    }
    return took;
  }

  // App thread: the device is closing; start what JS submitted before that.
  void TakeAll() override {
    while (Take(UINT32_MAX) != 0) {
    }
  }

  // JS thread: the object JS calls back on a wake-up, or null once it is gone.
  IoRing* owner = nullptr;

  std::shared_ptr<Device> device_;
  const uint32_t depth;
  DmaRef memory;  // the slot memory of a ring that has it: held as long as the ring state lives
  int32_t* shared = nullptr;  // the memory JS reads completions from (see ring.h)
  size_t shared_bytes = 0;

 private:
  void Start(Slot& s) {
    if (inflight_++ == 0) busy_ = shared_from_this();
    if (s.refused != 0) {
      Finish(s, s.refused);
      return;
    }
    if (int unavailable = device_->Unavailable()) {
      Finish(s, unavailable);
      return;
    }
    device_->Issue(s);
  }

 public:
  // A device's I/O ended (ring::Complete), or it never started.
  void Finish(Slot& s, int32_t result) {
    if (s.bounce != nullptr && s.opcode != kRead) {  // a read's is emptied and freed by JS (reap)
      dma::FreeBounce(s.bounce, s.bounce_length, device_->BufAlign());
      s.bounce = nullptr;
    }
    s.block.reset();  // before the completion is published: JS may reuse the slot from then on
    uint32_t i = cq_tail_ & mask_;
    shared[kEntryWord + 2 * i] = static_cast<int32_t>(s.index);
    shared[kEntryWord + 2 * i + 1] = result;
    cq_tail_++;
    if (--inflight_ == 0) {
      // Nothing else is in flight: publish now (a batch is due unless more is already submitted;
      // the poller then takes it). `last` may hold the last reference to this ring.
      std::shared_ptr<RingState> last = std::move(busy_);
      PublishCompletions(Queued() == 0 || poller_ == nullptr);
      return;
    }
    // The poller publishes the rest each reactor iteration; without one (it could not be
    // registered), every completion is published at once.
    if (cq_tail_ - cq_published_ >= kPublishEvery || poller_ == nullptr) PublishCompletions(poller_ == nullptr);
  }

  // Makes completions visible to JS, then WakeIfDue(stalled).
  void PublishCompletions(bool stalled);
  // Wakes JS if it waits (armed) for completions it has not read and they are due. `stalled`:
  // nothing more is about to complete (so a batch is due whatever its size).
  void WakeIfDue(bool stalled);

  // A waiting JS thread on this core (see "Sharing a core" in ring.h) is woken for a batch: once
  // at least half of what is outstanding has completed, or when nothing more is completing.
  // JS wrote its head before it armed: every completion before it has been read.
  bool WakeDue(bool stalled) const {
    uint32_t unread = cq_published_ - static_cast<uint32_t>(__atomic_load_n(&shared[kHeadWord], __ATOMIC_RELAXED));
    if (unread == 0) return false;
    if (stalled || !JsOnThisCore()) return true;
    // Outstanding: started and not finished, and submitted but not yet taken (kTakeAtMost).
    return unread >= inflight_ + Queued();
  }

  // Submitted by JS and not yet taken.
  uint32_t Queued() const { return __atomic_load_n(&sq_tail_, __ATOMIC_RELAXED) - sq_head_; }

  bool JsOnThisCore() const { return js_cpu_.load(std::memory_order_relaxed) == app_cpu_.load(std::memory_order_relaxed); }

 private:
  const uint32_t capacity_;
  const uint32_t mask_;

 public:
  std::vector<Slot> slots;

 private:
  std::vector<uint32_t> sq_;
  // Fields are grouped by who writes them, each group on its own cache lines, so that the JS
  // thread's writes do not evict what the app thread reads on every I/O (and back).
  alignas(64) uint32_t sq_tail_js_ = 0;    // JS thread
  alignas(64) uint32_t sq_tail_ = 0;       // JS writes, app thread reads
  std::atomic<int> watched_{0};            // 1: the app thread polls, or a doorbell is on its way
  std::atomic<int> js_cpu_{-1};            // JS thread: the core of its last submit
  std::atomic<int> app_cpu_{-2};           // app thread: its core (never equal to js_cpu_ until known)
  alignas(64) uint32_t sq_head_ = 0;       // app thread
  uint32_t cq_tail_ = 0;                   // app thread: completions written
  uint32_t cq_published_ = 0;              // app thread: completions JS may read
  uint32_t cq_tail_last_poll_ = 0;         // app thread: cq_tail_ at the poller's last iteration
  uint64_t inflight_ = 0;                  // app thread: taken and not finished
  std::shared_ptr<RingState> busy_;        // app thread: held while inflight_ > 0
  spdk_poller* poller_ = nullptr;          // app thread
  std::shared_ptr<RingState> poller_keep_; // app thread: held while the poller is registered
};

namespace {

// Carries a wake-up to the JS thread through the crossing.
class WakeRequest : public Request {
 public:
  explicit WakeRequest(std::shared_ptr<RingState> ring) : ring_(std::move(ring)) {}
  void Execute() override {}
  void Deliver(Napi::Env env) override;

 private:
  std::shared_ptr<RingState> ring_;
};

}  // namespace

void Complete(Slot& s, int32_t result) { s.ring->Finish(s, result); }

void TakeAll(RingState& ring) { ring.TakeAll(); }

void RingState::PublishCompletions(bool stalled) {
  cq_published_ = cq_tail_;
  // Sequentially consistent store, then load: pairs with JS's Atomics.store(armed) followed by
  // Atomics.load(tail), so either JS sees the new tail or this sees it armed.
  __atomic_store_n(&shared[kTailWord], static_cast<int32_t>(cq_published_), __ATOMIC_SEQ_CST);
  WakeIfDue(stalled);
}

void RingState::WakeIfDue(bool stalled) {
  if (__atomic_load_n(&shared[kArmedWord], __ATOMIC_SEQ_CST) != 0 && WakeDue(stalled) &&
      __atomic_exchange_n(&shared[kArmedWord], 0, __ATOMIC_SEQ_CST) != 0) {
    runtime::Wake(new WakeRequest(shared_from_this()));
  }
}

namespace {

// Registers a ring with its bdev on the app thread, ahead (in the crossing's order) of any close
// JS asks for later: the close first takes what the ring has published.
class AddSourceRequest : public Request {
 public:
  AddSourceRequest(std::shared_ptr<BdevState> bdev, std::weak_ptr<BdevIoSource> ring) : bdev_(std::move(bdev)), ring_(std::move(ring)) {}
  void Execute() override {
    bdev_->AddSource(ring_);
    runtime::Complete(this);
  }
  void Deliver(Napi::Env) override {}

 private:
  std::shared_ptr<BdevState> bdev_;
  std::weak_ptr<BdevIoSource> ring_;
};

// An open bdev: reads and writes through its descriptor and I/O channel.
class BdevDevice : public Device {
 public:
  explicit BdevDevice(std::shared_ptr<BdevState> bdev) : bdev_(std::move(bdev)) {}

  const char* CreateOperation() const override { return "bdev.createQueue"; }
  bool Accepts(int opcode) const override { return opcode == kRead || opcode == kWrite; }
  size_t BufAlign() const override { return bdev_->buf_align; }
  void Attach(Napi::Env env, uint32_t depth, const std::shared_ptr<RingState>& ring) override {
    waits_.resize(depth);
    runtime::Submit(env, new AddSourceRequest(bdev_, std::weak_ptr<RingState>(ring)));
  }
  int Unavailable() override { return bdev_->Unavailable(); }

  void Issue(Slot& s) override {
    bdev_->inflight++;
    Submit(s);
  }

 private:
  struct Wait {
    spdk_bdev_io_wait_entry entry{};
    BdevDevice* device = nullptr;
    Slot* slot = nullptr;
  };

  void Submit(Slot& s) {
    BdevState& b = *bdev_;
    void* buf = s.Memory();
    int rc = s.opcode == kRead ? spdk_bdev_read(b.desc, b.channel, buf, s.offset, s.length, &OnIoDone, &s)
                               : spdk_bdev_write(b.desc, b.channel, buf, s.offset, s.length, &OnIoDone, &s);
    if (rc == -ENOMEM) {
      // Out of bdev_io structures: SPDK calls back when one is free.
      Wait& w = waits_[s.index];
      w.device = this;
      w.slot = &s;
      w.entry.bdev = spdk_bdev_desc_get_bdev(b.desc);
      w.entry.cb_fn = [](void* arg) {
        auto* wait = static_cast<Wait*>(arg);
        wait->device->Submit(*wait->slot);
      };
      w.entry.cb_arg = &w;
      rc = spdk_bdev_queue_io_wait(w.entry.bdev, b.channel, &w.entry);
      if (rc == 0) return;
    }
    if (rc != 0) Done(s, rc);
  }

  static void OnIoDone(spdk_bdev_io* io, bool success, void* arg) {
    auto* s = static_cast<Slot*>(arg);
    int32_t result = success ? 0 : bdev::FailureOf(io);
    spdk_bdev_free_io(io);
    Done(*s, result);
  }

  // The I/O no longer counts on the descriptor; then the ring takes it (and may let go of this).
  static void Done(Slot& s, int32_t result) {
    static_cast<BdevDevice&>(*s.ring->device_).bdev_->IoFinished();
    Complete(s, result);
  }

  std::shared_ptr<BdevState> bdev_;
  std::vector<Wait> waits_;
};


// The JS object: new IoRing(bdev, depth, slotBytes, onWake). slotBytes > 0: each slot owns that
// much DMA memory (`memory`); 0: each submission names its Buffer. Validated by src/io/ring.ts.
class IoRing : public Napi::ObjectWrap<IoRing> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeIoRing",
                       {InstanceMethod<&IoRing::Submit>("submit"), InstanceMethod<&IoRing::Reap>("reap"),
                        InstanceMethod<&IoRing::Idle>("idle"), InstanceMethod<&IoRing::Close>("close")});
  }

  explicit IoRing(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IoRing>(info) {
    Napi::Env env = info.Env();
    // The device: an External from a device maker (an NVMe queue pair's ringDevice()), whose JS
    // owner is info[4]; or an open bdev.
    std::shared_ptr<Device> device;
    if (info[0].IsExternal()) {
      device = *info[0].As<Napi::External<std::shared_ptr<Device>>>().Data();
      if (info[4].IsObject()) owner_object_ = Napi::Persistent(info[4].As<Napi::Object>());
    } else {
      runtime::CheckRunning(env, "bdev.createQueue");
      device = std::make_shared<BdevDevice>(bdev::StateOf(info[0]));
      owner_object_ = Napi::Persistent(info[0].As<Napi::Object>());
    }
    // The owner (bdev or queue pair object) stays alive as long as its queue: collecting it would
    // close the descriptor or free the queue pair.
    const char* operation = device->CreateOperation();
    runtime::CheckRunning(env, operation);
    uint32_t depth = info[1].As<Napi::Number>().Uint32Value();
    slot_bytes_ = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
    state_ = std::make_shared<RingState>(device, depth);
    device->Attach(env, depth, state_);
    state_->owner = this;
    Napi::Object self = info.This().As<Napi::Object>();
    if (slot_bytes_ > 0) {
      Napi::ArrayBuffer memory = dma::NewArrayBuffer(env, operation, depth * slot_bytes_, 4096, &state_->memory);
      base_ = state_->memory->data();
      self.Set("memory", memory);  // kept alive with this object
    } else {
      // bounced[slot] = 1: a read into an ordinary Buffer, to be copied out by reap().
      Napi::ArrayBuffer bounced = Napi::ArrayBuffer::New(env, depth);
      bounced_ = static_cast<uint8_t*>(bounced.Data());
      memset(bounced_, 0, depth);
      self.Set("bounced", bounced);  // kept alive with this object
    }
    Napi::ArrayBuffer rows = Napi::ArrayBuffer::New(env, depth * kRowWords * sizeof(double));
    rows_ = static_cast<const double*>(rows.Data());
    self.Set("rows", rows);
    // The completion memory lives as long as either JS's ArrayBuffer or the ring state does.
    auto* hold = new std::shared_ptr<RingState>(state_);
    self.Set("completions", Napi::ArrayBuffer::New(env, state_->shared, state_->shared_bytes,
                                                   [](Napi::Env, void*, std::shared_ptr<RingState>* h) { delete h; },
                                                   hold));
    self.Set("onWake", info[3]);  // a property, not a strong reference: no cycle through C++
    on_wake_ = Napi::Weak(info[3].As<Napi::Function>());
  }

  ~IoRing() override {
    state_->owner = nullptr;
    // Null once the environment is being torn down (a worker terminated): nothing to release.
    Crossing* crossing = Data(Env()).crossing;
    if (holding_ && crossing != nullptr) crossing->Release();
  }

  // App thread published completions and JS was waiting: call JS (inside the crossing's scope).
  void Wake(Napi::Env env) {
    Napi::Function fn = on_wake_.Value();
    if (fn.IsEmpty()) return;
    try {
      fn.Call(Value(), {});
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }

 private:
  // submit(n[, targets]): takes rows 0..n-1 of `rows`. For a ring without slot memory, the
  // row's address names DMA memory (from dmaAddress(), checked here), or, when 0, targets[slot]
  // is the Uint8Array of that slot's I/O.
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    runtime::CheckRunning(env, "queue.submit");  // the Promise path names its own operation (withOperation)
    if (closed_) ThrowError(env, "queue.submit", EBADF, "the queue is closed");
    uint32_t n = info[0].As<Napi::Number>().Uint32Value();
    if (n > state_->depth) ThrowError(env, "queue.submit", EINVAL, "more operations than the ring's depth");
    napi_value targets = slot_bytes_ == 0 ? static_cast<napi_value>(info[1]) : nullptr;
    // Check every row before any is pushed: the TypeScript layer validated them, but memory
    // safety must not rely on it.
    for (uint32_t i = 0; i < n; i++) {
      const double* row = rows_ + kRowWords * i;
      auto opcode = static_cast<int>(row[0]);
      double slot = row[1];
      double length = row[3];
      if (!state_->device_->Accepts(opcode) || !(slot >= 0 && slot < state_->depth) || !(row[2] >= 0) ||
          !(length > 0) || (slot_bytes_ > 0 && length > static_cast<double>(slot_bytes_))) {
        ThrowError(env, "queue.submit", EINVAL, "invalid submission row " + std::to_string(i));
      }
    }
    for (uint32_t i = 0; i < n; i++) {
      const double* row = rows_ + kRowWords * i;
      auto opcode = static_cast<int>(row[0]);
      double length = row[3];
      Slot& s = state_->slots[static_cast<uint32_t>(row[1])];
      s.refused = 0;
      s.opcode = opcode;
      s.offset = static_cast<uint64_t>(row[2]);
      s.length = static_cast<uint64_t>(length);
      if (slot_bytes_ > 0) {
        s.data = base_ + static_cast<size_t>(s.index) * slot_bytes_;
        s.direct = true;
      } else if (row[4] > 0) {
        s.data = reinterpret_cast<void*>(static_cast<uintptr_t>(row[4]));
        s.direct = true;
        // Not live DMA memory (its Buffer was collected since): this I/O alone fails, EINVAL.
        s.block = dma::Find(s.data, s.length);
        if (s.block == nullptr) s.refused = -EINVAL;
      } else {
        napi_value target;
        napi_typedarray_type type;
        size_t count = 0;
        void* data = nullptr;
        if (napi_get_element(env, targets, s.index, &target) != napi_ok ||
            napi_get_typedarray_info(env, target, &type, &count, &data, nullptr, nullptr) != napi_ok ||
            type != napi_uint8_array || count < s.length) {
          s.refused = -EINVAL;  // its Buffer was detached or is not one: this I/O alone fails
        }
        s.block = s.refused == 0 ? dma::Find(data, s.length) : nullptr;
        s.direct = s.block != nullptr;
        s.data = s.direct ? data : nullptr;
        if (s.refused == 0 && !s.direct) Bounce(s, data);
      }
    }
    if (n == 0) return env.Undefined();
    for (uint32_t i = 0; i < n; i++) state_->Push(static_cast<uint32_t>(rows_[kRowWords * i + 1]));
    if (!holding_) {
      holding_ = true;
      Data(env).crossing->Hold();
      Ref();  // the wake-up must find this object and its callback
    }
    state_->Publish(*Data(env).crossing);
    return env.Undefined();
  }

  // JS thread, at submission: the DMA memory an ordinary Buffer's I/O uses instead of the
  // Buffer, filled now for a write. A read's is emptied by reap().
  void Bounce(Slot& s, const void* data) {
    size_t align = state_->device_->BufAlign();
    if (s.bounce != nullptr) dma::FreeBounce(s.bounce, s.bounce_length, align);  // never reaped
    s.bounce = dma::AllocBounce(s.length, align);
    s.bounce_length = s.length;
    if (s.bounce == nullptr) {
      s.refused = -ENOMEM;
    } else if (s.opcode != kRead) {
      memcpy(s.bounce, data, s.length);
    } else {
      bounced_[s.index] = 1;
    }
  }

  // reap(count, slots, results, targets): before JS hands completions on, copy each completed
  // read of an ordinary Buffer (bounced[slot] = 1) into its Buffer, targets[slot], if it still
  // has the memory; if not (detached, transferred, shrunk meanwhile), its result becomes -EINVAL.
  Napi::Value Reap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t n = info[0].As<Napi::Number>().Uint32Value();
    auto slots = info[1].As<Napi::Uint32Array>();
    auto results = info[2].As<Napi::Int32Array>();
    napi_value targets = info[3];
    if (bounced_ == nullptr || n > slots.ElementLength() || n > results.ElementLength()) return env.Undefined();
    size_t align = state_->device_->BufAlign();
    for (uint32_t i = 0; i < n; i++) {
      uint32_t index = slots[i];
      if (index >= state_->depth || bounced_[index] == 0) continue;
      bounced_[index] = 0;
      Slot& s = state_->slots[index];
      if (s.bounce == nullptr) continue;
      if (results[i] == 0) {
        napi_value target;
        napi_typedarray_type type;
        size_t count = 0;
        void* data = nullptr;
        if (napi_get_element(env, targets, index, &target) == napi_ok &&
            napi_get_typedarray_info(env, target, &type, &count, &data, nullptr, nullptr) == napi_ok &&
            type == napi_uint8_array && count >= s.length) {
          memcpy(data, s.bounce, s.length);
        } else {
          results[i] = -EINVAL;
        }
      }
      dma::FreeBounce(s.bounce, s.bounce_length, align);
      s.bounce = nullptr;
    }
    return env.Undefined();
  }

  // idle(): JS has read every completion it was waiting for; let Node exit and GC collect.
  Napi::Value Idle(const Napi::CallbackInfo& info) {
    if (holding_) {
      holding_ = false;
      Data(info.Env()).crossing->Release();
      Unref();
    }
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    return info.Env().Undefined();
  }

  std::shared_ptr<RingState> state_;
  size_t slot_bytes_ = 0;
  uint8_t* base_ = nullptr;
  uint8_t* bounced_ = nullptr;  // a ring without slot memory: see "bounced" above
  const double* rows_ = nullptr;
  Napi::FunctionReference on_wake_;
  Napi::ObjectReference owner_object_;
  bool holding_ = false;
  bool closed_ = false;
};

void WakeRequest::Deliver(Napi::Env env) {
  if (ring_->owner != nullptr) ring_->owner->Wake(env);
}

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("IoRing", IoRing::Define(env));
}

}  // namespace spdk_node::ring
