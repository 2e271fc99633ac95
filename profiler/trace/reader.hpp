// Trace readers: one per on-disk format, chosen by sniffing the first bytes of the (uncompressed)
// file. A new format (e.g. goodput's own tracer output) registers a TraceFormat and needs no
// change elsewhere: analysis only sees RankTrace.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "profiler/trace/trace.hpp"

namespace goodput::traceio {

struct TraceFormat {
  std::string name;
  // Whether this reader recognises the file from its first (up to 4 KiB) uncompressed bytes,
  // leading whitespace removed.
  std::function<bool(const std::string& head)> sniff;
  std::function<RankTrace(const std::string& path)> read;
};

// Built-in formats, most specific first; register_format() prepends.
std::vector<TraceFormat>& formats();
void register_format(TraceFormat f);

// Kineto / PyTorch-profiler Chrome-trace JSON (.json or .json.gz), both schemas seen in the wild.
RankTrace read_kineto(const std::string& path);
// Whether read_kineto may guess where to cut the events array for its parallel parse (on by
// default; every guess is proven, and a file whose guess fails is read again with the
// structural scan). Off only for tests comparing the two; returns the previous setting.
bool use_guessed_cuts(bool on);

// The first (up to 4 KiB) uncompressed bytes of a file, leading whitespace removed; "" when it
// cannot be read (the reader then says why).
std::string read_head(const std::string& path);
// A folder's *.json and *.json.gz files, sorted.
std::vector<std::string> trace_files_in(const std::string& folder);

// One file: sniff and dispatch. InputError when no reader recognises it.
RankTrace read_trace(const std::string& path);
// Files and folders (a folder contributes its *.json and *.json.gz files, sorted); one RankTrace
// per file, sorted by rank. InputError when nothing is found or two files claim the same rank.
// seconds (optional) receives each file's read time, in the returned order.
std::vector<RankTrace> read_traces(const std::vector<std::string>& paths,
                                   std::vector<double>* seconds = nullptr);

}  // namespace goodput::traceio
