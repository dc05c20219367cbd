#include "cli.h"

#include <librdkafka/rdkafka.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "commands/command.h"
#include "log.h"
#include "option_tree.h"
#include "text.h"

extern char** environ;

namespace mtastream {
namespace {

CLI::App* find_subcommand(CLI::App* parent, const std::string& name) {
  for (CLI::App* sub : parent->get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

constexpr const char* exit_code_help =
    "Exit codes:\n"
    "  0  ok: all input handled and delivered\n"
    "  1  runtime error: the job could not be done (broker unreachable, unreadable input, disk full, ...)\n"
    "  2  usage error: bad option or configuration; nothing was done\n"
    "  3  partial: finished, but some input was rejected or some messages were not delivered (status: lag above --max-lag)\n"
    "  4  not implemented yet\n";

struct GlobalOptions {
  std::vector<std::string> config_files;
  std::vector<std::string> kafka_overrides;
  std::string brokers;
  bool quiet = false;
  int verbose = 0;
};

// Gives an option not set on the command line its value from the environment or a config file.
void fill_from_layers(CLI::App* command, const Settings& settings) {
  std::string path = command_path(command);
  for (CLI::Option* option : command->get_options()) {
    if (option->count() > 0 || option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (name == "help") continue;
    std::vector<std::string> values;
    std::string origin;
    std::string env = option_env_name(path, name);
    if (const char* from_env = std::getenv(env.c_str())) {
      values = {from_env};
      origin = "env " + env;
    } else if (const Setting* setting = settings.find_option(path, name)) {
      values = setting->values;
      origin = setting->origin;
    } else {
      continue;
    }
    try {
      for (const std::string& value : values) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw UsageError(fmt::format("{}: bad value for '{}.{}': {}", origin, path, name, e.what()));
    }
  }
}

// Every key of a config file must name a real command option: typos are errors, not silence.
void check_config_keys(CLI::App& app, const Settings& settings) {
  for (const auto& [path, options] : settings.options()) {
    CLI::App* command = &app;
    if (!path.empty()) {
      for (std::string_view part : split(path, '.')) {
        CLI::App* next = find_subcommand(command, std::string(part));
        if (!next) {
          const Setting& first = options.begin()->second;
          throw UsageError(fmt::format("{}: unknown section '[{}]' (no such command)", first.origin, path));
        }
        command = next;
      }
    }
    for (const auto& [name, setting] : options) {
      if (path.empty() && name == "brokers") continue;
      if (!command->get_option_no_throw("--" + name))
        throw UsageError(fmt::format("{}: unknown key '{}{}'", setting.origin, path.empty() ? "" : path + ".",
                                     name));
    }
  }
}

void print_help_of(CLI::App& app, const std::vector<std::string>& words) {
  CLI::App* command = &app;
  std::string name = app.get_name();  // "mtastream topic create": the usage line names the full command
  for (const std::string& word : words) {
    CLI::App* next = find_subcommand(command, word);
    if (!next) throw UsageError(fmt::format("no such command: '{}'", printable(word)));
    command = next;
    name += " " + command->get_name();
  }
  // The formatter directly: App::help() of a parsed app would show the `help` subcommand's own help.
  write_stdout(command->get_formatter()->make_help(command, name, CLI::AppFormatMode::Normal));
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout becomes EPIPE, handled quietly
  CLI::App app{"mtastream: carry NYC subway turnstile events into Kafka, window them, land them in a data lake",
               "mtastream"};
  const std::string version_line = fmt::format("mtastream {} (librdkafka {})", MTASTREAM_VERSION, rd_kafka_version_str());
  app.set_version_flag("--version", version_line);
  app.require_subcommand(1);
  app.fallthrough();  // global options work after the command name too
  app.footer(std::string("Run 'mtastream COMMAND --help' or 'mtastream help COMMAND' for a command's options.\n\n") +
             exit_code_help);

  GlobalOptions global;
  app.add_option("--config", global.config_files,
                 "config file: the original's .properties (librdkafka keys) or TOML (.toml)")
      ->type_name("FILE");
  app.add_option("-X", global.kafka_overrides, "set any librdkafka property (repeatable)")->type_name("KEY=VALUE");
  app.add_option("-b,--brokers", global.brokers, "bootstrap servers (sets bootstrap.servers)")->type_name("HOST:PORT,...");
  app.add_flag("-q,--quiet", global.quiet, "only errors on stderr");
  app.add_flag("-v,--verbose", global.verbose, "more detail on stderr (repeat for more)");

  CommandRegistry registry;
  add_produce_command(app, registry);
  add_consume_command(app, registry);
  add_aggregate_command(app, registry);
  add_replay_command(app, registry);
  add_topic_command(app, registry);
  add_upload_command(app, registry);
  add_broker_command(app, registry);
  add_config_command(app, registry);
  add_status_command(app, registry);

  std::vector<std::string> help_words;
  CLI::App* help = app.add_subcommand("help", "show the help of a command");
  help->add_option("command", help_words, "command and subcommand names");
  // Hidden (group ""): prints the option tree as JSON for scripts/gen-docs.py (man pages, completions).
  CLI::App* option_tree = app.add_subcommand("option-tree", "print the option tree as JSON (for gen-docs)");
  option_tree->group("");

  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::Success& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      app.exit(e, std::cerr, std::cerr);
      return static_cast<int>(ExitCode::usage_error);
    }

    if (global.quiet) log::set_level(log::Level::error);
    if (global.verbose > 0) log::set_level(global.verbose > 1 ? log::Level::trace : log::Level::debug);

    if (option_tree->parsed()) {
      write_stdout(option_tree_json(app, version_line));
      flush_stdout();
      return 0;
    }
    if (help->parsed()) {
      print_help_of(app, help_words);
      flush_stdout();
      return 0;
    }

    GlobalContext context;
    std::vector<std::string> config_files = global.config_files;
    if (config_files.empty()) {
      if (const char* env_config = std::getenv("MTASTREAM_CONFIG"); env_config && *env_config)
        config_files = {env_config};
      else
        config_files = default_config_files();
    }
    for (const std::string& file : config_files) load_config_file(file, context.settings);
    check_config_keys(app, context.settings);
    load_environment(context.settings, environ);
    apply_kafka_overrides(global.kafka_overrides, context.settings);
    if (!global.brokers.empty()) context.settings.set_kafka("bootstrap.servers", global.brokers, "flag -b");
    validate_kafka_properties(context.settings);

    CLI::App* chosen = &app;
    while (!chosen->get_subcommands().empty()) {
      chosen = chosen->get_subcommands().front();
      fill_from_layers(chosen, context.settings);
    }
    const CommandRun* run = registry.find(chosen);
    if (!run) throw UsageError(fmt::format("'{}' needs a subcommand; see 'mtastream {} --help'",
                                           command_path(chosen), command_path(chosen)));
    ExitCode code = (*run)(context);
    flush_stdout();
    return static_cast<int>(code);
  } catch (const BrokenPipe&) {
    return 0;
  } catch (const Error& e) {
    log::error("{}", e.what());
    return static_cast<int>(e.code());
  } catch (const CLI::ParseError& e) {  // raised by option callbacks run from config layers
    log::error("{}", e.what());
    return static_cast<int>(ExitCode::usage_error);
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return static_cast<int>(ExitCode::runtime_error);
  }
}

}  // namespace mtastream
