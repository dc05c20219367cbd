// `mtastream produce`: publish turnstile events to a topic (generator, files or stdin).
#include <fmt/format.h>

#include <cmath>
#include <unistd.h>

#include "config/cli_checks.h"
#include "commands/command.h"
#include "base/duration.h"
#include "base/exit_code.h"
#include "base/json_writer.h"
#include "base/log.h"
#include "event/message_parser.h"
#include "produce/publisher.h"
#include "base/stop_signal.h"
#include "base/text.h"

namespace mtastream::commands {
namespace {

struct ProduceFlags {
  std::string topic;
  std::string generate;
  std::string rate;
  uint64_t count = 0;
  std::string interval = "10";
  std::string value_format = "csv";
  std::string key = "turnstile";
  std::string compression = "lz4";
  std::string dead_letter;
  uint64_t seed = 0;
  size_t turnstiles = 4000;
  std::string start_time;
  std::string step = "5m";
  std::string timeout;  // "" = librdkafka's message.timeout.ms (5 minutes) or what -X/config say
  bool json = false;
  std::vector<std::string> files;
  CLI::Option* count_option = nullptr;
  CLI::Option* rate_option = nullptr;
  CLI::Option* seed_option = nullptr;
  CLI::Option* compression_option = nullptr;
  CLI::Option* interval_option = nullptr;
};

// "500", "500/s", "2.5/s"; 0 means as fast as possible.
double parse_rate(const std::string& text) {
  std::string number = text;
  if (ends_with(number, "/s")) number.resize(number.size() - 2);
  try {
    size_t used = 0;
    double rate = std::stod(number, &used);
    if (used != number.size() || rate < 0 || !std::isfinite(rate)) throw std::invalid_argument(text);
    return rate;
  } catch (const std::exception&) {
    throw UsageError(fmt::format("--rate '{}': expected messages per second, e.g. 1000 or 1000/s", printable(text)));
  }
}

// Seconds as a plain number (the original's "every 10 seconds", fractions allowed) or a duration (30s, 1m).
double parse_interval(const std::string& text) {
  try {
    size_t used = 0;
    double seconds = std::stod(text, &used);
    if (used == text.size()) {
      if (seconds <= 0 || !std::isfinite(seconds)) throw UsageError("--interval must be more than 0");
      return seconds;
    }
  } catch (const std::invalid_argument&) {
  }
  return static_cast<double>(parse_duration_seconds(text, "--interval"));
}

std::string progress_line(const produce::PublishSummary& s) {
  double rate = s.seconds > 0 ? static_cast<double>(s.delivery.queued) / s.seconds : 0;
  return fmt::format("\rread {}  sent {}  delivered {}  rejected {}  failed {}  {:.0f} msg/s   ", s.read,
                     s.delivery.queued, s.delivery.delivered, s.rejected, s.delivery.failed, rate);
}

// The job the flags describe: the source (files or a generator), its pace, keys and value form.
produce::PublishJob publish_job(const ProduceFlags& options) {
  produce::PublishJob job;
  job.topic = options.topic;
  job.value_form = event::parse_wire_form(options.value_format);
  job.key = produce::parse_message_key(options.key);
  job.dead_letter_path = options.dead_letter;
  job.turnstiles = options.turnstiles;
  job.step_seconds = parse_duration_seconds(options.step, "--step");
  if (options.count_option->count() > 0) job.count = options.count;
  job.seed = options.seed_option->count() > 0 ? options.seed
                                              : static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ static_cast<uint64_t>(getpid());
  if (!options.start_time.empty()) {
    int64_t seconds = 0;
    if (!event::parse_timestamp(options.start_time, seconds))
      throw UsageError(fmt::format("--start-time '{}': expected YYYY-MM-DD HH:MM:SS", printable(options.start_time)));
    job.start_time = seconds;
  }
  bool rate_given = options.rate_option->count() > 0;
  if (options.generate.empty()) {
    job.source = produce::EventSource::files;
    job.files = options.files.empty() ? std::vector<std::string>{"-"} : options.files;
    for (const std::string& file : job.files)
      if (file != "-" && access(file.c_str(), R_OK) != 0)
        throw Error(fmt::format("cannot read '{}': {}", file, std::strerror(errno)));
    job.rate = rate_given ? parse_rate(options.rate) : 0;
  } else {
    if (!options.files.empty())
      throw UsageError("give either --generate or input files, not both");
    if (options.generate == "original") {
      job.source = produce::EventSource::original_generator;
      // The original sends one message every --interval seconds; --rate overrides it.
      job.rate = rate_given ? parse_rate(options.rate) : 1.0 / parse_interval(options.interval);
    } else if (options.generate == "city") {
      if (options.interval_option->count() > 0) throw UsageError("--interval is for --generate original; use --rate");
      job.source = produce::EventSource::city_generator;
      job.rate = rate_given ? parse_rate(options.rate) : 1000;
    } else {
      throw UsageError(fmt::format("--generate '{}': use original or city", printable(options.generate)));
    }
  }
  return job;
}

kafka::ProducerOptions producer_options(const ProduceFlags& options) {
  kafka::ProducerOptions producer_options;
  // An explicit --compression wins over config and -X; its default yields to them.
  if (options.compression_option->count() > 0)
    producer_options.conf.required["compression.type"] = options.compression;
  else
    producer_options.conf.defaults["compression.type"] = options.compression;
  // --timeout: how long a message may wait for delivery (an unreachable broker fails the run that soon).
  if (!options.timeout.empty())
    producer_options.conf.required["message.timeout.ms"] =
        std::to_string(parse_duration_seconds(options.timeout, "--timeout", 1) * 1000);
  return producer_options;
}

// The summary: a line on stderr (and the delivery errors), and with --json an object on stdout.
void report(const produce::PublishJob& job, const produce::PublishSummary& summary, const ProduceFlags& options) {
  const kafka::DeliveryCounts& d = summary.delivery;
  log::info("{}: read {}, rejected {}, sent {}, delivered {}, failed {} in {:.2f} s{}", job.topic, summary.read,
            summary.rejected, d.queued, d.delivered, d.undelivered(), summary.seconds,
            summary.interrupted ? " (interrupted)" : "");
  for (const auto& [error, count] : d.errors) log::error("{} messages not delivered: {}", count, error);
  if (!summary.input_complete) log::warn("input was not read to its end (interrupted)");
  if (!options.json) return;
  JsonWriter json;
  json.begin_object()
      .field("topic", job.topic)
      .field("read", summary.read)
      .field("rejected", summary.rejected)
      .field("sent", d.queued)
      .field("delivered", d.delivered)
      .field("failed", d.undelivered())
      .field("bytes", d.bytes)
      .field("seconds", summary.seconds)
      .field("interrupted", summary.interrupted)
      .field("input_complete", summary.input_complete);
  json.key("dead_letter");
  if (options.dead_letter.empty())
    json.null();
  else
    json.value(options.dead_letter);
  json.end_object();
  write_stdout(json.str() + "\n");
}

ExitCode run_produce(const GlobalContext& context, const ProduceFlags& options) {
  produce::PublishJob job = publish_job(options);
  install_stop_signal_handlers();
  produce::PublishHooks hooks;
  bool progress = log::stderr_is_terminal() && log::enabled(log::Level::info);
  if (progress) hooks.on_progress = [](const produce::PublishSummary& s) { std::fputs(progress_line(s).c_str(), stderr); };
  if (progress) hooks.on_rejected = [] { std::fputs("\r\033[K", stderr); };
  log::debug("producing to topic '{}' at {}", job.topic, kafka::bootstrap_servers(context.settings));

  produce::PublishSummary summary = publish(context.settings, job, producer_options(options), hooks);
  if (progress) std::fputs("\r\033[K", stderr);
  report(job, summary, options);
  bool endless_generator = job.source != produce::EventSource::files && !job.count;
  return exit_code({.rejected = summary.rejected,
                    .sent = summary.delivery.queued,
                    .delivered = summary.delivery.delivered,
                    .input_complete = summary.input_complete,
                    .runs_until_stopped = endless_generator});
}

}  // namespace

void add_produce_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command =
      app.add_subcommand("produce", "publish turnstile events to a topic (generator, files or stdin)");
  auto o = std::make_shared<ProduceFlags>();
  command->add_option("-t,--topic", o->topic, "topic to publish to")->required();
  command->add_option("--generate", o->generate,
                      "built-in source: original (the original producer: 1 message every --interval seconds) or "
                      "city (thousands of turnstiles at --rate)")
      ->type_name("original|city");
  o->rate_option = command->add_option("--rate", o->rate, "messages per second (city default 1000; 0 = as fast as possible)")
                       ->type_name("N[/s]");
  o->count_option = command->add_option("-c,--count", o->count, "stop after N messages")->type_name("N")->check(config::whole_number(1));
  o->interval_option = command->add_option("--interval", o->interval, "seconds between messages of --generate original")
                           ->type_name("SECONDS")
                           ->default_val("10");
  command->add_option("--value-format", o->value_format, "message value: csv, json-string (the original's) or json")
      ->type_name("csv|json-string|json")
      ->default_val("csv");
  command->add_option("--key", o->key, "message key: turnstile (CA,UNIT,SCP), id or none")
      ->type_name("turnstile|id|none")
      ->default_val("turnstile");
  o->compression_option = command->add_option("-z,--compression", o->compression, "compression codec")
                              ->type_name("none|gzip|snappy|lz4|zstd")
                              ->default_val("lz4");
  command->add_option("--dead-letter", o->dead_letter,
                      "append rejected lines and undelivered messages here (NDJSON with source and reason)")
      ->type_name("FILE");
  o->seed_option = command->add_option("--seed", o->seed, "generators: same seed, same events")->type_name("N")->check(config::whole_number(0));
  command->add_option("--turnstiles", o->turnstiles, "city generator: number of turnstiles (1 to 1000000)")
      ->default_val(4000)
      ->type_name("N")
      ->check(config::whole_number(1, 1000000));
  command->add_option("--start-time", o->start_time,
                      "city generator: simulated clock from this time instead of the wall clock")
      ->type_name("\"YYYY-MM-DD HH:MM:SS\"");
  command->add_option("--step", o->step, "city generator with --start-time: time between two reports of a turnstile")
      ->type_name("DURATION")
      ->default_val("5m");
  command->add_option("--timeout", o->timeout,
                      "give up on a message not delivered within DURATION (default: librdkafka's 5m; a bare "
                      "number is seconds): an unreachable broker then fails the run that soon")
      ->type_name("DURATION");
  command->add_flag("--json", o->json, "print one JSON summary object on stdout at the end");
  command->add_option("files", o->files, "CSV or NDJSON files, plain or .gz; '-' or nothing = stdin")
      ->type_name("FILE...");
  set_examples(command,
               "  mtastream produce -b localhost:9092 -t mta-turnstile --generate original\n"
               "  mtastream produce -t mta-turnstile --generate city --rate 1000 --count 100000\n"
               "  mtastream produce -t mta-turnstile --dead-letter rejected.ndjson events.csv more.ndjson.gz\n"
               "  cat events.csv | mtastream produce -t mta-turnstile --value-format json-string --json\n"
               "Every line is validated (bad ones are reported as file:line and not sent). The producer is\n"
               "idempotent with acks=all; on Ctrl-C it stops reading and waits for what is in flight (Ctrl-C\n"
               "again gives up). Exit 0: all delivered; 3: some lines rejected or messages not delivered;\n"
               "1: nothing could be delivered.\n");
  registry.on_run(command, [o](const GlobalContext& context) { return run_produce(context, *o); });
}

}  // namespace mtastream::commands
