// A small HTTP client over libcurl for the object stores: one request at a time per client, a pool of
// clients per uploader; transport failures become TransientError so the caller can retry them.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mtastream::upload {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  // The body, sent in this order: prefix, then the file's bytes (when body_file is set), then suffix.
  std::string body_prefix;
  std::string body_file;
  std::uint64_t body_file_size = 0;
  std::string body_suffix;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  std::string body;
  std::string header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  HttpClient(double connect_timeout_seconds, double request_timeout_seconds);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and returns whatever status came back. Throws TransientError when no answer came
  // (refused, reset, timeout), Error when the request cannot work at all (bad URL, unreadable body file).
  HttpResponse perform(const HttpRequest& request);

 private:
  void* handle_;  // CURL*
  long connect_timeout_ms_;
  long request_timeout_ms_;
};

// Idle clients kept for reuse (keeps connections alive between objects); lease() from any thread.
class HttpClientPool {
 public:
  HttpClientPool(double connect_timeout_seconds, double request_timeout_seconds)
      : connect_timeout_(connect_timeout_seconds), request_timeout_(request_timeout_seconds) {}

  class Lease {
   public:
    Lease(HttpClientPool& pool, std::unique_ptr<HttpClient> client) : pool_(pool), client_(std::move(client)) {}
    ~Lease() { pool_.give_back(std::move(client_)); }
    HttpClient& operator*() { return *client_; }
    HttpClient* operator->() { return client_.get(); }

   private:
    HttpClientPool& pool_;
    std::unique_ptr<HttpClient> client_;
  };

  Lease lease();

 private:
  void give_back(std::unique_ptr<HttpClient> client);
  double connect_timeout_, request_timeout_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
};

// Percent-encodes a query parameter value or form field.
std::string url_encode_component(const std::string& text);

}  // namespace mtastream::upload
