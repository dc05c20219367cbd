// Layered settings: config files (.properties or TOML), environment, -X, flags; each value keeps
// where it came from so `mtastream config show` can say, and secrets are redacted on every print.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mtastream::config {

struct Setting {
  std::vector<std::string> values;  // one, or several for a TOML array (repeatable options)
  std::string origin;               // "mtastream.toml:12", "env MTASTREAM_KAFKA_ACKS", "-X", "flag -b"
  const std::string& value() const { return values.front(); }
};

class Settings {
 public:
  // librdkafka properties (bootstrap.servers, sasl.password, ...), handed to every Kafka client.
  void set_kafka(const std::string& key, std::string value, std::string origin);
  const std::map<std::string, Setting>& kafka() const { return kafka_; }
  const Setting* find_kafka(const std::string& key) const;

  // Command options from config files: `command_path` is "consume" or "topic.create" ("" = global),
  // `option` the long option name without dashes.
  void set_option(const std::string& command_path, const std::string& option, std::vector<std::string> values,
                  std::string origin);
  const Setting* find_option(const std::string& command_path, const std::string& option) const;
  const std::map<std::string, std::map<std::string, Setting>>& options() const { return options_; }

 private:
  std::map<std::string, Setting> kafka_;
  std::map<std::string, std::map<std::string, Setting>> options_;
};

// Keys whose values are never printed: anything with password, secret or sasl.jaas in its name.
bool is_secret_key(std::string_view key);
std::string redact(std::string_view key, std::string_view value);

// `.toml` files are TOML (sections per command, [kafka] for librdkafka properties);
// anything else is the original's librdkafka `.properties` format. Errors name file:line and key.
void load_config_file(const std::string& path, Settings& settings);
void load_properties_text(std::string_view text, const std::string& source_name, Settings& settings);
void load_toml_text(std::string_view text, const std::string& source_name, Settings& settings);

// MTASTREAM_BROKERS and MTASTREAM_KAFKA_<PROPERTY> (dots written as underscores).
void load_environment(Settings& settings, char** environment);

// `-X key=value` arguments.
void apply_kafka_overrides(const std::vector<std::string>& assignments, Settings& settings);

// Checks every Kafka property against librdkafka: unknown key or bad value is a UsageError
// that names the origin and key (never the secret value).
void validate_kafka_properties(const Settings& settings);

// The config files read when --config is not given: ./mtastream.toml, then
// $XDG_CONFIG_HOME/mtastream/mtastream.toml (or ~/.config/...), the first that exists.
std::vector<std::string> default_config_files();

}  // namespace mtastream::config
