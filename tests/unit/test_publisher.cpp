// The produce job (publisher.h) against librdkafka's mock cluster: lines validated and sent, every
// delivery counted, rejected and undelivered messages kept aside, and the exit-code rule.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "kafka/consumer.h"
#include "kafka/mock_cluster.h"
#include "base/exit_code.h"
#include "produce/publisher.h"
#include "test_support.h"

using namespace mtastream;
using namespace mtastream::config;
using namespace mtastream::produce;
using namespace std::chrono_literals;

namespace {

std::string event_line(const std::string& ca, const std::string& id, int entries) {
  return test::event_line(ca, id, "16:54:00", entries, 9);
}

Settings broker_settings(const std::string& bootstrap) {
  Settings settings;
  settings.set_kafka("bootstrap.servers", bootstrap, "test");
  return settings;
}

// Every message of the topic (key -> values), read group-less from the beginning until each partition's end.
std::multimap<std::string, std::string> read_topic(const std::string& bootstrap, const std::string& topic, int partitions) {
  Settings settings = broker_settings(bootstrap);
  kafka::ConsumerOptions options;
  options.conf.required["enable.partition.eof"] = "true";
  options.conf.required["group.id"] = "test-reader";
  kafka::KafkaConsumer consumer(settings, std::move(options));
  std::vector<kafka::TopicPartition> all;
  for (int p = 0; p < partitions; ++p) all.push_back({topic, p, RD_KAFKA_OFFSET_BEGINNING, ""});
  consumer.assign(all);
  std::multimap<std::string, std::string> messages;
  int at_end = 0;
  for (int polls = 0; polls < 300 && at_end < partitions; ++polls) {  // bounded: 300 polls of up to 100 ms
    kafka::MessagePtr m = consumer.poll(100ms);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++at_end;
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      messages.emplace(std::string(static_cast<const char*>(m->key), m->key_len),
                       std::string(static_cast<const char*>(m->payload), m->len));
    }
  }
  EXPECT_EQ(at_end, partitions) << "not every partition of " << topic << " was read to its end";
  consumer.close();
  return messages;
}

}  // namespace

// produce's exit code from a summary, as commands/produce.cpp derives it (a run with an end).
static ExitCode produce_exit_code(const PublishSummary& s) {
  return exit_code({.rejected = s.rejected, .sent = s.delivery.queued, .delivered = s.delivery.delivered,
                    .input_complete = s.input_complete});
}

TEST(Publisher, SendsValidLinesAndKeepsBadOnesAside) {
  kafka::MockCluster cluster(1);
  cluster.create_topic("lines", 2);
  const std::string dir = test::scratch_dir("publisher_lines");
  const std::string input = dir + "/in.csv";
  test::write_text(input, "CA,UNIT,SCP,STATION,LINENAME,DIVISION,DATE,TIME,DESC,ENTRIES,EXITS,ID,TIMESTAMP\n" +
                              event_line("A001", "id-1", 1) + "\n\n" + event_line("A002", "id-2", 2) + "\n" +
                              "not,an,event\n" + event_line("A001", "id-3", 3) + "\n");
  PublishJob job;
  job.topic = "lines";
  job.files = {input};
  job.dead_letter_path = dir + "/dead.ndjson";
  int rejected_hook_calls = 0;
  PublishHooks hooks;
  hooks.on_rejected = [&] { ++rejected_hook_calls; };
  PublishSummary summary = publish(broker_settings(cluster.bootstrap_servers()), job, {}, hooks);

  EXPECT_EQ(summary.read, 4u);  // the header and the blank line are not messages
  EXPECT_EQ(summary.rejected, 1u);
  EXPECT_EQ(summary.delivery.queued, 3u);
  EXPECT_EQ(summary.delivery.delivered, 3u);
  EXPECT_EQ(summary.delivery.undelivered(), 0u);
  EXPECT_TRUE(summary.input_complete);
  EXPECT_FALSE(summary.interrupted);
  EXPECT_EQ(rejected_hook_calls, 1);
  const std::string dead = test::read_text(job.dead_letter_path);
  EXPECT_NE(dead.find("\"source\":\"" + input + ":5\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("not,an,event"), std::string::npos) << dead;
  EXPECT_EQ(produce_exit_code(summary), ExitCode::partial);

  // What the broker holds: the three valid lines as sent (CSV in, CSV out), keyed by turnstile.
  std::multimap<std::string, std::string> messages = read_topic(cluster.bootstrap_servers(), "lines", 2);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages.count("A001,R001,02-00-00"), 2u);
  auto a002 = messages.find("A002,R001,02-00-00");
  ASSERT_NE(a002, messages.end());
  EXPECT_EQ(a002->second, event_line("A002", "id-2", 2));
}

TEST(Publisher, GeneratorStopsAtTheCountAndKeysById) {
  kafka::MockCluster cluster(1);
  cluster.create_topic("generated", 1);
  PublishJob job;
  job.topic = "generated";
  job.source = EventSource::original_generator;
  job.count = 25;
  job.seed = 7;
  job.key = MessageKey::id;
  PublishSummary summary = publish(broker_settings(cluster.bootstrap_servers()), job, {});
  EXPECT_EQ(summary.read, 25u);
  EXPECT_EQ(summary.delivery.delivered, 25u);
  EXPECT_EQ(produce_exit_code(summary), ExitCode::ok);
  std::multimap<std::string, std::string> messages = read_topic(cluster.bootstrap_servers(), "generated", 1);
  ASSERT_EQ(messages.size(), 25u);
  for (const auto& [key, value] : messages) {
    EXPECT_FALSE(key.empty());
    EXPECT_NE(value.find("," + key + ","), std::string::npos) << "the key is the event's ID: " << value;
  }
}

TEST(Publisher, UndeliveredMessagesAreCountedAndDeadLettered) {
  const std::string dir = test::scratch_dir("publisher_undelivered");
  const std::string input = dir + "/in.csv";
  test::write_text(input, event_line("A001", "id-1", 1) + "\n" + event_line("A002", "id-2", 2) + "\n");
  Settings settings = broker_settings("127.0.0.1:1");  // nothing listens there
  settings.set_kafka("message.timeout.ms", "500", "test");
  PublishJob job;
  job.topic = "nowhere";
  job.files = {input};
  job.dead_letter_path = dir + "/dead.ndjson";
  PublishSummary summary = publish(settings, job, {});
  EXPECT_EQ(summary.read, 2u);
  EXPECT_EQ(summary.delivery.delivered, 0u);
  EXPECT_EQ(summary.delivery.undelivered(), 2u);
  EXPECT_FALSE(summary.delivery.errors.empty());
  const std::string dead = test::read_text(job.dead_letter_path);
  // Each undelivered message names the line it came from.
  EXPECT_NE(dead.find("\"source\":\"" + input + ":1\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("\"source\":\"" + input + ":2\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("not delivered"), std::string::npos) << dead;
  EXPECT_EQ(produce_exit_code(summary), ExitCode::runtime_error);  // sent, and nothing at all delivered
}

TEST(Publisher, AMissingInputIsAnError) {
  kafka::MockCluster cluster(1);
  PublishJob job;
  job.topic = "lines";
  job.files = {test::scratch_dir("publisher_missing") + "/absent.csv"};
  EXPECT_THROW(publish(broker_settings(cluster.bootstrap_servers()), job, {}), Error);
}

TEST(Publisher, ExitCodeRule) {
  PublishSummary s;
  s.delivery.queued = s.delivery.delivered = 10;
  EXPECT_EQ(produce_exit_code(s), ExitCode::ok);
  s.input_complete = false;
  EXPECT_EQ(produce_exit_code(s), ExitCode::partial);  // unread input
  s.input_complete = true;
  s.rejected = 1;
  EXPECT_EQ(produce_exit_code(s), ExitCode::partial);
  s.rejected = 0;
  s.delivery.queued = 12;  // two never acknowledged
  EXPECT_EQ(produce_exit_code(s), ExitCode::partial);
  s.delivery.delivered = 0;
  EXPECT_EQ(produce_exit_code(s), ExitCode::runtime_error);
  EXPECT_THROW(parse_message_key("partition"), UsageError);
  EXPECT_EQ(parse_message_key("none"), MessageKey::none);
}
