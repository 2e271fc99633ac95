// The calibration suites for one device: sizes from its L2 and SM count (kernels/models.hpp).
#include "kernels/suite.hpp"

#include "kernels/gemm.hpp"
#include "kernels/memory.hpp"
#include "kernels/models.hpp"

namespace goodput::kernels {

std::vector<WorkloadPtr> memory_suite(const DeviceInfo& dev, bool quick) {
  const MemoryGrid grid = memory_grid(dev);
  const std::uint64_t elements =
      memory_elements(dev.l2_bytes, memory_min_bytes(quick), grid, sizeof(float));
  std::vector<WorkloadPtr> out;
  for (MemoryOp op : memory_ops()) {
    MemoryConfig c;
    c.op = op;
    c.elements = elements;
    c.grid = grid;
    c.device = dev.index;
    out.push_back(make_memory_workload(c));
  }
  return out;
}

std::vector<WorkloadPtr> gemm_suite(const DeviceInfo& dev, bool quick) {
  std::vector<WorkloadPtr> out;
  for (const DtypeInfo& d : gemm_dtypes()) {
    if (!dtype_supported(d, dev.cc_major, dev.cc_minor)) continue;
    for (const GemmProblem& p : gemm_problems(d, quick)) {
      GemmConfig c;
      c.dtype = d.id;
      c.problem = p;
      c.device = dev.index;
      c.sets = rotation_sets(dev.l2_bytes, gemm_set_bytes(p, d));
      c.candidates = quick ? 4 : 8;
      c.tuning_ms = quick ? 10 : 20;
      out.push_back(make_gemm_workload(c));
    }
  }
  return out;
}

}  // namespace goodput::kernels
