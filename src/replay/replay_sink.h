// Where `replay` sends messages: a file or stdout (one value a line), or a Kafka topic.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mtastream::config {
class Settings;
}

namespace mtastream::replay {

struct SinkCounts {
  uint64_t sent = 0;       // handed to the sink
  uint64_t delivered = 0;  // written and flushed (file) or acknowledged by the broker (topic)
  uint64_t failed = 0;     // known not delivered
};

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // `has_key` false: no key (a null key on a topic).
  virtual void send(std::string_view key, bool has_key, std::string_view value) = 0;
  // Makes what was sent visible now (paced replays): flush a file, serve delivery reports.
  virtual void serve() {}
  // Flushes everything (a topic: waits for the delivery reports, kafka::await_deliveries); counts are
  // final after.
  virtual void finish() = 0;
  virtual const SinkCounts& counts() const = 0;
  virtual std::string describe() const = 0;  // "stdout", "file out.csv", "topic mta-turnstile"
};

// `path` "-" is stdout. A file is created or truncated; finish() fsyncs it.
std::unique_ptr<MessageSink> make_output_sink(const std::string& path);
// The idempotent, acks=all producer of `produce`; finish() waits for every delivery report (a second
// Ctrl-C gives up: what is left counts as failed). Messages keep their order per key.
std::unique_ptr<MessageSink> make_topic_sink(const config::Settings& settings, const std::string& topic);

}  // namespace mtastream::replay
