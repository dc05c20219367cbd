#include "aggregate_job.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "dead_letter.h"
#include "error.h"
#include "line_reader.h"
#include "stop_signal.h"
#include "log.h"
#include "message_parser.h"
#include "text.h"

namespace mtastream {

namespace {

constexpr std::string_view message_header = "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP";

// Where closed windows go.
class WindowSink {
 public:
  explicit WindowSink(const AggregateOptions& o) : options_(o) {
    if (!o.output.empty())
      stream_ = std::make_unique<CsvStreamWriter>(o.output, o.layout, o.window.group_columns);
    else if (!o.lake_dir.empty() || !o.sink)
      lake_ = std::make_unique<LakeWriter>(o.lake_dir, o.layout, o.window.group_columns, o.partitioning);
    stream_name_ = o.stream_name.empty() ? aggregate_stream_name(o.inputs) : o.stream_name;
  }

  // Lake files are batched: one fsync per file and one of the directory per batch, not two per window.
  // A batch is written when it holds 64 windows or 16 MiB, at the end, and after the windows that one
  // message closed when the input is a pipe (lines may come slowly; their windows must not wait).
  void write(const ClosedWindow& window, AggregateSummary& summary) {
    if (options_.sink) {
      to_sink_.push_back(window);
      if (!lake_ && to_sink_.size() >= 64) flush(summary);
      if (!lake_ && !stream_) return;
    }
    if (stream_) {
      stream_->write(window);
      return;
    }
    lake_->add(window, lake_file_name(options_.prefix, stream_name_, std::nullopt, window.start, window.end));
    if (lake_->pending_files() >= 64 || lake_->pending_bytes() >= (16 << 20)) flush(summary);
  }
  void closed_windows_written(bool live_input, AggregateSummary& summary) {
    if (live_input) flush(summary);
  }

  // Everything durable (lake files, or the stream written and renamed) before it returns.
  void finish(AggregateSummary& summary) {
    if (!stream_) {
      flush(summary);
      return;
    }
    stream_->finish();
    summary.bytes += stream_->bytes();
    if (options_.output != "-") ++summary.files;
    flush(summary);  // --sink
  }

  // On an error: the windows that closed before it are still written, as they would be one by one.
  void flush_after_error(AggregateSummary& summary) noexcept {
    try {
      flush(summary);
    } catch (const std::exception& e) {
      log::warn("{}", e.what());
    }
  }

 private:
  const AggregateOptions& options_;
  std::unique_ptr<CsvStreamWriter> stream_;
  std::unique_ptr<LakeWriter> lake_;
  std::string stream_name_;
  std::vector<ClosedWindow> to_sink_;  // --sink: closed windows not yet loaded

  void flush(AggregateSummary& summary) {
    if (lake_)
      for (const LakeWriter::Written& written : lake_->flush()) {
        ++summary.files;
        summary.bytes += written.bytes;
        log::debug("wrote {} ({} rows)", written.path, written.rows);
      }
    if (!to_sink_.empty()) {  // after the lake files: a window in the warehouse is in the lake too
      std::vector<const ClosedWindow*> windows;
      for (const ClosedWindow& w : to_sink_) windows.push_back(&w);
      options_.sink->load_windows(windows);
      to_sink_.clear();
    }
  }
};

}  // namespace

std::string aggregate_stream_name(const std::vector<std::string>& inputs) {
  if (inputs.empty() || inputs.front() == "-") return inputs.size() > 1 ? fmt::format("stdin-and-{}-more", inputs.size() - 1) : "stdin";
  std::string base = inputs.front();
  if (size_t slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
  if (ends_with(base, ".gz")) base.resize(base.size() - 3);
  if (size_t dot = base.rfind('.'); dot != std::string::npos && dot > 0) base.resize(dot);
  if (inputs.size() > 1) base += fmt::format("-and-{}-more", inputs.size() - 1);
  return base;
}

AggregateSummary run_aggregate(const AggregateOptions& options) {
  auto started = std::chrono::steady_clock::now();
  std::vector<std::string> inputs = options.inputs.empty() ? std::vector<std::string>{"-"} : options.inputs;
  AggregateSummary summary;
  WindowEngine engine(options.window);
  DeadLetterWriter dead_letter(options.dead_letter);
  WindowSink sink(options);
  uint64_t warnings = 0;
  int64_t position = 0;
  log::debug("simdjson kernel: {} (JSON-object messages)", MessageParser::json_implementation());

  auto reject = [&](const std::string& source_name, uint64_t line_number, std::string_view reason,
                    std::string_view message) {
    std::string source = file_source(source_name, line_number);
    if (warnings < options.max_warnings) {
      log::warn("{}: {}", source, reason);
      if (++warnings == options.max_warnings)
        log::warn("further rejected messages are only counted{}",
                  dead_letter.enabled() ? fmt::format(" (all are in '{}')", dead_letter.path()) : "");
    }
    dead_letter.add(source, reason, message);
  };
  bool live_input = false;  // the input being read is a pipe or terminal
  auto drain = [&]() {
    for (const ClosedWindow& window : engine.take_closed()) sink.write(window, summary);
    sink.closed_windows_written(live_input, summary);
  };

  // Two messages in flight: the next one is parsed (from its own copy of the line) and its dedup
  // state prefetched before the previous one is added, which hides the engine's one cache miss.
  struct Pending {
    std::string line;
    MessageParser parser;
    TurnstileEvent event;
    WindowEngine::Prepared prepared{};
    uint64_t line_number = 0;
    int64_t position = 0;
  };
  Pending pending[2];
  Pending* held = nullptr;
  int next_slot = 0;
  auto add_held = [&](const std::string& source_name) {
    if (!held) return;
    Pending& p = *held;
    held = nullptr;
    int64_t watermark = engine.watermark();
    AddResult result;
    try {
      result = engine.add(p.event, p.position, p.prepared);
    } catch (const GroupKeyLimitError& e) {
      throw Error(fmt::format("{}: {}", file_source(source_name, p.line_number), e.what()));
    }
    switch (result) {
      case AddResult::accepted:
      case AddResult::duplicate:
        break;
      case AddResult::late:
      case AddResult::overflow:
      case AddResult::too_late_in_time:
        reject(source_name, p.line_number, rejection_reason(result, p.event.timestamp, watermark), p.line);
        break;
    }
    if (engine.has_closed()) drain();
  };

  try {
    for (const std::string& input : inputs) {
      LineReader reader(input);
      live_input = !reader.is_regular_file();
      const std::string& name = reader.source_name();
      std::string_view line;
      // SIGINT/SIGTERM: stop reading (a blocked read returns as end of input), then close every open window.
      while (!stop_requested() && reader.next(line)) {
        if (stop_requested() && reader.last_line_unterminated()) break;  // cut by the interrupted read
        ++position;
        if (reader.line_too_long()) {
          add_held(name);
          ++summary.read;
          ++summary.bad;
          reject(name, reader.line_number(),
                 fmt::format("line longer than {} bytes (kept cut to that length)",
                             LineReader::default_max_line_bytes),
                 line);
          continue;
        }
        Pending& p = pending[next_slot];
        p.line.assign(line);
        if (!p.parser.parse(p.line, p.event)) {
          std::string_view trimmed = trim(line);
          if (trimmed.empty() || trimmed == message_header) continue;  // blank lines and CSV headers
          add_held(name);
          ++summary.read;
          ++summary.bad;
          reject(name, reader.line_number(), p.parser.error(), line);
          continue;
        }
        ++summary.read;
        p.line_number = reader.line_number();
        p.position = position;
        p.prepared = engine.prepare(p.event);
        add_held(name);
        held = &p;
        next_slot ^= 1;
      }
      add_held(name);
      if (stop_requested()) {
        summary.interrupted = true;
        break;
      }
    }
    engine.close_all();
    drain();
  } catch (...) {
    sink.flush_after_error(summary);
    throw;
  }
  sink.finish(summary);
  dead_letter.close();

  const WindowCounters& c = engine.counters();
  summary.accepted = c.accepted;
  summary.late = c.late;
  summary.duplicates = c.duplicates;
  summary.overflow = c.overflow;
  summary.windows = c.windows_closed;
  summary.rows = c.rows;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

std::string aggregate_summary_json(const AggregateSummary& s) {
  return fmt::format(
      "{{\"read\":{},\"accepted\":{},\"rejected\":{},\"bad\":{},\"late\":{},\"overflow\":{},\"duplicates\":{},"
      "\"windows\":{},\"rows\":{},\"files\":{},\"bytes\":{},\"interrupted\":{},\"seconds\":{:.3f}}}",
      s.read, s.accepted, s.rejected(), s.bad, s.late, s.overflow, s.duplicates, s.windows, s.rows, s.files, s.bytes,
      s.interrupted ? "true" : "false", s.seconds);
}

}  // namespace mtastream
