// Activity buffers with a hard cap on memory. CUPTI asks for a buffer whenever it needs one; past
// the cap the request is refused, CUPTI drops the records it cannot store and counts them, and
// the trace reports the count. Buffers are reused after their records were written.
//
// CUPTI asks on the program's own thread, in the middle of a CUDA call. Unless told that buffers
// come zeroed (CUPTI_ACTIVITY_ATTR_ZEROED_OUT_ACTIVITY_BUFFER), it clears each one there, and a
// fresh buffer page-faults there as it fills. In zeroed mode the pool does both off that thread:
// release() clears a used buffer, and reserve() keeps spare buffers allocated, zeroed and
// touched, so that acquire() only pops a ready one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

namespace goodput::trace {

class BufferPool {
 public:
  // buffer_bytes is rounded up to a multiple of 8 (CUPTI's record alignment).
  BufferPool(std::size_t buffer_bytes, std::size_t cap_bytes, bool zeroed = false);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer of buffer_bytes() bytes, 8-byte aligned (all zero in zeroed mode); nullptr when the
  // cap would be exceeded or memory is exhausted (counted as refused).
  std::uint8_t* acquire();
  // Returns a buffer from acquire() once its records were consumed. Zeroed mode clears all of
  // it here, on the caller's thread (not only the valid bytes: what CUPTI may have written past
  // its last record is not documented).
  void release(std::uint8_t* buffer);
  // Zeroed mode: allocates, zeroes and touches buffers here until `spare` wait on the free list
  // (or the cap is reached). Returns how many it made.
  std::size_t reserve(std::size_t spare);

  bool zeroed() const { return zeroed_; }
  std::size_t buffer_bytes() const { return buffer_bytes_; }
  std::size_t cap_bytes() const { return cap_bytes_; }
  std::size_t in_use_bytes() const;
  std::size_t peak_bytes() const;
  std::uint64_t requested() const;
  std::uint64_t refused() const;
  // Buffers acquire() had to allocate itself (none ready): in zeroed mode, each one page-faults
  // on the thread that fills it.
  std::uint64_t allocated_on_request() const;
  nlohmann::json to_json() const;

 private:
  std::uint8_t* allocate();  // zero-filled (calloc), untouched; nullptr on failure

  std::size_t buffer_bytes_;
  std::size_t cap_bytes_;
  bool zeroed_;
  mutable std::mutex mu_;
  std::vector<std::uint8_t*> free_;
  std::size_t allocated_bytes_ = 0;  // in use + on the free list
  std::size_t in_use_bytes_ = 0;
  std::size_t peak_bytes_ = 0;
  std::uint64_t requested_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t allocated_on_request_ = 0;
  std::uint64_t reserved_ = 0;
};

}  // namespace goodput::trace
