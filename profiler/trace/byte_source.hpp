// The uncompressed bytes of a trace file, in order, whatever its encoding: gzip (one member or
// several, as `cat a.gz b.gz` makes) or plain. gzip goes through ISA-L's igzip where the build
// found it (several times zlib's inflate speed, and a folded CRC-32), else through zlib. Plain
// files are read straight into the caller's buffer. No JSON here: JsonStream sits on top.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace goodput::traceio {

class ByteSource {
 public:
  // Throws InputError when the file cannot be opened.
  explicit ByteSource(const std::string& path);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Up to n uncompressed bytes into out: the count, 0 at the end, or -1 on bad or truncated
  // compressed data (error() then says why; the bytes before the damage were returned first).
  long read(char* out, std::size_t n);
  const std::string& error() const { return error_; }
  // The uncompressed size where the file says it cheaply: a plain file's size, or the ISIZE
  // trailer of a gzip file (its last member's size, modulo 4 GiB) when it is 1 to 64 times the
  // file's. Never more than the true size of a well-formed file; 0 when unknown or implausible.
  // For sizing buffers, nothing else.
  std::uint64_t size_hint() const { return size_hint_; }

  // Which inflater this build uses ("isa-l" or "zlib"), for reports.
  static const char* inflater();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
  std::uint64_t size_hint_ = 0;
};

}  // namespace goodput::traceio
