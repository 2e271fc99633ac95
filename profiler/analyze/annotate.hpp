// The annotated trace `goodput analyze --trace-out FILE` writes: Chrome-trace JSON (gzip when the
// name ends in .gz) that Perfetto and chrome://tracing open. Per rank (one process each): the GPU
// work coloured by kernel class, a "steps" track with each step's GPU window and its numbers, an
// "idle" track with every idle gap split into waiting-for-host-launch and other, a "profiler
// overhead" track with CUPTI's own overhead records when the trace has them, and counter
// tracks for MFU, executed TFLOP/s and the step breakdown. Times stay on the input trace's clock.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/analyze/classify.hpp"
#include "profiler/analyze/steps.hpp"
#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

class AnnotatedTraceWriter {
 public:
  // Opens PATH.partial.<pid>; finish() renames it to PATH, so PATH is always complete JSON.
  explicit AnnotatedTraceWriter(const std::string& path);
  ~AnnotatedTraceWriter();
  AnnotatedTraceWriter(const AnnotatedTraceWriter&) = delete;
  AnnotatedTraceWriter& operator=(const AnnotatedTraceWriter&) = delete;

  // steps_json: the rank's `steps` array of the analysis section, in the order of sa.steps.
  void add_rank(const traceio::RankTrace& t, const std::vector<KernelClass>& class_of,
                const StepAnalysis& sa, const nlohmann::json& steps_json);
  void finish(const nlohmann::json& metadata);
  std::size_t events() const { return events_; }

 private:
  void event(std::string_view e);
  void write(std::string_view s);  // buffered
  void flush();

  std::string path_, tmp_;
  void* gz_ = nullptr;         // gzFile when compressed
  std::FILE* file_ = nullptr;  // otherwise
  std::string buf_;
  std::size_t events_ = 0;
  bool finished_ = false;
};

}  // namespace goodput::analyze
