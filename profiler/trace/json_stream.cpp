#include "profiler/trace/json_stream.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <sys/mman.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "harness/core/error.hpp"
#include "profiler/trace/byte_source.hpp"

namespace goodput::traceio {
namespace {
constexpr std::size_t kChunk = 2 << 20;
constexpr std::size_t kMinChunk = 64 << 10;
constexpr std::size_t kFirstChunk = 256 << 10;
constexpr int kChunks = 4;
constexpr int kMaxDepth = 256;

bool is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Bytes that end the fast run inside a string: '"', '\\' and control characters.
constexpr std::array<bool, 256> kStringStop = [] {
  std::array<bool, 256> t{};
  for (int i = 0; i < 0x20; ++i) t[static_cast<std::size_t>(i)] = true;
  t['"'] = t['\\'] = true;
  return t;
}();

#if !defined(__SSE2__)
// Whether any byte of w is '"', '\\' or below 0x20 (SWAR: a zero byte in w ^ pattern, or a byte
// that borrows when 0x20 is subtracted).
inline bool may_stop_string(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  return has_zero(w ^ (ones * '"')) || has_zero(w ^ (ones * '\\')) ||
         ((w - ones * 0x20) & ~w & highs);
}
#endif

constexpr std::array<bool, 256> kNumberChar = [] {
  std::array<bool, 256> t{};
  for (char c : std::string_view("0123456789-+.eE")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

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

#if defined(__SSE2__)
// Bit i set where p[i] (0 <= i < 16) equals c.
inline unsigned eq16(__m128i v, char c) {
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}
#endif

// What the element scan of take_elements needs between calls: inside a string, after a
// backslash, the nesting depth below the array.
struct ScanState {
  bool in_string = false, escaped = false;
  int depth = 0;
};

// One byte of the element scan outside the block path; true when it ends the run (a ',' or the
// closer at depth 0, at or after `from`).
inline bool scan_byte(char c, std::size_t i, std::size_t from, ScanState& st) {
  if (st.in_string) {
    if (st.escaped)
      st.escaped = false;
    else if (c == '\\')
      st.escaped = true;
    else if (c == '"')
      st.in_string = false;
    return false;
  }
  switch (c) {
    case '"':
      st.in_string = true;
      return false;
    case '{':
    case '[':
      ++st.depth;
      return false;
    case '}':
    case ']':
      if (st.depth == 0) return true;  // the array's own ']' (or a stray closer: the parser says)
      --st.depth;
      return false;
    case ',':
      return st.depth == 0 && i >= from;
    default:
      return false;
  }
}

// One block of `width` (16 or 32) bytes without backslashes, as bit masks (bit j: byte j):
// strings from the quotes' prefix XOR, then only the brackets and commas outside them. Returns
// the index in the block of the ',' or closer that ends the run, or -1 when none does.
inline int scan_block(std::uint32_t quote, std::uint32_t open, std::uint32_t close,
                      std::uint32_t comma, unsigned width, std::size_t i, std::size_t from,
                      ScanState& st) {
  const std::uint32_t all = width == 32 ? 0xffffffffu : 0xffffu;
  std::uint32_t in_str = quote;
  in_str ^= in_str << 1;
  in_str ^= in_str << 2;
  in_str ^= in_str << 4;
  in_str ^= in_str << 8;
  in_str ^= in_str << 16;
  in_str = (in_str ^ (st.in_string ? all : 0u)) & all;
  const std::uint32_t outside = ~in_str & all;
  open &= outside;
  close &= outside;
  comma &= outside;
  st.in_string = (in_str >> (width - 1)) & 1u;
  if (!close && !(comma && st.depth == 0 && i + width > from)) {
    // Opening brackets are few per block: counted bit by bit (no popcnt in baseline x86-64,
    // and __builtin_popcount would be a libgcc call per block).
    for (std::uint32_t m = open; m; m &= m - 1) ++st.depth;
    return -1;
  }
  // Walk this block's brackets and commas in order.
  for (std::uint32_t m = open | close | comma; m; m &= m - 1) {
    const int j = __builtin_ctz(m);
    const std::uint32_t bit = 1u << j;
    if (open & bit) {
      ++st.depth;
    } else if (close & bit) {
      if (st.depth == 0) return j;
      --st.depth;
    } else if (st.depth == 0 && i + static_cast<std::size_t>(j) >= from) {
      return j;
    }
  }
  return -1;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define GOODPUT_SCAN_AVX2 1
__attribute__((target("avx2"))) inline std::uint32_t eq32(__m256i v, char c) {
  return static_cast<std::uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(c))));
}

// 32-byte blocks from i while they hold no backslash; chosen at run time where the CPU has AVX2,
// PCLMUL and POPCNT (the build targets baseline x86-64). Returns where it stopped; `found` when
// at the end of the run. Most blocks lie inside an event, deeper than their closers could
// unwind: those only update the state (strings by a carry-less multiply, depth by popcounts).
__attribute__((target("avx2,pclmul,popcnt"))) std::size_t scan_avx2(const char* p, std::size_t n,
                                                                    std::size_t i, std::size_t from,
                                                                    ScanState& st, bool& found) {
  const __m256i bit5 = _mm256_set1_epi8(0x20);
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    if (eq32(v, '\\')) return i;
    // '[' and ']' are '{' and '}' without bit 5: one compare each for openers and closers.
    const __m256i folded = _mm256_or_si256(v, bit5);
    const std::uint32_t quote = eq32(v, '"'), open = eq32(folded, '{'), close = eq32(folded, '}'),
                        comma = eq32(v, ',');
    // Bit j: inside a string after byte j (the prefix XOR of the quotes).
    const std::uint64_t prefix = static_cast<std::uint64_t>(
        _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, quote), _mm_set1_epi8(-1), 0)));
    const std::uint32_t in_str =
        static_cast<std::uint32_t>(prefix) ^ (st.in_string ? 0xffffffffu : 0u);
    const std::uint32_t outside = ~in_str;
    const int opens = _mm_popcnt_u32(open & outside), closes = _mm_popcnt_u32(close & outside);
    if (st.depth > closes) {  // never back at depth 0 in this block: no stop here
      st.depth += opens - closes;
      st.in_string = in_str >> 31;
      continue;
    }
    const int j = scan_block(quote, open, close, comma, 32, i, from, st);
    if (j >= 0) {
      found = true;
      return i + static_cast<std::size_t>(j);
    }
  }
  return i;
}

// Whether the CPU runs the AVX2 paths. Set during static initialisation (__builtin_cpu_init
// first, as it may not have run yet); use_avx2(false) turns them off.
const bool kCpuHasAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") &&
         __builtin_cpu_supports("popcnt");
}();
std::atomic<bool> avx2_on{kCpuHasAvx2};

// string_stops16 over 32 bytes: moves pos to the first '"', '\\' or control character; false
// when there is none before the last 32-byte block ends.
__attribute__((target("avx2"))) bool skip_string32(const char* buf, std::size_t& pos,
                                                   std::size_t len) {
  for (; pos + 32 <= len; pos += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(buf + pos));
    const __m256i ctl =
        _mm256_cmpeq_epi8(_mm256_max_epu8(v, _mm256_set1_epi8(0x1f)), _mm256_set1_epi8(0x1f));
    if (const std::uint32_t m =
            eq32(v, '"') | eq32(v, '\\') | static_cast<std::uint32_t>(_mm256_movemask_epi8(ctl))) {
      pos += static_cast<unsigned>(__builtin_ctz(m));
      return true;
    }
  }
  return false;
}
#endif

// Scans p[0, n) for the first ',' or ']' at depth 0 outside strings, at or after `from`;
// returns its index or n. Tracks strings, escapes and nesting in st across calls.
std::size_t scan_elements(const char* p, std::size_t n, std::size_t from, ScanState& st) {
  std::size_t i = 0;
  while (i < n) {
#if defined(GOODPUT_SCAN_AVX2)
    if (!st.escaped && avx2_on.load(std::memory_order_relaxed)) {
      bool found = false;
      i = scan_avx2(p, n, i, from, st, found);
      if (found) return i;
    }
#endif
#if defined(__SSE2__)
    if (i + 16 <= n && !st.escaped) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      if (!eq16(v, '\\')) {
        const int j = scan_block(eq16(v, '"'), eq16(v, '{') | eq16(v, '['),
                                 eq16(v, '}') | eq16(v, ']'), eq16(v, ','), 16, i, from, st);
        if (j >= 0) return i + static_cast<std::size_t>(j);
        i += 16;
        continue;
      }
    }
    // A block with a backslash, or the last bytes: one at a time.
    const std::size_t end = std::min(n, (i + 16) & ~std::size_t{15});
#else
    const std::size_t end = n;
#endif
    for (; i < end; ++i)
      if (scan_byte(p[i], i, from, st)) return i;
  }
  return n;
}
}  // namespace

void JsonStream::ChunkFree::operator()(char* p) const noexcept {
  std::free(p);
}

namespace {
// The chunk size for a file of about `size_hint` uncompressed bytes: 2 MiB, but an eighth of a
// file under 4 MiB (at least 64 KiB), so that its parse starts after the first eighth is read
// and the rest is inflated beside it, not after the whole file.
std::size_t chunk_bytes(std::uint64_t size_hint) {
  if (size_hint == 0 || size_hint >= 2 * kChunk) return kChunk;
  return std::clamp<std::size_t>(std::bit_ceil(static_cast<std::size_t>(size_hint / 8)), kMinChunk,
                                 kChunk);
}

// A chunk buffer. `huge`: on a 2 MiB boundary and marked for a transparent huge page, so that
// filling it takes one page fault instead of 512 (the chunks a large file cycles through; a
// small file's chunks are left to ordinary pages, of which it may touch few).
JsonStream::ChunkPtr new_chunk(std::size_t bytes, bool huge) {
  huge = huge && bytes == kChunk;
  void* p = huge ? std::aligned_alloc(kChunk, kChunk) : std::malloc(bytes);
  if (!p) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
  if (huge) ::madvise(p, kChunk, MADV_HUGEPAGE);  // advice only: refused where THP is off
#endif
  return JsonStream::ChunkPtr(static_cast<char*>(p));
}
}  // namespace

// Chunks inflated ahead of the parser. The consumer owns the chunk it parses (buf_); the
// producer fills the free ones and queues them in file order. The first chunk is read on the
// caller's thread: a file that fits in it (text in memory, or a file under 64 KiB) starts no
// thread and allocates one buffer.
struct JsonStream::Reader {
  struct Chunk {
    ChunkPtr data;  // `chunk` bytes, left uninitialised (no page is touched early)
    std::size_t n = 0;
    std::string error;  // the inflater's complaint; the consumer turns it into an InputError
  };
  std::unique_ptr<ByteSource> src;
  std::size_t chunk = kChunk;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Chunk> ready, free;
  bool done = false, stop = false, started = false;
  std::thread thread;

  // Fills c with `want` bytes (one read may return less) and queues it; true at the end of the
  // file.
  bool produce(Chunk c, std::size_t want) {
    c.n = 0;
    bool end = false;
    while (c.n < want) {
      const long got = src->read(c.data.get() + c.n, want - c.n);
      if (got <= 0) {
        if (got < 0) c.error = src->error();
        end = true;
        break;
      }
      c.n += static_cast<std::size_t>(got);
    }
    {
      std::lock_guard lock(mu);
      if (!c.error.empty() && c.n > 0) {
        // The bytes before the damage are parsed first, so the error names where it began.
        Chunk bad{{}, 0, std::move(c.error)};
        c.error.clear();
        ready.push_back(std::move(c));
        ready.push_back(std::move(bad));
      } else {
        ready.push_back(std::move(c));
      }
      if (end) done = true;
    }
    cv.notify_all();
    return end;
  }

  // The first chunk, here; the rest ahead of the parser on a thread, when there is a rest.
  void first() {
    started = true;
    Chunk c = std::move(free.front());
    free.pop_front();
    if (produce(std::move(c), want(0))) return;
    for (int i = 1; i < kChunks; ++i) free.push_back({new_chunk(chunk, true), 0, {}});
    thread = std::thread([this] { run(); });
  }

  // Chunks grow from kFirstChunk, doubling: the parse (and the threads it starts) begins after
  // the first quarter MiB, and the next runs are cut while the rest is inflated beside them.
  std::size_t want(int index) const {
    return index >= 4 ? chunk : std::min(chunk, kFirstChunk << index);
  }

  void run() {
    for (int index = 1;; ++index) {
      Chunk c;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || !free.empty(); });
        if (stop) return;
        c = std::move(free.front());
        free.pop_front();
      }
      if (produce(std::move(c), want(index))) return;
    }
  }
};

JsonStream::JsonStream(const std::string& path, std::string_view text, std::uint64_t offset)
    : path_(path), buf_(text.data()), len_(text.size()), consumed_(offset) {}

JsonStream::JsonStream(const std::string& path) : path_(path), reader_(new Reader) {
  reader_->src = std::make_unique<ByteSource>(path);
  size_hint_ = reader_->src->size_hint();
  reader_->chunk = chunk_bytes(size_hint_);
  // A file of several chunks cycles this one too.
  reader_->free.push_back({new_chunk(reader_->chunk, size_hint_ >= 2 * kChunk), 0, {}});
}

JsonStream::~JsonStream() {
  if (!reader_) return;  // text in memory
  {
    std::lock_guard lock(reader_->mu);
    reader_->stop = true;
  }
  reader_->cv.notify_all();
  if (reader_->thread.joinable()) reader_->thread.join();
}

void JsonStream::fail(const std::string& what) const {
  throw InputError(path_ + ": byte " + std::to_string(offset()) + ": " + what);
}

void JsonStream::fail_expected(const std::string& what, char got) const {
  if (got != '\0') fail("expected " + what + ", found '" + got + "'");
  if (pos_ < len_) fail("expected " + what + ", found a NUL byte");
  fail("unexpected end of file (truncated?), expected " + what);
}

void JsonStream::expect_failed(char want, char got) const {
  fail_expected(std::string("'") + want + "'", got);
}

void JsonStream::more_failed(char closer, char got) const {
  fail_expected(std::string("',' or '") + closer + "'", got);
}

bool JsonStream::fill() {
  if (eof_) return false;
  consumed_ += len_;
  if (!reader_) {  // text in memory: its end is the end
    pos_ = len_ = 0;
    eof_ = true;
    return false;
  }
  pos_ = 0;
  len_ = 0;
  if (!reader_->started) reader_->first();
  Reader::Chunk c;
  {
    std::unique_lock lock(reader_->mu);
    // The chunk before stays alive one more chunk, so a view handed out just before this
    // refill (a key, then ':' and the value's first byte in the next chunk) stays valid.
    if (prev_) reader_->free.push_back({std::move(prev_), 0, {}});
    prev_ = std::move(cur_);
    reader_->cv.notify_all();
    reader_->cv.wait(lock, [&] { return !reader_->ready.empty() || reader_->done; });
    if (reader_->ready.empty()) {
      eof_ = true;
      return false;
    }
    c = std::move(reader_->ready.front());
    reader_->ready.pop_front();
  }
  cur_ = std::move(c.data);
  buf_ = cur_.get();
  len_ = c.n;
  if (!c.error.empty()) {
    eof_ = true;
    fail(c.error);
  }
  if (len_ == 0) {
    eof_ = true;
    return false;
  }
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

#if defined(__SSE2__)
// Advances pos over whole 16-byte blocks of buf[0, len) until one holds a byte that `stops` marks;
// pos then points at that byte. True when it found one.
template <class Stops>
inline bool skip16(const char* buf, std::size_t& pos, std::size_t len, Stops stops) {
  for (; pos + 16 <= len; pos += 16) {
    if (const unsigned m = stops(buf + pos)) {
      pos += static_cast<unsigned>(__builtin_ctz(m));
      return true;
    }
  }
  return false;
}
#endif

void JsonStream::skip_ws_run() {
#if defined(__SSE2__)
  if (skip16(buf_, pos_, len_, detail::non_ws16)) return;
#endif
  while (pos_ < len_ && is_ws(buf_[pos_])) ++pos_;
}

void JsonStream::scan_string_run() {
  const char* p = buf_;
#if defined(GOODPUT_SCAN_AVX2)
  if (avx2_on.load(std::memory_order_relaxed) && skip_string32(p, pos_, len_)) return;
#endif
#if defined(__SSE2__)
  if (skip16(p, pos_, len_, detail::string_stops16)) return;
#else
  // Eight bytes at a time while none of them can end the run (kernel names are long).
  while (pos_ + 8 <= len_) {
    std::uint64_t w;
    std::memcpy(&w, p + pos_, 8);
    if (may_stop_string(w)) break;
    pos_ += 8;
  }
#endif
  while (pos_ < len_ && !kStringStop[static_cast<unsigned char>(p[pos_])]) ++pos_;
}

void JsonStream::raw_string(std::string* out) {
  // Opening quote already consumed by the caller.
  for (;;) {
    if (pos_ == len_ && !fill()) fail("unexpected end of file inside a string (truncated?)");
    // Fast path: copy the run up to a quote, backslash or control character.
    const std::size_t start = pos_;
    const char* p = buf_;
    scan_string_run();
    if (out) out->append(p + start, pos_ - start);
    if (pos_ == len_) continue;
    if (static_cast<unsigned char>(p[pos_]) < 0x20) fail("control character inside a string");
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

std::string_view JsonStream::read_string_view_slow(std::string& scratch) {
  expect('"');
  const std::size_t start = pos_;
  const char* p = buf_;
  scan_string_run();
  if (pos_ < len_ && p[pos_] == '"') {
    ++pos_;
    return {p + start, pos_ - 1 - start};
  }
  pos_ = start;  // escapes, control characters or the chunk's end: the general path
  scratch.clear();
  raw_string(&scratch);
  return scratch;
}

std::string_view JsonStream::read_number_view_slow(std::string& scratch) {
  const char c = peek();
  if (c != '-' && (c < '0' || c > '9')) {
    read_number_text(scratch);  // the error
    return scratch;
  }
  const std::size_t start = pos_;
  const char* p = buf_;
  while (pos_ < len_ && kNumberChar[static_cast<unsigned char>(p[pos_])]) ++pos_;
  if (pos_ < len_) return {p + start, pos_ - start};
  pos_ = start;
  read_number_text(scratch);
  return scratch;
}

void JsonStream::read_string(std::string& out) {
  out.clear();
  expect('"');
  raw_string(&out);
}

void JsonStream::read_number_text(std::string& out) {
  out.clear();
  const char c = peek();
  if (c != '-' && (c < '0' || c > '9')) fail_expected("a number", c);
  for (;;) {
    if (pos_ == len_ && !fill()) return;
    const std::size_t start = pos_;
    while (pos_ < len_ && kNumberChar[static_cast<unsigned char>(buf_[pos_])]) ++pos_;
    out.append(buf_ + start, pos_ - start);
    if (pos_ < len_) return;
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
      fail_expected("a value", c);
    default: {
      if (c == '-' || (c >= '0' && c <= '9')) {
        if (!out) {  // skipped: the view needs no copy when the number ends in this chunk
          read_number_view(skip_scratch_);
          return;
        }
        std::string num;
        read_number_text(num);
        *out += num;
        return;
      }
      fail(std::string("unexpected character '") + c + "'");
    }
  }
}

void JsonStream::skip_rest() {
  ScanState st;
  for (;;) {
    if (pos_ == len_ && !fill()) fail("unexpected end of file inside an object (truncated?)");
    // No ',' stops the scan: only the closer at depth 0.
    const std::size_t n = len_ - pos_;
    const std::size_t i = scan_elements(buf_ + pos_, n, SIZE_MAX, st);
    if (i < n) {
      pos_ += i + 1;
      return;
    }
    pos_ = len_;
  }
}

bool use_avx2(bool on) {
#if defined(GOODPUT_SCAN_AVX2)
  avx2_on.store(on && kCpuHasAvx2);
  return avx2_on.load();
#else
  (void)on;
  return false;
#endif
}

JsonStream::Take JsonStream::take_elements(std::string& out, std::uint64_t& offset,
                                           std::size_t target) {
  out.clear();
  if (peek() == ']') return Take::kNone;
  out.reserve(target + (64 << 10));  // the run and the event that crosses its end, copied once
  offset = this->offset();
  ScanState st;
  for (;;) {
    const std::size_t want = out.size() < target ? target - out.size() : 0;
    const std::size_t at = scan_elements(buf_ + pos_, len_ - pos_, want, st);
    out.append(buf_ + pos_, at);
    pos_ += at;
    if (pos_ < len_) {
      if (buf_[pos_] != ',') return Take::kLast;  // ']' (or a stray closer) stays for the caller
      ++pos_;
      return Take::kMore;
    }
    if (!fill())
      return Take::kLast;  // the end of the input: the element parser says what is missing
  }
}

JsonStream::Take JsonStream::guess_elements(std::string& out, std::uint64_t& offset,
                                            std::size_t target) {
  out.clear();
  if (peek() == ']') return Take::kNone;
  out.reserve(target + (64 << 10));
  offset = this->offset();
  while (out.size() < target) {  // the bulk: copied, not scanned
    if (pos_ == len_ && !fill()) return Take::kUnsure;
    const std::size_t n = std::min(len_ - pos_, target - out.size());
    out.append(buf_ + pos_, n);
    pos_ += n;
  }
  // Then to the next "}, {": '}' seen (1), then its ',' (2), each after optional whitespace.
  int state = 0;
  std::size_t comma = 0;
  for (;;) {
    if (pos_ == len_ && !fill()) return Take::kUnsure;
    if (state == 0) {
      const void* close = std::memchr(buf_ + pos_, '}', len_ - pos_);
      const std::size_t n =
          close ? static_cast<std::size_t>(static_cast<const char*>(close) - (buf_ + pos_)) + 1
                : len_ - pos_;
      out.append(buf_ + pos_, n);
      pos_ += n;
      if (close) state = 1;
      continue;
    }
    const char c = buf_[pos_];
    if (state == 2 && c == '{') {
      out.resize(comma);  // the run ends before the ','; the next starts at this '{'
      return Take::kMore;
    }
    if (c == ',' && state == 1) {
      state = 2;
      comma = out.size();
    } else if (!is_ws(c)) {
      state = c == '}' ? 1 : 0;
    }
    out.push_back(c);
    ++pos_;
  }
}

void JsonStream::read_raw(std::string& out) {
  raw_value(&out, 0);
}
void JsonStream::skip_value() {
  // A container is skipped by the structural scan (strings, escapes, nesting), not parsed: its
  // members are never looked at (Kineto's call stacks, strides, Python ids).
  const char c = peek();
  if (c == '{' || c == '[') {
    ++pos_;
    if (peek() == (c == '{' ? '}' : ']')) {  // empty ("Input names": [], as the 2021 schema has)
      ++pos_;
      return;
    }
    skip_rest();
    return;
  }
  raw_value(nullptr, 0);
}

namespace {
// Whether the eight bytes of w (in memory order) are all ASCII digits.
inline bool eight_digits(std::uint64_t w) {
  return ((w & 0xF0F0F0F0F0F0F0F0ULL) |
          (((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) == 0x3333333333333333ULL;
}
// Their value, the first digit being the lowest byte (little-endian), in three multiplications.
inline std::uint64_t eight_digits_value(std::uint64_t w) {
  w -= 0x3030303030303030ULL;
  w = w * 10 + (w >> 8);
  w = (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  return w & 0xffffffffULL;
}
}  // namespace

std::int64_t micros_text_to_ns(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  // The next byte's digit value, or a value above 9 (also at the end).
  auto digit = [&]() -> unsigned {
    return p < end ? static_cast<unsigned>(static_cast<unsigned char>(*p)) - '0' : 10u;
  };
  const bool neg = p < end && *p == '-';
  if (neg) ++p;
  // One tight loop per digit run (a timestamp has 13 to 16 whole digits); the digit count
  // bounds the value, checked once after.
  const char* const whole_start = p;
  std::uint64_t whole = 0;
  if constexpr (std::endian::native == std::endian::little) {
    for (std::uint64_t w; end - p >= 8 && (std::memcpy(&w, p, 8), eight_digits(w)); p += 8)
      whole = whole * 100000000 + eight_digits_value(w);
  }
  for (unsigned d; (d = digit()) <= 9; ++p) whole = whole * 10 + d;
  if (p == whole_start) throw std::invalid_argument("not a number");
  if (p - whole_start > 18 || whole > static_cast<std::uint64_t>((INT64_MAX - 999) / 1000))
    throw std::invalid_argument("number too large");
  std::int64_t frac = 0;  // the first three decimals: nanoseconds
  bool round_up = false;  // the fourth decimal rounds half up; later ones are ignored
  if (p < end && *p == '.') {
    const char* const frac_start = ++p;
    for (unsigned d; (d = digit()) <= 9; ++p) {
      const auto i = p - frac_start;
      if (i < 3)
        frac = frac * 10 + d;
      else if (i == 3)
        round_up = d >= 5;
    }
    if (p == frac_start) throw std::invalid_argument("not a number");
    for (auto i = p - frac_start; i < 3; ++i) frac *= 10;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    const std::string copy(text);
    char* stop = nullptr;
    const double v = std::strtod(copy.c_str(), &stop);
    if (stop != copy.c_str() + copy.size() || !std::isfinite(v))
      throw std::invalid_argument("not a finite number");
    if (std::fabs(v) >= 9.2e15) throw std::invalid_argument("number too large");
    return static_cast<std::int64_t>(std::llround(v * 1000.0));
  }
  if (p != end) throw std::invalid_argument("not a number");
  const std::int64_t ns = static_cast<std::int64_t>(whole) * 1000 + frac + (round_up ? 1 : 0);
  return neg ? -ns : ns;
}

}  // namespace goodput::traceio
