// NVML telemetry, opened at run time: the binary must start (and analyze traces) on machines
// without a driver, so libnvidia-ml is never linked. Every function is optional; a missing one
// leaves its field "not available".
#include <dlfcn.h>
#include <nvml.h>

#include <map>
#include <mutex>

#include "harness/gpu/telemetry.hpp"

namespace goodput::gpu {
namespace {

struct Nvml {
  void* lib = nullptr;
  std::string unavailable;  // why, when lib is unusable
  nvmlReturn_t (*init)() = nullptr;
  nvmlReturn_t (*by_pci)(const char*, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*clock)(nvmlDevice_t, nvmlClockType_t, unsigned int*) = nullptr;
  nvmlReturn_t (*max_clock)(nvmlDevice_t, nvmlClockType_t, unsigned int*) = nullptr;
  nvmlReturn_t (*power)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*temperature)(nvmlDevice_t, nvmlTemperatureSensors_t, unsigned int*) = nullptr;
  nvmlReturn_t (*reasons)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*driver)(char*, unsigned int) = nullptr;
  nvmlReturn_t (*mig)(nvmlDevice_t, unsigned int*, unsigned int*) = nullptr;
  const char* (*error_string)(nvmlReturn_t) = nullptr;
  std::mutex mu;
  std::map<std::string, nvmlDevice_t> handles;
};

template <class F>
void resolve(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
}

Nvml& nvml() {
  static Nvml* n = [] {
    auto* x = new Nvml;  // lives for the process: NVML is used until exit
    x->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!x->lib) {
      x->unavailable = "libnvidia-ml.so.1 could not be loaded (no NVIDIA driver)";
      return x;
    }
    resolve(x->lib, x->init, "nvmlInit_v2");
    resolve(x->lib, x->by_pci, "nvmlDeviceGetHandleByPciBusId_v2");
    resolve(x->lib, x->clock, "nvmlDeviceGetClockInfo");
    resolve(x->lib, x->max_clock, "nvmlDeviceGetMaxClockInfo");
    resolve(x->lib, x->power, "nvmlDeviceGetPowerUsage");
    resolve(x->lib, x->temperature, "nvmlDeviceGetTemperature");
    // Renamed from "throttle" to "clocks event" reasons in newer drivers; same bits.
    resolve(x->lib, x->reasons, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!x->reasons) resolve(x->lib, x->reasons, "nvmlDeviceGetCurrentClocksThrottleReasons");
    resolve(x->lib, x->driver, "nvmlSystemGetDriverVersion");
    resolve(x->lib, x->mig, "nvmlDeviceGetMigMode");
    resolve(x->lib, x->error_string, "nvmlErrorString");
    if (!x->init || !x->by_pci) {
      x->unavailable = "libnvidia-ml.so.1 lacks nvmlInit_v2/nvmlDeviceGetHandleByPciBusId_v2";
      return x;
    }
    const nvmlReturn_t rc = x->init();
    if (rc != NVML_SUCCESS)
      x->unavailable = std::string("nvmlInit_v2 failed: ") +
                       (x->error_string ? x->error_string(rc) : std::to_string(rc));
    return x;
  }();
  return *n;
}

bool usable(Nvml& n) {
  return n.lib && n.unavailable.empty();
}

bool handle_of(Nvml& n, const DeviceInfo& dev, nvmlDevice_t* out) {
  if (!usable(n) || dev.pci_bus_id.empty()) return false;
  std::lock_guard<std::mutex> lock(n.mu);
  const auto it = n.handles.find(dev.pci_bus_id);
  if (it != n.handles.end()) {
    *out = it->second;
    return true;
  }
  nvmlDevice_t h{};
  if (n.by_pci(dev.pci_bus_id.c_str(), &h) != NVML_SUCCESS) return false;
  n.handles[dev.pci_bus_id] = h;
  *out = h;
  return true;
}

std::optional<double> clock_of(Nvml& n, nvmlDevice_t h, nvmlClockType_t type, bool max) {
  auto* fn = max ? n.max_clock : n.clock;
  unsigned int v = 0;
  if (fn && fn(h, type, &v) == NVML_SUCCESS) return static_cast<double>(v);
  return std::nullopt;
}

}  // namespace

bool nvml_available() {
  return usable(nvml());
}

std::string nvml_unavailable_reason() {
  return nvml().unavailable;
}

TelemetrySample sample_telemetry(const DeviceInfo& dev) {
  TelemetrySample s;
  Nvml& n = nvml();
  nvmlDevice_t h{};
  if (!handle_of(n, dev, &h)) return s;
  s.sm_clock_mhz = clock_of(n, h, NVML_CLOCK_SM, false);
  s.mem_clock_mhz = clock_of(n, h, NVML_CLOCK_MEM, false);
  unsigned int v = 0;
  if (n.power && n.power(h, &v) == NVML_SUCCESS) s.power_w = v / 1000.0;  // milliwatts
  if (n.temperature && n.temperature(h, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS)
    s.temperature_c = static_cast<double>(v);
  unsigned long long r = 0;
  if (n.reasons && n.reasons(h, &r) == NVML_SUCCESS) {
    s.clocks_event_reasons = static_cast<std::uint64_t>(r);
    s.throttled = throttled_by(r);
  }
  return s;
}

void fill_from_nvml(DeviceInfo& dev) {
  Nvml& n = nvml();
  if (!usable(n)) return;
  char buf[96] = {};
  if (n.driver && n.driver(buf, sizeof buf) == NVML_SUCCESS) dev.driver_release = buf;
  nvmlDevice_t h{};
  if (!handle_of(n, dev, &h)) return;
  if (const auto c = clock_of(n, h, NVML_CLOCK_SM, false)) dev.sm_clock_mhz_current = *c;
  if (dev.sm_clock_mhz_max <= 0)
    if (const auto c = clock_of(n, h, NVML_CLOCK_SM, true)) dev.sm_clock_mhz_max = *c;
  if (dev.mem_clock_mhz_max <= 0)
    if (const auto c = clock_of(n, h, NVML_CLOCK_MEM, true)) dev.mem_clock_mhz_max = *c;
  unsigned int current = 0, pending = 0;
  if (n.mig && n.mig(h, &current, &pending) == NVML_SUCCESS)
    dev.mig_mode = current == NVML_DEVICE_MIG_ENABLE ? 1 : 0;
}

}  // namespace goodput::gpu
