// CPU references of the calibration kernels, narrow-float codecs and result validation.
// Host-only; the GPU side checks its results against these before anything is timed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::kernels {

// ---- GEMM ----------------------------------------------------------------------------------
// Column-major with cuBLAS semantics: D(MxN) = op(A)(MxK) * op(B)(KxN). trans_a means A is stored
// K x M (lda = K); otherwise M x K (lda = M). trans_b: B stored N x K (ldb = N); else K x N.
struct GemmLayout {
  bool trans_a = false;
  bool trans_b = false;
};
// The layout every calibration GEMM uses: "TN", the one cuBLASLt FP8 requires, so all dtypes
// are measured alike.
inline constexpr GemmLayout kLayoutTN{true, false};
std::string to_string(const GemmLayout& l);  // "TN"

// One entry D(i, j) = sum_k op(A)(i,k) op(B)(k,j), accumulated in double.
double gemm_entry(const double* a, const double* b, std::int64_t m, std::int64_t n, std::int64_t k,
                  GemmLayout layout, std::int64_t i, std::int64_t j);
// The full product (D resized to M*N, column-major, ldd = M).
void gemm_reference(const std::vector<double>& a, const std::vector<double>& b, std::int64_t m,
                    std::int64_t n, std::int64_t k, GemmLayout layout, std::vector<double>& d);

// ---- narrow floats: round to nearest even -------------------------------------------------
std::uint16_t float_to_bf16(float x);
float bf16_to_float(std::uint16_t h);
std::uint16_t float_to_fp16(float x);  // overflow to +-inf, subnormals kept
float fp16_to_float(std::uint16_t h);
std::uint8_t float_to_e4m3(float x);  // OCP FP8 E4M3 (max 448, no inf), saturating: |x|>448 -> 448
float e4m3_to_float(std::uint8_t v);
// Decode n stored values of `storage` (fp64, fp32, fp16, bf16, e4m3) to double.
std::vector<double> decode_values(const std::string& storage, const void* data, std::size_t n);
std::size_t storage_bytes(const std::string& storage);  // InputError when unknown

// ---- memory ops ----------------------------------------------------------------------------
// Inputs of the memory kernels: uniform_pm1(seed, i) (kernels/rng.hpp).
std::vector<float> uniform_input(std::uint64_t seed, std::size_t n);
void triad_reference(const std::vector<float>& b, const std::vector<float>& c, float scalar,
                     std::vector<double>& a);
struct SumReference {
  double sum = 0;      // exact enough: accumulated in double
  double abs_sum = 0;  // sum of |x|, for the float accumulation error bound
};
SumReference sum_reference(const std::vector<float>& x);
// Worst-case error of summing in float with `depth` sequential additions per value:
// depth * 2^-24 * sum|x| (Higham, "Accuracy and Stability of Numerical Algorithms", 4.2).
double float_sum_bound(double abs_sum, double depth);

// ---- validation ----------------------------------------------------------------------------
// In the style of llm.c's validate_result: |got - ref| <= atol + |ref| * rtol for every entry.
struct Mismatch {
  std::size_t index = 0;
  double ref = 0, got = 0;
};
struct Validation {
  std::size_t checked = 0, mismatches = 0;
  double atol = 0, rtol = 0;
  double max_abs_err = 0, max_rel_err = 0;  // over all entries (rel against |ref| where nonzero)
  std::vector<Mismatch> first;              // the first few mismatches
  bool ok() const { return checked > 0 && mismatches == 0; }
  std::string summary(const std::string& what) const;  // one line: counts, worst, first mismatches
};
Validation validate(const double* ref, const double* got, std::size_t n, double atol, double rtol,
                    std::size_t max_report = 5);
// Throws CheckFailed with the summary when the validation failed.
void require_valid(const Validation& v, const std::string& what);
nlohmann::json to_json(const Validation& v);

}  // namespace goodput::kernels
