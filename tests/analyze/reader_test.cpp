// Streaming Kineto reader: both schemas, exact times, and clear errors on bad input.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>

#include "harness/core/error.hpp"
#include "harness/core/signals.hpp"
#include "profiler/trace/byte_source.hpp"
#include "profiler/trace/json_stream.hpp"
#include "profiler/trace/reader.hpp"
#include "tests/analyze/test_util.hpp"

namespace goodput::traceio {
namespace {

using goodput::testing::write_temp;

TEST(MicrosText, ExactNanoseconds) {
  EXPECT_EQ(micros_text_to_ns("4458676522690.655"), 4458676522690655);
  EXPECT_EQ(micros_text_to_ns("1712195495505772.8"), 1712195495505772800);
  EXPECT_EQ(micros_text_to_ns("12"), 12000);
  EXPECT_EQ(micros_text_to_ns("-3.5"), -3500);
  EXPECT_EQ(micros_text_to_ns("1.0004"), 1000);
  EXPECT_EQ(micros_text_to_ns("1.0005"), 1001);
  EXPECT_EQ(micros_text_to_ns("1.5e3"), 1500000);
  EXPECT_THROW(micros_text_to_ns("abc"), std::invalid_argument);
  // Past what int64 nanoseconds hold: an error, never a wrapped or unspecified number.
  EXPECT_THROW(micros_text_to_ns("1e300"), std::invalid_argument);
  EXPECT_THROW(micros_text_to_ns("-1e17"), std::invalid_argument);
  EXPECT_THROW(micros_text_to_ns("99999999999999999999"), std::invalid_argument);
  // 18 digits are read; 19 are refused before they could overflow.
  EXPECT_EQ(micros_text_to_ns("000000000000000012.5"), 12500);
  EXPECT_THROW(micros_text_to_ns("0000000000000000012"), std::invalid_argument);
  EXPECT_EQ(micros_text_to_ns("9223372036854774"), 9223372036854774000);
  EXPECT_THROW(micros_text_to_ns("9223372036854775"), std::invalid_argument);
  EXPECT_THROW(micros_text_to_ns("1."), std::invalid_argument);
  EXPECT_THROW(micros_text_to_ns("-"), std::invalid_argument);
  EXPECT_THROW(micros_text_to_ns("12x"), std::invalid_argument);
}

TEST(JsonStreamViews, EveryLengthAndDistanceFromTheEnd) {
  // Strings and numbers of every length up to 40, each followed by 0 to 40 more bytes of text:
  // the inline 16- and 32-byte paths and the general one must read the same values.
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t tail = 0; tail <= 40; ++tail) {
      SCOPED_TRACE("length " + std::to_string(len) + ", tail " + std::to_string(tail));
      std::string word;
      for (std::size_t i = 0; i < len; ++i) word += static_cast<char>('a' + i % 26);
      std::string digits = "-";
      for (std::size_t i = 0; i < len; ++i) digits += static_cast<char>('1' + i % 9);
      if (len > 3) digits[len / 2] = '.';
      const std::string pad(tail, ' ');
      const std::string text = "[\"" + word + "\", \"a\\\"" + word + "\", " + digits + "]" + pad;
      JsonStream js("mem", text, 0);
      std::string scratch;
      js.expect('[');
      EXPECT_EQ(js.read_string_view(scratch), word);
      js.expect(',');
      EXPECT_EQ(js.read_string_view(scratch), "a\"" + word);  // an escape: the general path
      js.expect(',');
      EXPECT_EQ(js.read_number_view(scratch), digits);
      js.expect(']');
      EXPECT_TRUE(js.at_end());
    }
  }
}

const char* kNewSchema = R"J({
  "schemaVersion": 1,
  "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3", "numSms": 132,
                        "computeMajor": 9, "computeMinor": 0, "totalGlobalMem": 85018279936}],
  "distributedInfo": {"backend": "nccl", "rank": 3, "world_size": 8, "nccl_version": "2.21.5"},
  "displayTimeUnit": "ms", "baseTimeNanoseconds": 1700000000000000000,
  "traceEvents": [
    {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#7", "pid": 1, "tid": 1,
     "ts": 100.5, "dur": 900.25, "args": {"External id": 1}},
    {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1, "ts": 110, "dur": 20,
     "args": {"External id": 2, "Input Dims": [[64, 128], [128, 256]],
              "Input type": ["c10::BFloat16", "c10::BFloat16"], "flops": 4194304}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1,
     "ts": 115.125, "dur": 5, "args": {"External id": 2, "correlation": 42}},
    {"ph": "s", "id": 42, "pid": 1, "tid": 1, "ts": 115.125, "cat": "ac2g", "name": "ac2g"},
    {"ph": "X", "cat": "kernel", "name": "sm90_xmma_gemm_bf16bf16", "pid": 0, "tid": 7,
     "ts": 130.001, "dur": 10.5, "args": {"External id": 2, "device": 0, "stream": 7,
     "correlation": 42, "grid": [4, 2, 1], "block": [128, 1, 1]}},
    {"ph": "f", "id": 42, "pid": 0, "tid": 7, "ts": 130.001, "cat": "ac2g", "name": "ac2g", "bp": "e"},
    {"ph": "X", "cat": "kernel", "name": "ncclDevKernel_AllReduce_Sum_bf16_RING_LL(x)",
     "pid": 0, "tid": 20, "ts": 150, "dur": 30, "args": {"device": 0, "stream": 20,
     "correlation": 43, "Collective name": "allreduce", "In msg nelems": 1024,
     "Out msg nelems": 1024, "Group size": 8, "dtype": "BFloat16",
     "Process Group Ranks": "[0, 1, 2, 3, 4, 5, 6, 7]"}},
    {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pageable -> Device)", "pid": 0,
     "tid": 7, "ts": 190, "dur": 2, "args": {"stream": 7, "correlation": 44, "bytes": 4096}},
    {"ph": "X", "cat": "gpu_user_annotation", "name": "## forward ##", "pid": 0, "tid": 7,
     "ts": 130, "dur": 50, "args": {}},
    {"ph": "X", "cat": "python_function", "name": "train.py(10): step", "pid": 1, "tid": 1,
     "ts": 100, "dur": 1000, "args": {"Python id": 3, "escaped": "a\"b\\c\u00e9"}},
    {"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "python"}}
  ]
})J";

TEST(KinetoReader, NewSchema) {
  for (bool gz : {false, true}) {
    const auto t = read_trace(write_temp(kNewSchema, gz));
    EXPECT_EQ(t.format, "kineto");
    ASSERT_EQ(t.devices.size(), 1u);
    EXPECT_EQ(t.devices[0].name, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ(t.devices[0].sms, 132);
    EXPECT_EQ(t.dist.rank, 3);
    EXPECT_EQ(t.dist.world_size, 8);
    EXPECT_EQ(t.dist.nccl_version, "2.21.5");
    EXPECT_EQ(t.display_time_unit, "ms");
    EXPECT_EQ(*t.base_time_ns, 1700000000000000000);
    ASSERT_EQ(t.gpu.size(), 3u);
    const auto& k = t.gpu[0];
    EXPECT_EQ(t.names[k.name], "sm90_xmma_gemm_bf16bf16");
    EXPECT_EQ(k.ts, 130001);
    EXPECT_EQ(k.dur, 10500);
    EXPECT_EQ(k.correlation, 42);
    EXPECT_EQ(k.external_id, 2);
    EXPECT_EQ(k.stream, 7);
    EXPECT_EQ(k.grid[0], 4);
    EXPECT_EQ(k.block[0], 128);
    const NcclArgs* nccl = t.nccl_of(t.gpu[1]);
    ASSERT_NE(nccl, nullptr);
    EXPECT_EQ(nccl->collective, "allreduce");
    EXPECT_EQ(nccl->in_nelems, 1024);
    EXPECT_EQ(nccl->group_size, 8);
    EXPECT_EQ(nccl->dtype, "BFloat16");
    EXPECT_EQ(t.gpu[2].kind, GpuKind::kMemcpy);
    EXPECT_EQ(t.gpu[2].bytes, 4096);
    ASSERT_EQ(t.ops.size(), 2u);
    EXPECT_TRUE(t.ops[0].annotation);
    EXPECT_EQ(t.ops[0].ts, 100500);
    EXPECT_EQ(t.ops[0].dur, 900250);
    const OpShapes& shapes = t.shapes_of(t.ops[1]);
    ASSERT_EQ(shapes.input_dims.size(), 2u);
    EXPECT_EQ(shapes.input_dims[1], (std::vector<std::int64_t>{128, 256}));
    EXPECT_EQ(shapes.input_types[0], "c10::BFloat16");
    EXPECT_DOUBLE_EQ(*t.ops[1].flops, 4194304.0);
    ASSERT_EQ(t.runtime.size(), 1u);
    EXPECT_EQ(t.runtime[0].correlation, 42);
    EXPECT_EQ(t.runtime[0].ts, 115125);
    EXPECT_EQ(t.gpu_annotations.size(), 1u);
    EXPECT_EQ(t.flow_events, 2);
    EXPECT_GE(t.skipped_events, 2);
  }
}

TEST(KinetoReader, Format2021) {
  const char* text = R"J({"schemaVersion": 1, "traceEvents": [
    {"ph": "X", "cat": "Operator", "name": "ProfilerStep#5", "pid": 9, "tid": "1890023232",
     "ts": 1000, "dur": 500, "args": {"Input dims": [], "External id": 1}},
    {"ph": "X", "cat": "Operator", "name": "aten::addmm", "pid": 9, "tid": "1890023232",
     "ts": 1010, "dur": 50, "args": {"Input dims": [[256], [32, 512], [512, 256], [], []],
     "Input type": ["float", "float", "float", "Scalar", "Scalar"], "External id": 2}},
    {"ph": "X", "cat": "Runtime", "name": "cudaLaunchKernel", "pid": 9, "tid": "1890023232",
     "ts": 1020, "dur": 5, "args": {"cbid": 211, "correlation": 77, "external id": 2}},
    {"ph": "X", "cat": "Kernel", "name": "volta_sgemm_128x32_nt", "pid": 0, "tid": "stream 7",
     "ts": 1030, "dur": 40, "args": {"device": 0, "stream": 7, "correlation": 77,
     "external id": 2}},
    {"ph": "X", "cat": "Memset", "name": "Memset (Device)", "pid": 0, "tid": "stream 7",
     "ts": 1080, "dur": 1, "args": {"stream": 7, "correlation": 78}},
    {"ph": "s", "id": 77, "pid": 9, "tid": 1890023232, "ts": 1020, "cat": "async", "name": "launch"}
  ]})J";
  const auto t = read_trace(write_temp(text));
  ASSERT_EQ(t.ops.size(), 2u);
  EXPECT_TRUE(t.ops[0].annotation);  // ProfilerStep in the Operator category
  EXPECT_FALSE(t.ops[1].annotation);
  EXPECT_EQ(t.ops[1].tid, 1890023232);
  EXPECT_EQ(t.shapes_of(t.ops[1]).input_dims[1], (std::vector<std::int64_t>{32, 512}));
  ASSERT_EQ(t.gpu.size(), 2u);
  EXPECT_EQ(t.gpu[0].external_id, 2);
  EXPECT_EQ(t.gpu[1].kind, GpuKind::kMemset);
  EXPECT_EQ(t.runtime[0].external_id, 2);
  EXPECT_EQ(t.flow_events, 1);
}

TEST(KinetoReader, BareArrayForm) {
  const auto t = read_trace(
      write_temp(R"J([{"ph":"X","cat":"kernel","name":"k","ts":1,"dur":2,"args":{"stream":7}}])J"));
  EXPECT_EQ(t.gpu.size(), 1u);
}

std::string error_of(const std::string& text, bool gz = false) {
  try {
    read_trace(write_temp(text, gz));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(KinetoReader, ChunkBoundariesFallEverywhere) {
  // ~5 MB of events whose padding shifts every key, string, escape and number across the
  // reader's chunk boundaries (2 MiB): each value must come back exactly, plain and gzip.
  std::string text = "{\"traceEvents\": [\n";
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    const std::string pad(static_cast<std::size_t>(i % 97), 'x');
    text +=
        std::string(i ? ",\n" : "") + "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\\\"" +
        std::to_string(i % 7) + "\", \"pad\": \"" + pad + "\", \"ts\": " + std::to_string(i) +
        ".125, \"dur\": 1.5, \"args\": {\"correlation\": " + std::to_string(i) +
        ", \"stream\": 7}},\n{\"ph\": \"X\", \"cat\": \"cuda_profiler_range\", \"name\": \"r\", " +
        "\"ts\": 0, \"dur\": 1, \"args\": {\"" + pad + "smsp__x.sum\": " + std::to_string(i) + "}}";
  }
  text += "]}";
  ASSERT_GT(text.size(), 4u << 20);
  for (bool gz : {false, true}) {
    const auto t = read_trace(write_temp(text, gz));
    ASSERT_EQ(t.gpu.size(), static_cast<std::size_t>(n)) << gz;
    ASSERT_EQ(t.counter_ranges.size(), static_cast<std::size_t>(n)) << gz;
    for (int i = 0; i < n; ++i) {
      const auto& g = t.gpu[static_cast<std::size_t>(i)];
      ASSERT_EQ(g.ts, i * 1000ll + 125) << i;
      ASSERT_EQ(g.dur, 1500) << i;
      ASSERT_EQ(g.correlation, i) << i;
      ASSERT_EQ(t.names[g.name], "k\"" + std::to_string(i % 7)) << i;
      const auto& m = t.counter_ranges[static_cast<std::size_t>(i)].metrics;
      ASSERT_EQ(m.size(), 1u) << i;
      ASSERT_EQ(m[0].first, std::string(static_cast<std::size_t>(i % 97), 'x') + "smsp__x.sum")
          << i;
      ASSERT_EQ(m[0].second, i) << i;
    }
  }
}

TEST(KinetoReader, TruncatedFileNamesByteOffset) {
  const std::string full = kNewSchema;
  for (bool gz : {false, true}) {
    const std::string e = error_of(full.substr(0, 900), gz);
    EXPECT_NE(e.find("byte "), std::string::npos) << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    EXPECT_NE(e.find("goodput_analyze_test_"), std::string::npos) << e;
  }
}

TEST(KinetoReader, MalformedInputs) {
  EXPECT_NE(error_of(R"J({"traceEvents": [{"ph": "X", "ts": 1,}]})J").find("byte 37: expected"),
            std::string::npos);
  EXPECT_NE(error_of("").find("empty file"), std::string::npos);
  EXPECT_NE(error_of(R"J({"traceEvents": []} extra)J").find("trailing data"), std::string::npos);
  EXPECT_NE(error_of(R"J({"other": 1})J").find("traceEvents"), std::string::npos);
  EXPECT_NE(error_of(R"J({"traceEvents": [], "x": 1, "traceEvents": []})J")
                .find("byte 42: a second \"traceEvents\" array"),
            std::string::npos);
  const std::string neg = error_of(
      R"J({"traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":5,"dur":-1,"args":{}}]})J");
  EXPECT_NE(neg.find("negative duration"), std::string::npos) << neg;
  EXPECT_NE(neg.find("event #0"), std::string::npos) << neg;
  const std::string nots =
      error_of(R"J({"traceEvents": [{"ph":"X","cat":"kernel","name":"k","dur":1}]})J");
  EXPECT_NE(nots.find("missing \"ts\""), std::string::npos) << nots;
  EXPECT_NE(error_of(R"J({"traceEvents": [{"ph":"X","cat":"kernel","ts":"x"}]})J")
                .find("expected a number"),
            std::string::npos);
  // A field that is read must hold a JSON number, not any run of number characters.
  for (const char* v : {"8+51", "1e", "-", "1.", "1.5e+", "01.5.2", "2-", "025", "-01"}) {
    const std::string tid = error_of(
        std::string(
            R"J({"traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":1,"dur":1,"tid":)J") +
        v + "}]}");
    EXPECT_NE(tid.find(std::string("event #0: bad number ") + v), std::string::npos) << tid;
    const std::string grid = error_of(
        std::string(
            R"J({"traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":1,"dur":1,"args":{"grid":[1,)J") +
        v + "]}}]}");
    EXPECT_NE(grid.find("bad number"), std::string::npos) << grid;
    const std::string flops = error_of(
        std::string(
            R"J({"traceEvents": [{"ph":"X","cat":"cpu_op","name":"aten::mm","ts":1,"dur":1,"args":{"flops":)J") +
        v + "}}]}");
    EXPECT_NE(flops.find("bad number"), std::string::npos) << flops;
    // An op's shapes are read when first seen: still strictly, naming the event.
    const std::string dims = error_of(
        std::string(
            R"J({"traceEvents": [{"ph":"X","cat":"cpu_op","name":"a","ts":1,"dur":1,"args":{"Input Dims":[[2]]}},
               {"ph":"X","cat":"cpu_op","name":"aten::mm","ts":1,"dur":1,"args":{"Input Dims":[[4,)J") +
        v + "]]}}]}");
    EXPECT_NE(dims.find(std::string("event #1: bad number ") + v), std::string::npos) << dims;
  }
  const std::string huge =
      error_of(R"J({"traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":1e300,"dur":1}]})J");
  EXPECT_NE(huge.find("bad \"ts\" 1e300"), std::string::npos) << huge;
  // An id too large for int64 (found by fuzzing: an undefined conversion before) saturates.
  const auto t = read_trace(write_temp(
      R"J({"traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":1,"dur":1,
          "args":{"correlation":1e29,"External id":-1e29,"stream":7}}]})J"));
  ASSERT_EQ(t.gpu.size(), 1u);
  EXPECT_EQ(t.gpu[0].correlation, INT64_MAX);
  EXPECT_EQ(t.gpu[0].external_id, INT64_MIN);
}

// A NUL byte reads as '\0', the parser's end-of-input value: it must be an error naming its
// byte, never the end of the events (the events after it were once dropped without a word).
TEST(KinetoReader, NulByteIsAnErrorNotTheEnd) {
  std::string text = "{\"traceEvents\": [\n";
  const int n = 20000;  // about 2 MB: cut into runs parsed in parallel
  std::size_t nul_at = 0;
  for (int i = 0; i < n; ++i) {
    if (i) text += ",\n";
    text += R"J({"ph": "X", "cat": "kernel", "name": "k", "ts": )J" + std::to_string(i) +
            R"J(, "dur": 1, "args": {"correlation": )J" + std::to_string(i) + "}}";
    if (i == n / 2) {
      nul_at = text.size() + 1;
      text += " ";
      text += '\0';
    }
  }
  text += "]}";
  for (bool gz : {false, true}) {
    const std::string e = error_of(text, gz);
    EXPECT_NE(e.find("byte " + std::to_string(nul_at) + ": expected ',' or ']', found a NUL byte"),
              std::string::npos)
        << e;
  }
  EXPECT_NE(error_of(std::string("\0{}", 3)).find("starts with a NUL byte"), std::string::npos);
  EXPECT_NE(error_of(std::string("{\"traceEvents\": []}\0", 21)).find("trailing data"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(R"J({"traceEvents": [{"ph":"X","ts":)J") + '\0' + "1}]}")
                .find("expected a number, found a NUL byte"),
            std::string::npos);
}

// Ctrl-C stops a read between runs with the interrupted exit code (130), never a silent partial
// trace. In a child process: the flag, once raised, stays raised.
TEST(KinetoReaderDeathTest, InterruptStopsTheRead) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string text = "{\"traceEvents\": [";
  for (int i = 0; i < 30000; ++i)
    text += std::string(i ? ",\n" : "") +
            R"J({"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1, "args": {}})J";
  text += "]}";
  const std::string path = write_temp(text);
  EXPECT_EXIT(
      {
        install_interrupt_handler();
        std::raise(SIGINT);
        auto stopped = [](auto&& read) {
          try {
            read();
          } catch (const Error& e) {
            return e.exit_code() == kExitInterrupted;
          }
          return false;
        };
        const bool file = stopped([&] { read_trace(path); });            // between runs of one file
        const bool files = stopped([&] { read_traces({path, path}); });  // before each file
        std::exit(file && files ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "interrupted");
}

TEST(KinetoReader, BadGzip) {
  // A gzip header followed by garbage.
  std::string bad = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-not-deflate-data";
  const std::string path = write_temp(bad, false, ".json.gz");
  try {
    read_trace(path);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("gzip"), std::string::npos) << e.what();
  }
}

TEST(JsonStreamViews, WhitespaceRunsOfEveryLength) {
  // Runs of 0 to 40 whitespace bytes (all four kinds) between tokens, then as many bytes of
  // text after: the inline 16-byte skip and the general one agree. A control character in a
  // run is not whitespace: an error at its byte.
  const std::string kinds = " \n\t\r";
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string ws;
    for (std::size_t i = 0; i < n; ++i) ws += kinds[(i * 7 + n) % kinds.size()];
    const std::string text = "[" + ws + "12" + ws + "," + ws + "\"x\"" + ws + "]" + ws;
    JsonStream js("mem", text, 0);
    std::string scratch;
    js.expect('[');
    EXPECT_EQ(js.read_number_view(scratch), "12") << n;
    js.expect(',');
    EXPECT_EQ(js.read_string_view(scratch), "x") << n;
    js.expect(']');
    EXPECT_TRUE(js.at_end()) << n;
    if (n < 2) continue;
    std::string bad = "[" + ws + "1]";
    bad[1 + n / 2] = '\x01';
    JsonStream jb("mem", bad, 0);
    jb.expect('[');
    EXPECT_THROW(jb.read_number_view(scratch), InputError) << n;
  }
}

TEST(KinetoReader, GzipCutShortIsATruncationError) {
  // Several runs of events, gzip-compressed, the file cut in the middle: the error names the
  // damaged gzip stream, whatever its last four bytes claim as the uncompressed size.
  std::string text = "{\"traceEvents\": [";
  for (int i = 0; i < 40000; ++i)
    text += std::string(i ? "," : "") + "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k" +
            std::to_string(i % 97) + "\", \"ts\": " + std::to_string(i) +
            ", \"dur\": 1, \"args\": {\"correlation\": " + std::to_string(i) + "}}";
  text += "]}";
  std::ifstream in(write_temp(text, true), std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const std::string& tail : {std::string(), std::string("\xff\xff\xff\xff", 4)}) {
    const std::string cut = gz.substr(0, gz.size() * 3 / 5) + tail;
    try {
      read_trace(write_temp(cut, false, ".json.gz"));
      FAIL() << "no error";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("gzip"), std::string::npos) << e.what();
    }
  }
}

TEST(ByteSourceSize, HintIsTheFileOrTheGzipTrailer) {
  std::string text = "[0";
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) text += "," + std::to_string(rng() % 100000);
  text += "]";
  EXPECT_EQ(ByteSource(write_temp(text)).size_hint(), text.size());
  EXPECT_EQ(ByteSource(write_temp(text, true)).size_hint(), text.size());
  // Compressed more than 64 times: not believed either (a file cut short could say anything).
  const std::string blank = "[" + std::string(1 << 20, ' ') + "]";
  EXPECT_EQ(ByteSource(write_temp(blank, true)).size_hint(), 0u);
  // A trailer that says less than the file holds is not believed.
  std::string odd = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + std::string(40, 'x');
  odd += std::string("\x01\x00\x00\x00", 4);
  EXPECT_EQ(ByteSource(write_temp(odd, false, ".json.gz")).size_hint(), 0u);
}

TEST(KinetoReader, FolderIsOneFilePerRank) {
  const std::filesystem::path dir = testing::temp_path("ranks");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (int r : {1, 0}) {
    std::ofstream(dir / ("r" + std::to_string(r) + ".json"))
        << R"J({"distributedInfo": {"rank": )J" << r
        << R"J(}, "traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":1,"dur":1,"args":{}}]})J";
  }
  const auto ts = read_traces({dir.string()});
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].rank(), 0);
  EXPECT_EQ(ts[1].rank(), 1);
  EXPECT_THROW(read_traces({dir.string(), (dir / "r0.json").string()}), InputError);
  EXPECT_THROW(read_traces({(dir / "missing.json").string()}), InputError);
}

TEST(KinetoReader, FilesWithoutRankTakeRanksNoFileClaims) {
  auto trace = [](const std::string& dist) {
    return write_temp("{" + dist +
                      R"J("traceEvents": [{"ph":"X","cat":"kernel","name":"k","ts":1,"dur":1,)J"
                      R"J("args":{}}]})J");
  };
  // Rank 1 first, then a file without a rank: that file is rank 0, not its position 1.
  const std::string one = trace(R"J("distributedInfo": {"rank": 1},)J"), none = trace("");
  auto ts = read_traces({one, none});
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].path, none);
  EXPECT_EQ(ts[0].rank(), 0);
  EXPECT_EQ(ts[1].path, one);
  // Several without: the unclaimed ranks in file order (0 and 2 around a claimed 1).
  const std::string other = trace("");
  ts = read_traces({none, one, other});
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts[0].path, none);
  EXPECT_EQ(ts[1].path, one);
  EXPECT_EQ(ts[2].path, other);
  EXPECT_EQ(ts[2].rank(), 2);
}

TEST(KinetoReader, RealTraceNcclData) {
  GOODPUT_REQUIRE_TRACE(path, "nccl_data.json.gz");
  const auto t = read_trace(path);
  std::size_t kernels = 0, nccl = 0;
  for (const auto& g : t.gpu) {
    if (g.kind == GpuKind::kKernel) ++kernels;
    if (t.nccl_of(g)) ++nccl;
  }
  EXPECT_EQ(kernels, 2700u);
  EXPECT_EQ(nccl, 21u);
  ASSERT_FALSE(t.devices.empty());
  EXPECT_EQ(t.devices[0].name, "NVIDIA A100-PG509-200");
  EXPECT_EQ(t.devices[0].sms, 108);
  EXPECT_EQ(t.dist.rank, 0);
  EXPECT_EQ(t.dist.world_size, 2);
  EXPECT_EQ(t.runtime.size(), 8740u);
  EXPECT_GT(t.bytes, 9'000'000u);
}

TEST(KinetoReader, RealTrace2021Format) {
  GOODPUT_REQUIRE_TRACE(path, "worker0.pt.trace.json.gz");
  const auto t = read_trace(path);
  std::size_t kernels = 0;
  for (const auto& g : t.gpu) kernels += g.kind == GpuKind::kKernel;
  EXPECT_EQ(kernels, 9564u);
  EXPECT_EQ(t.runtime.size(), 10920u);
  EXPECT_TRUE(t.devices.empty());
}

TEST(KinetoReader, ParallelRunsKeepSerialErrorsAndOrder) {
  // Several runs of whole events (the reader cuts ~512 KiB runs): an error deep in the array
  // names the event's index in the whole array and its byte, as a serial parse would.
  std::string text = "{\"traceEvents\": [";
  const int n = 40000, bad = 31234;
  std::size_t bad_at = 0;
  for (int i = 0; i < n; ++i) {
    if (i) text += ",\n";
    if (i == bad) bad_at = text.size();
    text += "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k{[,\\\\\", \"ts\": " +
            std::to_string(i) + ", \"dur\": " + (i == bad ? "-1" : "1") +
            ", \"args\": {\"grid\": [1, 1, 1], \"x\": {\"y\": [{}, []]}}}";
  }
  text += "]}";
  ASSERT_GT(text.size(), 2u << 20);
  for (bool gz : {false, true}) {
    const std::string e = error_of(text, gz);
    EXPECT_NE(e.find("event #" + std::to_string(bad) + " "), std::string::npos) << e;
    // The event begins after its comma: at the newline before its brace.
    EXPECT_NE(e.find("byte " + std::to_string(bad_at - 1) + ":"), std::string::npos) << e;
  }
  text.replace(text.find("\"dur\": -1"), 9, "\"dur\": 2");
  const auto t = read_trace(write_temp(text));
  ASSERT_EQ(t.gpu.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(t.gpu[static_cast<std::size_t>(i)].ts, i * 1000ll) << i;
  EXPECT_EQ(t.names[t.gpu[0].name], "k{[,\\");
}

// Every field of two reads of one file, event by event (names and shapes by value).
void expect_same_trace(const RankTrace& a, const RankTrace& b) {
  ASSERT_EQ(a.gpu.size(), b.gpu.size());
  ASSERT_EQ(a.ops.size(), b.ops.size());
  ASSERT_EQ(a.runtime.size(), b.runtime.size());
  ASSERT_EQ(a.gpu_annotations.size(), b.gpu_annotations.size());
  ASSERT_EQ(a.counter_ranges.size(), b.counter_ranges.size());
  ASSERT_EQ(a.nccl_args.size(), b.nccl_args.size());
  EXPECT_EQ(a.flow_events, b.flow_events);
  EXPECT_EQ(a.skipped_events, b.skipped_events);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.base_time_ns, b.base_time_ns);
  EXPECT_EQ(a.devices.size(), b.devices.size());
  EXPECT_EQ(a.names.size(), b.names.size());
  EXPECT_EQ(a.shapes.size(), b.shapes.size());
  for (std::size_t i = 0; i < a.gpu.size(); ++i) {
    const auto &x = a.gpu[i], &y = b.gpu[i];
    ASSERT_EQ(a.names[x.name], b.names[y.name]) << i;
    ASSERT_TRUE(x.ts == y.ts && x.dur == y.dur && x.correlation == y.correlation &&
                x.external_id == y.external_id && x.stream == y.stream && x.grid == y.grid &&
                x.nccl == y.nccl && x.bytes == y.bytes && x.kind == y.kind)
        << i;
  }
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const auto &x = a.ops[i], &y = b.ops[i];
    ASSERT_EQ(a.names[x.name], b.names[y.name]) << i;
    ASSERT_TRUE(x.ts == y.ts && x.dur == y.dur && x.tid == y.tid &&
                x.external_id == y.external_id && x.flops == y.flops)
        << i;
    ASSERT_EQ(a.shapes_of(x), b.shapes_of(y)) << i;
  }
  for (std::size_t i = 0; i < a.runtime.size(); ++i) {
    const auto &x = a.runtime[i], &y = b.runtime[i];
    ASSERT_EQ(a.names[x.name], b.names[y.name]) << i;
    ASSERT_TRUE(x.ts == y.ts && x.dur == y.dur && x.correlation == y.correlation) << i;
  }
}

// The intern tables' text hash: every tail length and every byte counts, and the real names of
// a trace (hundreds of long kernel names sharing prefixes) do not collide.
TEST(TextHash, EveryByteAndLengthCounts) {
  std::set<std::uint64_t> seen;
  std::string s;
  for (int n = 0; n < 40; ++n) {
    EXPECT_TRUE(seen.insert(text_hash(s)).second) << n;
    s.push_back('\0');  // zero bytes differ from absent ones
  }
  const std::string base = "void at::native::vectorized_elementwise_kernel<4, float>";
  for (std::size_t i = 0; i < base.size(); ++i) {
    std::string t = base;
    t[i] = static_cast<char>(t[i] ^ 1);
    EXPECT_NE(text_hash(t), text_hash(base)) << i;
  }
  EXPECT_EQ(text_hash(base), text_hash(std::string(base)));
  GOODPUT_REQUIRE_TRACE(path, "sampled_rank-0.json.gz");
  const auto t = read_trace(path);
  std::set<std::uint64_t> names;
  for (NameId i = 0; i < t.names.size(); ++i) names.insert(text_hash(t.names[i]));
  EXPECT_EQ(names.size(), t.names.size());
}

// One file read with every cut found by the structural scan, then with guessed cuts.
std::pair<RankTrace, RankTrace> scanned_and_guessed(const std::string& path) {
  struct GuessedCutsOn {
    ~GuessedCutsOn() { use_guessed_cuts(true); }
  } restore;
  use_guessed_cuts(false);
  auto scanned = read_trace(path);
  use_guessed_cuts(true);
  return {std::move(scanned), read_trace(path)};
}

// The parallel parse guesses most of its cuts by text ("}, {") and proves each one by the run
// before it parsing whole; a failed run makes it read the file again with the structural scan.
// Either way the result must be the scanned read's, field by field: here on a file built so
// that most guesses land inside a string or a nested array of objects, plain and gzip.
TEST(KinetoReader, GuessedCutsReadAsTheScan) {
  std::string text = "{\"traceEvents\": [\n";
  const int n = 30000;
  for (int i = 0; i < n; ++i) {
    const std::string pad(static_cast<std::size_t>(i % 61), ' ');
    text += std::string(i ? "},\n  {" : "{") +
            "\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k}, {" + std::to_string(i % 13) +
            "\", \"ts\": " + std::to_string(i) +
            ", \"dur\": 1, \"args\": {\"x\": [{\"a\": 1}, {\"b\": \"}, {\"}," + pad +
            "{}], \"correlation\": " + std::to_string(i) + "}}, {\"ph\": \"X\", " +
            "\"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"ts\": " + std::to_string(i) +
            ", \"dur\": 2, \"args\": {\"Input Dims\": [[" + std::to_string(i % 7) +
            ", 4], [4, 2]], \"s\": \"}, {\\\"\"}";
  }
  text += "}]}";
  ASSERT_GT(text.size(), 8u << 20);
  for (bool gz : {false, true}) {
    const auto [scanned, guessed] = scanned_and_guessed(write_temp(text, gz));
    ASSERT_EQ(scanned.gpu.size(), static_cast<std::size_t>(n)) << gz;
    ASSERT_EQ(scanned.ops.size(), static_cast<std::size_t>(n)) << gz;
    expect_same_trace(scanned, guessed);
  }
}

// An op's shape args are read the first time a run meets their text, and later ops with the
// same text take that record: every op must still get exactly its own shapes, and equal shapes
// written differently (spacing) one record, across the runs of a file parsed in parallel.
TEST(KinetoReader, EachOpGetsItsOwnShapes) {
  auto dims_of = [](int i) {
    return std::vector<std::vector<std::int64_t>>{{i % 7, 4}, {4, i % 5}};
  };
  auto types_of = [](int i) {
    return i % 3 == 0 ? std::vector<std::string>{"float", "c10::BFloat16"}
                      : std::vector<std::string>{"float"};
  };
  std::string text = "{\"traceEvents\": [\n";
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const auto d = dims_of(i);
    const bool spaced = (i / 7) % 2 == 1;
    const std::string sep = spaced ? ", " : ",";
    std::string dims = spaced ? "[ " : "[";
    for (std::size_t k = 0; k < d.size(); ++k) {
      dims += (k ? sep : "") + "[" + std::to_string(d[k][0]) + sep + std::to_string(d[k][1]) + "]";
    }
    dims += spaced ? " ]" : "]";
    std::string types = "[";
    for (const auto& t : types_of(i)) types += (types.size() > 1 ? sep : "") + "\"" + t + "\"";
    types += "]";
    text += std::string(i ? ",\n" : "") +
            R"J({"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": )J" + std::to_string(i) +
            R"J(, "dur": 1, "args": {"Input Dims": )J" + dims + R"J(, "Ev Idx": )J" +
            std::to_string(i) + R"J(, "Input type": )J" + types +
            (i % 11 == 0 ? R"J(, "Concrete Inputs": ["", "1"])J" : "") + "}}";
  }
  text += "]}";
  ASSERT_GT(text.size(), 4u << 20);
  const auto t = read_trace(write_temp(text));
  ASSERT_EQ(t.ops.size(), static_cast<std::size_t>(n));
  std::set<ShapeId> ids;
  for (int i = 0; i < n; ++i) {
    const OpShapes& s = t.shapes_of(t.ops[static_cast<std::size_t>(i)]);
    ASSERT_EQ(s.input_dims, dims_of(i)) << i;
    ASSERT_EQ(s.input_types, types_of(i)) << i;
    const std::vector<std::string> concrete =
        i % 11 == 0 ? std::vector<std::string>{"", "1"} : std::vector<std::string>{};
    ASSERT_EQ(s.concrete_inputs, concrete) << i;
    ids.insert(t.ops[static_cast<std::size_t>(i)].shapes);
  }
  // 7 x 5 dims (i % 7, i % 5) x 2 type lists (i % 3) x 2 (i % 11): all 140 meet in 40000 ops.
  EXPECT_EQ(ids.size(), 140u);
  EXPECT_EQ(t.shapes.size(), 141u);  // and id 0: nothing recorded
}

// And on the real traces, whose guesses all hold.
TEST(KinetoReader, GuessedCutsReadRealTracesAsTheScan) {
  for (const char* name : {"nccl_data.json.gz", "worker0.pt.trace.json.gz",
                           "rank-0.Apr_03_18_51_38.1102.pt.trace.json.gz", "eager_trace.json.gz",
                           "sampled_rank-0.json.gz"}) {
    GOODPUT_REQUIRE_TRACE(path, name);
    SCOPED_TRACE(name);
    const auto [scanned, guessed] = scanned_and_guessed(path);
    expect_same_trace(scanned, guessed);
  }
}

TEST(KinetoReader, CountedEventsSkipTheirMembersExactly) {
  // Flows and events of kinds not kept are counted once "ph" and "cat" are read, and the rest of
  // each is skipped by the structural scan: brackets, commas, quotes and escapes inside its
  // strings must not end it early, across the chunk boundaries of a large file, plain and gzip.
  std::string text = "{\"traceEvents\": [\n";
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string pad(static_cast<std::size_t>(i % 89), ' ');
    text += std::string(i ? ",\n" : "") +
            "{\"ph\": \"X\", \"cat\": \"python_function\", \"name\": \"f}]\\\"{[,\"," + pad +
            "\"args\": {\"Python id\": " + std::to_string(i) +
            ", \"s\": [\"}\", {\"a\": [[]]}, \"\\\\\"]}},\n{\"ph\": \"f\", \"cat\": \"ac2g\", "
            "\"id\": " +
            std::to_string(i) + ", \"bp\": \"e\", \"name\": \"}\"},\n" +
            "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\", \"ts\": " + std::to_string(i) +
            ", \"dur\": 1, \"args\": {\"correlation\": " + std::to_string(i) + "}}";
  }
  text += "]}";
  ASSERT_GT(text.size(), 4u << 20);
  struct Restore {
    ~Restore() { use_avx2(true); }
  } restore;
  for (const bool avx2 : {true, false})
    for (bool gz : {false, true}) {
      SCOPED_TRACE(avx2 ? "AVX2 blocks (where the CPU has them)" : "SSE2 blocks");
      use_avx2(avx2);
      const auto t = read_trace(write_temp(text, gz));
      ASSERT_EQ(t.gpu.size(), static_cast<std::size_t>(n)) << gz;
      EXPECT_EQ(t.flow_events, static_cast<std::size_t>(n)) << gz;
      EXPECT_EQ(t.skipped_events, static_cast<std::size_t>(n)) << gz;
      for (int i = 0; i < n; ++i) ASSERT_EQ(t.gpu[static_cast<std::size_t>(i)].correlation, i) << i;
    }
  // A counted event cut short is still an error that names the truncation.
  const std::string cut =
      error_of(R"J({"traceEvents": [{"ph": "X", "cat": "python_function", "args": {"a": [1, 2)J");
  EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;
}

TEST(JsonStreamScan, TakeElementsCutsWhereAByteScanWould) {
  // Elements full of the bytes the block scans track (quotes, escapes, brackets, commas), in
  // every alignment against the 16- and 32-byte blocks: each run must end exactly at the comma
  // after the first element that reaches the target size, as a byte-by-byte scan finds it.
  std::mt19937 rng(7);
  const std::string alphabet = "ab {}[],:\"\\x   ";
  std::vector<std::string> elems;
  for (int e = 0; e < 400; ++e) {
    std::string body;
    const int len = static_cast<int>(rng() % 90);
    for (int k = 0; k < len; ++k) body += alphabet[rng() % alphabet.size()];
    // A valid string whose contents are the random bytes, escaped; plus nesting around it.
    std::string esc;
    for (char c : body) {
      if (c == '"' || c == '\\') esc += '\\';
      esc += c;
    }
    elems.push_back("{\"k\": [\"" + esc + "\", {\"n\": [[], {}]}], \"p\": \"" +
                    std::string(rng() % 40, ',') + "\"}");
  }
  std::string text = "[";
  for (std::size_t e = 0; e < elems.size(); ++e) text += (e ? "," : "") + elems[e];
  text += "]";
  // Restores the CPU's default when the test ends, whatever happens.
  struct Restore {
    ~Restore() { use_avx2(true); }
  } restore;
  for (const bool avx2 : {true, false})
    for (std::size_t target : {1u, 7u, 33u, 100u, 257u, 1000u}) {
      SCOPED_TRACE(avx2 ? "AVX2 blocks (where the CPU has them)" : "SSE2 blocks");
      use_avx2(avx2);
      JsonStream js("mem", text, 0);
      js.expect('[');
      std::string run;
      std::uint64_t offset = 0;
      std::size_t next = 0;  // the first element of the next run
      for (;;) {
        const auto took = js.take_elements(run, offset, target);
        if (took == JsonStream::Take::kNone) break;
        // Reference: whole elements from `next` until the run reaches the target.
        std::string want;
        while (next < elems.size() && (want.empty() || want.size() < target)) {
          if (!want.empty()) want += ',';
          want += elems[next++];
        }
        ASSERT_EQ(run, want) << "target " << target << ", run ending at element " << next;
        if (took == JsonStream::Take::kLast) break;
      }
      EXPECT_EQ(next, elems.size()) << target;
    }
}

}  // namespace
}  // namespace goodput::traceio
