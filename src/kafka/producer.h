// KafkaProducer: idempotent, acks=all producer that counts every delivery report, so a command can
// tell exactly how many messages the broker acknowledged and how many it did not.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "kafka/client.h"

namespace mtastream::kafka {

// One delivery report, as librdkafka gives it: `error` is RD_KAFKA_RESP_ERR_NO_ERROR when the broker
// acknowledged the message (acks=all). `tag` is what the caller passed to produce(). The views are
// valid only during the callback.
struct DeliveryReport {
  uint64_t tag = 0;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string_view key;
  std::string_view value;
};

struct DeliveryCounts {
  uint64_t queued = 0;     // accepted by produce()
  uint64_t delivered = 0;  // acknowledged by the broker
  uint64_t failed = 0;     // delivery report with an error (or purged on abort)
  uint64_t bytes = 0;      // value bytes queued
  std::map<std::string, uint64_t> errors;  // failure description -> count
  uint64_t in_flight() const { return queued - delivered - failed; }
  // Not acknowledged: failed, or still in flight when the producer gave up.
  uint64_t undelivered() const { return queued - delivered; }
};

struct ProducerOptions {
  // Merged into the configuration: the producer's own defaults are batching-friendly and its required
  // properties are enable.idempotence=true and acks=all (see producer.cpp).
  ConfRequest conf;
  // Called for every delivery report, on the thread that calls produce()/poll()/flush().
  std::function<void(const DeliveryReport&)> on_delivery;
};

class KafkaProducer {
 public:
  explicit KafkaProducer(const config::Settings& settings, ProducerOptions options = {});
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message (copied). An empty key is sent as a null key. partition -1 lets the
  // partitioner (murmur2, as the Java client) pick by key. Blocks, serving delivery reports, while
  // librdkafka's queue is full. A message too large to ever go is counted as failed (with its report)
  // at once. Throws Error on a fatal producer error or a bad topic name.
  void produce(std::string_view topic, std::string_view key, std::string_view value, uint64_t tag = 0,
               int32_t partition = -1);

  // Serves delivery reports; waits up to `timeout` for the first one.
  void poll(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // Waits until every queued message has its delivery report, or `timeout` passed, or `keep_waiting`
  // returned false (checked about every 100 ms). Returns true when nothing is left in flight.
  bool flush(std::chrono::milliseconds timeout, const std::function<bool()>& keep_waiting = {});

  // Gives up on what is still queued or in flight: they get failure reports (counted as failed).
  void abort_in_flight();

  const DeliveryCounts& counts() const { return counts_; }
  // A fatal error (the idempotent producer cannot guarantee order/exactly-once any more), or "".
  std::string fatal_error() const;
  rd_kafka_t* handle() { return handle_.get(); }

  // Set once librdkafka reported wrong credentials (served by poll/flush): they are not transient, so the
  // caller stops instead of waiting message.timeout.ms for every message. "" while none.
  const std::string& authentication_error() const { return authentication_error_; }

 private:
  static void delivery_callback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);
  static void error_callback(rd_kafka_t* handle, int err, const char* reason, void* opaque);
  rd_kafka_topic_t* topic_handle(std::string_view topic);
  void check_fatal();
  // Counts a message librdkafka refused at produce() time as sent-and-failed, with its report.
  void fail_locally(rd_kafka_resp_err_t err, std::string_view key, std::string_view value, uint64_t tag,
                    int32_t partition);

  ProducerOptions options_;
  HandlePtr handle_;
  std::string authentication_error_;
  std::map<std::string, rd_kafka_topic_t*, std::less<>> topics_;
  rd_kafka_topic_t* last_topic_ = nullptr;
  std::string last_topic_name_;
  DeliveryCounts counts_;
  uint64_t since_poll_ = 0;
};

// The end of every producing run (produce, replay -t): waits for every delivery report. librdkafka fails a
// message after message.timeout.ms, so the wait ends; it gives up at once on a SIGINT/SIGTERM that comes
// after the call (the first one stopped the reading: "Ctrl-C again gives up") or on wrong credentials.
// What is left is purged and counted as failed. `on_wait` runs about every 100 ms (progress lines).
// Returns true when every message got its report.
bool await_deliveries(KafkaProducer& producer, const std::function<void()>& on_wait = {});

}  // namespace mtastream::kafka
