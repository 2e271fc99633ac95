// Counter-based random inputs shared by host and device: the same (seed, index) gives the same
// value on both sides, so a host reference can regenerate device inputs without copying them back.
// No CUDA header: under nvcc the functions are also device functions.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define GOODPUT_HD __host__ __device__
#else
#define GOODPUT_HD
#endif

namespace goodput::kernels {

// splitmix64 finalizer (Steele, Lea, Flood 2014): a bijective 64-bit mix.
GOODPUT_HD inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

GOODPUT_HD inline std::uint64_t hash_index(std::uint64_t seed, std::uint64_t i) {
  return mix64(seed * 0x9e3779b97f4a7c15ull + i + 1);
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
