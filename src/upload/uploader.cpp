#include "upload/uploader.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "base/error.h"
#include "upload/aws_credentials.h"
#include "upload/checksum.h"
#include "upload/retry.h"
#include "upload/store_uploaders.h"

namespace mtastream::upload {
namespace {

std::string strip_slashes(std::string_view text) {
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  return std::string(text);
}

void check_bucket_name(const std::string& bucket, const std::string& url) {
  if (bucket.empty()) throw UsageError(fmt::format("upload URL '{}' has no bucket (expected SCHEME://BUCKET/PREFIX)", url));
  for (char c : bucket) {
    bool ok = std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
              c == '.' || c == '_';
    if (!ok)
      throw UsageError(fmt::format("upload URL '{}': bucket name '{}' may hold only lowercase letters, digits, "
                                   "'-', '.' and '_'", url, bucket));
  }
}

std::optional<std::string> env_value(const char* name) {
  auto value = process_environment(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

std::string UploadDestination::key_for(const std::string& object_name) const {
  std::string name = strip_slashes(object_name);
  return prefix.empty() ? name : prefix + "/" + name;
}

std::string UploadDestination::url_for(const std::string& object_name) const {
  switch (scheme) {
    case Scheme::file: return "file://" + (std::filesystem::path(directory) / key_for(object_name)).string();
    case Scheme::s3: return "s3://" + bucket + "/" + key_for(object_name);
    case Scheme::gcs: return "gs://" + bucket + "/" + key_for(object_name);
  }
  return url;
}

UploadDestination parse_upload_url(const std::string& url) {
  UploadDestination destination;
  destination.url = url;
  auto separator = url.find("://");
  if (separator == std::string::npos)
    throw UsageError(fmt::format("upload URL '{}' has no scheme: use file://DIR, s3://BUCKET/PREFIX or "
                                 "gs://BUCKET/PREFIX", url));
  std::string scheme = url.substr(0, separator);
  std::string rest = url.substr(separator + 3);
  if (scheme == "file") {
    destination.scheme = UploadDestination::Scheme::file;
    if (rest.empty()) throw UsageError(fmt::format("upload URL '{}' has no directory (file:///abs/dir or file://rel/dir)", url));
    destination.directory = rest;
    return destination;
  }
  if (scheme == "s3") destination.scheme = UploadDestination::Scheme::s3;
  else if (scheme == "gs") destination.scheme = UploadDestination::Scheme::gcs;
  else
    throw UsageError(fmt::format("upload URL '{}': unknown scheme '{}' (use file://, s3:// or gs://)", url, scheme));
  auto slash = rest.find('/');
  destination.bucket = rest.substr(0, slash);
  destination.prefix = slash == std::string::npos ? "" : strip_slashes(rest.substr(slash + 1));
  check_bucket_name(destination.bucket, url);
  if (destination.prefix.find("//") != std::string::npos)
    throw UsageError(fmt::format("upload URL '{}': empty path segment in the prefix", url));
  // "." and ".." segments (found by fuzz_upload_url): HTTP clients and S3-compatible servers normalize
  // them away, so `s3://b/../other/x` could write under another prefix, or another bucket with path-style
  // addressing.
  for (size_t start = 0; start <= destination.prefix.size() && !destination.prefix.empty();) {
    size_t end = std::min(destination.prefix.find('/', start), destination.prefix.size());
    std::string_view segment(destination.prefix.data() + start, end - start);
    if (segment == "." || segment == "..")
      throw UsageError(fmt::format("upload URL '{}': '{}' is not allowed as a path segment of the prefix", url,
                                   segment));
    start = end + 1;
  }
  return destination;
}

HttpEndpoint parse_endpoint(const std::string& text, const std::string& what) {
  HttpEndpoint endpoint;
  std::string rest = text;
  auto separator = text.find("://");
  if (separator == std::string::npos) {
    endpoint.scheme = "http";
  } else {
    endpoint.scheme = text.substr(0, separator);
    rest = text.substr(separator + 3);
    if (endpoint.scheme != "http" && endpoint.scheme != "https")
      throw UsageError(fmt::format("{} '{}': scheme must be http or https", what, text));
  }
  auto slash = rest.find('/');
  endpoint.authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    endpoint.base_path = rest.substr(slash);
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') endpoint.base_path.pop_back();
  }
  if (endpoint.authority.empty()) throw UsageError(fmt::format("{} '{}' has no host", what, text));
  // Default ports are left out of the Host header by clients; signatures must see the same text.
  if ((endpoint.scheme == "http" && endpoint.authority.ends_with(":80")) ||
      (endpoint.scheme == "https" && endpoint.authority.ends_with(":443")))
    endpoint.authority.erase(endpoint.authority.rfind(':'));
  // ":80" or ":9000" alone (found by fuzz_upload_url): a port without a host would send an empty Host.
  if (endpoint.authority.empty() || endpoint.authority.front() == ':')
    throw UsageError(fmt::format("{} '{}' has no host", what, text));
  return endpoint;
}

std::vector<std::string> list_folder_pages(const UploadDestination& destination, const UploadOptions& options,
                                           const std::string& folder, const ListPage& page) {
  const std::string prefix = destination.key_for(folder) + "/", folder_url = destination.url_for(folder) + "/";
  std::vector<std::string> names;
  std::string token;
  do {
    std::vector<std::string> keys;
    run_with_retries(options, folder_url, [&] {
      keys.clear();
      token = page(prefix, token, keys);
    });
    for (std::string& key : keys)
      if (key.starts_with(prefix) && key.size() > prefix.size() && key.find('/', prefix.size()) == std::string::npos)
        names.push_back(key.substr(prefix.size()));
  } while (!token.empty());
  return names;
}

int run_with_retries(const UploadOptions& options, const std::string& object_url, const std::function<void()>& attempt) {
  BackoffPolicy policy{std::max(1, options.max_attempts), options.initial_backoff_seconds, options.max_backoff_seconds};
  for (int number = 1;; ++number) {
    try {
      attempt();
      return number;
    } catch (const TransientError& e) {
      if (number >= policy.max_attempts)
        throw Error(fmt::format("{}: failed after {} attempts: {}", object_url, number, e.what()));
      double delay = backoff_delay(policy, number, random_unit());
      if (e.retry_after_seconds() > 0) delay = std::min(std::max(delay, e.retry_after_seconds()), policy.max_seconds);
      if (options.on_retry) options.on_retry(RetryNotice{object_url, number, policy.max_attempts, delay, e.what()});
      std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    }
  }
}

std::unique_ptr<Uploader> Uploader::create(const std::string& url, const UploadOptions& options) {
  UploadDestination destination = parse_upload_url(url);
  if (options.max_attempts < 1) throw UsageError("upload: attempts must be at least 1");
  switch (destination.scheme) {
    case UploadDestination::Scheme::file:
      if (!options.endpoint.empty()) throw UsageError("--endpoint applies to s3:// and gs:// only");
      return make_file_uploader(std::move(destination), options);

    case UploadDestination::Scheme::s3: {
      S3StoreConfig config;
      auto credentials = find_aws_credentials(options.aws_profile);
      if (!credentials)
        throw UsageError(fmt::format(
            "no AWS credentials for {}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put the keys in "
            "~/.aws/credentials under [{}] (AWS_PROFILE picks another profile)", url,
            options.aws_profile.empty() ? env_value("AWS_PROFILE").value_or("default") : options.aws_profile));
      config.credentials = *credentials;
      config.region = options.region.empty() ? find_aws_region(options.aws_profile) : options.region;
      std::string endpoint = options.endpoint;
      std::string endpoint_origin = "--endpoint";
      if (endpoint.empty()) {
        if (auto e = env_value("AWS_ENDPOINT_URL_S3")) endpoint = *e, endpoint_origin = "AWS_ENDPOINT_URL_S3";
        else if (auto e2 = env_value("AWS_ENDPOINT_URL")) endpoint = *e2, endpoint_origin = "AWS_ENDPOINT_URL";
      }
      bool custom = !endpoint.empty();
      if (!custom) endpoint = "https://s3." + config.region + ".amazonaws.com";
      config.endpoint = parse_endpoint(endpoint, endpoint_origin);
      config.path_style = options.addressing == S3Addressing::path ||
                          (options.addressing == S3Addressing::automatic && custom) ||
                          destination.bucket.find('.') != std::string::npos;  // dots break TLS on virtual hosts
      return make_s3_uploader(std::move(destination), std::move(config), options);
    }

    case UploadDestination::Scheme::gcs: {
      std::string endpoint = options.endpoint;
      if (endpoint.empty()) endpoint = env_value("STORAGE_EMULATOR_HOST").value_or("");
      auto hmac_key = env_value("GCS_HMAC_ACCESS_KEY_ID");
      auto hmac_secret = env_value("GCS_HMAC_SECRET");
      if (hmac_key && hmac_secret) {
        // HMAC keys speak GCS's S3-interoperable XML API, signed with SigV4.
        S3StoreConfig config;
        config.credentials = AwsCredentials{*hmac_key, *hmac_secret, "", "environment (GCS_HMAC_ACCESS_KEY_ID)"};
        config.region = "auto";
        config.endpoint = parse_endpoint(endpoint.empty() ? "https://storage.googleapis.com" : endpoint,
                                         options.endpoint.empty() ? "STORAGE_EMULATOR_HOST" : "--endpoint");
        config.path_style = true;
        config.store_name = "GCS (XML API)";
        return make_s3_uploader(std::move(destination), std::move(config), options);
      }
      std::string credentials_file = env_value("GOOGLE_APPLICATION_CREDENTIALS").value_or("");
      if (credentials_file.empty() && endpoint.empty())
        throw UsageError(fmt::format(
            "no GCS credentials for {}: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, or "
            "GCS_HMAC_ACCESS_KEY_ID and GCS_HMAC_SECRET; for an emulator set STORAGE_EMULATOR_HOST or --endpoint",
            url));
      HttpEndpoint parsed = parse_endpoint(endpoint.empty() ? "https://storage.googleapis.com" : endpoint,
                                           options.endpoint.empty() ? "STORAGE_EMULATOR_HOST" : "--endpoint");
      return make_gcs_json_uploader(std::move(destination), parsed, credentials_file, options);
    }
  }
  throw UsageError("unsupported upload URL: " + url);
}

UploadResult Uploader::result_for(const FileDigest& local, const std::string& object_name) const {
  UploadResult result;
  result.object_url = destination_.url_for(object_name);
  result.bytes = local.size;
  result.md5_hex = local.md5_hex();
  return result;
}

}  // namespace mtastream::upload
