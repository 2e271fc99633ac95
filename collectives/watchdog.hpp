// A thread that runs a callback when an armed deadline passes: the GPU side arms it around every
// wait on a collective and aborts the NCCL communicators from the callback, so a hung collective
// ends in a recorded failure instead of a hung job.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace goodput::collectives {

class Watchdog {
 public:
  // on_expire(what) runs on the watchdog thread, at most once per arm().
  explicit Watchdog(std::function<void(const std::string&)> on_expire);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(double seconds, const std::string& what);  // seconds <= 0: never expires
  void disarm();
  bool fired() const;
  std::string fired_what() const;

 private:
  void loop();
  std::function<void(const std::string&)> on_expire_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, fired_ = false, stop_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::string what_, fired_what_;
  std::thread thread_;
};

}  // namespace goodput::collectives
