#include "produce/publisher.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "lake/dead_letter.h"
#include "source/event_generator.h"
#include "source/line_reader.h"
#include "base/log.h"
#include "event/message_parser.h"
#include "lake/reject_reporter.h"
#include "base/stop_signal.h"
#include "base/text.h"

namespace mtastream::produce {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view message_header = "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP";

// Message tags carry where a message came from, so an undelivered one can be named: the input's index
// in the upper 24 bits, the line number (or event number) in the lower 40.
constexpr int line_bits = 40;
uint64_t make_tag(size_t input, uint64_t line) { return (static_cast<uint64_t>(input) << line_bits) | line; }

class Publisher {
 public:
  Publisher(const config::Settings& settings, const PublishJob& job, kafka::ProducerOptions options, const PublishHooks& hooks)
      : job_(job), hooks_(hooks), dead_letters_(job.dead_letter_path) {
    options.on_delivery = [this, chained = options.on_delivery](const kafka::DeliveryReport& report) {
      if (report.error != RD_KAFKA_RESP_ERR_NO_ERROR) record_undelivered(report);
      if (chained) chained(report);
    };
    producer_.emplace(settings, std::move(options));
  }

  PublishSummary run() {
    start_ = Clock::now();
    last_progress_ = start_;
    try {
      switch (job_.source) {
        case EventSource::files: read_files(); break;
        case EventSource::original_generator: generate_original(); break;
        case EventSource::city_generator: generate_city(); break;
      }
    } catch (const Error&) {
      // What was already sent still gets its delivery reports before the error is reported.
      finish_deliveries();
      dead_letters_.close();
      throw;
    }
    if (stop_requested()) summary_.interrupted = true;
    finish_deliveries();
    dead_letters_.close();
    summary_.delivery = producer_->counts();
    summary_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return summary_;
  }

 private:
  // --- sending -------------------------------------------------------------------------------------
  void send_event(const event::TurnstileEvent& event, std::string_view raw, bool raw_is_value_form, uint64_t tag) {
    key_.clear();
    switch (job_.key) {
      case MessageKey::turnstile:
        key_.append(event.ca).append(",").append(event.unit).append(",").append(event.scp);
        break;
      case MessageKey::id: key_.append(event.id); break;
      case MessageKey::none: break;
    }
    std::string_view value = raw;
    if (!raw_is_value_form) {
      value_.clear();
      event::append_event(event, job_.value_form, value_);
      value = value_;
    }
    producer_->produce(job_.topic, key_, value, tag);
    maybe_progress();
  }

  void record_undelivered(const kafka::DeliveryReport& report) {
    uint64_t input = report.tag >> line_bits, line = report.tag & ((uint64_t{1} << line_bits) - 1);
    std::string source = job_.source == EventSource::files && input < job_.files.size()
                             ? lake::file_source(source_name(job_.files[input]), line)
                             : fmt::format("generated:{}", line);
    std::string reason = fmt::format("not delivered: {}", kafka::describe_error(report.error));
    if (undelivered_logged_++ < 5) log::warn("{}: {}", source, reason);
    dead_letters_.add(source, reason, report.value);
  }

  static std::string source_name(const std::string& path) { return path == "-" ? "stdin" : path; }

  void maybe_progress() {
    if (!hooks_.on_progress || (++since_progress_check_ & 1023) != 0) return;
    auto now = Clock::now();
    if (now - last_progress_ < std::chrono::milliseconds(500)) return;
    last_progress_ = now;
    summary_.delivery = producer_->counts();
    summary_.seconds = std::chrono::duration<double>(now - start_).count();
    hooks_.on_progress(summary_);
  }

  // Reading stops at -c, and at wrong credentials (nothing would be delivered).
  bool count_reached() const {
    return (job_.count && summary_.read >= *job_.count) || !producer_->authentication_error().empty();
  }

  // Keeps to --rate: waits (serving delivery reports) until message `n` is due.
  void pace(uint64_t n) {
    if (job_.rate <= 0) return;
    auto due = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / job_.rate));
    for (;;) {
      auto now = Clock::now();
      if (now >= due || stop_requested()) return;
      auto wait = std::min<Clock::duration>(due - now, std::chrono::milliseconds(100));
      producer_->poll(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
      if (hooks_.on_progress && Clock::now() - last_progress_ >= std::chrono::milliseconds(500)) {
        since_progress_check_ = 1023;
        maybe_progress();
      }
    }
  }

  // --- sources -------------------------------------------------------------------------------------
  void read_files() {
    event::MessageParser parser;
    event::TurnstileEvent event;
    for (size_t input = 0; input < job_.files.size(); ++input) {
      source::LineReader reader(job_.files[input]);
      std::string_view line;
      bool at_end = true;
      while (!count_reached()) {
        if (stop_requested()) {
          at_end = false;
          break;
        }
        if (!reader.next(line)) {
          if (stop_requested()) at_end = false;  // the interrupted read returned, not the end of the input
          break;
        }
        if (stop_requested() && reader.last_line_unterminated()) {
          at_end = false;  // a line cut by the interrupted read is not sent
          break;
        }
        std::string_view trimmed = trim(line);
        if (trimmed.empty()) continue;
        if (reader.line_number() == 1 && trimmed == message_header) continue;
        ++summary_.read;
        if (reader.line_too_long()) {
          reject(reader, line, fmt::format("line longer than {} bytes", source::LineReader::default_max_line_bytes));
          continue;
        }
        if (!parser.parse(trimmed, event)) {
          reject(reader, trimmed, parser.error());
          continue;
        }
        pace(summary_.read - 1);
        send_event(event, trimmed, parser.form() == job_.value_form, make_tag(input, reader.line_number()));
      }
      if (!at_end) {  // stopped before the end of this input (stdin too: it had not ended)
        summary_.input_complete = false;
        break;
      }
    }
  }

  void reject(const source::LineReader& reader, std::string_view line, std::string_view reason) {
    ++summary_.rejected;
    if (hooks_.on_rejected) hooks_.on_rejected();
    rejects_(lake::file_source(reader.source_name(), reader.line_number()), reason, line);
  }

  void generate_original() {
    source::OriginalGenerator generator(job_.seed);
    event::TurnstileEvent event;
    while (!count_reached() && !stop_requested()) {
      pace(summary_.read);
      if (stop_requested()) break;
      generator.next(source::local_now_seconds(), event);
      ++summary_.read;
      send_event(event, {}, false, make_tag(0, summary_.read));
    }
  }

  void generate_city() {
    source::CityGenerator generator(job_.seed, job_.turnstiles);
    event::TurnstileEvent event;
    size_t per_round = generator.turnstile_count();
    while (!count_reached() && !stop_requested()) {
      pace(summary_.read);
      if (stop_requested()) break;
      int64_t when;
      double interval;
      if (job_.start_time) {
        when = *job_.start_time + static_cast<int64_t>(summary_.read / per_round + 1) * job_.step_seconds;
        interval = static_cast<double>(job_.step_seconds);
      } else {
        when = source::local_now_seconds();
        interval = job_.rate > 0 ? static_cast<double>(per_round) / job_.rate : 60.0;
      }
      generator.next(when, interval, event);
      ++summary_.read;
      send_event(event, {}, false, make_tag(0, summary_.read));
    }
  }

  // --- the end ------------------------------------------------------------------------------------
  void finish_deliveries() {
    kafka::await_deliveries(*producer_, [this] {
      if (hooks_.on_progress && Clock::now() - last_progress_ >= std::chrono::milliseconds(500)) {
        last_progress_ = Clock::now();
        summary_.delivery = producer_->counts();
        hooks_.on_progress(summary_);
      }
    });
  }

  const PublishJob& job_;
  const PublishHooks& hooks_;
  lake::DeadLetterWriter dead_letters_;
  lake::RejectReporter rejects_{dead_letters_};
  std::optional<kafka::KafkaProducer> producer_;
  PublishSummary summary_;
  std::string key_, value_;
  Clock::time_point start_, last_progress_;
  uint64_t since_progress_check_ = 0;
  uint64_t undelivered_logged_ = 0;
};

}  // namespace

MessageKey parse_message_key(std::string_view name) {
  if (name == "turnstile") return MessageKey::turnstile;
  if (name == "id") return MessageKey::id;
  if (name == "none") return MessageKey::none;
  throw UsageError(fmt::format("unknown key kind '{}' (use turnstile, id or none)", printable(name)));
}

PublishSummary publish(const config::Settings& settings, const PublishJob& job, kafka::ProducerOptions producer_options,
                       const PublishHooks& hooks) {
  Publisher publisher(settings, job, std::move(producer_options), hooks);
  return publisher.run();
}

}  // namespace mtastream::produce
