// Turning the partial trace of a process that died before finishing it (a segfault at exit,
// SIGKILL, _exit) into a trace that readers accept: the complete event lines are kept, the record
// the death cut is dropped, and a trailer with goodput.status "incomplete" says what happened.
// Streams: the partial is copied in chunks and only its tail is parsed, so memory does not grow
// with the trace (which can be GBs).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "profiler/trace_format/trace_files.hpp"

namespace goodput::trace {

inline constexpr std::size_t kSalvageChunkBytes = 4u << 20;

// Whether process `pid` still runs (a zombie does not).
bool process_running(long pid);

struct SalvageContext {
  // What ended the writer, completed by " before the tracer finished its trace; ...", e.g.
  // "the program was killed by signal 11 (Segmentation fault)".
  std::string cause;
  std::vector<std::string> argv;  // the writer's command line when known (recorded redacted)
  long ppid = -1;                 // the writer's parent when known
  std::string step_marker;        // goodput.capture.marker, so readers find the steps
  std::string run_id;             // goodput.run_id (tracer_env.hpp kEnvRunId); "" when none
  std::size_t chunk_bytes = kSalvageChunkBytes;
};

struct SalvageResult {
  std::string path;                  // the trace written: the partial's final name
  std::uint64_t events_kept = 0;     // complete event lines kept
  std::uint64_t lines_dropped = 0;   // lines after the last complete record (the cut record)
  std::uint64_t bytes_dropped = 0;   // bytes after the last complete record
  bool trailer_dropped = false;      // the writer had begun its own trailer when it died
  bool header_cut = false;           // the file ended inside its first line
  std::uint64_t partial_bytes = 0;   // size of the partial file
  std::size_t max_buffer_bytes = 0;  // the largest buffer held (chunk or tail window)
  std::uint64_t chunks_copied = 0;
  std::string status_reason;  // goodput.status_reason of the trace written
};

// Writes the trace of `partial` under its final name (through a temporary and a rename) and
// removes the partial. The caller checks that the writer no longer runs. InputError when the
// file is not a partial trace (its first line is not the writer's header); RuntimeFailure on
// I/O errors. Either way the partial is left as it was.
SalvageResult salvage_partial(const PartialTrace& partial, const SalvageContext& context);

}  // namespace goodput::trace
