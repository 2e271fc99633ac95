// The uncompressed bytes of a trace file, in order, whatever its encoding: gzip (one member or
// several, as `cat a.gz b.gz` makes) or plain. gzip goes through ISA-L's igzip where the build
// found it (several times zlib's inflate speed, and a folded CRC-32), else through zlib. Plain
// files are read straight into the caller's buffer. No JSON here: JsonStream sits on top.
#pragma once
#include <cstddef>
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

  // Which inflater this build uses ("isa-l" or "zlib"), for reports.
  static const char* inflater();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

}  // namespace goodput::traceio
