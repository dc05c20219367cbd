// `mtastream config show`: the merged settings, each with where it came from, secrets redacted.
#include <fmt/format.h>

#include "commands/command.h"
#include "base/json_writer.h"
#include "base/log.h"

namespace mtastream::commands {

namespace {

struct ConfigShowFlags {
  bool json = false;
};

std::string joined_values(const std::string& key, const config::Setting& setting) {
  std::string joined;
  for (const std::string& v : setting.values) joined += (joined.empty() ? "" : ",") + config::redact(key, v);
  return joined;
}

// {"kafka":{"acks":{"value":"all","origin":"-X acks"}},"options":{"aggregate.window":{"values":["10m"],
// "origin":"env MTASTREAM_AGGREGATE_WINDOW"}}}
std::string settings_json(const config::Settings& settings) {
  JsonWriter json;
  json.begin_object().key("kafka").begin_object();
  for (const auto& [key, setting] : settings.kafka())
    json.key(key).begin_object().field("value", config::redact(key, setting.value())).field("origin", setting.origin).end_object();
  json.end_object().key("options").begin_object();
  for (const auto& [path, options] : settings.options()) {
    for (const auto& [name, setting] : options) {
      std::string key = path.empty() ? name : path + "." + name;
      json.key(key).begin_object().key("values").begin_array();
      for (const std::string& v : setting.values) json.value(config::redact(key, v));
      json.end_array().field("origin", setting.origin).end_object();
    }
  }
  json.end_object().end_object();
  return json.str() + "\n";
}

ExitCode run_config_show(const GlobalContext& context, const ConfigShowFlags& o) {
  if (o.json) {
    write_stdout(settings_json(context.settings));
    return ExitCode::ok;
  }
  std::string out;
  for (const auto& [key, setting] : context.settings.kafka())
    out += fmt::format("{} = {}    # {}\n", key, config::redact(key, setting.value()), setting.origin);
  for (const auto& [path, options] : context.settings.options()) {
    for (const auto& [name, setting] : options) {
      std::string key = path.empty() ? name : path + "." + name;
      out += fmt::format("{} = {}    # {}\n", key, joined_values(key, setting), setting.origin);
    }
  }
  if (out.empty()) log::info("no settings: no config file, MTASTREAM_* variable, -X or -b given");
  write_stdout(out);
  return ExitCode::ok;
}

}  // namespace

void add_config_command(CLI::App& app, CommandRegistry& registry) {
  CLI::App* config = app.add_subcommand("config", "inspect the merged configuration");
  config->require_subcommand(1);
  set_examples(config, "  mtastream config show\n");
  CLI::App* show = config->add_subcommand(
      "show", "print every setting with its origin: config files, MTASTREAM_* variables, -X, -b (secrets redacted)");
  auto o = std::make_shared<ConfigShowFlags>();
  show->add_flag("--json", o->json, "print one JSON object: {\"kafka\":{KEY:{value,origin}},\"options\":{COMMAND.OPTION:{values,origin}}}");
  set_examples(show,
               "  mtastream --config ~/.kafka/docker-kafka.properties config show\n"
               "  MTASTREAM_BROKERS=localhost:9092 mtastream -X acks=all config show\n"
               "  MTASTREAM_CONSUME_WINDOW=10m mtastream config show --json\n");
  registry.on_run(show, [o](const GlobalContext& context) { return run_config_show(context, *o); });
}

}  // namespace mtastream::commands
