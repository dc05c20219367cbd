#include "config/option_tree.h"

#include <cctype>

#include "base/json_writer.h"

namespace mtastream::config {
namespace {

void write_strings(JsonWriter& json, std::string_view name, const std::vector<std::string>& items) {
  json.key(name).begin_array();
  for (const std::string& item : items) json.value(item);
  json.end_array();
}

bool hidden(const CLI::Option* option) { return option->get_group().empty(); }
bool hidden(const CLI::App* command) { return command->get_group().empty(); }

// CLI11 keeps validators private; their descriptions are reachable by index. A set check
// (IsMember, Transformer, CheckedTransformer) describes itself as "{a,b,c}" or "{a->x,b->y}".
struct Checks {
  std::vector<std::string> allowed;
  std::vector<std::string> other;
  std::string type;  // the type name without the validator descriptions CLI11 appends
};

Checks checks_of(CLI::Option* option) {
  Checks checks;
  checks.type = option->get_type_name();
  std::vector<std::string> descriptions;
  for (int i = 0;; ++i) {
    CLI::Validator* validator = nullptr;
    try {
      validator = option->get_validator(i);
    } catch (const CLI::OptionNotFound&) {
      break;
    }
    std::string description = validator->get_description();
    if (!description.empty()) descriptions.push_back(description);
  }
  for (auto it = descriptions.rbegin(); it != descriptions.rend(); ++it) {
    std::string suffix = ":" + *it;
    if (checks.type.size() >= suffix.size() &&
        checks.type.compare(checks.type.size() - suffix.size(), suffix.size(), suffix) == 0)
      checks.type.resize(checks.type.size() - suffix.size());
  }
  for (const std::string& description : descriptions) {
    if (description.size() >= 2 && description.front() == '{' && description.back() == '}') {
      std::string inner = description.substr(1, description.size() - 2);
      size_t start = 0;
      while (start <= inner.size()) {
        size_t comma = inner.find(',', start);
        std::string item = inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (size_t arrow = item.find("->"); arrow != std::string::npos) item.resize(arrow);
        if (!item.empty()) checks.allowed.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      checks.other.push_back(description);
    }
  }
  return checks;
}

void write_option(JsonWriter& json, CLI::Option* option, const std::string& path) {
  Checks checks = checks_of(option);
  bool takes_value = option->get_items_expected_max() > 0;
  bool repeatable = option->get_items_expected_max() > 1 ||
                    (!takes_value && option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll);
  std::string env;
  if (!path.empty() && !option->get_lnames().empty() && option->get_lnames().front() != "help")
    env = option_env_name(path, option->get_lnames().front());
  json.begin_object();
  write_strings(json, "short", option->get_snames());
  write_strings(json, "long", option->get_lnames());
  json.field("name", option->nonpositional() ? option->get_name(false, true) : option->get_name(true, false));
  json.field("type", takes_value ? checks.type : "").field("takes_value", takes_value).field("repeatable", repeatable);
  json.field("required", option->get_required()).field("default", option->get_default_str());
  write_strings(json, "allowed", checks.allowed);
  write_strings(json, "checks", checks.other);
  json.field("env", env).field("description", option->get_description()).end_object();
}

// Options of a command, including those of its nameless option groups.
void collect_options(CLI::App* command, std::vector<CLI::Option*>& options) {
  for (CLI::Option* option : command->get_options()) options.push_back(option);
  for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name().empty()) collect_options(sub, options);
}

// The root (`version` not null) also carries the version line, for the man pages' footer.
void write_command(JsonWriter& json, CLI::App* command, const std::string* version = nullptr) {
  std::string path = command_path(command);
  std::vector<CLI::Option*> options;
  collect_options(command, options);
  json.begin_object();
  if (version) json.field("version", *version);
  json.field("name", command->get_name()).field("path", path).field("description", command->get_description());
  json.field("footer", command->get_footer()).field("requires_subcommand", command->get_require_subcommand_min() > 0);
  for (bool named : {true, false}) {
    json.key(named ? "options" : "positionals").begin_array();
    for (CLI::Option* option : options)
      if (!hidden(option) && option->nonpositional() == named) write_option(json, option, path);
    json.end_array();
  }
  json.key("commands").begin_array();
  for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; }))
    if (!sub->get_name().empty() && !hidden(sub)) write_command(json, sub);
  json.end_array().end_object();
}

}  // namespace

std::string command_path(const CLI::App* command) {
  std::string path;
  for (const CLI::App* c = command; c && c->get_parent(); c = c->get_parent())
    path = path.empty() ? c->get_name() : c->get_name() + "." + path;
  return path;
}

std::string option_env_name(const std::string& command_path, const std::string& long_name) {
  std::string name = "MTASTREAM_";
  for (char c : command_path + "_" + long_name)
    name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string option_tree_json(CLI::App& app, const std::string& version) {
  JsonWriter json;
  write_command(json, &app, &version);
  return json.str() + "\n";
}

}  // namespace mtastream::config
