#include "serve/metrics_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "base/log.h"

namespace mtastream::serve {

namespace {

constexpr std::string_view address_forms = "PORT, HOST:PORT or [IPV6]:PORT";

uint16_t parse_port(std::string_view text, std::string_view whole, std::string_view option) {
  unsigned long port = 0;
  bool ok = !text.empty() && text.size() <= 5;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '9';
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (!ok || port > 65535)
    throw UsageError(fmt::format("{} '{}': the port must be a number from 0 to 65535 ({})", option, whole, address_forms));
  return static_cast<uint16_t>(port);
}

// libmicrohttpd's own messages (bad requests, resource limits) go to the debug level.
void log_from_microhttpd(void*, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  std::string_view line(text);
  while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  log::debug("metrics server: {}", line);
}

enum MHD_Result answer(void* self, MHD_Connection* connection, const char* url, const char* method, const char*,
                       const char*, size_t* upload_size, void** request_state) {
  // The first call per request only announces it; answer on the second, once any body (ignored) is in.
  if (*request_state == nullptr) {
    *request_state = self;
    return MHD_YES;
  }
  *upload_size = 0;
  MetricsPage r;
  try {
    r = static_cast<const MetricsServer*>(self)->respond(method, url);
  } catch (const std::exception& e) {
    r = {500, "text/plain; charset=utf-8", fmt::format("internal error: {}\n", e.what())};
  }
  MHD_Response* response =
      MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  if (r.status == 405) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  enum MHD_Result queued = MHD_queue_response(connection, r.status, response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

HttpAddress parse_http_address(std::string_view text, std::string_view option) {
  HttpAddress a;
  std::string_view port = text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':' || close == 1)
      throw UsageError(fmt::format("{} '{}': expected {}", option, text, address_forms));
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon)
      throw UsageError(fmt::format("{} '{}': put an IPv6 address in brackets ({})", option, text, address_forms));
    a.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) a.host = "127.0.0.1";  // only a port: loopback, never every interface by surprise
  a.port = parse_port(port, text, option);
  return a;
}

MetricsServer::MetricsServer(const HttpAddress& address, std::map<std::string, HttpHandler> routes)
    : host_(address.host), routes_(std::move(routes)) {
  const std::string where = fmt::format("{}:{}", address.host, address.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(address.port);
  if (int err = getaddrinfo(address.host.c_str(), port_text.c_str(), &hints, &found))
    throw UsageError(fmt::format("--metrics-addr '{}': cannot resolve '{}': {}", where, address.host, gai_strerror(err)));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  // Our own listening socket: a bind failure then says exactly why (in use, not an address of this host).
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) throw Error(fmt::format("--metrics-addr '{}': socket: {}", where, std::strerror(errno)));
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    int err = errno;
    close(fd);
    throw UsageError(fmt::format("--metrics-addr '{}': cannot listen there: {}", where, std::strerror(err)));
  }
  sockaddr_storage bound{};
  socklen_t bound_size = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (found->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, answer, this,
                             MHD_OPTION_EXTERNAL_LOGGER, log_from_microhttpd, nullptr,  // first, to catch all
                             MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(fd),
                             MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (!daemon_) {
    close(fd);
    throw Error(fmt::format("--metrics-addr '{}': the HTTP server did not start", where));
  }
}

MetricsServer::~MetricsServer() {
  if (daemon_) MHD_stop_daemon(daemon_);  // joins its thread and closes the listening socket
}

std::string MetricsServer::url() const {
  return host_.find(':') != std::string::npos ? fmt::format("http://[{}]:{}", host_, port_)
                                               : fmt::format("http://{}:{}", host_, port_);
}

MetricsPage MetricsServer::respond(std::string_view method, std::string_view path) const {
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
  auto it = routes_.find(std::string(path));
  if (it == routes_.end()) {
    std::string known;
    for (const auto& [route, handler] : routes_) known += route + "\n";
    return {404, "text/plain; charset=utf-8", "not found; try:\n" + known};
  }
  return it->second();
}

}  // namespace mtastream::serve
