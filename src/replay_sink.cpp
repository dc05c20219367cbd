#include "replay_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "log.h"

namespace mtastream {

namespace {

class OutputSink : public MessageSink {
 public:
  explicit OutputSink(const std::string& path) : path_(path) {
    if (path_ == "-") return;
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(fmt::format("cannot create output file '{}': {}", path_, std::strerror(errno)));
  }
  ~OutputSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  void send(std::string_view, bool, std::string_view value) override {
    buffer_.append(value);
    buffer_ += '\n';
    ++pending_;
    ++counts_.sent;
    if (buffer_.size() >= (1 << 16)) write_buffer();
  }
  void serve() override {
    write_buffer();
    if (fd_ < 0) flush_stdout();
  }
  void finish(bool) override {
    write_buffer();
    if (fd_ < 0) {
      flush_stdout();
    } else {
      if (::fsync(fd_) != 0) throw Error(fmt::format("cannot sync '{}': {}", path_, std::strerror(errno)));
      if (::close(fd_) != 0) {
        fd_ = -1;
        throw Error(fmt::format("cannot close '{}': {}", path_, std::strerror(errno)));
      }
      fd_ = -1;
    }
  }
  const SinkCounts& counts() const override { return counts_; }
  std::string describe() const override { return path_ == "-" ? "stdout" : "file " + path_; }

 private:
  void write_buffer() {
    if (buffer_.empty()) return;
    if (fd_ < 0) {
      write_stdout(buffer_);
    } else {
      const char* p = buffer_.data();
      size_t left = buffer_.size();
      while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
        p += n;
        left -= static_cast<size_t>(n);
      }
    }
    buffer_.clear();
    counts_.delivered += pending_;
    pending_ = 0;
  }

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t pending_ = 0;
  SinkCounts counts_;
};

}  // namespace

std::unique_ptr<MessageSink> make_output_sink(const std::string& path) { return std::make_unique<OutputSink>(path); }

}  // namespace mtastream
