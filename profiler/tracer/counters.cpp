#include "profiler/tracer/counters.hpp"

#include <cupti_profiler_host.h>
#include <cupti_range_profiler.h>
#include <cupti_result.h>

#include "harness/core/error.hpp"

namespace goodput::trace {
namespace {

// Owns the host object so every exit path releases it.
class HostObject {
 public:
  HostObject(const std::string& chip, const std::vector<std::uint8_t>& counter_availability) {
    auto p = cupti_params<CUpti_Profiler_Host_Initialize_Params>(
        CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE);
    p.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    p.pChipName = chip.c_str();
    p.pCounterAvailabilityImage =
        counter_availability.empty() ? nullptr : counter_availability.data();
    const CUptiResult r = cuptiProfilerHostInitialize(&p);
    if (r != CUPTI_SUCCESS || !p.pHostObject)
      throw RuntimeFailure("chip '" + chip + "': " + cupti_error("cuptiProfilerHostInitialize", r));
    object_ = p.pHostObject;
  }
  ~HostObject() {
    auto p = cupti_params<CUpti_Profiler_Host_Deinitialize_Params>(
        CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE);
    p.pHostObject = object_;
    cuptiProfilerHostDeinitialize(&p);
  }
  HostObject(const HostObject&) = delete;
  HostObject& operator=(const HostObject&) = delete;
  CUpti_Profiler_Host_Object* get() const { return object_; }

  // Adds `metrics` in one call (checked) and returns their names as CUPTI takes them. A
  // configuration image and an evaluation both see only the metrics added to the object.
  std::vector<const char*> add_metrics(const std::vector<std::string>& metrics) {
    std::vector<const char*> names;
    for (const auto& m : metrics) names.push_back(m.c_str());
    auto add = cupti_params<CUpti_Profiler_Host_ConfigAddMetrics_Params>(
        CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE);
    add.pHostObject = object_;
    add.ppMetricNames = names.data();
    add.numMetrics = names.size();
    check_cupti("cuptiProfilerHostConfigAddMetrics", cuptiProfilerHostConfigAddMetrics(&add));
    return names;
  }

 private:
  CUpti_Profiler_Host_Object* object_ = nullptr;
};

}  // namespace

std::string cupti_error(const char* call, int result) {
  const char* s = nullptr;
  cuptiGetResultString(static_cast<CUptiResult>(result), &s);
  return std::string(call) + ": " + (s ? s : "CUPTI error " + std::to_string(result));
}

void check_cupti(const char* call, int result) {
  if (result != CUPTI_SUCCESS) throw RuntimeFailure(cupti_error(call, result));
}

CounterConfig configure_counters(const std::string& chip, const std::vector<std::string>& metrics,
                                 std::vector<std::uint8_t> counter_availability) {
  CounterConfig c;
  c.chip = chip;
  c.counter_availability = std::move(counter_availability);
  {
    // Probe one metric at a time, so a metric the chip lacks is named instead of failing the
    // set. The probe is thrown away: metrics added in separate calls are scheduled in separate
    // passes.
    HostObject probe(chip, c.counter_availability);
    for (const auto& m : metrics) {
      const char* name = m.c_str();
      auto p = cupti_params<CUpti_Profiler_Host_ConfigAddMetrics_Params>(
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
  HostObject host(chip, c.counter_availability);
  host.add_metrics(c.metrics);
  auto size = cupti_params<CUpti_Profiler_Host_GetConfigImageSize_Params>(
      CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE);
  size.pHostObject = host.get();
  check_cupti("cuptiProfilerHostGetConfigImageSize", cuptiProfilerHostGetConfigImageSize(&size));
  c.config_image.resize(size.configImageSize);
  auto image = cupti_params<CUpti_Profiler_Host_GetConfigImage_Params>(
      CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE);
  image.pHostObject = host.get();
  image.configImageSize = c.config_image.size();
  image.pConfigImage = c.config_image.data();
  check_cupti("cuptiProfilerHostGetConfigImage", cuptiProfilerHostGetConfigImage(&image));
  auto passes = cupti_params<CUpti_Profiler_Host_GetNumOfPasses_Params>(
      CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE);
  passes.configImageSize = c.config_image.size();
  passes.pConfigImage = c.config_image.data();
  check_cupti("cuptiProfilerHostGetNumOfPasses", cuptiProfilerHostGetNumOfPasses(&passes));
  c.passes = passes.numOfPasses;
  return c;
}

std::vector<DecodedRange> evaluate_counter_data(const CounterConfig& config,
                                                const std::vector<std::uint8_t>& counter_data) {
  auto info = cupti_params<CUpti_RangeProfiler_GetCounterDataInfo_Params>(
      CUpti_RangeProfiler_GetCounterDataInfo_Params_STRUCT_SIZE);
  info.pCounterDataImage = counter_data.data();
  info.counterDataImageSize = counter_data.size();
  check_cupti("cuptiRangeProfilerGetCounterDataInfo", cuptiRangeProfilerGetCounterDataInfo(&info));
  HostObject host(config.chip, config.counter_availability);
  // Without its metrics added, evaluation crashed inside libnvperf_host on an H200.
  auto names = host.add_metrics(config.metrics);
  std::vector<DecodedRange> out;
  std::vector<double> values(names.size());
  for (std::size_t i = 0; i < info.numTotalRanges; ++i) {
    auto range = cupti_params<CUpti_RangeProfiler_CounterData_GetRangeInfo_Params>(
        CUpti_RangeProfiler_CounterData_GetRangeInfo_Params_STRUCT_SIZE);
    range.pCounterDataImage = counter_data.data();
    range.counterDataImageSize = counter_data.size();
    range.rangeIndex = i;
    range.rangeDelimiter = "/";
    check_cupti("cuptiRangeProfilerCounterDataGetRangeInfo",
                cuptiRangeProfilerCounterDataGetRangeInfo(&range));
    auto eval = cupti_params<CUpti_Profiler_Host_EvaluateToGpuValues_Params>(
        CUpti_Profiler_Host_EvaluateToGpuValues_Params_STRUCT_SIZE);
    eval.pHostObject = host.get();
    eval.pCounterDataImage = counter_data.data();
    eval.counterDataImageSize = counter_data.size();
    eval.rangeIndex = i;
    eval.ppMetricNames = names.data();
    eval.numMetrics = names.size();
    eval.pMetricValues = values.data();
    check_cupti("cuptiProfilerHostEvaluateToGpuValues",
                cuptiProfilerHostEvaluateToGpuValues(&eval));
    DecodedRange d;
    d.name = range.rangeName ? range.rangeName : "";
    for (std::size_t k = 0; k < names.size(); ++k)
      d.metrics.emplace_back(config.metrics[k], values[k]);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace goodput::trace
