#include "upload/sigv4.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "base/civil_time.h"
#include "upload/checksum.h"

namespace mtastream::upload {
namespace {

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses inner runs of spaces, as the canonical header value requires.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> sorted_headers(const SigV4Request& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) headers.emplace_back(lowercase(name), canonical_header_value(value));
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Repeated names are joined with commas, in order.
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& header : headers) {
    if (!merged.empty() && merged.back().first == header.first) merged.back().second.append(",").append(header.second);
    else merged.push_back(std::move(header));
  }
  return merged;
}

std::string signed_header_names(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string names;
  for (const auto& header : headers) {
    if (!names.empty()) names += ';';
    names += header.first;
  }
  return names;
}

std::string as_string(const std::array<unsigned char, 32>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string credential_scope(const SigV4Scope& scope) {
  return fmt::format("{}/{}/{}/aws4_request", scope.amz_date.substr(0, 8), scope.region, scope.service);
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += digits[byte >> 4];
      out += digits[byte & 15];
    }
  }
  return out;
}

std::string sigv4_canonical_request(const SigV4Request& request) {
  auto headers = sorted_headers(request);
  std::string canonical = fmt::format("{}\n{}\n{}\n", request.method, request.canonical_uri, request.canonical_query);
  for (const auto& [name, value] : headers) fmt::format_to(std::back_inserter(canonical), "{}:{}\n", name, value);
  fmt::format_to(std::back_inserter(canonical), "\n{}\n{}", signed_header_names(headers), request.payload_sha256_hex);
  return canonical;
}

std::string sigv4_string_to_sign(const SigV4Request& request, const SigV4Scope& scope) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", scope.amz_date, credential_scope(scope),
                     sha256_hex(sigv4_canonical_request(request)));
}

std::string sigv4_signature(const SigV4Request& request, const SigV4Scope& scope, std::string_view secret_access_key) {
  std::string key = as_string(hmac_sha256(fmt::format("AWS4{}", secret_access_key), scope.amz_date.substr(0, 8)));
  key = as_string(hmac_sha256(key, scope.region));
  key = as_string(hmac_sha256(key, scope.service));
  key = as_string(hmac_sha256(key, "aws4_request"));
  return hex_encode(hmac_sha256(key, sigv4_string_to_sign(request, scope)));
}

std::string sigv4_authorization(const SigV4Request& request, const SigV4Scope& scope, const AwsCredentials& credentials) {
  return fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}", credentials.access_key_id,
                     credential_scope(scope), signed_header_names(sorted_headers(request)),
                     sigv4_signature(request, scope, credentials.secret_access_key));
}

std::string amz_date_now() {
  const civil::DateTime t = civil::from_seconds(std::time(nullptr));
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}Z", t.year, t.month, t.day, t.hour, t.minute, t.second);
}

}  // namespace mtastream::upload
