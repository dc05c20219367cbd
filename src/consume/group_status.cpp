#include "consume/group_status.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/civil_time.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "kafka/consumer.h"

namespace mtastream::consume {

namespace {

// A checkpoint watermark (seconds since the epoch, UTC) as the lake's file names show time.
std::string format_watermark(int64_t seconds) {
  if (seconds == engine::WindowEngine::minus_infinity) return "-";
  if (seconds == closed_through_everything) return "everything";
  std::string text;
  civil::append_timestamp(seconds, text);
  return text;
}

std::string state_of(const PartitionStatus& p) {
  if (p.committed < 0) return "nothing committed";
  if (!p.checkpoint) return fmt::format("no mtastream checkpoint ({})", p.checkpoint_error);
  if (p.read_to_end())
    return fmt::format("read to end, {} messages held in open windows", p.held_in_open_windows());
  return fmt::format("{} messages not read yet", p.read_lag());
}

}  // namespace

int64_t PartitionStatus::lag() const { return std::max<int64_t>(0, end - std::max(committed, low)); }

int64_t PartitionStatus::read_lag() const {
  int64_t read = std::max(committed, low);
  if (checkpoint) read = std::max(read, checkpoint->read_through);
  return std::max<int64_t>(0, end - read);
}

bool PartitionStatus::read_to_end() const { return checkpoint && checkpoint->read_through >= end; }

int64_t GroupStatus::max_read_lag() const {
  int64_t most = 0;
  for (const PartitionStatus& p : partitions) most = std::max(most, p.read_lag());
  return most;
}

GroupStatus query_group_status(const config::Settings& settings, const std::string& topic, const std::string& group,
                               std::chrono::milliseconds timeout) {
  if (topic.empty()) throw UsageError("status needs a topic (-t TOPIC)");
  if (group.empty()) throw UsageError("status needs a consumer group (-G GROUP)");
  kafka::ConsumerOptions options;
  options.conf.required["group.id"] = group;
  // Only looks: never subscribes (no rebalance for the group's members) and never commits.
  options.conf.required["enable.auto.commit"] = "false";
  options.conf.required["enable.auto.offset.store"] = "false";
  kafka::KafkaConsumer consumer(settings, std::move(options));
  GroupStatus status;
  status.topic = topic;
  status.group = group;
  std::vector<kafka::TopicPartition> asked;
  for (int32_t partition : consumer.partitions_of(topic, timeout)) asked.push_back({topic, partition, RD_KAFKA_OFFSET_INVALID, ""});
  std::vector<kafka::TopicPartition> committed = consumer.committed(asked, timeout);
  for (size_t i = 0; i < committed.size(); ++i) {
    PartitionStatus p;
    p.partition = committed[i].partition;
    p.committed = committed[i].offset >= 0 ? committed[i].offset : -1;
    auto marks = consumer.watermark_offsets(topic, p.partition, false, timeout);
    if (!marks) throw Error(fmt::format("{}/{}: the partition's leader did not tell its offsets", topic, p.partition));
    p.low = marks->first;
    p.end = marks->second;
    if (p.committed >= 0) p.checkpoint = parse_checkpoint_metadata(committed[i].metadata, p.committed, p.checkpoint_error);
    status.partitions.push_back(std::move(p));
  }
  std::sort(status.partitions.begin(), status.partitions.end(),
            [](const PartitionStatus& a, const PartitionStatus& b) { return a.partition < b.partition; });
  consumer.close();
  return status;
}

std::string group_status_table(const GroupStatus& status) {
  std::string out = fmt::format("{:<9}  {:>12}  {:>12}  {:>10}  {:>10}  {:<19}  {}\n", "PARTITION", "COMMITTED",
                                "END", "LAG", "READ-LAG", "CLOSED-THROUGH", "STATE");
  for (const PartitionStatus& p : status.partitions)
    out += fmt::format("{:<9}  {:>12}  {:>12}  {:>10}  {:>10}  {:<19}  {}\n", p.partition,
                       p.committed >= 0 ? std::to_string(p.committed) : "-", p.end, p.lag(), p.read_lag(),
                       p.checkpoint ? format_watermark(p.checkpoint->closed_through) : "-", state_of(p));
  return out;
}

std::string group_status_json(const GroupStatus& status) {
  JsonWriter json;
  json.begin_object().field("topic", std::string_view(status.topic)).field("group", std::string_view(status.group));
  json.field("max_read_lag", status.max_read_lag()).key("partitions").begin_array();
  for (const PartitionStatus& p : status.partitions) {
    json.begin_object().field("partition", int64_t{p.partition});
    json.key("committed");
    p.committed >= 0 ? json.value(p.committed) : json.null();
    json.field("low", p.low).field("end", p.end).field("lag", p.lag()).field("read_lag", p.read_lag());
    json.field("read_to_end", p.read_to_end()).field("held_in_open_windows", p.held_in_open_windows());
    json.key("checkpoint");
    if (p.checkpoint) {
      const ConsumeCheckpoint& c = *p.checkpoint;
      json.begin_object().field("read_through", c.read_through);
      json.field("closed_through", std::string_view(format_watermark(c.closed_through)));
      json.field("replay_watermark", std::string_view(format_watermark(c.replay_watermark)));
      json.field("window_seconds", c.window.window_seconds).field("slide_seconds", c.window.slide_seconds);
      json.field("watermark_delay_seconds", c.window.watermark_delay_seconds);
      json.field("windows", c.topic_windows ? "topic" : "partition");
      json.field("group_by", std::string_view(engine::group_columns_text(c.group_columns)));
      json.field("partition_by", std::string_view(c.partitioning)).end_object();
    } else {
      json.null();
    }
    if (!p.checkpoint_error.empty()) json.field("checkpoint_error", std::string_view(p.checkpoint_error));
    json.end_object();
  }
  json.end_array().end_object();
  return json.str();
}

}  // namespace mtastream::consume
