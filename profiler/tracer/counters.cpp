#include "profiler/tracer/counters.hpp"

#include <cupti_profiler_host.h>
#include <cupti_result.h>

#include "harness/core/error.hpp"

namespace goodput::trace {
namespace {

std::string cupti_error(const char* call, CUptiResult r) {
  const char* s = nullptr;
  cuptiGetResultString(r, &s);
  return std::string(call) + ": " + (s ? s : std::to_string(static_cast<int>(r)));
}

// A CUPTI parameter struct: zeroed, with its size set (CUPTI's versioning).
template <typename P>
P params(std::size_t struct_size) {
  P p{};
  p.structSize = struct_size;
  return p;
}

// Owns the host object so every exit path releases it.
class HostObject {
 public:
  explicit HostObject(const std::string& chip) {
    auto p = params<CUpti_Profiler_Host_Initialize_Params>(
        CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE);
    p.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    p.pChipName = chip.c_str();
    const CUptiResult r = cuptiProfilerHostInitialize(&p);
    if (r != CUPTI_SUCCESS || !p.pHostObject)
      throw RuntimeFailure("chip '" + chip + "': " + cupti_error("cuptiProfilerHostInitialize", r));
    object_ = p.pHostObject;
  }
  ~HostObject() {
    auto p = params<CUpti_Profiler_Host_Deinitialize_Params>(
        CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE);
    p.pHostObject = object_;
    cuptiProfilerHostDeinitialize(&p);
  }
  HostObject(const HostObject&) = delete;
  HostObject& operator=(const HostObject&) = delete;
  CUpti_Profiler_Host_Object* get() const { return object_; }

 private:
  CUpti_Profiler_Host_Object* object_ = nullptr;
};

}  // namespace

std::vector<std::string> counter_set_metrics(const std::string& set) {
  if (set == "flops")
    return {"sm__ops_path_tensor_src_bf16_dst_fp32.sum", "sm__ops_path_tensor_src_fp8.sum",
            "dram__bytes_read.sum", "dram__bytes_write.sum", "gpu__time_duration.sum"};
  throw InputError("counter set '" + set + "': the only set is 'flops'");
}

CounterConfig configure_counters(const std::string& chip, const std::vector<std::string>& metrics) {
  CounterConfig c;
  c.chip = chip;
  {
    // Probe one metric at a time, so a metric the chip lacks is named instead of failing the
    // set. The probe is thrown away: metrics added in separate calls are scheduled in separate
    // passes.
    HostObject probe(chip);
    for (const auto& m : metrics) {
      const char* name = m.c_str();
      auto p = params<CUpti_Profiler_Host_ConfigAddMetrics_Params>(
          CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE);
      p.pHostObject = probe.get();
      p.ppMetricNames = &name;
      p.numMetrics = 1;
      (cuptiProfilerHostConfigAddMetrics(&p) == CUPTI_SUCCESS ? c.metrics : c.unavailable)
          .push_back(m);
    }
  }
  if (c.metrics.empty())
    throw RuntimeFailure("chip '" + chip + "': none of the requested metrics exists");
  HostObject host(chip);
  std::vector<const char*> names;
  for (const auto& m : c.metrics) names.push_back(m.c_str());
  auto add = params<CUpti_Profiler_Host_ConfigAddMetrics_Params>(
      CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE);
  add.pHostObject = host.get();
  add.ppMetricNames = names.data();
  add.numMetrics = names.size();
  if (auto r = cuptiProfilerHostConfigAddMetrics(&add); r != CUPTI_SUCCESS)
    throw RuntimeFailure(cupti_error("cuptiProfilerHostConfigAddMetrics", r));
  auto size = params<CUpti_Profiler_Host_GetConfigImageSize_Params>(
      CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE);
  size.pHostObject = host.get();
  if (auto r = cuptiProfilerHostGetConfigImageSize(&size); r != CUPTI_SUCCESS)
    throw RuntimeFailure(cupti_error("cuptiProfilerHostGetConfigImageSize", r));
  c.config_image.resize(size.configImageSize);
  auto image = params<CUpti_Profiler_Host_GetConfigImage_Params>(
      CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE);
  image.pHostObject = host.get();
  image.configImageSize = c.config_image.size();
  image.pConfigImage = c.config_image.data();
  if (auto r = cuptiProfilerHostGetConfigImage(&image); r != CUPTI_SUCCESS)
    throw RuntimeFailure(cupti_error("cuptiProfilerHostGetConfigImage", r));
  auto passes = params<CUpti_Profiler_Host_GetNumOfPasses_Params>(
      CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE);
  passes.configImageSize = c.config_image.size();
  passes.pConfigImage = c.config_image.data();
  if (auto r = cuptiProfilerHostGetNumOfPasses(&passes); r != CUPTI_SUCCESS)
    throw RuntimeFailure(cupti_error("cuptiProfilerHostGetNumOfPasses", r));
  c.passes = passes.numOfPasses;
  return c;
}

}  // namespace goodput::trace
