// KafkaAdmin: topics and cluster metadata (create, delete, describe, list) over librdkafka's Admin API.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kafka/client.h"

namespace mtastream::kafka {

struct TopicSpec {
  std::string name;
  int partitions = -1;          // -1: the broker's default
  int replication_factor = -1;  // -1: the broker's default
  std::vector<std::pair<std::string, std::string>> configs;  // topic configs (retention.ms=...)
};

struct PartitionInfo {
  int32_t id = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> in_sync_replicas;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

struct BrokerInfo {
  int32_t id = 0;
  std::string host;
  int port = 0;
};

struct ClusterMetadata {
  std::vector<BrokerInfo> brokers;
  std::vector<TopicInfo> topics;  // sorted by name
  int32_t answered_by = -1;      // broker id that served the request
};

struct ConfigEntry {
  std::string name;
  std::string value;  // "[redacted]" for sensitive entries
  std::string source;  // DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG, ...
  bool is_default = false;
};

enum class CreateOutcome { created, already_existed };

class KafkaAdmin {
 public:
  KafkaAdmin(const config::Settings& settings, std::chrono::milliseconds timeout);

  // All topics (internal ones such as __consumer_offsets included, they start with "__").
  ClusterMetadata metadata();
  // One topic; its error is UNKNOWN_TOPIC_OR_PART when it does not exist.
  TopicInfo topic(const std::string& name);

  // Creates the topic; with `if_not_exists` an existing topic is fine (its partition count is not
  // changed). Waits until metadata shows every partition with a leader. Errors say what to do;
  // a broker without CreateTopics (the embedded `mtastream broker`) gets a message saying so.
  CreateOutcome create_topic(const TopicSpec& spec, bool if_not_exists);
  void delete_topic(const std::string& name);
  // The topic's configuration as the broker reports it; throws if the broker cannot describe configs.
  std::vector<ConfigEntry> topic_configs(const std::string& name);

  // Polls metadata until the topic has `partitions` partitions (or any, when -1), each with a leader.
  void wait_until_visible(const std::string& name, int partitions);
  // Polls metadata until the topic is gone.
  void wait_until_gone(const std::string& name);

 private:
  void require_controller(const std::string& what);

  static void error_callback(rd_kafka_t* handle, int err, const char* reason, void* opaque);

  HandlePtr handle_;
  std::chrono::milliseconds timeout_;
  std::atomic<bool> authentication_failed_{false};  // set by librdkafka's error callback
  std::string authentication_error_;
};

}  // namespace mtastream::kafka
