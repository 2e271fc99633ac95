#include "profiler/trace_format/ranges.hpp"

namespace goodput::trace {
namespace {
RangeRecord make_range(std::uint64_t id, std::uint64_t tid, std::string name, std::string domain,
                       std::uint64_t t_ns, bool push_pop) {
  RangeRecord r;
  r.id = id;
  r.name = std::move(name);
  r.domain = std::move(domain);
  r.tid = tid;
  r.start_ns = t_ns;
  r.push_pop = push_pop;
  return r;
}
}  // namespace

std::uint64_t RangeRecorder::push(std::uint64_t tid, std::string name, std::string domain,
                                  std::uint64_t t_ns) {
  std::lock_guard lock(mu_);
  auto& stack = stacks_[{tid, domain}];
  RangeRecord r = make_range(next_id_++, tid, std::move(name), std::move(domain), t_ns, true);
  r.depth = static_cast<int>(stack.size());
  stack.push_back(std::move(r));
  return stack.back().id;
}

std::optional<RangeRecord> RangeRecorder::pop(std::uint64_t tid, const std::string& domain,
                                              std::uint64_t t_ns) {
  std::lock_guard lock(mu_);
  auto it = stacks_.find({tid, domain});
  if (it == stacks_.end() || it->second.empty()) {
    ++unbalanced_;
    return std::nullopt;
  }
  RangeRecord r = std::move(it->second.back());
  it->second.pop_back();
  r.end_ns = t_ns;
  return r;
}

std::uint64_t RangeRecorder::start(std::uint64_t tid, std::string name, std::string domain,
                                   std::uint64_t t_ns) {
  std::lock_guard lock(mu_);
  RangeRecord r = make_range(next_id_++, tid, std::move(name), std::move(domain), t_ns, false);
  const auto id = r.id;
  started_.emplace(id, std::move(r));
  return id;
}

std::optional<RangeRecord> RangeRecorder::end(std::uint64_t id, std::uint64_t t_ns) {
  std::lock_guard lock(mu_);
  auto it = started_.find(id);
  if (it == started_.end()) {
    ++unbalanced_;
    return std::nullopt;
  }
  RangeRecord r = std::move(it->second);
  started_.erase(it);
  r.end_ns = t_ns;
  return r;
}

std::vector<RangeRecord> RangeRecorder::close_all(std::uint64_t t_ns) {
  std::lock_guard lock(mu_);
  std::vector<RangeRecord> out;
  for (auto& [key, stack] : stacks_)
    for (auto& r : stack) out.push_back(std::move(r));
  for (auto& [id, r] : started_) out.push_back(std::move(r));
  stacks_.clear();
  started_.clear();
  for (auto& r : out) {
    r.end_ns = t_ns;
    r.closed = false;
  }
  return out;
}

int RangeRecorder::depth(std::uint64_t tid, const std::string& domain) const {
  std::lock_guard lock(mu_);
  auto it = stacks_.find({tid, domain});
  return it == stacks_.end() ? 0 : static_cast<int>(it->second.size());
}

std::uint64_t RangeRecorder::unbalanced() const {
  std::lock_guard lock(mu_);
  return unbalanced_;
}

bool step_marker_matches(std::string_view range_name, std::string_view marker) {
  if (marker.empty() || range_name.rfind(marker, 0) != 0) return false;
  if (range_name.size() == marker.size()) return true;
  const char next = range_name[marker.size()];
  const bool word = (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
                    (next >= '0' && next <= '9') || next == '_';
  return !word;
}

StepWindow::StepWindow(std::optional<StepSpan> span, std::string marker)
    : span_(span), marker_(std::move(marker)), recording_(!span) {}

StepWindow::Change StepWindow::on_range_start(std::string_view name, std::uint64_t range_id,
                                              std::uint64_t t_ns) {
  if (!step_marker_matches(name, marker_)) return Change::kNone;
  const int index = steps_seen_++;
  open_steps_[range_id] = index;
  if (span_ && index == span_->first && !recording_ && !stop_ns_) {
    recording_ = true;
    start_ns_ = t_ns;
    return Change::kStart;
  }
  return Change::kNone;
}

StepWindow::Change StepWindow::on_range_end(std::uint64_t range_id, std::uint64_t t_ns) {
  auto it = open_steps_.find(range_id);
  if (it == open_steps_.end()) return Change::kNone;
  const int index = it->second;
  open_steps_.erase(it);
  if (span_ && recording_ && index == span_->last - 1) {
    recording_ = false;
    stop_ns_ = t_ns;
    return Change::kStop;
  }
  return Change::kNone;
}

bool StepWindow::overlaps(std::uint64_t start, std::uint64_t end) const {
  if (!span_) return true;
  if (!start_ns_) return false;
  if (end < *start_ns_) return false;
  return !stop_ns_ || start <= *stop_ns_;
}

nlohmann::json StepWindow::to_json() const {
  nlohmann::json j = {{"marker", marker_}, {"steps_seen", steps_seen_}};
  if (span_) {
    j["requested"] = {{"first", span_->first}, {"end", span_->last}};
    j["window_start_ns"] = start_ns_ ? nlohmann::json(*start_ns_) : nlohmann::json();
    j["window_end_ns"] = stop_ns_ ? nlohmann::json(*stop_ns_) : nlohmann::json();
    j["complete"] = stop_ns_.has_value();
  } else {
    j["requested"] = nullptr;
  }
  return j;
}

}  // namespace goodput::trace
