#include "cli.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <cstdlib>
#include <iostream>

#include "commands/command.h"
#include "base/log.h"
#include "config/option_tree.h"
#include "base/text.h"

extern char** environ;

namespace mtastream {
namespace {

CLI::App* find_subcommand(CLI::App* parent, const std::string& name) {
  for (CLI::App* sub : parent->get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

bool hidden(const CLI::App* command) { return command->get_group().empty(); }

std::vector<std::string> command_names(CLI::App* parent) {
  std::vector<std::string> names;
  for (CLI::App* sub : parent->get_subcommands([](CLI::App*) { return true; }))
    if (!sub->get_name().empty() && !hidden(sub)) names.push_back(sub->get_name());
  return names;
}

constexpr const char* exit_code_help =
    "Exit codes:\n"
    "  0  ok: all input handled and delivered\n"
    "  1  runtime error: the job could not be done (broker unreachable, unreadable input, disk full, ...)\n"
    "  2  usage error: bad option or configuration; nothing was done\n"
    "  3  partial: finished, but some input was rejected or some messages were not delivered (status: lag above --max-lag)\n"
    "  130/143  stopped by Ctrl-C/SIGTERM before the end of its input (after a clean stop and the summary)\n";

struct GlobalOptions {
  std::vector<std::string> config_files;
  std::vector<std::string> kafka_overrides;
  std::string brokers;
  bool quiet = false;
  int verbose = 0;
};

// Gives an option not set on the command line its value from the environment or a config file (both in
// `settings`, the environment over the file) and notes where it came from in `origins` ("--window" ->
// "mtastream.toml:3"), so a value found bad later, when the command runs, is reported with its origin.
void fill_from_layers(CLI::App* command, const config::Settings& settings, std::map<std::string, std::string>& origins) {
  std::string path = config::command_path(command);
  for (CLI::Option* option : command->get_options()) {
    if (option->count() > 0 || option->get_lnames().empty()) continue;
    const std::string& name = option->get_lnames().front();
    if (name == "help") continue;
    const config::Setting* setting = settings.find_option(path, name);
    if (!setting) continue;
    try {
      for (const std::string& value : setting->values) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw UsageError(fmt::format("{}: bad value for '{}.{}': {}", setting->origin, path, name, e.what()));
    }
    origins["--" + name] = setting->origin;
  }
}

// A command's own check of a value (a duration, a URL) names the option: "--window: invalid duration
// '0'". When that value came from a config file or the environment, say which, as for a bad key.
std::string with_origin(const std::string& message, const std::map<std::string, std::string>& origins) {
  for (const auto& [option, origin] : origins) {
    if (starts_with(message, option + ":") || starts_with(message, option + " "))
      return fmt::format("{}: {}", origin, message);
  }
  return message;
}

// Every environment variable that sets a command option: MTASTREAM_AGGREGATE_WINDOW -> ("aggregate", "window").
void collect_option_env(CLI::App* command, std::map<std::string, std::pair<std::string, std::string>>& names) {
  std::string path = config::command_path(command);
  if (!path.empty()) {
    for (CLI::Option* option : command->get_options()) {
      if (option->get_lnames().empty() || option->get_lnames().front() == "help") continue;
      names[config::option_env_name(path, option->get_lnames().front())] = {path, option->get_lnames().front()};
    }
  }
  for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; }))
    if (!sub->get_name().empty() && !sub->get_group().empty()) collect_option_env(sub, names);
}

// MTASTREAM_<COMMAND>_<OPTION> variables into `settings` (over the config files' values). A name that is
// ours -- it starts with MTASTREAM_KAFKA_ or MTASTREAM_<COMMAND>_, or is one or two edits from one of our
// names -- but names nothing is an error with the nearest name: a typo must not be silently ignored.
// Other MTASTREAM_* names (the build's and tests' MTASTREAM_SOURCE_DIR, ...) are not ours and not read.
void load_option_environment(CLI::App& app, config::Settings& settings, char** environment) {
  std::map<std::string, std::pair<std::string, std::string>> options;
  collect_option_env(&app, options);
  std::vector<std::string> known{"MTASTREAM_BROKERS", "MTASTREAM_CONFIG"};
  for (const auto& [name, target] : options) known.push_back(name);
  std::vector<std::string> prefixes{"MTASTREAM_KAFKA_"};
  std::vector<std::string> first_words{"KAFKA", "BROKERS", "CONFIG"};
  for (const std::string& command : command_names(&app)) {
    prefixes.push_back(config::option_env_name(command, ""));
    first_words.push_back(config::option_env_name(command, "").substr(10));
    first_words.back().pop_back();  // "AGGREGATE" of "MTASTREAM_AGGREGATE_"
  }
  for (char** entry = environment; entry && *entry; ++entry) {
    std::string_view assignment(*entry);
    size_t eq = assignment.find('=');
    std::string name(assignment.substr(0, eq));
    if (eq == std::string_view::npos || !starts_with(name, "MTASTREAM_")) continue;
    if (auto it = options.find(name); it != options.end()) {
      settings.set_option(it->second.first, it->second.second, {std::string(assignment.substr(eq + 1))}, "env " + name);
      continue;
    }
    if (std::find(known.begin(), known.end(), name) != known.end() || starts_with(name, "MTASTREAM_KAFKA_")) continue;
    std::string match = closest_match(name, known);
    bool ours = !match.empty();
    for (const std::string& prefix : prefixes) ours = ours || starts_with(name, prefix);
    // MTASTREAM_AGREGATE_WINDOW, MTASTREAM_KAFAK_ACKS: the first word is a misspelt command or KAFKA.
    size_t end_of_first = name.find('_', 10);
    std::string first = name.substr(10, end_of_first == std::string::npos ? std::string::npos : end_of_first - 10);
    if (std::string word = closest_match(first, first_words); !word.empty()) {
      ours = true;
      std::string fixed = "MTASTREAM_" + word + (end_of_first == std::string::npos ? "" : name.substr(end_of_first));
      if (match.empty() && (starts_with(fixed, "MTASTREAM_KAFKA_") || closest_match(fixed, known) == fixed))
        match = fixed;
    }
    if (ours)
      throw UsageError(fmt::format("env {}: no such setting{}", name,
                                   match.empty() ? " (see ENVIRONMENT in 'man mtastream' or 'mtastream option-tree')"
                                                 : fmt::format("; did you mean {}?", match)));
  }
}

// Every key of a config file must name a real command option: typos are errors, not silence.
void check_config_keys(CLI::App& app, const config::Settings& settings) {
  for (const auto& [path, options] : settings.options()) {
    CLI::App* command = &app;
    if (!path.empty()) {
      for (std::string_view part : split(path, '.')) {
        CLI::App* next = find_subcommand(command, std::string(part));
        if (!next) {
          const config::Setting& first = options.begin()->second;
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

// An option of `command` or of a command above it (global options work after the command name too).
CLI::Option* find_option(CLI::App* command, const std::string& name) {
  for (CLI::App* c = command; c; c = c->get_parent())
    if (CLI::Option* option = c->get_option_no_throw(name)) return option;
  return nullptr;
}

std::vector<std::string> long_option_names(CLI::App* command) {
  std::vector<std::string> names;
  for (CLI::App* c = command; c; c = c->get_parent()) {
    std::vector<CLI::App*> groups{c};
    for (CLI::App* sub : c->get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name().empty()) groups.push_back(sub);  // nameless option groups
    for (CLI::App* g : groups)
      for (CLI::Option* option : g->get_options())
        for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  }
  return names;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string match = closest_match(word, candidates);
  return match.empty() ? "" : fmt::format("; did you mean '{}'?", match);
}

struct Diagnosis {
  std::string message;  // "" = CLI11's own message says it
  std::string command = "mtastream";  // the command the words named, for the help hint
};

// After a parse error: walks the words as CLI11 would to name a mistyped command or option the way git
// does, with the nearest real name ("prodcue" -> "produce", "--widnow" -> "--window").
Diagnosis diagnose(CLI::App& app, int argc, char** argv) {
  Diagnosis d;
  CLI::App* command = &app;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    bool number = arg.find_first_not_of("-0123456789.") == std::string::npos;
    if (arg.size() > 1 && arg[0] == '-' && !number) {
      std::string name = arg.substr(0, arg.find('='));
      bool is_long = starts_with(name, "--");
      CLI::Option* option = (is_long || name.size() == 2) ? find_option(command, name) : nullptr;
      if (!option && (is_long || name.size() == 2)) {
        d.message = fmt::format("unknown option '{}' for '{}'{}", printable(name), d.command,
                                is_long ? did_you_mean(name, long_option_names(command)) : "");
        return d;
      }
      if (option && option->get_items_expected_max() > 0 && arg.find('=') == std::string::npos) ++i;
      continue;
    }
    if (CLI::App* sub = find_subcommand(command, arg); sub && !sub->get_name().empty()) {
      command = sub;
      d.command += " " + arg;
      continue;
    }
    if (command->get_require_subcommand_min() > 0) {
      d.message = fmt::format("'{}' is not a {} command{}", printable(arg), d.command,
                              did_you_mean(arg, command_names(command)));
      return d;
    }
  }
  if (command->get_require_subcommand_min() > 0 && command->get_subcommands().empty()) {
    std::string names;
    for (const std::string& name : command_names(command)) names += (names.empty() ? "" : ", ") + name;
    d.message = command == &app ? fmt::format("no command given; the commands are: {}", names)
                                : fmt::format("'{}' needs a command: {}", d.command, names);
  }
  return d;
}

// Every command's help ends with the global options, which work before or after the command name.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_footer(const CLI::App* app) const override {
    std::string footer = CLI::Formatter::make_footer(app);
    if (!app->get_parent()) return footer;
    const CLI::App* root = app;
    while (root->get_parent()) root = root->get_parent();
    std::string names;
    for (const CLI::Option* option : root->get_options()) {
      std::string name = option->get_name(false, true);  // "-b,--brokers"
      if (name.empty() || name == "-h,--help" || name == "-V,--version") continue;
      std::string type = option->get_items_expected_max() > 0 ? " " + option->get_type_name() : "";
      names += (names.empty() ? "" : ", ") + name + type;
    }
    while (!footer.empty() && footer.back() == '\n') footer.pop_back();
    return footer + "\n\nGlobal options (before or after the command; see 'mtastream --help'):\n  " + names + "\n";
  }
};

// CLI11 prints --help and --version to std::cout: a full disk or closed stdout must not exit 0.
int help_written(int code) {
  errno = 0;
  std::cout.flush();
  if (std::cout) return code;
  if (errno == EPIPE) return code;  // `| head`: quiet, as everywhere
  log::error("cannot write to stdout: {}", errno ? std::strerror(errno) : "write error");
  return static_cast<int>(ExitCode::runtime_error);
}

void print_help_of(CLI::App& app, const std::vector<std::string>& words) {
  CLI::App* command = &app;
  std::string name = app.get_name();  // "mtastream topic create": the usage line names the full command
  for (const std::string& word : words) {
    CLI::App* next = find_subcommand(command, word);
    if (!next || hidden(next))
      throw UsageError(fmt::format("no such command: '{}'{}", printable(word), did_you_mean(word, command_names(command))));
    command = next;
    name += " " + command->get_name();
  }
  // The formatter directly: App::help() of a parsed app would show the `help` subcommand's own help.
  write_stdout(command->get_formatter()->make_help(command, name, CLI::AppFormatMode::Normal));
}

// The command tree: global options, every command, and the built-in version/help/option-tree commands.
// Built in place (CLI::App neither copies nor moves); the option values land in `global`.
struct CommandLine {
  CLI::App app{"mtastream: carry NYC subway turnstile events into Kafka, window them, land them in a data lake",
               "mtastream"};
  const std::string version_line =
      fmt::format("mtastream {} (librdkafka {})", MTASTREAM_VERSION, rd_kafka_version_str());
  GlobalOptions global;
  commands::CommandRegistry registry;
  std::vector<std::string> help_words;
  CLI::App* version = nullptr;
  CLI::App* help = nullptr;
  CLI::App* option_tree = nullptr;

  CommandLine() {
    app.set_version_flag("-V,--version", version_line);
    app.formatter(std::make_shared<HelpFormatter>());  // before the commands: they copy it when added
    app.require_subcommand(1);
    // A repeated -b, -t or --window takes the last value (as kcat and git do); lists still collect all.
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.fallthrough();  // global options work after the command name too
    app.footer(std::string("Run 'mtastream COMMAND --help' or 'mtastream help COMMAND' for a command's options.\n\n") +
               exit_code_help);

    app.add_option("--config", global.config_files,
                   "config file: the original's .properties (librdkafka keys) or TOML (.toml)")
        ->type_name("FILE");
    app.add_option("-X", global.kafka_overrides, "set any librdkafka property (repeatable)")->type_name("KEY=VALUE");
    app.add_option("-b,--brokers", global.brokers, "bootstrap servers (sets bootstrap.servers)")->type_name("HOST:PORT,...");
    app.add_flag("-q,--quiet", global.quiet, "only errors on stderr");
    app.add_flag("-v,--verbose", global.verbose, "more detail on stderr (repeat for more)");

    commands::add_produce_command(app, registry);
    commands::add_consume_command(app, registry);
    commands::add_aggregate_command(app, registry);
    commands::add_replay_command(app, registry);
    commands::add_topic_command(app, registry);
    commands::add_upload_command(app, registry);
    commands::add_broker_command(app, registry);
    commands::add_config_command(app, registry);
    commands::add_status_command(app, registry);

    version = app.add_subcommand("version", "print the version (as -V/--version)");
    help = app.add_subcommand("help", "show the help of a command");
    help->add_option("command", help_words, "command and subcommand names");
    // Hidden (group ""): prints the option tree as JSON for scripts/gen-docs.py (man pages, completions).
    option_tree = app.add_subcommand("option-tree", "print the option tree as JSON (for gen-docs)");
    option_tree->group("");
  }
};

// The settings layers under the command line: config files (--config, else $MTASTREAM_CONFIG, else the
// default places), then the environment, then -X and -b. Options not given on the command line are filled
// from them; `origins` says where each such value came from.
commands::GlobalContext load_settings(CommandLine& cli, std::map<std::string, std::string>& origins) {
  commands::GlobalContext context;
  std::vector<std::string> config_files = cli.global.config_files;
  if (config_files.empty()) {
    if (const char* env_config = std::getenv("MTASTREAM_CONFIG"); env_config && *env_config)
      config_files = {env_config};
    else
      config_files = config::default_config_files();
  }
  for (const std::string& file : config_files) config::load_config_file(file, context.settings);
  check_config_keys(cli.app, context.settings);
  config::load_environment(context.settings, environ);
  load_option_environment(cli.app, context.settings, environ);
  config::apply_kafka_overrides(cli.global.kafka_overrides, context.settings);
  if (!cli.global.brokers.empty()) context.settings.set_kafka("bootstrap.servers", cli.global.brokers, "flag -b");
  config::validate_kafka_properties(context.settings);
  for (CLI::App* chosen = &cli.app; !chosen->get_subcommands().empty();) {
    chosen = chosen->get_subcommands().front();
    fill_from_layers(chosen, context.settings, origins);
  }
  return context;
}

// The built-in commands that need no settings; false when another command was chosen.
bool run_builtin(CommandLine& cli) {
  if (cli.option_tree->parsed())
    write_stdout(config::option_tree_json(cli.app, cli.version_line));
  else if (cli.version->parsed())
    write_stdout(cli.version_line + "\n");
  else if (cli.help->parsed())
    print_help_of(cli.app, cli.help_words);
  else
    return false;
  flush_stdout();
  return true;
}

// The command chosen on the command line (the deepest subcommand parsed).
CLI::App* chosen_command(CLI::App& app) {
  CLI::App* chosen = &app;
  while (!chosen->get_subcommands().empty()) chosen = chosen->get_subcommands().front();
  return chosen;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout becomes EPIPE, handled quietly
  CommandLine cli;
  try {
    try {
      cli.app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return help_written(cli.app.exit(e));
    } catch (const CLI::CallForAllHelp& e) {
      return help_written(cli.app.exit(e));
    } catch (const CLI::Success& e) {  // --version
      return help_written(cli.app.exit(e));
    } catch (const CLI::ParseError& e) {
      Diagnosis d = diagnose(cli.app, argc, argv);
      log::error("{}", d.message.empty() ? std::string(e.what()) : d.message);
      log::info("see '{} --help'", d.command);
      return static_cast<int>(ExitCode::usage_error);
    }
    if (cli.global.quiet) log::set_level(log::Level::error);
    if (cli.global.verbose > 0) log::set_level(cli.global.verbose > 1 ? log::Level::trace : log::Level::debug);
    if (run_builtin(cli)) return 0;

    std::map<std::string, std::string> origins;
    commands::GlobalContext context = load_settings(cli, origins);
    CLI::App* chosen = chosen_command(cli.app);
    const commands::CommandRun* run = cli.registry.find(chosen);
    if (!run) throw UsageError(fmt::format("'{}' needs a subcommand; see 'mtastream {} --help'",
                                           config::command_path(chosen), config::command_path(chosen)));
    ExitCode code;
    try {
      code = (*run)(context);
    } catch (const UsageError& e) {
      throw UsageError(with_origin(e.what(), origins));
    }
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
