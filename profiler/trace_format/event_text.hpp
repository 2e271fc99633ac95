// Chrome-trace events of the hot record kinds (kernels, copies, memsets, runtime calls, flows)
// written straight into text. The tracer formats every record while the program runs; building
// an nlohmann::json object per record cost about 4.5 us each (18 us per launch and its kernel on
// the development machine), on a thread that competes with the program's own. Keys come in the
// order nlohmann writes them, numbers as the shortest text that reads back exactly, strings
// escaped as JSON requires (invalid UTF-8 replaced by U+FFFD), so a reader sees the same values
// as from the object builders in trace_writer.hpp (the tests compare both).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "profiler/trace_format/trace_writer.hpp"

namespace goodput::trace {

// Appends `s` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

// Each sets `out` to one event's JSON text. False when the event needs a field the fast path
// does not write (an NCCL kernel's parsed name, extra API arguments): use the object builder.
bool kernel_text(std::string& out, const KernelEvent& k, std::uint64_t base_ns);
void memcpy_text(std::string& out, const MemcpyEvent& m, std::uint64_t base_ns);
void memset_text(std::string& out, const MemsetEvent& m, std::uint64_t base_ns);
bool api_text(std::string& out, const ApiEvent& a, std::uint64_t base_ns);
void flow_text(std::string& out, bool start, std::uint32_t correlation, std::uint32_t pid,
               std::uint32_t tid, std::uint64_t t_ns, std::uint64_t base_ns);

}  // namespace goodput::trace
