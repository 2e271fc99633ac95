#include "profiler/trace/json_stream.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <zlib.h>

#include "harness/core/error.hpp"

namespace goodput::traceio {
namespace {
constexpr std::size_t kChunk = 1 << 20;
constexpr int kMaxDepth = 256;

bool is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
}  // namespace

JsonStream::JsonStream(const std::string& path) : path_(path), buf_(kChunk) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
  gzbuffer(f, 256 * 1024);
  gz_ = f;
}

JsonStream::~JsonStream() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

void JsonStream::fail(const std::string& what) const {
  throw InputError(path_ + ": byte " + std::to_string(offset()) + ": " + what);
}

bool JsonStream::fill() {
  if (eof_) return false;
  consumed_ += len_;
  pos_ = 0;
  len_ = 0;
  const int n = gzread(static_cast<gzFile>(gz_), buf_.data(), static_cast<unsigned>(buf_.size()));
  if (n < 0) {
    int err = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &err);
    fail(std::string("bad gzip data (") + (msg ? msg : "unknown zlib error") + ")");
  }
  if (n == 0) {
    int err = 0;
    gzerror(static_cast<gzFile>(gz_), &err);
    if (err != Z_OK && err != Z_STREAM_END) fail("bad gzip data (truncated or corrupt stream)");
    eof_ = true;
    return false;
  }
  len_ = static_cast<std::size_t>(n);
  return true;
}

char JsonStream::next_byte() {
  if (pos_ == len_ && !fill()) return '\0';
  return buf_[pos_++];
}

void JsonStream::skip_ws() {
  for (;;) {
    while (pos_ < len_ && is_ws(buf_[pos_])) ++pos_;
    if (pos_ < len_ || !fill()) return;
  }
}

char JsonStream::peek() {
  skip_ws();
  return pos_ < len_ ? buf_[pos_] : '\0';
}

bool JsonStream::at_end() {
  return peek() == '\0';
}

void JsonStream::expect(char c) {
  const char got = peek();
  if (got != c) {
    if (got == '\0') fail(std::string("unexpected end of file (truncated?), expected '") + c + "'");
    fail(std::string("expected '") + c + "', found '" + got + "'");
  }
  ++pos_;
}

bool JsonStream::accept(char c) {
  if (peek() != c) return false;
  ++pos_;
  return true;
}

bool JsonStream::more(char closer, bool& first) {
  if (accept(closer)) return false;
  if (!first) {
    if (peek() == '\0')
      fail(std::string("unexpected end of file (truncated?), expected ',' or '") + closer + "'");
    expect(',');
  }
  first = false;
  return true;
}

void JsonStream::raw_string(std::string* out) {
  // Opening quote already consumed by the caller.
  for (;;) {
    if (pos_ == len_ && !fill()) fail("unexpected end of file inside a string (truncated?)");
    // Fast path: copy the run up to a quote or backslash.
    std::size_t start = pos_;
    while (pos_ < len_ && buf_[pos_] != '"' && buf_[pos_] != '\\') {
      if (static_cast<unsigned char>(buf_[pos_]) < 0x20) fail("control character inside a string");
      ++pos_;
    }
    if (out) out->append(buf_.data() + start, pos_ - start);
    if (pos_ == len_) continue;
    const char c = buf_[pos_++];
    if (c == '"') return;
    const char e = next_byte();
    switch (e) {
      case '"':
        if (out) *out += '"';
        break;
      case '\\':
        if (out) *out += '\\';
        break;
      case '/':
        if (out) *out += '/';
        break;
      case 'b':
        if (out) *out += '\b';
        break;
      case 'f':
        if (out) *out += '\f';
        break;
      case 'n':
        if (out) *out += '\n';
        break;
      case 'r':
        if (out) *out += '\r';
        break;
      case 't':
        if (out) *out += '\t';
        break;
      case 'u': {
        auto hex4 = [&]() {
          std::uint32_t v = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = next_byte();
            v <<= 4;
            if (h >= '0' && h <= '9')
              v |= static_cast<std::uint32_t>(h - '0');
            else if (h >= 'a' && h <= 'f')
              v |= static_cast<std::uint32_t>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              v |= static_cast<std::uint32_t>(h - 'A' + 10);
            else
              fail("bad \\u escape in a string");
          }
          return v;
        };
        std::uint32_t cp = hex4();
        if (cp >= 0xD800 && cp < 0xDC00) {
          if (next_byte() != '\\' || next_byte() != 'u') fail("unpaired surrogate in a string");
          const std::uint32_t lo = hex4();
          if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair in a string");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (out) append_utf8(*out, cp);
        break;
      }
      case '\0':
        fail("unexpected end of file inside a string (truncated?)");
      default:
        fail(std::string("bad escape '\\") + e + "' in a string");
    }
  }
}

void JsonStream::read_string(std::string& out) {
  out.clear();
  expect('"');
  raw_string(&out);
}

void JsonStream::read_number_text(std::string& out) {
  out.clear();
  const char c = peek();
  if (c != '-' && (c < '0' || c > '9')) {
    if (c == '\0') fail("unexpected end of file (truncated?), expected a number");
    fail(std::string("expected a number, found '") + c + "'");
  }
  for (;;) {
    if (pos_ == len_ && !fill()) return;
    const char d = buf_[pos_];
    if ((d >= '0' && d <= '9') || d == '-' || d == '+' || d == '.' || d == 'e' || d == 'E') {
      out += d;
      ++pos_;
    } else {
      return;
    }
  }
}

void JsonStream::raw_value(std::string* out, int depth) {
  if (depth > kMaxDepth) fail("JSON nested too deeply");
  const char c = peek();
  switch (c) {
    case '{':
    case '[': {
      const char closer = c == '{' ? '}' : ']';
      ++pos_;
      if (out) *out += c;
      bool first = true;
      int members = 0;
      while (more(closer, first)) {
        if (out && members++ > 0) *out += ',';
        if (c == '{') {
          expect('"');
          if (out) *out += '"';
          std::string key;
          raw_string(out ? &key : nullptr);
          if (out) {
            // Re-escape minimal characters so the raw text stays valid JSON.
            for (char k : key) {
              if (k == '"' || k == '\\') *out += '\\';
              *out += k;
            }
            *out += "\":";
          }
          expect(':');
        }
        raw_value(out, depth + 1);
      }
      if (out) *out += closer;
      return;
    }
    case '"': {
      ++pos_;
      if (!out) {
        raw_string(nullptr);
        return;
      }
      std::string s;
      raw_string(&s);
      *out += '"';
      for (char k : s) {
        if (k == '"' || k == '\\') {
          *out += '\\';
          *out += k;
        } else if (k == '\n') {
          *out += "\\n";
        } else if (k == '\t') {
          *out += "\\t";
        } else if (static_cast<unsigned char>(k) < 0x20) {
          *out += ' ';
        } else {
          *out += k;
        }
      }
      *out += '"';
      return;
    }
    case 't':
    case 'f':
    case 'n': {
      const char* word = c == 't' ? "true" : c == 'f' ? "false" : "null";
      for (const char* w = word; *w; ++w)
        if (next_byte() != *w) fail(std::string("invalid literal, expected ") + word);
      if (out) *out += word;
      return;
    }
    case '\0':
      fail("unexpected end of file (truncated?), expected a value");
    default: {
      if (c == '-' || (c >= '0' && c <= '9')) {
        std::string num;
        read_number_text(num);
        if (out) *out += num;
        return;
      }
      fail(std::string("unexpected character '") + c + "'");
    }
  }
}

void JsonStream::read_raw(std::string& out) {
  raw_value(&out, 0);
}
void JsonStream::skip_value() {
  raw_value(nullptr, 0);
}

std::int64_t micros_text_to_ns(const std::string& text) {
  const char* p = text.c_str();
  bool neg = false;
  if (*p == '-') {
    neg = true;
    ++p;
  }
  if (!(*p >= '0' && *p <= '9')) throw std::invalid_argument("not a number");
  std::int64_t whole = 0;
  while (*p >= '0' && *p <= '9') {
    if (whole > (INT64_MAX / 10 - 10) / 1000) throw std::invalid_argument("number too large");
    whole = whole * 10 + (*p++ - '0');
  }
  std::int64_t frac = 0;
  int digits = 0;
  bool round_up = false;
  if (*p == '.') {
    ++p;
    if (!(*p >= '0' && *p <= '9')) throw std::invalid_argument("not a number");
    while (*p >= '0' && *p <= '9') {
      if (digits < 3) {
        frac = frac * 10 + (*p - '0');
        ++digits;
      } else if (digits == 3) {
        round_up = *p >= '5';
        ++digits;
      }
      ++p;
    }
  }
  if (*p == 'e' || *p == 'E') {
    const double v = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(v)) throw std::invalid_argument("not a finite number");
    return static_cast<std::int64_t>(std::llround(v * 1000.0));
  }
  if (*p != '\0') throw std::invalid_argument("not a number");
  while (digits < 3) {
    frac *= 10;
    ++digits;
  }
  std::int64_t ns = whole * 1000 + std::min<std::int64_t>(frac, 999) + (round_up ? 1 : 0);
  return neg ? -ns : ns;
}

}  // namespace goodput::traceio
