#include "source/line_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "base/stop_signal.h"
#include "base/error.h"

namespace mtastream::source {

namespace {
constexpr size_t read_chunk = 1 << 20;
constexpr size_t compressed_chunk = 256 << 10;
// libdeflate decodes whole members only, into memory: members of a regular file that decode to at most
// this much go through it (2-3x zlib's speed); bigger ones, and pipes (lines must come as bytes
// arrive), through zlib's stream. Memory stays bounded by about twice this.
constexpr size_t max_whole_member = 32 << 20;
}  // namespace

struct LineReader::Gzip {
  z_stream zs{};  // next_in/avail_in: the compressed bytes not yet decoded, in `in` (also for libdeflate)
  std::vector<unsigned char> in = std::vector<unsigned char>(compressed_chunk);
  bool input_eof = false;
  bool in_member = false;  // inside a gzip member: input ending here is a truncation
  bool finished = false;
  bool initialized = false;
  libdeflate_decompressor* whole = nullptr;  // set while members go through libdeflate
  std::vector<char> member;  // the member libdeflate decoded: [member_pos, member_end) not yet handed out
  size_t member_pos = 0, member_end = 0;
  ~Gzip() {
    if (initialized) inflateEnd(&zs);
    if (whole) libdeflate_free_decompressor(whole);
  }
};

LineReader::LineReader(const std::string& path, size_t max_line_bytes)
    : name_(path == "-" ? "stdin" : path), max_line_(max_line_bytes < 16 ? 16 : max_line_bytes) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    owns_fd_ = true;
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  }
  struct stat st{};
  regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  buf_.resize(max_line_ + 2 * read_chunk);
}

LineReader::~LineReader() {
  if (owns_fd_) ::close(fd_);
}

size_t LineReader::read_raw(char* dst, size_t capacity) {
  while (true) {
    ssize_t n = ::read(fd_, dst, capacity);
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    // SIGINT/SIGTERM interrupt a read blocked on a pipe or terminal: end the input so the command can
    // finish what it has (stop_signal handlers are installed without SA_RESTART for this).
    if (errno == EINTR) {
      if (stop_requested()) return 0;
      continue;
    }
    throw Error(fmt::format("cannot read '{}': {}", name_, std::strerror(errno)));
  }
}

size_t LineReader::fill() {
  char* dst = buf_.data() + end_;
  size_t space = buf_.size() - end_;
  if (!started_) {
    // Sniff the first bytes: gzip members start with 1f 8b.
    started_ = true;
    size_t got = 0;
    while (got < 2) {
      size_t n = read_raw(dst + got, space - got);
      if (n == 0) break;
      got += n;
    }
    if (got >= 2 && static_cast<unsigned char>(dst[0]) == 0x1f && static_cast<unsigned char>(dst[1]) == 0x8b) {
      start_gzip(dst, got);
    } else {
      if (got == 0) eof_ = true;
      return got;
    }
  }
  if (!gzip_) {
    size_t n = read_raw(dst, space);
    if (n == 0) eof_ = true;
    return n;
  }
  Gzip& g = *gz_;
  while (true) {
    if (g.member_pos < g.member_end) {
      size_t n = std::min(space, g.member_end - g.member_pos);
      std::memcpy(dst, g.member.data() + g.member_pos, n);
      g.member_pos += n;
      return n;
    }
    if (!g.whole) return inflate_some(dst, space);
    if (g.finished) {
      eof_ = true;
      return 0;
    }
    if (!decode_whole_member()) {
      // This member (and the rest) through zlib: it streams a big one and names what is wrong with a bad one.
      libdeflate_free_decompressor(std::exchange(g.whole, nullptr));
      std::vector<char>().swap(g.member);
    }
  }
}

void LineReader::start_gzip(const char* first, size_t got) {
  gzip_ = true;
  gz_ = std::make_unique<Gzip>();
  Gzip& g = *gz_;
  if (got > g.in.size()) g.in.resize(got);
  std::memcpy(g.in.data(), first, got);
  g.zs.next_in = g.in.data();
  g.zs.avail_in = static_cast<uInt>(got);
  if (inflateInit2(&g.zs, 15 + 16) != Z_OK) throw Error(fmt::format("'{}': cannot start gzip decoder", name_));
  g.initialized = true;
  // A regular file's last 4 bytes are its last member's size (mod 2^32): a guess at the members' size.
  struct stat st{};
  unsigned char tail[4];
  if (!regular_ || ::fstat(fd_, &st) != 0 || st.st_size < 18 || ::pread(fd_, tail, 4, st.st_size - 4) != 4) return;
  size_t last = tail[0] | tail[1] << 8 | tail[2] << 16 | static_cast<size_t>(tail[3]) << 24;
  if (last > max_whole_member) return;  // most likely one big member: zlib streams it
  g.whole = libdeflate_alloc_decompressor();
  if (!g.whole) throw Error(fmt::format("'{}': cannot start gzip decoder", name_));
  g.member.resize(std::min(max_whole_member, std::max<size_t>(last + last / 4, 1 << 20)));
}

bool LineReader::read_more_gzip(size_t room) {
  Gzip& g = *gz_;
  size_t have = g.zs.avail_in;
  if (have > 0 && g.zs.next_in != g.in.data()) std::memmove(g.in.data(), g.zs.next_in, have);
  if (have == g.in.size() || g.in.size() < room) g.in.resize(std::max(room, 2 * g.in.size()));
  size_t n = read_raw(reinterpret_cast<char*>(g.in.data()) + have, g.in.size() - have);
  if (n == 0) g.input_eof = true;
  g.zs.next_in = g.in.data();
  g.zs.avail_in = static_cast<uInt>(have + n);
  return n > 0;
}

bool LineReader::decode_whole_member() {
  Gzip& g = *gz_;
  while (true) {
    size_t used = 0, produced = 0;
    libdeflate_result rc = libdeflate_gzip_decompress_ex(g.whole, g.zs.next_in, g.zs.avail_in, g.member.data(),
                                                         g.member.size(), &used, &produced);
    if (rc == LIBDEFLATE_SUCCESS) {
      g.zs.next_in += used;
      g.zs.avail_in -= static_cast<uInt>(used);
      g.member_pos = 0;
      g.member_end = produced;
      end_member();
      return true;
    }
    if (rc == LIBDEFLATE_INSUFFICIENT_SPACE) {
      if (g.member.size() >= max_whole_member) return false;
      g.member.resize(std::min(max_whole_member, 2 * g.member.size()));
      continue;
    }
    // Bad data: usually the member goes on past the bytes read so far (else zlib will say what is wrong).
    // Room for many members of this size, so that few are decoded twice like this one.
    constexpr size_t max_in = max_whole_member + (1 << 20);
    if (g.input_eof || g.zs.avail_in > max_in || !read_more_gzip(std::min(max_in, 16 * size_t{g.zs.avail_in})))
      return false;
  }
}

void LineReader::end_member() {
  // One member done; another may follow (pandas appends one per chunk). Trailing zero bytes
  // (tape padding) end the input as they do for gzip(1).
  Gzip& g = *gz_;
  z_stream& zs = g.zs;
  g.in_member = false;
  while (true) {
    if (zs.avail_in == 0 && !g.input_eof) read_more_gzip();
    if (zs.avail_in == 0 || zs.next_in[0] != 0) break;
    for (uInt i = 0; i < zs.avail_in; ++i)
      if (zs.next_in[i] != 0) throw Error(fmt::format("'{}': unexpected bytes after a gzip member", name_));
    zs.avail_in = 0;
  }
  if (zs.avail_in == 0 && g.input_eof)
    g.finished = true;
  else if (inflateReset(&zs) != Z_OK)
    throw Error(fmt::format("'{}': gzip decoder reset failed", name_));
}

size_t LineReader::inflate_some(char* dst, size_t space) {
  Gzip& g = *gz_;
  z_stream& zs = g.zs;
  size_t produced = 0;
  while (produced == 0) {
    if (g.finished) {
      eof_ = true;
      return 0;
    }
    if (zs.avail_in == 0 && !g.input_eof) read_more_gzip();
    if (zs.avail_in == 0 && g.input_eof) {
      if (g.in_member) throw Error(fmt::format("'{}': gzip data ends early (truncated file?)", name_));
      g.finished = true;
      continue;
    }
    zs.next_out = reinterpret_cast<Bytef*>(dst);
    zs.avail_out = static_cast<uInt>(space);
    g.in_member = true;
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced = space - zs.avail_out;
    if (rc == Z_STREAM_END) {
      end_member();
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) continue;  // needs more input
    if (rc != Z_OK)
      throw Error(fmt::format("'{}': corrupt gzip data ({})", name_, zs.msg ? zs.msg : "inflate error"));
  }
  return produced;
}

// Editors on Windows (Notepad, Excel's "CSV UTF-8") start a file with the UTF-8 byte order mark; it is
// not data, and left in place it would become part of the first field or spoil a header or JSON line.
void LineReader::strip_bom(std::string_view& line) const {
  if (line_number_ == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
}

bool LineReader::has_buffered_line() const {
  if (eof_) return true;
  if (too_long_) return false;
  return std::memchr(buf_.data() + begin_, '\n', end_ - begin_) != nullptr;
}

bool LineReader::next(std::string_view& line) {
  if (too_long_) {
    // Skip the rest of the line that was cut.
    too_long_ = false;
    begin_ += max_line_;
    while (true) {
      const void* nl = std::memchr(buf_.data() + begin_, '\n', end_ - begin_);
      if (nl) {
        begin_ = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data()) + 1;
        break;
      }
      begin_ = end_ = 0;
      if (!eof_) end_ = fill();
      if (end_ == 0) {
        unterminated_ = true;
        return false;
      }
    }
  }
  size_t scanned = begin_;
  while (true) {
    const char* base = buf_.data();
    const void* nl = std::memchr(base + scanned, '\n', end_ - scanned);
    if (nl) {
      size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - base);
      size_t len = pos - begin_;
      if (len > max_line_) break;  // handled as too long below
      if (len > 0 && base[pos - 1] == '\r') --len;
      line = std::string_view(base + begin_, len);
      begin_ = pos + 1;
      ++line_number_;
      strip_bom(line);
      return true;
    }
    scanned = end_;
    if (end_ - begin_ > max_line_) break;
    if (eof_) {
      if (begin_ == end_) return false;
      size_t len = end_ - begin_;
      if (base[end_ - 1] == '\r') --len;
      line = std::string_view(base + begin_, len);
      begin_ = end_;
      unterminated_ = true;
      ++line_number_;
      strip_bom(line);
      return true;
    }
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      scanned -= begin_;
      begin_ = 0;
    }
    end_ += fill();
  }
  // Longer than the limit: hand out the first max_line_ bytes; the next call skips the rest.
  too_long_ = true;
  line = std::string_view(buf_.data() + begin_, max_line_);
  ++line_number_;
  strip_bom(line);
  return true;
}

}  // namespace mtastream::source
