// Pieces of the event-log reader that stay out of its per-line loop: time text, the order of
// events at equal times, and the pairing of ranks' steps for the clock-skew estimate.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "profiler/ledger/events.hpp"

namespace goodput::ledger {

// Seconds since the epoch a log may hold: years 1970 to 9999.
bool in_time_range(double t);
std::string time_range_error(const std::string& text, const std::string& what);

// A step start of a rank, for the clock-skew estimate.
struct StepSample {
  double t = 0;
  std::int64_t step = 0;
  std::int32_t attempt = 0;  // 0: not given
};

// Keeps the `max` earliest samples in `heap` (a max-heap on time): the same sample whatever the
// order the files are read in.
void keep_earliest(std::vector<StepSample>& heap, const StepSample& s, std::size_t max);

// Sorts step starts by (attempt, step, time), the order step_differences pairs them in.
void order_by_step(std::vector<StepSample>& starts);
// t(rank) - t(reference) over the steps both started, pairing the n-th start of a step in an
// attempt on the rank with its n-th start on the reference (`reference` in order_by_step's
// order). Without 'attempt' fields a restart runs the step numbers again, and the n-th run of a
// step on one rank is its n-th run on every rank (all ranks run every attempt).
std::vector<double> step_differences(std::vector<StepSample> rank,
                                     const std::vector<StepSample>& reference);

// Sorts by time. At equal times each file keeps its line order and files are merged by the kind
// of their next event, then by file name: the order the files were given in does not matter.
void sort_events(std::vector<Event>& events, const std::vector<std::string>& files);

}  // namespace goodput::ledger
