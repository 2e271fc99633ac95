#include "collectives/pattern.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "harness/core/error.hpp"

namespace goodput::collectives {
namespace {

struct MiniFloat {
  int exp_bits, man_bits, bias;
  bool has_inf;  // IEEE-style all-ones exponent; fp8_e4m3 uses it for normal numbers instead
};

MiniFloat minifloat_of(DType t) {
  switch (t) {
    case DType::kBFloat16:
      return {8, 7, 127, true};
    case DType::kFloat16:
      return {5, 10, 15, true};
    case DType::kFloat8E4M3:
      return {4, 3, 7, false};
    case DType::kFloat8E5M2:
      return {5, 2, 15, true};
    default:
      throw InputError(std::string("not a small float type: ") + to_string(t));
  }
}

std::uint32_t encode_minifloat(double v, const MiniFloat& f) {
  const std::uint32_t sign = std::signbit(v) ? 1u : 0u;
  const std::uint32_t sign_bit = sign << (f.exp_bits + f.man_bits);
  const std::uint32_t exp_max = (1u << f.exp_bits) - 1;
  const std::uint32_t man_one = 1u << f.man_bits;
  if (std::isnan(v)) return sign_bit | (exp_max << f.man_bits) | (man_one - 1);
  const double a = std::fabs(v);
  if (a == 0) return sign_bit;
  // Largest finite: e4m3 keeps the top exponent for normals except mantissa all ones (NaN).
  const int top_exp = static_cast<int>(f.has_inf ? exp_max - 1 : exp_max) - f.bias;
  const double top_man =
      f.has_inf ? 2.0 - std::ldexp(1.0, -f.man_bits) : 2.0 - std::ldexp(2.0, -f.man_bits);
  const double max_finite = std::ldexp(top_man, top_exp);
  int e = 0;
  std::frexp(a, &e);
  e -= 1;  // a = m * 2^e with m in [1, 2)
  const int emin = 1 - f.bias;
  std::uint32_t bits;
  if (e < emin) {
    const double m = std::nearbyint(std::ldexp(a, f.man_bits - emin));  // subnormal steps
    bits = static_cast<std::uint32_t>(m);  // m == man_one rounds up into the first normal
  } else {
    double m = std::nearbyint(std::ldexp(a, f.man_bits - e));  // in [man_one, 2 man_one]
    int ee = e;
    if (m >= 2.0 * man_one) {
      m /= 2;
      ++ee;
    }
    if (ee > top_exp || (ee == top_exp && std::ldexp(m, ee - f.man_bits) > max_finite)) {
      if (f.has_inf) return sign_bit | (exp_max << f.man_bits);
      return sign_bit | (exp_max << f.man_bits) | (man_one - 2);  // saturate to max finite
    }
    bits = (static_cast<std::uint32_t>(ee + f.bias) << f.man_bits) |
           (static_cast<std::uint32_t>(m) - man_one);
  }
  return sign_bit | bits;
}

double decode_minifloat(std::uint32_t bits, const MiniFloat& f) {
  const std::uint32_t man_one = 1u << f.man_bits;
  const std::uint32_t exp_max = (1u << f.exp_bits) - 1;
  const bool neg = (bits >> (f.exp_bits + f.man_bits)) & 1u;
  const std::uint32_t ex = (bits >> f.man_bits) & exp_max;
  const std::uint32_t man = bits & (man_one - 1);
  double v;
  if (ex == exp_max && f.has_inf) {
    v = man == 0 ? INFINITY : NAN;
  } else if (ex == exp_max && !f.has_inf && man == man_one - 1) {
    v = NAN;
  } else if (ex == 0) {
    v = std::ldexp(static_cast<double>(man), 1 - f.bias - f.man_bits);
  } else {
    v = std::ldexp(static_cast<double>(man_one + man), static_cast<int>(ex) - f.bias - f.man_bits);
  }
  return neg ? -v : v;
}

}  // namespace

Pattern make_pattern(Coll c, DType t, RedOp op, int nranks, std::uint64_t seed) {
  if (nranks < 1) throw InputError("rank count must be at least 1, got " + std::to_string(nranks));
  if (op == RedOp::kAvg && !is_floating(t))
    throw InputError(std::string("avg needs a floating-point type, not ") + to_string(t));
  Pattern p;
  p.seed = seed;
  p.nranks = nranks;
  const std::int64_t limit = exact_integer_limit(t);
  const bool sums = is_reduction(c) && (op == RedOp::kSum || op == RedOp::kAvg);
  if (is_reduction(c)) {
    p.contributors = static_cast<int>(std::min<std::int64_t>({nranks, kMaxContributors, limit}));
    p.bound = sums ? std::max<std::int64_t>(1, limit / p.contributors) : limit;
  } else {
    p.contributors = nranks;
    p.bound = limit;
  }
  return p;
}

void encode_element(double v, DType t, void* out) {
  switch (t) {
    case DType::kFloat32: {
      const auto f = static_cast<float>(v);
      std::memcpy(out, &f, 4);
      return;
    }
    case DType::kInt32: {
      const auto i = static_cast<std::int32_t>(v);
      std::memcpy(out, &i, 4);
      return;
    }
    case DType::kInt8: {
      const auto i = static_cast<std::int8_t>(v);
      std::memcpy(out, &i, 1);
      return;
    }
    case DType::kBFloat16:
    case DType::kFloat16: {
      const auto b = static_cast<std::uint16_t>(encode_minifloat(v, minifloat_of(t)));
      std::memcpy(out, &b, 2);
      return;
    }
    case DType::kFloat8E4M3:
    case DType::kFloat8E5M2: {
      const auto b = static_cast<std::uint8_t>(encode_minifloat(v, minifloat_of(t)));
      std::memcpy(out, &b, 1);
      return;
    }
  }
}

double decode_element(const void* in, DType t) {
  switch (t) {
    case DType::kFloat32: {
      float f;
      std::memcpy(&f, in, 4);
      return f;
    }
    case DType::kInt32: {
      std::int32_t i;
      std::memcpy(&i, in, 4);
      return i;
    }
    case DType::kInt8: {
      std::int8_t i;
      std::memcpy(&i, in, 1);
      return i;
    }
    case DType::kBFloat16:
    case DType::kFloat16: {
      std::uint16_t b;
      std::memcpy(&b, in, 2);
      return decode_minifloat(b, minifloat_of(t));
    }
    case DType::kFloat8E4M3:
    case DType::kFloat8E5M2: {
      std::uint8_t b;
      std::memcpy(&b, in, 1);
      return decode_minifloat(b, minifloat_of(t));
    }
  }
  return 0;
}

void fill_input_host(void* buf, DType t, const Pattern& p, int rank, std::size_t count) {
  auto* bytes = static_cast<unsigned char*>(buf);
  const std::size_t es = dtype_size(t);
  for (std::size_t i = 0; i < count; ++i)
    encode_element(static_cast<double>(input_value(p, rank, i)), t, bytes + i * es);
}

std::size_t count_wrong_host(const void* buf, DType t, const Pattern& p, Coll c, RedOp op, int me,
                             int root, const CollCounts& k, std::size_t* first_wrong) {
  if (c == Coll::kReduce && me != root) return 0;  // only the root receives a result
  const auto* bytes = static_cast<const unsigned char*>(buf);
  const double tol = output_tolerance(p, t, op);
  std::size_t wrong = 0;
  for (std::size_t j = 0; j < k.recv_count; ++j) {
    const double got = decode_element(bytes + j * k.elem_size, t);
    const double want = expected_output(p, c, op, me, root, j, k.param_count);
    if (!(std::fabs(got - want) <= tol)) {
      if (wrong == 0 && first_wrong) *first_wrong = j;
      ++wrong;
    }
  }
  return wrong;
}

}  // namespace goodput::collectives
