// OAuth2 access tokens for GCS from a service-account key file (JWT signed RS256, exchanged at the
// key's token_uri), cached until shortly before they expire.
#pragma once
#include <chrono>
#include <mutex>
#include <string>

#include "upload/http_client.h"

namespace mtastream::upload {

struct ServiceAccountKey {
  std::string client_email;
  std::string private_key_pem;  // never printed
  std::string private_key_id;
  std::string token_uri;        // "https://oauth2.googleapis.com/token" unless the file says otherwise
  std::string source;           // the key file's path (for messages)
};

// Reads GOOGLE_APPLICATION_CREDENTIALS' JSON; throws UsageError naming the file and the missing field.
ServiceAccountKey read_service_account_key(const std::string& path);

// "header.claims.signature" for the token request; `now` in seconds since the epoch.
std::string make_service_account_jwt(const ServiceAccountKey& key, const std::string& scope, long long now);

class GcsTokenSource {
 public:
  explicit GcsTokenSource(ServiceAccountKey key, double connect_timeout_seconds, double request_timeout_seconds);
  // A valid bearer token; fetches a new one when none or near expiry. Throws TransientError when the
  // token endpoint cannot be reached or answers 5xx, Error when it refuses the key.
  std::string token();
  // Forgets the cached token (after the store answered 401).
  void invalidate();

 private:
  ServiceAccountKey key_;
  HttpClient client_;
  std::mutex mutex_;
  std::string token_;
  std::chrono::steady_clock::time_point expires_{};
};

}  // namespace mtastream::upload
