#include "config/config.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <toml++/toml.h>

#include <cstdint>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/stat.h>

#include "base/error.h"
#include "base/text.h"

namespace mtastream::config {

void Settings::set_kafka(const std::string& key, std::string value, std::string origin) {
  kafka_[key] = Setting{{std::move(value)}, std::move(origin)};
}

const Setting* Settings::find_kafka(const std::string& key) const {
  auto it = kafka_.find(key);
  return it == kafka_.end() ? nullptr : &it->second;
}

void Settings::set_option(const std::string& command_path, const std::string& option,
                          std::vector<std::string> values, std::string origin) {
  options_[command_path][option] = Setting{std::move(values), std::move(origin)};
}

const Setting* Settings::find_option(const std::string& command_path, const std::string& option) const {
  auto section = options_.find(command_path);
  if (section == options_.end()) return nullptr;
  auto it = section->second.find(option);
  return it == section->second.end() ? nullptr : &it->second;
}

bool is_secret_key(std::string_view key) {
  std::string lower = to_lower(key);
  // ssl.key.pem is a private key; sasl.oauthbearer.config may hold a client secret.
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("sasl.jaas") != std::string::npos || lower.find("key.pem") != std::string::npos ||
         lower.find("oauthbearer.config") != std::string::npos;
}

std::string redact(std::string_view key, std::string_view value) {
  // A URL's password (--sink postgresql://user:pass@host/db) is redacted whatever the key.
  return is_secret_key(key) ? std::string("[redacted]") : redact_url_passwords(value);
}

static std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read config file '{}': {}", path, std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw UsageError(fmt::format("cannot read config file '{}'", path));
  return buffer.str();
}

void load_config_file(const std::string& path, Settings& settings) {
  std::string text = read_whole_file(path);
  if (ends_with(path, ".toml"))
    load_toml_text(text, path, settings);
  else
    load_properties_text(text, path, settings);
}

void load_properties_text(std::string_view text, const std::string& source_name, Settings& settings) {
  size_t line_number = 0;
  for (std::string_view line : split_lines(text)) {
    ++line_number;
    std::string_view trimmed = trim(line);
    if (trimmed.empty() || trimmed.front() == '#' || trimmed.front() == '!') continue;
    size_t sep = trimmed.find_first_of("=:");
    if (sep == std::string_view::npos) {
      // `sasl.password hunter2` (Java also allows a blank as separator): never echo a line naming a secret.
      if (is_secret_key(trimmed))
        throw UsageError(fmt::format("{}:{}: expected 'key=value' (the line names a secret; not shown)",
                                     source_name, line_number));
      throw UsageError(fmt::format("{}:{}: expected 'key=value', got '{}'", source_name, line_number,
                                   printable(trimmed.substr(0, 60))));
    }
    std::string key(trim(trimmed.substr(0, sep)));
    std::string value(trim(trimmed.substr(sep + 1)));
    if (key.empty()) throw UsageError(fmt::format("{}:{}: empty key before '='", source_name, line_number));
    settings.set_kafka(key, value, fmt::format("{}:{}", source_name, line_number));
  }
}

namespace {

std::string toml_scalar_to_string(const toml::node& node, const std::string& where) {
  if (auto s = node.as_string()) return s->get();
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto f = node.as_floating_point()) return fmt::format("{}", f->get());
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  throw UsageError(fmt::format("{}: unsupported value type (use a string, number, boolean or array)", where));
}

std::string toml_origin(const std::string& source_name, const toml::node& node) {
  return fmt::format("{}:{}", source_name, node.source().begin.line);
}

void flatten_kafka_table(const toml::table& table, const std::string& prefix, const std::string& source_name,
                         Settings& settings) {
  for (const auto& [key, node] : table) {
    std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* inner = node.as_table()) {
      flatten_kafka_table(*inner, name, source_name, settings);
      continue;
    }
    std::string origin = toml_origin(source_name, node);
    settings.set_kafka(name, toml_scalar_to_string(node, origin + ": key '" + name + "'"), origin);
  }
}

void load_command_table(const toml::table& table, const std::string& path, const std::string& source_name,
                        Settings& settings) {
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    if (const toml::table* inner = node.as_table()) {
      load_command_table(*inner, path.empty() ? name : path + "." + name, source_name, settings);
      continue;
    }
    std::string origin = toml_origin(source_name, node);
    std::string where = fmt::format("{}: key '{}{}'", origin, path.empty() ? "" : path + ".", name);
    std::vector<std::string> values;
    if (const toml::array* array = node.as_array()) {
      for (const toml::node& element : *array) values.push_back(toml_scalar_to_string(element, where));
    } else {
      values.push_back(toml_scalar_to_string(node, where));
    }
    settings.set_option(path, name, std::move(values), origin);
  }
}

}  // namespace

namespace {

// toml++ 3.3.0 (Debian 12) reaches __builtin_unreachable() -- undefined behaviour, a crash at best -- on some
// non-ASCII characters outside strings and comments (found by fuzz_config: 'keyø = 1'). TOML allows
// non-ASCII there nowhere anyway, so such a file is refused here, before toml++ sees it. Returns the
// 1-based line of the first such character, or 0.
size_t line_of_bare_non_ascii(std::string_view text) {
  size_t line = 1;
  size_t i = 0;
  auto skip_string = [&](std::string_view delimiter, bool escapes) {
    i += delimiter.size();
    while (i < text.size()) {
      if (text.compare(i, delimiter.size(), delimiter) == 0) {
        i += delimiter.size();
        return;
      }
      if (text[i] == '\n') {
        if (delimiter.size() == 1) return;  // unterminated: toml++ reports it
        ++line;
      }
      if (escapes && text[i] == '\\' && i + 1 < text.size() && text[++i] == '\n') ++line;
      ++i;
    }
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"') {
      skip_string(text.compare(i, 3, "\"\"\"") == 0 ? "\"\"\"" : "\"", true);
    } else if (c == '\'') {
      skip_string(text.compare(i, 3, "'''") == 0 ? "'''" : "'", false);
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      return line;
    } else {
      ++i;
    }
  }
  return 0;
}

// Code points for which toml++ 3.3.0's is_non_ascii_horizontal_whitespace() falls into its
// __builtin_unreachable() default case, wherever toml++ asks "is this whitespace?" -- even after a syntax
// error, where no lexer of ours can tell whether it is inside a string.
bool toml_cannot_classify(char32_t c) {
  if (c < 0xA1 || c > 0xFEFE || c == 0x3000) return false;
  uint64_t child = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
  return child == 0 || child == 11 || child == 63;
}

// Returns the 1-based line of the first such code point in UTF-8 `text` (0 if none) and the code point.
size_t line_of_unclassifiable(std::string_view text, char32_t& found) {
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char b = static_cast<unsigned char>(text[i]);
    if (b == '\n') ++line;
    if (b < 0xC0) continue;
    int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
    char32_t c = b & (0x3F >> extra);
    if (i + extra >= text.size()) break;  // cut short: toml++ reports the bad UTF-8
    for (int k = 1; k <= extra; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    if (toml_cannot_classify(c)) {
      found = c;
      return line;
    }
  }
  return 0;
}

}  // namespace

void load_toml_text(std::string_view text, const std::string& source_name, Settings& settings) {
  if (size_t line = line_of_bare_non_ascii(text))
    throw UsageError(fmt::format("{}:{}: non-ASCII character outside a quoted string or comment (quote the key "
                                 "or value)", source_name, line));
  char32_t code_point = 0;
  if (size_t line = line_of_unclassifiable(text, code_point))
    throw UsageError(fmt::format("{}:{}: character U+{:04X} cannot be read safely by this build's TOML parser "
                                 "(toml++ 3.3.0); put this value in a .properties file or an environment "
                                 "variable", source_name, line, static_cast<uint32_t>(code_point)));
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw UsageError(fmt::format("{}:{}:{}: {}", source_name, e.source().begin.line, e.source().begin.column,
                                 e.description()));
  }
  for (const auto& [key, node] : root) {
    std::string name(key.str());
    if (name == "kafka") {
      const toml::table* table = node.as_table();
      if (!table) throw UsageError(fmt::format("{}: 'kafka' must be a table", toml_origin(source_name, node)));
      flatten_kafka_table(*table, "", source_name, settings);
    } else if (const toml::table* table = node.as_table()) {
      load_command_table(*table, name, source_name, settings);
    } else {
      // Top-level scalars are global options (e.g. brokers = "host:9092").
      std::string origin = toml_origin(source_name, node);
      settings.set_option("", name, {toml_scalar_to_string(node, origin + ": key '" + name + "'")}, origin);
    }
  }
  // `brokers` is the friendly spelling of bootstrap.servers.
  if (const Setting* brokers = settings.find_option("", "brokers")) {
    settings.set_kafka("bootstrap.servers", brokers->value(), brokers->origin);
  }
}

void load_environment(Settings& settings, char** environment) {
  static constexpr std::string_view kafka_prefix = "MTASTREAM_KAFKA_";
  for (char** entry = environment; entry && *entry; ++entry) {
    std::string_view assignment(*entry);
    size_t eq = assignment.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = assignment.substr(0, eq);
    std::string_view value = assignment.substr(eq + 1);
    if (name == "MTASTREAM_BROKERS") {
      settings.set_kafka("bootstrap.servers", std::string(value), "env MTASTREAM_BROKERS");
    } else if (starts_with(name, kafka_prefix)) {
      std::string key = to_lower(name.substr(kafka_prefix.size()));
      for (char& c : key)
        if (c == '_') c = '.';
      settings.set_kafka(key, std::string(value), fmt::format("env {}", name));
    }
  }
}

void apply_kafka_overrides(const std::vector<std::string>& assignments, Settings& settings) {
  for (const std::string& assignment : assignments) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(fmt::format("-X expects key=value, got '{}'", redact(assignment, assignment)));
    std::string key = std::string(trim(std::string_view(assignment).substr(0, eq)));
    settings.set_kafka(key, assignment.substr(eq + 1), "-X " + key);
  }
}

void validate_kafka_properties(const Settings& settings) {
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(rd_kafka_conf_new(),
                                                                          rd_kafka_conf_destroy);
  char error[512];
  for (const auto& [key, setting] : settings.kafka()) {
    rd_kafka_conf_res_t result = rd_kafka_conf_set(conf.get(), key.c_str(), setting.value().c_str(), error,
                                                   sizeof error);
    if (result == RD_KAFKA_CONF_UNKNOWN)
      throw UsageError(fmt::format("{}: unknown Kafka property '{}' (see librdkafka's CONFIGURATION.md)",
                                   setting.origin, key));
    if (result != RD_KAFKA_CONF_OK) {
      std::string reason = is_secret_key(key) ? "invalid value" : std::string(error);
      throw UsageError(fmt::format("{}: bad value for '{}': {}", setting.origin, key, reason));
    }
  }
}

std::vector<std::string> default_config_files() {
  std::vector<std::string> candidates{"mtastream.toml"};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg)
    candidates.push_back(std::string(xdg) + "/mtastream/mtastream.toml");
  else if (const char* home = std::getenv("HOME"); home && *home)
    candidates.push_back(std::string(home) + "/.config/mtastream/mtastream.toml");
  struct stat st;
  for (const std::string& path : candidates)
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return {path};
  return {};
}

}  // namespace mtastream::config
