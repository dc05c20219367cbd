#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "serve/metrics_server.h"

using namespace mtastream;
using namespace mtastream::serve;

TEST(MetricsServer, ParsesAddresses) {
  HttpAddress a = parse_http_address("9108", "--metrics-addr");
  EXPECT_EQ(a.host, "127.0.0.1");  // only a port: loopback
  EXPECT_EQ(a.port, 9108);
  EXPECT_EQ(parse_http_address(":9108", "x").host, "127.0.0.1");
  a = parse_http_address("0.0.0.0:80", "x");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 80);
  a = parse_http_address("[::1]:0", "x");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 0);
  for (const char* bad : {"", "host:", "host:http", "65536", "::1:80", "[::1]", "[]:80", "1:-2", "123456"})
    EXPECT_THROW(parse_http_address(bad, "x"), UsageError) << bad;
}

TEST(MetricsServer, RoutesGetAndHeadOnly) {
  MetricsServer server({"127.0.0.1", 0}, {{"/metrics", [] { return MetricsPage{200, "text/plain", "m 1\n"}; }}});
  EXPECT_GT(server.port(), 0);
  EXPECT_EQ(server.respond("GET", "/metrics").body, "m 1\n");
  EXPECT_EQ(server.respond("HEAD", "/metrics").status, 200u);
  EXPECT_EQ(server.respond("POST", "/metrics").status, 405u);
  EXPECT_EQ(server.respond("GET", "/nope").status, 404u);
}

TEST(MetricsServer, ServesOverHttp) {
  MetricsServer server({"127.0.0.1", 0}, {{"/healthz", [] { return MetricsPage{503, "text/plain", "stale\n"}; }}});
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  const std::string request = "GET /healthz HTTP/1.0\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[512];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) reply.append(buffer, static_cast<size_t>(n));
  close(fd);
  EXPECT_EQ(reply.rfind("HTTP/1.", 0), 0u) << reply;
  EXPECT_NE(reply.find(" 503 "), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\n\r\nstale\n"), std::string::npos) << reply;
}

TEST(MetricsServer, RefusesAnAddressInUse) {
  MetricsServer first({"127.0.0.1", 0}, {});
  EXPECT_THROW(MetricsServer({"127.0.0.1", first.port()}, {}), UsageError);
}
