#include <gtest/gtest.h>

#include "consume/consume_metrics.h"

using namespace mtastream;
using namespace mtastream::consume;
using namespace std::chrono_literals;

namespace {

ConsumeProgress two_partitions() {
  ConsumeProgress p;
  p.partitions = 1;
  p.counts.read = 7;
  p.counts.files = 2;
  p.counts.bytes = 300;
  p.rebalances = 1;
  PartitionProgress a;
  a.partition = 0;
  a.counts.read = 5;
  a.counts.late = 1;
  a.assigned = true;
  a.lag = 4;
  a.open_windows = 3;
  PartitionProgress b;  // read earlier, revoked since: counts only
  b.partition = 1;
  b.counts.read = 2;
  p.by_partition = {a, b};
  return p;
}

}  // namespace

TEST(ConsumeMetrics, RendersCountsByPartitionAndLagOfAssignedOnes) {
  const auto start = ConsumeMetrics::SystemClock::now();
  ConsumeMetrics m("mta \"x\"", "g", 120s, start);
  ConsumeProgress p = two_partitions();
  p.last_commit = p.committed_current = start + 1s;
  m.update(p);
  const std::string page = m.render(start + 3s);
  const std::string job = "topic=\"mta \\\"x\\\"\",group=\"g\"";
  EXPECT_NE(page.find("mtastream_consume_messages_read_total{" + job + ",partition=\"0\"} 5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("mtastream_consume_messages_read_total{" + job + ",partition=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(page.find("mtastream_consume_messages_late_total{" + job + ",partition=\"0\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("mtastream_consume_lag_messages{" + job + ",partition=\"0\"} 4\n"), std::string::npos);
  EXPECT_EQ(page.find("mtastream_consume_lag_messages{" + job + ",partition=\"1\"}"), std::string::npos);
  EXPECT_NE(page.find("mtastream_consume_open_windows{" + job + ",partition=\"0\"} 3\n"), std::string::npos);
  EXPECT_NE(page.find("mtastream_consume_lake_bytes_total{" + job + "} 300\n"), std::string::npos);
  EXPECT_NE(page.find("mtastream_consume_rebalances_total{" + job + "} 1\n"), std::string::npos);
  EXPECT_NE(page.find("mtastream_consume_seconds_since_last_commit{" + job + "} 2.000\n"), std::string::npos);
  EXPECT_NE(page.find("# TYPE mtastream_consume_messages_read_total counter\n"), std::string::npos);
  EXPECT_EQ(page.back(), '\n');
}

TEST(ConsumeMetrics, HealthFollowsCommitsAndBrokers) {
  const auto start = ConsumeMetrics::SystemClock::now();
  ConsumeMetrics m("t", "g", 60s, start);
  EXPECT_TRUE(m.health(start + 30s).healthy);  // starting: the grace period counts from the start
  EXPECT_FALSE(m.health(start + 61s).healthy);
  ConsumeProgress p;
  p.committed_current = start + 50s;
  m.update(p);
  EXPECT_TRUE(m.health(start + 100s).healthy);
  HealthVerdict stale = m.health(start + 111s);
  EXPECT_FALSE(stale.healthy);
  EXPECT_NE(stale.reason.find("61s ago"), std::string::npos) << stale.reason;
  m.update_statistics(R"({"brokers": {"a:9092/1": {"state": "DOWN"}, "GroupCoordinator": {"state": "DOWN"}}})");
  EXPECT_EQ(m.health(start + 51s).reason, "no broker answers");
  m.update_statistics(R"({"brokers": {"a:9092/1": {"state": "UP"}}})");
  EXPECT_TRUE(m.health(start + 51s).healthy);
  EXPECT_NE(m.render(start + 51s).find("mtastream_consume_brokers_up{topic=\"t\",group=\"g\"} 1\n"), std::string::npos);
}

TEST(ConsumeMetrics, BrokersUpFromStatistics) {
  EXPECT_EQ(brokers_up_in_statistics(R"({"brokers": {"a": {"state": "UP"}, "b": {"state": "UP"}, "c": {"state": "INIT"}}})"), 2);
  EXPECT_EQ(brokers_up_in_statistics("not json"), -1);
  EXPECT_EQ(brokers_up_in_statistics(R"({"name": "x"})"), -1);
}
