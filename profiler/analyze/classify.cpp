#include "profiler/analyze/classify.hpp"

#include <algorithm>
#include <fstream>

#include "harness/core/error.hpp"

namespace goodput::analyze {
namespace {

struct BuiltIn {
  KernelClass cls;
  const char* pattern;
  // Every name the pattern matches contains one of these (std::regex is slow on long template
  // names; a name without any of them skips the regex). Checked against every real kernel name
  // in the tests.
  std::vector<std::string> needles;
};

// First match wins. Attention before GEMM: fused attention kernels often carry "gemm" in names.
const BuiltIn kBuiltIn[] = {
    {KernelClass::kMemcpy, "^Memcpy", {"Memcpy"}},
    {KernelClass::kMemset, "^Memset", {"Memset"}},
    // NCCL, and collectives outside NCCL: PyTorch symmetric memory, vLLM custom all-reduce.
    {KernelClass::kCommunication, "^nccl|ncclKernel|ncclDevKernel", {"nccl"}},
    {KernelClass::kCommunication,
     "multimem_(all_reduce|all_gather|reduce_scatter|one_shot)|(one|two)_shot_all_reduce|"
     "cross_device_reduce|nvshmemi?_|all_to_all_kernel|msccl",
     {"multimem_", "shot_all_reduce", "cross_device_reduce", "nvshmem", "all_to_all_kernel",
      "msccl"}},
    {KernelClass::kAttention,
     "flash_fwd|flash_bwd|flash::|[Ff]lash[Aa]ttn|fmha|FMHA|_attention_kernel|attn_fwd|attn_bwd|"
     "paged_attention|sdpa|cudnn_mha|[Mm]ulti[Hh]ead[Aa]ttention|xformers",
     {"lash", "mha", "FMHA", "ttention", "attn_", "sdpa", "xformers"}},
    {KernelClass::kGemm,
     "(^|[^b])gemm|GEMM|Gemm|gemv|wgmma|nvjet|cublas|cutlass.*tensorop|xmma|^bmm_|"
     "scudnn|implicit_convolve|splitKreduce",
     {"gemm", "GEMM", "Gemm", "gemv", "wgmma", "nvjet", "cublas", "tensorop", "xmma", "bmm_",
      "scudnn", "implicit_convolve", "splitKreduce"}},
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

Classifier::Classifier() {
  for (const auto& b : kBuiltIn)
    rules_.push_back(Rule{b.cls, b.pattern, LazyRegex(b.pattern), b.needles});
}

Classifier Classifier::without_prefilter() const {
  Classifier c = *this;
  for (auto& r : c.rules_) r.needles.clear();
  return c;
}

void Classifier::add_rule(KernelClass cls, const std::string& pattern, bool first) {
  Rule r{cls, pattern, checked(pattern, "kernel rule"), {}};
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
    user.push_back(Rule{k, pat, checked(pat, where), {}});
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

void Classifier::compile_all() const {
  for (const auto& r : rules_) r.re.get();
}

KernelClass Classifier::classify(const std::string& name) const {
  const std::string base = kernel_base_name(name);
  for (const auto& r : rules_) {
    if (!r.needles.empty() &&
        std::none_of(r.needles.begin(), r.needles.end(),
                     [&](const std::string& n) { return base.find(n) != std::string::npos; }))
      continue;
    if (std::regex_search(base, r.re.get())) return r.cls;
  }
  return KernelClass::kOther;
}

HtaType hta_type(const std::string& n) {
  if (n.rfind("nccl", 0) == 0 || n.find("ncclKernel") != std::string::npos)
    return HtaType::kCommunication;
  if (n.rfind("Memcpy", 0) == 0 || n.rfind("Memset", 0) == 0) return HtaType::kMemory;
  return HtaType::kComputation;
}

}  // namespace goodput::analyze
