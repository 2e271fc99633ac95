// GEMM calibration through cuBLASLt: for one dtype and problem, time the top heuristic algorithms
// and keep the fastest (the "maximum achievable matmul FLOP/s" search), verify it against the CPU
// reference (kernels/reference.hpp) on a small problem and on sampled entries of the full one,
// then let the harness time it on rotating random-normal buffer sets.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/gpu/cuda_check.cuh"
#include "kernels/gemm.hpp"
#include "kernels/reference.hpp"
#include "kernels/rng.hpp"

namespace goodput::kernels {
namespace {

// ---- random-normal inputs ------------------------------------------------------------------

template <typename T>
__device__ T from_float(float x) {
  if constexpr (std::is_same_v<T, float>)
    return x;
  else if constexpr (std::is_same_v<T, __half>)
    return __float2half_rn(x);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>)
    return __float2bfloat16_rn(x);
  else
    return __nv_fp8_e4m3(x);  // round to nearest even, saturating (__NV_SATFINITE)
}

// Box-Muller on counter-based uniforms: deterministic per (seed, index).
template <typename T>
__global__ void fill_normal_kernel(T* __restrict__ p, std::uint64_t n, std::uint64_t seed) {
  const std::uint64_t stride = static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
  for (std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride) {
    const double u1 = uniform_01(hash_index(seed, 2 * i));
    const double u2 = uniform_01(hash_index(seed, 2 * i + 1));
    if constexpr (std::is_same_v<T, double>) {
      p[i] = sqrt(-2.0 * log(u1)) * cospi(2.0 * u2);
    } else {
      const auto f1 = static_cast<float>(u1), f2 = static_cast<float>(u2);
      p[i] = from_float<T>(sqrtf(-2.0f * logf(f1)) * cospif(2.0f * f2));
    }
  }
}

template <typename T>
__global__ void encode_kernel(const float* __restrict__ in, T* __restrict__ out, std::uint64_t n) {
  const std::uint64_t i = blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
  if (i < n) {
    if constexpr (std::is_same_v<T, double>)
      out[i] = static_cast<double>(in[i]);
    else
      out[i] = from_float<T>(in[i]);
  }
}

void fill_normal(const std::string& storage, void* p, std::uint64_t n, std::uint64_t seed,
                 cudaStream_t s) {
  constexpr int kThreads = 256;
  const auto blocks =
      static_cast<unsigned>(std::min<std::uint64_t>((n + kThreads - 1) / kThreads, 65536));
  if (storage == "fp64")
    fill_normal_kernel<<<blocks, kThreads, 0, s>>>(static_cast<double*>(p), n, seed);
  else if (storage == "fp32")
    fill_normal_kernel<<<blocks, kThreads, 0, s>>>(static_cast<float*>(p), n, seed);
  else if (storage == "fp16")
    fill_normal_kernel<<<blocks, kThreads, 0, s>>>(static_cast<__half*>(p), n, seed);
  else if (storage == "bf16")
    fill_normal_kernel<<<blocks, kThreads, 0, s>>>(static_cast<__nv_bfloat16*>(p), n, seed);
  else if (storage == "e4m3")
    fill_normal_kernel<<<blocks, kThreads, 0, s>>>(static_cast<__nv_fp8_e4m3*>(p), n, seed);
  else
    throw InputError("fill_normal: unknown storage '" + storage + "'");
  GOODPUT_CUDA_CHECK(cudaGetLastError());
}

// ---- cuBLASLt types per dtype ----------------------------------------------------------------

struct LtTypes {
  cudaDataType_t ab, cd, scale;
  cublasComputeType_t compute;
  const char* compute_name;
};

LtTypes lt_types(GemmDtype id) {
  switch (id) {
    case GemmDtype::kFp64:
      return {CUDA_R_64F, CUDA_R_64F, CUDA_R_64F, CUBLAS_COMPUTE_64F, "64F"};
    case GemmDtype::kFp32:
      return {CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F, "32F"};
    case GemmDtype::kTf32:
      return {CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, "32F_FAST_TF32"};
    case GemmDtype::kFp16:
      return {CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, CUBLAS_COMPUTE_32F, "32F"};
    case GemmDtype::kBf16:
      return {CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, "32F"};
    case GemmDtype::kFp8E4m3:
      return {CUDA_R_8F_E4M3, CUDA_R_16BF, CUDA_R_32F, CUBLAS_COMPUTE_32F, "32F"};
  }
  throw InputError("unknown GEMM dtype");
}

// Descriptors of one problem shape in the TN layout: A stored K x M, B K x N, C = D M x N.
class LtProblem {
 public:
  LtProblem(const LtTypes& t, std::int64_t m, std::int64_t n, std::int64_t k)
      : m_(m), n_(n), k_(k) {
    const auto um = static_cast<std::uint64_t>(m), un = static_cast<std::uint64_t>(n),
               uk = static_cast<std::uint64_t>(k);
    GOODPUT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a_, t.ab, uk, um, k));
    GOODPUT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&b_, t.ab, uk, un, k));
    GOODPUT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d_, t.cd, um, un, m));
  }
  ~LtProblem() {
    if (a_) cublasLtMatrixLayoutDestroy(a_);
    if (b_) cublasLtMatrixLayoutDestroy(b_);
    if (d_) cublasLtMatrixLayoutDestroy(d_);
  }
  LtProblem(const LtProblem&) = delete;
  LtProblem& operator=(const LtProblem&) = delete;
  cublasLtMatrixLayout_t a() const { return a_; }
  cublasLtMatrixLayout_t b() const { return b_; }
  cublasLtMatrixLayout_t d() const { return d_; }
  std::int64_t m() const { return m_; }
  std::int64_t n() const { return n_; }
  std::int64_t k() const { return k_; }

 private:
  std::int64_t m_, n_, k_;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
};

template <typename V>
V algo_attr(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  V v{};
  std::size_t written = 0;
  if (cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &v, sizeof v, &written) !=
      CUBLAS_STATUS_SUCCESS)
    return V{};
  return v;
}

nlohmann::json describe_algo(const cublasLtMatmulAlgo_t& algo) {
  return {
      {"algo_id", algo_attr<std::int32_t>(algo, CUBLASLT_ALGO_CONFIG_ID)},
      {"tile_id", algo_attr<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_TILE_ID)},
      {"stages_id", algo_attr<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_STAGES_ID)},
      {"splitk", algo_attr<std::int32_t>(algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM)},
      {"reduction_scheme", algo_attr<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME)},
      {"cta_swizzling", algo_attr<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CTA_SWIZZLING)},
      {"custom_option", algo_attr<std::uint32_t>(algo, CUBLASLT_ALGO_CONFIG_CUSTOM_OPTION)},
      {"inner_shape_id", algo_attr<std::uint16_t>(algo, CUBLASLT_ALGO_CONFIG_INNER_SHAPE_ID)},
      {"cluster_shape_id", algo_attr<std::uint16_t>(algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID)}};
}

std::string status_text(cublasStatus_t st) {
  return std::string(cublasLtGetStatusName(st)) + ": " + cublasLtGetStatusString(st);
}

// cuBLASLt's structs are unnamed typedefs, which nvcc cannot destroy inside std containers.
struct Heuristic {
  cublasLtMatmulHeuristicResult_t r;
};

struct BufferSet {
  void* a = nullptr;
  void* b = nullptr;
  void* d = nullptr;
};

class GemmWorkload final : public Workload {
 public:
  explicit GemmWorkload(const GemmConfig& c)
      : c_(c), info_(dtype_info(c.dtype)), types_(lt_types(c.dtype)) {
    const auto& p = c_.problem;
    if (p.m <= 0 || p.n <= 0 || p.k <= 0)
      throw InputError("GEMM problem '" + p.label + "': M, N and K must be positive");
    if (c_.sets < 1 || c_.candidates < 1 || c_.tuning_runs < 1 || !(c_.tuning_ms > 0))
      throw InputError(
          "GEMM workload: sets, candidates and tuning runs must be at least 1, tuning time "
          "positive");
  }
  ~GemmWorkload() override { release(); }

  std::string name() const override {
    const auto& p = c_.problem;
    std::string n = std::string("gemm/") + info_.name + "/" + std::to_string(p.m) + "x" +
                    std::to_string(p.n) + "x" + std::to_string(p.k);
    if (p.label != "square") n += "/" + p.label;
    return n;
  }
  std::string kind() const override { return "gemm"; }
  nlohmann::json params() const override {
    const auto& p = c_.problem;
    return {{"dtype", info_.name},
            {"peak_key", info_.peak_key},
            {"input", info_.input},
            {"output", info_.output},
            {"compute", types_.compute_name},
            {"layout", to_string(kLayoutTN)},
            {"m", p.m},
            {"n", p.n},
            {"k", p.k},
            {"problem", p.label},
            {"alpha", 1.0},
            {"beta", 0.0},
            {"buffer_sets", c_.sets},
            {"workspace_bytes", c_.workspace_bytes},
            {"arithmetic_intensity", arithmetic_intensity(flops_per_run(), bytes_per_run())},
            {"seed", c_.seed},
            {"fast_accum", fast_accum()}};
  }
  double flops_per_run() const override {
    return gemm_flops(c_.problem.m, c_.problem.n, c_.problem.k);
  }
  double bytes_per_run() const override {
    return gemm_bytes(c_.problem.m, c_.problem.n, c_.problem.k, info_);
  }
  std::size_t footprint_bytes() const override {
    // Plus the largest small-problem check, allocated while the full sets are held.
    std::int64_t small = 256;
    for (auto s : c_.small_sizes) small = std::max(small, s);
    return static_cast<std::size_t>(c_.sets) * gemm_set_bytes(c_.problem, info_) +
           c_.workspace_bytes + gemm_set_bytes({"check", small, small, small}, info_) + (1u << 20);
  }

  void setup() override {
    candidates_ = nlohmann::json::array();
    chosen_json_ = verification_ = nlohmann::json::object();
    chosen_index_ = -1;
    GOODPUT_CUDA_CHECK(cudaSetDevice(c_.device));
    cudaDeviceProp prop{};
    GOODPUT_CUDA_CHECK(cudaGetDeviceProperties(&prop, c_.device));
    if (!dtype_supported(info_, prop.major, prop.minor))
      throw RuntimeFailure(std::string(info_.name) + " GEMM needs compute capability " +
                           std::to_string(info_.min_cc / 10) + "." +
                           std::to_string(info_.min_cc % 10) + "; this GPU has " +
                           std::to_string(prop.major) + "." + std::to_string(prop.minor));
    GOODPUT_CUBLAS_CHECK(cublasLtCreate(&handle_));
    GOODPUT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    GOODPUT_CUDA_CHECK(cudaMalloc(&workspace_, c_.workspace_bytes));
    if (c_.dtype == GemmDtype::kFp8E4m3) {
      // Per-tensor scales of A and B (device pointers, compute type): 1, the inputs are N(0,1).
      const float one = 1.0f;
      GOODPUT_CUDA_CHECK(cudaMalloc(&scale_, sizeof(float)));
      GOODPUT_CUDA_CHECK(cudaMemcpy(scale_, &one, sizeof one, cudaMemcpyHostToDevice));
    }
    make_desc();

    const auto& p = c_.problem;
    const auto na = static_cast<std::uint64_t>(p.m * p.k),
               nb = static_cast<std::uint64_t>(p.k * p.n);
    for (int s = 0; s < c_.sets; ++s) {
      BufferSet b;
      sets_.push_back(b);  // kept before allocating so teardown frees a partial set
      GOODPUT_CUDA_CHECK(cudaMalloc(&sets_.back().a, na * info_.a_bytes));
      GOODPUT_CUDA_CHECK(cudaMalloc(&sets_.back().b, nb * info_.b_bytes));
      GOODPUT_CUDA_CHECK(
          cudaMalloc(&sets_.back().d, static_cast<std::size_t>(p.m * p.n) * info_.d_bytes));
      const auto seed = c_.seed * 1000 + static_cast<std::uint64_t>(2 * s);
      fill_normal(info_.input, sets_.back().a, na, seed, stream_);
      fill_normal(info_.input, sets_.back().b, nb, seed + 1, stream_);
    }
    GOODPUT_CUDA_CHECK(cudaStreamSynchronize(stream_));

    big_ = std::make_unique<LtProblem>(types_, p.m, p.n, p.k);
    tune();
    verify_small();
    verify_sampled();
    current_ = 0;
  }

  void run(void* stream) override {
    GOODPUT_CUBLAS_CHECK(launch(*big_, sets_[static_cast<std::size_t>(current_)], chosen_,
                                static_cast<cudaStream_t>(stream)));
  }
  void rotate() override { current_ = (current_ + 1) % static_cast<int>(sets_.size()); }
  void teardown() override { release(); }
  nlohmann::json details() const override {
    return {{"candidates", candidates_},
            {"chosen", chosen_index_},
            {"algorithm", chosen_json_},
            {"verification", verification_}};
  }

 private:
  bool fast_accum() const { return c_.dtype == GemmDtype::kFp8E4m3 && c_.fp8_fast_accum; }

  void make_desc() {
    GOODPUT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc_, types_.compute, types_.scale));
    const cublasOperation_t op_a = CUBLAS_OP_T, op_b = CUBLAS_OP_N;
    GOODPUT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a));
    GOODPUT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b));
    if (scale_) {
      GOODPUT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
          desc_, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale_, sizeof scale_));
      GOODPUT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
          desc_, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale_, sizeof scale_));
    }
    if (fast_accum()) {
      const std::int8_t on = 1;
      GOODPUT_CUBLAS_CHECK(
          cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &on, sizeof on));
    }
    GOODPUT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref_));
    GOODPUT_CUBLAS_CHECK(
        cublasLtMatmulPreferenceSetAttribute(pref_, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                             &c_.workspace_bytes, sizeof c_.workspace_bytes));
  }

  // D = 1 * op(A) op(B) + 0 * D (C aliases D: beta is 0, so C is never read).
  cublasStatus_t launch(const LtProblem& pr, const BufferSet& b, const cublasLtMatmulAlgo_t& algo,
                        cudaStream_t s) {
    const double alpha_d = 1.0, beta_d = 0.0;
    const float alpha_f = 1.0f, beta_f = 0.0f;
    const bool dbl = types_.scale == CUDA_R_64F;
    return cublasLtMatmul(handle_, desc_, dbl ? static_cast<const void*>(&alpha_d) : &alpha_f, b.a,
                          pr.a(), b.b, pr.b(), dbl ? static_cast<const void*>(&beta_d) : &beta_f,
                          b.d, pr.d(), b.d, pr.d(), &algo, workspace_, c_.workspace_bytes, s);
  }

  std::vector<Heuristic> heuristics(const LtProblem& pr, int count) {
    const auto res =
        std::make_unique<cublasLtMatmulHeuristicResult_t[]>(static_cast<std::size_t>(count));
    int returned = 0;
    GOODPUT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(
        handle_, desc_, pr.a(), pr.b(), pr.d(), pr.d(), pref_, count, res.get(), &returned));
    std::vector<Heuristic> out;
    for (int i = 0; i < returned; ++i) out.push_back({res[static_cast<std::size_t>(i)]});
    return out;
  }

  // Time each heuristic candidate on the full problem (a warm-up run, then a batch of rotating
  // runs between two events) and keep the fastest that runs.
  void tune() {
    const auto found = heuristics(*big_, c_.candidates);
    if (found.empty())
      throw RuntimeFailure("cuBLASLt has no algorithm for " + name() + " (" + types_.compute_name +
                           ", layout TN)");
    cudaEvent_t start = nullptr, stop = nullptr;
    GOODPUT_CUDA_CHECK(cudaEventCreate(&start));
    GOODPUT_CUDA_CHECK(cudaEventCreate(&stop));
    double best_ms = INFINITY;
    try {
      for (std::size_t i = 0; i < found.size(); ++i) {
        nlohmann::json cj = describe_algo(found[i].r.algo);
        cj["rank"] = i;
        cj["workspace_bytes"] = found[i].r.workspaceSize;
        cj["waves"] = found[i].r.wavesCount;
        const double ms = time_candidate(found[i].r.algo, start, stop, cj);
        if (ms < best_ms) {
          best_ms = ms;
          chosen_ = found[i].r.algo;
          chosen_index_ = static_cast<int>(i);
        }
        candidates_.push_back(cj);
      }
    } catch (...) {
      cudaEventDestroy(start);
      cudaEventDestroy(stop);
      throw;
    }
    GOODPUT_CUDA_CHECK(cudaEventDestroy(start));
    GOODPUT_CUDA_CHECK(cudaEventDestroy(stop));
    if (chosen_index_ < 0)
      throw RuntimeFailure("none of the " + std::to_string(found.size()) +
                           " cuBLASLt candidates ran for " + name() + ": " + candidates_.dump());
    chosen_json_ = candidates_[static_cast<std::size_t>(chosen_index_)];
  }

  // Mean time of one run in ms, or +inf (status recorded) when the candidate fails to launch.
  double time_candidate(const cublasLtMatmulAlgo_t& algo, cudaEvent_t start, cudaEvent_t stop,
                        nlohmann::json& out) {
    // A warm-up run (loads the kernel), then one timed run to size the batch.
    cublasStatus_t st = launch(*big_, sets_[0], algo, stream_);
    if (st == CUBLAS_STATUS_SUCCESS) {
      GOODPUT_CUDA_CHECK(cudaEventRecord(start, stream_));
      st = launch(*big_, sets_[0], algo, stream_);
      GOODPUT_CUDA_CHECK(cudaEventRecord(stop, stream_));
    }
    GOODPUT_CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (st != CUBLAS_STATUS_SUCCESS) {
      out["status"] = status_text(st);
      return INFINITY;
    }
    float one_ms = 0;
    GOODPUT_CUDA_CHECK(cudaEventElapsedTime(&one_ms, start, stop));
    // About tuning_ms of timed work per candidate: at least 3 runs, at most tuning_runs.
    const double want = c_.tuning_ms / std::max(static_cast<double>(one_ms), 1e-4);
    const int runs = std::min(c_.tuning_runs, std::max(3, static_cast<int>(want)));
    GOODPUT_CUDA_CHECK(cudaEventRecord(start, stream_));
    for (int r = 0; r < runs && st == CUBLAS_STATUS_SUCCESS; ++r)
      st = launch(*big_, sets_[static_cast<std::size_t>((r + 1) % c_.sets)], algo, stream_);
    GOODPUT_CUDA_CHECK(cudaEventRecord(stop, stream_));
    GOODPUT_CUDA_CHECK(cudaEventSynchronize(stop));
    GOODPUT_CUDA_CHECK(cudaGetLastError());
    if (st != CUBLAS_STATUS_SUCCESS) {
      out["status"] = status_text(st);
      return INFINITY;
    }
    float ms = 0;
    GOODPUT_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    const double per_run = static_cast<double>(ms) / runs;
    out["status"] = "ok";
    out["runs"] = runs;
    out["time_ms"] = per_run;
    out["tflops"] = flops_per_run() / (per_run * 1e-3) / 1e12;
    return per_run;
  }

  // Copy n stored elements starting at element `offset` of a device buffer and decode them.
  std::vector<double> fetch(const void* base, std::size_t offset, std::size_t n,
                            const std::string& storage) const {
    const std::size_t eb = storage_bytes(storage);
    std::vector<unsigned char> raw(n * eb);
    GOODPUT_CUDA_CHECK(cudaMemcpy(raw.data(), static_cast<const unsigned char*>(base) + offset * eb,
                                  raw.size(), cudaMemcpyDeviceToHost));
    return decode_values(storage, raw.data(), n);
  }

  double atol_for(std::int64_t k) const { return info_.atol * std::sqrt(static_cast<double>(k)); }

  // The chosen algorithm on a small cube where cuBLASLt accepts it, every entry compared with
  // the CPU reference; otherwise the small problem's own best heuristic, flagged as such.
  void verify_small() {
    nlohmann::json out, tried = nlohmann::json::array();
    for (std::int64_t s : c_.small_sizes) {
      LtProblem pr(types_, s, s, s);
      cublasLtMatmulHeuristicResult_t check{};
      const cublasStatus_t st =
          cublasLtMatmulAlgoCheck(handle_, desc_, pr.a(), pr.b(), pr.d(), pr.d(), &chosen_, &check);
      if (st != CUBLAS_STATUS_SUCCESS || check.workspaceSize > c_.workspace_bytes) {
        tried.push_back(
            {{"m", s},
             {"status", st != CUBLAS_STATUS_SUCCESS ? status_text(st)
                                                    : std::string("needs more workspace")}});
        continue;
      }
      auto r = check_small(pr, chosen_);
      if (r.contains("result")) {
        out = std::move(r);
        out["algorithm"] = "chosen";
        break;
      }
      tried.push_back(std::move(r));
    }
    if (out.is_null()) {
      const std::int64_t s = c_.small_sizes.empty() ? 256 : c_.small_sizes.front();
      LtProblem pr(types_, s, s, s);
      const auto found = heuristics(pr, 1);
      if (found.empty())
        throw RuntimeFailure("cuBLASLt has no algorithm for the " + std::to_string(s) +
                             "^3 check problem of " + name());
      out = check_small(pr, found[0].r.algo);
      if (!out.contains("result"))
        throw RuntimeFailure(name() + ": the " + std::to_string(s) +
                             "^3 check problem failed: " + out.dump());
      out["algorithm"] = "small problem's own heuristic (chosen one does not apply)";
    }
    out["sizes_not_applicable"] = tried;
    verification_["small"] = out;
    if (!out["result"]["ok"].get<bool>())
      throw CheckFailed(name() + ": small-problem check failed: " + out.dump());
  }

  nlohmann::json check_small(const LtProblem& pr, const cublasLtMatmulAlgo_t& algo) {
    const auto m = pr.m(), n = pr.n(), k = pr.k();
    BufferSet b;
    std::vector<double> a_h, b_h, d_h;
    try {
      GOODPUT_CUDA_CHECK(cudaMalloc(&b.a, static_cast<std::size_t>(m * k) * info_.a_bytes));
      GOODPUT_CUDA_CHECK(cudaMalloc(&b.b, static_cast<std::size_t>(k * n) * info_.b_bytes));
      GOODPUT_CUDA_CHECK(cudaMalloc(&b.d, static_cast<std::size_t>(m * n) * info_.d_bytes));
      fill_normal(info_.input, b.a, static_cast<std::uint64_t>(m * k), c_.seed + 101, stream_);
      fill_normal(info_.input, b.b, static_cast<std::uint64_t>(k * n), c_.seed + 102, stream_);
      GOODPUT_CUDA_CHECK(cudaMemsetAsync(b.d, 0xff, static_cast<std::size_t>(m * n) * info_.d_bytes,
                                         stream_));  // NaN in every output type
      const cublasStatus_t st = launch(pr, b, algo, stream_);
      if (st != CUBLAS_STATUS_SUCCESS) {  // the caller tries another size or algorithm
        free_set(b);
        return {{"m", m}, {"n", n}, {"k", k}, {"status", status_text(st)}};
      }
      GOODPUT_CUDA_CHECK(cudaStreamSynchronize(stream_));
      a_h = fetch(b.a, 0, static_cast<std::size_t>(m * k), info_.input);
      b_h = fetch(b.b, 0, static_cast<std::size_t>(k * n), info_.input);
      d_h = fetch(b.d, 0, static_cast<std::size_t>(m * n), info_.output);
    } catch (...) {
      free_set(b);
      throw;
    }
    free_set(b);
    std::vector<double> ref;
    gemm_reference(a_h, b_h, m, n, k, kLayoutTN, ref);
    const Validation v = validate(ref.data(), d_h.data(), ref.size(), atol_for(k), info_.rtol);
    nlohmann::json j = describe_algo(algo);
    return {{"m", m},
            {"n", n},
            {"k", k},
            {"config", j},
            {"result", to_json(v)},
            {"summary", v.summary("small")}};
  }

  // Sampled entries of the full problem, computed by the chosen algorithm on buffer set 0.
  void verify_sampled() {
    const auto& p = c_.problem;
    auto& b0 = sets_[0];
    GOODPUT_CUDA_CHECK(
        cudaMemsetAsync(b0.d, 0xff, static_cast<std::size_t>(p.m * p.n) * info_.d_bytes, stream_));
    GOODPUT_CUBLAS_CHECK(launch(*big_, b0, chosen_, stream_));
    GOODPUT_CUDA_CHECK(cudaStreamSynchronize(stream_));
    std::mt19937_64 rng(c_.seed);
    std::uniform_int_distribution<std::int64_t> pick_i(0, p.m - 1), pick_j(0, p.n - 1);
    std::vector<double> ref, got;
    nlohmann::json where = nlohmann::json::array();
    const auto k = static_cast<std::size_t>(p.k);
    for (int s = 0; s < c_.sampled_checks; ++s) {
      // The corners first (edge tiles), then random entries.
      std::int64_t i = pick_i(rng), j = pick_j(rng);
      if (s < 4) {
        i = (s & 1) ? p.m - 1 : 0;
        j = (s & 2) ? p.n - 1 : 0;
      }
      const auto col_a = fetch(b0.a, static_cast<std::size_t>(i) * k, k, info_.input);  // A(:, i)
      const auto col_b = fetch(b0.b, static_cast<std::size_t>(j) * k, k, info_.input);  // B(:, j)
      ref.push_back(gemm_entry(col_a.data(), col_b.data(), 1, 1, p.k, kLayoutTN, 0, 0));
      got.push_back(fetch(b0.d, static_cast<std::size_t>(i + j * p.m), 1, info_.output)[0]);
      where.push_back({i, j});
    }
    const Validation v = validate(ref.data(), got.data(), ref.size(), atol_for(p.k), info_.rtol);
    verification_["sampled"] = {{"entries", where}, {"result", to_json(v)}};
    if (!v.ok()) {
      std::string msg = v.summary(name() + ": sampled entries of the full problem");
      for (const auto& mm : v.first)
        msg += "; entry " + std::to_string(mm.index) + " is (i, j) = " + where[mm.index].dump();
      throw CheckFailed(msg);
    }
  }

  static void free_set(BufferSet& b) noexcept {
    for (void* p : {b.a, b.b, b.d})
      if (p) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(p));
    b = {};
  }

  void release() noexcept {
    for (auto& b : sets_) free_set(b);
    sets_.clear();
    big_.reset();
    if (pref_) cublasLtMatmulPreferenceDestroy(pref_);
    if (desc_) cublasLtMatmulDescDestroy(desc_);
    if (handle_) cublasLtDestroy(handle_);
    if (workspace_) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(workspace_));
    if (scale_) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(scale_));
    if (stream_) GOODPUT_CUDA_CHECK_NOTHROW(cudaStreamDestroy(stream_));
    pref_ = nullptr;
    desc_ = nullptr;
    handle_ = nullptr;
    workspace_ = nullptr;
    scale_ = nullptr;
    stream_ = nullptr;
  }

  GemmConfig c_;
  const DtypeInfo& info_;
  LtTypes types_;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatmulPreference_t pref_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* workspace_ = nullptr;
  float* scale_ = nullptr;
  std::vector<BufferSet> sets_;
  std::unique_ptr<LtProblem> big_;
  int current_ = 0;
  cublasLtMatmulAlgo_t chosen_{};
  int chosen_index_ = -1;
  nlohmann::json candidates_ = nlohmann::json::array();
  nlohmann::json chosen_json_ = nlohmann::json::object();
  nlohmann::json verification_ = nlohmann::json::object();
};

template <typename T>
std::vector<unsigned char> encode_as(const std::vector<float>& values) {
  const std::size_t n = values.size();
  std::vector<unsigned char> out(n * sizeof(T));
  if (n == 0) return out;
  float* in = nullptr;
  T* d = nullptr;
  try {
    GOODPUT_CUDA_CHECK(cudaMalloc(&in, n * sizeof(float)));
    GOODPUT_CUDA_CHECK(cudaMalloc(&d, n * sizeof(T)));
    GOODPUT_CUDA_CHECK(cudaMemcpy(in, values.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    encode_kernel<<<static_cast<unsigned>((n + 255) / 256), 256>>>(in, d, n);
    GOODPUT_CUDA_CHECK(cudaGetLastError());
    GOODPUT_CUDA_CHECK(cudaMemcpy(out.data(), d, out.size(), cudaMemcpyDeviceToHost));
  } catch (...) {
    GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(in));
    GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(d));
    throw;
  }
  GOODPUT_CUDA_CHECK(cudaFree(in));
  GOODPUT_CUDA_CHECK(cudaFree(d));
  return out;
}

}  // namespace

WorkloadPtr make_gemm_workload(const GemmConfig& config) {
  return std::make_unique<GemmWorkload>(config);
}

std::vector<unsigned char> device_encode(const std::string& storage,
                                         const std::vector<float>& values, int device) {
  GOODPUT_CUDA_CHECK(cudaSetDevice(device));
  if (storage == "fp64") return encode_as<double>(values);
  if (storage == "fp32") return encode_as<float>(values);
  if (storage == "fp16") return encode_as<__half>(values);
  if (storage == "bf16") return encode_as<__nv_bfloat16>(values);
  if (storage == "e4m3") return encode_as<__nv_fp8_e4m3>(values);
  throw InputError("device_encode: unknown storage '" + storage + "'");
}

}  // namespace goodput::kernels
