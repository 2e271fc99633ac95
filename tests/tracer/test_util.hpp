// Test helpers: temporary folders, JSON files, and running a program with extra environment
// variables while collecting its exit status and output.
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/temp_dir.hpp"

namespace goodput::test {

inline constexpr char kTracerTestDir[] = "goodput_tracer_test_";

// A fresh folder per test, named after it, inside this test process's temporary folder (removed
// with everything in it when the process exits).
inline std::filesystem::path temp_dir(const std::string& prefix) {
  auto d = goodput::testing::process_temp_dir<kTracerTestDir>() /
           (prefix + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Parses a JSON file; malformed JSON throws, which fails the test.
inline nlohmann::json load_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  return nlohmann::json::parse(in);
}

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

// on_started(pid, stdout_fd_reader) may signal the process; `ready` is awaited on stdout first
// when non-empty.
inline ProcessResult run_process(const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env = {},
                                 const std::string& ready = "",
                                 const std::function<void(pid_t)>& on_ready = {}) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    // Only 1 and 2 stay: a background process the program leaves must not hold the pipes open.
    for (int fd : {out_pipe[0], err_pipe[0], out_pipe[1], err_pipe[1]})
      if (fd > 2) close(fd);
    for (const auto& [k, v] : env) {
      if (v.empty())
        unsetenv(k.c_str());
      else
        setenv(k.c_str(), v.c_str(), 1);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    alarm(120);  // a hung child ends the test instead of blocking it
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  ProcessResult r;
  bool signalled = ready.empty();
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (poll(fds, 2, 1000) < 0) break;
    for (auto& f : fds) {
      if (f.fd < 0 || !(f.revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = read(f.fd, buf, sizeof buf);
      if (n <= 0) {
        close(f.fd);
        f.fd = -1;
        --open_fds;
        continue;
      }
      (f.fd == out_pipe[0] ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
    }
    if (!signalled && r.out.find(ready) != std::string::npos) {
      signalled = true;
      if (on_ready) on_ready(pid);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace goodput::test
