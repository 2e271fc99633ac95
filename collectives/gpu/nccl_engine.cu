// The NCCL engine: communicators over the GPUs of this process, exact-pattern fill and check
// kernels, and the timed loops (per-call CUDA events, or back-to-back batches; optionally inside a
// CUDA graph). A watchdog aborts the communicators when a wait outlasts --timeout.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "collectives/gpu/nccl_check.cuh"
#include "collectives/gpu/nccl_engine.hpp"
#include "collectives/watchdog.hpp"
#include "harness/gpu/cuda_check.cuh"
#include "harness/gpu/gpu.hpp"
#include "harness/gpu/telemetry.hpp"

namespace goodput::collectives {
namespace {

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::kFloat32:
      return ncclFloat32;
    case DType::kBFloat16:
      return ncclBfloat16;
    case DType::kFloat16:
      return ncclFloat16;
    case DType::kFloat8E4M3:
      return ncclFloat8e4m3;
    case DType::kFloat8E5M2:
      return ncclFloat8e5m2;
    case DType::kInt8:
      return ncclInt8;
    case DType::kInt32:
      return ncclInt32;
  }
  return ncclFloat32;
}

ncclRedOp_t nccl_op(RedOp o) {
  switch (o) {
    case RedOp::kSum:
      return ncclSum;
    case RedOp::kAvg:
      return ncclAvg;
    case RedOp::kMax:
      return ncclMax;
    case RedOp::kMin:
      return ncclMin;
  }
  return ncclSum;
}

// Small integers convert exactly into every element type (pattern.hpp keeps them in range).
template <typename T>
__device__ __forceinline__ T from_int(std::int64_t v) {
  return T(static_cast<float>(v));
}
template <>
__device__ __forceinline__ std::int8_t from_int<std::int8_t>(std::int64_t v) {
  return static_cast<std::int8_t>(v);
}
template <>
__device__ __forceinline__ std::int32_t from_int<std::int32_t>(std::int64_t v) {
  return static_cast<std::int32_t>(v);
}
template <typename T>
__device__ __forceinline__ double to_double(T x) {
  return static_cast<double>(static_cast<float>(x));
}
template <>
__device__ __forceinline__ double to_double<std::int32_t>(std::int32_t x) {
  return static_cast<double>(x);
}

template <typename T>
__global__ void fill_kernel(T* dst, Pattern p, int rank, std::size_t count) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    dst[i] = from_int<T>(input_value(p, rank, i));
}

template <typename T>
__global__ void check_kernel(const T* out, Pattern p, Coll c, RedOp op, int me, int root,
                             std::size_t count, std::size_t param, double tol,
                             unsigned long long* wrong) {
  unsigned long long bad = 0;
  for (std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; j < count;
       j += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const double got = to_double(out[j]);
    const double want = expected_output(p, c, op, me, root, j, param);
    if (!(fabs(got - want) <= tol)) ++bad;
  }
  if (bad) atomicAdd(wrong, bad);
}

unsigned grid_for(std::size_t count) {
  return static_cast<unsigned>(std::clamp<std::size_t>((count + 255) / 256, 1, 4096));
}

template <typename F>
void with_type(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32:
      f(static_cast<float*>(nullptr));
      return;
    case DType::kBFloat16:
      f(static_cast<__nv_bfloat16*>(nullptr));
      return;
    case DType::kFloat16:
      f(static_cast<__half*>(nullptr));
      return;
    case DType::kFloat8E4M3:
      f(static_cast<__nv_fp8_e4m3*>(nullptr));
      return;
    case DType::kFloat8E5M2:
      f(static_cast<__nv_fp8_e5m2*>(nullptr));
      return;
    case DType::kInt8:
      f(static_cast<std::int8_t*>(nullptr));
      return;
    case DType::kInt32:
      f(static_cast<std::int32_t*>(nullptr));
      return;
  }
}

std::string hostname() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

// Device memory of one rank for one case, freed on every path.
struct RankBuffers {
  int dev = 0;
  void* send = nullptr;
  void* recv = nullptr;
  unsigned long long* wrong = nullptr;
  std::vector<cudaEvent_t> events;
  cudaGraphExec_t graph = nullptr;
  RankBuffers() = default;
  RankBuffers(const RankBuffers&) = delete;
  RankBuffers& operator=(const RankBuffers&) = delete;
  ~RankBuffers() {
    if (cudaSetDevice(dev) != cudaSuccess) return;
    if (graph) GOODPUT_CUDA_CHECK_NOTHROW(cudaGraphExecDestroy(graph));
    for (auto e : events) GOODPUT_CUDA_CHECK_NOTHROW(cudaEventDestroy(e));
    if (send) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(send));
    if (recv) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(recv));
    if (wrong) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(wrong));
  }
};

class NcclEngine final : public Engine {
 public:
  explicit NcclEngine(const EngineOptions& o)
      : opts_(o), watchdog_([this](const std::string& what) { abort_all(what); }) {}

  ~NcclEngine() override {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& l : local_) {
      if (cudaSetDevice(l.dev) != cudaSuccess) continue;
      if (l.comm && !aborted_) ncclCommDestroy(l.comm);
      if (l.stream) GOODPUT_CUDA_CHECK_NOTHROW(cudaStreamDestroy(l.stream));
    }
  }

  void init(Bootstrap& boot) override {
    // Before NCCL logs anything: where its per-call algorithm/protocol lines go.
    nccl_log_.emplace(process_nccl_debug_capture(opts_.nccl_log));
    boot_ = &boot;
    const auto devices = gpu::list_devices();  // NoGpuError without a GPU
    const int visible = static_cast<int>(devices.size());
    launch_ = boot.kind();
    std::vector<int> devs;
    if (boot.kind() == "local") {
      const int want = opts_.gpus > 0 ? opts_.gpus : visible;
      if (want > visible)
        throw InputError("--gpus " + std::to_string(want) + " but only " + std::to_string(visible) +
                         " GPU(s) are visible");
      for (int i = 0; i < want; ++i) devs.push_back(i);
      nranks_ = want;
    } else {
      if (opts_.gpus > 1)
        throw InputError("--gpus applies to --launch local; with MPI each process drives one GPU");
      const int local_index = local_process_index(boot);
      if (local_index >= visible)
        throw InputError("process " + std::to_string(boot.rank()) + " is number " +
                         std::to_string(local_index + 1) + " on host " + hostname() + " but only " +
                         std::to_string(visible) +
                         " GPU(s) are visible there: start at most one process per GPU");
      devs.push_back(local_index);
      nranks_ = boot.size();
    }
    local_.resize(devs.size());
    for (std::size_t i = 0; i < devs.size(); ++i) {
      local_[i].dev = devs[i];
      local_[i].rank = boot.kind() == "local" ? static_cast<int>(i) : boot.rank();
    }
    std::vector<ncclComm_t> comms(devs.size(), nullptr);
    if (boot.kind() == "local") {
      GOODPUT_NCCL_CHECK(ncclCommInitAll(comms.data(), static_cast<int>(devs.size()), devs.data()),
                         nullptr);
    } else {
      ncclUniqueId id{};
      if (boot.rank() == 0) GOODPUT_NCCL_CHECK(ncclGetUniqueId(&id), nullptr);
      std::vector<std::uint8_t> bytes(reinterpret_cast<std::uint8_t*>(&id),
                                      reinterpret_cast<std::uint8_t*>(&id) + sizeof id);
      boot.broadcast(bytes, 0);
      if (bytes.size() != sizeof id)
        throw RuntimeFailure("NCCL unique id of the wrong size received");
      std::copy(bytes.begin(), bytes.end(), reinterpret_cast<std::uint8_t*>(&id));
      GOODPUT_CUDA_CHECK(cudaSetDevice(devs[0]));
      GOODPUT_NCCL_CHECK(ncclCommInitRank(&comms[0], nranks_, id, boot.rank()), nullptr);
    }
    const std::string host = hostname();
    for (std::size_t i = 0; i < local_.size(); ++i) {
      auto& l = local_[i];
      l.comm = comms[i];
      GOODPUT_CUDA_CHECK(cudaSetDevice(l.dev));
      GOODPUT_CUDA_CHECK(cudaStreamCreateWithFlags(&l.stream, cudaStreamNonBlocking));
      RankIdentity id;
      id.rank = l.rank;
      id.host = host;
      id.pid = static_cast<int>(getpid());
      id.process = boot.rank();
      id.device = devices[static_cast<std::size_t>(l.dev)];
      gpu::fill_from_nvml(id.device);
      id.links = probe_links(id.device);
      ids_.push_back(id);
    }
    ncclGetVersion(&nccl_version_);
  }

  int nranks() const override { return nranks_; }
  std::vector<RankIdentity> local_ranks() const override { return ids_; }

  nlohmann::json details() const override {
    nlohmann::json env = nlohmann::json::object();
    for (const char* v : {"NCCL_ALGO", "NCCL_PROTO", "NCCL_NVLS_ENABLE", "NCCL_COLLNET_ENABLE",
                          "NCCL_P2P_LEVEL", "NCCL_NET", "NCCL_IB_HCA", "NCCL_SOCKET_IFNAME"})
      if (const char* s = std::getenv(v)) env[v] = s;
    return {
        {"engine", "nccl"},
        {"nccl_version", nccl_version_},
        {"launch", launch_},
        {"nranks", nranks_},
        {"nccl_env", env},
        {"nccl_debug", nccl_log_ ? to_json(nccl_log_->capture()) : nlohmann::json(nullptr)},
        {"algorithm_note",
         "NCCL picks the algorithm (Ring, Tree, NVLS, CollNet, PAT) and protocol per call; "
         "NCCL_ALGO and NCCL_PROTO pin them. Each result's 'nccl' is what NCCL reported on rank "
         "0 (its NCCL_DEBUG_SUBSYS=TUNING lines)"}};
  }

  void stop() override {
    std::lock_guard<std::mutex> lk(mu_);
    abort_locked();
  }

  LocalMeasurement run_case(const CaseSpec& s) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (aborted_)
        throw RuntimeFailure("the NCCL communicators were aborted after an earlier failure");
    }
    if (nccl_log_) (void)nccl_log_->read_new();  // what NCCL wrote before this case
    const auto& k = s.counts;
    const std::size_t es = k.elem_size;
    const std::size_t send_bytes = k.send_count * es, recv_bytes = k.recv_count * es;
    std::vector<RankBuffers> bufs(local_.size());
    std::vector<void*> send_ptr(local_.size()), out_ptr(local_.size());
    const std::size_t n_events = 2 * static_cast<std::size_t>(s.iters);
    for (std::size_t i = 0; i < local_.size(); ++i) {
      auto& b = bufs[i];
      const auto& l = local_[i];
      b.dev = l.dev;
      GOODPUT_CUDA_CHECK(cudaSetDevice(l.dev));
      if (s.in_place) {
        GOODPUT_CUDA_CHECK(
            cudaMalloc(&b.recv, std::max<std::size_t>(std::max(send_bytes, recv_bytes), 1)));
        send_ptr[i] = static_cast<char*>(b.recv) +
                      static_cast<std::size_t>(l.rank) * k.send_inplace_offset * es;
        out_ptr[i] = static_cast<char*>(b.recv) +
                     static_cast<std::size_t>(l.rank) * k.recv_inplace_offset * es;
      } else {
        GOODPUT_CUDA_CHECK(cudaMalloc(&b.send, std::max<std::size_t>(send_bytes, 1)));
        GOODPUT_CUDA_CHECK(cudaMalloc(&b.recv, std::max<std::size_t>(recv_bytes, 1)));
        send_ptr[i] = b.send;
        out_ptr[i] = b.recv;
      }
      GOODPUT_CUDA_CHECK(cudaMalloc(&b.wrong, sizeof(unsigned long long)));
      b.events.resize(n_events);
      for (auto& e : b.events) GOODPUT_CUDA_CHECK(cudaEventCreate(&e));
      if (!s.in_place)
        GOODPUT_CUDA_CHECK(
            cudaMemsetAsync(b.recv, 0, std::max<std::size_t>(recv_bytes, 1), l.stream));
      with_type(s.dtype, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        fill_kernel<T><<<grid_for(k.send_count), 256, 0, l.stream>>>(
            static_cast<T*>(send_ptr[i]), s.pattern, l.rank, k.send_count);
      });
      GOODPUT_CUDA_CHECK(cudaGetLastError());
    }
    const std::string label = case_label(s);
    wait_all(label + " (fill)", s.timeout_s);

    LocalMeasurement m;
    m.wrong.assign(local_.size(), 0);
    m.samples.assign(local_.size(), {});
    if (s.check) {
      enqueue(s, send_ptr, out_ptr, 1);
      wait_all(label + " (check)", s.timeout_s);
      for (std::size_t i = 0; i < local_.size(); ++i) {
        const auto& l = local_[i];
        if (s.coll == Coll::kReduce && l.rank != s.root) continue;  // only the root has a result
        GOODPUT_CUDA_CHECK(cudaSetDevice(l.dev));
        GOODPUT_CUDA_CHECK(cudaMemsetAsync(bufs[i].wrong, 0, sizeof(unsigned long long), l.stream));
        const double tol = output_tolerance(s.pattern, s.dtype, s.op);
        with_type(s.dtype, [&](auto* tag) {
          using T = std::remove_pointer_t<decltype(tag)>;
          check_kernel<T><<<grid_for(k.recv_count), 256, 0, l.stream>>>(
              static_cast<const T*>(out_ptr[i]), s.pattern, s.coll, s.op, l.rank, s.root,
              k.recv_count, k.param_count, tol, bufs[i].wrong);
        });
        GOODPUT_CUDA_CHECK(cudaGetLastError());
      }
      wait_all(label + " (check)", s.timeout_s);
      for (std::size_t i = 0; i < local_.size(); ++i) {
        unsigned long long w = 0;
        GOODPUT_CUDA_CHECK(cudaSetDevice(local_[i].dev));
        GOODPUT_CUDA_CHECK(cudaMemcpy(&w, bufs[i].wrong, sizeof w, cudaMemcpyDeviceToHost));
        m.wrong[i] = w;
      }
    }
    guarded(s, " (warm-up launch)", [&] {
      for (int w = 0; w < s.warmup; ++w) enqueue_calls(s, send_ptr, out_ptr, 1);
    });
    wait_all(label + " (warm-up)", s.timeout_s);

    const int per_sample = s.mode == TimingMode::kBackToBack ? s.batch : 1;
    if (s.graph) {
      // One graph per GPU holding `per_sample` calls, captured together so NCCL sees the group.
      std::vector<cudaGraph_t> graphs(local_.size(), nullptr);
      for (auto& l : local_) {
        GOODPUT_CUDA_CHECK(cudaSetDevice(l.dev));
        GOODPUT_CUDA_CHECK(cudaStreamBeginCapture(l.stream, cudaStreamCaptureModeThreadLocal));
      }
      enqueue(s, send_ptr, out_ptr, per_sample);
      for (std::size_t i = 0; i < local_.size(); ++i) {
        GOODPUT_CUDA_CHECK(cudaSetDevice(local_[i].dev));
        GOODPUT_CUDA_CHECK(cudaStreamEndCapture(local_[i].stream, &graphs[i]));
        const cudaError_t inst = cudaGraphInstantiate(&bufs[i].graph, graphs[i], 0);
        GOODPUT_CUDA_CHECK_NOTHROW(cudaGraphDestroy(graphs[i]));
        GOODPUT_CUDA_CHECK(inst);
      }
    }
    guarded(s, " (timed launch)", [&] {
      for (int it = 0; it < s.iters; ++it) {
        const auto e = static_cast<std::size_t>(2 * it);
        for (std::size_t i = 0; i < local_.size(); ++i)
          GOODPUT_CUDA_CHECK(cudaEventRecord(bufs[i].events[e], local_[i].stream));
        if (s.graph) {
          for (std::size_t i = 0; i < local_.size(); ++i) {
            GOODPUT_CUDA_CHECK(cudaSetDevice(local_[i].dev));
            GOODPUT_CUDA_CHECK(cudaGraphLaunch(bufs[i].graph, local_[i].stream));
          }
        } else {
          enqueue_calls(s, send_ptr, out_ptr, per_sample);
        }
        for (std::size_t i = 0; i < local_.size(); ++i)
          GOODPUT_CUDA_CHECK(cudaEventRecord(bufs[i].events[e + 1], local_[i].stream));
      }
    });
    wait_all(label + " (timed)", s.timeout_s);
    for (std::size_t i = 0; i < local_.size(); ++i) {
      for (int it = 0; it < s.iters; ++it) {
        float ms = 0;
        const auto e = static_cast<std::size_t>(2 * it);
        GOODPUT_CUDA_CHECK(cudaEventElapsedTime(&ms, bufs[i].events[e], bufs[i].events[e + 1]));
        m.samples[i].push_back(static_cast<double>(ms) * 1e-3 / per_sample);
      }
    }
    if (nccl_log_) {
      const std::string text = nccl_log_->read_new();
      m.nccl = nccl_choice_for_case(parse_nccl_tuning_lines(text), s.coll, k.param_count * es,
                                    nranks_, nccl_log_->unavailable());
    }
    return m;
  }

 private:
  struct Local {
    int dev = 0;
    int rank = 0;
    ncclComm_t comm = nullptr;
    cudaStream_t stream = nullptr;
  };

  // Index of this process among the processes on its host (rank order): its GPU.
  static int local_process_index(Bootstrap& boot) {
    const auto hosts = boot.gather(hostname(), 0);
    std::vector<std::uint8_t> idx(static_cast<std::size_t>(boot.size()) * sizeof(int), 0);
    if (boot.rank() == 0) {
      for (std::size_t p = 0; p < hosts.size(); ++p) {
        const int before = static_cast<int>(
            std::count(hosts.begin(), hosts.begin() + static_cast<std::ptrdiff_t>(p), hosts[p]));
        std::copy_n(reinterpret_cast<const std::uint8_t*>(&before), sizeof(int),
                    idx.begin() + static_cast<std::ptrdiff_t>(p * sizeof(int)));
      }
    }
    boot.broadcast(idx, 0);
    int mine = 0;
    std::copy_n(idx.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(boot.rank()) *
                                                          sizeof(int)),
                sizeof(int), reinterpret_cast<std::uint8_t*>(&mine));
    return mine;
  }

  // Runs `launch` with the launch watchdog armed once (a first call may block in connection
  // setup): an NCCL error after the watchdog fired is reported as the timeout. Arming it per call
  // would put its cost (a label, a lock, a wake-up: about 2 us) between the timed events.
  template <class Launch>
  void guarded(const CaseSpec& s, const char* phase, Launch&& launch) {
    watchdog_.arm(s.timeout_s, case_label(s) + phase);
    try {
      launch();
    } catch (const RuntimeFailure& e) {
      if (watchdog_.fired())
        throw CollectiveTimeout(case_label(s) + " did not launch within " +
                                std::to_string(s.timeout_s) +
                                " s; the NCCL communicators were aborted (" + e.what() + ")");
      throw;
    }
  }

  void enqueue(const CaseSpec& s, const std::vector<void*>& send, const std::vector<void*>& out,
               int calls) {
    guarded(s, " (launch)", [&] { enqueue_calls(s, send, out, calls); });
  }

  // `calls` collectives on every local rank, grouped so one thread can drive many GPUs.
  void enqueue_calls(const CaseSpec& s, const std::vector<void*>& send,
                     const std::vector<void*>& out, int calls) {
    const ncclDataType_t t = nccl_type(s.dtype);
    const ncclRedOp_t op = nccl_op(s.op);
    const auto& k = s.counts;
    const std::size_t chunk = k.param_count * k.elem_size;
    for (int c = 0; c < calls; ++c) {
      GOODPUT_NCCL_CHECK(ncclGroupStart(), nullptr);
      for (std::size_t i = 0; i < local_.size(); ++i) {
        const auto& l = local_[i];
        void* sb = send[i];
        // In place, send and out point into one buffer at nccl-tests' offsets (all_gather: out
        // is the buffer start and send this rank's slot; reduce_scatter the other way round).
        void* rb = out[i];
        switch (s.coll) {
          case Coll::kAllReduce:
            GOODPUT_NCCL_CHECK(ncclAllReduce(sb, rb, k.param_count, t, op, l.comm, l.stream),
                               l.comm);
            break;
          case Coll::kAllGather:
            GOODPUT_NCCL_CHECK(ncclAllGather(sb, rb, k.param_count, t, l.comm, l.stream), l.comm);
            break;
          case Coll::kReduceScatter:
            GOODPUT_NCCL_CHECK(ncclReduceScatter(sb, rb, k.param_count, t, op, l.comm, l.stream),
                               l.comm);
            break;
          case Coll::kBroadcast:
            GOODPUT_NCCL_CHECK(ncclBroadcast(sb, rb, k.param_count, t, s.root, l.comm, l.stream),
                               l.comm);
            break;
          case Coll::kReduce:
            GOODPUT_NCCL_CHECK(ncclReduce(sb, rb, k.param_count, t, op, s.root, l.comm, l.stream),
                               l.comm);
            break;
          case Coll::kAllToAll:
            for (int r = 0; r < nranks_; ++r) {
              GOODPUT_NCCL_CHECK(
                  ncclSend(static_cast<char*>(sb) + static_cast<std::size_t>(r) * chunk,
                           k.param_count, t, r, l.comm, l.stream),
                  l.comm);
              GOODPUT_NCCL_CHECK(
                  ncclRecv(static_cast<char*>(rb) + static_cast<std::size_t>(r) * chunk,
                           k.param_count, t, r, l.comm, l.stream),
                  l.comm);
            }
            break;
          case Coll::kSendRecv: {
            const int next = (l.rank + 1) % nranks_, prev = (l.rank + nranks_ - 1) % nranks_;
            GOODPUT_NCCL_CHECK(ncclSend(sb, k.param_count, t, next, l.comm, l.stream), l.comm);
            GOODPUT_NCCL_CHECK(ncclRecv(rb, k.param_count, t, prev, l.comm, l.stream), l.comm);
            break;
          }
        }
      }
      GOODPUT_NCCL_CHECK(ncclGroupEnd(), local_.empty() ? nullptr : local_[0].comm);
    }
  }

  // Waits for every local stream, polling so a hang ends in CollectiveTimeout and an NCCL
  // asynchronous error (a peer died, a network failure) ends in its own message.
  void wait_all(const std::string& what, double timeout_s) {
    std::string ranks;
    for (const auto& l : local_) ranks += (ranks.empty() ? "" : ",") + std::to_string(l.rank);
    watchdog_.arm(timeout_s, what + " on rank(s) " + ranks);
    struct Disarm {
      Watchdog& w;
      ~Disarm() { w.disarm(); }
    } disarm{watchdog_};
    std::vector<bool> done(local_.size(), false);
    auto next_peer_check = std::chrono::steady_clock::now();
    for (std::size_t remaining = local_.size(); remaining > 0;) {
      for (std::size_t i = 0; i < local_.size(); ++i) {
        if (done[i]) continue;
        const cudaError_t q = cudaStreamQuery(local_[i].stream);
        if (q == cudaSuccess) {
          done[i] = true;
          --remaining;
        } else if (q != cudaErrorNotReady) {
          GOODPUT_CUDA_CHECK(q);
        }
      }
      if (remaining == 0) break;
      if (watchdog_.fired())
        throw CollectiveTimeout(what + " did not finish within " + std::to_string(timeout_s) +
                                " s on rank(s) " + ranks + "; the NCCL communicators were aborted");
      // A process that gave up will never join this collective: stop now, not at the timeout.
      if (boot_ && std::chrono::steady_clock::now() >= next_peer_check) {
        next_peer_check = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
        if (boot_->peer_failed()) {
          {
            std::lock_guard<std::mutex> lk(mu_);
            abort_locked();
          }
          throw PeerFailed(what + " on rank(s) " + ranks +
                           ": stopped because another process of the run failed; the NCCL "
                           "communicators were aborted");
        }
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (!aborted_) {
          for (auto& l : local_) {
            ncclResult_t async = ncclSuccess;
            ncclCommGetAsyncError(l.comm, &async);
            if (async != ncclSuccess && async != ncclInProgress) {
              const std::string msg = what + ": NCCL asynchronous error on rank " +
                                      std::to_string(l.rank) + ": " + ncclGetErrorString(async) +
                                      ": " + ncclGetLastError(l.comm);
              abort_locked();
              throw RuntimeFailure(msg);
            }
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  void abort_all(const std::string& what) {
    std::lock_guard<std::mutex> lk(mu_);
    std::fprintf(stderr, "goodput collectives: %s timed out; aborting NCCL communicators\n",
                 what.c_str());
    abort_locked();
  }

  void abort_locked() {
    if (aborted_) return;
    for (auto& l : local_)
      if (l.comm) ncclCommAbort(l.comm);
    aborted_ = true;
  }

  EngineOptions opts_;
  Bootstrap* boot_ = nullptr;                // outlives the engine
  std::optional<NcclDebugReader> nccl_log_;  // NCCL's tuning lines (rank 0's process)
  std::vector<Local> local_;
  std::vector<RankIdentity> ids_;
  int nranks_ = 0;
  int nccl_version_ = 0;
  std::string launch_;
  std::mutex mu_;  // the communicators against the watchdog's abort
  bool aborted_ = false;
  Watchdog watchdog_;  // last: stopped first, before what its callback touches
};

}  // namespace

std::unique_ptr<Engine> make_nccl_engine(const EngineOptions& opts) {
  return std::make_unique<NcclEngine>(opts);
}

}  // namespace goodput::collectives
