// How a command plugs into the binary. Checklist for a new command: a file here with
// add_<name>_command(), an entry in the table in cli.cpp, a man page (man/), tests (tests/).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>

#include "config/config.h"
#include "base/error.h"

namespace mtastream::commands {

// What every command gets after the command line and the config layers are merged.
struct GlobalContext {
  config::Settings settings;  // Kafka properties and command options with their origins
};

using CommandRun = std::function<ExitCode(const GlobalContext&)>;

// Maps each (sub)command to the function that runs when it is the one chosen; work runs
// after parsing, never inside CLI11 callbacks.
class CommandRegistry {
 public:
  void on_run(CLI::App* command, CommandRun run) { runs_[command] = std::move(run); }
  const CommandRun* find(CLI::App* command) const {
    auto it = runs_.find(command);
    return it == runs_.end() ? nullptr : &it->second;
  }

 private:
  std::map<CLI::App*, CommandRun> runs_;
};

// Adds "Examples:" to a command's help.
inline void set_examples(CLI::App* command, const std::string& examples) {
  command->footer("Examples:\n" + examples);
}

void add_produce_command(CLI::App& app, CommandRegistry& registry);
void add_consume_command(CLI::App& app, CommandRegistry& registry);
void add_aggregate_command(CLI::App& app, CommandRegistry& registry);
void add_replay_command(CLI::App& app, CommandRegistry& registry);
void add_topic_command(CLI::App& app, CommandRegistry& registry);
void add_upload_command(CLI::App& app, CommandRegistry& registry);
void add_broker_command(CLI::App& app, CommandRegistry& registry);
void add_config_command(CLI::App& app, CommandRegistry& registry);
void add_status_command(CLI::App& app, CommandRegistry& registry);

}  // namespace mtastream::commands
