// NCCL's reported algorithm and protocol: its TUNING lines, byte for byte as NCCL 2.28 writes them
// (src/enqueue.cc INFO(NCCL_TUNING, "%s: %ld Bytes -> Algo %s proto %s channel{Lo..Hi}={%d..%d}")
// behind src/debug.cc's "host:pid:tid [dev] NCCL INFO " prefix), the per-case choice, and the
// rules for NCCL's debug environment.
#include "collectives/nccl_choice.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace goodput::collectives {
namespace {

const char* kLog =
    "node7:41:41 [0] NCCL INFO NCCL version 2.28.9+cuda13.0\n"
    "node7:41:41 [0] NCCL INFO   Algorithm   |             Tree |             Ring |\n"
    "node7:41:41 [0] NCCL INFO Channel 00/24 : 0 1 2 3 4 5 6 7\n"
    "node7:41:41 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE "
    "channel{Lo..Hi}={0..1}\n"
    "node7:41:41 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo NVLS proto SIMPLE "
    "channel{Lo..Hi}={0..15}\n"
    "node7:41:41 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo NVLS proto SIMPLE "
    "channel{Lo..Hi}={0..15}\n"
    "\nnode7:41:41 [0] enqueue.cc:1990 NCCL WARN AllGather: invalid argument\n"
    "[2025-10-15 21:36:00] node7:41:43 [3] NCCL INFO AllGather: 262144 Bytes -> Algo "
    "COLLNET_DIRECT proto LL128 channel{Lo..Hi}={0..7}\n"
    "node7:41:41 [0] NCCL INFO ReduceScatter: 4096 Bytes -> Algo PAT proto LL "
    "channel{Lo..Hi}={0..0}\n"
    "node7:41:41 [0] NCCL INFO Broadcast: 64 Bytes -> Algo 1 proto 2 time 12.300000\n"
    "node7:41:41 [0] NCCL INFO Reduce: 512 Bytes -> Algo NVLS_TREE proto SIMPLE "
    "channel{Lo..Hi}={0..3}";  // the last line without its newline yet

TEST(NcclTuningLine, ParsesExactlyTheLinesNcclPrintsPerCall) {
  const auto l = parse_nccl_tuning_line(
      "node7:41:41 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE "
      "channel{Lo..Hi}={0..1}");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->func, "AllReduce");
  EXPECT_EQ(l->bytes, 1048576u);
  EXPECT_EQ(l->algorithm, "Ring");
  EXPECT_EQ(l->protocol, "Simple");
  const auto lines = parse_nccl_tuning_lines(kLog);
  ASSERT_EQ(lines.size(), 6u);  // not the version, table, channel, WARN or numeric lines
  EXPECT_EQ(lines[3].func, "AllGather");
  EXPECT_EQ(lines[3].algorithm, "CollNetDirect");
  EXPECT_EQ(lines[3].protocol, "LL128");
  EXPECT_EQ(lines[4].algorithm, "PAT");
  EXPECT_EQ(lines[4].protocol, "LL");
  EXPECT_EQ(lines[5].func, "Reduce");
  EXPECT_EQ(lines[5].algorithm, "NVLSTree");
}

TEST(NcclTuningLine, RejectsLinesThatOnlyLookAlike) {
  for (const char* bad :
       {"AllReduce: 1048576 Bytes -> Algo RING proto SIMPLE",  // no NCCL INFO prefix
        "h:1:1 [0] NCCL INFO AllReduce: 1048576 Bytes -> Algo 1 proto 2 time 3.0",
        "h:1:1 [0] NCCL INFO AllReduce: -5 Bytes -> Algo RING proto SIMPLE",
        "h:1:1 [0] NCCL INFO AllReduce: 12 Bytes -> Algo RING",
        "h:1:1 [0] NCCL INFO All Reduce: 12 Bytes -> Algo RING proto LL",
        "h:1:1 [0] NCCL INFO AllReduce: 99999999999999999999 Bytes -> Algo RING proto LL",
        "h:1:1 [0] NCCL INFO : 12 Bytes -> Algo RING proto LL", ""})
    EXPECT_FALSE(parse_nccl_tuning_line(bad)) << bad;
}

TEST(NcclTuningLine, NamesAsNcclAlgoAndNcclProtoSpellThem) {
  EXPECT_EQ(canonical_nccl_algorithm("TREE"), "Tree");
  EXPECT_EQ(canonical_nccl_algorithm("COLLNET_CHAIN"), "CollNetChain");
  EXPECT_EQ(canonical_nccl_algorithm("NVLS"), "NVLS");
  EXPECT_EQ(canonical_nccl_algorithm("Ring"), "Ring");
  EXPECT_EQ(canonical_nccl_algorithm("FUTURE_ALGO"), "FUTURE_ALGO");
  EXPECT_EQ(canonical_nccl_protocol("SIMPLE"), "Simple");
  EXPECT_EQ(canonical_nccl_protocol("ll128"), "LL128");
  EXPECT_EQ(nccl_func_name(Coll::kReduceScatter), std::string("ReduceScatter"));
  EXPECT_EQ(nccl_func_name(Coll::kSendRecv), nullptr);
}

TEST(NcclChoice, TheMostUsedPairOfTheMatchingCallsWins) {
  const auto lines = parse_nccl_tuning_lines(kLog);
  NcclChoice c = nccl_choice_for_case(lines, Coll::kAllReduce, 1048576, 8, "");
  EXPECT_TRUE(c.known());
  EXPECT_EQ(c.algorithm, "NVLS");
  EXPECT_EQ(c.protocol, "Simple");
  EXPECT_EQ(c.calls, 3);
  ASSERT_EQ(c.seen.size(), 2u);
  auto j = to_json(c);
  EXPECT_EQ(j["algorithm"], "NVLS");
  EXPECT_TRUE(j["reason"].is_null());
  EXPECT_EQ(j["seen"].size(), 2u);
  // Other sizes and other collectives do not count.
  c = nccl_choice_for_case(lines, Coll::kAllReduce, 2048, 8, "");
  EXPECT_FALSE(c.known());
  EXPECT_NE(c.reason.find("no tuning line for AllReduce of 2048 bytes"), std::string::npos);
  c = nccl_choice_for_case(lines, Coll::kAllGather, 262144, 8, "");
  EXPECT_EQ(c.algorithm, "CollNetDirect");
  EXPECT_FALSE(to_json(c).contains("seen"));
  c = nccl_choice_for_case(lines, Coll::kBroadcast, 64, 8, "");
  EXPECT_FALSE(c.known()) << "numeric ids are not names";
}

TEST(NcclChoice, UnknownCasesSayWhy) {
  const auto lines = parse_nccl_tuning_lines(kLog);
  auto c = nccl_choice_for_case(lines, Coll::kAllToAll, 1048576, 8, "");
  EXPECT_NE(c.reason.find("ncclSend/ncclRecv"), std::string::npos);
  c = nccl_choice_for_case(lines, Coll::kAllReduce, 1048576, 1, "");
  EXPECT_NE(c.reason.find("one rank"), std::string::npos);
  c = nccl_choice_for_case(lines, Coll::kAllReduce, 1048576, 8, "cannot read it");
  EXPECT_EQ(c.reason, "cannot read it");
  const auto j = to_json(c);
  EXPECT_TRUE(j["algorithm"].is_null());
  EXPECT_TRUE(j["protocol"].is_null());
  EXPECT_EQ(j["reason"], "cannot read it");
  EXPECT_FALSE(NcclChoice{}.reason.empty());
}

TEST(NcclDebugFile, ExpandedAsNcclDoes) {
  EXPECT_EQ(expand_nccl_debug_file("/tmp/nccl.%h.%p.log", "node7.cluster.local", 42),
            "/tmp/nccl.node7.42.log");
  EXPECT_EQ(expand_nccl_debug_file("a%%b%xc%", "h", 1), "a%b%xc%");
  EXPECT_EQ(expand_nccl_debug_file("%h", "we%ird/host", 1), "we-ird-host");
}

// Sets or clears NCCL's debug variables for one test and puts them back afterwards.
class NcclEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* s = std::getenv(v);
      saved_.push_back(s ? std::optional<std::string>(s) : std::nullopt);
      unsetenv(v);
    }
    char root[] = "/tmp/goodput-test-XXXXXX";
    ASSERT_NE(mkdtemp(root), nullptr);
    root_ = root;
  }
  void TearDown() override {
    for (std::size_t i = 0; i < std::size(kVars); ++i) {
      if (saved_[i])
        setenv(kVars[i], saved_[i]->c_str(), 1);
      else
        unsetenv(kVars[i]);
    }
    std::remove((root_ + "/user.log").c_str());
    rmdir(root_.c_str());
  }
  static constexpr const char* kVars[] = {"NCCL_DEBUG", "NCCL_DEBUG_SUBSYS", "NCCL_DEBUG_FILE"};
  std::vector<std::optional<std::string>> saved_;
  std::string root_;
};

TEST_F(NcclEnv, UnsetDebugIsPointedAtAPrivateFile) {
  const NcclDebugCapture c = start_nccl_debug_capture(true, root_);
  EXPECT_EQ(c.mode, "goodput");
  EXPECT_EQ(c.path.rfind(root_ + "/goodput-nccl-", 0), 0u) << c.path;
  EXPECT_EQ(std::string(std::getenv("NCCL_DEBUG")), "INFO");
  EXPECT_EQ(std::string(std::getenv("NCCL_DEBUG_SUBSYS")), "TUNING");
  EXPECT_EQ(std::string(std::getenv("NCCL_DEBUG_FILE")), c.path);
  EXPECT_EQ(access(c.private_dir.c_str(), W_OK), 0);
  // NCCL appends; the reader hands over whole lines once, in order.
  NcclDebugReader r(c);
  EXPECT_EQ(r.read_new(), "");
  EXPECT_NE(r.unavailable().find("cannot read"), std::string::npos) << "not created yet";
  std::ofstream(c.path) << "h:1:1 [0] NCCL INFO AllReduce: 8 Bytes -> Algo RING proto LL ch";
  EXPECT_EQ(r.read_new(), "");
  EXPECT_EQ(r.unavailable(), "");
  std::ofstream(c.path, std::ios::app) << "annel{Lo..Hi}={0..0}\nh:1:1 [0] NCCL INFO x\nh:1";
  const std::string first = r.read_new();
  EXPECT_EQ(parse_nccl_tuning_lines(first).size(), 1u);
  EXPECT_EQ(first.back(), '\n');
  EXPECT_EQ(r.read_new(), "");
  std::ofstream(c.path, std::ios::app) << ":1 [0] NCCL INFO y\n";
  EXPECT_EQ(r.read_new(), "h:1:1 [0] NCCL INFO y\n");
  remove_private_files(c);
  EXPECT_NE(access(c.private_dir.c_str(), F_OK), 0);
}

TEST_F(NcclEnv, TheUsersSettingsAreKeptAndTheirFileRead) {
  setenv("NCCL_DEBUG", "INFO", 1);
  setenv("NCCL_DEBUG_SUBSYS", "INIT,TUNING", 1);
  setenv("NCCL_DEBUG_FILE", (root_ + "/user.%p.log").c_str(), 1);
  NcclDebugCapture c = start_nccl_debug_capture(true, root_);
  EXPECT_EQ(c.mode, "user");
  EXPECT_EQ(c.path, root_ + "/user." + std::to_string(getpid()) + ".log");
  EXPECT_EQ(std::string(std::getenv("NCCL_DEBUG_SUBSYS")), "INIT,TUNING");
  EXPECT_TRUE(c.private_dir.empty());
  unsetenv("NCCL_DEBUG_FILE");
  c = start_nccl_debug_capture(true, root_);
  EXPECT_TRUE(c.path.empty());
  EXPECT_NE(c.unavailable.find("stdout"), std::string::npos);
  EXPECT_EQ(std::getenv("NCCL_DEBUG_FILE"), nullptr) << "their output stays where it was";
  NcclDebugReader r(c);
  EXPECT_EQ(r.read_new(), "");
  EXPECT_EQ(r.unavailable(), c.unavailable);
  const auto j = to_json(c);
  EXPECT_EQ(j["mode"], "user");
  EXPECT_TRUE(j["file"].is_null());
}

TEST_F(NcclEnv, LeftAloneWhenAskedTo) {
  const NcclDebugCapture c = start_nccl_debug_capture(false, root_);
  EXPECT_EQ(c.mode, "off");
  EXPECT_TRUE(c.path.empty());
  EXPECT_EQ(std::getenv("NCCL_DEBUG"), nullptr);
  EXPECT_NE(c.unavailable.find("--nccl-log"), std::string::npos);
  const NcclDebugCapture bad = start_nccl_debug_capture(true, root_ + "/missing/dir");
  EXPECT_EQ(bad.mode, "off");
  EXPECT_NE(bad.unavailable.find("could not make"), std::string::npos);
  EXPECT_EQ(std::getenv("NCCL_DEBUG"), nullptr);
}

}  // namespace
}  // namespace goodput::collectives
