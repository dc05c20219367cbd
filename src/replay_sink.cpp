#include "replay_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"
#include "kafka/producer.h"
#include "log.h"
#include "stop_signal.h"

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
      // EINVAL/EROFS: a pipe, FIFO or device such as /dev/null, which has nothing to sync.
      if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) throw Error(fmt::format("cannot sync '{}': {}", path_, std::strerror(errno)));
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

class TopicSink : public MessageSink {
 public:
  TopicSink(const Settings& settings, std::string topic) : topic_(std::move(topic)), producer_(settings) {}

  void send(std::string_view key, bool has_key, std::string_view value) override {
    producer_.produce(topic_, has_key ? key : std::string_view(), value);
    update();
  }
  void serve() override {
    producer_.poll();
    update();
  }
  void finish(bool) override {
    // librdkafka fails what it cannot deliver within message.timeout.ms, so this wait ends;
    // a second SIGINT/SIGTERM stops waiting.
    bool all_reported = producer_.flush(std::chrono::hours(24), [] { return stop_signal_count() < 2; });
    if (!all_reported) {
      log::warn("gave up waiting for {} delivery reports", producer_.counts().in_flight());
      producer_.abort_in_flight();
    }
    update();
    for (const auto& [error, count] : producer_.counts().errors)
      log::error("{} messages not delivered to topic '{}': {}", count, topic_, error);
    if (std::string fatal = producer_.fatal_error(); !fatal.empty()) log::error("producer failed: {}", fatal);
  }
  const SinkCounts& counts() const override { return counts_; }
  std::string describe() const override { return "topic " + topic_; }

 private:
  void update() {
    const kafka::DeliveryCounts& c = producer_.counts();
    counts_.sent = c.queued;
    counts_.delivered = c.delivered;
    counts_.failed = c.failed;
  }

  std::string topic_;
  kafka::KafkaProducer producer_;
  SinkCounts counts_;
};

}  // namespace

std::unique_ptr<MessageSink> make_topic_sink(const Settings& settings, const std::string& topic) {
  return std::make_unique<TopicSink>(settings, topic);
}

std::unique_ptr<MessageSink> make_output_sink(const std::string& path) { return std::make_unique<OutputSink>(path); }

}  // namespace mtastream
