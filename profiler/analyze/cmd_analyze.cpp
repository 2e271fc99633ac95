// `goodput analyze FILES...`: MFU and where the step time went, from step traces (one per rank).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <new>
#include <string_view>

#include "harness/cli/commands.hpp"
#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/analyze/analysis.hpp"
#include "profiler/trace/byte_source.hpp"
#include "profiler/trace/reader.hpp"

namespace goodput::cli {
namespace {

struct AnalyzeArgs {
  std::vector<std::string> files;
  std::string json, window;
  analyze::AnalyzeOptions opt;
  double flops_per_step = 0;
};

std::pair<double, double> parse_window(const std::string& w) {
  const auto colon = w.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    std::size_t used = 0;
    const double a = std::stod(w.substr(0, colon), &used);
    const double b = std::stod(w.substr(colon + 1));
    if (!(b > a) || a < 0) throw std::invalid_argument("order");
    return {a, b};
  } catch (const std::exception&) {
    throw InputError("--window \"" + w +
                     "\": expected START:END in microseconds, 0 <= START < END");
  }
}

namespace fs = std::filesystem;

bool gzipped(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {};
  in.read(magic, 2);
  return magic[0] == '\x1f' && magic[1] == '\x8b';
}

// The last n uncompressed bytes of a file: a plain file's read directly, a gzip file's
// inflated to its end.
std::string tail(const std::string& path, std::size_t n) {
  if (!gzipped(path)) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0));
    in.seekg(static_cast<std::streamoff>(size - std::min(size, n)));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  traceio::ByteSource src(path);
  std::string out, chunk(1 << 20, '\0');
  for (long k; (k = src.read(chunk.data(), chunk.size())) > 0;) {
    out.append(chunk.data(), static_cast<std::size_t>(k));
    if (out.size() > 2 * n) out.erase(0, out.size() - n);
  }
  return out.size() > n ? out.substr(out.size() - n) : out;
}

// What goodput wrote, when it wrote the file: a results document (ResultsWriter: plain JSON, its
// keys sorted, so "schema" comes near the end) or an annotated trace (--trace-out: it starts with
// the writer's own first bytes and ends with its "goodput" schema); "" for anything else. Only a
// compressed file that starts as an annotated trace does is inflated to its end.
std::string goodput_output(const std::string& path) {
  try {
    const std::string h = traceio::read_head(path);
    if (h.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0) == 0) {
      if (tail(path, 1 << 20).find(R"("goodput":{"schema":"goodput.annotated-trace")") !=
          std::string::npos)
        return "an annotated trace (goodput analyze --trace-out), not an input trace";
    } else if (h.rfind('{', 0) == 0 && h.find("\"traceEvents\"") == std::string::npos &&
               !gzipped(path)) {
      if (tail(path, 4096).find(R"("schema": "goodput.results")") != std::string::npos)
        return "a goodput results document, not a trace";
    }
  } catch (const InputError&) {  // unreadable: the trace reader says why
  }
  return "";
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec1, ec2;
  return !a.empty() && !b.empty() && fs::weakly_canonical(a, ec1) == fs::weakly_canonical(b, ec2) &&
         !ec1 && !ec2;
}

// FILES... with each folder replaced by its *.json and *.json.gz files, sorted, less this run's
// own outputs and what goodput wrote there before (left_out says which and why): an output
// written into the folder analysed is never read back as a rank.
std::vector<std::string> input_files(const std::vector<std::string>& args,
                                     const std::vector<std::pair<std::string, std::string>>& own,
                                     std::vector<analyze::LeftOutFile>& left_out) {
  std::vector<std::string> files;
  for (const auto& p : args) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);  // the reader reports a missing or bad file
      continue;
    }
    const std::vector<std::string> found = traceio::trace_files_in(p);
    const std::size_t kept = files.size();
    for (const auto& f : found) {
      std::string why;
      for (const auto& [flag, path] : own)
        if (same_file(f, path)) why = "this run's " + flag + " output";
      if (why.empty()) why = goodput_output(f);
      if (why.empty())
        files.push_back(f);
      else
        left_out.push_back({f, why});
    }
    if (files.size() == kept)
      throw InputError(p + ": folder holds no *.json or *.json.gz trace" +
                       (found.empty() ? "" : " (only goodput's own outputs)"));
  }
  return files;
}

}  // namespace

Command analyze_command(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "analyze", "MFU per step and where the time went, from PyTorch-profiler/Kineto traces");
  auto a = std::make_shared<AnalyzeArgs>();
  sub->add_option("files", a->files, "Trace files (.json, .json.gz) or folders, one file per rank")
      ->required();
  add_json_option(sub, a->json);
  sub->add_option(
      "--step-marker", a->opt.marker.name,
      "Name of the user annotation/NVTX range that marks a step (default ProfilerStep#N)");
  sub->add_option(
      "--window", a->window,
      "Analyse one window START:END (microseconds after the first GPU event) as the step");
  sub->add_option("--peak", a->opt.peak_file, "Peak profile: a `goodput calibrate` results file");
  sub->add_option("--model", a->opt.model_file,
                  "Model spec JSON (examples/models/) for model FLOPs");
  sub->add_option("--flops-per-step", a->flops_per_step,
                  "Model FLOPs per step per GPU, instead of --model")
      ->check(CLI::Validator(
          [](std::string& text) {
            try {
              const double v = std::stod(text);
              if (std::isfinite(v) && v > 0) return std::string();
            } catch (const std::exception&) {
            }
            return "a positive, finite number of FLOPs is needed, not \"" + text + "\"";
          },
          "FLOPS > 0"));
  sub->add_option(
      "--rules", a->opt.rules_file,
      "Kernel-class rules file: lines \"<class> <regex>\" tried before the built-in ones");
  sub->add_option("--gpu", a->opt.gpu,
                  "GPU spec name (results/gpu_specs.json) when the trace does not name its GPU");
  sub->add_option("--warmup", a->opt.warmup_steps, "Steps excluded from the steady state")
      ->check(CLI::NonNegativeNumber)
      ->default_val(1);
  sub->add_option("--top", a->opt.top_kernels, "Rows in the top-kernel and shape tables")
      ->default_val(10);
  sub->add_flag_function(
      "--full", [a](std::int64_t) { a->opt.step_rows = 0; },
      "List every step, rank and straggler in the terminal report (by default a table of more "
      "than 24 steps shows the warm-up and the steady state's fastest, median and 5 slowest "
      "steps; of more than 24 ranks, the fastest, median and 5 slowest; of stragglers, the 5 "
      "steps of largest spread; and of more than 8 ranks, only the median and slowest rank's "
      "sections)");
  sub->add_option("--trace-out", a->opt.trace_out,
                  "Write an annotated Chrome trace (.json or .json.gz) for Perfetto: steps, idle "
                  "gaps, GPU work by class, MFU and breakdown counters");
  return {sub, [a](const Invocation& inv) {
            ResultsWriter out(a->json, "analyze", inv.argv);
            try {
              if (!a->window.empty()) a->opt.marker.window_us = parse_window(a->window);
              if (a->flops_per_step > 0) a->opt.flops_per_step = a->flops_per_step;
              if (!a->opt.model_file.empty() && a->opt.flops_per_step)
                throw InputError("give --model or --flops-per-step, not both");
              using clock = std::chrono::steady_clock;
              const auto t0 = clock::now();
              // The rules and the spec table are readied beside the read (a bad rules file is
              // still reported after a bad trace, as it was read first).
              auto setup =
                  std::async(std::launch::async, [&] { return analyze::prepare_analysis(a->opt); });
              const auto files =
                  input_files(a->files, {{"--json", a->json}, {"--trace-out", a->opt.trace_out}},
                              a->opt.left_out);
              const auto traces = traceio::read_traces(files);
              const auto t1 = clock::now();
              std::vector<analyze::TraceInput> in;
              for (const auto& t : traces) in.push_back({&t, t.read_seconds});
              auto res = analyze::analyze(in, a->opt, setup.get());
              const auto t2 = clock::now();
              // In-process time, comparable with a library's (its interpreter start and
              // imports left out); the process adds its start, the report and this file.
              res.json["timing"] = {
                  {"read_seconds", std::chrono::duration<double>(t1 - t0).count()},
                  {"analysis_seconds", std::chrono::duration<double>(t2 - t1).count()}};
              std::fputs(res.report.c_str(), stdout);
              out.finish_with("analysis", std::move(res.json), "complete");
              return 0;
            } catch (const Error& e) {
              out.finish(e.exit_code() == kExitInterrupted ? "interrupted" : "failed", e.what());
              throw;
            } catch (const std::bad_alloc&) {
              out.finish("failed", "out of host memory");
              throw;
            } catch (const std::exception& e) {  // a thread that could not start, ...
              out.finish("failed", e.what());
              throw;
            }
          }};
}

}  // namespace goodput::cli
