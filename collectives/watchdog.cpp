#include "collectives/watchdog.hpp"

namespace goodput::collectives {

Watchdog::Watchdog(std::function<void(const std::string&)> on_expire)
    : on_expire_(std::move(on_expire)), thread_([this] { loop(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Watchdog::arm(double seconds, const std::string& what) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    armed_ = seconds > 0;  // NaN too: never
    fired_ = false;
    what_ = what;
    // Past about 292 years a steady_clock duration overflows (and the deadline would lie in
    // the past): such a limit is no limit.
    constexpr double kNever = 1e9;
    if (!(seconds < kNever)) armed_ = false;
    if (armed_)
      deadline_ = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(seconds));
  }
  cv_.notify_all();
}

void Watchdog::disarm() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    armed_ = false;
  }
  cv_.notify_all();
}

bool Watchdog::fired() const {
  std::lock_guard<std::mutex> lk(mu_);
  return fired_;
}

std::string Watchdog::fired_what() const {
  std::lock_guard<std::mutex> lk(mu_);
  return fired_what_;
}

void Watchdog::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    if (!armed_) {
      cv_.wait(lk);
      continue;
    }
    if (cv_.wait_until(lk, deadline_) == std::cv_status::timeout && armed_ && !stop_ &&
        std::chrono::steady_clock::now() >= deadline_) {
      armed_ = false;
      fired_ = true;
      fired_what_ = what_;
      const std::string what = what_;
      lk.unlock();
      on_expire_(what);
      lk.lock();
    }
  }
}

}  // namespace goodput::collectives
