#include "replay/replay_sink.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "kafka/producer.h"
#include "base/log.h"
#include "base/output_file.h"

namespace mtastream::replay {

namespace {

class OutputSink : public MessageSink {
 public:
  explicit OutputSink(const std::string& path) : path_(path) {
    if (path_ != "-") file_ = std::make_unique<OutputFile>(path_);
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
    if (!file_) flush_stdout();
  }
  void finish() override {
    write_buffer();
    if (file_)
      file_->commit();
    else
      flush_stdout();
  }
  const SinkCounts& counts() const override { return counts_; }
  std::string describe() const override { return path_ == "-" ? "stdout" : "file " + path_; }

 private:
  void write_buffer() {
    if (buffer_.empty()) return;
    if (file_)
      file_->write(buffer_);
    else
      write_stdout(buffer_);
    buffer_.clear();
    counts_.delivered += pending_;
    pending_ = 0;
  }

  std::string path_;
  std::unique_ptr<OutputFile> file_;  // none: stdout
  std::string buffer_;
  uint64_t pending_ = 0;
  SinkCounts counts_;
};

class TopicSink : public MessageSink {
 public:
  TopicSink(const config::Settings& settings, std::string topic) : topic_(std::move(topic)), producer_(settings) {}

  void send(std::string_view key, bool has_key, std::string_view value) override {
    producer_.produce(topic_, has_key ? key : std::string_view(), value);
    update();
  }
  void serve() override {
    producer_.poll();
    update();
  }
  void finish() override {
    kafka::await_deliveries(producer_);
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

std::unique_ptr<MessageSink> make_topic_sink(const config::Settings& settings, const std::string& topic) {
  return std::make_unique<TopicSink>(settings, topic);
}

std::unique_ptr<MessageSink> make_output_sink(const std::string& path) { return std::make_unique<OutputSink>(path); }

}  // namespace mtastream::replay
