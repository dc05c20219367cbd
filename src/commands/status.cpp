// `mtastream status`: a consumer group's position on a topic (committed, end, lag, checkpoint) for people,
// scripts (--json) and cron checks (--max-lag: exit 3 when reading is behind).
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "commands/command.h"
#include "base/duration.h"
#include "base/exit_code.h"
#include "consume/group_status.h"
#include "base/log.h"

namespace mtastream::commands {

namespace {

struct StatusFlags {
  std::string topic;
  std::string group;
  std::optional<int64_t> max_lag;
  bool json = false;
  std::string timeout = "30s";
};

ExitCode run(const GlobalContext& context, const StatusFlags& f) {
  if (f.max_lag && *f.max_lag < 0) throw UsageError("--max-lag must not be negative");
  const auto timeout = std::chrono::seconds(parse_duration_seconds(f.timeout, "--timeout", 1));
  consume::GroupStatus status = consume::query_group_status(context.settings, f.topic, f.group, timeout);
  write_stdout(f.json ? consume::group_status_json(status) + "\n" : consume::group_status_table(status));
  const bool behind = f.max_lag && status.max_read_lag() > *f.max_lag;
  if (behind)
    log::warn("group '{}' is {} messages behind the end of '{}' (--max-lag {})", f.group, status.max_read_lag(),
              f.topic, *f.max_lag);
  return exit_code({.behind = behind});
}

}  // namespace

void add_status_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "status", "show a consumer group's committed offsets, lag and stored windows on a topic (read-only)");
  auto f = std::make_shared<StatusFlags>();
  command->add_option("-t,--topic", f->topic, "topic")->required()->type_name("TOPIC");
  command->add_option("-G,--group", f->group, "consumer group (as given to consume -G)")->required()->type_name("GROUP");
  command->add_option("--max-lag", f->max_lag,
                      "exit 3 when a partition's read lag (its end minus how far the group has read) is above N")
      ->type_name("N");
  command->add_option("--timeout", f->timeout, "how long to wait for the broker; a bare number is seconds")
      ->capture_default_str()
      ->type_name("DURATION");
  command->add_flag("--json", f->json, "print one JSON object instead of the table");
  command->footer(
      "Columns: LAG = end - committed offset (what a restart reads again or for the first time); READ-LAG = end - "
      "how far the group has read (its checkpoint's read position): how far reading is behind. A partition read to "
      "its end keeps the messages of its open windows behind the committed offset (\"held in open windows\").\n"
      "Exit codes: 0, or 3 when --max-lag is given and a partition's READ-LAG is above it.\n\n"
      "Examples:\n"
      "  mtastream status -b localhost:9092 -t mta-turnstile -G lake-writer\n"
      "  mtastream status -t mta-turnstile -G lake-writer --json | jq '.partitions[].read_lag'\n"
      "  mtastream status -t mta-turnstile -G lake-writer --max-lag 100000 -q || alert 'lake writer behind'\n");
  registry.on_run(command, [f](const GlobalContext& context) -> ExitCode { return run(context, *f); });
}

}  // namespace mtastream::commands
