// Finds AWS credentials and region the way the AWS CLI does: environment first, then the shared
// credentials and config files (~/.aws/credentials, ~/.aws/config) for AWS_PROFILE or "default".
#pragma once
#include <map>
#include <optional>
#include <string>

#include "upload/sigv4.h"

namespace mtastream::upload {

// Looks up an environment variable; tests pass their own.
using EnvironmentLookup = std::optional<std::string> (*)(const std::string& name);
std::optional<std::string> process_environment(const std::string& name);

// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the profile's keys in
// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. nullopt when none is found.
// `profile` empty: AWS_PROFILE, else "default".
std::optional<AwsCredentials> find_aws_credentials(const std::string& profile,
                                                   EnvironmentLookup env = process_environment);

// AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in AWS_CONFIG_FILE or ~/.aws/config, else "us-east-1".
std::string find_aws_region(const std::string& profile, EnvironmentLookup env = process_environment);

// INI sections of an AWS shared file: {"default": {"aws_access_key_id": "..."}, "profile dev": {...}}.
std::map<std::string, std::map<std::string, std::string>> parse_aws_ini(const std::string& text);

}  // namespace mtastream::upload
