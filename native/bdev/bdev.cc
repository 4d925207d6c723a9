// See bdev.h.
#include "bdev/bdev.h"

#include <spdk/bdev.h>
#include <spdk/bdev_module.h>
#include <spdk/env.h>
#include <spdk/log.h>
#include <spdk/thread.h>
#include <spdk/uuid.h>

#include <algorithm>
#include <optional>

#include "addon_data.h"
#include "crossing.h"

namespace spdk_node {

void BdevState::Shutdown(std::function<void()> done) {
  if (desc == nullptr) {
    done();
    return;
  }
  on_closed_.push_back(std::move(done));
  if (!closing) {
    // Submitted before the close or stop: JS counts it in flight, so it runs rather than fails.
    std::vector<std::weak_ptr<BdevIoSource>> sources;
    sources.swap(sources_);
    for (auto& w : sources) {
      if (std::shared_ptr<BdevIoSource> source = w.lock()) source->TakeAll();
    }
    closing = true;
    runtime::Unregister(this);
  }
  if (inflight == 0) {
    Release();
  } else if (close_timer_ == nullptr) {
    close_timer_ = spdk_poller_register_named(&BdevState::OnCloseOverdue, this, kCloseGraceUs, "spdk_node_close_overdue");
  }
}

int BdevState::OnCloseOverdue(void* ctx) {
  auto* st = static_cast<BdevState*>(ctx);
  spdk_poller_unregister(&st->close_timer_);  // once
  if (st->desc == nullptr || st->inflight == 0) return SPDK_POLLER_BUSY;
  SPDK_WARNLOG("bdev %s: %lu I/O still in flight %lu s after close; resetting the bdev to abort them\n", st->name.c_str(),
               static_cast<unsigned long>(st->inflight), static_cast<unsigned long>(kCloseGraceUs / 1'000'000));
  // The reset is an I/O on the descriptor too: the close waits for it as well.
  st->inflight++;
  int rc = spdk_bdev_reset(st->desc, st->channel, [](spdk_bdev_io* io, bool, void* arg) {
    spdk_bdev_free_io(io);
    static_cast<BdevState*>(arg)->IoFinished();
  }, st);
  if (rc != 0) {
    SPDK_ERRLOG("bdev %s: cannot reset (%d); the close waits for its I/O\n", st->name.c_str(), rc);
    st->IoFinished();
  }
  return SPDK_POLLER_BUSY;
}

void BdevState::AddSource(std::weak_ptr<BdevIoSource> source) {
  sources_.erase(std::remove_if(sources_.begin(), sources_.end(), [](auto& w) { return w.expired(); }), sources_.end());
  sources_.push_back(std::move(source));
}

void BdevState::IoFinished() {
  if (--inflight == 0 && closing && desc != nullptr) Release();
}

void BdevState::Release() {
  if (close_timer_ != nullptr) spdk_poller_unregister(&close_timer_);
  spdk_put_io_channel(channel);
  spdk_bdev_close(desc);
  channel = nullptr;
  desc = nullptr;
  std::vector<std::function<void()>> callbacks;
  callbacks.swap(on_closed_);
  std::shared_ptr<BdevState> last = std::move(self_while_open_);  // may be the last reference
  for (auto& cb : callbacks) cb();
}

namespace {

void OnBdevEvent(spdk_bdev_event_type type, spdk_bdev* bdev, void* ctx) {
  auto* st = static_cast<BdevState*>(ctx);
  if (type == SPDK_BDEV_EVENT_REMOVE) {
    // The bdev is going away (deleted through RPC, hot-removed): finish what is in flight,
    // then let go, so that the deletion can complete. Later I/O gets ENODEV.
    st->removed = true;
    st->Shutdown([] {});
  }
}

// ---- open ---------------------------------------------------------------------------------

class OpenRequest : public Request {
 public:
  OpenRequest(Napi::Env env, std::string name, bool write) : deferred(Napi::Promise::Deferred::New(env)) {
    st = std::make_shared<BdevState>();
    st->name = std::move(name);
    st->writable = write;
  }
  void Execute() override {
    rc = spdk_bdev_open_ext(st->name.c_str(), st->writable, &OnBdevEvent, st.get(), &st->desc);
    if (rc == 0) {
      st->channel = spdk_bdev_get_io_channel(st->desc);
      if (st->channel == nullptr) {
        spdk_bdev_close(st->desc);
        st->desc = nullptr;
        rc = -ENOMEM;
      }
    }
    if (rc == 0) {
      spdk_bdev* bdev = spdk_bdev_desc_get_bdev(st->desc);
      st->block_size = spdk_bdev_get_block_size(bdev);
      st->num_blocks = spdk_bdev_get_num_blocks(bdev);
      st->buf_align = spdk_bdev_get_buf_align(bdev);
      st->HoldWhileOpen();
      runtime::Register(st.get());
    }
    runtime::Complete(this);
  }
  void Deliver(Napi::Env env) override {
    if (rc != 0) {
      std::string why = rc == -ENODEV ? "there is no bdev named '" + st->name + "'"
                        : rc == -EPERM ? "bdev '" + st->name + "' is claimed for writing by another module"
                                       : "could not open bdev '" + st->name + "'";
      deferred.Reject(MakeError(env, "Spdk.openBdev", rc, why));
      return;
    }
    auto* holder = new std::shared_ptr<BdevState>(st);
    Napi::External<std::shared_ptr<BdevState>> ext = Napi::External<std::shared_ptr<BdevState>>::New(
        env, holder, [](Napi::Env, std::shared_ptr<BdevState>* p) { delete p; });
    deferred.Resolve(Data(env).bdev_constructor.New({ext}));
  }
  Napi::Promise::Deferred deferred;
  std::shared_ptr<BdevState> st;
  int rc = 0;
};

Napi::Value OpenBdev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  runtime::CheckRunning(env, "Spdk.openBdev");
  auto* req = new OpenRequest(env, info[0].As<Napi::String>().Utf8Value(), info[1].ToBoolean());
  Napi::Promise promise = req->deferred.Promise();
  runtime::Submit(env, req);
  return promise;
}

// ---- I/O ----------------------------------------------------------------------------------

// Reads and writes go through I/O rings (ring.h); these are the other, rarer operations.
enum class IoKind { kFlush, kUnmap, kWriteZeroes, kReset };

const char* OperationName(IoKind kind) {
  switch (kind) {
    case IoKind::kFlush: return "bdev.flush";
    case IoKind::kUnmap: return "bdev.unmap";
    case IoKind::kWriteZeroes: return "bdev.writeZeroes";
    default: return "bdev.reset";
  }
}

class IoRequest : public Request {
 public:
  IoRequest(Napi::Env env, std::shared_ptr<BdevState> state, IoKind kind, uint64_t offset, uint64_t length)
      : deferred(Napi::Promise::Deferred::New(env)), st(std::move(state)), kind(kind), offset(offset), length(length) {}

  void Execute() override {
    if (int unavailable = st->Unavailable()) {
      rc = unavailable;
      runtime::Complete(this);
      return;
    }
    st->inflight++;
    Start();
  }

  void Deliver(Napi::Env env) override {
    if (rc == 0) {
      deferred.Resolve(env.Undefined());
    } else if (nvme_status) {
      deferred.Reject(MakeNvmeError(env, OperationName(kind), sct, sc, dnr));
    } else {
      std::string what = rc == -EBADF    ? "bdev '" + st->name + "' is closed"
                         : rc == -ENODEV ? "bdev '" + st->name + "' was removed"
                                         : std::string(OperationName(kind) + 5) + " of " + std::to_string(length) +
                                               " bytes at offset " + std::to_string(offset) + " on '" + st->name +
                                               "' failed";
      deferred.Reject(MakeError(env, OperationName(kind), rc, what));
    }
  }

  Napi::Promise::Deferred deferred;
  std::shared_ptr<BdevState> st;
  IoKind kind;
  uint64_t offset;
  uint64_t length;

 private:
  void Start() {
    spdk_bdev_desc* d = st->desc;
    spdk_io_channel* ch = st->channel;
    int r;
    switch (kind) {
      case IoKind::kFlush: r = spdk_bdev_flush(d, ch, offset, length, &Done, this); break;
      case IoKind::kUnmap: r = spdk_bdev_unmap(d, ch, offset, length, &Done, this); break;
      case IoKind::kWriteZeroes: r = spdk_bdev_write_zeroes(d, ch, offset, length, &Done, this); break;
      default: r = spdk_bdev_reset(d, ch, &Done, this); break;
    }
    if (r == -ENOMEM) {
      // Out of bdev_io structures: SPDK calls back when one is free.
      wait_.bdev = spdk_bdev_desc_get_bdev(d);
      wait_.cb_fn = [](void* arg) { static_cast<IoRequest*>(arg)->Start(); };
      wait_.cb_arg = this;
      r = spdk_bdev_queue_io_wait(wait_.bdev, ch, &wait_);
      if (r == 0) return;
    }
    if (r != 0) Finish(r);
  }

  static void Done(spdk_bdev_io* io, bool success, void* arg) {
    auto* self = static_cast<IoRequest*>(arg);
    int32_t failure = success ? 0 : bdev::FailureOf(io);
    if (failure > 0) {
      self->nvme_status = true;
      self->sct = failure >> 8;
      self->sc = failure & 0xff;
    }
    spdk_bdev_free_io(io);
    self->Finish(failure > 0 ? -EIO : failure);
  }

  void Finish(int result) {
    rc = result;
    st->IoFinished();
    runtime::Complete(this);
  }

  spdk_bdev_io_wait_entry wait_{};
  int rc = 0;
  int sct = 0;
  int sc = 0;
  bool dnr = false;
  bool nvme_status = false;
};

class CloseRequest : public Request {
 public:
  CloseRequest(Napi::Env env, std::shared_ptr<BdevState> st, bool settle)
      : st_(std::move(st)), settle_(settle) {
    if (settle_) deferred_.emplace(Napi::Promise::Deferred::New(env));
  }
  void Execute() override {
    st_->Shutdown([this] { runtime::Complete(this); });
  }
  void Deliver(Napi::Env env) override {
    if (settle_) deferred_->Resolve(env.Undefined());
  }
  Napi::Promise Promise() { return deferred_->Promise(); }

 private:
  std::shared_ptr<BdevState> st_;
  bool settle_;
  std::optional<Napi::Promise::Deferred> deferred_;  // none for the finalizer's close
};

// ---- the JS class -------------------------------------------------------------------------

class Bdev : public Napi::ObjectWrap<Bdev> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeBdev",
                       {
                           InstanceMethod<&Bdev::Flush>("flush"),
                           InstanceMethod<&Bdev::Unmap>("unmap"),
                           InstanceMethod<&Bdev::WriteZeroes>("writeZeroes"),
                           InstanceMethod<&Bdev::Reset>("reset"),
                           InstanceMethod<&Bdev::Close>("close"),
                       });
  }

  explicit Bdev(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Bdev>(info) {
    st_ = *info[0].As<Napi::External<std::shared_ptr<BdevState>>>().Data();
    Napi::Object self = info.This().As<Napi::Object>();
    self.Set("name", st_->name);
    self.Set("writable", st_->writable);
    self.Set("blockSize", st_->block_size);
    self.Set("numBlocks", static_cast<double>(st_->num_blocks));
    self.Set("bufAlign", static_cast<double>(st_->buf_align));
  }

  // Safety net only: a handle collected without close() is closed for the user.
  ~Bdev() override {
    if (!closed_ && runtime::IsRunning()) {
      runtime::Submit(Env(), new CloseRequest(Env(), st_, false));
    }
  }

 private:
  void CheckOpen(Napi::Env env, const char* operation) {
    runtime::CheckRunning(env, operation);
    if (closed_) ThrowError(env, operation, EBADF, "bdev '" + st_->name + "' is closed");
  }

  Napi::Value Range(const Napi::CallbackInfo& info, IoKind kind) {
    Napi::Env env = info.Env();
    CheckOpen(env, OperationName(kind));
    uint64_t offset = kind == IoKind::kReset ? 0 : static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
    uint64_t length = kind == IoKind::kReset ? 0 : static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
    auto* req = new IoRequest(env, st_, kind, offset, length);
    Napi::Promise promise = req->deferred.Promise();
    runtime::Submit(env, req);
    return promise;
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) { return Range(info, IoKind::kFlush); }
  Napi::Value Unmap(const Napi::CallbackInfo& info) { return Range(info, IoKind::kUnmap); }
  Napi::Value WriteZeroes(const Napi::CallbackInfo& info) { return Range(info, IoKind::kWriteZeroes); }
  Napi::Value Reset(const Napi::CallbackInfo& info) { return Range(info, IoKind::kReset); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !runtime::IsRunning()) {
      // Closing twice, or after SPDK stopped (which closed everything), is a no-op.
      closed_ = true;
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(env.Undefined());
      return d.Promise();
    }
    closed_ = true;
    auto* req = new CloseRequest(env, st_, true);
    Napi::Promise promise = req->Promise();
    runtime::Submit(env, req);
    return promise;
  }

  friend std::shared_ptr<BdevState> bdev::StateOf(Napi::Value v);
  std::shared_ptr<BdevState> st_;
  bool closed_ = false;  // JS thread view
};

// ---- listing ------------------------------------------------------------------------------

struct BdevSummary {
  std::string name;
  std::string product_name;
  std::string uuid;
  uint32_t block_size;
  uint64_t num_blocks;
  uint32_t write_unit_size;
  size_t buf_align;
  uint32_t md_size;
  std::vector<const char*> io_types;
};

const std::pair<spdk_bdev_io_type, const char*> kIoTypes[] = {
    {SPDK_BDEV_IO_TYPE_READ, "read"},
    {SPDK_BDEV_IO_TYPE_WRITE, "write"},
    {SPDK_BDEV_IO_TYPE_UNMAP, "unmap"},
    {SPDK_BDEV_IO_TYPE_FLUSH, "flush"},
    {SPDK_BDEV_IO_TYPE_RESET, "reset"},
    {SPDK_BDEV_IO_TYPE_WRITE_ZEROES, "writeZeroes"},
    {SPDK_BDEV_IO_TYPE_COMPARE, "compare"},
    {SPDK_BDEV_IO_TYPE_COMPARE_AND_WRITE, "compareAndWrite"},
    {SPDK_BDEV_IO_TYPE_NVME_ADMIN, "nvmeAdmin"},
    {SPDK_BDEV_IO_TYPE_NVME_IO, "nvmeIo"},
    {SPDK_BDEV_IO_TYPE_ZCOPY, "zcopy"},
    {SPDK_BDEV_IO_TYPE_ABORT, "abort"},
    {SPDK_BDEV_IO_TYPE_COPY, "copy"},
};

Napi::Value ListBdevs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Owned by the message as much as by this frame: after a timeout the app thread may still fill it.
  auto listed = std::make_shared<std::vector<BdevSummary>>();
  runtime::RunOnAppThreadSync(env, "Spdk.bdevs", [listed] {
    std::vector<BdevSummary>& list = *listed;
    for (spdk_bdev* b = spdk_bdev_first(); b != nullptr; b = spdk_bdev_next(b)) {
      BdevSummary s;
      s.name = spdk_bdev_get_name(b);
      s.product_name = spdk_bdev_get_product_name(b);
      char uuid[SPDK_UUID_STRING_LEN];
      spdk_uuid_fmt_lower(uuid, sizeof(uuid), spdk_bdev_get_uuid(b));
      s.uuid = uuid;
      s.block_size = spdk_bdev_get_block_size(b);
      s.num_blocks = spdk_bdev_get_num_blocks(b);
      s.write_unit_size = spdk_bdev_get_write_unit_size(b);
      s.buf_align = spdk_bdev_get_buf_align(b);
      s.md_size = spdk_bdev_get_md_size(b);
      for (const auto& [type, name] : kIoTypes) {
        if (spdk_bdev_io_type_supported(b, type)) s.io_types.push_back(name);
      }
      list.push_back(std::move(s));
    }
  });
  const std::vector<BdevSummary>& list = *listed;
  Napi::Array out = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) {
    const BdevSummary& s = list[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", s.name);
    o.Set("productName", s.product_name);
    o.Set("uuid", s.uuid);
    o.Set("blockSize", s.block_size);
    o.Set("numBlocks", static_cast<double>(s.num_blocks));
    o.Set("sizeBytes", static_cast<double>(s.num_blocks) * s.block_size);
    o.Set("writeUnitSize", s.write_unit_size);
    o.Set("bufAlign", static_cast<double>(s.buf_align));
    o.Set("mdSize", s.md_size);
    Napi::Array types = Napi::Array::New(env, s.io_types.size());
    for (size_t j = 0; j < s.io_types.size(); j++) types.Set(static_cast<uint32_t>(j), s.io_types[j]);
    o.Set("supportedIoTypes", types);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

}  // namespace

namespace bdev {
int32_t FailureOf(spdk_bdev_io* io) {
  switch (io->internal.status) {
    case SPDK_BDEV_IO_STATUS_NVME_ERROR: {
      uint32_t cdw0;
      int sct, sc;
      spdk_bdev_io_get_nvme_status(io, &cdw0, &sct, &sc);
      if (sct != 0 || sc != 0) return (sct & 0xff) << 8 | (sc & 0xff);
      return -EIO;
    }
    case SPDK_BDEV_IO_STATUS_AIO_ERROR: {
      int aio = 0;
      spdk_bdev_io_get_aio_status(io, &aio);
      return aio < 0 ? aio : -EIO;
    }
    case SPDK_BDEV_IO_STATUS_ABORTED:
    case SPDK_BDEV_IO_STATUS_FIRST_FUSED_FAILED: return -ECANCELED;
    case SPDK_BDEV_IO_STATUS_MISCOMPARE: return -EILSEQ;
    default: return -EIO;
  }
}

std::shared_ptr<BdevState> StateOf(Napi::Value v) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(Data(env).bdev_constructor.Value())) {
    throw Napi::TypeError::New(env, "expected an open bdev");
  }
  Bdev* b = Bdev::Unwrap(v.As<Napi::Object>());
  if (b->closed_) ThrowError(env, "bdev.createQueue", EBADF, "bdev '" + b->st_->name + "' is closed");
  return b->st_;
}

void Init(Napi::Env env, Napi::Object exports) {
  Data(env).bdev_constructor = Napi::Persistent(Bdev::Define(env));
  exports.Set("openBdev", Napi::Function::New(env, OpenBdev, "openBdev"));
  exports.Set("listBdevs", Napi::Function::New(env, ListBdevs, "listBdevs"));
}
}  // namespace bdev

}  // namespace spdk_node
