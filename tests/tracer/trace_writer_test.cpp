#include "profiler/trace_format/trace_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/trace_format/trace_files.hpp"
#include "profiler/trace_format/trace_meta.hpp"
#include "tests/tracer/test_util.hpp"

using namespace goodput;
using namespace goodput::trace;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  return goodput::test::temp_dir("goodput_trace_writer");
}

constexpr std::uint64_t kBase = 1'700'000'000'000'000'000ull;

// A small trace covering every event kind, with fixed inputs.
void write_sample(const std::string& path) {
  TraceWriter w;
  w.open(path, kBase, 4242);
  ApiEvent launch{"cudaLaunchKernel",
                  "cuda_runtime",
                  kBase + 1000,
                  kBase + 4500,
                  4242,
                  4243,
                  17,
                  211,
                  true,
                  {}};
  w.api(launch);
  ApiEvent sync{"Stream Sync", "cuda_sync",    kBase + 5000, kBase + 9000, 4242, 4243, 18, 0,
                false,         {{"stream", 7}}};
  w.api(sync);
  KernelEvent k;
  k.name = "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevKernelArgsStorage<4096ul>)";
  k.start_ns = kBase + 6000;
  k.end_ns = kBase + 8250;
  k.device = 0;
  k.context = 1;
  k.stream = 7;
  k.correlation = 17;
  k.grid[0] = 32, k.grid[1] = 1, k.grid[2] = 1;
  k.block[0] = 640, k.block[1] = 1, k.block[2] = 1;
  k.registers_per_thread = 96;
  k.static_shared_memory = 1024;
  k.dynamic_shared_memory = 4096;
  w.kernel(k);
  MemcpyEvent m{"HtoD", "Pinned", "Device", 1 << 20, kBase + 2000, kBase + 3000, 0, 1, 7, 19};
  w.memcpy(m);
  MemsetEvent s{"Device", 4096, 0, kBase + 3100, kBase + 3200, 0, 1, 7, 20};
  w.memset(s);
  RangeRecord r;
  r.id = 1;
  r.name = "step";
  r.tid = 4243;
  r.start_ns = kBase + 500;
  r.end_ns = kBase + 9500;
  w.range(r);
  w.gpu_range(GpuSpan{1, 0, 7, kBase + 6000, kBase + 8250, 1}, "step");
  w.overhead(OverheadEvent{"CUPTI buffer flush", kBase + 9600, kBase + 9700, 4242, 4244});
  w.counter_range(CounterRangeEvent{"step",
                                    0,
                                    kBase + 500,
                                    kBase + 9500,
                                    {{"sm__ops_path_tensor_src_bf16_dst_fp32.sum", 4096.0},
                                     {"dram__bytes_read.sum", 1048576.0}}});
  nlohmann::json meta = {{"schema", kTraceSchema},
                         {"status", kStatusComplete},
                         {"records", {{"kernels", 1}}},
                         {"dropped_records", 0}};
  w.finish({{"schemaVersion", 1},
            {"deviceProperties", {{{"id", 0}, {"name", "NVIDIA H100 80GB HBM3"}, {"numSms", 132}}}},
            {"goodput", meta}},
           "train");
  EXPECT_FALSE(w.is_open());
}

nlohmann::json without_trace_name(nlohmann::json j) {
  j.erase("traceName");
  return j;
}

}  // namespace

TEST(TraceWriter, TimestampsAreMicrosecondsAfterTheBase) {
  EXPECT_DOUBLE_EQ(to_us(kBase + 1500, kBase), 1.5);
  EXPECT_DOUBLE_EQ(to_us(kBase + 123'456'789'123ull, kBase), 123456789.123);
  EXPECT_DOUBLE_EQ(to_us(kBase - 2000, kBase), -2.0);
}

TEST(TraceWriter, MatchesGoldenFile) {
  const auto dir = temp_dir();
  const auto path = (dir / "sample.json").string();
  write_sample(path);
  const auto got = read_json_file(path);
  EXPECT_EQ(got["traceName"], path);
  const std::string golden = std::string(GOODPUT_TRACER_TEST_DATA) + "/golden_trace.json";
  if (std::getenv("GOODPUT_UPDATE_GOLDEN")) write_json_atomic(golden, without_trace_name(got));
  EXPECT_EQ(without_trace_name(got), read_json_file(golden))
      << "trace layout changed; if intended, rerun with GOODPUT_UPDATE_GOLDEN=1 and review the "
         "diff";
  EXPECT_FALSE(fs::exists(path + ".partial." + std::to_string(getpid())));
}

TEST(TraceWriter, KinetoShapedEventsAndFlows) {
  const auto dir = temp_dir();
  const auto path = (dir / "sample.json").string();
  write_sample(path);
  const auto doc = read_json_file(path);
  ASSERT_TRUE(doc["traceEvents"].is_array());
  EXPECT_EQ(doc["baseTimeNanoseconds"], kBase);
  std::map<std::string, int> cats;
  std::set<long> flow_starts, flow_ends;
  for (const auto& e : doc["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("name")) << e.dump();
    const auto ph = e["ph"].get<std::string>();
    if (ph == "X") {
      ++cats[e["cat"].get<std::string>()];
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      EXPECT_TRUE(e["ts"].is_number());
    } else if (ph == "s") {
      flow_starts.insert(e["id"].get<long>());
    } else if (ph == "f") {
      flow_ends.insert(e["id"].get<long>());
      EXPECT_EQ(e["bp"], "e");
    } else {
      EXPECT_EQ(ph, "M");
    }
    if (e.value("cat", "") == "kernel") {
      const auto& a = e["args"];
      EXPECT_EQ(e["pid"], 0);  // GPU rows: pid = device, tid = stream (Kineto's layout)
      EXPECT_EQ(e["tid"], 7);
      EXPECT_EQ(a["correlation"], 17);
      EXPECT_EQ(a["registers per thread"], 96);
      EXPECT_EQ(a["shared memory"], 5120);
      EXPECT_EQ(a["grid"], nlohmann::json({32, 1, 1}));
      EXPECT_EQ(a["block"], nlohmann::json({640, 1, 1}));
      EXPECT_EQ(a["Collective name"], "all_reduce");
      EXPECT_EQ(a["nccl"]["protocol"], "ll");
      EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 6.0);
      EXPECT_DOUBLE_EQ(e["dur"].get<double>(), 2.25);
    }
  }
  EXPECT_EQ(cats["kernel"], 1);
  EXPECT_EQ(cats["gpu_memcpy"], 1);
  EXPECT_EQ(cats["gpu_memset"], 1);
  EXPECT_EQ(cats["cuda_runtime"], 1);
  EXPECT_EQ(cats["cuda_sync"], 1);
  EXPECT_EQ(cats["user_annotation"], 1);
  EXPECT_EQ(cats["gpu_user_annotation"], 1);
  EXPECT_EQ(cats["overhead"], 1);
  EXPECT_EQ(cats["cuda_profiler_range"], 1);
  EXPECT_EQ(flow_starts, std::set<long>({17}));
  EXPECT_TRUE(flow_ends.count(17));
}

// The per-step hardware-counter event, exactly as goodput analyze reads it: the step's name and
// CPU interval on the device's row, the metric values as args.
TEST(TraceWriter, CounterRangeEvent) {
  const CounterRangeEvent c{"step 12",
                            3,
                            kBase + 2'000'500,
                            kBase + 5'250'750,
                            {{"smsp__sass_thread_inst_executed_op_ffma_pred_on.sum", 123456789.0},
                             {"dram__bytes_write.sum", 0.5},
                             {"gpu__time_duration.sum", std::nan("")}}};
  const auto expected = nlohmann::json::parse(R"({
    "ph": "X", "cat": "cuda_profiler_range", "name": "step 12", "pid": 3, "tid": 0,
    "ts": 2000.5, "dur": 3250.25,
    "args": {"smsp__sass_thread_inst_executed_op_ffma_pred_on.sum": 123456789.0,
             "dram__bytes_write.sum": 0.5}})");
  EXPECT_EQ(counter_range_event(c, kBase), expected);  // NaN (no value) is left out

  // In a file: the device row gets a name even when it has no other events.
  const auto dir = temp_dir();
  const auto path = (dir / "counters.json").string();
  TraceWriter w;
  w.open(path, kBase, 4242);
  w.counter_range(c);
  w.finish({{"goodput", {{"status", kStatusComplete}}}}, "train");
  const auto doc = read_json_file(path);
  std::set<std::string> names;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "M" && e["pid"] == 3) names.insert(e["args"]["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"GPU 3", "hardware counters per step"}));
}

TEST(TraceFiles, MetadataIsReadFromTheTail) {
  const auto dir = temp_dir();
  const auto path = (dir / "sample.json").string();
  write_sample(path);
  const auto meta = read_trace_meta(path);
  EXPECT_EQ(meta["status"], "complete");
  EXPECT_EQ(meta["records"]["kernels"], 1);
  // A pretty-printed file of the same content is read whole.
  const auto pretty = (dir / "pretty.json").string();
  write_json_atomic(pretty, read_json_file(path));
  EXPECT_EQ(read_trace_meta(pretty)["status"], "complete");
  // Files without the object are rejected by name.
  const auto other = (dir / "other.json").string();
  write_json_atomic(other, {{"traceEvents", nlohmann::json::array()}});
  EXPECT_THROW(read_trace_meta(other), InputError);
  EXPECT_THROW(read_trace_meta((dir / "missing.json").string()), InputError);
}

TEST(TraceFiles, FindsThePerProcessFilesOfOneRun) {
  const auto dir = temp_dir();
  for (const char* n : {"step.json", "step.rank0.json", "step.rank12.json", "step.pid77.json",
                        "step.rank1.pid88.json", "step.rank1.json.partial.5", "stepx.rank1.json",
                        "other.json", "step.pid7.rank1.json"})
    std::ofstream(dir / n) << "{}";
  const auto files =
      find_trace_files((dir / "step.json").string(),
                       {"r1", fs::file_time_type::clock::now() - std::chrono::hours(1)});
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(fs::path(f).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"step.json", "step.pid77.json", "step.rank0.json",
                                             "step.rank1.pid88.json", "step.rank12.json"}));
  EXPECT_TRUE(find_trace_files((dir / "step.json").string(),
                               {"r1", fs::file_time_type::clock::now() + std::chrono::hours(1)})
                  .empty());
}

// A run counts the files carrying its id, whenever they were written, and never those of another
// run, however recent; a file without an id counts only when written after the run started.
TEST(TraceFiles, OnlyTheRunsOwnFilesCount) {
  const auto dir = temp_dir();
  const auto start = file_time_now();
  auto put = [&](const char* name, const std::string& first_line, auto mtime) {
    std::ofstream(dir / name) << first_line << "{}\n]}\n";
    fs::last_write_time(dir / name, mtime);
  };
  const auto before = start - std::chrono::milliseconds(300);
  const auto after = start + std::chrono::milliseconds(300);
  put("t.json", trace_header("run-b"), after);            // an earlier run's, written just now
  put("t.rank0.json", trace_header("run-a"), before);     // this run's, however old its time
  put("t.rank1.json", kTraceHeader, before);              // no id, before the start
  put("t.rank2.json", kTraceHeader, after);               // no id, after it
  put("t.json.partial.7", trace_header("run-b"), after);  // another run's partial
  put("t.json.partial.8", trace_header("run-a"), after);
  put("t.json.partial.9", "", before);  // empty: no id, too old
  const ThisRun run{"run-a", start};
  std::vector<std::string> names;
  for (const auto& f : find_trace_files((dir / "t.json").string(), run))
    names.push_back(fs::path(f).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"t.rank0.json", "t.rank2.json"}));
  const auto partials = find_partial_traces((dir / "t.json").string(), run);
  ASSERT_EQ(partials.size(), 1u);
  EXPECT_EQ(partials[0].pid, 8);
  EXPECT_EQ(trace_run_id((dir / "t.json").string()), "run-b");
  EXPECT_EQ(trace_run_id((dir / "t.rank1.json").string()), std::nullopt);
  EXPECT_EQ(trace_run_id((dir / "missing.json").string()), std::nullopt);
}

// The first line carries the run id; a reader tells a complete line, one cut by a death, and text
// that is no trace.
TEST(TraceWriter, FirstLineCarriesTheRunId) {
  using State = TraceHeader::State;
  const std::string line = trace_header("ab-1_2");
  EXPECT_EQ(line, "{\"goodputRun\": \"ab-1_2\", \"traceEvents\": [\n");
  EXPECT_EQ(trace_header(""), kTraceHeader);
  auto h = parse_trace_header(line + "{\"ph\":\"X\"}");
  EXPECT_EQ(h.state, State::kComplete);
  EXPECT_EQ(h.length, line.size());
  EXPECT_EQ(h.run_id, "ab-1_2");
  h = parse_trace_header(kTraceHeader);
  EXPECT_EQ(h.state, State::kComplete);
  EXPECT_EQ(h.run_id, "");
  for (std::size_t n = 0; n < line.size(); ++n)
    EXPECT_EQ(parse_trace_header(line.substr(0, n)).state, State::kCut) << line.substr(0, n);
  for (const char* text : {"[1, 2]", "{\"goodputRun\": \"a b\", ", "{\"goodputRun\": \"\", ",
                           "{\"goodputRun\": \"ab\", \"other\": 1}", "{\"displayTimeUnit\""})
    EXPECT_EQ(parse_trace_header(text).state, State::kNone) << text;

  const auto dir = temp_dir();
  const auto path = (dir / "t.json").string();
  TraceWriter w;
  w.open(path, kBase, 1, "ab-1_2");
  // On disk from the start: a process killed at once still leaves a partial of its run.
  EXPECT_EQ(trace_run_id(path + ".partial." + std::to_string(getpid())), "ab-1_2");
  w.finish({{"goodput", {{"status", "complete"}}}}, "p");
  EXPECT_EQ(read_json_file(path)["goodputRun"], "ab-1_2");
  EXPECT_EQ(trace_run_id(path), "ab-1_2");
}

// A second process of one run bound for the same name (a helper that inherited RANK) keeps the
// first one's trace and writes its own beside it; a trace of another run is replaced.
TEST(TraceWriter, SameNameInOneRunGoesToASibling) {
  const auto dir = temp_dir();
  const auto path = (dir / "t.rank1.json").string();
  auto finish = [&](const std::string& run) {
    TraceWriter w;
    w.open(path, kBase, 1, run);
    w.finish({{"goodput", {{"status", "complete"}}}}, "p");
    return std::make_pair(w.path(), w.displaced());
  };
  std::ofstream(path) << trace_header("old") << "{}\n]}\n";
  auto [first, displaced] = finish("run-a");
  EXPECT_EQ(first, path);
  EXPECT_EQ(displaced, "");
  const auto sibling = (dir / ("t.rank1.pid" + std::to_string(getpid()) + ".json")).string();
  auto [second, displaced2] = finish("run-a");
  EXPECT_EQ(second, sibling);
  EXPECT_EQ(displaced2, path);
  EXPECT_EQ(read_json_file(sibling)["traceName"], sibling);
  EXPECT_EQ(trace_run_id(path), "run-a");
  EXPECT_EQ(sibling_trace_path("a/t.json", 5), "a/t.pid5.json");
  EXPECT_EQ(sibling_trace_path("a/t", 5), "a/t.pid5");
}

TEST(TraceMeta, ArgvCredentialsAreRedacted) {
  const auto out = redact_argv({"python", "train.py", "--hf-token", "hf_abcdefghijklmnopqrstuvwxyz",
                                "--api_key=sk-abcdefghijklmnopqrstu", "--lr", "3e-4",
                                "ghp_abcdefghijklmnopqrstuvwxyz0123456789"});
  EXPECT_EQ(out, (std::vector<std::string>{"python", "train.py", "--hf-token", "<redacted>",
                                           "--api_key=<redacted>", "--lr", "3e-4", "<redacted>"}));
}

TEST(TraceMeta, EmptyTraceSaysWhy) {
  RankInfo r;
  r.rank = 1;
  const auto doc = empty_trace(kStatusNoCuda, "never used CUDA", r, {"/bin/true"});
  EXPECT_TRUE(doc["traceEvents"].empty());
  EXPECT_EQ(doc["goodput"]["status"], "no_cuda_activity");
  EXPECT_EQ(doc["goodput"]["status_reason"], "never used CUDA");
  EXPECT_EQ(doc["goodput"]["rank"]["rank"], 1);
  EXPECT_EQ(doc["goodput"]["schema"], "goodput.trace");
  // only allow-listed variables are recorded
  for (const auto& [k, v] : doc["goodput"]["environment"].items())
    EXPECT_TRUE(k.rfind("GOODPUT_", 0) == 0 || k.rfind("CUDA", 0) == 0 || k.rfind("NCCL", 0) == 0 ||
                k.find("RANK") != std::string::npos || k.find("SIZE") != std::string::npos ||
                k.rfind("OMP", 0) == 0 || k.rfind("SLURM", 0) == 0 || k.rfind("CUBLAS", 0) == 0 ||
                k.rfind("CUDNN", 0) == 0 || k.rfind("NVTE", 0) == 0 || k.rfind("PYTORCH", 0) == 0 ||
                k.rfind("TORCH", 0) == 0 || k.rfind("NVIDIA", 0) == 0)
        << k;
}
