// MockCluster: librdkafka's in-process mock Kafka cluster on loopback (the embedded `mtastream broker`).
#pragma once
#include <string>

#include "kafka/client.h"

struct rd_kafka_mock_cluster_s;

namespace mtastream::kafka {

// Real TCP listeners on 127.0.0.1 (kernel-chosen ports) that kcat or any client can use. Limits (librdkafka
// 2.0.2): in memory only, about 5 MiB / 100,000 message sets kept per partition, topics auto-created with
// 4 partitions, no CreateTopics/DeleteTopics/DescribeConfigs, no SASL/SSL.
class MockCluster {
 public:
  explicit MockCluster(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::string bootstrap_servers() const;
  void create_topic(const std::string& name, int partitions, int replication_factor = 1);

 private:
  HandlePtr handle_;  // the client instance the mock cluster belongs to
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  int brokers_;
};

}  // namespace mtastream::kafka
