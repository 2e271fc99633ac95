// NVLink and PCIe facts of a GPU from NVML, opened at run time so the binary starts without a
// driver. Only the handful of NVML entry points needed are declared here (C ABI, stable).
#include <dlfcn.h>

#include "collectives/gpu/nccl_engine.hpp"

namespace goodput::collectives {
namespace {

using nvml_device = void*;
using fn_init = int (*)();
using fn_handle = int (*)(const char*, nvml_device*);
using fn_link_uint = int (*)(nvml_device, unsigned, unsigned*);
using fn_dev_uint = int (*)(nvml_device, unsigned*);

constexpr unsigned kMaxNvLinks = 18;  // NVML_NVLINK_MAX_LINKS

struct Nvml {
  void* lib = nullptr;
  fn_init init = nullptr;
  fn_handle by_bus = nullptr;
  fn_link_uint link_state = nullptr, link_version = nullptr;
  fn_dev_uint pcie_gen = nullptr, pcie_width = nullptr;
  std::string error;
};

const Nvml& nvml() {
  static const Nvml n = [] {
    Nvml r;
    r.lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!r.lib) {
      r.error = "NVML not available (libnvidia-ml.so.1 not found)";
      return r;
    }
    r.init = reinterpret_cast<fn_init>(dlsym(r.lib, "nvmlInit_v2"));
    r.by_bus = reinterpret_cast<fn_handle>(dlsym(r.lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    r.link_state = reinterpret_cast<fn_link_uint>(dlsym(r.lib, "nvmlDeviceGetNvLinkState"));
    r.link_version = reinterpret_cast<fn_link_uint>(dlsym(r.lib, "nvmlDeviceGetNvLinkVersion"));
    r.pcie_gen = reinterpret_cast<fn_dev_uint>(dlsym(r.lib, "nvmlDeviceGetCurrPcieLinkGeneration"));
    r.pcie_width = reinterpret_cast<fn_dev_uint>(dlsym(r.lib, "nvmlDeviceGetCurrPcieLinkWidth"));
    if (!r.init || !r.by_bus || r.init() != 0) r.error = "NVML could not be initialised";
    return r;
  }();
  return n;
}

}  // namespace

LinkInfo probe_links(const DeviceInfo& dev) {
  LinkInfo info;
  const Nvml& n = nvml();
  if (!n.error.empty()) {
    info.source = n.error;
    return info;
  }
  nvml_device h = nullptr;
  if (dev.pci_bus_id.empty() || n.by_bus(dev.pci_bus_id.c_str(), &h) != 0) {
    info.source = "NVML does not know PCI bus id '" + dev.pci_bus_id + "'";
    return info;
  }
  info.source = "nvml";
  if (n.link_state && n.link_version) {
    for (unsigned link = 0; link < kMaxNvLinks; ++link) {
      unsigned active = 0, version = 0;
      if (n.link_state(h, link, &active) != 0) break;  // no such link
      if (!active) continue;
      ++info.nvlink_links;
      if (n.link_version(h, link, &version) == 0)
        info.nvlink_version_nvml = static_cast<int>(version);
    }
  }
  unsigned v = 0;
  if (n.pcie_gen && n.pcie_gen(h, &v) == 0) info.pcie_generation = static_cast<int>(v);
  if (n.pcie_width && n.pcie_width(h, &v) == 0) info.pcie_width = static_cast<int>(v);
  return info;
}

}  // namespace goodput::collectives
