// The Kafka unit against librdkafka's mock cluster: configuration building, secrets, delivery counting.
#include <gtest/gtest.h>

#include "kafka/admin.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"

using namespace mtastream;
using namespace mtastream::config;
using namespace std::chrono_literals;

TEST(KafkaConf, BadValueNamesOriginAndHidesSecret) {
  Settings settings;
  settings.set_kafka("sasl.password", "hunter2-very-secret", "client.properties:6");
  settings.set_kafka("acks", "sometimes", "client.properties:7");
  try {
    kafka::build_conf(settings);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("client.properties:7"), std::string::npos) << message;
    EXPECT_NE(message.find("acks"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
  EXPECT_EQ(kafka::scrub_secrets("login with hunter2-very-secret failed"), "login with [redacted] failed");
}

TEST(KafkaConf, RequiredPropertiesWinAndDefaultsYield) {
  Settings settings;
  settings.set_kafka("linger.ms", "50", "-X");
  kafka::ConfRequest request;
  request.defaults["linger.ms"] = "5";
  request.defaults["batch.num.messages"] = "1234";
  request.required["enable.idempotence"] = "true";
  kafka::ConfPtr conf = kafka::build_conf(settings, request);
  char value[64];
  size_t size = sizeof value;
  ASSERT_EQ(rd_kafka_conf_get(conf.get(), "linger.ms", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "50");
  size = sizeof value;
  ASSERT_EQ(rd_kafka_conf_get(conf.get(), "batch.num.messages", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "1234");
  size = sizeof value;
  ASSERT_EQ(rd_kafka_conf_get(conf.get(), "enable.idempotence", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "true");
}

TEST(KafkaConf, MissingBrokersIsAUsageError) {
  Settings settings;
  EXPECT_THROW(kafka::KafkaProducer producer(settings), UsageError);
}

TEST(KafkaProducer, CountsEveryDeliveryOnTheMockCluster) {
  kafka::MockCluster cluster(1);
  cluster.create_topic("events", 3);
  Settings settings;
  settings.set_kafka("bootstrap.servers", cluster.bootstrap_servers(), "test");
  uint64_t tags_sum = 0, reports = 0;
  kafka::ProducerOptions options;
  options.on_delivery = [&](const kafka::DeliveryReport& report) {
    ++reports;
    if (report.error == RD_KAFKA_RESP_ERR_NO_ERROR) tags_sum += report.tag;
  };
  kafka::KafkaProducer producer(settings, options);
  for (uint64_t i = 1; i <= 2000; ++i) producer.produce("events", "key" + std::to_string(i % 7), "value", i);
  EXPECT_TRUE(producer.flush(30s));
  EXPECT_EQ(producer.counts().queued, 2000u);
  EXPECT_EQ(producer.counts().delivered, 2000u);
  EXPECT_EQ(producer.counts().failed, 0u);
  EXPECT_EQ(reports, 2000u);
  EXPECT_EQ(tags_sum, 2000u * 2001u / 2u);
}

TEST(KafkaProducer, UndeliverableMessagesAreCountedAsFailed) {
  Settings settings;
  settings.set_kafka("bootstrap.servers", "127.0.0.1:1", "test");  // nothing listens there
  settings.set_kafka("message.timeout.ms", "500", "test");
  kafka::KafkaProducer producer(settings);
  for (int i = 0; i < 10; ++i) producer.produce("events", "", "value");
  producer.flush(20s);
  EXPECT_EQ(producer.counts().delivered, 0u);
  EXPECT_EQ(producer.counts().failed, 10u);
  EXPECT_EQ(producer.counts().undelivered(), 10u);
  EXPECT_FALSE(producer.counts().errors.empty());
}

TEST(KafkaAdmin, MockClusterMetadataAndNoCreateTopics) {
  kafka::MockCluster cluster(2);
  cluster.create_topic("listed", 2, 2);
  Settings settings;
  settings.set_kafka("bootstrap.servers", cluster.bootstrap_servers(), "test");
  kafka::KafkaAdmin admin(settings, 10s);
  kafka::TopicInfo info = admin.topic("listed");
  EXPECT_EQ(info.error, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(info.partitions.size(), 2u);
  EXPECT_EQ(admin.metadata().brokers.size(), 2u);
  EXPECT_EQ(admin.topic("absent").error, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  kafka::TopicSpec spec;
  spec.name = "new-topic";
  spec.partitions = 1;
  try {
    admin.create_topic(spec, false);
    FAIL() << "the mock cluster has no CreateTopics";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mtastream broker"), std::string::npos) << e.what();
  }
}
