#include "harness/core/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "harness/core/error.hpp"

namespace goodput {
namespace {
std::atomic<int> g_signals{0};

extern "C" void on_signal(int) {
  if (g_signals.fetch_add(1) > 0) _exit(kExitInterrupted);
  static const char msg[] =
      "\ngoodput: interrupted; finishing the current result and writing what finished (Ctrl-C "
      "again to quit now)\n";
  (void)!write(2, msg, sizeof msg - 1);
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupted() {
  return g_signals.load() > 0;
}

void raise_if_interrupted() {
  if (interrupted()) throw Error(kExitInterrupted, "interrupted");
}

}  // namespace goodput
