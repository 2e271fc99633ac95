#include "profiler/tracer/crash_report.hpp"

#include <execinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace goodput::trace::tracer {
namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
struct sigaction g_old[sizeof kSignals / sizeof kSignals[0]];
std::mutex g_install_mu;

std::size_t slot(int sig) {
  for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
    if (kSignals[i] == sig) return i;
  return 0;
}

// Only async-signal-safe calls from here on: write, snprintf into a stack buffer (no
// allocation for these formats), backtrace (loaded at install time) and backtrace_symbols_fd.
void say(const char* text) {
  (void)!write(2, text, std::strlen(text));
}

void on_crash(int sig, siginfo_t* info, void* uc) {
  char line[256];
  std::snprintf(line, sizeof line,
                "goodput tracer: the program received signal %d (%s) at address %p in thread %ld; "
                "backtrace (library(+offset) per frame):\n",
                sig, sigdescr_np(sig) ? sigdescr_np(sig) : "?", info ? info->si_addr : nullptr,
                static_cast<long>(syscall(SYS_gettid)));
  say(line);
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, 2);
  const struct sigaction& old = g_old[slot(sig)];
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) return old.sa_sigaction(sig, info, uc);
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    return old.sa_handler(sig);
  }
  // The default action: restore it and return, so the faulting instruction runs again and
  // ends the process with the signal (raise() for signals a return would not repeat).
  sigaction(sig, &old, nullptr);
  if (sig == SIGABRT || (info && info->si_code <= 0)) raise(sig);
}

}  // namespace

void install_crash_report() {
  std::lock_guard lock(g_install_mu);
  static bool warmed = false;
  if (!warmed) {
    void* warm[2];
    backtrace(warm, 2);  // loads libgcc's unwinder now, not inside the handler
    warmed = true;
  }
  struct sigaction sa {};
  sa.sa_sigaction = on_crash;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (std::size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i) {
    struct sigaction cur {};
    sigaction(kSignals[i], nullptr, &cur);
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_crash) continue;  // still ours
    sigaction(kSignals[i], &sa, &g_old[i]);
  }
}

}  // namespace goodput::trace::tracer
