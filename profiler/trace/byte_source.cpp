#include "profiler/trace/byte_source.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef GOODPUT_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#include "harness/core/error.hpp"

namespace goodput::traceio {
namespace {
constexpr std::size_t kInput = 256 << 10;  // compressed bytes read per system call
constexpr std::size_t kProbe = 4 << 10;    // what is read to tell gzip from plain

bool gzip_magic(const unsigned char* p, std::size_t n) {
  return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

#ifdef GOODPUT_HAVE_ISAL
const char* isal_error(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC-32 mismatch: the data is corrupt";
    default:
      return "inflate error";
  }
}
#endif
}  // namespace

struct ByteSource::Impl {
  int fd = -1;
  bool gzip = false;
  bool in_eof = false;  // the file has no more bytes
  bool done = false;    // no more output
  std::string pending;  // an error to report after the bytes before it
  // kProbe bytes until the file is known to be gzip, then kInput: a plain file is read straight
  // into the caller's buffers, and reading a quarter MiB ahead only cost it fresh pages and a
  // copy (and opening a small trace a fifth of a millisecond).
  std::unique_ptr<unsigned char[]> in{new unsigned char[kProbe]};
  std::size_t cap = kProbe;
  // Input window [in_pos, in_len) of `in`.
  std::size_t in_pos = 0, in_len = 0;
#ifdef GOODPUT_HAVE_ISAL
  std::unique_ptr<inflate_state> inflater;  // gzip only (87 KB)
  inflate_state& st() {
    return *inflater;
  }
#else
  z_stream zs{};
  bool zs_open = false;
#endif

  ~Impl() {
#ifndef GOODPUT_HAVE_ISAL
    if (zs_open) inflateEnd(&zs);
#endif
    if (fd >= 0) ::close(fd);
  }

  // Read more of the file behind the unread input, keeping that input (moved to the front).
  // False on a read error (pending says why).
  bool refill() {
    if (in_pos > 0) {
      std::memmove(in.get(), in.get() + in_pos, in_len - in_pos);
      in_len -= in_pos;
      in_pos = 0;
    }
    while (in_len < cap) {
      const ssize_t got = ::read(fd, in.get() + in_len, cap - in_len);
      if (got < 0) {
        if (errno == EINTR) continue;
        pending = std::string("read error (") + std::strerror(errno) + ")";
        return false;
      }
      if (got == 0) {
        in_eof = true;
        break;
      }
      in_len += static_cast<std::size_t>(got);
      break;  // one system call per refill: the inflater is waiting
    }
    return true;
  }

  std::size_t avail() const {
    return in_len - in_pos;
  }

  // After a member's end: another gzip member follows (as `cat a.gz b.gz` makes), or the file
  // ends. Bytes after the last member that do not start a member are ignored, as gzip does.
  bool next_member() {
    while (avail() < 2 && !in_eof)
      if (!refill()) return false;
    if (!gzip_magic(in.get() + in_pos, avail())) {
      done = true;
      return false;
    }
    return true;
  }

  // Inflate into out[0, n); returns the bytes produced (an error or the end leaves pending/done).
  std::size_t inflate(unsigned char* out, std::size_t n);

  // One call of the library's inflate on the unread input: bytes consumed and produced, and
  // whether a gzip member ended or the data is bad (pending then says why).
  struct Step {
    std::size_t consumed, produced;
    enum { kOk, kMemberEnd, kError } status;
  };
  Step step(unsigned char* out, std::size_t n);
  void next_member_reset();  // ready the inflater for the member that follows
};

#ifdef GOODPUT_HAVE_ISAL
ByteSource::Impl::Step ByteSource::Impl::step(unsigned char* out, std::size_t n) {
  inflate_state& z = st();
  z.next_in = in.get() + in_pos;
  z.avail_in = static_cast<std::uint32_t>(avail());
  z.next_out = out;
  z.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(n, UINT32_MAX));
  const std::uint32_t in_before = z.avail_in, out_before = z.avail_out;
  const int r = isal_inflate(&z);
  Step s{in_before - z.avail_in, out_before - z.avail_out, Step::kOk};
  if (r < 0) {
    pending = std::string("bad gzip data (") + isal_error(r) + ")";
    s.status = Step::kError;
  } else if (z.block_state == ISAL_BLOCK_FINISH) {
    s.status = Step::kMemberEnd;
  }
  return s;
}

void ByteSource::Impl::next_member_reset() {
  isal_inflate_reset(&st());
  st().crc_flag = ISAL_GZIP;
}
#else
ByteSource::Impl::Step ByteSource::Impl::step(unsigned char* out, std::size_t n) {
  zs.next_in = in.get() + in_pos;
  zs.avail_in = static_cast<uInt>(avail());
  zs.next_out = out;
  zs.avail_out = static_cast<uInt>(std::min<std::size_t>(n, UINT_MAX));
  const uInt in_before = zs.avail_in, out_before = zs.avail_out;
  const int r = ::inflate(&zs, Z_NO_FLUSH);
  Step s{in_before - zs.avail_in, out_before - zs.avail_out, Step::kOk};
  if (r == Z_STREAM_END) {
    s.status = Step::kMemberEnd;
  } else if (r != Z_OK && r != Z_BUF_ERROR) {
    pending = std::string("bad gzip data (") + (zs.msg ? zs.msg : "inflate error") + ")";
    s.status = Step::kError;
  }
  return s;
}

void ByteSource::Impl::next_member_reset() {
  inflateReset(&zs);
}
#endif

std::size_t ByteSource::Impl::inflate(unsigned char* out, std::size_t n) {
  std::size_t produced = 0;
  while (produced < n && !done && pending.empty()) {
    if (avail() == 0 && !in_eof && !refill()) break;
    const Step s = step(out + produced, n - produced);
    in_pos += s.consumed;
    produced += s.produced;
    if (s.status == Step::kError) break;
    if (s.status == Step::kMemberEnd) {
      if (!next_member()) break;
      next_member_reset();
      continue;
    }
    if (s.consumed || s.produced) continue;
    if (in_eof) {
      pending = "bad gzip data (truncated or corrupt stream)";
    } else if (!refill()) {
      break;
    }
  }
  return produced;
}

ByteSource::ByteSource(const std::string& path) : impl_(new Impl) {
  impl_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl_->fd < 0) throw InputError(path + ": cannot open (" + std::strerror(errno) + ")");
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(impl_->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  // The first bytes say gzip or plain.
  while (impl_->avail() < 2 && !impl_->in_eof)
    if (!impl_->refill()) break;
  impl_->gzip = gzip_magic(impl_->in.get(), impl_->avail());
  struct stat st {};
  if (::fstat(impl_->fd, &st) == 0 && st.st_size > 0) {
    const auto disk = static_cast<std::uint64_t>(st.st_size);
    unsigned char t[4];
    if (!impl_->gzip) {
      size_hint_ = disk;
    } else if (disk >= 18 && ::pread(impl_->fd, t, 4, st.st_size - 4) == 4) {
      const std::uint64_t isize = t[0] | t[1] << 8 | t[2] << 16 | std::uint64_t{t[3]} << 24;
      // Believed between 1 and 64 times the compressed size (JSON traces compress 5-30 times):
      // a file cut short ends in compressed bytes, not a trailer, and a wrapped size is smaller.
      if (isize >= disk && isize / 64 <= disk) size_hint_ = isize;
    }
  }
  if (!impl_->gzip) return;
  // Compressed input from here on: kInput bytes a system call, the probe's bytes kept.
  std::unique_ptr<unsigned char[]> in(new unsigned char[kInput]);
  std::memcpy(in.get(), impl_->in.get(), impl_->in_len);
  impl_->in = std::move(in);
  impl_->cap = kInput;
#ifdef GOODPUT_HAVE_ISAL
  impl_->inflater = std::make_unique<inflate_state>();
  isal_inflate_init(&impl_->st());
  impl_->st().crc_flag = ISAL_GZIP;
#else
  if (inflateInit2(&impl_->zs, 16 + MAX_WBITS) != Z_OK)
    throw InputError(path + ": cannot start zlib's inflate");
  impl_->zs_open = true;
#endif
}

ByteSource::~ByteSource() = default;

long ByteSource::read(char* out, std::size_t n) {
  Impl& s = *impl_;
  n = std::min<std::size_t>(n, LONG_MAX);
  std::size_t got = 0;
  if (s.gzip) {
    got = s.inflate(reinterpret_cast<unsigned char*>(out), n);
  } else {
    // Plain: what is buffered, then straight from the file.
    got = std::min(n, s.avail());
    std::memcpy(out, s.in.get() + s.in_pos, got);
    s.in_pos += got;
    while (got < n && !s.in_eof) {
      const ssize_t r = ::read(s.fd, out + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        s.pending = std::string("read error (") + std::strerror(errno) + ")";
        break;
      }
      if (r == 0) s.in_eof = true;
      got += static_cast<std::size_t>(r);
    }
  }
  if (got > 0) return static_cast<long>(got);
  if (!s.pending.empty()) {
    error_ = s.pending;
    return -1;
  }
  return 0;
}

const char* ByteSource::inflater() {
#ifdef GOODPUT_HAVE_ISAL
  return "isa-l";
#else
  return "zlib";
#endif
}

}  // namespace goodput::traceio
