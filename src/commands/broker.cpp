// `mtastream broker`: run an embedded development broker on loopback (librdkafka mock cluster).
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "config/cli_checks.h"
#include "commands/command.h"
#include "kafka/mock_cluster.h"
#include "base/log.h"
#include "base/output_file.h"
#include "base/stop_signal.h"
#include "base/text.h"

namespace mtastream::commands {
namespace {

struct BrokerFlags {
  int brokers = 1;
  std::vector<std::string> topics;  // NAME or NAME:PARTITIONS
  std::string bootstrap_file;       // also write BOOTSTRAP=... there once serving (for a background broker)
};

std::pair<std::string, int> parse_topic_argument(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return {text, 4};
  std::string name = text.substr(0, colon);
  std::string count = text.substr(colon + 1);
  int partitions = 0;
  try {
    size_t used = 0;
    partitions = std::stoi(count, &used);
    if (used != count.size()) throw std::invalid_argument(count);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("--topic '{}': expected NAME or NAME:PARTITIONS", printable(text)));
  }
  if (name.empty() || partitions < 1)
    throw UsageError(fmt::format("--topic '{}': expected NAME or NAME:PARTITIONS (at least 1)", printable(text)));
  return {name, partitions};
}

ExitCode run_broker(const BrokerFlags& options) {
  std::vector<std::pair<std::string, int>> topics;
  for (const std::string& t : options.topics) topics.push_back(parse_topic_argument(t));
  install_stop_signal_handlers();
  kafka::MockCluster cluster(options.brokers);
  for (const auto& [name, partitions] : topics) cluster.create_topic(name, partitions, options.brokers);
  std::string bootstrap = cluster.bootstrap_servers();
  write_stdout(fmt::format("BOOTSTRAP={}\n", bootstrap));
  flush_stdout();
  if (!options.bootstrap_file.empty()) {  // complete when it appears: a script may wait for it to be non-empty
    OutputFile file(options.bootstrap_file);
    file.write(fmt::format("BOOTSTRAP={}\n", bootstrap));
    file.commit();
  }
  log::info("embedded broker ({} broker{}) at {}; in memory only, stop with Ctrl-C", options.brokers,
            options.brokers == 1 ? "" : "s", bootstrap);
  for (const auto& [name, partitions] : topics) log::info("topic '{}' with {} partitions", name, partitions);
  while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log::info("embedded broker stopped");
  return ExitCode::ok;
}

}  // namespace

void add_broker_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "broker", "run an embedded development broker on loopback (librdkafka mock cluster)");
  auto options = std::make_shared<BrokerFlags>();
  command->add_option("--brokers", options->brokers, "number of brokers in the mock cluster")
      ->default_val(1)
      ->type_name("N")
      ->check(config::whole_number(1, 16));
  command->add_option("--topic", options->topics, "create a topic up front (default 4 partitions; repeatable)")
      ->type_name("NAME[:PARTITIONS]");
  command->add_option("--bootstrap-file", options->bootstrap_file,
                      "also write the BOOTSTRAP=host:port,... line to FILE once the broker serves (a shell can "
                      "source it; for a broker run in the background)")
      ->type_name("FILE");
  set_examples(command,
               "  mtastream broker --topic mta-turnstile:4\n"
               "  # in a script: start it in the background, wait for its address, use it\n"
               "  mtastream broker --topic mta-turnstile --bootstrap-file broker.env &\n"
               "  until [ -s broker.env ]; do sleep 0.1; done; . ./broker.env; echo \"$BOOTSTRAP\"\n"
               "Prints BOOTSTRAP=host:port,... as the first stdout line, then serves until SIGINT/SIGTERM.\n"
               "Limits: in memory only; about 5 MB or 100,000 message sets kept per partition; topics are\n"
               "created on first use with 4 partitions; no topic create/delete, configs, SASL or SSL.\n");
  registry.on_run(command, [options](const GlobalContext&) { return run_broker(*options); });
}

}  // namespace mtastream::commands
