#include "kafka/consumer.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <utility>

#include "base/log.h"

namespace mtastream::kafka {

ConfRequest consumer_conf(const ConsumerSetup& setup) {
  ConfRequest conf;
  conf.required["group.id"] = setup.group;
  conf.required["enable.auto.commit"] = "false";
  conf.required["enable.auto.offset.store"] = setup.store_offsets ? "true" : "false";
  conf.required["enable.partition.eof"] = "true";
  if (!setup.client_id.empty()) conf.required["client.id"] = setup.client_id;
  if (!setup.offset_reset.empty()) conf.defaults["auto.offset.reset"] = setup.offset_reset;
  // librdkafka 2.0.x backs a partition's fetcher off for a long while once its prefetch queue holds
  // queued.min.messages (100000): a deeper queue keeps fetches flowing, bounded by the kbytes below.
  conf.defaults["queued.min.messages"] = "1000000";
  if (rd_kafka_version() >= 0x02040000) {
    conf.defaults["queued.max.messages.kbytes"] = "4096";
    conf.defaults["fetch.queue.backoff.ms"] = "10";
  }
  return conf;
}

// One list for both consumers. GROUP_AUTHORIZATION_FAILED can only come to a consumer that uses a group
// (consume, consume --raw -G); a group-less --raw reader never sees it.
bool is_fatal(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__FATAL: return true;
    default: return false;
  }
}

namespace {

using ListPtr = CHandle<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>;

ListPtr to_list(const std::vector<TopicPartition>& partitions, bool with_metadata) {
  ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& p : partitions) {
    rd_kafka_topic_partition_t* entry = rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
    entry->offset = p.offset;
    if (with_metadata && !p.metadata.empty()) {
      // The list owns its entries' metadata and frees it with free().
      entry->metadata = std::malloc(p.metadata.size());
      std::memcpy(entry->metadata, p.metadata.data(), p.metadata.size());
      entry->metadata_size = p.metadata.size();
    }
  }
  return list;
}

std::vector<TopicPartition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; list && i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& e = list->elems[i];
    TopicPartition p;
    p.topic = e.topic;
    p.partition = e.partition;
    p.offset = e.offset;
    if (e.metadata && e.metadata_size) p.metadata.assign(static_cast<const char*>(e.metadata), e.metadata_size);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

KafkaConsumer::KafkaConsumer(const config::Settings& settings, ConsumerOptions options) : options_(std::move(options)) {
  bootstrap_servers(settings);  // a clear error when no broker is given
  ConfPtr conf = build_conf(settings, options_.conf);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), error_callback);
  if (options_.on_rebalance) rd_kafka_conf_set_rebalance_cb(conf.get(), rebalance_callback);
  if (options_.on_statistics) rd_kafka_conf_set_stats_cb(conf.get(), statistics_callback);
  handle_ = create_handle(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(handle_.get());
  queue_ = rd_kafka_queue_get_consumer(handle_.get());
}

KafkaConsumer::~KafkaConsumer() {
  try {
    close();
  } catch (...) {
  }
  if (queue_) rd_kafka_queue_destroy(queue_);
}

void KafkaConsumer::subscribe(const std::vector<std::string>& topics) {
  ListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const std::string& topic : topics)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(handle_.get(), list.get()))
    throw_error(err, "cannot subscribe");
}

void KafkaConsumer::assign(const std::vector<TopicPartition>& partitions) {
  ListPtr list = to_list(partitions, false);
  if (rd_kafka_resp_err_t err = rd_kafka_assign(handle_.get(), list.get())) throw_error(err, "cannot assign partitions");
}

// Served by poll() on the caller's thread. Wrong credentials are not transient: a consumer would otherwise
// retry them for ever (a producer at least times its messages out), so poll() throws (found by secrets.sh).
void KafkaConsumer::error_callback(rd_kafka_t* handle, int err, const char* reason, void* opaque) {
  report_client_error(handle, err, reason, opaque);
  auto* self = static_cast<KafkaConsumer*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && !self->pending_error_)
    self->pending_error_ = std::make_exception_ptr(
        Error(fmt::format("Kafka authentication failed: {} (check sasl.username / sasl.password)",
                          scrub_secrets(reason))));
}

int KafkaConsumer::statistics_callback(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  try {
    self->options_.on_statistics(std::string_view(json, json_len));
  } catch (...) {
    if (!self->pending_error_) self->pending_error_ = std::current_exception();
  }
  return 0;  // librdkafka frees the JSON
}

MessagePtr KafkaConsumer::poll(std::chrono::milliseconds timeout) {
  MessagePtr message(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(timeout.count())));
  if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
  return message;
}

void KafkaConsumer::poll_batch(std::chrono::milliseconds timeout, size_t max, std::vector<MessagePtr>& out) {
  out.clear();
  batch_.resize(max);
  ssize_t n = rd_kafka_consume_batch_queue(queue_, static_cast<int>(timeout.count()), batch_.data(), max);
  for (ssize_t i = 0; i < n; ++i) out.emplace_back(batch_[i]);
  if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
}

rd_kafka_resp_err_t KafkaConsumer::commit(const std::vector<TopicPartition>& offsets, std::chrono::milliseconds timeout,
                                          const std::function<bool()>& hurry) {
  if (offsets.empty()) return RD_KAFKA_RESP_ERR_NO_ERROR;
  ListPtr list = to_list(offsets, true);
  // Through a queue of our own rather than rd_kafka_commit(), which waits as long as librdkafka looks
  // for a coordinator (a minute and more with the broker gone, and Ctrl-C must not wait that long).
  rd_kafka_queue_t* replies = rd_kafka_queue_new(handle_.get());
  rd_kafka_resp_err_t err = rd_kafka_commit_queue(handle_.get(), list.get(), replies, nullptr, nullptr);
  if (!err) {
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + timeout;
    rd_kafka_event_t* event = nullptr;
    while (!event && clock::now() < deadline) {
      event = rd_kafka_queue_poll(replies, 100);
      if (hurry && hurry()) deadline = std::min(deadline, clock::now() + hurried_commit_timeout);
    }
    if (!event) {
      err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    } else {
      err = rd_kafka_event_error(event);
      if (!err)
        if (const rd_kafka_topic_partition_list_t* done = rd_kafka_event_topic_partition_list(event))
          for (int i = 0; i < done->cnt && !err; ++i) err = done->elems[i].err;
      rd_kafka_event_destroy(event);
    }
  }
  rd_kafka_queue_destroy(replies);
  unresponsive_ = err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                  err == RD_KAFKA_RESP_ERR__WAIT_COORD || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                  err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
  return err;
}

std::vector<TopicPartition> KafkaConsumer::committed(const std::vector<TopicPartition>& partitions,
                                                     std::chrono::milliseconds timeout) {
  ListPtr list = to_list(partitions, false);
  if (rd_kafka_resp_err_t err = rd_kafka_committed(handle_.get(), list.get(), static_cast<int>(timeout.count())))
    throw_error(err, "cannot read the group's committed offsets");
  for (int i = 0; i < list->cnt; ++i)
    if (list->elems[i].err)
      throw_error(list->elems[i].err, fmt::format("cannot read the committed offset of {}/{}",
                                                  list->elems[i].topic, list->elems[i].partition));
  return from_list(list.get());
}

std::vector<int32_t> KafkaConsumer::partitions_of(const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* topic_handle = rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle_.get(), 0, topic_handle, &metadata, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(topic_handle);
  if (err) throw_error(err, fmt::format("cannot read the metadata of topic '{}'", topic));
  std::vector<int32_t> out;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    topic_err = metadata->topics[t].err;
    for (int p = 0; p < metadata->topics[t].partition_cnt; ++p) out.push_back(metadata->topics[t].partitions[p].id);
  }
  rd_kafka_metadata_destroy(metadata);
  if (out.empty())
    throw Error(fmt::format("topic '{}' does not exist{}", topic,
                            topic_err ? fmt::format(" ({})", rd_kafka_err2str(topic_err)) : std::string()));
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::pair<int64_t, int64_t>> KafkaConsumer::watermark_offsets(const std::string& topic, int32_t partition,
                                                                            bool cached,
                                                                            std::chrono::milliseconds timeout) {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err =
      cached ? rd_kafka_get_watermark_offsets(handle_.get(), topic.c_str(), partition, &low, &high)
             : rd_kafka_query_watermark_offsets(handle_.get(), topic.c_str(), partition, &low, &high,
                                                static_cast<int>(timeout.count()));
  if (err || high < 0) return std::nullopt;
  return std::make_pair(low, high);
}

bool KafkaConsumer::cooperative() const {
  const char* protocol = rd_kafka_rebalance_protocol(handle_.get());
  return protocol && std::strcmp(protocol, "COOPERATIVE") == 0;
}

void KafkaConsumer::close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  if (unresponsive_) {
    // Leaving the group, or even destroying the handle, waits until librdkafka's requests to the gone
    // broker time out (a minute and more), and Ctrl-C must not. The handle is left to the process exit
    // (kept reachable: no callback of ours is served without a poll); the group forgets this member
    // when its session times out.
    log::debug("the broker did not answer the last commit: leaving without saying goodbye to the group");
    if (queue_) rd_kafka_queue_destroy(std::exchange(queue_, nullptr));  // our reference only
    static auto* abandoned = new std::vector<rd_kafka_t*>;
    abandoned->push_back(handle_.release());
    return;
  }
  rd_kafka_resp_err_t err = rd_kafka_consumer_close(handle_.get());
  if (pending_error_) std::rethrow_exception(std::exchange(pending_error_, nullptr));
  if (err) log::debug("closing the consumer: {}", rd_kafka_err2str(err));
}

void KafkaConsumer::rebalance_callback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaConsumer*>(opaque)->rebalance(err, partitions);
}

void KafkaConsumer::rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  rd_kafka_t* rk = handle_.get();
  const bool incremental = cooperative();
  std::vector<TopicPartition> list = from_list(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    try {
      if (!pending_error_) options_.on_rebalance(RebalanceKind::assign, list);
    } catch (...) {
      pending_error_ = std::current_exception();
    }
    for (int i = 0; i < partitions->cnt && i < static_cast<int>(list.size()); ++i)
      partitions->elems[i].offset = list[i].offset;
    rd_kafka_error_t* error = nullptr;
    rd_kafka_resp_err_t assign_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (incremental)
      error = rd_kafka_incremental_assign(rk, partitions);
    else
      assign_err = rd_kafka_assign(rk, partitions);
    if (error) {
      log::warn("kafka: incremental assign failed: {}", rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    } else if (assign_err) {
      log::warn("kafka: assign failed: {}", rd_kafka_err2str(assign_err));
    }
    return;
  }
  // Revoked, lost, or a rebalance error: hand the partitions back after the handler ran.
  RebalanceKind kind = (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk))
                           ? RebalanceKind::revoke
                           : RebalanceKind::lost;
  try {
    if (!pending_error_) options_.on_rebalance(kind, list);
  } catch (...) {
    pending_error_ = std::current_exception();
  }
  if (incremental) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk, partitions)) {
      log::debug("kafka: incremental unassign: {}", rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

}  // namespace mtastream::kafka
