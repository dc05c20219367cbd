// `mtastream consume`: window a topic's events into lake files, committing offsets only after the files
// they cover are durable (and uploaded); or, with --raw, print messages kcat -C style.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "config/cli_checks.h"
#include "commands/command.h"
#include "commands/window_flags.h"
#include "consume/consume_job.h"
#include "consume/consume_metrics.h"
#include "base/duration.h"
#include "base/exit_code.h"
#include "base/log.h"
#include "serve/metrics_server.h"
#include "consume/raw_consume.h"
#include "base/stop_signal.h"
#include "base/worker_pool.h"
#include "upload/uploader.h"
#include "sink/warehouse_sink.h"

namespace mtastream::commands {

namespace {

struct ConsumeFlags {
  std::string topic;
  std::string group;
  std::string client_id;
  WindowFlags window;
  std::string lake_dir = "storage";
  std::string prefix = "turnstile";
  std::string upload;
  std::string staging;
  std::string endpoint;
  std::string sink;
  std::string sink_table;
  bool exit_at_end = false;
  std::string assignment_timeout = "2m";
  std::string dead_letter;
  bool raw = false;
  std::string offset;
  uint64_t count = 0;
  int32_t partition = -1;
  std::string format = "%s\\n";
  bool commit = false;
  bool json = false;
  bool force_window_config = false;
  double commit_interval = 1.0;
  unsigned threads = 0;  // 0: the default (the cores less 2, at least 1)
  bool per_partition = false;
  bool flush_open = false;
  bool allow_gaps = false;
  std::string idle_after = "1h";
  std::string metrics_addr;
  std::string health_max_age = "2m";
};

// The live line on stderr (terminal only): rates from the difference between two reports.
class LiveStats {
 public:
  void update(const consume::ConsumeProgress& p) {
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - last_time_).count();
    double rate = dt > 0 ? (p.counts.read - last_read_) / dt : 0;
    last_time_ = now;
    last_read_ = p.counts.read;
    std::string lag = p.lag >= 0 ? fmt::format("{}", p.lag) : "?";
    std::fprintf(stderr, "\r\033[K%s", fmt::format("consume: {:.0f} msg/s, {} read, lag {}, {} partitions, {} open windows, "
                                          "{} files, {} late, {} bad",
                                          rate, p.counts.read, lag, p.partitions, p.open_windows, p.counts.files,
                                          p.counts.late, p.counts.bad)
                                              .c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
  }

 private:
  std::chrono::steady_clock::time_point last_time_ = std::chrono::steady_clock::now();
  uint64_t last_read_ = 0;
  bool drawn_ = false;
};

ExitCode run_raw(const GlobalContext& context, const ConsumeFlags& f) {
  consume::RawConsumeOptions o;
  o.topic = f.topic;
  o.group = f.group;
  o.client_id = f.client_id;
  o.start = f.offset.empty() ? (f.group.empty() ? "beginning" : "stored") : f.offset;
  o.count = f.count;
  o.exit_at_end = f.exit_at_end;
  o.format = f.format;
  o.partition = f.partition;
  o.commit = f.commit;
  consume::RawConsumeSummary s = consume::run_raw_consume(context.settings, o);
  log::info("printed {} messages ({} bytes) in {:.2f}s", s.messages, s.bytes, s.seconds);
  if (f.json)
    log::warn("--json with --raw: stdout carries the messages; the summary is the line above");
  return exit_code({.runs_until_stopped = !f.exit_at_end && f.count == 0});
}

// --metrics-addr: the registry the job's progress feeds and the server that renders it.
struct MetricsEndpoint {
  std::unique_ptr<consume::ConsumeMetrics> metrics;
  std::unique_ptr<serve::MetricsServer> server;
};

MetricsEndpoint start_metrics(const ConsumeFlags& f, const serve::HttpAddress& address) {
  MetricsEndpoint m;
  const auto max_age = std::chrono::seconds(parse_duration_seconds(f.health_max_age, "--health-max-age", 1));
  m.metrics = std::make_unique<consume::ConsumeMetrics>(f.topic, f.group, max_age);
  consume::ConsumeMetrics* metrics = m.metrics.get();
  std::map<std::string, serve::HttpHandler> routes;
  routes["/metrics"] = [metrics] {
    return serve::MetricsPage{200, "text/plain; version=0.0.4; charset=utf-8", metrics->render()};
  };
  routes["/healthz"] = [metrics] {
    consume::HealthVerdict v = metrics->health();
    return serve::MetricsPage{v.healthy ? 200u : 503u, "text/plain; charset=utf-8", v.reason + "\n"};
  };
  m.server = std::make_unique<serve::MetricsServer>(address, std::move(routes));
  log::info("metrics on {}/metrics, health on {}/healthz", m.server->url(), m.server->url());
  return m;
}

// Options that belong to one mode only (--raw, --metrics-addr) are refused in the other.
void check_option_scope(CLI::App* command, const ConsumeFlags& f) {
  for (const char* not_raw : {"--metrics-addr", "--health-max-age", "--threads"})
    if (f.raw && command->count(not_raw)) throw UsageError(fmt::format("{} does not apply to --raw", not_raw));
  if (f.raw) return;
  for (const char* raw_only : {"--offset", "--count", "--format", "--commit", "--partition"})
    if (command->count(raw_only)) throw UsageError(fmt::format("{} applies to --raw only", raw_only));
  if (!f.metrics_addr.empty() || command->count("--health-max-age")) {
    if (f.metrics_addr.empty()) throw UsageError("--health-max-age applies to --metrics-addr only");
    parse_duration_seconds(f.health_max_age, "--health-max-age", 1);
  }
  if (f.upload.empty() && f.staging.empty() && !f.endpoint.empty())
    throw UsageError("--endpoint applies to --upload and --staging only");
  if (f.sink.empty() && !f.sink_table.empty()) throw UsageError("--sink-table applies to --sink only");
  if (!f.staging.empty() && f.per_partition)
    throw UsageError("--staging applies to topic-wide windows; --per-partition stages nothing");
  if (!f.sink.empty() && f.per_partition)
    throw UsageError("--sink loads topic-wide windows (one row per window and key); it does not apply to --per-partition");
}

consume::ConsumeOptions consume_options(const ConsumeFlags& f) {
  consume::ConsumeOptions o;
  o.topic = f.topic;
  o.group = f.group;
  o.client_id = f.client_id;
  o.window = window_config(f.window);
  o.layout = lake::parse_lake_layout(f.window.layout);
  if (!f.window.partition_by.empty())
    o.partitioning = lake::parse_lake_partitioning(f.window.partition_by, o.window.group_columns);
  o.lake_dir = f.lake_dir;
  o.prefix = f.prefix;
  o.exit_at_end = f.exit_at_end;
  o.dead_letter = f.dead_letter;
  o.assignment_timeout_seconds = static_cast<double>(parse_duration_seconds(f.assignment_timeout, "--assignment-timeout", 1));
  o.force_window_config = f.force_window_config;
  o.per_partition = f.per_partition;
  o.flush_open = f.flush_open;
  o.allow_gaps = f.allow_gaps;
  o.idle_after_seconds = parse_duration_seconds(f.idle_after, "--idle-after", 1);
  o.commit_interval_seconds = f.commit_interval;
  // By default the cores librdkafka's fetch thread and the writer thread leave (measured: on 2 cores a
  // second window thread is slower, README).
  const unsigned cores = available_cores();
  o.threads = f.threads ? f.threads : (cores > 2 ? cores - 2 : 1);
  return o;
}

// Where closed windows go besides the lake folder: the upload target, the shared staging, the warehouse.
// They live as long as the run; `o` points at them.
struct ConsumeTargets {
  std::unique_ptr<upload::Uploader> uploader, staging;
  std::unique_ptr<sink::WarehouseSink> sink;
};

void open_targets(const ConsumeFlags& f, consume::ConsumeMetrics* metrics, consume::ConsumeOptions& o, ConsumeTargets& t) {
  upload::UploadOptions upload_options;
  upload_options.endpoint = f.endpoint;
  upload_options.on_retry = [metrics](const upload::RetryNotice& n) {
    if (metrics) metrics->count_upload_retry();
    log::warn("{} failed (attempt {}/{}): {}; retrying in {:.1f}s", n.object_url, n.attempt, n.max_attempts,
              n.reason, n.delay_seconds);
  };
  if (!f.staging.empty()) {
    t.staging = upload::Uploader::create(f.staging, upload_options);
    o.shared_staging = t.staging.get();
    if (f.upload.empty() && t.staging->destination().scheme != upload::UploadDestination::Scheme::file)
      log::warn("--staging {} without --upload: each member's --lake-dir gets only the windows it merges; "
                "--upload gathers the whole lake in one place", f.staging);
  }
  if (!f.upload.empty()) {
    t.uploader = upload::Uploader::create(f.upload, upload_options);
    if (size_t removed = t.uploader->remove_stale_temporaries())
      log::info("removed {} temporary files a killed upload left at {}", removed, f.upload);
    o.publish = [uploader = t.uploader.get()](const std::string& path, const std::string& name) {
      upload::UploadResult r = uploader->upload(path, name);
      log::debug("uploaded {} ({} bytes)", r.object_url, r.bytes);
    };
  }
  if (!f.sink.empty()) {
    sink::SinkTarget target = sink::parse_sink_url(f.sink);
    std::string table = !f.sink_table.empty() ? f.sink_table
                        : !target.table.empty() ? target.table
                        : sink::default_sink_table(o.prefix, o.topic);
    t.sink = std::make_unique<sink::WarehouseSink>(target, table, o.window.group_columns);
    o.sink = t.sink.get();
    log::info("loading windows into table {} at {}", t.sink->table(), t.sink->redacted_url());
  }
}

// The summary on stderr (and with --json on stdout).
void report(const consume::ConsumeSummary& s, const consume::ConsumeOptions& o, const ConsumeFlags& f, const sink::WarehouseSink* sink) {
  const consume::ConsumeCounts& c = s.counts;
  log::info("read {} messages from {} in {:.2f}s ({} re-read after a restart): {} accepted, {} duplicates, {} late, "
            "{} bad{}; {} files in {}{}",
            c.read, o.topic, s.seconds, c.replayed, c.accepted, c.duplicates, c.late, c.bad,
            c.overflow ? fmt::format(", {} overflowing", c.overflow) : "", c.files, o.lake_dir,
            c.uploaded ? fmt::format(", {} uploaded to {}", c.uploaded, f.upload) : "");
  if (sink)
    log::info("warehouse: {} windows ({} rows) loaded into table {} at {}, {} already there", sink->windows_loaded(),
              sink->rows_loaded(), sink->table(), sink->redacted_url(), sink->windows_skipped());
  if (c.rejected() > 0 && !o.dead_letter.empty()) log::info("{} rejected messages are in '{}'", c.rejected(), o.dead_letter);
  if (s.open_windows || s.staged_windows)
    log::info("{} windows still open (kept in the checkpoints for the next run), {} closed in some partitions "
              "and waiting for the others",
              s.open_windows, s.staged_windows);
  for (const consume::ConsumeGap& g : s.gaps)
    log::warn("{}/{}: offsets {} to {} were skipped (--allow-gaps): the windows they belong to are partial",
              o.topic, g.partition, g.expected, g.resumed - 1);
  if (f.json) write_stdout(consume::consume_summary_json(s, o.topic) + "\n");
}

ExitCode run(const GlobalContext& context, CLI::App* command, const ConsumeFlags& f) {
  install_stop_signal_handlers();
  check_option_scope(command, f);
  if (f.raw) return run_raw(context, f);
  // Checked before anything else starts: a bad address is a usage error, not a half-started service.
  const serve::HttpAddress metrics_address =
      f.metrics_addr.empty() ? serve::HttpAddress{} : serve::parse_http_address(f.metrics_addr, "--metrics-addr");
  consume::ConsumeOptions o = consume_options(f);
  MetricsEndpoint endpoint;
  if (!f.metrics_addr.empty()) endpoint = start_metrics(f, metrics_address);
  consume::ConsumeMetrics* metrics = endpoint.metrics.get();
  ConsumeTargets targets;
  open_targets(f, metrics, o, targets);

  LiveStats live;
  const bool draw = log::stderr_is_terminal() && log::enabled(log::Level::info);
  std::function<void(const consume::ConsumeProgress&)> on_progress;
  if (draw || metrics)
    on_progress = [&live, draw, metrics](const consume::ConsumeProgress& p) {
      if (metrics) metrics->update(p);
      if (draw) live.update(p);
    };
  if (metrics) o.on_statistics = [metrics](std::string_view json) { metrics->update_statistics(json); };
  consume::ConsumeSummary s;
  try {
    s = consume::run_consume(context.settings, o, on_progress);
  } catch (...) {
    live.clear();
    throw;
  }
  live.clear();
  report(s, o, f, targets.sink.get());
  return exit_code({.rejected = s.counts.rejected(), .runs_until_stopped = !f.exit_at_end});
}

// Where closed windows go: the lake, its uploads and staging, the warehouse.
void add_lake_options(CLI::App* command, ConsumeFlags& f) {
  command->add_option("--lake-dir", f.lake_dir,
                      "write one .csv.gz file per closed window into DIR (staging for topic-wide windows in "
                      "DIR/.mtastream)")
      ->capture_default_str()
      ->type_name("DIR");
  command->add_option("--prefix", f.prefix, "lake file name prefix")->capture_default_str();
  command->add_option("--upload", f.upload,
                      "also upload each lake file (file://DIR, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX) before "
                      "committing the offsets it covers")
      ->type_name("URL");
  command->add_option("--staging", f.staging,
                      "keep topic-wide windows' segments and progress markers here (file://DIR, s3://BUCKET/PREFIX, "
                      "gs://BUCKET/PREFIX) instead of DIR/.mtastream: a fleet on several machines gives every member "
                      "the same URL")
      ->type_name("URL");
  command->add_option("--endpoint", f.endpoint,
                      "--upload, --staging: S3-compatible endpoint or GCS emulator (default: AWS_ENDPOINT_URL, "
                      "STORAGE_EMULATOR_HOST, else the cloud's own)")
      ->type_name("URL");
  command->add_option("--sink", f.sink,
                      "also load every merged window into a PostgreSQL table (created if missing), one transaction "
                      "per merge; checkpoints are stored there before each offset commit and win over Kafka's on a "
                      "restart; password from the URL, PGPASSWORD or ~/.pgpass, never printed")
      ->type_name("postgresql://USER[:PASS]@HOST[:PORT]/DB[?table=NAME]");
  command->add_option("--sink-table", f.sink_table,
                      "--sink: the table (default <prefix>_<topic>, lower case, other bytes as _)")
      ->type_name("NAME");
}

// When a run ends, what it does at the edges of the stream, where rejects go.
void add_run_options(CLI::App* command, ConsumeFlags& f) {
  command->add_flag("-e,--exit-at-end", f.exit_at_end,
                    "stop when every assigned partition is read to its end: write the closed windows, commit, exit "
                    "(the cron-job mode; open windows stay in the checkpoint for the next run)");
  command->add_flag("--flush-open", f.flush_open,
                    "with -e: the stream has ended (a replayed week): write the open windows too; later events "
                    "of these partitions count as late");
  command->add_flag("--per-partition", f.per_partition,
                    "one lake file per (partition, window), named _p<N>, without the topic-wide merge: for a topic "
                    "keyed by the group columns (CA,UNIT,SCP)");
  command->add_option("--idle-after", f.idle_after,
                      "a partition read to its end whose watermark is this far (event time) behind the most "
                      "advanced partition stops holding the topic's windows open; a bare number is seconds")
      ->capture_default_str()
      ->type_name("DURATION");
  command->add_flag("--allow-gaps", f.allow_gaps,
                    "start even where the committed offset has no mtastream checkpoint or records below it were "
                    "deleted (the windows it touches are reported as partial)");
  command->add_option("--assignment-timeout", f.assignment_timeout,
                      "with -e: exit 1 when no partition is assigned this long after the start (broker unreachable, "
                      "topic missing, more group members than partitions); a bare number is seconds")
      ->capture_default_str()
      ->type_name("DURATION");
  command->add_option("--dead-letter", f.dead_letter,
                      "append malformed, late and overflowing messages to FILE as NDJSON with "
                      "topic/partition@offset and reason")
      ->type_name("FILE");
  command->add_flag("--force-window-config", f.force_window_config,
                    "resume a group whose checkpoints were written with another --window/--slide/--watermark/--group-by/"
                    "--partition-by/--layout");
  command->add_option("--commit-interval", f.commit_interval, "seconds between offset commits while running")
      ->capture_default_str()
      ->check(config::number_above_zero())
      ->type_name("SECONDS");
  command->add_option("--threads", f.threads,
                      "window threads: partitions are parsed and windowed on N threads (partition modulo N; "
                      "default: the number of cores less 2, for the fetch and writer threads, at least 1); the "
                      "lake, dead letters and counts are the same for any N")
      ->type_name("N")
      ->check(CLI::Range(1u, 256u));
}

// --raw: kcat -C style printing.
void add_raw_options(CLI::App* command, ConsumeFlags& f) {
  command->add_flag("--raw", f.raw, "print messages (kcat -C style) instead of windowing them; no commits");
  command->add_option("-o,--offset", f.offset,
                      "--raw: start at beginning, end, stored, N, or -N (N before the end); default beginning "
                      "(stored with -G)")
      ->type_name("beginning|end|stored|N|-N");
  command->add_option("-c,--count", f.count, "--raw: stop after N messages")->type_name("N")->check(config::whole_number(1));
  command->add_option("-p,--partition", f.partition, "--raw without -G: read only this partition")
      ->type_name("N")
      ->check(config::whole_number(0, 1000000));
  command->add_option("-f,--format", f.format,
                      "--raw: output format: %k key, %s value, %p partition, %o offset, %T timestamp (ms), %t "
                      "topic, %K/%S key/value length (-1: null), %h headers (name=value,...), \\n \\t escapes; 'capture' = '%T\\t%k\\t%s\\n' (replay "
                      "--capture reads it)")
      ->capture_default_str()
      ->type_name("FORMAT");
  command->add_flag("--commit", f.commit, "--raw with -G: commit the offsets of what was printed");
}

// --metrics-addr: Prometheus metrics and the health check.
void add_metrics_options(CLI::App* command, ConsumeFlags& f) {
  command->add_option("--metrics-addr", f.metrics_addr,
                      "serve Prometheus metrics at http://ADDR/metrics and a health check at /healthz while "
                      "running (PORT alone: 127.0.0.1:PORT; HOST:PORT; [IPV6]:PORT; port 0: any free port, logged)")
      ->type_name("ADDR");
  command->add_option("--health-max-age", f.health_max_age,
                      "/healthz answers 503 when the offsets were last known committed longer ago than this, or "
                      "when no broker answers; a bare number is seconds")
      ->capture_default_str()
      ->type_name("DURATION");
}

}  // namespace

void add_consume_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "consume", "window a topic's events and write closed windows to the lake (or print raw messages)");
  auto f = std::make_shared<ConsumeFlags>();
  command->add_option("-t,--topic", f->topic, "topic to read")->required()->type_name("TOPIC");
  command->add_option("-G,--group", f->group,
                      "consumer group: its members share the partitions; offsets and recovery checkpoints are "
                      "committed to it (required unless --raw)")
      ->type_name("GROUP");
  command->add_option("--client-id", f->client_id, "client.id shown in the broker's group listings")->type_name("ID");
  add_window_options(command, f->window, WatermarkScope::partition);
  add_lake_options(command, *f);
  add_run_options(command, *f);
  add_raw_options(command, *f);
  add_metrics_options(command, *f);
  command->add_flag("--json", f->json, "print a JSON summary on stdout at the end");
  set_examples(command,
               "  mtastream consume -b localhost:9092 -t mta-turnstile -G lake-writer --lake-dir storage -e\n"
               "  mtastream consume -t mta-turnstile -G lake-writer --window 10m --slide 5m --upload s3://lake/turnstile\n"
               "  mtastream consume -t mta-turnstile -G lake-writer --metrics-addr 9108   # scrape :9108/metrics\n"
               "  mtastream consume -t mta-turnstile -G by-station --group-by STATION --window 4h --partition-by "
               "date,hour,station\n"
               "  PGPASSWORD=... mtastream consume -t mta-turnstile -G warehouse -e --sink postgresql://loader@db:5432/warehouse\n"
               "  mtastream consume -t mta-turnstile --raw -o beginning -c 10\n"
               "  mtastream consume -t mta-turnstile --raw -e -f capture > capture.tsv   # for replay --capture\n");
  registry.on_run(command, [f, command](const GlobalContext& context) -> ExitCode { return run(context, command, *f); });
}

}  // namespace mtastream::commands
