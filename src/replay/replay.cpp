#include "replay/replay.h"

#include <fmt/format.h>

#include "base/civil_time.h"
#include "lake/dead_letter.h"
#include "base/error.h"
#include "source/line_reader.h"
#include "base/log.h"
#include "lake/reject_reporter.h"
#include "replay/replay_capture.h"
#include "replay/replay_pacer.h"
#include "base/stop_signal.h"

namespace mtastream::replay {

namespace {

// Serves the sink while the pacer waits; false stops the replay.
bool keep_going(MessageSink& sink) {
  sink.serve();
  return !stop_requested();
}

}  // namespace

ReplayKey parse_replay_key(std::string_view name) {
  if (name == "turnstile") return ReplayKey::turnstile;
  if (name == "id") return ReplayKey::id;
  if (name == "none") return ReplayKey::none;
  throw UsageError(fmt::format("unknown key '{}' (use turnstile, id or none)", name));
}

ReplayReport replay_mta_files(const ReplayOptions& options, MessageSink& sink, lake::DeadLetterWriter& dead_letter) {
  ReplayReport report;
  lake::RejectReporter reject(dead_letter);
  MtaReadings readings;
  for (const std::string& input : options.inputs) {
    source::LineReader reader(input);
    MtaFileLoader loader(readings, reader.source_name(), [&](const MtaRejectedRow& row) {
      reject(lake::file_source(row.source, row.line), row.reason, row.text);
    });
    std::string_view line;
    while (reader.next(line)) {
      if (reader.line_too_long()) {
        reject(lake::file_source(reader.source_name(), reader.line_number()),
               fmt::format("line longer than {} bytes", source::LineReader::default_max_line_bytes), line);
        continue;
      }
      loader.add_line(line, reader.line_number(), reader.last_line_unterminated());
      if ((reader.line_number() & 0xffff) == 0 && stop_requested()) break;
    }
    ++report.inputs;
    report.rows += loader.rows();
    log::debug("{}: {} readings, {} rejected", reader.source_name(), loader.rows(), loader.rejected());
    if (stop_requested()) {
      report.interrupted = true;
      report.rejected = reject.count();
      return report;
    }
  }
  report.rejected = reject.count();
  report.turnstiles = readings.turnstiles().size();

  MtaDeltaStream stream(readings, options.max_delta, [&](const MtaAnomaly& a) {
    if (!log::enabled(log::Level::debug)) return;
    std::string when;
    civil::append_timestamp(a.current.time, when);
    log::debug("{}:{}: {} for {},{},{},{} at {}: ENTRIES {:+}, EXITS {:+} since {}:{}; no event",
               readings.sources()[a.current.source], a.current.line, anomaly_kind_name(a.kind), a.turnstile.ca,
               a.turnstile.unit, a.turnstile.scp, a.turnstile.station, when, a.entries_delta, a.exits_delta,
               readings.sources()[a.previous.source], a.previous.line);
  });

  ReplayPacer pacer(options.speed);
  ReplayProgress progress(options.progress);
  event::TurnstileEvent event;
  std::string value, key;
  while (stream.next(event)) {
    int64_t event_ms = event.timestamp * 1000;
    if (!pacer.wait_until_due(event_ms, [&] { return keep_going(sink); }) || stop_requested()) {
      report.interrupted = true;
      break;
    }
    value.clear();
    event::append_event(event, options.value_form, value);
    switch (options.key) {
      case ReplayKey::turnstile: key = event::turnstile_key(event); break;
      case ReplayKey::id: key.assign(event.id); break;
      case ReplayKey::none: key.clear(); break;
    }
    sink.send(key, options.key != ReplayKey::none, value);
    if (options.speed > 0) sink.serve();
    if (report.first_event < 0) report.first_event = event_ms;
    report.last_event = event_ms;
    progress.update(pacer.simulated_ms(), sink.counts().sent, stream.counts().anomalies(), options.speed);
  }
  progress.finish();
  report.deltas = stream.counts();
  return report;
}

ReplayReport replay_captures(const ReplayOptions& options, MessageSink& sink, lake::DeadLetterWriter& dead_letter) {
  ReplayReport report;
  lake::RejectReporter reject(dead_letter);
  ReplayPacer pacer(options.speed);
  ReplayProgress progress(options.progress);
  CapturedMessage message;
  for (const std::string& input : options.inputs) {
    source::LineReader reader(input);
    std::string_view line;
    while (!report.interrupted && reader.next(line)) {
      if (reader.line_too_long()) {
        reject(lake::file_source(reader.source_name(), reader.line_number()),
               fmt::format("line longer than {} bytes", source::LineReader::default_max_line_bytes), line);
        continue;
      }
      if (line.empty()) continue;
      std::string reason = parse_capture_line(line, message);
      if (!reason.empty()) {
        reject(lake::file_source(reader.source_name(), reader.line_number()), reason, line);
        continue;
      }
      ++report.rows;
      // Unknown time: right after the message before it.
      int64_t at = message.timestamp_ms >= 0 ? message.timestamp_ms : pacer.simulated_ms();
      if (!pacer.wait_until_due(at, [&] { return keep_going(sink); }) || stop_requested()) {
        report.interrupted = true;
        break;
      }
      sink.send(message.key, message.has_key, message.value);
      if (options.speed > 0) sink.serve();
      if (report.first_event < 0) report.first_event = at;
      report.last_event = at;
      progress.update(pacer.simulated_ms(), sink.counts().sent, reject.count(), options.speed);
    }
    ++report.inputs;
    if (report.interrupted) break;
  }
  progress.finish();
  report.rejected = reject.count();
  return report;
}

}  // namespace mtastream::replay
