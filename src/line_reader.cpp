#include "line_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "stop_signal.h"
#include "error.h"

namespace mtastream {

namespace {
constexpr size_t read_chunk = 1 << 20;
constexpr size_t compressed_chunk = 256 << 10;
}  // namespace

struct LineReader::Gzip {
  z_stream zs{};
  std::vector<unsigned char> in = std::vector<unsigned char>(compressed_chunk);
  bool input_eof = false;
  bool in_member = false;  // inside a gzip member: input ending here is a truncation
  bool finished = false;
  bool initialized = false;
  ~Gzip() {
    if (initialized) inflateEnd(&zs);
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
  buf_.resize(max_line_ + 2 * read_chunk);
}

LineReader::~LineReader() {
  if (owns_fd_) ::close(fd_);
}

size_t LineReader::read_raw(char* dst, size_t capacity) {
  while (true) {
    ssize_t n = ::read(fd_, dst, capacity);
    if (n >= 0) {
      raw_bytes_ += static_cast<uint64_t>(n);
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
      gzip_ = true;
      gz_ = std::make_unique<Gzip>();
      if (got > gz_->in.size()) gz_->in.resize(got);
      std::memcpy(gz_->in.data(), dst, got);
      gz_->zs.next_in = gz_->in.data();
      gz_->zs.avail_in = static_cast<uInt>(got);
      if (inflateInit2(&gz_->zs, 15 + 16) != Z_OK) throw Error(fmt::format("'{}': cannot start gzip decoder", name_));
      gz_->initialized = true;
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
  z_stream& zs = g.zs;
  size_t produced = 0;
  while (produced == 0) {
    if (g.finished) {
      eof_ = true;
      return 0;
    }
    if (zs.avail_in == 0 && !g.input_eof) {
      size_t n = read_raw(reinterpret_cast<char*>(g.in.data()), g.in.size());
      if (n == 0) g.input_eof = true;
      zs.next_in = g.in.data();
      zs.avail_in = static_cast<uInt>(n);
    }
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
      // One member done; another may follow (pandas appends one per chunk). Trailing zero bytes
      // (tape padding) end the input as they do for gzip(1).
      g.in_member = false;
      while (true) {
        if (zs.avail_in == 0 && !g.input_eof) {
          size_t n = read_raw(reinterpret_cast<char*>(g.in.data()), g.in.size());
          if (n == 0) g.input_eof = true;
          zs.next_in = g.in.data();
          zs.avail_in = static_cast<uInt>(n);
        }
        if (zs.avail_in == 0 || zs.next_in[0] != 0) break;
        for (uInt i = 0; i < zs.avail_in; ++i)
          if (zs.next_in[i] != 0) throw Error(fmt::format("'{}': unexpected bytes after a gzip member", name_));
        zs.avail_in = 0;
      }
      if (zs.avail_in == 0 && g.input_eof)
        g.finished = true;
      else if (inflateReset(&zs) != Z_OK)
        throw Error(fmt::format("'{}': gzip decoder reset failed", name_));
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

}  // namespace mtastream
