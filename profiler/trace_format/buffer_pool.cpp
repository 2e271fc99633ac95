#include "profiler/trace_format/buffer_pool.hpp"

#include <algorithm>
#include <cstdlib>

namespace goodput::trace {

BufferPool::BufferPool(std::size_t buffer_bytes, std::size_t cap_bytes)
    : buffer_bytes_((std::max<std::size_t>(buffer_bytes, 8) + 7) / 8 * 8), cap_bytes_(cap_bytes) {}

BufferPool::~BufferPool() {
  for (auto* b : free_) std::free(b);
}

std::uint8_t* BufferPool::acquire() {
  std::lock_guard lock(mu_);
  ++requested_;
  std::uint8_t* b = nullptr;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (allocated_bytes_ + buffer_bytes_ <= cap_bytes_) {
    b = static_cast<std::uint8_t*>(std::aligned_alloc(8, buffer_bytes_));
    if (b) allocated_bytes_ += buffer_bytes_;
  }
  if (!b) {
    ++refused_;
    return nullptr;
  }
  in_use_bytes_ += buffer_bytes_;
  peak_bytes_ = std::max(peak_bytes_, in_use_bytes_);
  return b;
}

void BufferPool::release(std::uint8_t* buffer) {
  if (!buffer) return;
  std::lock_guard lock(mu_);
  in_use_bytes_ -= std::min(in_use_bytes_, buffer_bytes_);
  free_.push_back(buffer);
}

std::size_t BufferPool::in_use_bytes() const {
  std::lock_guard lock(mu_);
  return in_use_bytes_;
}
std::size_t BufferPool::peak_bytes() const {
  std::lock_guard lock(mu_);
  return peak_bytes_;
}
std::uint64_t BufferPool::requested() const {
  std::lock_guard lock(mu_);
  return requested_;
}
std::uint64_t BufferPool::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

nlohmann::json BufferPool::to_json() const {
  std::lock_guard lock(mu_);
  return {{"buffer_bytes", buffer_bytes_},
          {"cap_bytes", cap_bytes_},
          {"peak_bytes", peak_bytes_},
          {"buffers_requested", requested_},
          {"buffers_refused", refused_}};
}

}  // namespace goodput::trace
