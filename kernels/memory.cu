// Memory-bandwidth kernels: read-only (a sum), write-only, copy, triad, all with 16-byte accesses
// and a grid-stride loop over a grid of SMs x resident blocks; each thread issues `unroll` loads
// before using any, to keep enough bytes in flight to saturate HBM. Plus cudaMemcpyAsync D2D.
// Every op is checked against the host reference (kernels/reference.hpp) in setup().
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "harness/core/error.hpp"
#include "harness/gpu/cuda_check.cuh"
#include "kernels/memory.hpp"
#include "kernels/reference.hpp"
#include "kernels/rng.hpp"

namespace goodput::kernels {
namespace {

__device__ std::uint64_t global_thread() {
  return blockIdx.x * static_cast<std::uint64_t>(blockDim.x) + threadIdx.x;
}
__device__ std::uint64_t grid_threads() {
  return static_cast<std::uint64_t>(gridDim.x) * blockDim.x;
}

constexpr int kUnroll = 4;  // must match MemoryGrid::unroll (checked in the constructor)

// Grid-stride indexing over float4s: thread t touches t + (u + UNROLL*iter) * stride. The array
// is a whole number of grid passes, so no bounds checks are needed.
__global__ void read_kernel(const float4* __restrict__ a, std::uint64_t n4,
                            float* __restrict__ partial) {
  const std::uint64_t stride = grid_threads();
  float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
  for (std::uint64_t i = global_thread(); i < n4; i += kUnroll * stride) {
    float4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) v[u] = a[i + u * stride];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      acc.x += v[u].x;
      acc.y += v[u].y;
      acc.z += v[u].z;
      acc.w += v[u].w;
    }
  }
  float s = (acc.x + acc.y) + (acc.z + acc.w);
  for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
  __shared__ float warp_sums[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = s;
  __syncthreads();
  if (warp == 0) {
    const int warps = (blockDim.x + 31) >> 5;
    s = lane < warps ? warp_sums[lane] : 0.f;
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) partial[blockIdx.x] = s;
  }
}

__global__ void write_kernel(float4* __restrict__ a, std::uint64_t n4, float value) {
  const std::uint64_t stride = grid_threads();
  const float4 v = make_float4(value, value, value, value);
  for (std::uint64_t i = global_thread(); i < n4; i += kUnroll * stride) {
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) a[i + u * stride] = v;
  }
}

__global__ void copy_kernel(const float4* __restrict__ a, float4* __restrict__ b,
                            std::uint64_t n4) {
  const std::uint64_t stride = grid_threads();
  for (std::uint64_t i = global_thread(); i < n4; i += kUnroll * stride) {
    float4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) v[u] = a[i + u * stride];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) b[i + u * stride] = v[u];
  }
}

__global__ void triad_kernel(float4* __restrict__ a, const float4* __restrict__ b,
                             const float4* __restrict__ c, float s, std::uint64_t n4) {
  const std::uint64_t stride = grid_threads();
  for (std::uint64_t i = global_thread(); i < n4; i += kUnroll * stride) {
    float4 vb[kUnroll], vc[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      vb[u] = b[i + u * stride];
      vc[u] = c[i + u * stride];
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      a[i + u * stride] = make_float4(vb[u].x + s * vc[u].x, vb[u].y + s * vc[u].y,
                                      vb[u].z + s * vc[u].z, vb[u].w + s * vc[u].w);
  }
}

__global__ void fill_uniform_kernel(float* __restrict__ p, std::uint64_t n, std::uint64_t seed) {
  const std::uint64_t stride = grid_threads();
  for (std::uint64_t i = global_thread(); i < n; i += stride) p[i] = uniform_pm1(seed, i);
}

__global__ void gather_kernel(const float* __restrict__ src, const std::uint64_t* __restrict__ idx,
                              float* __restrict__ out, std::uint64_t n) {
  const std::uint64_t i = global_thread();
  if (i < n) out[i] = src[idx[i]];
}

class MemoryWorkload final : public Workload {
 public:
  explicit MemoryWorkload(const MemoryConfig& c) : c_(c) {
    if (c_.grid.unroll != kUnroll || c_.grid.vector_bytes != 16)
      throw InputError("memory kernels are built for unroll " + std::to_string(kUnroll) +
                       " and 16-byte vectors");
    const std::uint64_t q = grid_quantum(c_.grid, sizeof(float));
    if (c_.elements == 0 || c_.elements % q != 0)
      throw InputError("memory workload: " + std::to_string(c_.elements) +
                       " elements is not a positive multiple of one grid pass (" +
                       std::to_string(q) + ")");
  }
  ~MemoryWorkload() override { release(); }

  std::string name() const override { return std::string("memory/") + to_string(c_.op); }
  std::string kind() const override { return "memory"; }
  nlohmann::json params() const override {
    const MemoryTraffic t = memory_traffic(c_.op);
    nlohmann::json p = {{"op", to_string(c_.op)},  {"dtype", "fp32"},
                        {"elements", c_.elements}, {"array_bytes", c_.elements * sizeof(float)},
                        {"arrays_read", t.reads},  {"arrays_written", t.writes},
                        {"seed", c_.seed}};
    if (c_.op != MemoryOp::kMemcpy) {
      p["vector_bytes"] = c_.grid.vector_bytes;
      p["grid_blocks"] = c_.grid.blocks;
      p["block_threads"] = c_.grid.threads;
      p["unroll"] = c_.grid.unroll;
    }
    if (c_.op == MemoryOp::kTriad) p["scalar"] = c_.triad_scalar;
    return p;
  }
  double bytes_per_run() const override { return memory_bytes(c_.op, c_.elements, sizeof(float)); }
  std::size_t footprint_bytes() const override {
    return static_cast<std::size_t>(memory_arrays(c_.op)) * c_.elements * sizeof(float) +
           static_cast<std::size_t>(c_.grid.blocks) * sizeof(float);
  }

  void setup() override {
    verification_ = nlohmann::json::object();
    GOODPUT_CUDA_CHECK(cudaSetDevice(c_.device));
    const std::size_t bytes = c_.elements * sizeof(float);
    for (int i = 0; i < memory_arrays(c_.op); ++i) {
      float* p = nullptr;
      GOODPUT_CUDA_CHECK(cudaMalloc(&p, bytes));
      arrays_.push_back(p);
    }
    if (c_.op == MemoryOp::kRead)
      GOODPUT_CUDA_CHECK(cudaMalloc(&partial_, c_.grid.blocks * sizeof(float)));
    // Inputs: every array that is read gets its own seed; outputs start as garbage (NaN bytes)
    // so a kernel that writes nothing cannot pass.
    for (std::size_t i = 0; i < arrays_.size(); ++i) {
      if (is_input(i)) {
        fill_uniform_kernel<<<c_.grid.blocks, c_.grid.threads>>>(arrays_[i], c_.elements,
                                                                 seed_of(i));
        GOODPUT_CUDA_CHECK(cudaGetLastError());
      } else {
        GOODPUT_CUDA_CHECK(cudaMemset(arrays_[i], 0xff, bytes));
      }
    }
    GOODPUT_CUDA_CHECK(cudaDeviceSynchronize());
    run(nullptr);
    GOODPUT_CUDA_CHECK(cudaGetLastError());
    GOODPUT_CUDA_CHECK(cudaDeviceSynchronize());
    verify();
  }

  void run(void* stream) override {
    const auto s = static_cast<cudaStream_t>(stream);
    const std::uint64_t n4 = c_.elements / 4;
    const auto* in0 = reinterpret_cast<const float4*>(arrays_[0]);
    switch (c_.op) {
      case MemoryOp::kRead:
        read_kernel<<<c_.grid.blocks, c_.grid.threads, 0, s>>>(in0, n4, partial_);
        break;
      case MemoryOp::kWrite:
        write_kernel<<<c_.grid.blocks, c_.grid.threads, 0, s>>>(
            reinterpret_cast<float4*>(arrays_[0]), n4, kWriteValue);
        break;
      case MemoryOp::kCopy:
        copy_kernel<<<c_.grid.blocks, c_.grid.threads, 0, s>>>(
            in0, reinterpret_cast<float4*>(arrays_[1]), n4);
        break;
      case MemoryOp::kTriad:  // a = b + s*c: arrays_ = {b, c, a}
        triad_kernel<<<c_.grid.blocks, c_.grid.threads, 0, s>>>(
            reinterpret_cast<float4*>(arrays_[2]), in0, reinterpret_cast<const float4*>(arrays_[1]),
            c_.triad_scalar, n4);
        break;
      case MemoryOp::kMemcpy:
        GOODPUT_CUDA_CHECK(cudaMemcpyAsync(arrays_[1], arrays_[0], c_.elements * sizeof(float),
                                           cudaMemcpyDeviceToDevice, s));
        break;
    }
  }

  void teardown() override { release(); }
  nlohmann::json details() const override { return {{"verification", verification_}}; }

 private:
  static constexpr float kWriteValue = 1.25f;

  // Array roles: read {a}; write {a}; copy and memcpy {a, b}; triad {b, c, a}.
  bool is_input(std::size_t i) const {
    if (c_.op == MemoryOp::kWrite) return false;
    if (c_.op == MemoryOp::kTriad) return i < 2;
    return i == 0;
  }
  std::uint64_t seed_of(std::size_t i) const { return c_.seed * 16 + i; }
  float* output() const { return arrays_.back(); }

  void release() noexcept {
    for (float* p : arrays_) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(p));
    arrays_.clear();
    if (partial_) GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(partial_));
    partial_ = nullptr;
  }

  // Elements checked: a span at each end of the array (first and last grid passes) and random ones.
  std::vector<std::uint64_t> sample_indices() const {
    std::vector<std::uint64_t> idx;
    const std::uint64_t span = std::min<std::uint64_t>(c_.elements / 2, 1u << 16);
    for (std::uint64_t i = 0; i < span; ++i) {
      idx.push_back(i);
      idx.push_back(c_.elements - 1 - i);
    }
    std::mt19937_64 rng(c_.seed);
    std::uniform_int_distribution<std::uint64_t> pick(0, c_.elements - 1);
    for (std::size_t i = 0; i < c_.sampled_checks; ++i) idx.push_back(pick(rng));
    return idx;
  }

  std::vector<double> gather(const float* src, const std::vector<std::uint64_t>& idx) const {
    std::uint64_t* d_idx = nullptr;
    float* d_out = nullptr;
    std::vector<float> out(idx.size());
    try {
      GOODPUT_CUDA_CHECK(cudaMalloc(&d_idx, idx.size() * sizeof(std::uint64_t)));
      GOODPUT_CUDA_CHECK(cudaMalloc(&d_out, idx.size() * sizeof(float)));
      GOODPUT_CUDA_CHECK(cudaMemcpy(d_idx, idx.data(), idx.size() * sizeof(std::uint64_t),
                                    cudaMemcpyHostToDevice));
      const auto n = static_cast<unsigned>((idx.size() + 255) / 256);
      gather_kernel<<<n, 256>>>(src, d_idx, d_out, idx.size());
      GOODPUT_CUDA_CHECK(cudaGetLastError());
      GOODPUT_CUDA_CHECK(
          cudaMemcpy(out.data(), d_out, out.size() * sizeof(float), cudaMemcpyDeviceToHost));
    } catch (...) {
      GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(d_idx));
      GOODPUT_CUDA_CHECK_NOTHROW(cudaFree(d_out));
      throw;
    }
    GOODPUT_CUDA_CHECK(cudaFree(d_idx));
    GOODPUT_CUDA_CHECK(cudaFree(d_out));
    return {out.begin(), out.end()};
  }

  void verify() {
    const std::string what = name() + " (" + std::to_string(c_.elements) + " elements)";
    if (c_.op == MemoryOp::kRead) {
      std::vector<float> partial(static_cast<std::size_t>(c_.grid.blocks));
      GOODPUT_CUDA_CHECK(cudaMemcpy(partial.data(), partial_, partial.size() * sizeof(float),
                                    cudaMemcpyDeviceToHost));
      double got = 0;
      for (float p : partial) got += p;
      double ref = 0, abs_sum = 0;
      for (std::uint64_t i = 0; i < c_.elements; ++i) {
        const double v = uniform_pm1(seed_of(0), i);
        ref += v;
        abs_sum += std::fabs(v);
      }
      // Sequential float additions per value: the per-thread loop, the 4 lanes, 5 warp and up to
      // 5 block shuffle levels.
      const double depth =
          static_cast<double>(c_.elements / grid_quantum(c_.grid, sizeof(float))) * kUnroll + 2 +
          10 + 1;
      const Validation v = validate(&ref, &got, 1, float_sum_bound(abs_sum, depth), 0);
      verification_ = {{"method", "sum of all elements vs host sum, float error bound"},
                       {"result", to_json(v)}};
      require_valid(v, what);
      return;
    }
    const auto idx = sample_indices();
    const std::vector<double> got = gather(output(), idx);
    std::vector<double> ref(idx.size());
    double atol = 0, rtol = 0;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      const std::uint64_t i = idx[k];
      switch (c_.op) {
        case MemoryOp::kWrite:
          ref[k] = kWriteValue;
          break;
        case MemoryOp::kCopy:
        case MemoryOp::kMemcpy:
          ref[k] = uniform_pm1(seed_of(0), i);
          break;
        case MemoryOp::kTriad:
          ref[k] = static_cast<double>(uniform_pm1(seed_of(0), i)) +
                   static_cast<double>(c_.triad_scalar) * uniform_pm1(seed_of(1), i);
          break;
        case MemoryOp::kRead:
          break;
      }
    }
    // Triad rounds at most twice (product, sum) on values below 1 + |s|; copies are exact.
    if (c_.op == MemoryOp::kTriad) atol = 2 * std::ldexp(1.0 + std::fabs(c_.triad_scalar), -24);
    const Validation v = validate(ref.data(), got.data(), ref.size(), atol, rtol);
    verification_ = {{"method", "both ends and random elements vs host reference"},
                     {"result", to_json(v)}};
    require_valid(v, what);
  }

  MemoryConfig c_;
  std::vector<float*> arrays_;
  float* partial_ = nullptr;
  nlohmann::json verification_ = nlohmann::json::object();
};

}  // namespace

WorkloadPtr make_memory_workload(const MemoryConfig& config) {
  return std::make_unique<MemoryWorkload>(config);
}

}  // namespace goodput::kernels
