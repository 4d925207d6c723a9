// See runtime.h. Start, stop, and the paths by which SPDK can end: stop() from JS, SPDK stopping
// by itself (an RPC such as spdk_kill_instance, a failed start), and the process exiting with
// SPDK still running (environment cleanup hook and atexit, both bounded so exit never hangs).
#include "runtime.h"

#include <spdk/env.h>
#include <spdk/env_dpdk.h>
#include <spdk/event.h>
#include <spdk/log.h>
#include <spdk/thread.h>
#include <spdk/version.h>

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "addon_data.h"
#include "crossing.h"
#include "dma.h"
#include "log.h"

extern "C" {
extern const char spdk_fat_version_string[];  // defined in libspdk_fat.so by build.sh
const char* rte_eal_get_runtime_dir(void);     // DPDK; its header is not installed with SPDK's
// The SPDK version this addon was compiled against, read from the file by the loader's version
// check before the addon is loaded. (Declared extern first: a const definition alone would have
// internal linkage in C++ and never reach the dynamic symbol table.)
__attribute__((visibility("default"))) extern const char spdk_node_spdk_version[];
const char spdk_node_spdk_version[] = SPDK_VERSION_STRING;
}

namespace spdk_node::runtime {
namespace {

enum class State { kIdle, kStarting, kRunning, kStopping };
class StartRequest;

// Seconds the exit path waits for SPDK to shut down before leaving it to the kernel.
constexpr auto kExitWait = std::chrono::seconds(5);
// Seconds an SPDK that stopped by itself waits for JS to let go of DMA buffers.
constexpr auto kDetachWait = std::chrono::seconds(10);
constexpr auto kSyncCallWait = std::chrono::milliseconds(5000);

// How long RunOnAppThreadSync waits: kSyncCallWait, or SPDK_NODE_SYNC_CALL_TIMEOUT_MS.
std::chrono::milliseconds SyncCallWait() {
  static const std::chrono::milliseconds wait = [] {
    const char* v = getenv("SPDK_NODE_SYNC_CALL_TIMEOUT_MS");
    char* end = nullptr;
    long ms = v != nullptr ? strtol(v, &end, 10) : -1;
    return v != nullptr && *v != '\0' && *end == '\0' && ms >= 0 ? std::chrono::milliseconds(ms) : kSyncCallWait;
  }();
  return wait;
}

struct StartConfig {
  std::string name;
  std::string cpu_mask;
  std::string rpc_socket;
  std::string json_config;
  std::string huge_dir;
  int mem_size_mb = -1;
  bool hugepages = true;
  bool interrupt_mode = false;
  bool lock_cores = false;
  bool pci = false;
  int log_level = SPDK_LOG_WARN;
};

struct Runtime {
  std::atomic<State> state{State::kIdle};
  napi_env owner = nullptr;
  Crossing* crossing = nullptr;
  StartConfig config;  // spdk_app_opts points into these strings while SPDK runs
  std::thread launcher;
  std::atomic<spdk_thread*> app_thread{nullptr};
  std::set<AppResource*> resources;  // app thread only
  Request* pending_stop = nullptr;   // launcher/app thread only (they are the same thread)
  // Launcher/app thread only. The StartRequest itself is gone (delivered, deleted by JS) once
  // SPDK has started, so whether it started is kept here.
  bool started = false;
  std::atomic<bool> exiting{false};

  std::mutex mutex;
  std::condition_variable cv;
  StartRequest* next_start = nullptr;  // guarded by mutex: the launcher's next session
  bool launcher_done = false;          // guarded by mutex: the current session has ended
  bool dma_detached = false;           // guarded by mutex

  // Messages to the app thread from other threads (exit, synchronous calls) pass this gate: once
  // a stop is under way the app thread may exit at any moment, and spdk_thread_send_msg() to an
  // exited thread aborts the process. Opened when SPDK has started, closed (on the app thread)
  // when its stop begins; a message sent while open runs before the thread exits.
  std::mutex send_mutex;
  bool app_accepting = false;  // guarded by send_mutex
  bool app_stopping = false;   // app thread only: StopFromAppThread ran
};

// Never destroyed: static destruction at exit must not meet a running SPDK thread.
Runtime& g = *new Runtime;

void MarkLauncherDone() {
  std::lock_guard<std::mutex> lock(g.mutex);
  g.launcher_done = true;
  g.cv.notify_all();
}

bool WaitLauncherDone(std::chrono::seconds limit) {
  std::unique_lock<std::mutex> lock(g.mutex);
  return g.cv.wait_for(lock, limit, [] { return g.launcher_done; });
}

// JS thread: the session's last completion was posted just before launcher_done was set, so this
// returns at once in practice; it makes the ordering explicit.
void JoinLauncher() { WaitLauncherDone(kExitWait); }

// App thread: shut every registered resource down, then call `done`.
void ShutdownResources(std::function<void()> done) {
  std::set<AppResource*> open;
  open.swap(g.resources);
  if (open.empty()) {
    done();
    return;
  }
  auto remaining = std::make_shared<size_t>(open.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  for (AppResource* r : open) {
    r->Shutdown([remaining, finish] {
      if (--*remaining == 0) (*finish)();
    });
  }
}

// Any thread but the app thread: fn(ctx) on the app thread, unless it stopped taking messages.
bool SendToApp(void (*fn)(void*), void* ctx) {
  std::lock_guard<std::mutex> lock(g.send_mutex);
  spdk_thread* app = g.app_thread;
  return g.app_accepting && app != nullptr && spdk_thread_send_msg(app, fn, ctx) == 0;
}

void StopFromAppThread(void*) {
  if (g.app_stopping) return;  // a second request (stop() and exit at once): one stop is enough
  g.app_stopping = true;
  {
    std::lock_guard<std::mutex> lock(g.send_mutex);
    g.app_accepting = false;
  }
  ShutdownResources([] { spdk_app_stop(0); });
}

class StartRequest : public Request {
 public:
  explicit StartRequest(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  void Execute() override {}  // never submitted: the launcher completes it
  void Deliver(Napi::Env env) override {
    if (started) {
      g.state = State::kRunning;
      Napi::Object info = Napi::Object::New(env);
      info.Set("version", spdk_fat_version_string);
      info.Set("cores", spdk_env_get_core_count());
      info.Set("mainCore", spdk_env_get_main_core());
      deferred.Resolve(info);
      return;
    }
    JoinLauncher();
    g.state = State::kIdle;
    g.owner = nullptr;
    deferred.Reject(MakeError(env, "Spdk.start", EIO, "SPDK failed to start (spdk_app_start returned " +
                                                         std::to_string(rc) + ")", log));
  }
  Napi::Promise::Deferred deferred;
  bool started = false;
  int rc = 0;
  uint64_t mark = 0;
  std::vector<std::string> log;
};

class StopRequest : public Request {
 public:
  explicit StopRequest(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  void Execute() override {
    g.pending_stop = this;
    StopFromAppThread(nullptr);
  }
  void Deliver(Napi::Env env) override {
    JoinLauncher();
    g.state = State::kIdle;
    g.owner = nullptr;
    deferred.Resolve(env.Undefined());
  }
  Napi::Promise::Deferred deferred;
};

// SPDK stopped without being asked to by JS (an RPC, a fatal error): JS must let go of DMA
// memory before spdk_app_fini() frees it, and learn that SPDK is gone.
class StoppedNotice : public Request {
 public:
  void Execute() override {}
  void Deliver(Napi::Env env) override {
    dma::DetachAll(env);
    {
      std::lock_guard<std::mutex> lock(g.mutex);
      g.dma_detached = true;
      g.cv.notify_all();
    }
    WaitLauncherDone(kDetachWait + kExitWait);
    JoinLauncher();
    g.state = State::kIdle;
    g.owner = nullptr;
    AddonData& data = Data(env);
    if (!data.on_stopped.IsEmpty()) data.on_stopped.Call({});
  }
};

void OnAppStarted(void* arg) {
  auto* start = static_cast<StartRequest*>(arg);
  spdk_thread* thread = spdk_get_thread();
  g.crossing->SetTarget(thread);
  g.app_thread = thread;
  g.app_stopping = false;
  {
    std::lock_guard<std::mutex> lock(g.send_mutex);
    g.app_accepting = true;
  }
  g.started = true;
  start->started = true;
  if (g.exiting) {
    // The process began exiting while SPDK was starting: nobody is waiting for this start.
    StopFromAppThread(nullptr);
  }
  g.crossing->Complete(start);  // from here on `start` belongs to the JS thread
}

// The launcher: SPDK's environment goes, and with it the memory of every DMA block still
// referenced (dma_block.h): those are not freed after this, and views JS moved out of reach of
// DetachAll() get zeroed memory in place of the environment's (dma.h).
void FiniEnvironment() {
  std::string runtime_dir = rte_eal_get_runtime_dir();
  DmaBlock::EnvironmentGone();
  spdk_app_fini();
  // DPDK's cleanup removes its runtime files but not their directory (/var/run/dpdk/spdk_pid<N>):
  // without this, every process that ever ran SPDK would leave one behind.
  if (!runtime_dir.empty()) rmdir(runtime_dir.c_str());
  dma::CoverEscapedViews();
}

void RunSession(StartRequest* start) {
  const StartConfig& c = g.config;
  spdk_app_opts opts;
  spdk_app_opts_init(&opts, sizeof(opts));
  opts.name = c.name.c_str();
  opts.reactor_mask = c.cpu_mask.c_str();
  opts.rpc_addr = c.rpc_socket.empty() ? nullptr : c.rpc_socket.c_str();
  if (c.mem_size_mb > 0) opts.mem_size = c.mem_size_mb;
  opts.no_huge = !c.hugepages;
  // Hugepage files are unlinked as soon as they are mapped: nothing is left in hugetlbfs even
  // if the process is killed. (DPDK refuses the option together with --no-huge.)
  opts.unlink_hugepage = c.hugepages;
  if (!c.huge_dir.empty()) opts.hugedir = c.huge_dir.c_str();
  opts.no_pci = !c.pci;
  opts.interrupt_mode = c.interrupt_mode;
  opts.disable_cpumask_locks = !c.lock_cores;
  // Node owns the process's signals; JS decides what SIGINT/SIGTERM do (see src/signals.ts).
  opts.disable_signal_handlers = true;
  // No tracepoint buffer: it lives in /dev/shm and only spdk_app_fini() removes it, so a killed
  // process would leave it behind, and Node programs rarely read SPDK traces.
  opts.num_entries = 0;
  opts.log = &log::Callback;
  opts.print_level = static_cast<spdk_log_level>(c.log_level);
  if (!c.json_config.empty()) {
    opts.json_data = const_cast<char*>(c.json_config.data());
    opts.json_data_size = c.json_config.size();
  }
  g.started = false;
  log::SetPrintLevel(c.log_level);
  log::CaptureDpdk();
  // spdk_app_start() installs opts.log only after initialising the environment; install it now
  // so that what goes wrong during that initialisation is captured too.
  spdk_log_open(&log::Callback);

  dma::OpenBounces();
  int rc = spdk_app_start(&opts, &OnAppStarted, start);

  {
    std::lock_guard<std::mutex> lock(g.send_mutex);
    g.app_accepting = false;  // SPDK stopped by itself, without StopFromAppThread
    g.app_thread = nullptr;
  }
  g.crossing->FlushLocal();  // this thread hosted the app thread: its list is ours now
  dma::ForgetBounces();      // their memory goes with the environment
  if (!g.started) {  // `start` is still ours: nothing has completed it
    start->rc = rc;
    start->log = log::Since(start->mark);
    FiniEnvironment();
    // Complete, then mark done: once done is marked, the JS thread may delete the crossing
    // (CleanupEnv); the delivery waits for the mark (JoinLauncher).
    g.crossing->Complete(start);
    MarkLauncherDone();
    return;
  }
  Request* stop = g.pending_stop;
  g.pending_stop = nullptr;
  if (stop == nullptr && !g.exiting) {
    g.crossing->Complete(new StoppedNotice);
    std::unique_lock<std::mutex> lock(g.mutex);
    g.cv.wait_for(lock, kDetachWait, [] { return g.dma_detached; });
  }
  FiniEnvironment();
  if (stop != nullptr) g.crossing->Complete(stop);  // before the mark, as above
  MarkLauncherDone();
}

void LauncherMain() {
  for (;;) {
    StartRequest* start;
    {
      std::unique_lock<std::mutex> lock(g.mutex);
      g.cv.wait(lock, [] { return g.next_start != nullptr; });
      start = g.next_start;
      g.next_start = nullptr;
    }
    RunSession(start);
  }
}

// The launcher runs this library's code for the life of the process, but Node unloads an addon
// when the last environment that loaded it goes (the workers that used SPDK all ended): keep it
// loaded for good, or the launcher would run unmapped code.
void PinAddon() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinAddon), &info) != 0 && info.dli_fname != nullptr) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

std::string GetString(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  StartConfig c;
  c.name = GetString(o, "name");
  c.cpu_mask = GetString(o, "cpuMask");
  c.rpc_socket = GetString(o, "rpcSocket");
  c.json_config = GetString(o, "jsonConfig");
  c.huge_dir = GetString(o, "hugeDir");
  c.mem_size_mb = o.Get("memSizeMb").As<Napi::Number>().Int32Value();
  c.hugepages = o.Get("hugepages").ToBoolean();
  c.interrupt_mode = o.Get("interruptMode").ToBoolean();
  c.lock_cores = o.Get("lockCores").ToBoolean();
  c.pci = o.Get("pci").ToBoolean();
  c.log_level = o.Get("logLevel").As<Napi::Number>().Int32Value();

  // One start wins, even from two workers at once: the state moves from idle in one step.
  State idle = State::kIdle;
  if (!g.state.compare_exchange_strong(idle, State::kStarting)) {
    ThrowError(env, "Spdk.start", EALREADY,
               "SPDK is already running in this process; DPDK initialises once per process, so use the "
               "running instance (or stop it first), or start SPDK in another process");
  }
  // SPDK can re-initialise its environment, but not every subsystem can (iSCSI keeps stale
  // lists and crashes), so once SPDK's environment has been set up in this process, it is not
  // started again. A start that failed before that point (bad options) may be retried.
  if (!spdk_env_dpdk_external_init()) {
    g.state = State::kIdle;
    ThrowError(env, "Spdk.start", EALREADY,
               "SPDK already ran in this process and cannot be started again (its subsystems do not "
               "support re-initialisation); keep one instance for the life of the process, or run SPDK "
               "in a child process");
  }

  g.config = std::move(c);
  g.owner = env;
  g.crossing = Data(env).crossing;
  g.exiting = false;
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    g.launcher_done = false;
    g.dma_detached = false;
  }

  auto* start = new StartRequest(env);
  start->mark = log::Mark();
  Napi::Promise promise = start->deferred.Promise();
  g.crossing->Expect(start);
  if (!g.launcher.joinable()) {
    PinAddon();
    g.launcher = std::thread(LauncherMain);
  }
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    g.next_start = start;
  }
  g.cv.notify_all();
  return promise;
}

Napi::Value Stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State state = g.state;
  if (state == State::kIdle) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  if (g.owner != env) ThrowError(env, "Spdk.stop", EPERM, "SPDK was started by another thread (worker)");
  if (state == State::kStarting) ThrowError(env, "Spdk.stop", EBUSY, "SPDK is still starting; await start() first");
  if (state == State::kStopping) ThrowError(env, "Spdk.stop", EALREADY, "SPDK is already stopping");
  g.state = State::kStopping;
  // From here JS cannot reach DMA memory, which goes away with the environment.
  dma::DetachAll(env);
  auto* stop = new StopRequest(env);
  Napi::Promise promise = stop->deferred.Promise();
  g.crossing->Submit(stop);
  return promise;
}

// Process exit with SPDK running: stop it (closing what JS left open), bounded.
bool ShutdownForExit() {
  if (g.state == State::kIdle) return true;
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    if (g.launcher_done) return true;
  }
  g.exiting = true;
  // Refused when a stop is already under way (stop() then exit): then it is only waited for.
  SendToApp(&StopFromAppThread, nullptr);
  if (WaitLauncherDone(kExitWait)) {
    g.state = State::kIdle;
    return true;
  }
  // SPDK did not stop in time (I/O to a target that stopped answering): leave it to the kernel.
  return false;
}

// The process's exit status, as JS last reported it (process 'exit' event, main thread).
std::atomic<int> g_exit_code{0};

// The process is exiting. SPDK must be down before the exit handlers that follow run, DPDK's own
// destructor among them (it unmaps the memory SPDK's threads still use). Wait, bounded; if SPDK
// does not stop in time (a shutdown stuck on a target that stopped answering, or an earlier,
// bounded attempt that gave up, such as a terminated worker's), end the process now, skipping
// those handlers, rather than let them pull memory from under running reactors.
void AtExit() {
  if (g.state == State::kIdle) return;
  bool down = g.exiting ? WaitLauncherDone(kExitWait) : ShutdownForExit();
  if (!down) {
    fflush(nullptr);
    _exit(g_exit_code.load());
  }
}

Napi::Value SetExitCode(const Napi::CallbackInfo& info) {
  g_exit_code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  return info.Env().Undefined();
}

void CleanupEnv(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  bool safe = true;
  if (g.owner != nullptr && data->crossing == g.crossing) safe = ShutdownForExit();
  // Completions may still arrive from a SPDK that did not stop: then the crossing must outlive us,
  // dropping them (its wake-up handle goes with this environment's loop).
  if (!safe) data->crossing->Orphan();
  if (safe) {
    if (data->crossing == g.crossing) g.crossing = nullptr;
    delete data->crossing;
    data->crossing = nullptr;
  }
}

Napi::Value State_(const Napi::CallbackInfo& info) {
  static const char* names[] = {"idle", "starting", "running", "stopping"};
  return Napi::String::New(info.Env(), names[static_cast<int>(g.state.load())]);
}

Napi::Value SetHandlers(const Napi::CallbackInfo& info) {
  AddonData& data = Data(info.Env());
  Napi::Object o = info[0].As<Napi::Object>();
  data.make_error = Napi::Persistent(o.Get("makeError").As<Napi::Function>());
  data.on_stopped = Napi::Persistent(o.Get("onStopped").As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value RecentLog(const Napi::CallbackInfo& info) {
  std::vector<std::string> lines = log::Since(0);
  Napi::Array out = Napi::Array::New(info.Env(), lines.size());
  for (size_t i = 0; i < lines.size(); i++) out.Set(static_cast<uint32_t>(i), lines[i]);
  return out;
}

}  // namespace

void CheckRunning(Napi::Env env, const char* operation) {
  if (g.state != State::kRunning) {
    ThrowError(env, operation, ESHUTDOWN, "SPDK is not running (it was stopped, or never started)");
  }
  if (g.owner != env) ThrowError(env, operation, EPERM, "SPDK was started by another thread (worker)");
}

bool IsRunning() { return g.state == State::kRunning; }

void Submit(Napi::Env env, Request* request) { Data(env).crossing->Submit(request); }

void Complete(Request* request) { g.crossing->Complete(request); }

void Wake(Request* request) { g.crossing->Notify(request); }

void Register(AppResource* resource) { g.resources.insert(resource); }

void Unregister(AppResource* resource) { g.resources.erase(resource); }

void RunOnAppThreadSync(Napi::Env env, const char* operation, std::function<void()> fn) {
  CheckRunning(env, operation);
  struct Call {
    std::function<void()> fn;
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  // Shared with the message: a call that times out must not leave the app thread a dangling
  // pointer.
  auto call = std::make_shared<Call>();
  call->fn = std::move(fn);
  auto* keep = new std::shared_ptr<Call>(call);
  bool sent = SendToApp([](void* arg) {
    auto* held = static_cast<std::shared_ptr<Call>*>(arg);
    Call& c = **held;
    c.fn();
    {
      std::lock_guard<std::mutex> lock(c.mutex);
      c.done = true;
    }
    c.cv.notify_all();
    delete held;
  }, keep);
  if (!sent) {
    delete keep;
    ThrowError(env, operation, ESHUTDOWN, "SPDK's app thread is stopping or out of message buffers");
  }
  std::unique_lock<std::mutex> lock(call->mutex);
  auto limit = SyncCallWait();
  if (!call->cv.wait_for(lock, limit, [&] { return call->done; })) {
    ThrowError(env, operation, ETIMEDOUT,
               "SPDK's app thread did not answer within " + std::to_string(limit.count()) + " ms");
  }
}

void Init(Napi::Env env, Napi::Object exports) {
  AddonData& data = Data(env);
  data.crossing = new Crossing(env);
  napi_add_env_cleanup_hook(env, &CleanupEnv, &data);
  static bool at_exit_registered = false;
  if (!at_exit_registered) {
    std::atexit(&AtExit);
    at_exit_registered = true;
  }
  exports.Set("start", Napi::Function::New(env, Start, "start"));
  exports.Set("stop", Napi::Function::New(env, Stop, "stop"));
  exports.Set("state", Napi::Function::New(env, State_, "state"));
  exports.Set("setHandlers", Napi::Function::New(env, SetHandlers, "setHandlers"));
  exports.Set("recentLog", Napi::Function::New(env, RecentLog, "recentLog"));
  exports.Set("setExitCode", Napi::Function::New(env, SetExitCode, "setExitCode"));
  exports.Set("libraryVersion", Napi::String::New(env, spdk_fat_version_string));
  exports.Set("addonVersion", Napi::String::New(env, spdk_node_spdk_version));
}

}  // namespace spdk_node::runtime
