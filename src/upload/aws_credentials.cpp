#include "upload/aws_credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/text.h"

namespace mtastream::upload {
namespace {

std::string trim_copy(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

std::optional<std::string> non_empty(EnvironmentLookup env, const std::string& name) {
  auto value = env(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string aws_file(EnvironmentLookup env, const char* override_variable, const char* name) {
  if (auto path = non_empty(env, override_variable)) return *path;
  auto home = non_empty(env, "HOME");
  return home ? *home + "/.aws/" + name : std::string();
}

std::map<std::string, std::map<std::string, std::string>> read_aws_ini(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return parse_aws_ini(text.str());
}

std::string chosen_profile(const std::string& profile, EnvironmentLookup env) {
  if (!profile.empty()) return profile;
  if (auto from_env = non_empty(env, "AWS_PROFILE")) return *from_env;
  return "default";
}

}  // namespace

std::optional<std::string> process_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

std::map<std::string, std::map<std::string, std::string>> parse_aws_ini(const std::string& text) {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::string section;
  std::istringstream lines(text);
  for (std::string raw; std::getline(lines, raw);) {
    std::string line = trim_copy(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim_copy(std::string_view(line).substr(1, line.size() - 2));
      sections[section];
      continue;
    }
    auto equals = line.find('=');
    if (equals == std::string::npos || section.empty()) continue;
    sections[section][trim_copy(std::string_view(line).substr(0, equals))] =
        trim_copy(std::string_view(line).substr(equals + 1));
  }
  return sections;
}

std::optional<AwsCredentials> find_aws_credentials(const std::string& profile, EnvironmentLookup env) {
  auto key = non_empty(env, "AWS_ACCESS_KEY_ID");
  auto secret = non_empty(env, "AWS_SECRET_ACCESS_KEY");
  if (key && secret) {
    AwsCredentials credentials{*key, *secret, non_empty(env, "AWS_SESSION_TOKEN").value_or(""),
                               "environment (AWS_ACCESS_KEY_ID)"};
    return credentials;
  }
  std::string name = chosen_profile(profile, env);
  std::string path = aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
  auto sections = read_aws_ini(path);
  auto section = sections.find(name);
  if (section == sections.end()) return std::nullopt;
  auto& values = section->second;
  if (!values.count("aws_access_key_id") || !values.count("aws_secret_access_key")) return std::nullopt;
  AwsCredentials credentials{values["aws_access_key_id"], values["aws_secret_access_key"],
                             values.count("aws_session_token") ? values["aws_session_token"] : "",
                             path + " [" + name + "]"};
  return credentials;
}

std::string find_aws_region(const std::string& profile, EnvironmentLookup env) {
  if (auto region = non_empty(env, "AWS_REGION")) return *region;
  if (auto region = non_empty(env, "AWS_DEFAULT_REGION")) return *region;
  std::string name = chosen_profile(profile, env);
  auto sections = read_aws_ini(aws_file(env, "AWS_CONFIG_FILE", "config"));
  for (const std::string& section : {name == "default" ? name : "profile " + name, name}) {
    auto it = sections.find(section);
    if (it != sections.end() && it->second.count("region")) return it->second.at("region");
  }
  return "us-east-1";
}

}  // namespace mtastream::upload
