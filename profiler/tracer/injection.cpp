// The tracer core, loaded into an unmodified CUDA program through CUDA_INJECTION64_PATH (the
// driver calls InitializeInjection during cuInit) or NVTX_INJECTION64_PATH. It subscribes to
// CUPTI, records activity into capped buffers that CUPTI's worker thread hands back periodically,
// streams records to the trace file, and writes the trace's metadata at exit, on SIGINT/SIGTERM
// or when the program dies of those signals. It never throws into the program and never
// terminates it: when CUPTI refuses, the program runs untraced and the trace says why.
#include <cupti.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "profiler/trace_format/attribution.hpp"
#include "profiler/trace_format/buffer_pool.hpp"
#include "profiler/trace_format/completed_queue.hpp"
#include "profiler/trace_format/host_usage.hpp"
#include "profiler/trace_format/ranges.hpp"
#include "profiler/trace_format/trace_meta.hpp"
#include "profiler/trace_format/trace_writer.hpp"
#include "profiler/trace_format/tracer_env.hpp"
#include "profiler/tracer/activity_decode.hpp"
#include "profiler/tracer/crash_report.hpp"
#include "profiler/tracer/step_counters.hpp"
#include "profiler/tracer/tracer.hpp"

namespace goodput::trace::tracer {
namespace {

constexpr std::size_t kMaxPendingRanges = 1u << 20;  // NVTX ranges waiting to be written
constexpr std::size_t kMaxKeptRanges = 1u << 18;     // ranges remembered for GPU attribution
constexpr std::uint32_t kFlushPeriodMs = 500;
// Buffers kept allocated, zeroed and touched ahead of CUPTI's requests (BufferPool::reserve).
constexpr std::size_t kSpareBuffers = 2;
// Runtime calls are enabled one by one (recorded_runtime_api): the whole runtime kind would
// record every cudaGetDevice, and on an H200 that made a PyTorch step 58 % slower.
constexpr CUpti_ActivityKind kTracedKinds[] = {
    CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY, CUPTI_ACTIVITY_KIND_MEMSET,
    CUPTI_ACTIVITY_KIND_SYNCHRONIZATION, CUPTI_ACTIVITY_KIND_OVERHEAD};
// Driver calls only where they launch work (Triton, JAX and CUTLASS launch through the driver):
// recording every driver call would cost far more than it tells.
constexpr CUpti_CallbackId kDriverLaunches[] = {
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel,
    CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz,
    CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch,
    CUPTI_DRIVER_TRACE_CBID_cuGraphLaunch_ptsz};

struct State {
  TracerConfig cfg;
  RankInfo rank;
  pid_t owner = 0;
  bool enabled = false;
  std::atomic<bool> forked_child{false};
  std::atomic<bool> finished{false};  // finalize started
  std::atomic<bool> written{false};   // finalize ended (trace written, or failed)
  std::atomic<bool> interrupted{false};
  std::atomic<bool> cupti_ok{false};
  std::atomic<bool> nvtx{false};
  std::atomic<std::uint64_t> nvtx_ns{0};
  std::atomic<std::uint64_t> processing_ns{0};
  std::atomic<std::uint64_t> tracer_cpu_ns{0};  // the processing thread's CPU time
  std::atomic<std::uint64_t> forced_flushes{0};

  // NVTX side: cheap work under range_mu only, so program threads never wait for file I/O.
  RangeRecorder ranges;
  std::mutex range_mu;
  std::unique_ptr<StepWindow> window;
  std::unordered_map<std::uint64_t, int> step_index;  // range id -> step number
  // Host usage at each open step's start (with the tracer's CPU time then), and per closed step.
  std::unordered_map<std::uint64_t, std::pair<HostUsage, std::uint64_t>> step_usage_start;
  nlohmann::json step_usage = nlohmann::json::array();
  std::vector<RangeRecord> pending;
  std::uint64_t ranges_dropped = 0;

  // Hardware counters per step (--counters); null when none were requested, or when setting
  // them up threw (counters_setup_error says why). Has its own locking.
  std::unique_ptr<StepCounters> counters;
  std::string counters_setup_error;

  // Completed CUPTI buffers on their way to the processing thread.
  CompletedQueue completed;
  std::once_flag processing_started;

  // Writer side, under mu: the processing thread and the final flush.
  std::mutex mu;
  TraceWriter writer;
  Attribution attribution;
  std::unique_ptr<BufferPool> pool;
  // CUPTI took CUPTI_ACTIVITY_ATTR_ZEROED_OUT_ACTIVITY_BUFFER (it no longer clears buffers).
  bool buffer_zeroing_attribute = false;
  std::vector<RangeRecord> kept;  // id, name, thread and times, for GPU spans
  std::vector<RangeRecord> steps;
  std::uint64_t kept_dropped = 0;
  bool cuda_initialized = false;
  std::string untraced_reason;
  std::string cupti_error;
  std::vector<std::string> kinds_refused;
  std::uint64_t dropped = 0;
  std::uint64_t cupti_overhead_ns = 0;
  std::uint64_t final_flush_ns = 0;
  std::uint64_t decoded = 0, skipped = 0;
  std::unordered_map<std::string, std::uint64_t> counts;
  nlohmann::json devices = nlohmann::json::array();
  nlohmann::json contexts = nlohmann::json::array();
  CUpti_SubscriberHandle subscriber = nullptr;
};

// Leaked on purpose: it must outlive every atexit handler and static destructor that may still
// run CUDA work (and so produce records) after ours.
State* g = nullptr;
std::once_flag g_started;
std::once_flag g_cupti;
struct sigaction g_old_int {
}, g_old_term{};

void warn(const std::string& text) {
  const std::string line = "goodput tracer: " + text + "\n";
  (void)!write(2, line.data(), line.size());
}

// GOODPUT_TRACE_DEBUG=1: the tracer's own steps (start, CUPTI, exit registration, flushes,
// signals, the trailer) on stderr, with the thread and time, to tell where a program stopped.
const bool g_debug = [] {
  const char* v = std::getenv("GOODPUT_TRACE_DEBUG");
  return v && *v && std::string(v) != "0";
}();

void debug(const std::string& text) {
  if (!g_debug) return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  warn("[debug " + std::to_string(ts.tv_sec) + "." + std::to_string(ts.tv_nsec / 1000000) +
       " pid " + std::to_string(getpid()) + " tid " + std::to_string(syscall(SYS_gettid)) + "] " +
       text);
}

bool usable() {
  return g && g->enabled && !g->forked_child.load() && !g->finished.load() && getpid() == g->owner;
}

// Collects decoded records into the trace: called with g->mu held.
class Sink : public ActivitySink {
 public:
  void kernel(const KernelEvent& k) override {
    g->writer.kernel(k);
    g->attribution.add_gpu({k.correlation, k.device, k.stream, k.start_ns, k.end_ns});
    ++g->counts["kernels"];
  }
  void memcpy(const MemcpyEvent& m) override {
    g->writer.memcpy(m);
    g->attribution.add_gpu({m.correlation, m.device, m.stream, m.start_ns, m.end_ns});
    ++g->counts["memcpy"];
  }
  void memset(const MemsetEvent& m) override {
    g->writer.memset(m);
    g->attribution.add_gpu({m.correlation, m.device, m.stream, m.start_ns, m.end_ns});
    ++g->counts["memset"];
  }
  void api(const ApiEvent& a) override {
    g->writer.api(a);
    if (a.flow_start) g->attribution.add_launch({a.tid, a.start_ns, a.correlation});
    ++g->counts[a.category];
  }
  void overhead(const OverheadEvent& o) override {
    g->writer.overhead(o);
    g->cupti_overhead_ns += o.end_ns > o.start_ns ? o.end_ns - o.start_ns : 0;
    ++g->counts["overhead"];
  }
  void device(const nlohmann::json& props) override {
    for (const auto& d : g->devices)
      if (d.value("id", -1) == props.value("id", -2)) return;
    g->devices.push_back(props);
  }
  void context(std::uint32_t context, std::uint32_t device, std::uint32_t null_stream) override {
    g->contexts.push_back({{"context", context}, {"device", device}, {"null stream", null_stream}});
  }
};

// Moves closed NVTX ranges to the file; called with g->mu held.
void write_pending_ranges() {
  std::vector<RangeRecord> batch;
  {
    std::lock_guard lock(g->range_mu);
    batch.swap(g->pending);
  }
  for (auto& r : batch) {
    g->writer.range(r);
    ++g->counts["ranges"];
    bool is_step = false;
    {
      std::lock_guard lock(g->range_mu);
      is_step = g->step_index.count(r.id) > 0;
    }
    if (is_step) g->steps.push_back(r);
    if (g->kept.size() < kMaxKeptRanges) {
      g->kept.push_back(std::move(r));
    } else {
      ++g->kept_dropped;
    }
  }
}

void finalize();
void on_signal(int sig, siginfo_t* info, void* uc);

// The CUDA runtime and driver register their own exit teardown while CUDA initialises, after
// the injection registered finalize; exit handlers run last-registered first, so finalize would
// run after CUDA was torn down. Registering it again at the first buffer request (the first
// recorded call, once initialisation is over) puts it before them. finalize runs once.
std::once_flag g_late_exit;

void CUPTIAPI buffer_requested(std::uint8_t** buffer, std::size_t* size, std::size_t* max_records) {
  std::call_once(g_late_exit, [] {
    std::atexit(finalize);
    debug("exit handler registered again, after CUDA's own");
    struct sigaction term {};
    sigaction(SIGTERM, nullptr, &term);
    debug(std::string("SIGTERM handler: ") +
          ((term.sa_flags & SA_SIGINFO) && term.sa_sigaction == on_signal ? "the tracer's"
                                                                          : "another's"));
  });
  *max_records = 0;
  *buffer = (g && g->pool) ? g->pool->acquire() : nullptr;
  *size = *buffer ? g->pool->buffer_bytes() : 0;
}

// Decodes one completed buffer into the trace and returns it to the pool.
void process_buffer(const CompletedBuffer& b) {
  const auto t0 = now_ns();
  const auto cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  {
    std::lock_guard lock(g->mu);
    g->dropped += b.dropped;
    if (g->writer.is_open()) {
      Sink sink;
      const auto c = decode_activity_buffer(b.buffer, b.valid, sink);
      g->decoded += c.records;
      g->skipped += c.skipped;
      write_pending_ranges();
      g->writer.flush();  // what a crash leaves is then at most one buffer behind
    }
  }
  if (g->pool) {
    g->pool->release(b.buffer);  // cleared here in zeroed mode, off the program's threads
    if (!g->finished.load()) g->pool->reserve(kSpareBuffers);  // none for the final flush
  }
  g->processing_ns += now_ns() - t0;
  g->tracer_cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
}

// The tracer's own thread: decodes and writes completed buffers (CompletedQueue says why).
void processing_loop() {
  // Signals go to the program's threads: a handler that finalizes here would wait for itself.
  sigset_t block;
  sigfillset(&block);
  for (int fault : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigdelset(&block, fault);
  pthread_sigmask(SIG_BLOCK, &block, nullptr);
  if (g->pool) g->pool->reserve(kSpareBuffers);
  g->completed.run([](const CompletedBuffer& b) {
    if (!g->forked_child.load()) process_buffer(b);
  });
}

void CUPTIAPI buffer_completed(CUcontext ctx, std::uint32_t stream, std::uint8_t* buffer,
                               std::size_t, std::size_t valid) {
  if (!g) return;
  std::size_t dropped = 0;
  if (cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) != CUPTI_SUCCESS) dropped = 0;
  if (g->forked_child.load() || getpid() != g->owner) {
    if (g->pool) g->pool->release(buffer);
    return;
  }
  g->completed.push({buffer, valid, dropped});
}

std::uint64_t CUPTIAPI cupti_timestamp() {
  return now_ns();
}

void CUPTIAPI on_callback(void*, CUpti_CallbackDomain domain, CUpti_CallbackId cbid,
                          const void* data) {
  if (!g || g->forked_child.load() || g->finished.load() || getpid() != g->owner) return;
  const bool context_created =
      domain == CUPTI_CB_DOMAIN_RESOURCE && cbid == CUPTI_CBID_RESOURCE_CONTEXT_CREATED;
  const bool context_destroy =
      domain == CUPTI_CB_DOMAIN_RESOURCE && cbid == CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING;
  // The counters' device calls run only here and after: a real context exists.
  if (g->counters && (context_created || context_destroy)) {
    try {
      const auto ctx = static_cast<const CUpti_ResourceData*>(data)->context;
      if (context_created) {
        g->counters->on_context_created(ctx);
      } else {
        g->counters->on_context_destroying(ctx, now_ns());
      }
    } catch (...) {
    }
  }
  const bool device_reset =
      domain == CUPTI_CB_DOMAIN_RUNTIME_API &&
      cbid == CUPTI_RUNTIME_TRACE_CBID_cudaDeviceReset_v3020 &&
      static_cast<const CUpti_CallbackData*>(data)->callbackSite == CUPTI_API_ENTER;
  if (context_destroy || device_reset) {
    // The records of a context are lost with it: take them now.
    debug(context_destroy ? "context destroyed: flushing" : "cudaDeviceReset: flushing");
    cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    ++g->forced_flushes;
  }
}

std::string result_name(CUptiResult r) {
  const char* s = nullptr;
  if (cuptiGetResultString(r, &s) == CUPTI_SUCCESS && s) return s;
  return "CUPTI error " + std::to_string(static_cast<int>(r));
}

std::string refusal_cause(CUptiResult r) {
  // Loaded by hand (dlopen, NVTX) in a process without the driver: CUPTI only says "unknown".
  if (void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD)) {
    dlclose(driver);
  } else {
    return "no CUDA driver is loaded in this process";
  }
  switch (r) {
    case CUPTI_ERROR_MULTIPLE_SUBSCRIBERS_NOT_SUPPORTED:
      return "another profiler already holds CUPTI (torch.profiler, Nsight Systems, Nsight "
             "Compute, cuda-gdb or compute-sanitizer)";
    case CUPTI_ERROR_INSUFFICIENT_PRIVILEGES:
      return "this user may not profile the GPU (driver setting RmProfilingAdminOnly)";
    case CUPTI_ERROR_NOT_INITIALIZED:
    case CUPTI_ERROR_INVALID_DEVICE:
      return "no usable CUDA driver or device";
    case CUPTI_ERROR_NOT_COMPATIBLE:
    case CUPTI_ERROR_NOT_SUPPORTED:
    case CUPTI_ERROR_VIRTUALIZED_DEVICE_NOT_SUPPORTED:
      return "CUPTI does not support this device, driver or environment";
    default:
      return "CUPTI could not start";
  }
}

void refuse(const char* call, CUptiResult r) {
  const std::string cause = refusal_cause(r);
  {
    std::lock_guard lock(g->mu);
    g->cupti_error = std::string(call) + ": " + result_name(r);
    g->untraced_reason = cause + " (" + g->cupti_error + ")";
  }
  warn("CUPTI refused to trace: " + cause + " (" + std::string(call) + ": " + result_name(r) +
       "); the program runs untraced");
  if (g->subscriber) {
    cuptiUnsubscribe(g->subscriber);
    g->subscriber = nullptr;
  }
}

bool wanted(CUpti_ActivityKind kind) {
  const Activities& a = g->cfg.activities;
  switch (kind) {
    case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
      return a.kernel;
    case CUPTI_ACTIVITY_KIND_MEMCPY:
      return a.memcpy;
    case CUPTI_ACTIVITY_KIND_MEMSET:
      return a.memset;
    case CUPTI_ACTIVITY_KIND_SYNCHRONIZATION:
      return a.sync;
    case CUPTI_ACTIVITY_KIND_OVERHEAD:
      return a.overhead;
    default:
      return false;
  }
}

void set_runtime_activity(bool on) {
  static const auto& runtime_cbids = *new std::vector<std::uint32_t>(recorded_runtime_cbids());
  bool selected = !runtime_cbids.empty();
  for (auto cbid : runtime_cbids)
    selected = cuptiActivityEnableRuntimeApi(cbid, on ? 1 : 0) == CUPTI_SUCCESS && selected;
  if (selected) return;
  // A CUPTI without per-call selection: every runtime call, at its cost.
  const CUptiResult r = on ? cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME)
                           : cuptiActivityDisable(CUPTI_ACTIVITY_KIND_RUNTIME);
  if (r != CUPTI_SUCCESS && on) {
    std::lock_guard lock(g->mu);
    g->kinds_refused.push_back("runtime: " + result_name(r));
  }
}

// Turns the chosen activity kinds on or off (the step window); false when the kernel kind
// itself was refused.
bool set_activity(bool on) {
  bool kernels_ok = true;
  for (auto kind : kTracedKinds) {
    if (!wanted(kind)) continue;
    const CUptiResult r = on ? cuptiActivityEnable(kind) : cuptiActivityDisable(kind);
    if (r != CUPTI_SUCCESS && on) {
      if (kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) kernels_ok = false;
      std::lock_guard lock(g->mu);
      g->kinds_refused.push_back(std::to_string(static_cast<int>(kind)) + ": " + result_name(r));
    }
  }
  if (g->cfg.activities.driver)
    for (auto cbid : kDriverLaunches) cuptiActivityEnableDriverApi(cbid, on ? 1 : 0);
  if (g->cfg.activities.runtime) set_runtime_activity(on);
  if (!on) cuptiActivityFlushAll(0);
  return kernels_ok;
}

void apply_window(StepWindow::Change change) {
  if (change == StepWindow::Change::kNone || !g->cupti_ok.load()) return;
  set_activity(change == StepWindow::Change::kStart);
}

void start_cupti() {
  {
    std::lock_guard lock(g->mu);
    g->cuda_initialized = true;
  }
  if (!usable()) return;
  CUptiResult r = cuptiSubscribe(&g->subscriber, on_callback, nullptr);
  if (r != CUPTI_SUCCESS) {
    g->subscriber = nullptr;
    return refuse("cuptiSubscribe", r);
  }
  // Kernel thread ids (gettid), so runtime calls and NVTX ranges name the same threads.
  cuptiSetThreadIdType(CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM);
  cuptiActivityRegisterTimestampCallback(cupti_timestamp);
  if (g->pool && g->pool->zeroed()) {
    // Buffers come zeroed (cleared on the tracer's thread): CUPTI need not clear each one on the
    // program's thread when it takes it. If CUPTI refuses, it clears them itself, as before.
    std::uint8_t zeroed = 1;
    std::size_t size = sizeof(zeroed);
    g->buffer_zeroing_attribute =
        cuptiActivitySetAttribute(CUPTI_ACTIVITY_ATTR_ZEROED_OUT_ACTIVITY_BUFFER, &size, &zeroed) ==
        CUPTI_SUCCESS;
    debug(std::string("zeroed activity buffers: ") +
          (g->buffer_zeroing_attribute ? "accepted by CUPTI" : "refused by CUPTI"));
  }
  r = cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed);
  if (r != CUPTI_SUCCESS) return refuse("cuptiActivityRegisterCallbacks", r);
  std::call_once(g->processing_started, [] { std::thread(processing_loop).detach(); });
  cuptiActivityFlushPeriod(kFlushPeriodMs);
  cuptiEnableCallback(1, g->subscriber, CUPTI_CB_DOMAIN_RESOURCE,
                      CUPTI_CBID_RESOURCE_CONTEXT_DESTROY_STARTING);
  if (g->counters)
    cuptiEnableCallback(1, g->subscriber, CUPTI_CB_DOMAIN_RESOURCE,
                        CUPTI_CBID_RESOURCE_CONTEXT_CREATED);
  cuptiEnableCallback(1, g->subscriber, CUPTI_CB_DOMAIN_RUNTIME_API,
                      CUPTI_RUNTIME_TRACE_CBID_cudaDeviceReset_v3020);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DEVICE);
  cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONTEXT);
  bool recording = false;
  {
    std::lock_guard lock(g->range_mu);
    recording = g->window->recording();
  }
  if (recording && !set_activity(true)) {
    set_activity(false);
    return refuse("cuptiActivityEnable(CONCURRENT_KERNEL)", CUPTI_ERROR_NOT_SUPPORTED);
  }
  g->cupti_ok = true;
  debug("CUPTI subscribed and recording");
}

std::string process_name() {
  std::ifstream in("/proc/self/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "process" : name;
}

nlohmann::json buffers_json() {
  if (!g->pool) return nullptr;
  auto j = g->pool->to_json();
  j["zeroed_attribute_accepted"] = g->buffer_zeroing_attribute;
  return j;
}

void write_trailer() {
  const auto t = now_ns();
  // Counters first, without the writer lock: stopping them may wait for the GPU.
  StepCounters::Result counters;
  if (g->counters) {
    std::string untraced;
    {
      std::lock_guard lock(g->mu);
      untraced = g->untraced_reason;
    }
    counters = g->counters->finish(t, g->interrupted.load(), untraced);
  } else if (!g->cfg.counters.empty()) {
    counters.meta =
        counters_meta(g->cfg.counters, CounterSchedule(0), {}, "", false, g->counters_setup_error);
  }
  {
    std::lock_guard lock(g->range_mu);
    for (auto& r : g->ranges.close_all(t))
      if (g->window->overlaps(r.start_ns, r.end_ns)) g->pending.push_back(std::move(r));
  }
  std::lock_guard lock(g->mu);
  write_pending_ranges();
  for (const auto& c : counters.events) g->writer.counter_range(c);
  if (!counters.events.empty()) g->counts["counter_ranges"] = counters.events.size();
  std::unordered_map<std::uint64_t, const RangeRecord*> by_id;
  for (const auto& r : g->kept) by_id[r.id] = &r;
  for (const auto& span : g->attribution.gpu_spans(g->kept))
    g->writer.gpu_range(span, by_id.count(span.range_id) ? by_id[span.range_id]->name : "");
  int first_step = 0;
  {
    std::lock_guard rl(g->range_mu);
    if (!g->steps.empty() && g->step_index.count(g->steps.front().id))
      first_step = g->step_index[g->steps.front().id];
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : g->attribution.steps(g->steps, first_step))
    steps.push_back(to_json(s, g->writer.base_ns()));

  auto meta = base_meta(g->rank, own_argv());
  std::string status = kStatusComplete;
  std::string reason;
  if (!g->untraced_reason.empty()) {
    status = kStatusUntraced;
    reason = g->untraced_reason;
  } else if (!g->cfg.no_driver.empty()) {
    // The driver loads the tracer for CUDA: only NVTX reached this one.
    status = kStatusUntraced;
    reason = g->cfg.no_driver + ": CUDA work could not be traced; only NVTX ranges were recorded";
  } else if (g->interrupted.load()) {
    status = kStatusInterrupted;
    reason = "the program was interrupted (SIGINT or SIGTERM); the trace holds what was recorded";
  } else if (!g->cuda_initialized) {
    reason = "the program never initialised CUDA; only NVTX ranges were recorded";
  }
  meta["status"] = status;
  meta["status_reason"] = reason;
  if (!g->cfg.run_id.empty()) meta["run_id"] = g->cfg.run_id;
  meta["cuda_initialized"] = g->cuda_initialized;
  meta["cupti"] = {{"subscribed", g->cupti_ok.load()},
                   {"error", g->cupti_error},
                   {"kinds_refused", g->kinds_refused}};
  meta["nvtx_attached"] = g->nvtx.load();
  meta["activities"] = to_json(g->cfg.activities);
  {
    std::lock_guard rl(g->range_mu);
    meta["capture"] = g->window->to_json();
    meta["capture"]["unbalanced_ranges"] = g->ranges.unbalanced();
    meta["capture"]["ranges_dropped"] = g->ranges_dropped;
  }
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [k, v] : g->counts) counts[k] = v;
  meta["records"] = counts;
  meta["dropped_records"] = g->dropped;
  meta["tracer"] = {{"overhead_ns",
                     {{"nvtx_handlers", g->nvtx_ns.load()},
                      {"buffer_processing", g->processing_ns.load()},
                      {"processing_thread_cpu", g->tracer_cpu_ns.load()},
                      {"cupti_reported", g->cupti_overhead_ns},
                      {"final_flush", g->final_flush_ns}}},
                    {"buffers", buffers_json()},
                    {"forced_flushes", g->forced_flushes.load()},
                    {"records_decoded", g->decoded},
                    {"records_skipped", g->skipped},
                    {"attribution_complete", !g->attribution.overflowed() && g->kept_dropped == 0}};
  meta["steps"] = steps;
  {
    std::lock_guard rl(g->range_mu);
    meta["steps_host"] = g->step_usage;
  }
  meta["contexts"] = g->contexts;
  meta["counters"] = std::move(counters.meta);
  nlohmann::json top = {
      {"schemaVersion", 1}, {"deviceProperties", g->devices}, {"goodput", std::move(meta)}};
  if (g->rank.rank) {
    top["distributedInfo"] = {{"rank", *g->rank.rank}};
    if (g->rank.world_size) top["distributedInfo"]["world_size"] = *g->rank.world_size;
    if (g->rank.local_rank) top["distributedInfo"]["local_rank"] = *g->rank.local_rank;
  }
  g->writer.finish(std::move(top), process_name());
  if (!g->writer.displaced().empty())
    warn(g->writer.displaced() + " already holds the trace of another process of this run " +
         "with the same rank; this one's is " + g->writer.path());
}

// Stops CUPTI from calling into the tracer once the trace is written: CUDA's own exit teardown
// (contexts destroyed, modules unloaded) comes after, and must find no subscriber.
void detach_cupti() {
  if (!g->cupti_ok.load()) return;
  for (auto kind : kTracedKinds) cuptiActivityDisable(kind);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_RUNTIME);
  if (g->subscriber) {
    cuptiUnsubscribe(g->subscriber);
    g->subscriber = nullptr;
  }
}

void finalize() {
  if (!g || !g->enabled || g->forked_child.load() || getpid() != g->owner) return;
  bool expected = false;
  if (!g->finished.compare_exchange_strong(expected, true)) return;
  // Python's faulthandler, if on, puts SIG_DFL back at interpreter shutdown: report again.
  install_crash_report();
  debug("finalize: flushing CUPTI");
  try {
    const auto t0 = now_ns();
    if (g->cupti_ok.load()) cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    if (!g->completed.drain(process_buffer)) {
      // The writer holds the trace: finishing it would wait as long. The program's exit must
      // not; goodput profile salvages the partial file once the process is gone.
      warn("the tracer's writer did not finish a buffer within 30 s; leaving the partial trace " +
           g->writer.path() + ".partial.* for goodput profile to salvage");
      detach_cupti();
      g->written = true;
      return;
    }
    {
      std::lock_guard lock(g->mu);
      g->final_flush_ns = now_ns() - t0;
    }
    debug("finalize: writing the trailer");
    write_trailer();
    debug("finalize: trace written");
  } catch (const std::exception& e) {
    warn(std::string("could not write the trace: ") + e.what());
  } catch (...) {
    warn("could not write the trace");
  }
  detach_cupti();
  g->written = true;
}

// A signal in a second thread (Ctrl-C reaches the whole process group, and goodput profile
// forwards it too) must not end the process while the first is still writing.
void wait_until_written() {
  for (int i = 0; g && !g->written.load() && i < 1000; ++i) {
    const timespec ten_ms{0, 10'000'000};
    nanosleep(&ten_ms, nullptr);
  }
}

void on_signal(int sig, siginfo_t* info, void* uc) {
  if (g) g->interrupted = true;
  debug("signal " + std::to_string(sig));
  const struct sigaction& old = sig == SIGINT ? g_old_int : g_old_term;
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) return old.sa_sigaction(sig, info, uc);
  } else if (old.sa_handler == SIG_IGN) {
    return;
  } else if (old.sa_handler != SIG_DFL) {
    return old.sa_handler(sig);  // the program handles it (and exits through atexit, or not)
  }
  // The default action would end the process now: write the trace first. The alarm bounds the
  // time, so a lock held by the interrupted thread cannot hang the program.
  alarm(10);
  finalize();
  wait_until_written();
  sigaction(sig, &old, nullptr);
  raise(sig);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

void at_fork_prepare() {
  if (!g) return;
  g->mu.lock();
  g->range_mu.lock();
  g->completed.lock_for_fork();
}
void at_fork_parent() {
  if (!g) return;
  g->completed.unlock_after_fork(false);
  g->range_mu.unlock();
  g->mu.unlock();
}
void at_fork_child() {
  if (!g) return;
  // The child does not own the parent's trace: it neither flushes nor finishes it.
  g->forked_child = true;
  g->writer.forget_after_fork();
  g->pending.clear();
  g->completed.unlock_after_fork(true);
  g->range_mu.unlock();
  g->mu.unlock();
}

void start() {
  g = new State();
  g->owner = getpid();
  try {
    const auto env = process_env();
    g->cfg = tracer_config_from_env(env);
    if (g->cfg.output.empty()) g->cfg.output = "goodput-trace.json";
    g->rank = rank_from_env(env);
    g->window = std::make_unique<StepWindow>(g->cfg.steps, g->cfg.step_marker);
    g->pool = std::make_unique<BufferPool>(g->cfg.buffer_bytes, g->cfg.buffer_cap_bytes,
                                           g->cfg.tracer_zeroes_buffers);
    const bool direct = g->cfg.launcher_pid > 0 && getppid() == g->cfg.launcher_pid;
    const auto path = trace_path_for(g->cfg.output, g->rank, getpid(), direct);
    g->writer.open(path, now_ns() / 1'000'000'000 * 1'000'000'000,
                   static_cast<std::uint32_t>(getpid()), g->cfg.run_id);
    g->enabled = true;
  } catch (const std::exception& e) {
    if (!g->window) g->window = std::make_unique<StepWindow>(std::nullopt, kDefaultStepMarker);
    warn(std::string("not tracing: ") + e.what());
    return;
  }
  if (!g->cfg.counters.empty()) {
    try {
      g->counters = std::make_unique<StepCounters>(
          g->cfg.counters, counter_set_metrics(g->cfg.counters), counter_ranges_for(g->cfg.steps),
          [](const std::string& line) { warn(line); });
    } catch (const std::exception& e) {
      g->counters_setup_error = e.what();
      warn(std::string("no hardware counters: ") + e.what());
    }
  }
  std::atexit(finalize);
  install_signal_handlers();
  install_crash_report();
  debug("started: trace " + g->writer.path());
  pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
}

}  // namespace

std::uint64_t now_ns() {
  return clock_ns(CLOCK_REALTIME);
}

std::uint32_t thread_id() {
  return static_cast<std::uint32_t>(syscall(SYS_gettid));
}

void ensure_started() {
  try {
    std::call_once(g_started, start);
  } catch (...) {
  }
}

void nvtx_attached() {
  if (g) g->nvtx = true;
}

void add_nvtx_overhead(std::uint64_t ns) {
  if (g) g->nvtx_ns += ns;
}

namespace {
void range_started(std::uint64_t id, const std::string& name, std::uint64_t t) {
  StepWindow::Change change;
  bool step = false, in_window = false;
  {
    std::lock_guard lock(g->range_mu);
    const int before = g->window->steps_seen();
    change = g->window->on_range_start(name, id, t);
    step = g->window->steps_seen() != before;
    if (step) g->step_index[id] = before;
    in_window = g->window->recording();
  }
  if (step) {
    const HostUsage usage = sample_host_usage();
    std::lock_guard lock(g->range_mu);
    if (g->step_usage_start.size() < kMaxKeptRanges)
      g->step_usage_start[id] = {usage, g->tracer_cpu_ns.load()};
  }
  apply_window(change);
  // After the activity kinds are on: the counter range opens before the step's first launch.
  if (step && g->counters) g->counters->on_step_start(id, name, t, in_window);
}

void range_closed(RangeRecord r) {
  StepWindow::Change change;
  const std::uint64_t id = r.id, end_ns = r.end_ns;
  bool step = false;
  {
    std::lock_guard lock(g->range_mu);
    step = g->step_usage_start.count(id) > 0;
  }
  // Read outside the lock: /proc/stat takes tens of microseconds, other threads' ranges wait on it.
  const HostUsage end_usage = step ? sample_host_usage() : HostUsage{};
  {
    std::lock_guard lock(g->range_mu);
    step = g->step_index.count(id) > 0;
    if (step) {
      if (auto it = g->step_usage_start.find(id); it != g->step_usage_start.end()) {
        auto usage = step_usage_json(it->second.first, end_usage,
                                     g->tracer_cpu_ns.load() - it->second.second);
        usage["range id"] = id;
        usage["step"] = g->step_index[id];
        if (g->step_usage.size() < kMaxKeptRanges) g->step_usage.push_back(std::move(usage));
        g->step_usage_start.erase(it);
      }
    }
    change = g->window->on_range_end(r.id, r.end_ns);
    if (g->window->overlaps(r.start_ns, r.end_ns)) {
      if (g->pending.size() < kMaxPendingRanges) {
        g->pending.push_back(std::move(r));
      } else {
        ++g->ranges_dropped;
      }
    }
  }
  // Before the activity kinds go off; stopping the counters at the window's end decodes them,
  // which waits for the GPU to finish the step.
  if (step && g->counters)
    g->counters->on_step_end(id, end_ns, change == StepWindow::Change::kStop);
  apply_window(change);
}
}  // namespace

int nvtx_push(std::string name, std::string domain) {
  if (!usable()) return -1;
  try {
    const auto t = now_ns();
    const auto tid = thread_id();
    const int depth = g->ranges.depth(tid, domain);
    const auto id = g->ranges.push(tid, name, std::move(domain), t);
    range_started(id, name, t);
    return depth;
  } catch (...) {
    return -1;
  }
}

int nvtx_pop(const std::string& domain) {
  if (!usable()) return -1;
  try {
    auto r = g->ranges.pop(thread_id(), domain, now_ns());
    if (!r) return -1;
    const int depth = r->depth;
    range_closed(std::move(*r));
    return depth;
  } catch (...) {
    return -1;
  }
}

std::uint64_t nvtx_start(std::string name, std::string domain) {
  if (!usable()) return 0;
  try {
    const auto t = now_ns();
    const auto id = g->ranges.start(thread_id(), name, std::move(domain), t);
    range_started(id, name, t);
    return id;
  } catch (...) {
    return 0;
  }
}

void nvtx_end(std::uint64_t id) {
  if (!usable()) return;
  try {
    if (auto r = g->ranges.end(id, now_ns())) range_closed(std::move(*r));
  } catch (...) {
  }
}

}  // namespace goodput::trace::tracer

// Called by the CUDA driver during cuInit when CUDA_INJECTION64_PATH names this library.
extern "C" __attribute__((visibility("default"))) int InitializeInjection(void) {
  using namespace goodput::trace::tracer;
  try {
    ensure_started();
    if (g) std::call_once(g_cupti, start_cupti);
  } catch (...) {
  }
  return 1;
}

// Writes the trace now (tests, and programs that end through _exit).
extern "C" __attribute__((visibility("default"))) void goodput_tracer_finish(void) {
  goodput::trace::tracer::finalize();
}
