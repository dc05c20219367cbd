// GCS JSON API: look the object up to skip identical ones, then one multipart upload whose metadata carries
// the MD5 and CRC32C, so GCS rejects a damaged body; the returned md5Hash and crc32c are compared with the
// local file. A single-request upload becomes visible only when complete.
#include <atomic>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "base/encoding.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "upload/checksum.h"
#include "upload/gcs_auth.h"
#include "upload/http_client.h"
#include "upload/retry.h"
#include "upload/store_uploaders.h"

namespace mtastream::upload {
namespace {

struct StoredObject {
  std::uint64_t size = 0;
  std::string md5_base64;
  std::string crc32c_base64;
};

std::string json_string(simdjson::dom::element object, const char* name) {
  std::string_view value;
  if (object[name].get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

// GCS refuses a body that does not match the MD5/CRC32C we declared with a 400 naming the hash: the body
// was damaged on the way, so sending it again is the cure.
bool is_checksum_mismatch(const std::string& message) {
  std::string lower = message;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool mismatch = lower.find("doesn't match") != std::string::npos || lower.find("does not match") != std::string::npos ||
                  lower.find("mismatch") != std::string::npos;
  return mismatch && (lower.find("md5") != std::string::npos || lower.find("crc32c") != std::string::npos);
}

class GcsJsonUploader : public Uploader {
 public:
  GcsJsonUploader(UploadDestination destination, HttpEndpoint endpoint, const std::string& credentials_file,
                  const UploadOptions& options)
      : Uploader(std::move(destination)),
        endpoint_(std::move(endpoint)),
        options_(options),
        pool_(options.connect_timeout_seconds, options.request_timeout_seconds) {
    if (!credentials_file.empty())
      tokens_ = std::make_unique<GcsTokenSource>(read_service_account_key(credentials_file),
                                                 options.connect_timeout_seconds, options.request_timeout_seconds);
  }

  UploadResult upload(const std::string& local_path, const std::string& object_name) override {
    FileDigest local = digest_file(local_path);
    std::string key = destination_.key_for(object_name);
    UploadResult result = result_for(local, object_name);
    bool sent = false;
    result.attempts = run_with_retries(options_, result.object_url, [&] {
      if (auto stored = lookup(key, result.object_url); stored && same_content(*stored, local)) {
        result.outcome = sent ? UploadOutcome::uploaded : UploadOutcome::skipped;
        return;
      }
      sent = true;
      StoredObject stored = send(key, local_path, local, result.object_url);
      if (!same_content(stored, local))
        throw TransientError(fmt::format("stored object (md5 {}, crc32c {}, {} bytes) differs from the local file "
                                         "(md5 {}, crc32c {}, {} bytes)", stored.md5_base64, stored.crc32c_base64,
                                         stored.size, local.md5_base64(), local.crc32c_base64(), local.size));
      result.outcome = UploadOutcome::uploaded;
    });
    return result;
  }

  void put_object(const std::string& object_name, const std::string& bytes) override {
    const std::string key = destination_.key_for(object_name), object_url = destination_.url_for(object_name);
    const std::string md5 = base64_encode(md5_of(bytes));
    run_with_retries(options_, object_url, [&] {
      HttpRequest request = multipart_upload(key, md5, "application/octet-stream");
      request.body_prefix += bytes;
      request.body_suffix = "\r\n--" + boundary_of(md5) + "--\r\n";
      authorize(request);
      HttpResponse response = pool_.lease()->perform(request);
      if (response.status != 200) fail(response, "upload", object_url, key);
      if (parse_object(response, object_url).md5_base64 != md5)
        throw TransientError(fmt::format("stored object {} differs from what was sent", object_url));
    });
  }

  std::optional<std::string> get_object(const std::string& object_name) override {
    const std::string key = destination_.key_for(object_name), object_url = destination_.url_for(object_name);
    std::optional<std::string> body;
    run_with_retries(options_, object_url, [&] {
      HttpRequest request;
      request.url = object_api_url(key) + "?alt=media";
      authorize(request);
      HttpResponse response = pool_.lease()->perform(request);
      if (response.status == 404) {
        body.reset();
        return;
      }
      if (response.status != 200) fail(response, "download", object_url, key);
      body = std::move(response.body);
    });
    return body;
  }

  std::vector<std::string> list_objects(const std::string& folder) override {
    return list_folder_pages(destination_, options_, folder, [&](const std::string& prefix, const std::string& token,
                                                                 std::vector<std::string>& keys) {
      HttpRequest request;
      request.url = fmt::format("{}/storage/v1/b/{}/o?delimiter=%2F&prefix={}{}", endpoint_.url(),
                                uri_encode(destination_.bucket, false), uri_encode(prefix, false),
                                token.empty() ? "" : "&pageToken=" + uri_encode(token, false));
      authorize(request);
      HttpResponse response = pool_.lease()->perform(request);
      if (response.status != 200) fail(response, "list", destination_.url_for(folder) + "/", prefix);
      simdjson::dom::parser parser;
      simdjson::dom::element document;
      if (parser.parse(response.body).get(document) != simdjson::SUCCESS || !document.is_object())
        throw TransientError(fmt::format("unreadable object list from GCS for {}/", destination_.url_for(folder)));
      simdjson::dom::array items;
      if (document["items"].get(items) == simdjson::SUCCESS)
        for (simdjson::dom::element item : items) keys.push_back(json_string(item, "name"));
      return json_string(document, "nextPageToken");
    });
  }


  void delete_object(const std::string& object_name) override {
    const std::string key = destination_.key_for(object_name), object_url = destination_.url_for(object_name);
    run_with_retries(options_, object_url, [&] {
      HttpRequest request;
      request.method = "DELETE";
      request.url = object_api_url(key);
      authorize(request);
      HttpResponse response = pool_.lease()->perform(request);
      if (response.status != 204 && response.status != 200 && response.status != 404)
        fail(response, "delete", object_url, key);
    });
  }

 private:
  std::string object_api_url(const std::string& key) const {
    return fmt::format("{}/storage/v1/b/{}/o/{}", endpoint_.url(), uri_encode(destination_.bucket, false),
                       uri_encode(key, false));
  }
  static std::string boundary_of(const std::string& md5_base64) {
    std::string boundary = "mtastream-";
    for (char c : md5_base64)
      if (std::isalnum(static_cast<unsigned char>(c))) boundary += c;
    return boundary;
  }
  // A single-request multipart upload up to the media part's first byte; the caller appends the bytes
  // and the closing boundary.
  HttpRequest multipart_upload(const std::string& key, const std::string& md5_base64, const std::string& content_type,
                               const std::string& crc32c_base64 = "") {
    const std::string boundary = boundary_of(md5_base64);
    JsonWriter json;
    json.begin_object().field("name", key).field("contentType", content_type).field("md5Hash", md5_base64);
    if (!crc32c_base64.empty()) json.field("crc32c", crc32c_base64);
    const std::string& metadata = json.end_object().str();
    HttpRequest request;
    request.method = "POST";
    request.url = fmt::format("{}/upload/storage/v1/b/{}/o?uploadType=multipart", endpoint_.url(),
                              uri_encode(destination_.bucket, false));
    request.headers.emplace_back("Content-Type", "multipart/related; boundary=" + boundary);
    request.body_prefix = "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + metadata +
                          "\r\n--" + boundary + "\r\nContent-Type: " + content_type + "\r\n\r\n";
    return request;
  }

  // Every checksum the store reports must match, and at least one must be there.
  static bool same_content(const StoredObject& stored, const FileDigest& local) {
    if (stored.size != local.size) return false;
    if (stored.md5_base64.empty() && stored.crc32c_base64.empty()) return false;
    if (!stored.md5_base64.empty() && stored.md5_base64 != local.md5_base64()) return false;
    if (!stored.crc32c_base64.empty() && stored.crc32c_base64 != local.crc32c_base64()) return false;
    return true;
  }

  void authorize(HttpRequest& request) {
    if (tokens_) request.headers.emplace_back("Authorization", "Bearer " + tokens_->token());
  }

  [[noreturn]] void fail(const HttpResponse& response, const std::string& operation, const std::string& object_url,
                         const std::string& key) {
    std::string message;
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(response.body).get(document) == simdjson::SUCCESS && document.is_object()) {
      simdjson::dom::element error;
      if (document["error"].get(error) == simdjson::SUCCESS) message = json_string(error, "message");
    } else if (response.body.size() < 300) {
      message = response.body;
      while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
    }
    std::string reason = fmt::format("HTTP {}{}", response.status, message.empty() ? "" : ": " + message);
    if (response.status == 401 && tokens_) {
      tokens_->invalidate();
      if (!retried_unauthorized_.exchange(true)) throw TransientError(operation + " " + reason);
    }
    if (is_retryable_status(response.status) || (response.status == 400 && is_checksum_mismatch(message)))
      throw TransientError(operation + " " + reason);
    std::string hint;
    if (response.status == 401 || response.status == 403)
      hint = tokens_ ? "; check the service account's rights (GOOGLE_APPLICATION_CREDENTIALS)"
                     : "; no credentials were sent: set GOOGLE_APPLICATION_CREDENTIALS";
    else if (response.status == 404)
      hint = "; does the bucket exist?";
    throw Error(fmt::format("{}: {} refused by GCS at {} (bucket '{}', object '{}'): {}{}", object_url, operation,
                            endpoint_.url(), destination_.bucket, key, reason, hint));
  }

  StoredObject parse_object(const HttpResponse& response, const std::string& object_url) {
    simdjson::dom::parser parser;
    simdjson::dom::element document;
    if (parser.parse(response.body).get(document) != simdjson::SUCCESS || !document.is_object())
      throw TransientError(fmt::format("unreadable object metadata from GCS for {}", object_url));
    StoredObject stored;
    stored.md5_base64 = json_string(document, "md5Hash");
    stored.crc32c_base64 = json_string(document, "crc32c");
    std::string size = json_string(document, "size");
    stored.size = size.empty() ? 0 : std::stoull(size);
    return stored;
  }

  std::optional<StoredObject> lookup(const std::string& key, const std::string& object_url) {
    HttpRequest request;
    request.url = object_api_url(key);
    authorize(request);
    HttpResponse response = pool_.lease()->perform(request);
    if (response.status == 404) return std::nullopt;  // a missing bucket shows at the upload
    if (response.status != 200) fail(response, "lookup", object_url, key);
    return parse_object(response, object_url);
  }

  StoredObject send(const std::string& key, const std::string& local_path, const FileDigest& local,
                    const std::string& object_url) {
    std::string content_type = key.ends_with(".gz") ? "application/gzip" : "application/octet-stream";
    HttpRequest request = multipart_upload(key, local.md5_base64(), content_type, local.crc32c_base64());
    request.body_file = local_path;
    request.body_file_size = local.size;
    request.body_suffix = "\r\n--" + boundary_of(local.md5_base64()) + "--\r\n";
    authorize(request);
    HttpResponse response = pool_.lease()->perform(request);
    if (response.status != 200) fail(response, "upload", object_url, key);
    return parse_object(response, object_url);
  }

  HttpEndpoint endpoint_;
  UploadOptions options_;
  HttpClientPool pool_;
  std::unique_ptr<GcsTokenSource> tokens_;
  std::atomic<bool> retried_unauthorized_{false};
};

}  // namespace

std::unique_ptr<Uploader> make_gcs_json_uploader(UploadDestination destination, HttpEndpoint endpoint,
                                                 const std::string& credentials_file, const UploadOptions& options) {
  return std::make_unique<GcsJsonUploader>(std::move(destination), std::move(endpoint), credentials_file, options);
}

}  // namespace mtastream::upload
