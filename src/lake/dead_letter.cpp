#include "lake/dead_letter.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/durable_file.h"
#include "base/encoding.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "base/log.h"

namespace mtastream::lake {

std::string file_source(std::string_view file, uint64_t line) { return fmt::format("{}:{}", file, line); }

std::string kafka_source(std::string_view topic, int32_t partition, int64_t offset) {
  return fmt::format("{}/{}@{}", topic, partition, offset);
}

std::string dead_letter_line(std::string_view source, std::string_view reason, std::string_view message) {
  std::string out;
  out.reserve(message.size() + reason.size() + source.size() + 48);
  JsonWriter json(out);
  json.begin_object().field("source", source).field("reason", reason);
  if (valid_utf8(message))
    json.field("message", message);
  else
    json.field("message_base64", base64_encode(message));
  json.end_object();
  out += '\n';
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

}  // namespace mtastream::lake
