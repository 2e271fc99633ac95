// A pull parser over a (possibly gzip-compressed) JSON file that never holds the whole document:
// a background thread reads and inflates chunks of up to 2 MiB (ByteSource: gzip or plain) while
// the caller parses the previous one, so decompression and parsing overlap. Trace readers walk the
// top level and the event array with it and keep only what they need. Errors are InputError naming
// the file and the byte offset in the uncompressed JSON.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace goodput::traceio {

#if defined(__SSE2__)
namespace detail {
// Bit i set where p[i] (0 <= i < 16) is '"', '\\' or a control character (below 0x20).
inline unsigned string_stops16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), ctl)));
}
// Bit i set where p[i] (0 <= i < 16) is not JSON whitespace.
inline unsigned non_ws16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ws = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
  return ~static_cast<unsigned>(_mm_movemask_epi8(ws)) & 0xffffu;
}
// Bit i set where p[i] (0 <= i < 16) can be part of a number: a digit, '-', '+', '.', 'e', 'E'.
inline unsigned number_chars16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
  const __m128i e = _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('e'));
  const __m128i sign =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')), _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
  const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(digit, e), _mm_or_si128(sign, dot))));
}
}  // namespace detail
#endif

class JsonStream {
 public:
  // A buffer of inflated text (std::free releases it: plain or 2 MiB-aligned allocation).
  struct ChunkFree {
    void operator()(char* p) const noexcept;
  };
  using ChunkPtr = std::unique_ptr<char[], ChunkFree>;

  explicit JsonStream(const std::string& path);
  // Over text in memory (not copied; it must outlive the stream) that began at byte `offset` of
  // the file at `path`: errors name that file and the offset in it.
  JsonStream(const std::string& path, std::string_view text, std::uint64_t offset);
  ~JsonStream();
  JsonStream(const JsonStream&) = delete;
  JsonStream& operator=(const JsonStream&) = delete;

  // Next non-space byte without consuming it; '\0' at the end of the input (and for a NUL byte
  // in it: at_end() tells the two apart).
  char peek();
  // Consume c (after spaces) or throw "expected c".
  void expect(char c) {
    const char got = peek();
    if (got != c) expect_failed(c, got);
    ++pos_;
  }
  // Consume c if it is next (after spaces).
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool at_end() {
    peek();
    return pos_ >= len_;  // not a NUL byte, which peek() also returns as '\0'
  }

  // Object/array helpers: after '{' or '[', call more(closer) before each member; it consumes
  // the separating comma or the closer and says whether another member follows.
  bool more(char closer, bool& first) {
    const char c = peek();
    if (c == closer) {
      ++pos_;
      return false;
    }
    if (!first) {
      if (c != ',') more_failed(closer, c);
      ++pos_;
    }
    first = false;
    return true;
  }

  // An object's next member, after its '{' or the member before: consumes the ',' (or the
  // closing '}', then false), the key (a view as read_string_view gives) and the ':'.
  bool member(bool& first, std::string_view& key, std::string& scratch);

  void read_string(std::string& out);  // unescapes into UTF-8
  // Fast paths for values used at once: a string without escapes, or a number, lying wholly in
  // the current chunk comes back as a view into it, valid while the parser moves on by less
  // than one chunk (a key stays valid through its ':' and its value's first bytes); otherwise it
  // is copied (unescaped) into scratch and the view is of scratch.
  std::string_view read_string_view(std::string& scratch);
  std::string_view read_number_view(std::string& scratch);
  // A number as its exact decimal text (no conversion), for callers that need exactness.
  void read_number_text(std::string& out);
  // The exact JSON text of the next value (any type), appended to out.
  void read_raw(std::string& out);
  void skip_value();

  // Parallel parsing of a long array: just after its '[' or a ',' between its elements, copies
  // the text of the next elements into out, whole elements only, about `target` bytes of them
  // (at least one element), and consumes the ',' after them. The array's closing ']' and what
  // follows are left unread. `offset` gets the file offset of out[0]. The split is found by a
  // structural scan (strings and nesting tracked), so any valid JSON splits between elements;
  // invalid JSON still fails in the element parser, at its offset.
  enum class Take {
    kNone,   // nothing taken: ']' is next
    kMore,   // a ',' followed the elements taken
    kLast,   // no ',' followed them
    kUnsure  // guess_elements only: the input ended before a cut
  };
  Take take_elements(std::string& out, std::uint64_t& offset, std::size_t target);
  // take_elements without the structural scan: copies `target` bytes, then on to the next
  // '}' ws ',' ws '{' (where one event ends and the next begins, in any Kineto trace), and stops
  // before that ','; the '{' is left unread. A guess, as that text may lie inside a string or a
  // nested value: the caller proves each cut by parsing the run before it from a proven start
  // (a run that parses whole ends exactly at a ',' between elements), and reads again with
  // take_elements when a run fails. kUnsure, with nothing taken back, when the input ends first.
  Take guess_elements(std::string& out, std::uint64_t& offset, std::size_t target);

  // Inside an object or array whose opening bracket was consumed: skips to just past its
  // closing bracket with the structural scan (strings, escapes, nesting), not a full parse: for
  // the members of events that are counted, not kept.
  void skip_rest();

  std::uint64_t offset() const { return consumed_ + pos_; }
  // The uncompressed size of the file as its header or trailer says it (ByteSource::size_hint);
  // 0 over text in memory.
  std::uint64_t size_hint() const { return size_hint_; }
  // Over text in memory: its views stay valid as long as that text does.
  bool in_memory() const { return reader_ == nullptr; }
  // Over text in memory: the text between two offsets read before, and a return to one (to
  // parse a value that was skipped, when its text turns out to be needed).
  std::string_view text(std::uint64_t from, std::uint64_t to) const {
    return {buf_ + (from - consumed_), static_cast<std::size_t>(to - from)};
  }
  void seek(std::uint64_t offset) { pos_ = static_cast<std::size_t>(offset - consumed_); }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;
  // "expected <what>" and what stands there instead: a byte, a NUL byte, or the end of the file
  // ("unexpected end of file (truncated?), ..."). Right after peek(), which returned got.
  [[noreturn]] void fail_expected(const std::string& what, char got) const;

 private:
  struct Reader;  // the background inflate thread and its buffers
  bool fill();
  char next_byte();  // consume one byte; '\0' past the end
  void skip_ws();
  void skip_ws_run();  // a whitespace run of any length, 16 bytes at a time
  [[noreturn]] void expect_failed(char want, char got) const;
  [[noreturn]] void more_failed(char closer, char got) const;
  // Advance to the first '"', '\\' or control character in this chunk (or its end).
  void scan_string_run();
  std::string_view read_string_view_slow(std::string& scratch);
  std::string_view read_number_view_slow(std::string& scratch);
  void raw_string(std::string* out);
  void raw_value(std::string* out, int depth);

  std::string path_;
  std::unique_ptr<Reader> reader_;

  const char* buf_ = nullptr;  // the chunk being parsed (cur_, or text in memory)
  ChunkPtr cur_;               // owns buf_ when streaming
  ChunkPtr prev_;              // the chunk before, kept for views
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t consumed_ = 0;  // bytes before buf_
  std::uint64_t size_hint_ = 0;
  std::string skip_scratch_;  // a skipped number that crosses a chunk boundary
  bool eof_ = false;
};

// Inline: the parser asks for the next byte before nearly every token. One space is skipped
// here; a longer run (a newline and indentation) 16 bytes at a time.
inline char JsonStream::peek() {
  while (pos_ < len_) {
    const char c = buf_[pos_];
    if (static_cast<unsigned char>(c) > ' ') return c;
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c;
    if (++pos_ < len_ && static_cast<unsigned char>(buf_[pos_]) <= ' ') {
#if defined(__SSE2__)
      // A newline and its indentation: usually ends within the next 16 bytes.
      if (len_ - pos_ >= 16) {
        if (const unsigned m = detail::non_ws16(buf_ + pos_)) {
          pos_ += static_cast<unsigned>(__builtin_ctz(m));
          continue;
        }
        pos_ += 16;  // all whitespace: the rest of the run from here
      }
#endif
      skip_ws_run();
    }
  }
  skip_ws();  // the chunk ended: refill
  return pos_ < len_ ? buf_[pos_] : '\0';
}

// The inline fast paths of the two views (the calls the event parser makes most).
inline std::string_view JsonStream::read_string_view(std::string& scratch) {
#if defined(__SSE2__)
  // Keys and short names (most strings read this way): the closing quote found inline, in
  // the 16 bytes after the opening one.
  if (peek() == '"' && len_ - pos_ >= 17) {
    if (const unsigned stops = detail::string_stops16(buf_ + pos_ + 1)) {
      const auto n = static_cast<std::size_t>(__builtin_ctz(stops));
      if (buf_[pos_ + 1 + n] == '"') {
        const std::string_view s(buf_ + pos_ + 1, n);
        pos_ += n + 2;
        return s;
      }
    }
  }
#endif
  return read_string_view_slow(scratch);
}
inline std::string_view JsonStream::read_number_view(std::string& scratch) {
#if defined(__SSE2__)
  // A number that ends within 32 bytes (all but absurd ones; a timestamp with decimals has
  // 17 to 20 characters), inline: the first byte that is not a digit, '-', '+', '.', 'e', 'E'.
  const char c = peek();
  if ((c == '-' || (c >= '0' && c <= '9')) && len_ - pos_ >= 32) {
    for (std::size_t at = pos_; at < pos_ + 32; at += 16) {
      if (const unsigned stop = ~detail::number_chars16(buf_ + at) & 0xffffu) {
        const std::string_view s(buf_ + pos_,
                                 at - pos_ + static_cast<unsigned>(__builtin_ctz(stop)));
        pos_ += s.size();
        return s;
      }
    }
  }
#endif
  return read_number_view_slow(scratch);
}

inline bool JsonStream::member(bool& first, std::string_view& key, std::string& scratch) {
  if (!more('}', first)) return false;
  key = read_string_view(scratch);
  if (pos_ < len_ && buf_[pos_] == ':')  // as writers put it, right after the key
    ++pos_;
  else
    expect(':');
  return true;
}

// The structural and string scans take 32-byte AVX2 blocks where the CPU has AVX2, PCLMUL and
// POPCNT, else 16-byte SSE2 ones. use_avx2(false) forces the latter (tests cover both); returns
// whether AVX2 is now in use.
bool use_avx2(bool on);

// Exact decimal microseconds text -> integer nanoseconds ("12.3456" -> 12345; exponents via
// strtod). Throws std::invalid_argument on text that is not a number.
std::int64_t micros_text_to_ns(std::string_view text);

}  // namespace goodput::traceio
