// Kernel classes by name, as data: a built-in rule table (regexes, first match wins) that a user
// file extends (its rules are tried first). NCCL kernel names are parsed by
// profiler/trace_format/nccl_kernel.hpp, shared with the tracer.
#pragma once
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

namespace goodput::analyze {

enum class KernelClass { kCommunication, kMemcpy, kMemset, kGemm, kAttention, kOther };
const char* to_string(KernelClass c);
KernelClass kernel_class_from_string(const std::string& s);  // InputError on unknown
bool is_compute(KernelClass c);

// A regex compiled on its first use: building std::regex costs more than analysing a small
// trace, and most built-in rules are never tried (their needles filter first). Copies share it.
class LazyRegex {
 public:
  explicit LazyRegex(std::string pattern);
  const std::regex& get() const;  // InputError on a bad pattern (compile now to check)

 private:
  struct State {
    std::string pattern;
    std::once_flag once;
    std::regex re;
  };
  std::shared_ptr<State> state_;
};

// A fragment whose presence in a name settles that a rule matches, so its regex need not run:
// `text` anywhere in the name, except right after one of the characters in `not_after`.
struct SureFragment {
  std::string text;
  std::string not_after;
  bool found_in(const std::string& name) const;
};

struct Rule {
  KernelClass cls;
  std::string pattern;  // ECMAScript regex, searched anywhere in the name
  LazyRegex re;
  // Built-in rules: a name holding a sure fragment matches, and the regex runs only on a name
  // holding one of the needles. A user's rule always runs its regex.
  bool prefiltered = false;
  std::vector<SureFragment> sure;
  std::vector<std::string> needles;
};

// The part of a kernel name that says what it is: without "void ", the parameter list and
// anything inside it (argument types such as fbgemm_gpu::FixedDivisor say nothing about the
// kernel). Rules match this.
std::string kernel_base_name(const std::string& name);

class Classifier {
 public:
  Classifier();  // built-in rules only
  // Rules file: one rule per line, "<class> <regex>", '#' starts a comment line. Classes:
  // communication, memcpy, memset, gemm, attention, other. InputError names file and line.
  void add_rules_file(const std::string& path);
  void add_rule(KernelClass cls, const std::string& pattern, bool first = true);
  KernelClass classify(const std::string& kernel_name) const;
  const std::vector<Rule>& rules() const { return rules_; }
  // The same rules, every regex always tried (tests check that the sure fragments and needles
  // give the same classes).
  Classifier without_prefilter() const;

 private:
  std::vector<Rule> rules_;
};

// HolisticTraceAnalysis's own kernel typing (communication / memory / computation / other), kept
// apart from ours so the HTA-compatible numbers match it exactly. "Other" (a name holding Memcpy
// or Sync past its start) is GPU time that is neither compute nor communication to HTA.
enum class HtaType { kCommunication, kMemory, kComputation, kOther };
HtaType hta_type(const std::string& kernel_name);

}  // namespace goodput::analyze
