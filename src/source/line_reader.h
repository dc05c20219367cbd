// Reads lines from a file or stdin, plain or gzip (multi-member too), fast and with bounded memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mtastream::source {

class LineReader {
 public:
  static constexpr size_t default_max_line_bytes = 1 << 20;  // 1 MiB

  // `path` is a file or "-" for stdin. gzip is detected by its magic bytes, not the name.
  // Throws mtastream::Error naming the file when it cannot be opened.
  explicit LineReader(const std::string& path, size_t max_line_bytes = default_max_line_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its '\n' or "\r\n" (the last line also without a newline), and the first line
  // without a UTF-8 byte order mark; false at the end.
  // `line` stays valid until the next call. Throws mtastream::Error on read or gzip errors (file named).
  // A line longer than the limit is returned cut to the limit with line_too_long() true; reading
  // continues at the following line.
  bool next(std::string_view& line);

  uint64_t line_number() const { return line_number_; }  // 1-based number of the line last returned
  const std::string& source_name() const { return name_; }  // the path, or "stdin" for "-"
  bool line_too_long() const { return too_long_; }          // the line last returned was cut
  bool last_line_unterminated() const { return unterminated_; }  // the input's last line had no '\n'
  bool is_gzip() const { return gzip_; }
  bool is_regular_file() const { return regular_; }  // not a pipe, terminal or device: all of it is there
  // The next call to next() returns without reading (a whole line is buffered, or the end was seen):
  // a caller holding lines from a pipe hands them on before a read that may block.
  bool has_buffered_line() const;

 private:
  void strip_bom(std::string_view& line) const;  // a UTF-8 byte order mark before the first line is dropped
  size_t fill();  // appends decoded bytes after end_; returns how many (0 = end of input)
  size_t read_raw(char* dst, size_t capacity);
  // gzip: the first bytes were a member's magic; members through libdeflate (whole, regular files) or zlib.
  void start_gzip(const char* first, size_t got);
  bool read_more_gzip(size_t room = 0);  // more compressed bytes after those not decoded yet (in a buffer
                                        // of at least `room` bytes); false at the end
  bool decode_whole_member();           // libdeflate; false: leave this member to zlib
  void end_member();                    // after a member: padding, the end, or the next member
  size_t inflate_some(char* dst, size_t space);  // zlib

  std::string name_;
  int fd_ = -1;
  bool owns_fd_ = false;
  size_t max_line_;
  std::vector<char> buf_;  // decoded bytes: [begin_, end_) not yet returned
  size_t begin_ = 0, end_ = 0;
  uint64_t line_number_ = 0;
  bool eof_ = false;
  bool too_long_ = false;
  bool unterminated_ = false;
  bool gzip_ = false;
  bool regular_ = false;
  bool started_ = false;
  struct Gzip;
  std::unique_ptr<Gzip> gz_;
};

}  // namespace mtastream::source
