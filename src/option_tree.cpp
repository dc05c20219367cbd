#include "option_tree.h"

#include <fmt/format.h>

#include <cctype>

namespace mtastream {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_string(items[i]);
  return out + "]";
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

std::string option_json(CLI::Option* option, const std::string& path) {
  Checks checks = checks_of(option);
  bool takes_value = option->get_items_expected_max() > 0;
  bool repeatable = option->get_items_expected_max() > 1 ||
                    (!takes_value && option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll);
  std::string env;
  if (!path.empty() && !option->get_lnames().empty() && option->get_lnames().front() != "help")
    env = option_env_name(path, option->get_lnames().front());
  return fmt::format(
      "{{\"short\":{},\"long\":{},\"name\":{},\"type\":{},\"takes_value\":{},\"repeatable\":{},"
      "\"required\":{},\"default\":{},\"allowed\":{},\"checks\":{},\"env\":{},\"description\":{}}}",
      json_strings(option->get_snames()), json_strings(option->get_lnames()),
      json_string(option->nonpositional() ? option->get_name(false, true) : option->get_name(true, false)), json_string(takes_value ? checks.type : ""),
      takes_value ? "true" : "false", repeatable ? "true" : "false", option->get_required() ? "true" : "false",
      json_string(option->get_default_str()), json_strings(checks.allowed), json_strings(checks.other),
      json_string(env), json_string(option->get_description()));
}

// Options of a command, including those of its nameless option groups.
void collect_options(CLI::App* command, std::vector<CLI::Option*>& options) {
  for (CLI::Option* option : command->get_options()) options.push_back(option);
  for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name().empty()) collect_options(sub, options);
}

std::string command_json(CLI::App* command) {
  std::string path = command_path(command);
  std::vector<CLI::Option*> options;
  collect_options(command, options);
  std::string named, positional;
  for (CLI::Option* option : options) {
    if (hidden(option)) continue;
    std::string& list = option->nonpositional() ? named : positional;
    list += (list.empty() ? "" : ",") + option_json(option, path);
  }
  std::string subcommands;
  for (CLI::App* sub : command->get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name().empty() || hidden(sub)) continue;
    subcommands += (subcommands.empty() ? "" : ",") + command_json(sub);
  }
  return fmt::format(
      "{{\"name\":{},\"path\":{},\"description\":{},\"footer\":{},\"requires_subcommand\":{},"
      "\"options\":[{}],\"positionals\":[{}],\"commands\":[{}]}}",
      json_string(command->get_name()), json_string(path), json_string(command->get_description()),
      json_string(command->get_footer()), command->get_require_subcommand_min() > 0 ? "true" : "false", named,
      positional, subcommands);
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
  std::string tree = command_json(&app);
  // The root also carries the version line, for the man pages' footer.
  return "{\"version\":" + json_string(version) + "," + tree.substr(1) + "\n";
}

}  // namespace mtastream
