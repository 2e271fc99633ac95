// Helpers shared by host code and CUDA kernels. No CUDA header: under nvcc GOODPUT_HD makes a
// function callable on both sides, so host references compute bit-identical values.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define GOODPUT_HD __host__ __device__
#else
#define GOODPUT_HD
#endif

namespace goodput {

inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ull;  // 2^64 / golden ratio

// splitmix64 finalizer (Steele, Lea, Flood 2014): a bijective 64-bit mix.
GOODPUT_HD inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace goodput
