// `mtastream replay`: MTA weekly batch files (cumulative registers) become a stream of delta events, or
// a capture of raw messages is re-published with its timing; to a topic (-t) or a file/stdout (-o).
#include <fmt/format.h>

#include <chrono>

#include "base/civil_time.h"
#include "config/cli_checks.h"
#include "commands/command.h"
#include "lake/dead_letter.h"
#include "base/exit_code.h"
#include "base/json_writer.h"
#include "base/log.h"
#include "replay/replay.h"
#include "replay/replay_sink.h"
#include "base/stop_signal.h"

namespace mtastream::commands {

namespace {

struct ReplayFlags {
  std::vector<std::string> inputs;
  std::string topic;
  std::string output;
  double speed = 0;
  bool as_fast_as_possible = false;
  uint64_t max_delta = 10000;
  std::string value_format = "csv";
  std::string key = "turnstile";
  bool capture = false;
  std::string dead_letter;
  bool json = false;
};

std::string event_time(int64_t ms) {
  std::string text;
  civil::append_timestamp(ms / 1000, text);
  return text;
}

void event_time_or_null(JsonWriter& json, std::string_view name, int64_t ms) {
  json.key(name);
  ms < 0 ? json.null() : json.value(event_time(ms));
}

std::string json_summary(const ReplayFlags& o, const replay::ReplayReport& r, const replay::MessageSink& sink,
                         double seconds) {
  const replay::SinkCounts& c = sink.counts();
  JsonWriter json;
  json.begin_object().field("command", "replay").field("mode", o.capture ? "capture" : "mta");
  json.field("inputs", r.inputs).field("rows", r.rows).field("rejected", r.rejected).field("turnstiles", r.turnstiles);
  json.field("events", o.capture ? c.sent : r.deltas.events).key("anomalies").begin_object();
  json.field("duplicate_reading", r.deltas.duplicate_readings).field("negative_delta", r.deltas.negative_deltas);
  json.field("delta_above_max", r.deltas.deltas_above_max).end_object();
  json.field("sent", c.sent).field("delivered", c.delivered).field("failed", c.failed);
  event_time_or_null(json, "first_event", r.first_event);
  event_time_or_null(json, "last_event", r.last_event);
  json.field("interrupted", r.interrupted).field("seconds", seconds).end_object();
  return json.str() + "\n";
}

void human_summary(const ReplayFlags& o, const replay::ReplayReport& r, const replay::MessageSink& sink, double seconds) {
  const replay::SinkCounts& c = sink.counts();
  std::string what = o.capture ? fmt::format("{} captured messages", r.rows)
                               : fmt::format("{} readings of {} turnstiles", r.rows, r.turnstiles);
  log::info("replay: {} input{}, {}, {} rejected; {} sent to {}, {} delivered{}; {:.2f} s", r.inputs,
            r.inputs == 1 ? "" : "s", what, r.rejected, c.sent, sink.describe(), c.delivered,
            c.failed ? fmt::format(", {} FAILED", c.failed) : "", seconds);
  if (!o.capture)
    log::info("replay: anomalies (no event): {} negative deltas, {} deltas above --max-delta {}, {} duplicate readings",
              r.deltas.negative_deltas, r.deltas.deltas_above_max, o.max_delta, r.deltas.duplicate_readings);
  if (r.first_event >= 0)
    log::info("replay: event time {} .. {}", event_time(r.first_event), event_time(r.last_event));
}

ExitCode run_replay(const ReplayFlags& o, const CLI::App& command, const GlobalContext& context) {
  if (!o.topic.empty() && !o.output.empty()) throw UsageError("give either -t TOPIC or -o FILE|-, not both");
  if (o.json && o.topic.empty() && (o.output.empty() || o.output == "-"))
    throw UsageError("--json and the events would both go to stdout; give -o FILE or -t TOPIC with --json");
  if (o.as_fast_as_possible && command.count("--speed"))
    throw UsageError("give either --speed X or --as-fast-as-possible, not both");
  if (o.capture && (command.count("--value-format") || command.count("--key") || command.count("--max-delta")))
    throw UsageError("--capture re-publishes messages as captured: --value-format, --key and --max-delta do not apply");

  replay::ReplayOptions options;
  options.inputs = o.inputs;
  options.max_delta = o.max_delta;
  options.value_form = event::parse_wire_form(o.value_format);
  options.key = replay::parse_replay_key(o.key);
  const bool to_topic = !o.topic.empty();
  // Paced by default only towards a topic (a live stream); files and stdout get everything at once.
  options.speed = o.as_fast_as_possible ? 0 : command.count("--speed") ? o.speed : to_topic ? 1.0 : 0;
  options.progress = log::stderr_is_terminal() && log::enabled(log::Level::info);

  std::unique_ptr<replay::MessageSink> sink =
      to_topic ? replay::make_topic_sink(context.settings, o.topic) : replay::make_output_sink(o.output.empty() ? "-" : o.output);
  lake::DeadLetterWriter dead_letter(o.dead_letter);

  install_stop_signal_handlers();
  auto start = std::chrono::steady_clock::now();
  replay::ReplayReport report = o.capture ? replay::replay_captures(options, *sink, dead_letter)
                                  : replay::replay_mta_files(options, *sink, dead_letter);
  sink->finish();
  dead_letter.close();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  human_summary(o, report, *sink, seconds);
  if (o.json) write_stdout(json_summary(o, report, *sink, seconds));
  const replay::SinkCounts& c = sink->counts();
  if (report.interrupted) log::warn("replay: stopped before the end of the input");
  if (c.delivered < c.sent) log::error("replay: {} messages not delivered", c.sent - c.delivered);
  // As `produce`: nothing acknowledged at all is a failed run (broker unreachable), some is partial.
  return exit_code(
      {.rejected = report.rejected, .sent = c.sent, .delivered = c.delivered, .input_complete = !report.interrupted});
}

}  // namespace

void add_replay_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "replay", "turn MTA weekly batch files (cumulative registers) into a stream of delta events");
  auto o = std::make_shared<ReplayFlags>();
  command->add_option("files", o->inputs,
                      "MTA weekly files (raw turnstile_YYMMDD.txt or pandas re-saved .csv.gz, any mix; - for "
                      "stdin), or with --capture captured messages")
      ->required()
      ->type_name("FILE...");
  command->add_option("-t,--topic", o->topic, "publish to this topic (idempotent producer, acks=all)")
      ->type_name("TOPIC");
  command->add_option("-o,--output", o->output, "write one message a line to FILE, or - for stdout (the default)")
      ->type_name("FILE|-");
  command->add_option("--speed", o->speed,
                      "X times real time, by event timestamps (default: 1 with -t, as fast as possible with -o)")
      ->type_name("X")
      ->check(config::number_above_zero());
  command->add_flag("--as-fast-as-possible", o->as_fast_as_possible, "no pacing");
  command->add_option("--max-delta", o->max_delta,
                      "a delta above this (ENTRIES or EXITS) is a counter anomaly: no event")->capture_default_str()
      ->type_name("N")
      ->check(config::whole_number(0));
  command->add_option("--value-format", o->value_format, "message form: csv, json-string (the original's), json")->capture_default_str()
      ->type_name("FORM");
  command->add_option("--key", o->key, "message key: turnstile (CA,UNIT,SCP), id, none")->capture_default_str()->type_name("KIND");
  command->add_flag("--capture", o->capture,
                    "inputs are captured messages (kcat -J NDJSON or TIMESTAMP<TAB>KEY<TAB>VALUE lines), "
                    "re-published with their relative timing");
  command->add_option("--dead-letter", o->dead_letter, "append rejected rows here (NDJSON with source and reason)")
      ->type_name("FILE");
  command->add_flag("--json", o->json, "print one JSON summary object on stdout at the end");
  set_examples(command,
               "  mtastream replay turnstile_230603.csv.gz | head                 # delta events as CSV on stdout\n"
               "  mtastream replay -o events.csv turnstile_170610.txt turnstile_170617.txt\n"
               "  mtastream replay -t mta-turnstile --speed 3600 turnstile_230603.csv.gz   # a week in ~2 minutes\n"
               "  mtastream replay --json -o /dev/null --max-delta 5000 turnstile_*.txt\n"
               "  kcat -C -b localhost:9092 -t mta-turnstile -e -J > capture.ndjson\n"
               "  mtastream replay --capture -t mta-replayed --speed 10 capture.ndjson\n");
  registry.on_run(command, [o, command](const GlobalContext& context) { return run_replay(*o, *command, context); });
}

}  // namespace mtastream::commands
