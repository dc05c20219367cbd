#include "dead_letter.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "durable_file.h"
#include "error.h"
#include "log.h"

namespace mtastream {

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

void append_json_string(std::string_view s, std::string& out) {
  out += '"';
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f)
          out += fmt::format("\\u{:04x}", u);
        else
          out += c;
    }
  }
  out += '"';
}

void append_base64(std::string_view s, std::string& out) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= s.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8) | static_cast<uint8_t>(s[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = static_cast<uint8_t>(s[i]) << 16;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
}

}  // namespace

std::string file_source(std::string_view file, uint64_t line) { return fmt::format("{}:{}", file, line); }

std::string kafka_source(std::string_view topic, int32_t partition, int64_t offset) {
  return fmt::format("{}/{}@{}", topic, partition, offset);
}

std::string dead_letter_line(std::string_view source, std::string_view reason, std::string_view message) {
  std::string out;
  out.reserve(message.size() + reason.size() + source.size() + 48);
  out += "{\"source\":";
  append_json_string(valid_utf8(source) ? source : std::string_view("(not UTF-8)"), out);
  out += ",\"reason\":";
  append_json_string(valid_utf8(reason) ? reason : std::string_view("(not UTF-8)"), out);
  if (valid_utf8(message)) {
    out += ",\"message\":";
    append_json_string(message, out);
  } else {
    out += ",\"message_base64\":\"";
    append_base64(message, out);
    out += '"';
  }
  out += "}\n";
  return out;
}

DeadLetterWriter::DeadLetterWriter(const std::string& path) : path_(path) {
  if (path.empty()) return;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd_ < 0) throw Error(fmt::format("cannot open dead-letter file '{}': {}", path, std::strerror(errno)));
}

DeadLetterWriter::~DeadLetterWriter() {
  try {
    close();
  } catch (const std::exception& e) {
    log::error("{}", e.what());
  }
}

void DeadLetterWriter::add(std::string_view source, std::string_view reason, std::string_view message) {
  ++count_;
  if (fd_ < 0) return;
  buffer_ += dead_letter_line(source, reason, message);
  if (buffer_.size() >= (1 << 20)) write_buffer();
}

void DeadLetterWriter::write_buffer() {
  write_all(fd_, buffer_, fmt::format("dead-letter file '{}'", path_));
  buffer_.clear();
}

void DeadLetterWriter::flush() {
  if (fd_ < 0) return;
  write_buffer();
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS)  // EINVAL: a pipe or terminal
    throw Error(fmt::format("cannot fsync dead-letter file '{}': {}", path_, std::strerror(errno)));
}

void DeadLetterWriter::close() {
  if (fd_ < 0) return;
  flush();
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0)
    throw Error(fmt::format("cannot close dead-letter file '{}': {}", path_, std::strerror(errno)));
}

}  // namespace mtastream
