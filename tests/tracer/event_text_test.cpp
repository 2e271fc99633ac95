// The text fast path of the trace writer reads back as the same values as the object builders,
// for every field, on random records and awkward strings.
#include "profiler/trace_format/event_text.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

using namespace goodput::trace;

namespace {

constexpr std::uint64_t kBase = 1'700'000'000'000'000'000ull;

std::string random_name(std::mt19937_64& rng) {
  static const std::string pieces[] = {
      "void at::native::vectorized_elementwise_kernel<8, float>(int, float*)",
      "nvjet_sm90_tst_192x128_64x5_1x2_h_bz_coopB_NNT",
      "quote\" back\\slash",
      "tab\tnew\nline",
      "ctrl\x01\x1f",
      "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
      "cudaLaunchKernel",
      ""};
  std::string s;
  for (int i = 0, n = static_cast<int>(rng() % 3) + 1; i < n; ++i) s += pieces[rng() % 8];
  return s;
}

std::uint64_t t(std::mt19937_64& rng) {
  return kBase + rng() % 100'000'000'000ull;  // up to 100 s after the base, any nanosecond
}

nlohmann::json parsed(const std::string& text) {
  return nlohmann::json::parse(text);  // throws on malformed text
}

}  // namespace

TEST(EventText, RandomRecordsReadBackAsTheObjectBuilders) {
  std::mt19937_64 rng(7);
  std::string out;
  for (int i = 0; i < 2000; ++i) {
    KernelEvent k;
    k.name = random_name(rng);
    k.start_ns = t(rng);
    k.end_ns = rng() % 4 ? k.start_ns + rng() % 10'000'000 : k.start_ns - 1;  // reversed too
    k.device = static_cast<std::uint32_t>(rng() % 8);
    k.context = static_cast<std::uint32_t>(rng());
    k.stream = static_cast<std::uint32_t>(rng() % 100);
    k.correlation = static_cast<std::uint32_t>(rng());
    for (int d = 0; d < 3; ++d) {
      k.grid[d] = static_cast<int>(rng() % 70000);
      k.block[d] = static_cast<int>(rng() % 1025);
    }
    k.registers_per_thread = static_cast<int>(rng() % 256);
    k.static_shared_memory = static_cast<int>(rng() % 50000);
    k.dynamic_shared_memory = static_cast<int>(rng() % 230000);
    k.graph_id = rng() % 3 ? 0 : static_cast<std::uint32_t>(rng() % 1000 + 1);
    ASSERT_TRUE(kernel_text(out, k, kBase));
    ASSERT_EQ(parsed(out), kernel_event(k, kBase)) << out;

    MemcpyEvent m;
    m.copy_kind = "HtoD";
    m.src_kind = "Pageable";
    m.dst_kind = "Device";
    m.bytes = rng() % (1ull << 34);
    m.start_ns = t(rng);
    m.end_ns = m.start_ns + rng() % 1'000'000;
    m.device = 1;
    m.context = 2;
    m.stream = 3;
    m.correlation = static_cast<std::uint32_t>(rng());
    memcpy_text(out, m, kBase);
    ASSERT_EQ(parsed(out), memcpy_event(m, kBase)) << out;

    MemsetEvent s;
    s.memory_kind = "Device";
    s.bytes = rng() % (1ull << 30);
    s.value = static_cast<std::uint32_t>(rng() % 256);
    s.start_ns = t(rng);
    s.end_ns = s.start_ns + rng() % 1000;
    s.correlation = static_cast<std::uint32_t>(rng());
    memset_text(out, s, kBase);
    ASSERT_EQ(parsed(out), memset_event(s, kBase)) << out;

    ApiEvent a;
    a.name = random_name(rng);
    a.category = rng() % 2 ? "cuda_runtime" : "cuda_driver";
    a.start_ns = t(rng);
    a.end_ns = a.start_ns + rng() % 100'000;
    a.pid = static_cast<std::uint32_t>(rng() % 100000);
    a.tid = static_cast<std::uint32_t>(rng() % 100000);
    a.correlation = static_cast<std::uint32_t>(rng());
    a.cbid = static_cast<std::uint32_t>(rng() % 500);
    if (rng() % 4 == 0) a.extra_args = {{"return value", static_cast<int>(rng() % 900)}};
    ASSERT_TRUE(api_text(out, a, kBase));
    ASSERT_EQ(parsed(out), api_event(a, kBase)) << out;

    const bool start = rng() % 2;
    const auto when = t(rng);
    flow_text(out, start, a.correlation, a.pid, a.tid, when, kBase);
    ASSERT_EQ(parsed(out), flow_event(start, a.correlation, a.pid, a.tid, when, kBase)) << out;
  }
}

TEST(EventText, FallsBackWhereTheFastPathHasNoField) {
  std::string out;
  KernelEvent nccl;
  nccl.name = "ncclDevKernel_AllReduce_Sum_f32_RING_LL(ncclDevKernelArgsStorage<4096ul>)";
  EXPECT_FALSE(kernel_text(out, nccl, kBase));  // the parsed collective goes in its args
  ApiEvent a;
  a.extra_args = {{"stream", 7}};
  EXPECT_FALSE(api_text(out, a, kBase));
}

TEST(EventText, StringsAreEscapedAndInvalidUtf8Replaced) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\x01 \xc3\xa9");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9\"");
  for (const char* bad :
       {"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"}) {
    out.clear();
    append_json_string(out, std::string("x") + bad + "y");
    const auto s = nlohmann::json::parse(out).get<std::string>();  // valid JSON and UTF-8
    EXPECT_EQ(s.front(), 'x');
    EXPECT_EQ(s.back(), 'y');
    EXPECT_NE(s.find("\xEF\xBF\xBD"), std::string::npos) << "not replaced: " << out;
  }
}

// Not a timing assertion: prints what one kernel and its launch cost in each path, for the record.
TEST(EventText, CostPerLaunchAndKernel) {
  KernelEvent k;
  k.name =
      "void at::native::vectorized_elementwise_kernel<8, at::native::bfloat16_copy_kernel_cuda"
      "(at::TensorIteratorBase&)::{lambda()#2}::operator()() const::{lambda(float)#1}, "
      "std::array<char*, 2ul> >(int, std::array<char*, 2ul>)";
  k.start_ns = kBase + 123'456'789;
  k.end_ns = k.start_ns + 4321;
  ApiEvent a;
  a.name = "cudaLaunchKernel";
  a.category = "cuda_runtime";
  a.start_ns = k.start_ns - 9000;
  a.end_ns = a.start_ns + 3500;
  constexpr int kN = 20000;
  std::string out;
  std::size_t bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    k.correlation = a.correlation = static_cast<std::uint32_t>(i);
    kernel_text(out, k, kBase);
    bytes += out.size();
    api_text(out, a, kBase);
    bytes += out.size();
  }
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < kN; ++i) {
    k.correlation = a.correlation = static_cast<std::uint32_t>(i);
    bytes += kernel_event(k, kBase).dump().size() + api_event(a, kBase).dump().size();
  }
  auto t2 = std::chrono::steady_clock::now();
  const double fast = std::chrono::duration<double, std::micro>(t1 - t0).count() / kN;
  const double objects = std::chrono::duration<double, std::micro>(t2 - t1).count() / kN;
  std::printf("kernel + launch: %.2f us as text, %.2f us through objects (%zu bytes)\n", fast,
              objects, bytes);
  EXPECT_GT(bytes, 0u);
}
