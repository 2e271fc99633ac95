// Writes a complete calibrate-like results document built through the real result functions
// from synthetic samples, for the schema tests. Usage: goodput_sample_document OUT.json
#include <cstdio>

#include "harness/cli/calibration.hpp"
#include "harness/core/results.hpp"
#include "tests/harness/synthetic.hpp"

int main(int argc, char** argv) {
  using namespace goodput;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.json\n", argv[0]);
    return 2;
  }
  const SpecDb db = load_default_spec_db();
  const DeviceInfo dev = testing::h100_sxm();
  const PeakContext ctx{&db, dev, device_peaks(db, dev)};
  ResultsWriter out(argv[1], "calibrate", {argv[0], "calibrate", "--quick"});
  out.set("devices", nlohmann::json::array({cli::device_block(dev, ctx.peaks)}));
  std::vector<TelemetrySample> all;
  for (const auto& m : testing::synthetic_calibration()) {
    out.add_result(measurement_to_json(m, &ctx));
    all.insert(all.end(), m.telemetry.begin(), m.telemetry.end());
  }
  TelemetrySample before;  // NVML absent: every field "not available"
  out.set("regime", {{"nvml", "built without nvml.h"},
                     {"before", to_json(before)},
                     {"after", to_json(all.front())},
                     {"during", summarize_telemetry(all)}});
  auto profile = build_peak_profile(out.document()["results"], ctx, median_sm_clock(all));
  profile["quick"] = true;
  profile["only"] = "all";
  profile["timing"] = to_json(default_timing(true));
  out.set("peak_profile", profile);
  std::fputs(cli::summary_table(profile).c_str(), stdout);
  out.finish("complete");
  return 0;
}
