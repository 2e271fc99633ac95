// Activity buffers with a hard cap on memory. CUPTI asks for a buffer whenever it needs one; past
// the cap the request is refused, CUPTI drops the records it cannot store and counts them, and
// the trace reports the count. Buffers are reused after their records were written.
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
  BufferPool(std::size_t buffer_bytes, std::size_t cap_bytes);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A buffer of buffer_bytes() bytes, 8-byte aligned; nullptr when the cap would be exceeded or
  // memory is exhausted (counted as refused).
  std::uint8_t* acquire();
  // Returns a buffer from acquire() once its records were consumed.
  void release(std::uint8_t* buffer);

  std::size_t buffer_bytes() const { return buffer_bytes_; }
  std::size_t cap_bytes() const { return cap_bytes_; }
  std::size_t in_use_bytes() const;
  std::size_t peak_bytes() const;
  std::uint64_t requested() const;
  std::uint64_t refused() const;
  nlohmann::json to_json() const;

 private:
  std::size_t buffer_bytes_;
  std::size_t cap_bytes_;
  mutable std::mutex mu_;
  std::vector<std::uint8_t*> free_;
  std::size_t allocated_bytes_ = 0;  // in use + on the free list
  std::size_t in_use_bytes_ = 0;
  std::size_t peak_bytes_ = 0;
  std::uint64_t requested_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace goodput::trace
