// The work of `produce`: turn events from a generator or from CSV/NDJSON lines (validated) into Kafka
// messages, count every delivery, keep bad lines aside, and stop cleanly on SIGINT/SIGTERM.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "kafka/producer.h"
#include "event/message.h"

namespace mtastream::produce {

enum class EventSource { files, original_generator, city_generator };
enum class MessageKey { turnstile, id, none };

MessageKey parse_message_key(std::string_view name);  // "turnstile", "id", "none"; UsageError otherwise

struct PublishJob {
  std::string topic;
  EventSource source = EventSource::files;
  std::vector<std::string> files;  // "-" is stdin; read in order
  event::WireForm value_form = event::WireForm::csv;
  MessageKey key = MessageKey::turnstile;
  double rate = 0;               // messages per second; 0 = as fast as possible
  std::optional<uint64_t> count;  // stop after this many messages
  uint64_t seed = 0;              // generators: same seed, same events (IDs included)
  size_t turnstiles = 4000;       // city generator
  // City generator on a simulated clock: first event time and the time between two reports of one
  // turnstile. Without it, events carry the wall-clock time.
  std::optional<int64_t> start_time;
  int64_t step_seconds = 300;
  std::string dead_letter_path;  // bad lines and undelivered messages; "" = counted only
};

struct PublishSummary {
  uint64_t read = 0;      // lines read (blank lines not counted) or events generated
  uint64_t rejected = 0;  // lines that failed validation (not sent)
  kafka::DeliveryCounts delivery;
  double seconds = 0;
  bool interrupted = false;  // SIGINT/SIGTERM stopped the reading
  bool input_complete = true;  // every input was read to its end (false when interrupted mid-file)
};

struct PublishHooks {
  // Called about twice a second with the counts so far (progress line).
  std::function<void(const PublishSummary&)> on_progress;
  // Called before a rejected line is reported on stderr (RejectReporter): e.g. to clear a progress line.
  std::function<void()> on_rejected;
};

// Runs the job to its end: reads or generates, produces with the idempotent acks=all producer, waits
// for every delivery report (a second signal gives up waiting). Throws Error when the job cannot run.
PublishSummary publish(const config::Settings& settings, const PublishJob& job, kafka::ProducerOptions producer_options,
                       const PublishHooks& hooks = {});

}  // namespace mtastream::produce
