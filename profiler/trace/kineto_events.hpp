// Kineto's trace events, one run at a time: the fields of each event (current and 2021
// schemas), which events are only counted (flows, Python functions, instant events) and which are
// kept, and what a kept one becomes in RankTrace. kineto_reader.cpp cuts the `traceEvents` array
// into runs and merges what each run gives.
#pragma once
#include <cstddef>

#include "profiler/trace/json_stream.hpp"
#include "profiler/trace/trace.hpp"

namespace goodput::traceio {

// Parses `in` (whole events separated by commas, as JsonStream::take_elements cuts them) into
// `out`, and returns how many events it held. `in` reads text in memory (an event's fields are
// views into it while the event is parsed). `first_index` is the number of events before them
// in the file: an InputError names the event by its index in the whole array, and its byte.
std::size_t parse_kineto_events(JsonStream& in, RankTrace& out, std::size_t first_index);

}  // namespace goodput::traceio
