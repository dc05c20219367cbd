// KafkaConsumer: librdkafka's high-level consumer with explicit commits that carry metadata, a
// rebalance hook that may choose each assigned partition's start offset, and plain assign() for
// group-less reading (consume --raw without -G).
#pragma once
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/c_handle.h"
#include "kafka/client.h"

namespace mtastream::kafka {

using MessagePtr = CHandle<rd_kafka_message_t, rd_kafka_message_destroy>;

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = RD_KAFKA_OFFSET_INVALID;  // assign: where to start (INVALID = committed, else auto.offset.reset)
  std::string metadata;                      // commit / committed: the offset's metadata string
};

enum class RebalanceKind {
  assign,  // partitions given to this member: the handler may set each one's start offset
  revoke,  // partitions taken away (still ours while the handler runs: commit now)
  lost,    // partitions lost without notice (session timed out): another member may own them already
};

// Runs on the thread that calls poll(), before the (incremental) assign / unassign. An exception
// thrown here is rethrown by the next poll().
using RebalanceHandler = std::function<void(RebalanceKind, std::vector<TopicPartition>&)>;

struct ConsumerSetup {
  std::string group;           // group.id (a group-less reader still needs one for librdkafka; never joined)
  std::string client_id;       // "" = librdkafka's
  bool store_offsets = false;  // enable.auto.offset.store: the next commit covers every polled message
  std::string offset_reset;    // default auto.offset.reset where the group has no offset ("" = librdkafka's)
};

// The configuration of every mtastream consumer (consume and consume --raw): partition-EOF events (-e),
// offsets that move only through explicit commits, and the prefetch defaults (each one -X overridable).
// Prefetch: librdkafka keeps up to queued.max.messages.kbytes of fetched messages (64 MiB by default,
// several times that in RSS); once a queue is full a fetcher waits fetch.queue.backoff.ms (librdkafka >= 2.4;
// 1 s by default, and before 2.4 a fixed second). With a short wait a small queue keeps up: 4 MiB and 10 ms
// hold a 10 M message consume under 150 MB at the same speed. Before 2.4 only queued.min.messages is raised.
ConfRequest consumer_conf(const ConsumerSetup& setup);

// A message error that ends a consume: the topic or group cannot be read (missing, not authorized) or the
// client failed for good. Any other error is transient: librdkafka retries it, the consumer warns.
bool is_fatal(rd_kafka_resp_err_t err);

struct ConsumerOptions {
  ConfRequest conf;           // merged into the user's settings (group.id, enable.auto.commit, ...)
  RebalanceHandler on_rebalance;
  // librdkafka's statistics JSON every statistics.interval.ms, on the thread that polls (empty: none).
  std::function<void(std::string_view json)> on_statistics;
};

class KafkaConsumer {
 public:
  KafkaConsumer(const config::Settings& settings, ConsumerOptions options);
  ~KafkaConsumer();  // closes (leaves the group) if close() was not called
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  void subscribe(const std::vector<std::string>& topics);
  // Group-less: reads exactly these partitions from their offsets.
  void assign(const std::vector<TopicPartition>& partitions);

  // The next message or event (message->err: RD_KAFKA_RESP_ERR__PARTITION_EOF, errors), or null after
  // `timeout`. Serves rebalances.
  MessagePtr poll(std::chrono::milliseconds timeout);

  // Up to `max` messages or events at once (cheaper per message than poll()), waiting up to `timeout`
  // for the first; `out` is cleared first. Serves rebalances like poll().
  void poll_batch(std::chrono::milliseconds timeout, size_t max, std::vector<MessagePtr>& out);

  // Synchronous commit of exactly these offsets and metadata. Returns the error (NO_ERROR on success;
  // __TIMED_OUT when no answer came within `timeout`: the commit may still land later). Once `hurry`
  // returns true (checked every 100 ms: the user asked to stop), it waits at most hurried_commit_timeout.
  static constexpr std::chrono::seconds hurried_commit_timeout{3};
  rd_kafka_resp_err_t commit(const std::vector<TopicPartition>& offsets, std::chrono::milliseconds timeout,
                             const std::function<bool()>& hurry = {});
  // The group's committed offsets and metadata for these partitions (offset INVALID when none).
  // Throws Error when the group coordinator does not answer within `timeout`.
  std::vector<TopicPartition> committed(const std::vector<TopicPartition>& partitions,
                                        std::chrono::milliseconds timeout);

  // Partition ids of a topic (from the broker's metadata). Throws Error when it does not exist.
  std::vector<int32_t> partitions_of(const std::string& topic, std::chrono::milliseconds timeout);
  // Low and high watermark offsets; `cached` uses what the last fetch reported (no broker round trip;
  // nullopt when unknown).
  std::optional<std::pair<int64_t, int64_t>> watermark_offsets(const std::string& topic, int32_t partition,
                                                               bool cached,
                                                               std::chrono::milliseconds timeout = {});

  bool cooperative() const;
  // Leaves the group (revoke handler runs) and stops fetching. Idempotent. After a commit the broker did
  // not answer, the handle is dropped without leaving (the group forgets this member once its session
  // times out), so that a run with the broker gone still ends at once.
  void close();
  rd_kafka_t* handle() { return handle_.get(); }

 private:
  static int statistics_callback(rd_kafka_t* handle, char* json, size_t json_len, void* opaque);
  static void error_callback(rd_kafka_t* handle, int err, const char* reason, void* opaque);
  static void rebalance_callback(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

  ConsumerOptions options_;
  HandlePtr handle_;
  bool closed_ = false;
  bool unresponsive_ = false;  // the last commit found no broker or coordinator to answer it
  rd_kafka_queue_t* queue_ = nullptr;  // the consumer queue (for poll_batch)
  std::vector<rd_kafka_message_t*> batch_;
  std::exception_ptr pending_error_;
};

}  // namespace mtastream::kafka
