#include "kafka/producer.h"

#include <fmt/format.h>

#include "base/log.h"
#include "base/stop_signal.h"

namespace mtastream::kafka {

KafkaProducer::KafkaProducer(const config::Settings& settings, ProducerOptions options) : options_(std::move(options)) {
  bootstrap_servers(settings);  // a clear usage error before librdkafka's
  ConfRequest request = options_.conf;
  // Throughput defaults in the spirit of kcat; the user's settings win over them.
  request.defaults.emplace("linger.ms", "5");
  request.defaults.emplace("partitioner", "murmur2_random");  // same partition per key as Java clients
  request.defaults.emplace("queue.buffering.max.messages", "500000");
  request.defaults.emplace("queue.buffering.max.kbytes", "262144");
  // The delivery guarantee: no duplicates, no reordering on retries, acknowledged by all in-sync replicas.
  request.required.emplace("enable.idempotence", "true");
  request.required.emplace("acks", "all");
  ConfPtr conf = build_conf(settings, request);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::delivery_callback);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaProducer::error_callback);
  rd_kafka_conf_set_opaque(conf.get(), this);
  handle_ = create_handle(RD_KAFKA_PRODUCER, std::move(conf));
}

KafkaProducer::~KafkaProducer() {
  for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
  // Anything still in flight here was given up by the caller; destroying without flushing does not wait.
  if (handle_ && rd_kafka_outq_len(handle_.get()) > 0)
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  handle_.reset();  // before the counters it reports into go away
}

void KafkaProducer::error_callback(rd_kafka_t* handle, int err, const char* reason, void* opaque) {
  report_client_error(handle, err, reason, opaque);
  auto* self = static_cast<KafkaProducer*>(opaque);
  if ((err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) &&
      self->authentication_error_.empty())
    self->authentication_error_ = scrub_secrets(reason);
}

void KafkaProducer::delivery_callback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  DeliveryCounts& counts = self->counts_;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts.delivered;
  } else {
    ++counts.failed;
    ++counts.errors[describe_error(message->err)];
  }
  if (self->options_.on_delivery) {
    DeliveryReport report;
    report.tag = reinterpret_cast<uint64_t>(message->_private);
    report.error = message->err;
    report.partition = message->partition;
    report.offset = message->offset;
    report.key = std::string_view(static_cast<const char*>(message->key), message->key_len);
    report.value = std::string_view(static_cast<const char*>(message->payload), message->len);
    self->options_.on_delivery(report);
  }
}

rd_kafka_topic_t* KafkaProducer::topic_handle(std::string_view topic) {
  if (last_topic_ && topic == last_topic_name_) return last_topic_;
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    rd_kafka_topic_t* created = rd_kafka_topic_new(handle_.get(), std::string(topic).c_str(), nullptr);
    if (!created) throw_error(rd_kafka_last_error(), fmt::format("topic '{}'", topic));
    it = topics_.emplace(std::string(topic), created).first;
  }
  last_topic_ = it->second;
  last_topic_name_ = it->first;
  return last_topic_;
}

std::string KafkaProducer::fatal_error() const {
  char reason[512];
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(handle_.get(), reason, sizeof reason);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return "";
  return scrub_secrets(fmt::format("{} ({})", reason, rd_kafka_err2name(err)));
}

void KafkaProducer::check_fatal() {
  std::string fatal = fatal_error();
  if (!fatal.empty()) throw Error("Kafka producer stopped by a fatal error: " + fatal);
}

void KafkaProducer::produce(std::string_view topic, std::string_view key, std::string_view value, uint64_t tag,
                            int32_t partition) {
  rd_kafka_topic_t* rkt = topic_handle(topic);
  for (;;) {
    int rc = rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, const_cast<char*>(value.data()), value.size(),
                              key.empty() ? nullptr : key.data(), key.size(), reinterpret_cast<void*>(tag));
    if (rc == 0) break;
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(handle_.get(), 10);  // delivery reports make room
      if (!authentication_error_.empty()) {  // no report will come before message.timeout.ms: fail it now
        fail_locally(RD_KAFKA_RESP_ERR__AUTHENTICATION, key, value, tag, partition);
        return;
      }
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) check_fatal();
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      // This message alone cannot go (larger than message.max.bytes): it fails, the others go on.
      fail_locally(err, key, value, tag, partition);
      return;
    }
    throw_error(err, fmt::format("cannot produce to topic '{}'", topic));
  }
  ++counts_.queued;
  counts_.bytes += value.size();
  if (++since_poll_ >= 1000) {
    since_poll_ = 0;
    rd_kafka_poll(handle_.get(), 0);
  }
}

void KafkaProducer::fail_locally(rd_kafka_resp_err_t err, std::string_view key, std::string_view value, uint64_t tag,
                                 int32_t partition) {
  ++counts_.queued;
  ++counts_.failed;
  counts_.bytes += value.size();
  ++counts_.errors[describe_error(err)];
  if (options_.on_delivery) {
    DeliveryReport report;
    report.tag = tag;
    report.error = err;
    report.partition = partition;
    report.key = key;
    report.value = value;
    options_.on_delivery(report);
  }
}

void KafkaProducer::poll(std::chrono::milliseconds timeout) {
  rd_kafka_poll(handle_.get(), static_cast<int>(timeout.count()));
}

bool KafkaProducer::flush(std::chrono::milliseconds timeout, const std::function<bool()>& keep_waiting) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rd_kafka_outq_len(handle_.get()) > 0 || counts_.in_flight() > 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (keep_waiting && !keep_waiting()) return false;
    auto step = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    rd_kafka_flush(handle_.get(), static_cast<int>(std::max<int64_t>(step.count(), 1)));
  }
  rd_kafka_poll(handle_.get(), 0);
  return counts_.in_flight() == 0;
}

void KafkaProducer::abort_in_flight() {
  rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // Purged messages get their (failed) reports on the next polls.
  for (int i = 0; i < 50 && counts_.in_flight() > 0; ++i) rd_kafka_poll(handle_.get(), 20);
}

bool await_deliveries(KafkaProducer& producer, const std::function<void()>& on_wait) {
  if (producer.counts().in_flight() > 0) log::debug("waiting for {} delivery reports", producer.counts().in_flight());
  const int signals_at_start = stop_signal_count();
  const auto started = std::chrono::steady_clock::now();
  bool hinted = false;
  bool all = producer.flush(std::chrono::hours(24), [&] {
    if (on_wait) on_wait();
    if (!hinted && signals_at_start > 0 && std::chrono::steady_clock::now() - started > std::chrono::seconds(1)) {
      log::info("flushing {} messages in flight; press Ctrl-C again to give up on them",
                producer.counts().in_flight());
      hinted = true;
    }
    return stop_signal_count() <= signals_at_start && producer.authentication_error().empty();
  });
  if (!producer.authentication_error().empty())
    log::error("Kafka authentication failed: {} (check sasl.mechanisms, sasl.username and sasl.password)",
               producer.authentication_error());
  if (!all) {
    log::warn("giving up on {} messages in flight", producer.counts().in_flight());
    producer.abort_in_flight();
  }
  return all;
}

}  // namespace mtastream::kafka
