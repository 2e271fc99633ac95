#include "profiler/trace_format/nccl_kernel.hpp"

#include <array>
#include <utility>
#include <vector>

namespace goodput::trace {
namespace {

constexpr std::string_view kPrefixes[] = {"ncclDevKernel_", "ncclKernel_"};

// The bare symbol: no "void ", no argument list, no template arguments; mangled names are
// reduced to their identifier (_Z<len><identifier>...).
std::string_view bare_symbol(std::string_view name) {
  if (name.rfind("void ", 0) == 0) name.remove_prefix(5);
  if (name.rfind("_Z", 0) == 0) {
    std::size_t i = 2;
    std::size_t len = 0;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9') len = len * 10 + (name[i++] - '0');
    if (len > 0 && i + len <= name.size()) return name.substr(i, len);
  }
  const auto cut = name.find_first_of("(<");
  if (cut != std::string_view::npos) name = name.substr(0, cut);
  return name;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

template <std::size_t N>
std::optional<std::string> lookup(
    const std::array<std::pair<std::string_view, std::string_view>, N>& table,
    std::string_view key) {
  for (const auto& [k, v] : table)
    if (k == key) return std::string(v);
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kCollectives = {{
    {"AllReduce", "all_reduce"},
    {"AllGather", "all_gather"},
    {"ReduceScatter", "reduce_scatter"},
    {"Broadcast", "broadcast"},
    {"Reduce", "reduce"},
    {"SendRecv", "send_recv"},
    {"AllToAll", "all_to_all"},
    {"Generic", "generic"},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kReductions = {{
    {"Sum", "sum"},
    {"Prod", "prod"},
    {"Min", "min"},
    {"Max", "max"},
    {"PreMulSum", "pre_mul_sum"},
    {"SumPostDiv", "sum_post_div"},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kProtocols = {{
    {"LL", "ll"},
    {"LL128", "ll128"},
    {"SIMPLE", "simple"},
}};
// Old names spell the C type, new ones a short code; both map to the short code.
constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kDtypes = {{
    {"int8_t", "i8"},
    {"i8", "i8"},
    {"uint8_t", "u8"},
    {"u8", "u8"},
    {"int32_t", "i32"},
    {"i32", "i32"},
    {"uint32_t", "u32"},
    {"u32", "u32"},
    {"int64_t", "i64"},
    {"i64", "i64"},
    {"uint64_t", "u64"},
    {"u64", "u64"},
    {"half", "f16"},
    {"f16", "f16"},
    {"float", "f32"},
    {"f32", "f32"},
    {"double", "f64"},
    {"f64", "f64"},
    {"__nv_bfloat16", "bf16"},
    {"bf16", "bf16"},
    {"__nv_fp8_e4m3", "f8e4m3"},
    {"f8e4m3", "f8e4m3"},
    {"__nv_fp8_e5m2", "f8e5m2"},
    {"f8e5m2", "f8e5m2"},
}};

bool is_algorithm_word(std::string_view t) {
  return t == "RING" || t == "TREE" || t == "NVLS" || t == "COLLNET" || t == "DIRECT" ||
         t == "CHAIN" || t == "PAT";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

bool is_nccl_kernel(std::string_view name) {
  const auto bare = bare_symbol(name);
  for (auto p : kPrefixes)
    if (bare.rfind(p, 0) == 0) return true;
  return false;
}

std::optional<NcclKernel> parse_nccl_kernel(std::string_view name) {
  const auto bare = bare_symbol(name);
  std::string_view rest;
  for (auto p : kPrefixes)
    if (bare.rfind(p, 0) == 0) rest = bare.substr(p.size());
  if (rest.empty()) return std::nullopt;

  const auto tokens = split(rest, '_');
  NcclKernel k;
  k.collective = lookup(kCollectives, tokens[0]).value_or(lower(tokens[0]));
  std::string algorithm;
  std::vector<std::string_view> dtype_words;  // C type names contain '_' (int8_t, __nv_bfloat16)
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const auto t = tokens[i];
    if (auto r = lookup(kReductions, t)) {
      k.reduction = *r;
    } else if (auto p = lookup(kProtocols, t)) {
      k.protocol = *p;
    } else if (is_algorithm_word(t)) {
      if (!algorithm.empty()) algorithm += '_';
      algorithm += lower(t);
    } else {
      dtype_words.push_back(t);
    }
  }
  k.algorithm = algorithm;
  if (!dtype_words.empty()) {
    std::string joined;
    for (std::size_t i = 0; i < dtype_words.size(); ++i)
      joined += (i ? "_" : "") + std::string(dtype_words[i]);
    // "Generic_1" style suffixes are variants, not types: a dtype must be one NCCL knows.
    k.dtype = lookup(kDtypes, joined).value_or("");
  }
  return k;
}

namespace {
std::string lower_alnum(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
  }
  return out;
}
}  // namespace

std::string canonical_collective(std::string_view name) {
  const std::string c = lower_alnum(name);
  // Order matters: "reducescatter" before "reduce", "allreduce" before both.
  constexpr std::pair<std::string_view, std::string_view> kContains[] = {
      {"allreduce", "all_reduce"}, {"allgather", "all_gather"}, {"reducescatter", "reduce_scatter"},
      {"alltoall", "all_to_all"},  {"broadcast", "broadcast"},  {"sendrecv", "send_recv"},
  };
  for (const auto& [k, v] : kContains)
    if (c.find(k) != std::string::npos) return std::string(v);
  if (c == "send" || c == "recv" || c == "p2p") return "send_recv";
  if (c == "reduce") return "reduce";
  return lower(name);
}

std::string canonical_dtype(std::string_view dtype) {
  if (auto d = lookup(kDtypes, dtype)) return *d;
  constexpr std::pair<std::string_view, std::string_view> kTorch[] = {
      {"float", "f32"},         {"float32", "f32"},
      {"bfloat16", "bf16"},     {"half", "f16"},
      {"float16", "f16"},       {"double", "f64"},
      {"float64", "f64"},       {"long", "i64"},
      {"int64", "i64"},         {"int", "i32"},
      {"int32", "i32"},         {"char", "i8"},
      {"int8", "i8"},           {"byte", "u8"},
      {"uint8", "u8"},          {"float8e4m3fn", "f8e4m3"},
      {"float8e4m3", "f8e4m3"}, {"float8e5m2", "f8e5m2"},
  };
  // C++ and Python spell torch types with a namespace: c10::BFloat16, torch.bfloat16.
  for (const std::string_view ns : {"c10::", "at::", "torch."})
    if (dtype.substr(0, ns.size()) == ns) dtype.remove_prefix(ns.size());
  const std::string c = lower_alnum(dtype);
  for (const auto& [k, v] : kTorch)
    if (c == k) return std::string(v);
  return "";
}

int dtype_bytes(std::string_view dtype) {
  if (dtype == "i8" || dtype == "u8" || dtype == "f8e4m3" || dtype == "f8e5m2") return 1;
  if (dtype == "f16" || dtype == "bf16") return 2;
  if (dtype == "i32" || dtype == "u32" || dtype == "f32") return 4;
  if (dtype == "i64" || dtype == "u64" || dtype == "f64") return 8;
  return 0;
}

nlohmann::json to_json(const NcclKernel& k) {
  return {{"collective", k.collective},
          {"algorithm", k.algorithm},
          {"protocol", k.protocol},
          {"reduction", k.reduction},
          {"dtype", k.dtype}};
}

}  // namespace goodput::trace
