// A pull parser over a (possibly gzip-compressed) JSON file that never holds the whole document:
// it reads 1 MiB at a time through zlib (gzread passes plain files through unchanged). Trace
// readers walk the top level and the event array with it and keep only what they need.
// Errors are InputError naming the file and the byte offset in the uncompressed JSON.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace goodput::traceio {

class JsonStream {
 public:
  explicit JsonStream(const std::string& path);
  ~JsonStream();
  JsonStream(const JsonStream&) = delete;
  JsonStream& operator=(const JsonStream&) = delete;

  // Next non-space byte without consuming it; '\0' at the end of the input.
  char peek();
  // Consume c (after spaces) or throw "expected c".
  void expect(char c);
  // Consume c if it is next (after spaces).
  bool accept(char c);
  bool at_end();

  // Object/array helpers: after '{' or '[', call more(closer) before each member; it consumes
  // the separating comma or the closer and says whether another member follows.
  bool more(char closer, bool& first);

  void read_string(std::string& out);  // unescapes into UTF-8
  // A number as its exact decimal text (no conversion), for callers that need exactness.
  void read_number_text(std::string& out);
  // The exact JSON text of the next value (any type), appended to out.
  void read_raw(std::string& out);
  void skip_value();

  std::uint64_t offset() const { return consumed_ + pos_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  bool fill();
  char next_byte();  // consume one byte; '\0' past the end
  void skip_ws();
  void raw_string(std::string* out);
  void raw_value(std::string* out, int depth);

  std::string path_;
  void* gz_ = nullptr;
  std::vector<char> buf_;
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t consumed_ = 0;  // bytes before buf_
  bool eof_ = false;
};

// Exact decimal microseconds text -> integer nanoseconds ("12.3456" -> 12345; exponents via
// strtod). Throws std::invalid_argument on text that is not a number.
std::int64_t micros_text_to_ns(const std::string& text);

}  // namespace goodput::traceio
