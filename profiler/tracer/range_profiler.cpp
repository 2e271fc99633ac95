#include "profiler/tracer/range_profiler.hpp"

#include <cupti.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include <mutex>

#include "harness/core/error.hpp"

namespace goodput::trace {

void initialize_profiler_interface() {
  static std::once_flag once;
  static CUptiResult result = CUPTI_SUCCESS;
  std::call_once(once, [] {
    auto p = cupti_params<CUpti_Profiler_Initialize_Params>(
        CUpti_Profiler_Initialize_Params_STRUCT_SIZE);
    result = cuptiProfilerInitialize(&p);
  });
  check_cupti("cuptiProfilerInitialize", result);
}

CounterConfig configure_for_context(CUcontext ctx, std::uint32_t device,
                                    const std::vector<std::string>& metrics) {
  initialize_profiler_interface();
  auto chip =
      cupti_params<CUpti_Device_GetChipName_Params>(CUpti_Device_GetChipName_Params_STRUCT_SIZE);
  chip.deviceIndex = device;
  check_cupti("cuptiDeviceGetChipName", cuptiDeviceGetChipName(&chip));
  if (!chip.pChipName) throw RuntimeFailure("cuptiDeviceGetChipName: no chip name");
  // Counters the device can give now (some may be held by another profiler or restricted).
  auto avail = cupti_params<CUpti_Profiler_GetCounterAvailability_Params>(
      CUpti_Profiler_GetCounterAvailability_Params_STRUCT_SIZE);
  avail.ctx = ctx;
  check_cupti("cuptiProfilerGetCounterAvailability", cuptiProfilerGetCounterAvailability(&avail));
  std::vector<std::uint8_t> image(avail.counterAvailabilityImageSize);
  avail.pCounterAvailabilityImage = image.data();
  check_cupti("cuptiProfilerGetCounterAvailability", cuptiProfilerGetCounterAvailability(&avail));
  return configure_counters(chip.pChipName, metrics, std::move(image));
}

RangeProfiler::RangeProfiler(CUcontext ctx, std::uint32_t device, const CounterConfig& config,
                             std::size_t max_ranges)
    : ctx_(ctx), device_(device), config_image_(config.config_image) {
  if (config.passes != 1)
    throw RuntimeFailure("the metrics need " + std::to_string(config.passes) +
                         " passes; per-step collection needs one");
  initialize_profiler_interface();
  auto enable = cupti_params<CUpti_RangeProfiler_Enable_Params>(
      CUpti_RangeProfiler_Enable_Params_STRUCT_SIZE);
  enable.ctx = ctx;
  check_cupti("cuptiRangeProfilerEnable", cuptiRangeProfilerEnable(&enable));
  object_ = enable.pRangeProfilerObject;
  try {
    std::vector<const char*> names;
    for (const auto& m : config.metrics) names.push_back(m.c_str());
    auto size = cupti_params<CUpti_RangeProfiler_GetCounterDataSize_Params>(
        CUpti_RangeProfiler_GetCounterDataSize_Params_STRUCT_SIZE);
    size.pRangeProfilerObject = object_;
    size.pMetricNames = names.data();
    size.numMetrics = names.size();
    size.maxNumOfRanges = max_ranges;
    size.maxNumRangeTreeNodes = static_cast<std::uint32_t>(max_ranges);  // one nesting level
    check_cupti("cuptiRangeProfilerGetCounterDataSize",
                cuptiRangeProfilerGetCounterDataSize(&size));
    counter_data_.resize(size.counterDataSize);
    auto init = cupti_params<CUpti_RangeProfiler_CounterDataImage_Initialize_Params>(
        CUpti_RangeProfiler_CounterDataImage_Initialize_Params_STRUCT_SIZE);
    init.pRangeProfilerObject = object_;
    init.counterDataSize = counter_data_.size();
    init.pCounterData = counter_data_.data();
    check_cupti("cuptiRangeProfilerCounterDataImageInitialize",
                cuptiRangeProfilerCounterDataImageInitialize(&init));
    auto set = cupti_params<CUpti_RangeProfiler_SetConfig_Params>(
        CUpti_RangeProfiler_SetConfig_Params_STRUCT_SIZE);
    set.pRangeProfilerObject = object_;
    set.configSize = config_image_.size();
    set.pConfig = config_image_.data();
    set.counterDataImageSize = counter_data_.size();
    set.pCounterDataImage = counter_data_.data();
    set.range = CUPTI_UserRange;
    set.replayMode = CUPTI_UserReplay;  // one pass, never replayed: no kernel replay
    set.maxRangesPerPass = max_ranges;
    set.numNestingLevels = 1;
    set.minNestingLevel = 1;
    set.passIndex = 0;
    set.targetNestingLevel = 1;
    check_cupti("cuptiRangeProfilerSetConfig", cuptiRangeProfilerSetConfig(&set));
  } catch (...) {
    disable();
    throw;
  }
}

RangeProfiler::~RangeProfiler() {
  disable();
}

void RangeProfiler::disable() noexcept {
  if (!object_) return;
  auto p = cupti_params<CUpti_RangeProfiler_Disable_Params>(
      CUpti_RangeProfiler_Disable_Params_STRUCT_SIZE);
  p.pRangeProfilerObject = object_;
  cuptiRangeProfilerDisable(&p);
  object_ = nullptr;
}

void RangeProfiler::start() {
  if (!object_) throw RuntimeFailure("range profiler: not enabled");
  auto p =
      cupti_params<CUpti_RangeProfiler_Start_Params>(CUpti_RangeProfiler_Start_Params_STRUCT_SIZE);
  p.pRangeProfilerObject = object_;
  check_cupti("cuptiRangeProfilerStart", cuptiRangeProfilerStart(&p));
  started_ = true;
}

void RangeProfiler::push(const std::string& name) {
  if (!object_) throw RuntimeFailure("range profiler: not enabled");
  auto p = cupti_params<CUpti_RangeProfiler_PushRange_Params>(
      CUpti_RangeProfiler_PushRange_Params_STRUCT_SIZE);
  p.pRangeProfilerObject = object_;
  p.pRangeName = name.c_str();
  check_cupti("cuptiRangeProfilerPushRange", cuptiRangeProfilerPushRange(&p));
  open_ = true;
}

void RangeProfiler::pop() {
  if (!object_ || !open_) return;
  open_ = false;
  auto p = cupti_params<CUpti_RangeProfiler_PopRange_Params>(
      CUpti_RangeProfiler_PopRange_Params_STRUCT_SIZE);
  p.pRangeProfilerObject = object_;
  check_cupti("cuptiRangeProfilerPopRange", cuptiRangeProfilerPopRange(&p));
}

void RangeProfiler::stop() {
  if (!object_) return;
  try {
    if (started_) {
      auto p = cupti_params<CUpti_RangeProfiler_Stop_Params>(
          CUpti_RangeProfiler_Stop_Params_STRUCT_SIZE);
      p.pRangeProfilerObject = object_;
      check_cupti("cuptiRangeProfilerStop", cuptiRangeProfilerStop(&p));
      // One pass: everything was submitted with it. Decoding waits for the pass to finish.
      auto d = cupti_params<CUpti_RangeProfiler_DecodeData_Params>(
          CUpti_RangeProfiler_DecodeData_Params_STRUCT_SIZE);
      d.pRangeProfilerObject = object_;
      check_cupti("cuptiRangeProfilerDecodeData", cuptiRangeProfilerDecodeData(&d));
      dropped_ = d.numOfRangeDropped;
      decoded_ = true;
    }
  } catch (...) {
    disable();
    throw;
  }
  disable();
}

}  // namespace goodput::trace
