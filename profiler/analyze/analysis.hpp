// `goodput analyze` as a library: traces in, the `analysis` results section and a terminal
// report out. Per rank: HTA-compatible breakdown, steps and their breakdown, kernel classes and
// top kernels, NCCL calls with algbw/busbw, GEMM/attention shape table, FLOPs, MFU against every
// known peak, and the MFU waterfall; across ranks: per step the slowest rank, the rank the others
// wait for, and why.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/gpu_spec.hpp"
#include "profiler/analyze/classify.hpp"
#include "profiler/analyze/model.hpp"
#include "profiler/analyze/steps.hpp"
#include "profiler/trace/trace.hpp"

namespace goodput::analyze {

// A file of a folder given that is not read as a trace, and why (reported, not an error).
struct LeftOutFile {
  std::string path, why;
};

struct AnalyzeOptions {
  StepMarker marker;
  std::string peak_file;                 // goodput calibrate results (peak_profile)
  std::string model_file;                // model spec JSON
  std::string rules_file;                // extra kernel-class rules
  std::string gpu;                       // GPU spec name when the trace does not say
  std::optional<double> flops_per_step;  // model FLOPs per step per GPU, instead of a model spec
  int warmup_steps = 1;                  // excluded from the steady state
  std::size_t top_kernels = 10;
  std::size_t step_rows = 24;         // longest step table printed in full; 0 = every step always
  std::string trace_out;              // annotated Chrome trace to write (annotate.hpp); "" = none
  std::vector<LeftOutFile> left_out;  // files of the folders given that were not read
};

struct TraceInput {
  const traceio::RankTrace* trace = nullptr;
  double read_seconds = 0;
};

struct AnalysisResult {
  nlohmann::json json;  // the `analysis` section
  std::string report;   // terminal text
};

// The rows a step table shows. Every step when there are at most max_rows (or max_rows is 0);
// otherwise up to three warm-up steps, then of the steady state the fastest, the median and the
// `slowest` slowest steps, in step order, each tagged with why it is shown.
struct StepRow {
  std::size_t index = 0;
  std::string tag;  // "", "fastest", "median", "slowest", "2nd slowest", ...
};
std::vector<StepRow> step_rows_shown(const std::vector<double>& step_seconds, std::size_t warmup,
                                     std::size_t max_rows, std::size_t slowest = 5);

// nccl-tests bus-bandwidth factor for a collective over n ranks (all_reduce 2(n-1)/n;
// all_gather, reduce_scatter, all_to_all, gather, scatter (n-1)/n; broadcast, reduce,
// send/recv 1).
double busbw_factor(const std::string& collective, int n);
// Bytes per element of a Kineto NCCL dtype name ("Float" 4, "BFloat16" 2, ...); 0 if unknown.
int nccl_dtype_bytes(const std::string& dtype);

struct Waterfall {
  double window_s = 0, ideal_s = 0;  // ideal: FLOPs at the peak
  double idle_s = 0, comm_exposed_s = 0, memory_s = 0, non_matmul_s = 0, matmul_ineff_s = 0;
  double mfu() const { return window_s > 0 ? ideal_s / window_s : 0; }
};
// The MFU waterfall of one step: from 100 % of peak, subtract idle, exposed communication,
// memory ops, non-matmul compute and matmul inefficiency (matmul time minus the FLOPs' time at
// peak); the terms sum exactly to window - ideal.
Waterfall waterfall(const StepBreakdown& s, double flops, double peak_flops_per_s);

// Kernel class per NameId of t.names; names no GPU work carries stay kOther.
std::vector<KernelClass> classify_gpu_names(const traceio::RankTrace& t,
                                            const Classifier& classifier);
// The same for every trace of a job ([trace][NameId]): a name the ranks share is classified
// once, and the distinct names are spread over the cores.
std::vector<std::vector<KernelClass>> classify_gpu_names(
    const std::vector<const traceio::RankTrace*>& traces, const Classifier& classifier);

// What an analysis needs besides the traces: the kernel-class rules (a user's checked when read;
// a built-in regex is compiled on its first use, which most traces never make) and the GPU spec
// table. Independent of the traces, so `goodput analyze` readies it on another core while they
// are read.
struct AnalysisSetup {
  Classifier classifier;
  SpecDb db;
};
AnalysisSetup prepare_analysis(const AnalyzeOptions& opt);  // InputError: bad rules or spec file

AnalysisResult analyze(const std::vector<TraceInput>& inputs, const AnalyzeOptions& opt,
                       const AnalysisSetup& setup);
AnalysisResult analyze(const std::vector<TraceInput>& inputs, const AnalyzeOptions& opt);

}  // namespace goodput::analyze
