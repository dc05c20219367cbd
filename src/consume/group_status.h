// `mtastream status`: where a consumer group stands on a topic, from the broker only (no group join, no
// commit): per partition the committed offset and its mtastream checkpoint, the end offset and the lags.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "consume/consume_checkpoint.h"

namespace mtastream::consume {

struct PartitionStatus {
  int32_t partition = 0;
  int64_t committed = -1;  // -1: the group committed nothing here
  int64_t low = 0;         // the partition's first offset (retention)
  int64_t end = 0;         // the offset the next message will get
  std::optional<ConsumeCheckpoint> checkpoint;  // the committed metadata, when it is mtastream's
  std::string checkpoint_error;                 // why not (another tool's commit), with a commit only

  // end - committed (from the partition's first offset without a commit): what a restart re-reads or reads.
  int64_t lag() const;
  // end - how far reading got (the checkpoint's rt, else the committed offset): how far reading is behind.
  int64_t read_lag() const;
  // Read to the end: the messages between the committed offset and the end sit in open windows.
  bool read_to_end() const;
  int64_t held_in_open_windows() const { return read_to_end() ? lag() : 0; }
};

struct GroupStatus {
  std::string topic;
  std::string group;
  std::vector<PartitionStatus> partitions;  // by partition id
  int64_t max_read_lag() const;
};

// Asks the group's coordinator and the partition leaders; throws Error when the topic does not exist or
// the broker does not answer within `timeout`.
GroupStatus query_group_status(const config::Settings& settings, const std::string& topic, const std::string& group,
                               std::chrono::milliseconds timeout);

// A table for people (one line per partition, a header first).
std::string group_status_table(const GroupStatus& status);
// One JSON object (no newline), for scripts.
std::string group_status_json(const GroupStatus& status);

}  // namespace mtastream::consume
