#include "kafka/admin.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "base/log.h"

namespace mtastream::kafka {
namespace {

using QueuePtr = CHandle<rd_kafka_queue_t, rd_kafka_queue_destroy>;
using EventPtr = CHandle<rd_kafka_event_t, rd_kafka_event_destroy>;
using OptionsPtr = CHandle<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>;

OptionsPtr admin_options(rd_kafka_t* handle, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
  OptionsPtr options(rd_kafka_AdminOptions_new(handle, op));
  char reason[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), static_cast<int>(timeout.count()), reason, sizeof reason);
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS)
    rd_kafka_AdminOptions_set_operation_timeout(options.get(), static_cast<int>(timeout.count()), reason,
                                                sizeof reason);
  return options;
}

// Waits for the result event of one admin request; throws on a request-level error.
EventPtr wait_result(rd_kafka_queue_t* queue, std::chrono::milliseconds timeout, std::string_view what) {
  EventPtr event(rd_kafka_queue_poll(queue, static_cast<int>(timeout.count() + 5000)));
  if (!event) throw Error(fmt::format("{}: no answer from the broker in time", what));
  rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION)
      throw Error(fmt::format(
          "{}: the broker does not support this request ({}). The embedded 'mtastream broker' (librdkafka's "
          "mock cluster) has no CreateTopics/DeleteTopics/DescribeConfigs: it creates topics on first use "
          "(4 partitions), or start it with --topic NAME:PARTITIONS",
          what, rd_kafka_event_error_string(event.get())));
    throw Error(fmt::format("{}: {}", what, scrub_secrets(rd_kafka_event_error_string(event.get()))));
  }
  return event;
}

bool is_unsupported(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
         err == RD_KAFKA_RESP_ERR_INVALID_REQUEST;
}

}  // namespace

KafkaAdmin::KafkaAdmin(const config::Settings& settings, std::chrono::milliseconds timeout) : timeout_(timeout) {
  bootstrap_servers(settings);
  ConfRequest request;
  // Admin requests go through a producer handle; it never produces, so nothing needs flushing.
  ConfPtr conf = build_conf(settings, request);
  rd_kafka_conf_set_error_cb(conf.get(), error_callback);
  rd_kafka_conf_set_opaque(conf.get(), this);
  handle_ = create_handle(RD_KAFKA_PRODUCER, std::move(conf));
}

// Wrong credentials are not transient: metadata() stops waiting as soon as librdkafka reports them.
void KafkaAdmin::error_callback(rd_kafka_t* handle, int err, const char* reason, void* opaque) {
  report_client_error(handle, err, reason, opaque);
  auto* self = static_cast<KafkaAdmin*>(opaque);
  if ((err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) &&
      !self->authentication_failed_) {
    self->authentication_error_ = scrub_secrets(reason);
    self->authentication_failed_ = true;
  }
}

ClusterMetadata KafkaAdmin::metadata() {
  const rd_kafka_metadata_t* raw = nullptr;
  // In slices, serving the error callback between them, so that an authentication failure ends it at once.
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  rd_kafka_resp_err_t err;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    err = rd_kafka_metadata(handle_.get(), 1, nullptr, &raw,
                            static_cast<int>(std::clamp<int64_t>(left.count(), 1, 500)));
    rd_kafka_poll(handle_.get(), 0);
    if (authentication_failed_)
      throw Error(fmt::format("Kafka authentication failed: {} (check sasl.mechanisms, sasl.username and "
                              "sasl.password)",
                              authentication_error_));
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT || std::chrono::steady_clock::now() >= deadline) break;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw_error(err, "cannot read cluster metadata");
  ClusterMetadata result;
  result.answered_by = raw->orig_broker_id;
  for (int i = 0; i < raw->broker_cnt; ++i)
    result.brokers.push_back({raw->brokers[i].id, raw->brokers[i].host, raw->brokers[i].port});
  for (int t = 0; t < raw->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = raw->topics[t];
    TopicInfo info;
    info.name = topic.topic;
    info.error = topic.err;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const rd_kafka_metadata_partition_t& partition = topic.partitions[p];
      PartitionInfo pi;
      pi.id = partition.id;
      pi.leader = partition.leader;
      pi.error = partition.err;
      pi.replicas.assign(partition.replicas, partition.replicas + partition.replica_cnt);
      pi.in_sync_replicas.assign(partition.isrs, partition.isrs + partition.isr_cnt);
      info.partitions.push_back(std::move(pi));
    }
    std::sort(info.partitions.begin(), info.partitions.end(),
              [](const PartitionInfo& a, const PartitionInfo& b) { return a.id < b.id; });
    result.topics.push_back(std::move(info));
  }
  rd_kafka_metadata_destroy(raw);
  std::sort(result.topics.begin(), result.topics.end(),
            [](const TopicInfo& a, const TopicInfo& b) { return a.name < b.name; });
  std::sort(result.brokers.begin(), result.brokers.end(),
            [](const BrokerInfo& a, const BrokerInfo& b) { return a.id < b.id; });
  return result;
}

void KafkaAdmin::require_controller(const std::string& what) {
  ClusterMetadata cluster = metadata();  // a clear "unreachable" error first
  // Topic admin requests go to the controller; librdkafka's mock cluster names none of its brokers
  // (and has no CreateTopics/DeleteTopics), so say that at once instead of timing out.
  int32_t controller = rd_kafka_controllerid(handle_.get(), 2000);
  if (std::none_of(cluster.brokers.begin(), cluster.brokers.end(),
                   [&](const BrokerInfo& b) { return b.id == controller; }))
    throw Error(fmt::format("{}: the broker names no controller, so it cannot manage topics. The embedded "
                            "'mtastream broker' (librdkafka's mock cluster) has no CreateTopics/DeleteTopics/"
                            "DescribeConfigs: it creates topics on first use (4 partitions), or start it with "
                            "--topic NAME:PARTITIONS",
                            what));
}

TopicInfo KafkaAdmin::topic(const std::string& name) {
  // Metadata for all topics: asking for one topic by name would auto-create it on brokers that allow it.
  ClusterMetadata all = metadata();
  for (TopicInfo& info : all.topics)
    if (info.name == name) return std::move(info);
  TopicInfo missing;
  missing.name = name;
  missing.error = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  return missing;
}

CreateOutcome KafkaAdmin::create_topic(const TopicSpec& spec, bool if_not_exists) {
  std::string what = fmt::format("cannot create topic '{}'", spec.name);
  require_controller(what);
  char reason[512];
  std::unique_ptr<rd_kafka_NewTopic_t, decltype(&rd_kafka_NewTopic_destroy)> new_topic(
      rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication_factor, reason, sizeof reason),
      &rd_kafka_NewTopic_destroy);
  if (!new_topic) throw UsageError(fmt::format("{}: {}", what, reason));
  for (const auto& [key, value] : spec.configs) {
    rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(new_topic.get(), key.c_str(), value.c_str());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw_error(err, fmt::format("{}: config '{}'", what, key));
  }
  QueuePtr queue(rd_kafka_queue_new(handle_.get()));
  OptionsPtr options = admin_options(handle_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_);
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(handle_.get(), topics, 1, options.get(), queue.get());
  EventPtr event = wait_result(queue.get(), timeout_, what);
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  CreateOutcome outcome = CreateOutcome::created;
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && if_not_exists) {
      outcome = CreateOutcome::already_existed;
      continue;
    }
    const char* message = rd_kafka_topic_result_error_string(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      throw Error(fmt::format("{}: it already exists (add --if-not-exists to accept that)", what));
    if (is_unsupported(err))
      throw Error(fmt::format("{}: the broker does not support CreateTopics ({}); the embedded 'mtastream broker' "
                              "creates topics on first use, or start it with --topic NAME:PARTITIONS",
                              what, message ? message : rd_kafka_err2str(err)));
    throw Error(fmt::format("{}: {}{}", what, describe_error(err),
                            message && *message ? fmt::format(": {}", message) : ""));
  }
  wait_until_visible(spec.name, outcome == CreateOutcome::created ? spec.partitions : -1);
  return outcome;
}

void KafkaAdmin::delete_topic(const std::string& name) {
  std::string what = fmt::format("cannot delete topic '{}'", name);
  require_controller(what);
  std::unique_ptr<rd_kafka_DeleteTopic_t, decltype(&rd_kafka_DeleteTopic_destroy)> delete_request(
      rd_kafka_DeleteTopic_new(name.c_str()), &rd_kafka_DeleteTopic_destroy);
  QueuePtr queue(rd_kafka_queue_new(handle_.get()));
  OptionsPtr options = admin_options(handle_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout_);
  rd_kafka_DeleteTopic_t* topics[] = {delete_request.get()};
  rd_kafka_DeleteTopics(handle_.get(), topics, 1, options.get(), queue.get());
  EventPtr event = wait_result(queue.get(), timeout_, what);
  const rd_kafka_DeleteTopics_result_t* result = rd_kafka_event_DeleteTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_DeleteTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      throw Error(fmt::format("{}: no such topic", what));
    if (is_unsupported(err))
      throw Error(fmt::format("{}: the broker does not support DeleteTopics (the embedded 'mtastream broker' "
                              "cannot delete topics; restart it instead)", what));
    const char* message = rd_kafka_topic_result_error_string(results[i]);
    throw Error(fmt::format("{}: {}{}", what, describe_error(err),
                            message && *message ? fmt::format(": {}", message) : ""));
  }
  wait_until_gone(name);
}

std::vector<ConfigEntry> KafkaAdmin::topic_configs(const std::string& name) {
  std::string what = fmt::format("cannot describe the configuration of topic '{}'", name);
  require_controller(what);
  std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()), &rd_kafka_ConfigResource_destroy);
  QueuePtr queue(rd_kafka_queue_new(handle_.get()));
  OptionsPtr options = admin_options(handle_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_);
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(handle_.get(), resources, 1, options.get(), queue.get());
  EventPtr event = wait_result(queue.get(), timeout_, what);
  const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(event.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described = rd_kafka_DescribeConfigs_result_resources(result, &count);
  std::vector<ConfigEntry> entries;
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(described[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_ConfigResource_error_string(described[i]);
      throw Error(fmt::format("{}: {}{}", what, describe_error(err),
                              message && *message ? fmt::format(": {}", message) : ""));
    }
    size_t entry_count = 0;
    const rd_kafka_ConfigEntry_t** raw = rd_kafka_ConfigResource_configs(described[i], &entry_count);
    for (size_t e = 0; e < entry_count; ++e) {
      ConfigEntry entry;
      entry.name = rd_kafka_ConfigEntry_name(raw[e]);
      const char* value = rd_kafka_ConfigEntry_value(raw[e]);
      entry.value = rd_kafka_ConfigEntry_is_sensitive(raw[e]) ? "[redacted]" : (value ? value : "");
      entry.source = rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(raw[e]));
      entry.is_default = rd_kafka_ConfigEntry_is_default(raw[e]);
      entries.push_back(std::move(entry));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const ConfigEntry& a, const ConfigEntry& b) { return a.name < b.name; });
  return entries;
}

void KafkaAdmin::wait_until_visible(const std::string& name, int partitions) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    TopicInfo info = topic(name);
    bool ready = info.error == RD_KAFKA_RESP_ERR_NO_ERROR && !info.partitions.empty() &&
                 (partitions < 0 || static_cast<int>(info.partitions.size()) >= partitions) &&
                 std::all_of(info.partitions.begin(), info.partitions.end(),
                             [](const PartitionInfo& p) { return p.leader >= 0 && p.error == RD_KAFKA_RESP_ERR_NO_ERROR; });
    if (ready) return;
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error(fmt::format("topic '{}' was created but its partitions have no leader after {} s", name,
                              timeout_.count() / 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void KafkaAdmin::wait_until_gone(const std::string& name) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (topic(name).error != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error(fmt::format("topic '{}' was deleted but still shows in metadata after {} s", name,
                              timeout_.count() / 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace mtastream::kafka
