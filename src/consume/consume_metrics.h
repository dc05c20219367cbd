// What `consume --metrics-addr` serves: the job's latest progress (fed from its on_progress callback on the
// consumer thread), librdkafka's broker states and the uploader's retries, rendered on request (from the
// HTTP server's thread) as the Prometheus text format, and the /healthz verdict. Thread-safe.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "consume/consume_job.h"

namespace mtastream::consume {

struct HealthVerdict {
  bool healthy = true;
  std::string reason;  // "ok", or why not
};

class ConsumeMetrics {
 public:
  using SystemClock = std::chrono::system_clock;

  // `max_commit_age`: /healthz fails when the committed checkpoints were last known current longer ago
  // (counted from `started` until the first commit round).
  ConsumeMetrics(std::string topic, std::string group, std::chrono::seconds max_commit_age,
                 SystemClock::time_point started = SystemClock::now());

  void update(const ConsumeProgress& progress);
  // librdkafka's statistics JSON: how many brokers are UP. Malformed JSON is ignored.
  void update_statistics(std::string_view json);
  void count_upload_retry();

  std::string render(SystemClock::time_point now = SystemClock::now()) const;
  HealthVerdict health(SystemClock::time_point now = SystemClock::now()) const;

 private:
  const std::string topic_;
  const std::string group_;
  const std::chrono::seconds max_commit_age_;
  const SystemClock::time_point started_;
  mutable std::mutex mutex_;
  ConsumeProgress progress_;
  int brokers_up_ = -1;  // -1: no statistics yet
  uint64_t upload_retries_ = 0;
};

// Counts the brokers whose state is UP in librdkafka's statistics JSON; -1 when it cannot be read.
int brokers_up_in_statistics(std::string_view json);

}  // namespace mtastream::consume
