// `mtastream aggregate`: window events from files or stdin offline into lake files or stdout.
#include <fmt/format.h>

#include "aggregate/aggregate_job.h"
#include "commands/command.h"
#include "commands/window_flags.h"
#include "base/exit_code.h"
#include "base/log.h"
#include "sink/warehouse_sink.h"
#include "base/stop_signal.h"
#include "base/worker_pool.h"

namespace mtastream::commands {

namespace {

struct AggregateFlags {
  WindowFlags window;
  std::string lake_dir;
  std::string output;
  std::string prefix = "turnstile";
  std::string name;
  std::string dead_letter;
  std::string sink;
  std::string sink_table;
  bool json = false;
  unsigned threads = 0;  // 0: the number of cores (1 when --max-keys is given)
  std::vector<std::string> inputs;
};

ExitCode run(const AggregateFlags& f) {
  if (!f.lake_dir.empty() && !f.output.empty()) throw UsageError("give either --lake-dir or -o, not both");
  if (f.json && f.output == "-") throw UsageError("--json and -o - would both write to stdout; pick one");
  aggregate::AggregateOptions o;
  o.window = window_config(f.window);
  o.layout = lake::parse_lake_layout(f.window.layout);
  if (!f.window.partition_by.empty()) {
    if (!f.output.empty()) throw UsageError("--partition-by applies to lake files (--lake-dir), not to -o");
    o.partitioning = lake::parse_lake_partitioning(f.window.partition_by, o.window.group_columns);
  }
  o.output = f.output;
  // With --sink alone the windows go straight into the warehouse: no lake files unless --lake-dir says so.
  o.lake_dir = f.output.empty() ? (f.lake_dir.empty() ? (f.sink.empty() ? std::string("storage") : "") : f.lake_dir) : "";
  if (f.sink.empty() && !f.sink_table.empty()) throw UsageError("--sink-table applies to --sink only");
  o.prefix = f.prefix;
  o.stream_name = f.name;
  o.dead_letter = f.dead_letter;
  o.inputs = f.inputs;
  // Each worker checks --max-keys against its own keys, so with several the run stops at another line
  // (or later); a limit asked for is checked exactly, on one engine, unless --threads says otherwise.
  const bool max_keys_given = f.window.max_keys_option && f.window.max_keys_option->count() > 0;
  o.threads = f.threads ? f.threads : (max_keys_given ? 1 : available_cores());
  size_t stdin_count = 0;
  for (const std::string& in : o.inputs) stdin_count += in == "-";
  if (stdin_count > 1) throw UsageError("'-' (stdin) can be given only once");

  std::unique_ptr<sink::WarehouseSink> sink;
  if (!f.sink.empty()) {
    sink::SinkTarget target = sink::parse_sink_url(f.sink);
    std::string table = !f.sink_table.empty() ? f.sink_table
                        : !target.table.empty() ? target.table
                        : sink::default_sink_table(o.prefix, o.stream_name.empty() ? aggregate::aggregate_stream_name(o.inputs) : o.stream_name);
    sink = std::make_unique<sink::WarehouseSink>(target, table, o.window.group_columns);
    o.sink = sink.get();
  }

  install_stop_signal_handlers();
  aggregate::AggregateSummary s = aggregate::run_aggregate(o);

  log::info("read {} messages in {:.2f}s: {} accepted, {} duplicates, {} late, {} bad{}; {} windows, {} rows, {} {}",
            s.read, s.seconds, s.accepted, s.duplicates, s.late, s.bad,
            s.overflow ? fmt::format(", {} overflowing", s.overflow) : "", s.windows, s.rows,
            o.output.empty() ? s.files : s.rows, o.output.empty() ? fmt::format("files in {}", o.lake_dir.empty() ? "no lake" : o.lake_dir) : "rows written");
  if (sink)
    log::info("warehouse: {} windows ({} rows) loaded into table {} at {}, {} already there", sink->windows_loaded(),
              sink->rows_loaded(), sink->table(), sink->redacted_url(), sink->windows_skipped());
  if (s.rejected() > 0 && !o.dead_letter.empty())
    log::info("{} rejected messages are in '{}'", s.rejected(), o.dead_letter);
  if (s.interrupted) log::warn("interrupted: stopped reading; the windows read so far were written");
  if (f.json) write_stdout(aggregate::aggregate_summary_json(s) + "\n");
  return exit_code({.rejected = s.rejected()});
}

}  // namespace

void add_aggregate_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "aggregate", "window events from files or stdin offline into lake files or stdout");
  auto flags = std::make_shared<AggregateFlags>();
  add_window_options(command, flags->window, WatermarkScope::input);
  command->add_option("--lake-dir", flags->lake_dir, "write one .csv.gz file per window into DIR (default: storage)")
      ->type_name("DIR");
  command->add_option("-o,--output", flags->output,
                      "write all windows as one CSV stream to FILE (gzip if it ends in .gz) or '-' for stdout")
      ->type_name("FILE|-");
  command->add_option("--prefix", flags->prefix, "lake file name prefix")->capture_default_str();
  command->add_option("--name", flags->name,
                      "stream name in lake file names (default: the first input's base name, 'stdin' for -)");
  command->add_option("--dead-letter", flags->dead_letter,
                      "append malformed, late and overflowing messages to FILE as NDJSON with source and reason")
      ->type_name("FILE");
  command->add_option("--sink", flags->sink,
                      "also load every window into a PostgreSQL table, one transaction per batch (alone: no lake "
                      "files unless --lake-dir is given); a window already there is checked equal and skipped")
      ->type_name("postgresql://USER[:PASS]@HOST[:PORT]/DB[?table=NAME]");
  command->add_option("--sink-table", flags->sink_table,
                      "--sink: the table (created if missing; default <prefix>_<stream name>, lower case)")
      ->type_name("NAME");
  command->add_option("--threads", flags->threads,
                      "window threads: events are sharded by group key across N engines (default: the number "
                      "of cores, or 1 with --max-keys; 1: one engine on the reading thread); the output is the same "
                      "for any N (with N > 1, --max-keys holds per thread)")
      ->type_name("N")
      ->check(CLI::Range(1u, 256u));
  command->add_flag("--json", flags->json, "print a JSON summary on stdout at the end");
  command->add_option("inputs", flags->inputs, "input files (plain or gzip; '-' or none: stdin)")->type_name("FILE...");
  set_examples(command,
               "  mtastream aggregate --window 5m events.csv.gz -o -\n"
               "  cat events.csv | mtastream aggregate --lake-dir storage --dead-letter rejected.ndjson\n"
               "  mtastream aggregate --window 10m --slide 5m --layout clean --json day1.csv.gz day2.csv.gz\n"
               "  mtastream aggregate --group-by STATION --window 4h --partition-by date,hour,station week.csv.gz\n"
               "  PGPASSWORD=... mtastream aggregate events.csv.gz --sink postgresql://loader@db:5432/warehouse   # straight into a table\n");
  registry.on_run(command, [flags](const GlobalContext&) -> ExitCode { return run(*flags); });
}

}  // namespace mtastream::commands
