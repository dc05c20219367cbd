// AWS Signature Version 4 (header form) for S3 and GCS's S3-interoperable XML API.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mtastream::upload {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;  // never printed
  std::string session_token;      // temporary credentials only
  std::string source;             // "environment", "~/.aws/credentials [default]" (for messages)
};

struct SigV4Request {
  std::string method;             // "PUT"
  std::string canonical_uri;      // already URI-encoded path, e.g. "/bucket/dir/file.csv.gz"
  std::string canonical_query;    // already sorted and encoded ("" when none)
  std::vector<std::pair<std::string, std::string>> headers;  // every header to sign, host included
  std::string payload_sha256_hex; // or "UNSIGNED-PAYLOAD"
};

struct SigV4Scope {
  std::string region;    // "us-east-1" ("auto" for GCS)
  std::string service;   // "s3"
  std::string amz_date;  // "20130524T000000Z" (the X-Amz-Date header's value)
};

// The pieces, exposed for the unit tests against AWS's published examples.
std::string sigv4_canonical_request(const SigV4Request& request);
std::string sigv4_string_to_sign(const SigV4Request& request, const SigV4Scope& scope);
std::string sigv4_signature(const SigV4Request& request, const SigV4Scope& scope, std::string_view secret_access_key);

// The Authorization header value: "AWS4-HMAC-SHA256 Credential=.../scope, SignedHeaders=..., Signature=...".
std::string sigv4_authorization(const SigV4Request& request, const SigV4Scope& scope, const AwsCredentials& credentials);

// RFC 3986 percent-encoding as SigV4 wants it (unreserved kept; '/' kept when `keep_slash`).
std::string uri_encode(std::string_view text, bool keep_slash);

// "20130524T000000Z" for the current UTC time.
std::string amz_date_now();

}  // namespace mtastream::upload
