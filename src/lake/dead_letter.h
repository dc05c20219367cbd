// Keeps rejected messages aside: one NDJSON object per line with where it came from, why, and its bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream::lake {

// "file:line" for a file (stdin shown as "stdin:line").
std::string file_source(std::string_view file, uint64_t line);
// "topic/partition@offset" for a Kafka message.
std::string kafka_source(std::string_view topic, int32_t partition, int64_t offset);

// Formats one dead-letter line (with '\n'):
//   {"source":"...","reason":"...","message":"..."}
// A message that is not valid UTF-8 is kept exactly as "message_base64":"..." instead of "message"
// (source and reason are escaped by JsonWriter's rule: a byte that is not UTF-8 becomes U+FFFD).
std::string dead_letter_line(std::string_view source, std::string_view reason, std::string_view message);

// Appends dead-letter lines to a file (created if missing, opened in append mode). An empty path
// means none: add() only counts. Lines are buffered; close() writes, fsyncs and closes (also called
// by the destructor, which swallows errors: call close() to see them).
class DeadLetterWriter {
 public:
  explicit DeadLetterWriter(const std::string& path);  // throws Error when the file cannot be opened
  ~DeadLetterWriter();
  DeadLetterWriter(const DeadLetterWriter&) = delete;
  DeadLetterWriter& operator=(const DeadLetterWriter&) = delete;

  void add(std::string_view source, std::string_view reason, std::string_view message);
  void flush();  // write buffered lines and fsync (consume: before committing offsets past them)
  void close();
  uint64_t count() const { return count_; }
  bool enabled() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

 private:
  void write_buffer();
  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t count_ = 0;
};

}  // namespace mtastream::lake
