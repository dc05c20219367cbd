// S3 and S3-compatible stores (and GCS's XML API with HMAC keys): HEAD to skip identical objects, then one
// PUT signed with SigV4 carrying Content-MD5, so the store itself rejects a damaged body; the ETag (or our
// MD5 metadata) of what was stored is compared with the local file.
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/encoding.h"
#include "base/error.h"
#include "upload/checksum.h"
#include "upload/http_client.h"
#include "upload/retry.h"
#include "upload/store_uploaders.h"

namespace mtastream::upload {
namespace {

constexpr std::uint64_t max_single_put_bytes = 5ull * 1024 * 1024 * 1024;  // S3's limit for one PUT
constexpr const char* md5_metadata_header = "x-amz-meta-mtastream-md5";

std::string xml_element(const std::string& body, const std::string& name) {
  auto start = body.find("<" + name + ">");
  if (start == std::string::npos) return "";
  start += name.size() + 2;
  auto end = body.find("</" + name + ">", start);
  return end == std::string::npos ? "" : body.substr(start, end - start);
}

// Every <name>...</name> in order (ListObjectsV2's <Key>s), XML entities decoded.
std::vector<std::string> xml_elements(const std::string& body, const std::string& name) {
  std::vector<std::string> out;
  const std::string open = "<" + name + ">", close = "</" + name + ">";
  for (size_t at = body.find(open); at != std::string::npos; at = body.find(open, at)) {
    at += open.size();
    size_t end = body.find(close, at);
    if (end == std::string::npos) break;
    std::string text;
    for (size_t i = at; i < end; ++i) {
      if (body[i] != '&') {
        text += body[i];
        continue;
      }
      size_t semi = body.find(';', i);
      std::string_view entity = std::string_view(body).substr(i + 1, semi == std::string::npos ? 0 : semi - i - 1);
      char c = entity == "amp" ? '&' : entity == "lt" ? '<' : entity == "gt" ? '>' : entity == "quot" ? '"'
             : entity == "apos" ? '\'' : 0;
      if (c == 0) {
        text += body[i];
        continue;
      }
      text += c;
      i = semi;
    }
    out.push_back(std::move(text));
    at = end + close.size();
  }
  return out;
}

std::string unquote(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  return text;
}

bool is_md5_hex(const std::string& text) {
  if (text.size() != 32) return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

double retry_after(const HttpResponse& response) {
  std::string value = response.header("retry-after");
  if (value.empty() || !std::isdigit(static_cast<unsigned char>(value[0]))) return 0;
  return std::stod(value);
}

std::string http_status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

struct StoredObject {
  std::uint64_t size = 0;
  std::string etag;        // unquoted
  std::string stored_md5;  // our metadata, when present
};

class S3Uploader : public Uploader {
 public:
  S3Uploader(UploadDestination destination, S3StoreConfig config, const UploadOptions& options)
      : Uploader(std::move(destination)),
        config_(std::move(config)),
        options_(options),
        pool_(options.connect_timeout_seconds, options.request_timeout_seconds) {}

  UploadResult upload(const std::string& local_path, const std::string& object_name) override {
    FileDigest local = digest_file(local_path);
    std::string key = destination_.key_for(object_name);
    UploadResult result = result_for(local, object_name);
    if (local.size > max_single_put_bytes)
      throw Error(fmt::format("{}: {} is {} bytes, over the 5 GiB a single verified PUT can carry", result.object_url,
                              local_path, local.size));
    bool sent = false;
    result.attempts = run_with_retries(options_, result.object_url, [&] {
      // Looked up on every attempt: a PUT whose answer was lost may well have landed.
      if (auto stored = head(key, result.object_url); stored && same_content(*stored, local)) {
        result.outcome = sent ? UploadOutcome::uploaded : UploadOutcome::skipped;
        return;
      }
      sent = true;
      put(key, local_path, local, result.object_url);
      result.outcome = UploadOutcome::uploaded;
    });
    return result;
  }

  void put_object(const std::string& object_name, const std::string& bytes) override {
    const std::string key = destination_.key_for(object_name), object_url = destination_.url_for(object_name);
    const auto md5 = md5_of(bytes);
    run_with_retries(options_, object_url, [&] {
      Target target = target_for(key);
      HttpRequest request;
      request.method = "PUT";
      request.url = target.url;
      request.body_prefix = bytes;
      request.headers.emplace_back("Content-MD5", base64_encode(md5));
      request.headers.emplace_back("Content-Type", "application/octet-stream");
      request.headers.emplace_back("Content-Length", std::to_string(bytes.size()));
      sign(request, target, sha256_hex(bytes));
      HttpResponse response = pool_.lease()->perform(request);
      if (response.status != 200) fail(response, "PUT", object_url, key);
    });
  }

  std::optional<std::string> get_object(const std::string& object_name) override {
    const std::string key = destination_.key_for(object_name), object_url = destination_.url_for(object_name);
    std::optional<std::string> body;
    run_with_retries(options_, object_url, [&] {
      HttpResponse response = send_bodiless("GET", key);
      if (response.status == 404) {
        body.reset();
        return;
      }
      if (response.status != 200) fail(response, "GET", object_url, key);
      std::string etag = unquote(response.header("etag"));
      if (is_md5_hex(etag) && etag != hex_encode(md5_of(response.body)))
        throw TransientError(fmt::format("GET {}: body differs from its ETag", object_url));
      body = std::move(response.body);
    });
    return body;
  }

  std::vector<std::string> list_objects(const std::string& folder) override {
    return list_folder_pages(destination_, options_, folder, [&](const std::string& prefix, const std::string& token,
                                                                 std::vector<std::string>& keys) {
      Target target = target_for("");
      // SigV4 signs the query sorted by name, each value URI-encoded ('/' too).
      std::string query;
      if (!token.empty()) query = "continuation-token=" + uri_encode(token, false) + "&";
      query += "delimiter=%2F&list-type=2&prefix=" + uri_encode(prefix, false);
      HttpRequest request;
      request.url = target.url + "?" + query;
      sign(request, target, sha256_hex(""), query);
      HttpResponse response = pool_.lease()->perform(request);
      if (response.status != 200) fail(response, "LIST", destination_.url_for(folder) + "/", prefix);
      keys = xml_elements(response.body, "Key");
      return xml_element(response.body, "IsTruncated") == "true" ? xml_element(response.body, "NextContinuationToken")
                                                                 : std::string();
    });
  }


  void delete_object(const std::string& object_name) override {
    const std::string key = destination_.key_for(object_name), object_url = destination_.url_for(object_name);
    run_with_retries(options_, object_url, [&] {
      HttpResponse response = send_bodiless("DELETE", key);
      if (response.status != 204 && response.status != 200 && response.status != 404)
        fail(response, "DELETE", object_url, key);
    });
  }

 private:
  static bool same_content(const StoredObject& stored, const FileDigest& local) {
    if (stored.size != local.size) return false;
    if (!stored.stored_md5.empty()) return stored.stored_md5 == local.md5_hex();
    return is_md5_hex(stored.etag) && stored.etag == local.md5_hex();
  }

  using Target = S3ObjectLocation;
  Target target_for(const std::string& key) const {
    return s3_object_location(config_.endpoint, config_.path_style, destination_.bucket, key);
  }

  // Adds x-amz-date, the session token and the Authorization header over every header in `request`.
  void sign(HttpRequest& request, const Target& target, const std::string& payload_sha256,
            const std::string& canonical_query = "") const {
    std::string date = amz_date_now();
    request.headers.emplace_back("Host", target.host);
    request.headers.emplace_back("x-amz-date", date);
    request.headers.emplace_back("x-amz-content-sha256", payload_sha256);
    if (!config_.credentials.session_token.empty())
      request.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
    SigV4Request signing{request.method, target.canonical_uri, canonical_query, request.headers, payload_sha256};
    request.headers.emplace_back(
        "Authorization", sigv4_authorization(signing, SigV4Scope{config_.region, config_.service, date}, config_.credentials));
  }

  [[noreturn]] void fail(const HttpResponse& response, const std::string& operation, const std::string& object_url,
                         const std::string& key) const {
    std::string code = xml_element(response.body, "Code");
    std::string message = xml_element(response.body, "Message");
    while (!message.empty() && (message.back() == '.' || message.back() == ' ')) message.pop_back();
    if (code.empty()) code = http_status_text(response.status);  // HEAD answers carry no body
    std::string reason = fmt::format("HTTP {}{}{}", response.status, code.empty() ? "" : " " + code,
                                     message.empty() ? "" : ": " + message);
    if (is_retryable_status(response.status) || is_retryable_error_code(code))
      throw TransientError(operation + " " + reason, retry_after(response));
    std::string hint;
    if (code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" || code == "InvalidClientTokenId" ||
        code == "ExpiredToken" || code == "InvalidToken" || response.status == 401)
      hint = fmt::format("; check the credentials from {}", config_.credentials.source);
    else if (code == "NoSuchBucket")
      hint = "; does the bucket exist in this region/endpoint?";
    else if (code == "AccessDenied" || response.status == 403)
      hint = fmt::format("; does the key from {} may write to this bucket?", config_.credentials.source);
    throw Error(fmt::format("{}: {} refused by {} at {} (bucket '{}', key '{}'): {}{}", object_url, operation,
                            config_.store_name, config_.endpoint.url(), destination_.bucket, key, reason, hint));
  }

  // A signed request without a body (GET, HEAD, DELETE) for `key`.
  HttpResponse send_bodiless(const char* method, const std::string& key) {
    Target target = target_for(key);
    HttpRequest request;
    request.method = method;
    request.url = target.url;
    sign(request, target, sha256_hex(""));
    return pool_.lease()->perform(request);
  }

  std::optional<StoredObject> head(const std::string& key, const std::string& object_url) {
    HttpResponse response = send_bodiless("HEAD", key);
    if (response.status == 404) return std::nullopt;
    // Without list rights a missing key answers 403: go on and let the PUT say what is wrong.
    if (response.status == 403) return std::nullopt;
    if (response.status != 200) fail(response, "HEAD", object_url, key);
    StoredObject stored;
    stored.etag = unquote(response.header("etag"));
    stored.stored_md5 = response.header(md5_metadata_header);
    std::string length = response.header("content-length");
    stored.size = length.empty() ? 0 : std::stoull(length);
    return stored;
  }

  void put(const std::string& key, const std::string& local_path, const FileDigest& local, const std::string& object_url) {
    Target target = target_for(key);
    HttpRequest request;
    request.method = "PUT";
    request.url = target.url;
    request.body_file = local_path;
    request.body_file_size = local.size;
    request.headers.emplace_back("Content-MD5", local.md5_base64());
    request.headers.emplace_back("Content-Type", key.ends_with(".gz") ? "application/gzip" : "application/octet-stream");
    request.headers.emplace_back("Content-Length", std::to_string(local.size));
    request.headers.emplace_back(md5_metadata_header, local.md5_hex());
    sign(request, target, local.sha256_hex());
    HttpResponse response = pool_.lease()->perform(request);
    if (response.status != 200) fail(response, "PUT", object_url, key);
    std::string etag = unquote(response.header("etag"));
    if (is_md5_hex(etag) && etag != local.md5_hex())
      throw TransientError(fmt::format("stored object's ETag {} differs from the local MD5 {}", etag, local.md5_hex()));
    if (!is_md5_hex(etag)) {
      // Encrypted with KMS or similar: the ETag is no MD5, so read back our metadata and the size.
      auto stored = head(key, object_url);
      if (!stored || !same_content(*stored, local))
        throw TransientError("stored object does not match the local file after PUT");
    }
  }

  S3StoreConfig config_;
  UploadOptions options_;
  HttpClientPool pool_;
};

}  // namespace

S3ObjectLocation s3_object_location(const HttpEndpoint& endpoint, bool path_style, const std::string& bucket,
                                    const std::string& key) {
  S3ObjectLocation location;
  std::string encoded_key = uri_encode(key, true);
  if (path_style) {
    location.host = endpoint.authority;
    location.canonical_uri = endpoint.base_path + "/" + uri_encode(bucket, false) + "/" + encoded_key;
  } else {
    location.host = bucket + "." + endpoint.authority;
    location.canonical_uri = endpoint.base_path + "/" + encoded_key;
  }
  location.url = endpoint.scheme + "://" + location.host + location.canonical_uri;
  return location;
}

std::unique_ptr<Uploader> make_s3_uploader(UploadDestination destination, S3StoreConfig config,
                                           const UploadOptions& options) {
  return std::make_unique<S3Uploader>(std::move(destination), std::move(config), options);
}

}  // namespace mtastream::upload
