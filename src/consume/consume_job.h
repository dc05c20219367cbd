// The `consume` pipeline: a topic read in a consumer group, one window engine per partition, closed
// windows written to the lake (and uploaded) before the offsets that cover them are committed with a
// recovery checkpoint, so a crash or a rebalance at any moment loses and doubles nothing.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "sink/warehouse_sink.h"
#include "lake/lake_writer.h"
#include "engine/window_engine.h"

namespace mtastream::upload {
class Uploader;
}

namespace mtastream::consume {

struct ConsumeOptions {
  std::string topic;
  std::string group;
  std::string client_id;  // "" = librdkafka's default
  engine::WindowConfig window;
  lake::LakeLayout layout = lake::LakeLayout::original;
  lake::LakePartitioning partitioning;      // --partition-by: Hive folders in the lake (group columns: window.group_columns)
  std::string lake_dir = "storage";
  std::string prefix = "turnstile";
  bool exit_at_end = false;           // stop when every assigned partition reached its end, flushing all windows
  // With exit_at_end: give up (Error) when no partition was assigned this long after the start: an
  // unreachable broker, a missing topic or an idle group member must not hang a cron job for ever.
  double assignment_timeout_seconds = 120;
  std::string dead_letter;            // "" = rejected messages are only counted
  bool force_window_config = false;   // resume even when the stored checkpoint used another window config
  // Topic-wide windows (default): one row per window and group key for the whole topic, whatever the
  // producers' keys: each partition's share of a closed window is staged as a segment, and the window's
  // lake file is merged once every partition of the topic passed it. per_partition: one lake file per
  // (partition, window), named _p<N>, for a topic already keyed by the group columns.
  bool per_partition = false;
  // With exit_at_end: the stream has ended: write every open window too (and count later events late).
  bool flush_open = false;
  // Start even where the committed position has no mtastream checkpoint or records were deleted below
  // it; the windows the gap touches are reported as partial (and never replace an existing file).
  bool allow_gaps = false;
  // Idle rule (event time): a partition read to its end whose watermark is more than this behind the most
  // advanced partition of the topic is moved up to that watermark minus this, so that it no longer holds
  // the topic's windows open.
  int64_t idle_after_seconds = 3600;
  // Called for each lake file once it is durable on disk; must return only when the copy is durable
  // too (throwing stops the run before any offset past the file is committed). Empty: no upload.
  std::function<void(const std::string& path, const std::string& name)> publish;
  // Topic-wide windows: where segments and progress markers are staged. Null: DIR/.mtastream in lake_dir
  // (every member on one machine, sharing that folder). A fleet on several machines shares an object
  // store here (it must outlive the run).
  upload::Uploader* shared_staging = nullptr;
  // --sink: every merged window is loaded into the warehouse (one transaction per merge pass, before the
  // window is marked merged), the checkpoints are stored there before each Kafka commit, and on assignment
  // the warehouse's checkpoint wins over Kafka's when they differ. Topic-wide windows only. Not owned.
  sink::WarehouseSink* sink = nullptr;
  // Partitions parsed and windowed on this many threads (partition % threads); the lake, the dead letters
  // and the counts are the same for any number.
  unsigned threads = 1;
  double commit_interval_seconds = 1.0;  // how often changed checkpoints are committed while running
  // librdkafka's statistics JSON (statistics.interval.ms, set here unless configured), served on the
  // consumer thread: for `--metrics-addr` (broker state). Empty: no statistics.
  std::function<void(std::string_view json)> on_statistics;
};

// What the window writer thread counts (the lake side of ConsumeCounts).
struct LakeCounts {
  uint64_t windows = 0;     // lake files written (one per closed window with rows)
  uint64_t segments = 0;    // partition shares of closed windows staged for the topic-wide merge
  uint64_t merge_overflow = 0;  // rows left out of a merged window: the topic-wide sum would pass int64
  uint64_t merge_duplicates = 0;  // copies of an ID counted by several partitions, dropped by merges we did
  uint64_t rows = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t uploaded = 0;
  LakeCounts& operator+=(const LakeCounts& o);
};

struct ConsumeCounts : LakeCounts {
  uint64_t read = 0;        // messages read from Kafka in this run
  uint64_t replayed = 0;    // of those, re-read to rebuild windows that were open at the last commit
  uint64_t accepted = 0;
  uint64_t bad = 0;         // malformed
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t overflow = 0;
  uint64_t commits = 0;
  uint64_t rejected() const { return bad + late + overflow; }
};

// One partition as this run knows it: counts since the start (also after it was revoked), and position,
// lag and open windows while it is assigned.
struct PartitionProgress {
  int32_t partition = 0;
  ConsumeCounts counts;     // read, replayed, accepted, bad, late, duplicates, overflow
  bool assigned = false;
  int64_t next_offset = -1; // the offset after the last message read (-1 none)
  int64_t lag = -1;         // messages behind the partition's end (-1 unknown)
  size_t open_windows = 0;
};

struct ConsumeProgress {
  ConsumeCounts counts;
  size_t partitions = 0;    // assigned now
  size_t open_windows = 0;
  int64_t lag = -1;         // messages behind the partitions' ends (-1 unknown)
  std::vector<PartitionProgress> by_partition;  // every partition read or assigned in this run
  uint64_t rebalances = 0;  // assignments, revocations and losses served
  // The last successful offset commit (epoch = none yet), and the last time the committed checkpoints
  // were known to be current: a commit succeeded, or a commit round found nothing new (an idle topic).
  std::chrono::system_clock::time_point last_commit;
  std::chrono::system_clock::time_point committed_current;
};

struct ConsumeGap {
  int32_t partition = 0;
  int64_t expected = 0;  // where the partition's data continues after the last checkpoint (or begins)
  int64_t resumed = 0;   // where reading started
};

struct ConsumeSummary {
  ConsumeCounts counts;
  double seconds = 0;
  std::map<int32_t, int64_t> committed;  // partition -> the last offset this run committed
  size_t open_windows = 0;    // windows still open at the end: kept in the checkpoints, not in the lake
  size_t staged_windows = 0;  // closed in some partitions, waiting for the others (topic-wide windows)
  std::vector<ConsumeGap> gaps;  // --allow-gaps: where reading skipped data
};

// Runs until stop_requested() (SIGINT/SIGTERM) or, with exit_at_end, the end of every assigned
// partition. `on_progress` (may be empty) is called about twice a second from the consumer thread, and
// once more at a clean end with the summary's counts. Throws Error on failure
// (nothing is committed past what is durable).
ConsumeSummary run_consume(const config::Settings& settings, const ConsumeOptions& options,
                           const std::function<void(const ConsumeProgress&)>& on_progress = {});

// One JSON object (no newline): counts, seconds and per-partition committed offsets.
std::string consume_summary_json(const ConsumeSummary& summary, const std::string& topic);

}  // namespace mtastream::consume
