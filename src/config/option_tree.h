// The command line's option tree as JSON, for the man page and completion generator (scripts/gen-docs.py).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

namespace mtastream::config {

// "topic.create" for `mtastream topic create`; "" for the root.
std::string command_path(const CLI::App* command);

// The environment variable that sets a command option: MTASTREAM_<COMMAND>_<OPTION>, '.' and '-' as '_'.
std::string option_env_name(const std::string& command_path, const std::string& long_name);

// Every visible command, subcommand, option and positional of `app` (hidden ones, in the "" group, are
// left out): names, value type, description, default, allowed values (IsMember/Transformer checks),
// other checks, environment variable, and each command's help footer (its examples).
std::string option_tree_json(CLI::App& app, const std::string& version);

}  // namespace mtastream::config
