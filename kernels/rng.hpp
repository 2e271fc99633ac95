// Counter-based random inputs shared by host and device: the same (seed, index) gives the same
// value on both sides, so a host reference can regenerate device inputs without copying them back.
// No CUDA header: under nvcc the functions are also device functions.
#pragma once
#include <cstdint>

#include "harness/core/host_device.hpp"

namespace goodput::kernels {

GOODPUT_HD inline std::uint64_t hash_index(std::uint64_t seed, std::uint64_t i) {
  return mix64(seed * kGoldenGamma + i + 1);
}

// Uniform on [-1, 1) with 24 random bits: every value is exact in float, identical on both sides.
GOODPUT_HD inline float uniform_pm1(std::uint64_t seed, std::uint64_t i) {
  const auto bits = static_cast<std::int32_t>(hash_index(seed, i) >> 40);  // 0 .. 2^24-1
  return static_cast<float>(bits - (1 << 23)) * (1.0f / static_cast<float>(1 << 23));
}

// Uniform on (0, 1] with 53 bits, for Box-Muller.
GOODPUT_HD inline double uniform_01(std::uint64_t h) {
  return static_cast<double>((h >> 11) + 1) * (1.0 / 9007199254740992.0);
}

}  // namespace goodput::kernels
