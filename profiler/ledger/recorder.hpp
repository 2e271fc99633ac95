// Header-only recorder of the goodput event log (JSON Lines, format version 1) for C++ training
// code. Needs only the C++ standard library and POSIX. Each event is one whole line written
// with a single write() on a file opened with O_APPEND, so several processes (ranks, attempts)
// can append to one file without interleaving, and a crash loses at most the line being written.
//
//   goodput::recorder::Recorder rec("events.jsonl", /*rank=*/rank, /*attempt=*/attempt);
//   rec.attempt_start();
//   { auto s = rec.step(n); train_step(); }          // step_start ... step_end
//   { auto c = rec.checkpoint_save(n); save(); }      // the blocking part of the save
//   rec.fault("NCCL timeout", "framework", {3});
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace goodput::recorder {

class Recorder {
 public:
  // attempt 0: taken from $GOODPUT_ATTEMPT, else $TORCHELASTIC_RESTART_COUNT + 1, else 1.
  explicit Recorder(const std::string& path, int rank = 0, int attempt = 0)
      : rank_(rank), attempt_(attempt > 0 ? attempt : attempt_from_env()) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw std::runtime_error("goodput recorder: cannot open " + path + ": " +
                               std::strerror(errno));
  }
  ~Recorder() {
    if (fd_ >= 0) ::close(fd_);
  }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  int rank() const { return rank_; }
  int attempt() const { return attempt_; }

  // Ends the enclosing interval when it goes out of scope.
  class Scope {
   public:
    Scope(Recorder* r, std::string end_kind, std::string fields)
        : r_(r), kind_(std::move(end_kind)), fields_(std::move(fields)) {}
    Scope(Scope&& o) noexcept
        : r_(std::exchange(o.r_, nullptr)),
          kind_(std::move(o.kind_)),
          fields_(std::move(o.fields_)) {}
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope() {
      if (r_) r_->emit_noexcept(kind_, fields_);
    }

   private:
    Recorder* r_;
    std::string kind_, fields_;
  };

  void job_start(int gpus = -1) {
    emit("job_start", gpus >= 0 ? "\"gpus\":" + std::to_string(gpus) : "");
  }
  void job_end(const std::string& status = "ok") { emit("job_end", str_field("status", status)); }
  void attempt_start() { emit("attempt_start"); }
  void attempt_end(const std::string& reason = "") {
    emit("attempt_end", reason.empty() ? "" : str_field("reason", reason));
  }
  void resources_allocated(int gpus = -1) {
    emit("resources_allocated", gpus >= 0 ? "\"gpus\":" + std::to_string(gpus) : "");
  }
  void resources_released() { emit("resources_released"); }
  void step_start(std::int64_t step) { emit("step_start", step_field(step)); }
  void step_end(std::int64_t step) { emit("step_end", step_field(step)); }
  void phase_begin(const std::string& phase) { emit("phase_begin", str_field("phase", phase)); }
  void phase_end(const std::string& phase) { emit("phase_end", str_field("phase", phase)); }
  // layer: "infra", "framework" or "model"; ranks: the ranks affected (empty: unknown).
  void fault(const std::string& cause, const std::string& layer = "infra",
             const std::vector<int>& ranks = {}) {
    std::string f = str_field("cause", cause) + "," + str_field("layer", layer);
    if (!ranks.empty()) {
      f += ",\"ranks\":[";
      for (std::size_t i = 0; i < ranks.size(); ++i) f += (i ? "," : "") + std::to_string(ranks[i]);
      f += "]";
    }
    emit("fault", f);
  }

  [[nodiscard]] Scope step(std::int64_t n) {
    step_start(n);
    return Scope(this, "step_end", step_field(n));
  }
  [[nodiscard]] Scope checkpoint_save(std::int64_t step) {
    emit("checkpoint_save_begin", step_field(step));
    return Scope(this, "checkpoint_save_end", step_field(step));
  }
  [[nodiscard]] Scope checkpoint_restore(std::int64_t step) {
    emit("checkpoint_restore_begin", step_field(step));
    return Scope(this, "checkpoint_restore_end", step_field(step));
  }
  [[nodiscard]] Scope phase(const std::string& name) {
    phase_begin(name);
    return Scope(this, "phase_end", str_field("phase", name));
  }

  // One event line; `fields` is extra JSON members without braces ("\"step\":3").
  void emit(const std::string& kind, const std::string& fields = "") {
    const std::string line = format(kind, fields);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("goodput recorder: write failed: ") +
                                 std::strerror(errno));
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

  static std::string escape(const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        o += '\\';
        o += static_cast<char>(c);
      } else if (c < 0x20) {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", c);
        o += b;
      } else {
        o += static_cast<char>(c);
      }
    }
    return o;
  }

 private:
  static int attempt_from_env() {
    if (const char* a = std::getenv("GOODPUT_ATTEMPT")) return std::max(1, std::atoi(a));
    if (const char* r = std::getenv("TORCHELASTIC_RESTART_COUNT")) return std::atoi(r) + 1;
    return 1;
  }
  static std::string step_field(std::int64_t step) { return "\"step\":" + std::to_string(step); }
  static std::string str_field(const char* key, const std::string& v) {
    return std::string("\"") + key + "\":\"" + escape(v) + "\"";
  }
  std::string format(const std::string& kind, const std::string& fields) const {
    const double t =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    char head[96];
    std::snprintf(head, sizeof head, "{\"v\":1,\"t\":%.6f,\"kind\":\"", t);
    return head + kind + "\",\"rank\":" + std::to_string(rank_) +
           ",\"attempt\":" + std::to_string(attempt_) + (fields.empty() ? "" : ",") + fields +
           "}\n";
  }
  void emit_noexcept(const std::string& kind, const std::string& fields) noexcept {
    try {
      emit(kind, fields);
    } catch (...) {
      // A destructor must not throw; the missing end shows up as a warning in the ledger.
    }
  }

  int fd_ = -1;
  int rank_ = 0;
  int attempt_ = 1;
};

}  // namespace goodput::recorder
