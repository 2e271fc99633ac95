// The header-only C++ recorder: several processes append to one file; every line stays whole and
// the ledger reads the result.
#include "profiler/ledger/recorder.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "profiler/ledger/ledger.hpp"
#include "tests/temp_dir.hpp"

using namespace goodput;
namespace fs = std::filesystem;

namespace {
constexpr char kLedgerTestDir[] = "goodput_ledger_test_";
fs::path temp_path(const std::string& name) {
  return goodput::testing::process_temp_dir<kLedgerTestDir>() / name;
}
}  // namespace

TEST(Recorder, ScopesWriteBeginAndEnd) {
  const auto path = temp_path("scopes.jsonl");
  fs::remove(path);
  {
    recorder::Recorder rec(path.string(), 0, 1);
    rec.job_start(8);
    rec.attempt_start();
    { auto p = rec.phase("init"); }
    for (int s = 1; s <= 3; ++s) {
      auto st = rec.step(s);
    }
    { auto c = rec.checkpoint_save(3); }
    rec.fault("say \"hi\"\n", "framework", {1, 2});
    rec.job_end();
  }
  const auto log = ledger::read_event_logs({path.string()}, {});
  EXPECT_EQ(log.events_total, 14u);
  EXPECT_EQ(log.warnings_total, 0u);
  const auto l = ledger::compute_ledger(log, {});
  ASSERT_EQ(l.attempts.size(), 1u);
  EXPECT_EQ(l.attempts[0].steps_run, 3u);
  ASSERT_EQ(l.faults.size(), 1u);
  EXPECT_EQ(l.faults[0].cause, "say \"hi\"\n");
  EXPECT_EQ(l.faults[0].ranks, "1,2");
}

TEST(Recorder, ConcurrentProcessesKeepLinesWhole) {
  const auto path = temp_path("concurrent.jsonl");
  fs::remove(path);
  constexpr int kRanks = 4, kSteps = 500;
  std::vector<pid_t> kids;
  for (int r = 0; r < kRanks; ++r) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        recorder::Recorder rec(path.string(), r, 1);
        if (r == 0) rec.attempt_start();
        for (int s = 1; s <= kSteps; ++s) {
          auto st = rec.step(s);
        }
        if (r == 0) rec.job_end();
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  // Strict parse: a torn line would be an InputError.
  const auto log = ledger::read_event_logs({path.string()}, {});
  EXPECT_EQ(log.events_total, static_cast<std::size_t>(kRanks * kSteps * 2 + 2));
  EXPECT_EQ(log.ranks_seen.size(), static_cast<std::size_t>(kRanks));
  const auto l = ledger::compute_ledger(log, {});
  ASSERT_EQ(l.attempts.size(), 1u);
  EXPECT_EQ(l.attempts[0].steps_kept, static_cast<std::size_t>(kSteps));
}
