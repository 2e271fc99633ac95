// Salvaging the partial trace a dead process left: partials written by the real TraceWriter and
// then cut the ways a death cuts them (inside a string, inside an escape, after a complete line,
// before any event), a large one copied in chunks, and the file naming of partials.
#include "profiler/trace_format/salvage.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/core/error.hpp"
#include "harness/core/results.hpp"
#include "profiler/trace_format/trace_files.hpp"
#include "profiler/trace_format/trace_meta.hpp"
#include "profiler/trace_format/trace_writer.hpp"
#include "tests/tracer/test_util.hpp"

using namespace goodput;
using namespace goodput::trace;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kBase = 1'700'000'000'000'000'000ull;

fs::path temp_dir() {
  return goodput::test::temp_dir("goodput_salvage");
}

// A kernel whose name holds quotes, backslashes and non-ASCII text: escapes in the JSON line.
KernelEvent kernel(std::uint32_t i) {
  KernelEvent k;
  k.name = "void gemm<\"tile\\" + std::to_string(i) + "\">(float) \u00e9";
  k.start_ns = kBase + i * 1000;
  k.end_ns = k.start_ns + 500;
  k.stream = 7;
  k.correlation = i + 1;
  return k;
}

// What a process that dies leaves: the writer's events without its trailer. The destructor
// closes the file as the C library does at a crash's end: what was written stays.
PartialTrace write_partial(const fs::path& final_path, std::uint32_t kernels) {
  {
    TraceWriter w;
    w.open(final_path.string(), kBase, 4242);
    for (std::uint32_t i = 0; i < kernels; ++i) w.kernel(kernel(i));  // kernel + flow event
  }
  PartialTrace p;
  p.final_path = final_path.string();
  p.path = p.final_path + ".partial." + std::to_string(getpid());
  p.pid = getpid();
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::app) << text;
}

// The next record as the writer would have written it, cut after `keep` bytes.
std::string cut_record(std::uint32_t i, std::size_t keep) {
  const std::string line = ",\n" + kernel_event(kernel(i), kBase).dump();
  return line.substr(0, keep);
}

SalvageResult salvage(const PartialTrace& p, std::size_t chunk = kSalvageChunkBytes) {
  SalvageContext c;
  c.cause = "the program was killed by signal 11 (Segmentation fault)";
  c.argv = {"python", "train.py", "--token=hf_abcdefghijklmnopqrstuvwxyz"};
  c.ppid = 1234;
  c.chunk_bytes = chunk;
  return salvage_partial(p, c);
}

// The salvaged file is one JSON document with the kept events and an "incomplete" trailer.
nlohmann::json check_salvaged(const PartialTrace& p, const SalvageResult& r) {
  EXPECT_EQ(r.path, p.final_path);
  EXPECT_FALSE(fs::exists(p.path)) << "the partial is consumed";
  const auto doc = read_json_file(p.final_path);
  EXPECT_EQ(doc["traceEvents"].size(), r.events_kept);
  const auto& meta = doc["goodput"];
  EXPECT_EQ(meta["schema"], kTraceSchema);
  EXPECT_EQ(meta["schema_version"], kTraceSchemaVersion);
  EXPECT_TRUE(meta.contains("tool_version"));
  EXPECT_EQ(meta["status"], "incomplete");
  EXPECT_EQ(meta["status_reason"], r.status_reason);
  EXPECT_EQ(meta["salvaged_from"], p.path);
  EXPECT_EQ(meta["salvage"]["events_kept"], r.events_kept);
  EXPECT_EQ(meta["salvage"]["lines_dropped"], r.lines_dropped);
  EXPECT_EQ(meta["process"]["pid"], p.pid);
  EXPECT_EQ(meta["process"]["ppid"], 1234);
  EXPECT_EQ(meta["process"]["argv"][2], "--token=<redacted>");
  EXPECT_EQ(doc["traceName"], p.final_path);
  EXPECT_EQ(doc["schemaVersion"], 1);
  // The metadata sits on its own line, where `goodput profile` reads it from the tail.
  EXPECT_EQ(read_trace_meta(p.final_path), meta);
  return doc;
}

}  // namespace

TEST(Salvage, RecordCutInsideAStringIsDropped) {
  const auto dir = temp_dir();
  const auto p = write_partial(dir / "t.json", 3);  // 6 events: kernel + flow each
  const std::string next = cut_record(3, std::string(",\n{\"args\":").size() + 40);
  append(p.path, next);
  const auto r = salvage(p);
  EXPECT_EQ(r.events_kept, 6u);
  EXPECT_EQ(r.lines_dropped, 1u);
  EXPECT_EQ(r.bytes_dropped, next.size());
  EXPECT_EQ(r.status_reason,
            "the program was killed by signal 11 (Segmentation fault) before the tracer finished "
            "its trace; 6 complete events were kept, the last cut record dropped");
  const auto doc = check_salvaged(p, r);
  EXPECT_EQ(doc["traceEvents"][4]["name"], kernel(2).name);
  EXPECT_EQ(doc["traceEvents"][5]["ph"], "f");
}

TEST(Salvage, CutRightAfterACompleteLineKeepsEverything) {
  const auto dir = temp_dir();
  // The last record complete, then nothing; then its separator; then separator and newline.
  for (const std::string tail : {"", ",", ",\n"}) {
    const auto p = write_partial(dir / "t.json", 2);
    append(p.path, tail);
    const auto r = salvage(p);
    EXPECT_EQ(r.events_kept, 4u) << '"' << tail << '"';
    EXPECT_EQ(r.lines_dropped, 0u);
    EXPECT_EQ(r.bytes_dropped, tail.size());
    EXPECT_NE(r.status_reason.find("4 complete events were kept, no record was cut"),
              std::string::npos)
        << r.status_reason;
    check_salvaged(p, r);
  }
}

TEST(Salvage, CutInsideEscapeSequences) {
  const auto dir = temp_dir();
  const std::string whole = cut_record(5, std::string::npos);
  // Every place inside the name's escapes: after a backslash, inside "\u00..", before the
  // closing quote of an escaped quote; and every other byte of the record as well.
  std::vector<std::size_t> cuts;
  for (std::size_t i = 3; i < whole.size(); ++i)
    if (whole[i - 1] == '\\' || whole[i] == '\\' || whole[i - 1] == '"') cuts.push_back(i);
  ASSERT_GT(cuts.size(), 4u);
  for (std::size_t keep = 3; keep < whole.size(); keep += 7) cuts.push_back(keep);
  for (const std::size_t keep : cuts) {
    const auto p = write_partial(dir / "t.json", 1);
    append(p.path, whole.substr(0, keep));
    const auto r = salvage(p);
    ASSERT_EQ(r.events_kept, 2u) << whole.substr(0, keep);
    ASSERT_EQ(r.lines_dropped, 1u) << whole.substr(0, keep);
    check_salvaged(p, r);
  }
}

TEST(Salvage, HeaderOnlyAndEmptyPartials) {
  const auto dir = temp_dir();
  const auto p = write_partial(dir / "t.json", 0);  // the header line only
  ASSERT_EQ(read_file(p.path), kTraceHeader);
  auto r = salvage(p);
  EXPECT_EQ(r.events_kept, 0u);
  EXPECT_EQ(r.lines_dropped, 0u);
  EXPECT_NE(r.status_reason.find("0 complete events were kept, no record was cut"),
            std::string::npos);
  check_salvaged(p, r);

  // Nothing flushed (stdio still held the header), or the header itself cut.
  for (const std::string text : {"", "{\"traceEv"}) {
    std::ofstream(p.path) << text;
    r = salvage(p);
    EXPECT_EQ(r.events_kept, 0u);
    EXPECT_EQ(r.header_cut, !text.empty());
    EXPECT_NE(r.status_reason.find(text.empty() ? "the partial trace was empty"
                                                : "the file ended inside its first line"),
              std::string::npos)
        << r.status_reason;
    check_salvaged(p, r);
  }
}

// The writer died inside finish(): its metadata events are kept, its half trailer is not.
TEST(Salvage, UnfinishedTrailerIsDropped) {
  const auto dir = temp_dir();
  const auto p = write_partial(dir / "t.json", 2);
  append(p.path, "\n],\n\"deviceProperties\": [{\"id\": 0, \"na");
  const auto r = salvage(p);
  EXPECT_EQ(r.events_kept, 4u);
  EXPECT_TRUE(r.trailer_dropped);
  EXPECT_NE(r.status_reason.find("the unfinished trailer dropped"), std::string::npos);
  check_salvaged(p, r);
}

// A last complete record longer than the first tail window: the window grows until it holds it.
TEST(Salvage, LongLastRecord) {
  const auto dir = temp_dir();
  auto p = write_partial(dir / "t.json", 1);
  KernelEvent k = kernel(9);
  k.name.assign(300'000, 'x');
  append(p.path, ",\n" + kernel_event(k, kBase).dump() + cut_record(10, 30));
  const auto r = salvage(p);
  EXPECT_EQ(r.events_kept, 3u);
  const auto doc = check_salvaged(p, r);
  EXPECT_EQ(doc["traceEvents"][2]["name"].get<std::string>().size(), 300'000u);
}

TEST(Salvage, NotAPartialTraceIsLeftAlone) {
  const auto dir = temp_dir();
  PartialTrace p;
  p.final_path = (dir / "t.json").string();
  p.path = p.final_path + ".partial.1";
  p.pid = 1;
  std::ofstream(p.path) << "[1, 2, 3]\n";
  EXPECT_THROW(salvage(p), InputError);
  EXPECT_EQ(read_file(p.path), "[1, 2, 3]\n");
  EXPECT_FALSE(fs::exists(p.final_path));
  EXPECT_FALSE(fs::exists(p.final_path + ".salvage." + std::to_string(getpid())));
}

// Several MB copied in 64 KiB chunks: the largest buffer stays a chunk or a tail window, whatever
// the file's size.
TEST(Salvage, LargePartialStreamsInChunks) {
  const auto dir = temp_dir();
  const auto p = write_partial(dir / "t.json", 20'000);  // 40 000 events
  append(p.path, cut_record(20'000, 100));
  const auto size = fs::file_size(p.path);
  ASSERT_GT(size, 6u << 20);
  constexpr std::size_t kChunk = 64u << 10;
  const auto r = salvage(p, kChunk);
  EXPECT_EQ(r.events_kept, 40'000u);
  EXPECT_EQ(r.partial_bytes, size);
  EXPECT_GE(r.chunks_copied, size / kChunk);
  EXPECT_LE(r.max_buffer_bytes, 2 * kChunk);
  const auto doc = check_salvaged(p, r);
  EXPECT_EQ(doc["traceEvents"][39'998]["name"], kernel(19'999).name);
}

// The partial's time base is the whole second of the writer's start, which is when it created
// the file.
TEST(Salvage, BaseTimeFromTheFilesBirth) {
  const auto dir = temp_dir();
  const auto before = std::chrono::system_clock::now();
  const auto p = write_partial(dir / "t.json", 1);
  const auto r = salvage(p);
  const auto doc = check_salvaged(p, r);
  const auto source = doc["goodput"]["salvage"]["base_time"].get<std::string>();
  if (source == "unknown") GTEST_SKIP() << "no file times on this file system";
  const auto base = doc["baseTimeNanoseconds"].get<std::uint64_t>();
  const auto t0 = std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch());
  EXPECT_EQ(base % 1'000'000'000u, 0u);
  EXPECT_GE(base / 1'000'000'000u + 1, static_cast<std::uint64_t>(t0.count()));
  EXPECT_LE(base / 1'000'000'000u, static_cast<std::uint64_t>(t0.count()) + 5);
}

TEST(Salvage, RankFromTheFileName) {
  const auto dir = temp_dir();
  auto p = write_partial(dir / "t.rank3.json", 1);
  p.rank = 3;
  const auto doc = check_salvaged(p, salvage(p));
  EXPECT_EQ(doc["distributedInfo"]["rank"], 3);
  EXPECT_EQ(doc["goodput"]["rank"]["rank"], 3);
}

TEST(Salvage, FindsThePartialsOfOneRun) {
  const auto dir = temp_dir();
  for (const char* n :
       {"step.json.partial.41", "step.rank2.json.partial.42", "step.pid77.json.partial.77",
        "step.rank2.json", "stepx.json.partial.5", "step.json.partial.x", "other.json.partial.9",
        "step.json.partial.43.salvage.1"})
    std::ofstream(dir / n) << "{}";
  const auto partials =
      find_partial_traces((dir / "step.json").string(),
                          {"r1", fs::file_time_type::clock::now() - std::chrono::hours(1)});
  ASSERT_EQ(partials.size(), 3u);
  EXPECT_EQ(fs::path(partials[0].path).filename(), "step.json.partial.41");
  EXPECT_EQ(partials[0].final_path, (dir / "step.json").string());
  EXPECT_EQ(partials[0].pid, 41);
  EXPECT_FALSE(partials[0].rank);
  EXPECT_EQ(fs::path(partials[1].final_path).filename(), "step.pid77.json");
  EXPECT_EQ(partials[1].pid, 77);
  EXPECT_FALSE(partials[1].rank);
  EXPECT_EQ(fs::path(partials[2].final_path).filename(), "step.rank2.json");
  EXPECT_EQ(partials[2].pid, 42);
  EXPECT_EQ(partials[2].rank, 2);
  // Older files belong to an earlier run.
  EXPECT_TRUE(find_partial_traces((dir / "step.json").string(),
                                  {"r1", fs::file_time_type::clock::now() + std::chrono::hours(1)})
                  .empty());
}

// A partial of a run keeps its first line, so the salvaged trace still names the run; a first
// line cut inside the run id gets a whole one back.
TEST(Salvage, RunIdIsKept) {
  const auto dir = temp_dir();
  PartialTrace p;
  p.final_path = (dir / "t.json").string();
  p.path = p.final_path + ".partial." + std::to_string(getpid());
  p.pid = getpid();
  {
    TraceWriter w;
    w.open(p.final_path, kBase, 4242, "run-7");
    w.kernel(kernel(0));
  }
  SalvageContext c;
  c.cause = "the program was killed by signal 9 (Killed)";
  c.run_id = "run-7";
  auto r = salvage_partial(p, c);
  EXPECT_EQ(r.events_kept, 2u);
  auto doc = read_json_file(p.final_path);
  EXPECT_EQ(doc["goodputRun"], "run-7");
  EXPECT_EQ(doc["goodput"]["run_id"], "run-7");
  EXPECT_EQ(doc["traceEvents"].size(), 2u);
  std::ofstream(p.path) << trace_header("run-7").substr(0, 20);
  r = salvage_partial(p, c);
  EXPECT_TRUE(r.header_cut);
  EXPECT_EQ(trace_run_id(p.final_path), "run-7");
  EXPECT_TRUE(read_json_file(p.final_path)["traceEvents"].empty());
}

TEST(Salvage, ProcessRunning) {
  EXPECT_TRUE(process_running(getpid()));
  EXPECT_FALSE(process_running(0));
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  // Exited but not yet reaped: a zombie writes nothing more.
  for (int i = 0; i < 200 && process_running(child); ++i) usleep(10'000);
  EXPECT_FALSE(process_running(child));
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_FALSE(process_running(child));
}
