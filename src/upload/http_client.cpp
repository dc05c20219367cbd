#include "upload/http_client.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "base/error.h"
#include "upload/retry.h"
#include "upload/sigv4.h"

namespace mtastream::upload {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Feeds prefix, file, suffix to libcurl in turn.
struct BodyReader {
  const HttpRequest* request = nullptr;
  std::FILE* file = nullptr;
  std::size_t prefix_sent = 0, suffix_sent = 0;
  std::uint64_t file_sent = 0;
  std::string error;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* reader = static_cast<BodyReader*>(user);
  const HttpRequest& request = *reader->request;
  std::size_t room = size * count, written = 0;
  if (reader->prefix_sent < request.body_prefix.size()) {
    std::size_t n = std::min(room, request.body_prefix.size() - reader->prefix_sent);
    std::memcpy(buffer, request.body_prefix.data() + reader->prefix_sent, n);
    reader->prefix_sent += n;
    return n;
  }
  if (reader->file && reader->file_sent < request.body_file_size) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, request.body_file_size - reader->file_sent));
    written = std::fread(buffer, 1, want, reader->file);
    if (written == 0) {
      reader->error = std::ferror(reader->file) ? std::strerror(errno) : "file became shorter while it was sent";
      return CURL_READFUNC_ABORT;
    }
    reader->file_sent += written;
    return written;
  }
  if (reader->suffix_sent < request.body_suffix.size()) {
    std::size_t n = std::min(room, request.body_suffix.size() - reader->suffix_sent);
    std::memcpy(buffer, request.body_suffix.data() + reader->suffix_sent, n);
    reader->suffix_sent += n;
    return n;
  }
  return 0;
}

// Rewinds the body when libcurl must send it again (redirect, auth retry on a reused connection).
int seek_body(void* user, curl_off_t offset, int origin) {
  auto* reader = static_cast<BodyReader*>(user);
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  reader->prefix_sent = reader->suffix_sent = 0;
  reader->file_sent = 0;
  if (reader->file && std::fseek(reader->file, 0, SEEK_SET) != 0) return CURL_SEEKFUNC_FAIL;
  return CURL_SEEKFUNC_OK;
}

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t write_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * count;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    response->headers[name] = std::string(value);
  }
  return size * count;
}

bool is_permanent(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_READ_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_FILE_COULDNT_READ_FILE:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpClient::HttpClient(double connect_timeout_seconds, double request_timeout_seconds)
    : connect_timeout_ms_(static_cast<long>(connect_timeout_seconds * 1000)),
      request_timeout_ms_(static_cast<long>(request_timeout_seconds * 1000)) {
  global_init_once();
  handle_ = curl_easy_init();
  if (!handle_) throw Error("libcurl: could not create a handle");
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

HttpResponse HttpClient::perform(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(handle_);
  curl_easy_reset(curl);  // keeps the connection cache
  HttpResponse response;
  BodyReader reader;
  reader.request = &request;
  struct FileCloser {
    std::FILE*& file;
    ~FileCloser() { if (file) std::fclose(file); }
  } closer{reader.file};
  if (!request.body_file.empty()) {
    reader.file = std::fopen(request.body_file.c_str(), "rb");
    if (!reader.file) throw Error(fmt::format("{}: cannot open: {}", request.body_file, std::strerror(errno)));
  }
  curl_off_t body_size = static_cast<curl_off_t>(request.body_prefix.size() + request.body_file_size +
                                                 request.body_suffix.size());
  bool has_body = request.method == "PUT" || request.method == "POST";

  curl_slist* header_list = nullptr;
  struct ListFreer {
    curl_slist*& list;
    ~ListFreer() { curl_slist_free_all(list); }
  } freer{header_list};
  for (const auto& [name, value] : request.headers)
    header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  header_list = curl_slist_append(header_list, "Expect:");  // no 100-continue round trip
  if (has_body && request.method == "POST") header_list = curl_slist_append(header_list, "Transfer-Encoding:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms_);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request_timeout_ms_);
  // A stalled transfer (no byte for 60 s) is a timeout even when the overall limit is far away.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, body_size);
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (has_body) {
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &reader);
  }

  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    if (!reader.error.empty())
      throw Error(fmt::format("{}: reading while sending failed: {}", request.body_file, reader.error));
    std::string reason = curl_easy_strerror(code);
    if (is_permanent(code)) throw Error(fmt::format("{} {}: {}", request.method, request.url, reason));
    throw TransientError(reason);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

HttpClientPool::Lease HttpClientPool::lease() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(client));
    }
  }
  return Lease(*this, std::make_unique<HttpClient>(connect_timeout_, request_timeout_));
}

void HttpClientPool::give_back(std::unique_ptr<HttpClient> client) {
  if (!client) return;
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(client));
}

std::string url_encode_component(const std::string& text) { return uri_encode(text, false); }

}  // namespace mtastream::upload
