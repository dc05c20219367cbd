#include "upload/gcs_auth.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <simdjson.h>

#include "base/encoding.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "upload/checksum.h"
#include "upload/retry.h"
#include "upload/store_uploaders.h"

namespace mtastream::upload {
namespace {

std::string field(simdjson::dom::element object, const char* name) {
  std::string_view value;
  if (object[name].get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

std::string rs256_sign(const std::string& pem, const std::string& data, const std::string& source) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!key) throw UsageError(fmt::format("{}: private_key is not a PEM private key", source));
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  std::string signature;
  std::size_t length = 0;
  bool ok = context && EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSignUpdate(context, data.data(), data.size()) == 1 &&
            EVP_DigestSignFinal(context, nullptr, &length) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSignFinal(context, reinterpret_cast<unsigned char*>(signature.data()), &length) == 1;
    signature.resize(length);
  }
  EVP_MD_CTX_free(context);
  EVP_PKEY_free(key);
  if (!ok) throw Error(fmt::format("{}: signing the token request with the private key failed", source));
  return signature;
}

}  // namespace

ServiceAccountKey read_service_account_key(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("GOOGLE_APPLICATION_CREDENTIALS: cannot read '{}'", path));
  std::stringstream text;
  text << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(text.str()).get(document) != simdjson::SUCCESS || !document.is_object())
    throw UsageError(fmt::format("GOOGLE_APPLICATION_CREDENTIALS '{}' is not a JSON object", path));
  ServiceAccountKey key;
  key.source = path;
  std::string type = field(document, "type");
  if (type != "service_account")
    throw UsageError(fmt::format("GOOGLE_APPLICATION_CREDENTIALS '{}': type is '{}', only 'service_account' keys "
                                 "are supported (or use HMAC keys: GCS_HMAC_ACCESS_KEY_ID, GCS_HMAC_SECRET)", path, type));
  key.client_email = field(document, "client_email");
  key.private_key_pem = field(document, "private_key");
  key.private_key_id = field(document, "private_key_id");
  key.token_uri = field(document, "token_uri");
  if (key.token_uri.empty()) key.token_uri = "https://oauth2.googleapis.com/token";
  if (key.client_email.empty()) throw UsageError(fmt::format("{}: no client_email", path));
  if (key.private_key_pem.empty()) throw UsageError(fmt::format("{}: no private_key", path));
  return key;
}

std::string make_service_account_jwt(const ServiceAccountKey& key, const std::string& scope, long long now) {
  JsonWriter header;
  header.begin_object().field("alg", "RS256").field("typ", "JWT");
  if (!key.private_key_id.empty()) header.field("kid", key.private_key_id);
  header.end_object();
  JsonWriter claims;
  claims.begin_object().field("iss", key.client_email).field("scope", scope).field("aud", key.token_uri);
  claims.field("iat", int64_t{now}).field("exp", int64_t{now + 3600}).end_object();
  std::string signing_input = base64url_encode(header.str()) + "." + base64url_encode(claims.str());
  return signing_input + "." + base64url_encode(rs256_sign(key.private_key_pem, signing_input, key.source));
}

GcsTokenSource::GcsTokenSource(ServiceAccountKey key, double connect_timeout_seconds, double request_timeout_seconds)
    : key_(std::move(key)), client_(connect_timeout_seconds, request_timeout_seconds) {
  // Fail early on an unusable key: sign once now.
  make_service_account_jwt(key_, "https://www.googleapis.com/auth/devstorage.read_write", std::time(nullptr));
}

void GcsTokenSource::invalidate() {
  std::lock_guard lock(mutex_);
  token_.clear();
}

std::string GcsTokenSource::token() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now + std::chrono::minutes(5) < expires_) return token_;
  std::string jwt = make_service_account_jwt(key_, "https://www.googleapis.com/auth/devstorage.read_write",
                                             std::time(nullptr));
  HttpRequest request;
  request.method = "POST";
  request.url = key_.token_uri;
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.body_prefix = "grant_type=" + url_encode_component("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                        "&assertion=" + url_encode_component(jwt);
  HttpResponse response;
  try {
    response = client_.perform(request);
  } catch (const TransientError& e) {
    throw TransientError(fmt::format("token request to {} failed: {}", key_.token_uri, e.what()));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  bool parsed = parser.parse(response.body).get(document) == simdjson::SUCCESS && document.is_object();
  if (response.status != 200) {
    std::string reason = parsed ? field(document, "error") : "";
    std::string description = parsed ? field(document, "error_description") : "";
    std::string message = fmt::format("token request to {} for {} (key file {}) answered HTTP {}{}{}", key_.token_uri,
                                      key_.client_email, key_.source, response.status,
                                      reason.empty() ? "" : " " + reason, description.empty() ? "" : ": " + description);
    if (is_retryable_status(response.status)) throw TransientError(message);
    throw Error(message);
  }
  std::string token = parsed ? field(document, "access_token") : "";
  if (token.empty()) throw Error(fmt::format("token response from {} has no access_token", key_.token_uri));
  std::int64_t expires_in = 3600;
  if (parsed) {
    std::int64_t value;
    if (document["expires_in"].get(value) == simdjson::SUCCESS) expires_in = value;
  }
  token_ = token;
  expires_ = now + std::chrono::seconds(expires_in);
  return token_;
}

}  // namespace mtastream::upload
