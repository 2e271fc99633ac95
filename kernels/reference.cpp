#include "kernels/reference.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "harness/core/error.hpp"
#include "kernels/rng.hpp"

namespace goodput::kernels {

std::string to_string(const GemmLayout& l) {
  return std::string(l.trans_a ? "T" : "N") + (l.trans_b ? "T" : "N");
}

double gemm_entry(const double* a, const double* b, std::int64_t m, std::int64_t n, std::int64_t k,
                  GemmLayout layout, std::int64_t i, std::int64_t j) {
  double acc = 0;
  for (std::int64_t p = 0; p < k; ++p) {
    const double av = layout.trans_a ? a[p + i * k] : a[i + p * m];
    const double bv = layout.trans_b ? b[j + p * n] : b[p + j * k];
    acc += av * bv;
  }
  return acc;
}

void gemm_reference(const std::vector<double>& a, const std::vector<double>& b, std::int64_t m,
                    std::int64_t n, std::int64_t k, GemmLayout layout, std::vector<double>& d) {
  if (m <= 0 || n <= 0 || k <= 0 || a.size() != static_cast<std::size_t>(m * k) ||
      b.size() != static_cast<std::size_t>(k * n))
    throw InputError("gemm_reference: A must hold M*K and B K*N values, all dimensions positive");
  d.assign(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < m; ++i)
      d[static_cast<std::size_t>(i + j * m)] =
          gemm_entry(a.data(), b.data(), m, n, k, layout, i, j);
}

// ---- narrow floats ---------------------------------------------------------------------------

std::uint16_t float_to_bf16(float x) {
  const auto u = std::bit_cast<std::uint32_t>(x);
  if (std::isnan(x)) return static_cast<std::uint16_t>((u >> 16) | 0x0040);  // quiet NaN
  const std::uint32_t rounded = u + 0x7FFFu + ((u >> 16) & 1u);  // ties to even; overflow -> inf
  return static_cast<std::uint16_t>(rounded >> 16);
}

float bf16_to_float(std::uint16_t h) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

namespace {

// Round |a| (finite, >= 0) to a binary format with `mbits` mantissa bits, exponent bias `bias`
// and subnormals below 2^(1-bias). Returns the biased exponent and mantissa as (e << mbits) | q;
// the caller handles overflow. nearbyint rounds ties to even in the default rounding mode.
std::uint32_t round_magnitude(double a, int mbits, int bias) {
  const double min_normal = std::ldexp(1.0, 1 - bias);
  if (a < min_normal) {
    // Subnormal step 2^(1-bias-mbits); q == 2^mbits lands exactly on the smallest normal.
    return static_cast<std::uint32_t>(std::nearbyint(std::ldexp(a, bias - 1 + mbits)));
  }
  int e2 = 0;
  const double f = std::frexp(a, &e2);  // a = f * 2^e2, f in [0.5, 1)
  int e = e2 - 1;                       // a = (2f) * 2^e, 2f in [1, 2)
  auto q = static_cast<std::uint32_t>(std::nearbyint((2 * f - 1) * std::ldexp(1.0, mbits)));
  if (q == (1u << mbits)) {
    q = 0;
    ++e;
  }
  return (static_cast<std::uint32_t>(e + bias) << mbits) | q;
}

}  // namespace

std::uint16_t float_to_fp16(float x) {
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return static_cast<std::uint16_t>(sign | 0x7E00);
  const double a = std::fabs(static_cast<double>(x));
  if (a >= 65520.0) return static_cast<std::uint16_t>(sign | 0x7C00);  // 65520 rounds past 65504
  return static_cast<std::uint16_t>(sign | round_magnitude(a, 10, 15));
}

float fp16_to_float(std::uint16_t h) {
  const int e = (h >> 10) & 31, mant = h & 1023;
  const double s = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 31)
    return mant ? std::numeric_limits<float>::quiet_NaN()
                : static_cast<float>(s * std::numeric_limits<double>::infinity());
  if (e == 0) return static_cast<float>(s * std::ldexp(mant, -24));
  return static_cast<float>(s * std::ldexp(1024 + mant, e - 25));
}

std::uint8_t float_to_e4m3(float x) {
  const std::uint8_t sign = std::signbit(x) ? 0x80 : 0;
  if (std::isnan(x)) return 0x7F;  // the converter in cuda_fp8.h returns 0x7F for any NaN
  const double a = std::fabs(static_cast<double>(x));
  if (a >= 448.0) return static_cast<std::uint8_t>(sign | 0x7E);  // saturate, inf included
  return static_cast<std::uint8_t>(sign | round_magnitude(a, 3, 7));
}

float e4m3_to_float(std::uint8_t v) {
  const int e = (v >> 3) & 15, mant = v & 7;
  const double s = (v & 0x80) ? -1.0 : 1.0;
  if ((v & 0x7F) == 0x7F) return std::numeric_limits<float>::quiet_NaN();
  if (e == 0) return static_cast<float>(s * std::ldexp(mant, -9));
  return static_cast<float>(s * std::ldexp(8 + mant, e - 10));
}

std::size_t storage_bytes(const std::string& storage) {
  if (storage == "fp64") return 8;
  if (storage == "fp32") return 4;
  if (storage == "fp16" || storage == "bf16") return 2;
  if (storage == "e4m3") return 1;
  throw InputError("unknown storage type '" + storage + "' (known: fp64, fp32, fp16, bf16, e4m3)");
}

std::vector<double> decode_values(const std::string& storage, const void* data, std::size_t n) {
  const std::size_t bytes = storage_bytes(storage);
  std::vector<double> out(n);
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char* e = p + i * bytes;
    if (storage == "fp64") {
      std::memcpy(&out[i], e, 8);
    } else if (storage == "fp32") {
      float f;
      std::memcpy(&f, e, 4);
      out[i] = f;
    } else if (storage == "e4m3") {
      out[i] = e4m3_to_float(*e);
    } else {
      std::uint16_t h;
      std::memcpy(&h, e, 2);
      out[i] = storage == "fp16" ? fp16_to_float(h) : bf16_to_float(h);
    }
  }
  return out;
}

// ---- memory ops ------------------------------------------------------------------------------

std::vector<float> uniform_input(std::uint64_t seed, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = uniform_pm1(seed, i);
  return v;
}

void triad_reference(const std::vector<float>& b, const std::vector<float>& c, float scalar,
                     std::vector<double>& a) {
  if (b.size() != c.size()) throw InputError("triad_reference: b and c differ in length");
  a.resize(b.size());
  for (std::size_t i = 0; i < b.size(); ++i)
    a[i] = static_cast<double>(b[i]) + static_cast<double>(scalar) * static_cast<double>(c[i]);
}

SumReference sum_reference(const std::vector<float>& x) {
  SumReference r;
  for (float v : x) {
    r.sum += v;
    r.abs_sum += std::fabs(static_cast<double>(v));
  }
  return r;
}

double float_sum_bound(double abs_sum, double depth) {
  return depth * std::ldexp(1.0, -24) * abs_sum;
}

// ---- validation ------------------------------------------------------------------------------

Validation validate(const double* ref, const double* got, std::size_t n, double atol, double rtol,
                    std::size_t max_report) {
  Validation v;
  v.checked = n;
  v.atol = atol;
  v.rtol = rtol;
  for (std::size_t i = 0; i < n; ++i) {
    const double err = std::fabs(got[i] - ref[i]);
    const double tol = atol + std::fabs(ref[i]) * rtol;
    if (!(err <= tol)) {  // NaN counts as a mismatch
      ++v.mismatches;
      if (v.first.size() < max_report) v.first.push_back({i, ref[i], got[i]});
    }
    if (std::isnan(err) || err > v.max_abs_err) v.max_abs_err = std::isnan(err) ? INFINITY : err;
    if (ref[i] != 0) {
      const double rel = err / std::fabs(ref[i]);
      if (std::isnan(rel) || rel > v.max_rel_err) v.max_rel_err = std::isnan(rel) ? INFINITY : rel;
    }
  }
  return v;
}

std::string Validation::summary(const std::string& what) const {
  std::ostringstream s;
  s.precision(9);
  s << what << ": " << mismatches << " of " << checked << " values outside |got-ref| <= " << atol
    << " + |ref|*" << rtol << " (max abs err " << max_abs_err << ", max rel err " << max_rel_err
    << ")";
  for (const auto& m : first) s << "; [" << m.index << "] ref " << m.ref << " got " << m.got;
  return s.str();
}

void require_valid(const Validation& v, const std::string& what) {
  if (v.checked == 0) throw CheckFailed(what + ": nothing was checked");
  if (!v.ok()) throw CheckFailed(v.summary(what));
}

nlohmann::json to_json(const Validation& v) {
  nlohmann::json first = nlohmann::json::array();
  for (const auto& m : v.first)
    first.push_back({{"index", m.index}, {"ref", m.ref}, {"got", m.got}});
  auto finite = [](double x) {
    return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
  };
  return {{"checked", v.checked},
          {"mismatches", v.mismatches},
          {"atol", v.atol},
          {"rtol", v.rtol},
          {"max_abs_err", finite(v.max_abs_err)},
          {"max_rel_err", finite(v.max_rel_err)},
          {"first_mismatches", first},
          {"ok", v.ok()}};
}

}  // namespace goodput::kernels
