// `--convention google`: the runtime goodput and badput buckets of Google's
// ml-goodput-measurement (goodput.py, GoodputCalculator.get_job_goodput), computed from the
// same event log, so that numbers can be compared with jobs measured by that library.
// Its definitions, reproduced as they are:
//  - total time = last job end - first (re)start of the program (attempt_start events);
//  - productive time = differences of consecutive step starts within a segment (a segment ends
//    when a step number is seen again: a restart), plus job end - start of the last step when
//    the job ended, minus the blocking checkpoint-save time;
//  - program startup = the first step's excess over the mean of the segment's other steps;
//  - wasted progress = steps of a segment after the step the next segment restarts from;
//  - infrastructure recovery = restart time - start of the last step before the disruption;
//  - data loading: the first load after each start is synchronous (badput), later loads are
//    asynchronous (reported, not subtracted); init, prep and custom phases are their own buckets;
//  - other = total - productive - every bucket except asynchronous data loading.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profiler/ledger/events.hpp"

namespace goodput::ledger {

struct GoogleGoodput {
  double total_s = 0, productive_s = 0;
  double goodput_percent = 0;
  // Bucket name (the library's BadputType names) -> seconds; custom phases by upper-case name.
  std::map<std::string, double> badput_s;
  std::map<std::string, double> custom_s;
  std::int64_t last_step = -1;
  std::size_t disruptions = 0;
  bool job_end_inferred = false;
  std::vector<Warning> warnings;
};

// InputError when the log has no (re)start or its total time is zero.
GoogleGoodput compute_google(const EventLog& log);
nlohmann::json to_json(const GoogleGoodput& g, const EventLog& log);
std::string format_report(const GoogleGoodput& g, const EventLog& log);

}  // namespace goodput::ledger
