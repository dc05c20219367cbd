// `mtastream config show`: the merged settings, each with where it came from, secrets redacted.
#include <fmt/format.h>

#include "commands/command.h"
#include "log.h"

namespace mtastream {

static ExitCode run_config_show(const GlobalContext& context) {
  std::string out;
  for (const auto& [key, setting] : context.settings.kafka())
    out += fmt::format("{} = {}    # {}\n", key, redact(key, setting.value()), setting.origin);
  for (const auto& [path, options] : context.settings.options()) {
    for (const auto& [name, setting] : options) {
      std::string key = path.empty() ? name : path + "." + name;
      std::string joined;
      for (const std::string& v : setting.values) joined += (joined.empty() ? "" : ",") + redact(key, v);
      out += fmt::format("{} = {}    # {}\n", key, joined, setting.origin);
    }
  }
  if (out.empty()) log::info("no settings: no config file, MTASTREAM_* variable, -X or -b given");
  write_stdout(out);
  return ExitCode::ok;
}

void add_config_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* config = app.add_subcommand("config", "inspect the merged configuration");
  config->require_subcommand(1);
  set_examples(config, "  mtastream config show\n");
  CLI::App* show = config->add_subcommand("show", "print every setting with its origin (secrets redacted)");
  set_examples(show,
               "  mtastream --config ~/.kafka/docker-kafka.properties config show\n"
               "  MTASTREAM_BROKERS=localhost:9092 mtastream -X acks=all config show\n");
  registry.on_run(show, run_config_show);
}

}  // namespace mtastream
