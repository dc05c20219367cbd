#include "aggregate/aggregate_job.h"

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>

#include "lake/dead_letter.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "source/line_reader.h"
#include "base/stop_signal.h"
#include "base/log.h"
#include "lake/reject_reporter.h"
#include "event/message_parser.h"
#include "base/text.h"
#include "base/worker_pool.h"

namespace mtastream::aggregate {

namespace {

constexpr std::string_view message_header = "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP";

// Where closed windows go.
class WindowSink {
 public:
  explicit WindowSink(const AggregateOptions& o) : options_(o) {
    if (!o.output.empty())
      stream_ = std::make_unique<lake::CsvStreamWriter>(o.output, o.layout, o.window.group_columns);
    else if (!o.lake_dir.empty() || !o.sink)
      lake_ = std::make_unique<lake::LakeWriter>(o.lake_dir, o.layout, o.window.group_columns, o.partitioning);
    stream_name_ = o.stream_name.empty() ? aggregate_stream_name(o.inputs) : o.stream_name;
  }

  // Lake files are batched: one fsync per file and one of the directory per batch, not two per window.
  // A batch is written when it holds 64 windows or 16 MiB, at the end, and after the windows that one
  // message closed when the input is a pipe (lines may come slowly; their windows must not wait).
  void write(const engine::ClosedWindow& window, AggregateSummary& summary) {
    if (options_.sink) {
      to_sink_.push_back(window);
      if (!lake_ && to_sink_.size() >= 64) flush(summary);
      if (!lake_ && !stream_) return;
    }
    if (stream_) {
      stream_->write(window);
      return;
    }
    lake_->add(window, lake::lake_file_name(options_.prefix, stream_name_, std::nullopt, window.start, window.end));
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
  std::unique_ptr<lake::CsvStreamWriter> stream_;
  std::unique_ptr<lake::LakeWriter> lake_;
  std::string stream_name_;
  std::vector<engine::ClosedWindow> to_sink_;  // --sink: closed windows not yet loaded

  void flush(AggregateSummary& summary) {
    if (lake_)
      for (const lake::LakeWriter::Written& written : lake_->flush()) {
        ++summary.files;
        summary.bytes += written.bytes;
        log::debug("wrote {} ({} rows)", written.path, written.rows);
      }
    if (!to_sink_.empty()) {  // after the lake files: a window in the warehouse is in the lake too
      std::vector<const engine::ClosedWindow*> windows;
      for (const engine::ClosedWindow& w : to_sink_) windows.push_back(&w);
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

namespace {

std::vector<std::string> inputs_or_stdin(const AggregateOptions& options) {
  return options.inputs.empty() ? std::vector<std::string>{"-"} : options.inputs;
}

std::string line_too_long_reason() {
  return fmt::format("line longer than {} bytes (kept cut to that length)", source::LineReader::default_max_line_bytes);
}

double seconds_since(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

// Runs `read` (the input into the sink), then makes the sink and the dead letters durable. On an error the
// windows that closed before it are still written.
template <typename Read>
void write_all(WindowSink& sink, lake::DeadLetterWriter& dead_letter, AggregateSummary& summary, Read&& read) {
  try {
    read();
  } catch (...) {
    sink.flush_after_error(summary);
    throw;
  }
  sink.finish(summary);
  dead_letter.close();
}

// ---- aggregate --threads 1: one window engine on the reading thread ----
class OneThreadAggregate {
 public:
  explicit OneThreadAggregate(const AggregateOptions& options)
      : options_(options), engine_(options.window), dead_letter_(options.dead_letter), sink_(options),
        reject_(dead_letter_) {}

  AggregateSummary run() {
    auto started = std::chrono::steady_clock::now();
    log::debug("simdjson kernel: {} (JSON-object messages)", event::MessageParser::json_implementation());
    write_all(sink_, dead_letter_, summary_, [&] {
      for (const std::string& input : inputs_or_stdin(options_)) {
        read_input(input);
        if (stop_requested()) {
          summary_.interrupted = true;
          break;
        }
      }
      engine_.close_all();
      drain();
    });

    const engine::WindowCounters& c = engine_.counters();
    summary_.accepted = c.accepted;
    summary_.late = c.late;
    summary_.duplicates = c.duplicates;
    summary_.overflow = c.overflow;
    summary_.seconds = seconds_since(started);
    return summary_;
  }

 private:
  // Two messages in flight: the next one is parsed (from its own copy of the line) and its dedup
  // state prefetched before the previous one is added, which hides the engine's one cache miss.
  struct Pending {
    std::string line;
    event::MessageParser parser;
    event::TurnstileEvent event;
    engine::WindowEngine::Prepared prepared{};
    uint64_t line_number = 0;
    int64_t position = 0;
  };

  // SIGINT/SIGTERM: stop reading (a blocked read returns as end of input); run() closes every open window.
  void read_input(const std::string& input) {
    source::LineReader reader(input);
    live_input_ = !reader.is_regular_file();
    const std::string& name = reader.source_name();
    std::string_view line;
    while (!stop_requested() && reader.next(line)) {
      if (stop_requested() && reader.last_line_unterminated()) break;  // cut by the interrupted read
      ++position_;
      if (reader.line_too_long()) {
        reject_bad(name, reader.line_number(), line_too_long_reason(), line);
        continue;
      }
      Pending& p = pending_[next_slot_];
      p.line.assign(line);
      if (!p.parser.parse(p.line, p.event)) {
        std::string_view trimmed = trim(line);
        if (trimmed.empty() || trimmed == message_header) continue;  // blank lines and CSV headers
        reject_bad(name, reader.line_number(), p.parser.error(), line);
        continue;
      }
      ++summary_.read;
      p.line_number = reader.line_number();
      p.position = position_;
      p.prepared = engine_.prepare(p.event);
      add_held(name);
      held_ = &p;
      next_slot_ ^= 1;
    }
    add_held(name);
  }

  // A bad line is rejected after the message before it was added (input order in the dead letters).
  void reject_bad(const std::string& name, uint64_t line_number, std::string_view reason, std::string_view line) {
    add_held(name);
    ++summary_.read;
    ++summary_.bad;
    reject_(lake::file_source(name, line_number), reason, line);
  }

  void add_held(const std::string& source_name) {
    if (!held_) return;
    Pending& p = *held_;
    held_ = nullptr;
    int64_t watermark = engine_.watermark();
    engine::AddResult result;
    try {
      result = engine_.add(p.event, p.position, p.prepared);
    } catch (const engine::GroupKeyLimitError& e) {
      throw Error(fmt::format("{}: {}", lake::file_source(source_name, p.line_number), e.what()));
    }
    switch (result) {
      case engine::AddResult::accepted:
      case engine::AddResult::duplicate:
        break;
      case engine::AddResult::late:
      case engine::AddResult::overflow:
      case engine::AddResult::too_late_in_time:
        reject_(lake::file_source(source_name, p.line_number),
                engine::rejection_reason(result, p.event.timestamp, watermark), p.line);
        break;
    }
    if (engine_.has_closed()) drain();
  }

  void drain() {
    for (const engine::ClosedWindow& window : engine_.take_closed()) {
      ++summary_.windows;
      summary_.rows += window.rows.size();
      sink_.write(window, summary_);
    }
    sink_.closed_windows_written(live_input_, summary_);
  }

  const AggregateOptions& options_;
  AggregateSummary summary_;
  engine::WindowEngine engine_;
  lake::DeadLetterWriter dead_letter_;
  WindowSink sink_;
  lake::RejectReporter reject_;
  Pending pending_[2];
  Pending* held_ = nullptr;
  int next_slot_ = 0;
  bool live_input_ = false;  // the input being read is a pipe or terminal
  int64_t position_ = 0;
};

// ---- aggregate --threads N: the same result from N window engines ----
//
// Input is read in batches. Per batch: (a) the workers parse contiguous slices of its lines and hash
// each event; (b) the reading thread walks the batch in input order through one front engine that does
// dedup and the watermark (admit()), the steps whose outcome depends on every earlier event, and gives
// each admitted event to the shard its group key hashes to, with the watermark it met; (c) each worker
// adds its shard's events (add_admitted()) and closes the windows the batch's final watermark passed;
// (d) the reading thread merges each window's rows from every shard (disjoint keys, each sorted) and
// writes it, and writes the batch's rejected messages in input order. Reading the next batch overlaps (c).

enum class LineStatus : uint8_t { skipped, bad, too_long, parsed, duplicate, late, too_late, overflow };

struct Batch {
  struct Line {
    size_t offset;
    size_t size;
    uint64_t line_number;
    int64_t position;
  };
  std::string source;      // the input's name (a batch never spans two inputs)
  bool live = false;       // ended early: a pipe had no further line buffered
  bool read_error = false; // reading failed after these lines (the error is rethrown once they are done)
  std::string text;        // the lines back to back
  std::vector<Line> lines;
  std::vector<event::TurnstileEvent> events;
  std::vector<engine::WindowEngine::Prepared> prepared;
  std::vector<LineStatus> status;
  std::vector<std::string> errors;  // why a bad line is bad
  std::vector<int64_t> watermark_before;
  std::vector<std::deque<std::string>> pinned;       // per worker: fields of events parsed out of JSON
  std::vector<std::vector<uint32_t>> shard_events;   // per shard: indices of its events, in input order
  std::vector<std::vector<engine::ClosedWindow>> closed;     // per shard: windows the batch closed
  struct Failure {
    uint32_t index;
    std::string what;
    bool key_limit;
  };
  std::vector<std::optional<Failure>> failures;  // per shard: the add that threw
  int64_t watermark_end = engine::WindowEngine::minus_infinity;

  explicit Batch(unsigned shards) : pinned(shards), shard_events(shards), closed(shards), failures(shards) {}
  void clear() {
    live = read_error = false;
    text.clear();
    lines.clear();
    status.clear();
    for (auto& p : pinned) p.clear();
    for (auto& e : shard_events) e.clear();
    for (auto& c : closed) c.clear();
    for (auto& f : failures) f.reset();
  }
  std::string_view line(size_t i) const { return std::string_view(text.data() + lines[i].offset, lines[i].size); }
};

// Copies the text fields of an event parsed out of JSON (views into the parser) next to the batch.
void pin_fields(event::TurnstileEvent& e, std::deque<std::string>& store) {
  std::string_view* fields[] = {&e.ca, &e.unit, &e.scp, &e.station, &e.linename, &e.division, &e.date, &e.time, &e.desc, &e.id};
  std::string& text = store.emplace_back();
  for (std::string_view* f : fields) text.append(*f);
  size_t offset = 0;
  for (std::string_view* f : fields) {
    *f = std::string_view(text.data() + offset, f->size());
    offset += f->size();
  }
}

// Reads the inputs batch by batch, with the one-thread loop's rules for interrupts and positions.
class BatchReader {
 public:
  explicit BatchReader(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}
  bool interrupted() const { return interrupted_; }

  // Fills `b` (at most max_lines lines or max_bytes, never past the end of one input, and from a pipe
  // only what is buffered); false when every input is done. A read error ends the batch with
  // read_error set and is rethrown by rethrow_read_error() once its lines are handled.
  bool fill(Batch& b) {
    b.clear();
    try {
      return fill_from_inputs(b);
    } catch (...) {
      read_error_ = std::current_exception();
      reader_.reset();
      done_ = true;
      b.read_error = true;
      return true;
    }
  }
  void rethrow_read_error() {
    if (read_error_) std::rethrow_exception(std::exchange(read_error_, nullptr));
  }

 private:
  bool fill_from_inputs(Batch& b) {
    while (true) {
      if (!reader_) {
        if (done_ || next_input_ == inputs_.size()) {
          done_ = true;
          return false;
        }
        reader_ = std::make_unique<source::LineReader>(inputs_[next_input_++]);
        live_ = !reader_->is_regular_file();
      }
      b.source = reader_->source_name();
      bool ended = false;
      std::string_view line;
      while (b.lines.size() < max_lines && b.text.size() < max_bytes) {
        if (stop_requested() || !reader_->next(line)) {
          ended = true;
          break;
        }
        if (stop_requested() && reader_->last_line_unterminated()) {  // cut by the interrupted read
          ended = true;
          break;
        }
        b.lines.push_back({b.text.size(), line.size(), reader_->line_number(), ++position_});
        b.status.push_back(reader_->line_too_long() ? LineStatus::too_long : LineStatus::skipped);
        b.text.append(line);
        if (live_ && !reader_->has_buffered_line()) {
          b.live = true;
          return true;
        }
      }
      if (!ended) return true;
      reader_.reset();
      if (stop_requested()) {
        interrupted_ = true;
        done_ = true;
      }
      if (!b.lines.empty()) return true;
    }
  }

  static constexpr size_t max_lines = 4096;
  static constexpr size_t max_bytes = 8 << 20;
  std::vector<std::string> inputs_;
  size_t next_input_ = 0;
  std::unique_ptr<source::LineReader> reader_;
  bool live_ = false;
  bool done_ = false;
  bool interrupted_ = false;
  int64_t position_ = 0;
  std::exception_ptr read_error_;
};

// Rows of one window from several shards (disjoint keys, each sorted) in the engine's row order.
engine::ClosedWindow merge_window(std::vector<engine::ClosedWindow*>& parts) {
  auto key = [](const engine::WindowRow& r) {
    return std::tie(r.ca, r.unit, r.scp, r.station, r.linename, r.division, r.desc);
  };
  engine::ClosedWindow out;
  out.start = parts.front()->start;
  out.end = parts.front()->end;
  out.min_position = INT64_MAX;
  size_t total = 0;
  for (engine::ClosedWindow* p : parts) {
    total += p->rows.size();
    if (p->min_position < out.min_position) {
      out.min_position = p->min_position;
      out.watermark_at_min = p->watermark_at_min;
    }
  }
  out.rows.reserve(total);
  std::vector<size_t> next(parts.size(), 0);
  while (out.rows.size() < total) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (next[i] == parts[i]->rows.size()) continue;
      if (best == SIZE_MAX || key(parts[i]->rows[next[i]]) < key(parts[best]->rows[next[best]])) best = i;
    }
    out.rows.push_back(std::move(parts[best]->rows[next[best]++]));
  }
  return out;
}

class ShardedAggregate {
 public:
  explicit ShardedAggregate(const AggregateOptions& options)
      : n_(options.threads), group_columns_(options.window.group_columns), front_(options.window),
        dead_letter_(options.dead_letter), sink_(options), reading_(inputs_or_stdin(options)),
        batches_{Batch(n_), Batch(n_), Batch(n_), Batch(n_)}, reject_(dead_letter_) {
    // The key limit holds per shard (see README).
    for (unsigned i = 0; i < n_; ++i) shards_.push_back(std::make_unique<engine::WindowEngine>(options.window));
    pool_ = std::make_unique<WorkerPool>(n_);
  }

  AggregateSummary run() {
    auto started = std::chrono::steady_clock::now();
    log::debug("simdjson kernel: {} (JSON-object messages); {} window threads",
               event::MessageParser::json_implementation(), n_);
    write_all(sink_, dead_letter_, summary_, [&] {
      run_batches();
      reading_.rethrow_read_error();
      summary_.interrupted = reading_.interrupted();
      close_all();
    });

    summary_.duplicates = front_.counters().duplicates;
    summary_.late = front_.counters().late;
    summary_.overflow = front_.counters().overflow;
    for (const auto& shard : shards_) {
      summary_.accepted += shard->counters().accepted;
      summary_.overflow += shard->counters().overflow;
    }
    summary_.seconds = seconds_since(started);
    return summary_;
  }

 private:
  // A pipeline of batches: while the workers add batch R and parse batch P, this thread admits batch
  // Q (parsed, R's successor) and reads the next one; then it writes R. A batch that ended at a pipe's
  // buffered end (or at a read error) goes through alone before anything more is read.
  void run_batches() {
    Batch *to_parse = take(), *to_admit = nullptr, *to_add = nullptr;
    if (to_parse) size_for_parse(*to_parse);
    while (to_parse || to_admit || to_add) {
      Batch *parse_b = to_parse, *add_b = to_add;
      pool_->start([this, parse_b, add_b](unsigned w) {
        if (add_b) add_shard(*add_b, w);
        if (parse_b) parse_slice(*parse_b, w);
      });
      if (to_admit) admit(*to_admit);
      Batch* read_b = more_ && !hold_reading_ ? take() : nullptr;
      pool_->wait();
      if (to_add) {
        finish(*to_add);
        if (to_add->read_error) reading_.rethrow_read_error();
        if (to_add->live || to_add->read_error) hold_reading_ = false;
        free_list_[free_count_++] = to_add;
      }
      to_add = to_admit;
      to_admit = to_parse;
      if (to_admit && to_admit->read_error) drop_last_parsed(*to_admit);
      to_parse = read_b;
      if (!to_parse && more_ && !hold_reading_ && !to_admit && !to_add) to_parse = take();  // after a live batch
      if (to_parse) size_for_parse(*to_parse);
    }
  }

  // The next batch read from the inputs, or null at their end.
  Batch* take() {
    Batch* b = free_list_[--free_count_];
    if (!reading_.fill(*b)) {
      free_list_[free_count_++] = b;
      more_ = false;
      return nullptr;
    }
    if (b->live || b->read_error) hold_reading_ = true;
    return b;
  }

  // At the end of the input: every shard closes its open windows, written merged.
  void close_all() {
    Batch& last = *free_list_[0];
    last.clear();
    pool_->run([this, &last](unsigned s) {
      shards_[s]->close_all();
      last.closed[s] = shards_[s]->take_closed();
    });
    write_closed(last.closed, INT64_MAX, false);
  }

  // (a) parse slice w of n of the batch (sized by size_for_parse() first).
  static void size_for_parse(Batch& b) {
    size_t count = b.lines.size();
    b.events.resize(count);
    b.prepared.resize(count);
    b.errors.resize(count);
    b.watermark_before.resize(count);
  }
  void parse_slice(Batch& b, unsigned w) const {
    thread_local event::MessageParser parser;
    const size_t count = b.lines.size();
    for (size_t i = count * w / n_, end = count * (w + 1) / n_; i < end; ++i) {
      if (b.status[i] == LineStatus::too_long) continue;
      std::string_view line = b.line(i);
      event::TurnstileEvent& e = b.events[i];
      if (!parser.parse(line, e)) {
        std::string_view trimmed = trim(line);
        if (trimmed.empty() || trimmed == message_header) continue;  // blank lines and CSV headers
        b.status[i] = LineStatus::bad;
        b.errors[i].assign(parser.error());
        continue;
      }
      if (parser.form() != event::WireForm::csv) pin_fields(e, b.pinned[w]);
      b.prepared[i] = engine::WindowEngine::hash(e, group_columns_);
      b.status[i] = LineStatus::parsed;
    }
  }

  // (b) dedup and watermark in input order; admitted events to their shards.
  void admit(Batch& b) {
    const size_t count = b.lines.size();
    for (size_t i = 0; i < count; ++i) {
      LineStatus& st = b.status[i];
      if (st == LineStatus::skipped) continue;
      ++summary_.read;
      if (st != LineStatus::parsed) {
        ++summary_.bad;
        continue;
      }
      if (i + 1 < count && b.status[i + 1] == LineStatus::parsed) front_.prefetch(b.prepared[i + 1]);
      b.watermark_before[i] = front_.watermark();
      switch (front_.admit(b.events[i], b.prepared[i])) {
        case engine::AddResult::accepted: {
          // The high hash bits pick the shard: the low ones index each shard's own key table.
          uint64_t shard = (b.prepared[i].key_hash >> 32) * n_ >> 32;
          b.shard_events[shard].push_back(static_cast<uint32_t>(i));
          break;
        }
        case engine::AddResult::duplicate: st = LineStatus::duplicate; break;
        case engine::AddResult::late: st = LineStatus::late; break;
        default: st = LineStatus::too_late; break;
      }
    }
    b.watermark_end = front_.watermark();
  }

  // (c) worker s adds its shard's events and closes what the batch's watermark passed.
  void add_shard(Batch& b, unsigned s) {
    engine::WindowEngine& engine = *shards_[s];
    const std::vector<uint32_t>& mine = b.shard_events[s];
    for (size_t k = 0; k < mine.size(); ++k) {
      const uint32_t i = mine[k];
      if (k + 1 < mine.size()) engine.prefetch(b.prepared[mine[k + 1]]);
      try {
        if (engine.add_admitted(b.events[i], b.lines[i].position, b.prepared[i], b.watermark_before[i]) ==
            engine::AddResult::overflow)
          b.status[i] = LineStatus::overflow;
      } catch (const engine::GroupKeyLimitError& e) {
        b.failures[s] = Batch::Failure{i, e.what(), true};
        break;
      } catch (const std::exception& e) {
        b.failures[s] = Batch::Failure{i, e.what(), false};
        break;
      }
    }
    engine.advance_watermark(b.watermark_end);
    b.closed[s] = engine.take_closed();
  }

  // (d) rejects in input order, then the closed windows; an add that failed stops the run where the
  // one-thread loop would have: what came before it is written.
  void finish(Batch& b) {
    std::optional<Batch::Failure> failure;
    for (auto& f : b.failures)
      if (f && (!failure || f->index < failure->index)) failure = *f;
    const size_t stop = failure ? failure->index : b.lines.size();
    for (size_t i = 0; i < stop; ++i) reject_line(b, i);
    write_closed(b.closed, failure ? b.watermark_before[failure->index] : INT64_MAX, b.live);
    if (failure) {
      if (failure->key_limit)
        throw Error(fmt::format("{}: {}", lake::file_source(b.source, b.lines[failure->index].line_number), failure->what));
      throw Error(failure->what);
    }
  }

  // Line i of the batch to the dead letters, if it was rejected.
  void reject_line(const Batch& b, size_t i) {
    std::optional<engine::AddResult> result;
    switch (b.status[i]) {
      case LineStatus::bad: reject_(lake::file_source(b.source, b.lines[i].line_number), b.errors[i], b.line(i)); return;
      case LineStatus::too_long:
        reject_(lake::file_source(b.source, b.lines[i].line_number), line_too_long_reason(), b.line(i));
        return;
      case LineStatus::late: result = engine::AddResult::late; break;
      case LineStatus::too_late: result = engine::AddResult::too_late_in_time; break;
      case LineStatus::overflow: result = engine::AddResult::overflow; break;
      default: return;
    }
    reject_(lake::file_source(b.source, b.lines[i].line_number),
            engine::rejection_reason(*result, b.events[i].timestamp, b.watermark_before[i]), b.line(i));
  }

  // Writes the windows every shard closed (only those ending at or before `end_limit`), merged.
  void write_closed(std::vector<std::vector<engine::ClosedWindow>>& closed, int64_t end_limit, bool live) {
    std::vector<size_t> next(closed.size(), 0);
    std::vector<engine::ClosedWindow*> parts;
    while (true) {
      int64_t start = INT64_MAX;
      for (size_t s = 0; s < closed.size(); ++s)
        if (next[s] < closed[s].size() && closed[s][next[s]].end <= end_limit)
          start = std::min(start, closed[s][next[s]].start);
      if (start == INT64_MAX) break;
      parts.clear();
      for (size_t s = 0; s < closed.size(); ++s)
        if (next[s] < closed[s].size() && closed[s][next[s]].start == start) parts.push_back(&closed[s][next[s]++]);
      engine::ClosedWindow merged = parts.size() == 1 ? std::move(*parts.front()) : merge_window(parts);
      ++summary_.windows;
      summary_.rows += merged.rows.size();
      sink_.write(merged, summary_);
    }
    sink_.closed_windows_written(live, summary_);
  }

  // A read error: the one-thread loop had not yet added the last message parsed before it.
  // (A bad line after it had added it first.)
  static void drop_last_parsed(Batch& b) {
    for (size_t i = b.lines.size(); i-- > 0;) {
      if (b.status[i] == LineStatus::skipped) continue;
      if (b.status[i] == LineStatus::parsed) b.status[i] = LineStatus::skipped;
      break;
    }
  }

  const unsigned n_;
  const engine::GroupColumns group_columns_;
  AggregateSummary summary_;
  engine::WindowEngine front_;  // dedup and the watermark, in input order
  std::vector<std::unique_ptr<engine::WindowEngine>> shards_;
  lake::DeadLetterWriter dead_letter_;
  WindowSink sink_;
  BatchReader reading_;
  Batch batches_[4];
  Batch* free_list_[4] = {&batches_[0], &batches_[1], &batches_[2], &batches_[3]};
  size_t free_count_ = 4;
  bool more_ = true;           // the inputs are not all read
  bool hold_reading_ = false;  // a live batch (or one cut by a read error) is in the pipeline
  lake::RejectReporter reject_;
  std::unique_ptr<WorkerPool> pool_;  // last: its threads stop before what they use goes away
};

}  // namespace

AggregateSummary run_aggregate(const AggregateOptions& options) {
  return options.threads > 1 ? ShardedAggregate(options).run() : OneThreadAggregate(options).run();
}

std::string aggregate_summary_json(const AggregateSummary& s) {
  JsonWriter json;
  json.begin_object();
  for (auto [name, value] : {std::pair<const char*, uint64_t>{"read", s.read}, {"accepted", s.accepted},
                             {"rejected", s.rejected()}, {"bad", s.bad}, {"late", s.late}, {"overflow", s.overflow},
                             {"duplicates", s.duplicates}, {"windows", s.windows}, {"rows", s.rows},
                             {"files", s.files}, {"bytes", s.bytes}})
    json.field(name, value);
  return json.field("interrupted", s.interrupted).field("seconds", s.seconds).end_object().str();
}

}  // namespace mtastream::aggregate
