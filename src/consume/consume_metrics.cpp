#include "consume/consume_metrics.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <utility>

namespace mtastream::consume {

namespace {

// A label value in the text format: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

double seconds_between(ConsumeMetrics::SystemClock::time_point from, ConsumeMetrics::SystemClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

ConsumeMetrics::ConsumeMetrics(std::string topic, std::string group, std::chrono::seconds max_commit_age,
                               SystemClock::time_point started)
    : topic_(std::move(topic)), group_(std::move(group)), max_commit_age_(max_commit_age), started_(started) {}

void ConsumeMetrics::update(const ConsumeProgress& progress) {
  std::lock_guard lock(mutex_);
  progress_ = progress;
}

void ConsumeMetrics::update_statistics(std::string_view json) {
  int up = brokers_up_in_statistics(json);
  if (up < 0) return;
  std::lock_guard lock(mutex_);
  brokers_up_ = up;
}

void ConsumeMetrics::count_upload_retry() {
  std::lock_guard lock(mutex_);
  ++upload_retries_;
}

HealthVerdict ConsumeMetrics::health(SystemClock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (brokers_up_ == 0) return {false, "no broker answers"};
  const SystemClock::time_point current =
      progress_.committed_current.time_since_epoch().count() ? progress_.committed_current : started_;
  const double age = seconds_between(current, now);
  if (age > static_cast<double>(max_commit_age_.count()))
    return {false, fmt::format("offsets last known committed {:.0f}s ago (--health-max-age {}s)", age,
                               max_commit_age_.count())};
  return {true, "ok"};
}

std::string ConsumeMetrics::render(SystemClock::time_point now) const {
  const HealthVerdict verdict = health(now);
  std::lock_guard lock(mutex_);
  const ConsumeProgress& p = progress_;
  const ConsumeCounts& c = p.counts;
  const std::string job = fmt::format("topic=\"{}\",group=\"{}\"", label_value(topic_), label_value(group_));
  std::string out;

  // Message counts by partition: counted once, whoever owns the partition later.
  struct PerPartition {
    const char* name;
    const char* help;
    uint64_t ConsumeCounts::*field;
  };
  static const PerPartition messages[] = {
      {"read", "messages read from Kafka", &ConsumeCounts::read},
      {"replayed", "messages re-read to rebuild windows open at the last commit (part of read)", &ConsumeCounts::replayed},
      {"accepted", "events added to a window", &ConsumeCounts::accepted},
      {"late", "events behind the watermark (rejected)", &ConsumeCounts::late},
      {"duplicate", "events whose ID was already counted", &ConsumeCounts::duplicates},
      {"malformed", "messages that are not a turnstile event (rejected)", &ConsumeCounts::bad},
      {"overflow", "events whose counters would overflow (rejected)", &ConsumeCounts::overflow},
  };
  for (const PerPartition& m : messages) {
    const std::string name = fmt::format("mtastream_consume_messages_{}_total", m.name);
    family(out, name, "counter", m.help);
    for (const PartitionProgress& part : p.by_partition)
      out += fmt::format("{}{{{},partition=\"{}\"}} {}\n", name, job, part.partition, part.counts.*m.field);
  }
  family(out, "mtastream_consume_lag_messages", "gauge",
         "messages between the last one read and the partition's end (assigned partitions)");
  for (const PartitionProgress& part : p.by_partition)
    if (part.assigned && part.lag >= 0)
      out += fmt::format("mtastream_consume_lag_messages{{{},partition=\"{}\"}} {}\n", job, part.partition, part.lag);
  family(out, "mtastream_consume_open_windows", "gauge", "windows open in memory (assigned partitions)");
  for (const PartitionProgress& part : p.by_partition)
    if (part.assigned)
      out += fmt::format("mtastream_consume_open_windows{{{},partition=\"{}\"}} {}\n", job, part.partition,
                         part.open_windows);

  auto single = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    family(out, name, type, help);
    out += fmt::format("{}{{{}}} {}\n", name, job, value);
  };
  single("mtastream_consume_assigned_partitions", "gauge", "partitions assigned to this member", p.partitions);
  single("mtastream_consume_lake_files_total", "counter", "lake files written", c.files);
  single("mtastream_consume_lake_bytes_total", "counter", "bytes of lake files written", c.bytes);
  single("mtastream_consume_lake_rows_total", "counter", "rows in lake files written", c.rows);
  single("mtastream_consume_segments_total", "counter", "partition shares of closed windows staged for the merge",
         c.segments);
  single("mtastream_consume_uploads_total", "counter", "lake files uploaded (--upload)", c.uploaded);
  single("mtastream_consume_upload_retries_total", "counter", "failed upload attempts that were retried",
         upload_retries_);
  single("mtastream_consume_commits_total", "counter", "successful offset commits", c.commits);
  single("mtastream_consume_rebalances_total", "counter", "assignments, revocations and losses served", p.rebalances);
  if (p.last_commit.time_since_epoch().count())
    single("mtastream_consume_seconds_since_last_commit", "gauge", "seconds since the last successful offset commit",
           fmt::format("{:.3f}", seconds_between(p.last_commit, now)));
  if (brokers_up_ >= 0)
    single("mtastream_consume_brokers_up", "gauge", "brokers librdkafka is connected to (its statistics)",
           brokers_up_);
  single("mtastream_consume_healthy", "gauge", "1 while /healthz answers 200", verdict.healthy ? 1 : 0);
  single("mtastream_consume_start_time_seconds", "gauge", "when this run started (Unix time)",
         fmt::format("{:.3f}", seconds_between(SystemClock::time_point{}, started_)));
  return out;
}

int brokers_up_in_statistics(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  simdjson::dom::object brokers;
  if (parser.parse(json.data(), json.size()).get(document) != simdjson::SUCCESS ||
      document["brokers"].get(brokers) != simdjson::SUCCESS)
    return -1;
  int up = 0;
  for (auto [name, broker] : brokers) {
    std::string_view state;
    if (broker["state"].get(state) == simdjson::SUCCESS && state == "UP") ++up;
  }
  return up;
}

}  // namespace mtastream::consume
