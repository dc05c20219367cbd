// `replay` core: MTA weekly files -> delta events in event-time order, or a capture of raw messages,
// sent to a MessageSink at a chosen speed. The command glue only builds options, sink and summary.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "event/message.h"
#include "replay/mta_batch.h"
#include "replay/replay_sink.h"

namespace mtastream::lake {
class DeadLetterWriter;
}

namespace mtastream::replay {

enum class ReplayKey { turnstile, id, none };
ReplayKey parse_replay_key(std::string_view name);  // UsageError on anything else

struct ReplayOptions {
  std::vector<std::string> inputs;  // files, "-" for stdin; plain or gzip
  double speed = 0;                 // X times real time; 0 = as fast as possible
  uint64_t max_delta = 10000;
  event::WireForm value_form = event::WireForm::csv;
  ReplayKey key = ReplayKey::turnstile;
  bool progress = false;  // live progress line on stderr
};

struct ReplayReport {
  uint64_t inputs = 0;
  uint64_t rows = 0;      // MTA rows read as readings, or capture lines read as messages
  uint64_t rejected = 0;  // malformed rows or lines (warned, dead-lettered)
  uint64_t turnstiles = 0;
  MtaDeltaCounts deltas;  // events made and anomalies (MTA files only)
  int64_t first_event = -1, last_event = -1;  // event (or capture) time in ms of the first/last sent
  bool interrupted = false;                   // stopped by a signal or the sink before the end
};

// Reads every input into memory (grouped per turnstile), then sends the events in time order.
ReplayReport replay_mta_files(const ReplayOptions& options, MessageSink& sink, lake::DeadLetterWriter& dead_letter);
// Streams capture lines (see replay_capture.h) to the sink, keeping their relative timing.
ReplayReport replay_captures(const ReplayOptions& options, MessageSink& sink, lake::DeadLetterWriter& dead_letter);

}  // namespace mtastream::replay
