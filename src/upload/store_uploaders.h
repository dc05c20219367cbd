// The concrete uploaders behind Uploader::create(), and what they share (the retry loop, endpoints).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "upload/sigv4.h"
#include "upload/uploader.h"

namespace mtastream::upload {

// An endpoint URL split into what requests and signatures need.
struct HttpEndpoint {
  std::string scheme;     // "http" or "https"
  std::string authority;  // "host" or "host:port", exactly as the Host header carries it
  std::string base_path;  // "" or "/some/base" (no trailing '/')
  std::string url() const { return scheme + "://" + authority + base_path; }
};
// Accepts "http://host:port[/base]", "https://host", or a bare "host:port" (taken as http, as
// STORAGE_EMULATOR_HOST is written). Throws UsageError naming `what`.
HttpEndpoint parse_endpoint(const std::string& text, const std::string& what);

// Runs `attempt` until it returns without TransientError or attempts run out; reports each retry
// through options.on_retry. Returns the number of attempts made. The last TransientError becomes an
// Error naming `object_url`.
int run_with_retries(const UploadOptions& options, const std::string& object_url, const std::function<void()>& attempt);

// One page of an object-store listing: fetches the keys under `prefix` from `token` on ("" first), appends
// them to `keys` and returns the next page's token ("" after the last page).
using ListPage = std::function<std::string(const std::string& prefix, const std::string& token, std::vector<std::string>& keys)>;
// The names directly under `folder` (no deeper keys), page after page, each page retried as a whole.
std::vector<std::string> list_folder_pages(const UploadDestination& destination, const UploadOptions& options,
                                           const std::string& folder, const ListPage& page);

// What an S3-protocol store needs besides the destination.
struct S3StoreConfig {
  HttpEndpoint endpoint;
  bool path_style = true;
  std::string region;
  std::string service = "s3";
  AwsCredentials credentials;
  std::string store_name = "S3";  // "S3" or "GCS (XML API)", for messages
};

// Where an S3 request for `key` goes: the URL, the Host header and the canonical URI that SigV4 signs.
struct S3ObjectLocation {
  std::string url;
  std::string host;
  std::string canonical_uri;
};
S3ObjectLocation s3_object_location(const HttpEndpoint& endpoint, bool path_style, const std::string& bucket,
                                    const std::string& key);

std::unique_ptr<Uploader> make_file_uploader(UploadDestination destination, const UploadOptions& options);
std::unique_ptr<Uploader> make_s3_uploader(UploadDestination destination, S3StoreConfig config,
                                           const UploadOptions& options);
// GCS JSON API; `credentials_file` is a service-account key (empty: anonymous, for emulators).
std::unique_ptr<Uploader> make_gcs_json_uploader(UploadDestination destination, HttpEndpoint endpoint,
                                                 const std::string& credentials_file, const UploadOptions& options);

}  // namespace mtastream::upload
