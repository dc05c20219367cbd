#include "kafka/mock_cluster.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>

namespace mtastream::kafka {

MockCluster::MockCluster(int brokers) : brokers_(brokers) {
  if (brokers < 1) throw UsageError("--brokers must be at least 1");
  config::Settings none;
  ConfPtr conf = build_conf(none);
  handle_ = create_handle(RD_KAFKA_PRODUCER, std::move(conf));
  cluster_ = rd_kafka_mock_cluster_new(handle_.get(), brokers);
  if (!cluster_) throw Error("cannot start the embedded broker (librdkafka mock cluster)");
}

MockCluster::~MockCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
}

std::string MockCluster::bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

void MockCluster::create_topic(const std::string& name, int partitions, int replication_factor) {
  if (partitions < 1) throw UsageError(fmt::format("topic '{}': partitions must be at least 1", name));
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, std::min(replication_factor, brokers_));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw_error(err, fmt::format("cannot create topic '{}'", name));
}

}  // namespace mtastream::kafka
