#include "profiler/trace_format/buffer_pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace goodput::trace {

BufferPool::BufferPool(std::size_t buffer_bytes, std::size_t cap_bytes, bool zeroed)
    : buffer_bytes_((std::max<std::size_t>(buffer_bytes, 8) + 7) / 8 * 8),
      cap_bytes_(cap_bytes),
      zeroed_(zeroed) {}

BufferPool::~BufferPool() {
  for (auto* b : free_) std::free(b);
}

std::uint8_t* BufferPool::allocate() {
  // calloc: zero, and 16-byte aligned (CUPTI needs 8). Large sizes come straight from mmap, so
  // no page is touched yet.
  return static_cast<std::uint8_t*>(std::calloc(1, buffer_bytes_));
}

std::uint8_t* BufferPool::acquire() {
  std::lock_guard lock(mu_);
  ++requested_;
  std::uint8_t* b = nullptr;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (allocated_bytes_ + buffer_bytes_ <= cap_bytes_) {
    b = allocate();
    if (b) {
      allocated_bytes_ += buffer_bytes_;
      ++allocated_on_request_;
    }
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
  // Cleared before it is listed as free: outside the lock, the buffer is still ours alone.
  if (zeroed_) std::memset(buffer, 0, buffer_bytes_);
  std::lock_guard lock(mu_);
  in_use_bytes_ -= std::min(in_use_bytes_, buffer_bytes_);
  free_.push_back(buffer);
}

std::size_t BufferPool::reserve(std::size_t spare) {
  if (!zeroed_) return 0;
  std::size_t made = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (free_.size() >= spare || allocated_bytes_ + buffer_bytes_ > cap_bytes_) return made;
      allocated_bytes_ += buffer_bytes_;  // counted now: acquire() must not overshoot the cap
    }
    std::uint8_t* b = allocate();
    if (b) {
      // Touch every page (a write: a read would map the shared zero page) so that filling the
      // buffer later faults nothing in. Volatile: the stores must not be folded into calloc.
      for (std::size_t i = 0; i < buffer_bytes_; i += 4096)
        static_cast<volatile std::uint8_t*>(b)[i] = 0;
    }
    std::lock_guard lock(mu_);
    if (!b) {
      allocated_bytes_ -= buffer_bytes_;
      return made;
    }
    free_.insert(free_.begin(), b);  // under the warm ones: acquire() takes from the back
    ++reserved_;
    ++made;
  }
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
std::uint64_t BufferPool::allocated_on_request() const {
  std::lock_guard lock(mu_);
  return allocated_on_request_;
}

nlohmann::json BufferPool::to_json() const {
  std::lock_guard lock(mu_);
  return {{"buffer_bytes", buffer_bytes_}, {"cap_bytes", cap_bytes_},
          {"peak_bytes", peak_bytes_},     {"buffers_requested", requested_},
          {"buffers_refused", refused_},   {"zeroed_by_tracer", zeroed_},
          {"buffers_prepared", reserved_}, {"buffers_allocated_on_request", allocated_on_request_}};
}

}  // namespace goodput::trace
