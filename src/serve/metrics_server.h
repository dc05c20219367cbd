// A small HTTP server (libmicrohttpd, its own thread) for `consume --metrics-addr`: GET/HEAD of a few
// paths, each answered by a handler that renders a snapshot (the handlers lock what they read).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

struct MHD_Daemon;

namespace mtastream::serve {

struct HttpAddress {
  std::string host;  // as given ("127.0.0.1", "::1", "localhost", "0.0.0.0")
  uint16_t port = 0;  // 0: the kernel picks one
};

// "PORT" or ":PORT" (loopback), "HOST:PORT", "[IPV6]:PORT". Throws UsageError naming `option`.
HttpAddress parse_http_address(std::string_view text, std::string_view option);

struct MetricsPage {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<MetricsPage()>;

class MetricsServer {
 public:
  // Listens at once (throws UsageError when the address cannot be resolved or bound) and serves
  // `routes` (path -> handler) until destroyed; other paths get 404, other methods 405.
  MetricsServer(const HttpAddress& address, std::map<std::string, HttpHandler> routes);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const { return port_; }  // the bound port (the kernel's choice for port 0)
  // "http://127.0.0.1:9108" (IPv6 hosts in brackets).
  std::string url() const;

  // Answers one request (also what the server thread calls).
  MetricsPage respond(std::string_view method, std::string_view path) const;

 private:
  std::string host_;
  std::map<std::string, HttpHandler> routes_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
};

}  // namespace mtastream::serve
