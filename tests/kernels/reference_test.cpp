#include "kernels/reference.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "harness/core/error.hpp"
#include "kernels/rng.hpp"

using namespace goodput;
using namespace goodput::kernels;

TEST(GemmReference, TwoByTwoByHand) {
  // op(A) = [[1, 2], [3, 4]], op(B) = [[5, 6], [7, 8]] -> D = [[19, 22], [43, 50]].
  // Column-major storage of D: 19, 43, 22, 50.
  const std::vector<double> a_nn = {1, 3, 2, 4};  // A as M x K
  const std::vector<double> b_nn = {5, 7, 6, 8};  // B as K x N
  const std::vector<double> expect = {19, 43, 22, 50};
  std::vector<double> d;
  gemm_reference(a_nn, b_nn, 2, 2, 2, {false, false}, d);
  EXPECT_EQ(d, expect);
  const std::vector<double> a_t = {1, 2, 3, 4};  // A stored K x M: column i is row i of op(A)
  gemm_reference(a_t, b_nn, 2, 2, 2, kLayoutTN, d);
  EXPECT_EQ(d, expect);
  const std::vector<double> b_t = {5, 6, 7, 8};  // B stored N x K
  gemm_reference(a_t, b_t, 2, 2, 2, {true, true}, d);
  EXPECT_EQ(d, expect);
  gemm_reference(a_nn, b_t, 2, 2, 2, {false, true}, d);
  EXPECT_EQ(d, expect);
  EXPECT_EQ(to_string(kLayoutTN), "TN");
}

TEST(GemmReference, RectangularLayoutsAgree) {
  // M=3, N=2, K=4: the same logical matrices stored four ways give the same D.
  const std::int64_t m = 3, n = 2, k = 4;
  auto opa = [](std::int64_t i, std::int64_t p) {
    return static_cast<double>(1 + i * 7 + p * 3 % 5);
  };
  auto opb = [](std::int64_t p, std::int64_t j) { return static_cast<double>(2 - p + j * 4); };
  std::vector<double> an(m * k), at(m * k), bn(k * n), bt(k * n);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t p = 0; p < k; ++p) {
      an[i + p * m] = opa(i, p);
      at[p + i * k] = opa(i, p);
    }
  for (std::int64_t p = 0; p < k; ++p)
    for (std::int64_t j = 0; j < n; ++j) {
      bn[p + j * k] = opb(p, j);
      bt[j + p * n] = opb(p, j);
    }
  std::vector<double> ref, d;
  gemm_reference(an, bn, m, n, k, {false, false}, ref);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < k; ++p) s += opa(i, p) * opb(p, j);
      EXPECT_EQ(ref[i + j * m], s);
    }
  gemm_reference(at, bn, m, n, k, kLayoutTN, d);
  EXPECT_EQ(d, ref);
  gemm_reference(at, bt, m, n, k, {true, true}, d);
  EXPECT_EQ(d, ref);
  EXPECT_EQ(gemm_entry(at.data(), bn.data(), m, n, k, kLayoutTN, 2, 1), ref[2 + 1 * m]);
  EXPECT_THROW(gemm_reference(an, bn, m, n, k + 1, kLayoutTN, d), InputError);
}

TEST(Bf16, RoundTripAndRounding) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even -> 1.
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  // 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6: ties to even -> up.
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds to inf
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::nanf("")))));
  for (std::uint32_t h = 0; h < 0x10000; ++h) {  // every finite bf16 survives the round trip
    const auto v = static_cast<std::uint16_t>(h);
    const float f = bf16_to_float(v);
    if (std::isfinite(f)) {
      EXPECT_EQ(float_to_bf16(f), v) << h;
    }
  }
}

TEST(Fp16, RoundTripRoundingOverflowSubnormals) {
  EXPECT_EQ(float_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(float_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_fp16(65519.0f), 0x7BFF);
  EXPECT_EQ(float_to_fp16(65520.0f), 0x7C00);  // halfway to 2^16 rounds to inf
  EXPECT_EQ(float_to_fp16(-1e9f), 0xFC00);
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -24)), 0x0001);         // smallest subnormal
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -25)), 0x0000);         // halfway to 0: even
  EXPECT_EQ(float_to_fp16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 steps: to even 2
  EXPECT_EQ(float_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie to even
  EXPECT_EQ(float_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_FLOAT_EQ(fp16_to_float(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isinf(fp16_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(fp16_to_float(float_to_fp16(std::nanf("")))));
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const auto v = static_cast<std::uint16_t>(h);
    const float f = fp16_to_float(v);
    if (!std::isnan(f)) {
      EXPECT_EQ(float_to_fp16(f), v) << h;
    }
  }
}

TEST(E4m3, ValuesSaturationRounding) {
  EXPECT_EQ(float_to_e4m3(1.0f), 0x38);
  EXPECT_EQ(float_to_e4m3(448.0f), 0x7E);
  EXPECT_EQ(float_to_e4m3(-448.0f), 0xFE);
  EXPECT_EQ(float_to_e4m3(460.0f), 0x7E);  // saturates instead of NaN
  EXPECT_EQ(float_to_e4m3(1e6f), 0x7E);
  EXPECT_EQ(float_to_e4m3(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(float_to_e4m3(std::nanf("")), 0x7F);
  EXPECT_EQ(float_to_e4m3(std::ldexp(1.0f, -9)), 0x01);   // smallest subnormal
  EXPECT_EQ(float_to_e4m3(std::ldexp(1.0f, -10)), 0x00);  // halfway to 0: even
  EXPECT_EQ(float_to_e4m3(std::ldexp(7.5f, -9)), 0x08);   // rounds up into the smallest normal
  EXPECT_EQ(float_to_e4m3(1.0625f), 0x38);                // tie (1 + 1/16) to even
  EXPECT_EQ(float_to_e4m3(1.1875f), 0x3A);                // tie (1 + 3/16) to even
  EXPECT_EQ(float_to_e4m3(1.07f), 0x39);
  EXPECT_FLOAT_EQ(e4m3_to_float(0x7E), 448.0f);
  EXPECT_FLOAT_EQ(e4m3_to_float(0x08), std::ldexp(1.0f, -6));
  EXPECT_FLOAT_EQ(e4m3_to_float(0xB8), -1.0f);
  EXPECT_TRUE(std::isnan(e4m3_to_float(0x7F)));
  EXPECT_TRUE(std::isnan(e4m3_to_float(0xFF)));
  for (int v = 0; v < 256; ++v) {
    const float f = e4m3_to_float(static_cast<std::uint8_t>(v));
    if (!std::isnan(f)) {
      EXPECT_EQ(float_to_e4m3(f), v) << v;
    }
  }
}

TEST(Decode, AllStorages) {
  const double d = 1.5;
  EXPECT_EQ(decode_values("fp64", &d, 1)[0], 1.5);
  const float f[2] = {2.5f, -1.0f};
  EXPECT_EQ(decode_values("fp32", f, 2)[1], -1.0);
  const std::uint16_t h[1] = {0x3C00};
  EXPECT_EQ(decode_values("fp16", h, 1)[0], 1.0);
  EXPECT_EQ(decode_values("bf16", h, 1)[0], bf16_to_float(0x3C00));
  const std::uint8_t e[2] = {0x38, 0x7E};
  EXPECT_EQ(decode_values("e4m3", e, 2)[1], 448.0);
  EXPECT_EQ(storage_bytes("e4m3"), 1u);
  EXPECT_THROW(decode_values("int8", e, 1), InputError);
}

TEST(MemoryReference, InputsAndOps) {
  const auto x = uniform_input(3, 10000);
  double lo = 1, hi = -1;
  for (float v : x) {
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
    EXPECT_EQ(v, std::ldexp(std::round(std::ldexp(v, 23)), -23));  // 24-bit grid
  }
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 1.0);
  EXPECT_LT(lo, -0.99);  // spread over the whole range
  EXPECT_GT(hi, 0.99);
  EXPECT_EQ(x[17], uniform_pm1(3, 17));
  EXPECT_NE(uniform_input(4, 1)[0], x[0]);

  std::vector<double> a;
  triad_reference({1.0f, 2.0f}, {10.0f, -10.0f}, 0.5f, a);
  EXPECT_EQ(a, (std::vector<double>{6.0, -3.0}));
  EXPECT_THROW(triad_reference({1.0f}, {}, 1.0f, a), InputError);

  const SumReference s = sum_reference({1.0f, -2.0f, 0.5f});
  EXPECT_DOUBLE_EQ(s.sum, -0.5);
  EXPECT_DOUBLE_EQ(s.abs_sum, 3.5);
  EXPECT_DOUBLE_EQ(float_sum_bound(4.0, 2.0), 8.0 * std::ldexp(1.0, -24));
  // Mean of 10000 uniforms on [-1, 1) is near 0.
  EXPECT_LT(std::fabs(sum_reference(x).sum) / 10000, 0.03);
}

TEST(MemoryReference, FloatSumBoundHolds) {
  // A float loop sum stays within the bound of the double sum.
  const auto x = uniform_input(9, 100000);
  float f = 0;
  for (float v : x) f += v;
  const SumReference r = sum_reference(x);
  EXPECT_LE(std::fabs(f - r.sum), float_sum_bound(r.abs_sum, static_cast<double>(x.size())));
}

TEST(Validate, CountsReportsAndThrows) {
  const std::vector<double> ref = {1, 2, 3, 0, 100};
  std::vector<double> got = {1, 2.001, 3, 1e-7, 100.5};
  Validation v = validate(ref.data(), got.data(), ref.size(), 1e-6, 1e-2);
  EXPECT_TRUE(v.ok()) << v.summary("x");
  EXPECT_EQ(v.checked, 5u);
  EXPECT_NEAR(v.max_abs_err, 0.5, 1e-12);
  got[1] = 2.5;
  got[3] = std::nan("");
  v = validate(ref.data(), got.data(), ref.size(), 1e-6, 1e-2, 1);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.mismatches, 2u);
  ASSERT_EQ(v.first.size(), 1u);  // only the first is reported
  EXPECT_EQ(v.first[0].index, 1u);
  EXPECT_NE(v.summary("gemm").find("2 of 5"), std::string::npos);
  EXPECT_THROW(require_valid(v, "gemm"), CheckFailed);
  const auto j = to_json(v);
  EXPECT_EQ(j["mismatches"], 2);
  EXPECT_EQ(j["ok"], false);
  EXPECT_TRUE(j["max_abs_err"].is_null());  // NaN/inf become null in JSON
  // Nothing checked is a failure, not a pass.
  EXPECT_THROW(require_valid(validate(ref.data(), got.data(), 0, 1, 1), "empty"), CheckFailed);
  EXPECT_NO_THROW(require_valid(validate(ref.data(), ref.data(), 5, 0, 0), "same"));
}
