#include "profiler/analyze/classify.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <string_view>

#include "harness/core/error.hpp"

namespace goodput::analyze {
namespace {

struct BuiltIn {
  KernelClass cls;
  const char* pattern;
  // std::regex is slow on long template names, so a built-in rule settles most names without
  // it: a name holding a sure fragment (an alternative of the pattern that is plain text)
  // matches, and the regex runs only on a name holding one of the needles (text that every
  // match of the other alternatives contains). Checked against every real kernel name in the
  // tests.
  std::vector<SureFragment> sure;
  std::vector<std::string> needles;
};

// First match wins. Attention before GEMM: fused attention kernels often carry "gemm" in names.
const BuiltIn kBuiltIn[] = {
    {KernelClass::kMemcpy, "^Memcpy", {}, {"Memcpy"}},
    {KernelClass::kMemset, "^Memset", {}, {"Memset"}},
    // NCCL, and collectives outside NCCL: PyTorch symmetric memory, vLLM custom all-reduce.
    {KernelClass::kCommunication,
     "^nccl|ncclKernel|ncclDevKernel",
     {{"ncclKernel", ""}, {"ncclDevKernel", ""}},
     {"nccl"}},
    {KernelClass::kCommunication,
     "multimem_(all_reduce|all_gather|reduce_scatter|one_shot)|(one|two)_shot_all_reduce|"
     "cross_device_reduce|nvshmemi?_|all_to_all_kernel|msccl",
     {{"multimem_all_reduce", ""},
      {"multimem_all_gather", ""},
      {"multimem_reduce_scatter", ""},
      {"multimem_one_shot", ""},
      {"one_shot_all_reduce", ""},
      {"two_shot_all_reduce", ""},
      {"cross_device_reduce", ""},
      {"nvshmem_", ""},
      {"nvshmemi_", ""},
      {"all_to_all_kernel", ""},
      {"msccl", ""}},
     {}},
    {KernelClass::kAttention,
     "flash_fwd|flash_bwd|flash::|[Ff]lash[Aa]ttn|fmha|FMHA|_attention_kernel|attn_fwd|attn_bwd|"
     "paged_attention|sdpa|cudnn_mha|[Mm]ulti[Hh]ead[Aa]ttention|xformers",
     {{"flash_fwd", ""},
      {"flash_bwd", ""},
      {"flash::", ""},
      {"fmha", ""},
      {"FMHA", ""},
      {"_attention_kernel", ""},
      {"attn_fwd", ""},
      {"attn_bwd", ""},
      {"paged_attention", ""},
      {"sdpa", ""},
      {"cudnn_mha", ""},
      {"xformers", ""}},
     {"lash", "ttention"}},
    {KernelClass::kGemm,
     "(^|[^b])gemm|GEMM|Gemm|gemv|wgmma|nvjet|cublas|cutlass.*tensorop|xmma|^bmm_|"
     "scudnn|implicit_convolve|splitKreduce",
     {{"gemm", "b"},
      {"GEMM", ""},
      {"Gemm", ""},
      {"gemv", ""},
      {"wgmma", ""},
      {"nvjet", ""},
      {"cublas", ""},
      {"xmma", ""},
      {"scudnn", ""},
      {"implicit_convolve", ""},
      {"splitKreduce", ""}},
     {"tensorop", "bmm_"}},
};

const char* const kClassNames[] = {"communication", "memcpy",    "memset",
                                   "gemm",          "attention", "other"};

std::regex compile(const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::optimize | std::regex::nosubs);
  } catch (const std::regex_error& e) {
    throw InputError("bad regex \"" + pattern + "\": " + e.what());
  }
}

// A user's rule, checked when it is read so that a bad pattern names its file and line.
LazyRegex checked(const std::string& pattern, const std::string& where) {
  LazyRegex re(pattern);
  try {
    re.get();
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return re;
}

}  // namespace

LazyRegex::LazyRegex(std::string pattern) : state_(std::make_shared<State>()) {
  state_->pattern = std::move(pattern);
}

const std::regex& LazyRegex::get() const {
  std::call_once(state_->once, [s = state_.get()] { s->re = compile(s->pattern); });
  return state_->re;
}

const char* to_string(KernelClass c) {
  return kClassNames[static_cast<int>(c)];
}

KernelClass kernel_class_from_string(const std::string& s) {
  for (int i = 0; i < 6; ++i)
    if (s == kClassNames[i]) return static_cast<KernelClass>(i);
  throw InputError("unknown kernel class \"" + s +
                   "\" (communication, memcpy, memset, gemm, attention, other)");
}

bool is_compute(KernelClass c) {
  return c == KernelClass::kGemm || c == KernelClass::kAttention || c == KernelClass::kOther;
}

namespace {
// The byte pairs that occur in a name, hashed into 4096 bits. A text whose first or last pair
// is missing cannot occur in the name: most fragments and needles are ruled out so, without
// a search (the searches were most of the classification's time).
class PairSet {
 public:
  explicit PairSet(std::string_view s) {
    for (std::size_t i = 1; i < s.size(); ++i) set(pair(s[i - 1], s[i]));
  }
  bool may_hold(std::string_view t) const {
    return t.size() < 2 || (has(pair(t[0], t[1])) && has(pair(t[t.size() - 2], t.back())));
  }

 private:
  static unsigned pair(char a, char b) {
    return (static_cast<unsigned char>(a) * 67u + static_cast<unsigned char>(b)) & 4095u;
  }
  void set(unsigned p) { bits_[p >> 6] |= std::uint64_t{1} << (p & 63); }
  bool has(unsigned p) const { return (bits_[p >> 6] >> (p & 63)) & 1; }
  std::array<std::uint64_t, 64> bits_{};
};
}  // namespace

bool SureFragment::found_in(const std::string& name) const {
  for (auto p = name.find(text); p != std::string::npos; p = name.find(text, p + 1))
    if (p == 0 || not_after.find(name[p - 1]) == std::string::npos) return true;
  return false;
}

Classifier::Classifier() {
  for (const auto& b : kBuiltIn)
    rules_.push_back(Rule{b.cls, b.pattern, LazyRegex(b.pattern), true, b.sure, b.needles});
}

Classifier Classifier::without_prefilter() const {
  Classifier c = *this;
  for (auto& r : c.rules_) r.prefiltered = false;
  return c;
}

void Classifier::add_rule(KernelClass cls, const std::string& pattern, bool first) {
  Rule r{cls, pattern, checked(pattern, "kernel rule"), false, {}, {}};
  if (first)
    rules_.insert(rules_.begin(), std::move(r));
  else
    rules_.push_back(std::move(r));
}

void Classifier::add_rules_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open rules file");
  std::vector<Rule> user;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    const auto sp = line.find_first_of(" \t", b);
    const std::string where = path + ":" + std::to_string(n);
    if (sp == std::string::npos) throw InputError(where + ": expected \"<class> <regex>\"");
    const std::string cls = line.substr(b, sp - b);
    auto rb = line.find_first_not_of(" \t", sp);
    auto re = line.find_last_not_of(" \t\r");
    if (rb == std::string::npos) throw InputError(where + ": missing regex after \"" + cls + "\"");
    KernelClass k;
    try {
      k = kernel_class_from_string(cls);
    } catch (const InputError& e) {
      throw InputError(where + ": " + e.what());
    }
    const std::string pat = line.substr(rb, re - rb + 1);
    user.push_back(Rule{k, pat, checked(pat, where), false, {}, {}});
  }
  // User rules come first, in file order.
  rules_.insert(rules_.begin(), std::make_move_iterator(user.begin()),
                std::make_move_iterator(user.end()));
}

std::string kernel_base_name(const std::string& name) {
  std::string s = name.rfind("void ", 0) == 0 ? name.substr(5) : name;
  static const std::string anon = "(anonymous namespace)";
  for (auto p = s.find(anon); p != std::string::npos; p = s.find(anon, p))
    s.replace(p, anon.size(), "{anonymous}");
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<')
      ++depth;
    else if (s[i] == '>' && depth > 0)
      --depth;
    else if (s[i] == '(' && depth == 0)
      return s.substr(0, i);
  }
  return s;
}

KernelClass Classifier::classify(const std::string& name) const {
  const std::string base = kernel_base_name(name);
  const PairSet pairs(base);
  auto holds = [&](const std::string& n) {
    return pairs.may_hold(n) && base.find(n) != std::string::npos;
  };
  for (const auto& r : rules_) {
    if (r.prefiltered) {
      if (std::any_of(r.sure.begin(), r.sure.end(), [&](const SureFragment& f) {
            return pairs.may_hold(f.text) && f.found_in(base);
          }))
        return r.cls;
      if (std::none_of(r.needles.begin(), r.needles.end(), holds)) continue;
    }
    if (std::regex_search(base, r.re.get())) return r.cls;
  }
  return KernelClass::kOther;
}

HtaType hta_type(const std::string& n) {
  // HTA's regexes (hta/utils/utils.py), in its order: ^nccl.*Kernel, then ^(Memcpy|Memset|dma),
  // then compute unless .*Memcpy or .*Sync matches (^Memset is taken above).
  if (n.rfind("nccl", 0) == 0 && n.find("Kernel", 4) != std::string::npos)
    return HtaType::kCommunication;
  if (n.rfind("Memcpy", 0) == 0 || n.rfind("Memset", 0) == 0 || n.rfind("dma", 0) == 0)
    return HtaType::kMemory;
  if (n.find("Memcpy") != std::string::npos || n.find("Sync") != std::string::npos)
    return HtaType::kOther;
  return HtaType::kComputation;
}

}  // namespace goodput::analyze
