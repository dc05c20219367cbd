// The consume job (consume_job.h) against librdkafka's mock cluster: offsets are committed only once the
// lake files they cover are durable and published, each commit carries the checkpoint a restart resumes
// from, and a rebalance commits what the revoked partitions reached without claiming unmerged windows.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "consume/consume_checkpoint.h"
#include "consume/consume_job.h"
#include "kafka/consumer.h"
#include "kafka/mock_cluster.h"
#include "kafka/producer.h"
#include "test_support.h"

using namespace mtastream;
using namespace mtastream::config;
using namespace mtastream::consume;
using namespace mtastream::engine;
using namespace std::chrono_literals;

namespace {

using test::event_line;

// Short sessions, so that rebalances on the mock cluster settle in seconds.
Settings broker_settings(const std::string& bootstrap) {
  Settings settings;
  settings.set_kafka("bootstrap.servers", bootstrap, "test");
  settings.set_kafka("session.timeout.ms", "6000", "test");
  settings.set_kafka("heartbeat.interval.ms", "500", "test");
  return settings;
}

struct Message {
  std::string key, value;
  int32_t partition = -1;  // -1: by key
};

void produce(const std::string& bootstrap, const std::string& topic, const std::vector<Message>& messages) {
  kafka::KafkaProducer producer(broker_settings(bootstrap));
  for (const Message& m : messages) producer.produce(topic, m.key, m.value, 0, m.partition);
  ASSERT_TRUE(producer.flush(30s));
  ASSERT_EQ(producer.counts().delivered, messages.size());
}

// The group's committed offset and checkpoint of each partition (nullopt: nothing committed), read with a
// consumer that does not join the group.
std::vector<std::optional<ConsumeCheckpoint>> committed(const std::string& bootstrap, const std::string& group,
                                                        const std::string& topic, int partitions) {
  kafka::ConsumerOptions options;
  options.conf.required["group.id"] = group;
  options.conf.required["enable.auto.commit"] = "false";
  kafka::KafkaConsumer reader(broker_settings(bootstrap), std::move(options));
  std::vector<kafka::TopicPartition> list;
  for (int p = 0; p < partitions; ++p) list.push_back({topic, p});
  std::vector<std::optional<ConsumeCheckpoint>> out;
  for (const kafka::TopicPartition& tp : reader.committed(list, 10s)) {
    if (tp.offset < 0) {
      out.emplace_back();
      continue;
    }
    std::string error;
    out.push_back(parse_checkpoint_metadata(tp.metadata, tp.offset, error));
    EXPECT_TRUE(out.back()) << "offset " << tp.offset << " without a checkpoint: " << error;
  }
  reader.close();
  return out;
}

// The ENTRIES of every row of every lake file under `dir` (original layout: the second last column).
int64_t lake_entries(const std::string& dir) {
  int64_t sum = 0;
  for (const std::string& file : test::lake_files(dir)) {
    std::string text = test::gunzip_file(file);
    size_t line_start = text.find('\n') + 1;  // after the header
    while (line_start < text.size()) {
      size_t end = text.find('\n', line_start);
      std::string row = text.substr(line_start, end - line_start);
      size_t last = row.rfind(','), before = row.rfind(',', last - 1);
      sum += std::stoll(row.substr(before + 1, last - before - 1));
      line_start = end + 1;
    }
  }
  return sum;
}

constexpr int64_t at_1650 = 1695487800;  // 2023-09-23 16:50:00 UTC

// The end of the window a lake file name ends with (..._20230923THHMMSS.csv.gz, 2023-09-23 only).
int64_t window_end(const std::string& name) {
  const std::string stamp = name.substr(name.size() - std::string_view("HHMMSS.csv.gz").size(), 6);
  return at_1650 - (16 * 60 + 50) * 60 + std::stoi(stamp.substr(0, 2)) * 3600 + std::stoi(stamp.substr(2, 2)) * 60 +
         std::stoi(stamp.substr(4, 2));
}

ConsumeOptions job_options(const std::string& topic, const std::string& group, const std::string& lake) {
  return {.topic = topic, .group = group, .lake_dir = lake, .exit_at_end = true, .assignment_timeout_seconds = 60};
}

// A one-partition topic on `cluster` holding `messages`, and a job reading it in group g-TOPIC into a fresh lake.
ConsumeOptions one_partition_job(kafka::MockCluster& cluster, const std::string& topic,
                                 const std::vector<Message>& messages) {
  cluster.create_topic(topic, 1);
  produce(cluster.bootstrap_servers(), topic, messages);
  return job_options(topic, "g-" + topic, test::scratch_dir("consume_" + topic));
}

// `rounds` rounds of one event per key k (CA <ca>k, key "k<k>", partition k % partitions), `step` seconds
// apart from 16:50:00 on; ENTRIES j + k + 1 in round j, summed into `total_entries`.
std::vector<Message> rounds_of_events(const std::string& ca, int rounds, int keys, int step, int partitions,
                                      int64_t& total_entries) {
  std::vector<Message> messages;
  for (int j = 0; j < rounds; ++j)
    for (int k = 0; k < keys; ++k) {
      int seconds = j * step, entries = j + k + 1;
      std::string time = "16:" + std::to_string(50 + seconds / 60) + ":" + (seconds % 60 < 10 ? "0" : "") +
                         std::to_string(seconds % 60);
      messages.push_back({"k" + std::to_string(k),
                          event_line(ca + std::to_string(k), "id-" + std::to_string(j * keys + k), time, entries, 1),
                          k % partitions});
      total_entries += entries;
    }
  return messages;
}

// A plain member of `group` that never commits, and the partitions of `topic` it owns now.
class PlainMember {
 public:
  PlainMember(const Settings& settings, const std::string& group, const std::string& topic) {
    kafka::ConsumerOptions options;
    options.conf.required["group.id"] = group;
    options.conf.required["enable.auto.commit"] = "false";
    options.on_rebalance = [this](kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
      std::lock_guard lock(mutex_);
      for (const auto& tp : list)
        if (kind == kafka::RebalanceKind::assign)
          owns_.insert(tp.partition);
        else
          owns_.erase(tp.partition);
    };
    consumer_ = std::make_unique<kafka::KafkaConsumer>(settings, std::move(options));
    consumer_->subscribe({topic});
  }
  PlainMember(const PlainMember&) = delete;
  PlainMember& operator=(const PlainMember&) = delete;
  size_t owned() const {
    std::lock_guard lock(mutex_);
    return owns_.size();
  }
  void poll(std::chrono::milliseconds wait) { consumer_->poll(wait); }
  void close() { consumer_->close(); }

 private:
  mutable std::mutex mutex_;
  std::set<int32_t> owns_;
  std::unique_ptr<kafka::KafkaConsumer> consumer_;  // last: its rebalance handler uses the members above
};

// run_consume on a thread of its own, with its latest progress. A failed assertion returns early: the job
// still ends (alone in the group it reads everything, or gives up after --assignment-timeout) and is joined
// before what it writes to goes away.
class BackgroundJob {
 public:
  BackgroundJob(const Settings& settings, const ConsumeOptions& options) : options_(options) {
    thread_ = std::thread([this, &settings] {
      try {
        summary_ = run_consume(settings, options_, [this](const ConsumeProgress& p) {
          std::lock_guard lock(mutex_);
          progress_ = p;
        });
      } catch (...) {
        failure_ = std::current_exception();
      }
      done_ = true;
    });
  }
  ~BackgroundJob() {
    if (thread_.joinable()) thread_.join();
  }
  std::optional<ConsumeProgress> progress() const {
    std::lock_guard lock(mutex_);
    return progress_;
  }
  bool done() const { return done_; }
  // Waits for the end; rethrows what the job threw.
  ConsumeSummary finish() {
    thread_.join();
    if (failure_) std::rethrow_exception(failure_);
    return summary_;
  }

 private:
  const ConsumeOptions options_;
  mutable std::mutex mutex_;
  std::optional<ConsumeProgress> progress_;
  ConsumeSummary summary_;
  std::exception_ptr failure_;
  std::atomic<bool> done_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace

TEST(ConsumeJob, CommitsOnlyWhatIsInTheLakeAndResumesFromTheCheckpoint) {
  kafka::MockCluster cluster(1);
  // Windows 16:50 and 16:55 (5 minutes, 5 minutes of watermark delay) close once an event of 17:10 is read.
  ConsumeOptions options = one_partition_job(
      cluster, "commits",
      {{"k", event_line("A001", "id-1", "16:51:00", 1, 1)}, {"k", event_line("A001", "id-2", "16:53:00", 2, 1)},
       {"k", event_line("A002", "id-3", "16:57:00", 4, 1)}, {"k", event_line("A001", "id-4", "17:10:00", 8, 1)}});
  const std::string bootstrap = cluster.bootstrap_servers(), lake = options.lake_dir;
  std::vector<std::string> published;
  // Whenever a file is published, no checkpoint committed so far may claim its window closed.
  options.publish = [&](const std::string& path, const std::string& name) {
    EXPECT_TRUE(std::filesystem::exists(path)) << "published before it is on disk: " << path;
    published.push_back(name);
    for (const auto& c : committed(bootstrap, "g-commits", "commits", 1))
      if (c) EXPECT_LT(c->closed_through, window_end(name)) << name;
  };
  ConsumeSummary first = run_consume(broker_settings(bootstrap), options);
  EXPECT_EQ(first.counts.read, 4u);
  EXPECT_EQ(first.counts.accepted, 4u);
  EXPECT_EQ(first.counts.windows, 2u);
  EXPECT_EQ(first.open_windows, 1u);  // 17:10 stays in the checkpoint
  EXPECT_EQ(published.size(), 2u);
  EXPECT_EQ(lake_entries(lake), 1 + 2 + 4);

  std::vector<std::optional<ConsumeCheckpoint>> c = committed(bootstrap, "g-commits", "commits", 1);
  ASSERT_TRUE(c[0]);
  EXPECT_EQ(c[0]->offset, 3);        // the open window's first event: a restart re-reads it
  EXPECT_EQ(c[0]->read_through, 4);  // everything was read (and counted) before the commit
  EXPECT_EQ(c[0]->closed_through, at_1650 + 20 * 60 - 300);  // the watermark: 17:05
  EXPECT_TRUE(c[0]->topic_windows);
  EXPECT_EQ(c[0]->window.window_seconds, 300);
  EXPECT_EQ(first.committed.at(0), 3);

  // The next run re-reads the open window's event without counting it again, and writes it once closed.
  produce(bootstrap, "commits", {{"k", event_line("A003", "id-5", "17:12:00", 16, 1)},
                                 {"k", event_line("A003", "id-6", "17:30:00", 32, 1)}});
  ConsumeSummary second = run_consume(broker_settings(bootstrap), options);
  EXPECT_EQ(second.counts.read, 3u);
  EXPECT_EQ(second.counts.replayed, 1u);
  EXPECT_EQ(second.counts.accepted, 2u);
  EXPECT_EQ(second.counts.windows, 1u);  // 17:10 (17:30 is open)
  EXPECT_EQ(lake_entries(lake), 1 + 2 + 4 + 8 + 16);
  c = committed(bootstrap, "g-commits", "commits", 1);
  ASSERT_TRUE(c[0]);
  EXPECT_EQ(c[0]->offset, 5);
  EXPECT_EQ(c[0]->read_through, 6);

  // A third run with nothing new commits nothing and writes nothing.
  ConsumeSummary third = run_consume(broker_settings(bootstrap), options);
  EXPECT_EQ(third.counts.accepted, 0u);
  EXPECT_EQ(third.counts.commits, 0u);
  EXPECT_EQ(third.counts.files, 0u);
}

TEST(ConsumeJob, PerPartitionFilesArePublishedBeforeTheCommitThatCoversThem) {
  kafka::MockCluster cluster(1);
  ConsumeOptions options = one_partition_job(
      cluster, "own",
      {{"k", event_line("A001", "id-1", "16:51:00", 1, 1)}, {"k", event_line("A002", "id-2", "16:57:00", 2, 1)},
       {"k", event_line("A001", "id-3", "17:10:00", 4, 1)}});
  const std::string bootstrap = cluster.bootstrap_servers(), lake = options.lake_dir;
  options.per_partition = true;
  std::vector<std::string> published;
  options.publish = [&](const std::string& path, const std::string& name) {
    published.push_back(name);
    for (const auto& c : committed(bootstrap, "g-own", "own", 1))
      if (c) EXPECT_LT(c->closed_through, window_end(name)) << "committed past " << path << " before it was published";
  };
  ConsumeSummary s = run_consume(broker_settings(bootstrap), options);
  EXPECT_EQ(published, (std::vector<std::string>{"turnstile_own_p0_20230923T165000_20230923T165500.csv.gz",
                                                 "turnstile_own_p0_20230923T165500_20230923T170000.csv.gz"}));
  EXPECT_EQ(lake_entries(lake), 1 + 2);
  std::optional<ConsumeCheckpoint> c = committed(bootstrap, "g-own", "own", 1)[0];
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->topic_windows);
  EXPECT_EQ(c->offset, 2);
  EXPECT_EQ(c->closed_through, at_1650 + 20 * 60 - 300);
  EXPECT_EQ(s.counts.windows, 2u);
}

TEST(ConsumeJob, AFailedUploadCommitsNothingPastIt) {
  kafka::MockCluster cluster(1);
  ConsumeOptions options = one_partition_job(
      cluster, "uploads",
      {{"k", event_line("A001", "id-1", "16:51:00", 1, 1)}, {"k", event_line("A001", "id-2", "17:10:00", 2, 1)}});
  const std::string bootstrap = cluster.bootstrap_servers();
  options.publish = [](const std::string&, const std::string&) { throw Error("the object store is down"); };
  EXPECT_THROW(run_consume(broker_settings(bootstrap), options), Error);
  std::vector<std::optional<ConsumeCheckpoint>> c = committed(bootstrap, "g-uploads", "uploads", 1);
  if (c[0]) EXPECT_LT(c[0]->closed_through, at_1650 + 300) << "a checkpoint claims the unpublished window";

  // The next run publishes the window the failed one could not.
  std::vector<std::string> published;
  options.publish = [&](const std::string&, const std::string& name) { published.push_back(name); };
  ConsumeSummary s = run_consume(broker_settings(bootstrap), options);
  EXPECT_EQ(published, std::vector<std::string>{"turnstile_uploads_20230923T165000_20230923T165500.csv.gz"});
  EXPECT_EQ(s.committed.at(0), 1);
}

TEST(ConsumeJob, AnotherWindowConfigIsRefusedUnlessForced) {
  kafka::MockCluster cluster(1);
  ConsumeOptions options = one_partition_job(cluster, "config", {{"k", event_line("A001", "id-1", "16:51:00", 1, 1)}});
  const std::string bootstrap = cluster.bootstrap_servers();
  run_consume(broker_settings(bootstrap), options);
  ASSERT_TRUE(committed(bootstrap, "g-config", "config", 1)[0]);
  options.window.window_seconds = options.window.slide_seconds = 600;
  EXPECT_THROW(run_consume(broker_settings(bootstrap), options), UsageError);
  options.force_window_config = true;
  EXPECT_NO_THROW(run_consume(broker_settings(bootstrap), options));
  EXPECT_EQ(committed(bootstrap, "g-config", "config", 1)[0]->window.window_seconds, 600);
}

// The mock cluster refuses commits while a group is joining (a real broker takes them until the join
// completes), so the eager protocol's revoke commit fails there: the group uses cooperative-sticky, whose
// revocations run while the group is stable (one member joining at a time: one member revokes per round).
TEST(ConsumeJob, ARevokedPartitionIsCommittedWithoutItsUnmergedWindows) {
  kafka::MockCluster cluster(1);
  cluster.create_topic("rebalance", 4);
  const std::string bootstrap = cluster.bootstrap_servers();
  int64_t total_entries = 0;
  const std::vector<Message> messages = rounds_of_events("A00", 30, 8, 20, 4, total_entries);  // to 16:59:40
  produce(bootstrap, "rebalance", messages);
  Settings settings = broker_settings(bootstrap);
  settings.set_kafka("partition.assignment.strategy", "cooperative-sticky", "test");

  // Plain members that never commit; the first owns every partition before the job joins.
  PlainMember b(settings, "g-rebalance", "rebalance");
  for (int i = 0; i < 300 && b.owned() != 4; ++i) b.poll(100ms);
  ASSERT_EQ(b.owned(), 4u) << "the first member was not assigned every partition";

  // The job joins and gets two partitions; the other member's two keep its windows open (topic-wide
  // windows wait for every partition). With a commit interval of an hour, only a revoke or the end commits.
  const std::string lake = test::scratch_dir("consume_rebalance");
  ConsumeOptions options = job_options("rebalance", "g-rebalance", lake);
  options.commit_interval_seconds = 3600;
  options.flush_open = true;
  BackgroundJob job(settings, options);
  // Each partition's end offset, once the job read it to there.
  auto read_to_end = [&] {
    std::map<int32_t, int64_t> ends;
    if (std::optional<ConsumeProgress> progress = job.progress())
      for (const PartitionProgress& p : progress->by_partition)
        if (p.assigned && p.lag == 0 && p.next_offset > 0) ends[p.partition] = p.next_offset;
    return ends;
  };
  std::map<int32_t, int64_t> ends;  // the job's two partitions
  for (int i = 0; i < 600 && ends.size() != 2; ++i) {
    b.poll(100ms);
    ends = read_to_end();
  }
  ASSERT_EQ(ends.size(), 2u) << "the job did not read two partitions of its own to their end";
  EXPECT_EQ(b.owned(), 2u);
  for (const auto& [partition, end] : ends)
    EXPECT_FALSE(committed(bootstrap, "g-rebalance", "rebalance", 4)[partition]) << "committed before a revoke";

  // Two more members join, one after the other (overlapping joins would restart a round while the job
  // commits): every member gets one partition, so the job gives one up and commits it.
  std::atomic<int> newcomers_assigned = 0;
  kafka::ConsumerOptions newcomer;
  newcomer.conf.required["group.id"] = "g-rebalance";
  newcomer.conf.required["enable.auto.commit"] = "false";
  newcomer.on_rebalance = [&](kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
    if (kind == kafka::RebalanceKind::assign && !list.empty()) ++newcomers_assigned;
  };
  kafka::KafkaConsumer c(settings, newcomer), d(settings, newcomer);
  c.subscribe({"rebalance"});
  for (int i = 0; i < 300 && newcomers_assigned < 1; ++i) {
    b.poll(50ms);
    c.poll(50ms);
  }
  ASSERT_EQ(newcomers_assigned, 1) << "the third member got no partition";
  d.subscribe({"rebalance"});
  for (int i = 0; i < 300 && newcomers_assigned < 2; ++i) {
    b.poll(30ms);
    c.poll(30ms);
    d.poll(30ms);
  }
  ASSERT_EQ(newcomers_assigned, 2) << "the fourth member got no partition";
  int32_t revoked = -1;
  for (int i = 0; i < 300 && revoked < 0; ++i) {
    b.poll(30ms);
    c.poll(30ms);
    d.poll(30ms);
    std::map<int32_t, int64_t> now = read_to_end();
    if (now.size() == 1)
      for (const auto& [partition, end] : ends)
        if (!now.count(partition)) revoked = partition;
  }
  ASSERT_GE(revoked, 0) << "no partition of the job was revoked";
  std::optional<ConsumeCheckpoint> at_revoke = committed(bootstrap, "g-rebalance", "rebalance", 4)[revoked];
  ASSERT_TRUE(at_revoke) << "partition " << revoked << " was revoked without a commit";
  EXPECT_EQ(at_revoke->read_through, ends[revoked]);
  // Two partitions of the topic were never read: no window is in the lake, so the checkpoint claims none
  // closed and replays from the first event of the windows closed here but not merged.
  EXPECT_EQ(at_revoke->closed_through, WindowEngine::minus_infinity);
  EXPECT_EQ(at_revoke->offset, 0);
  EXPECT_TRUE(test::lake_files(lake).empty());

  // The other members leave (the newcomers hold a partition each: librdkafka 2.0 asserts when a
  // cooperative-sticky member that never got an assignment is closed): the job gets every partition,
  // reads the topic to its end and writes it all.
  d.close();
  c.close();
  b.close();
  ConsumeSummary summary = job.finish();
  EXPECT_GE(summary.counts.replayed, static_cast<uint64_t>(ends[revoked])) << "the revoked partition was not re-read";
  EXPECT_EQ(summary.counts.accepted, messages.size()) << "replayed events were counted again";
  EXPECT_EQ(lake_entries(lake), total_entries) << "an event lost or doubled across the rebalances";
  for (const auto& checkpoint : committed(bootstrap, "g-rebalance", "rebalance", 4)) {
    ASSERT_TRUE(checkpoint);
    EXPECT_EQ(checkpoint->closed_through, closed_through_everything);  // --flush-open: every window written
    EXPECT_EQ(checkpoint->offset, checkpoint->read_through);           // nothing open to replay
  }
}

// A member killed after its partitions' progress markers were written but before its commit holds those
// partitions until its session times out. -e must not exit 0 meanwhile: the group's offsets would stay
// behind the lake and the next run re-read (and dead-letter again) what the dead member read.
TEST(ConsumeJob, ExitAtEndWaitsForEveryPartitionsCommit) {
  kafka::MockCluster cluster(1);
  cluster.create_topic("deadmember", 2);
  const std::string bootstrap = cluster.bootstrap_servers();
  int64_t total_entries = 0;
  const std::vector<Message> messages = rounds_of_events("B00", 20, 4, 30, 2, total_entries);  // to 16:59:30
  std::map<int32_t, int64_t> ends;
  for (const Message& m : messages) ++ends[m.partition];
  produce(bootstrap, "deadmember", messages);
  Settings settings = broker_settings(bootstrap);
  settings.set_kafka("partition.assignment.strategy", "cooperative-sticky", "test");

  // A first run, in another group, writes the whole topic to the lake with a marker per partition: what a
  // member that died before its commit leaves behind for the group below.
  const std::string lake = test::scratch_dir("consume_deadmember");
  ConsumeOptions first = job_options("deadmember", "g-first", lake);
  first.flush_open = true;
  run_consume(settings, first, {});
  ASSERT_EQ(lake_entries(lake), total_entries);

  // The dead member: it holds both partitions and never commits.
  PlainMember b(settings, "g-dead", "deadmember");
  for (int i = 0; i < 300 && b.owned() != 2; ++i) b.poll(100ms);
  ASSERT_EQ(b.owned(), 2u) << "the first member was not assigned both partitions";

  ConsumeOptions options = job_options("deadmember", "g-dead", lake);
  options.flush_open = true;
  BackgroundJob job(settings, options);
  auto read_to_end = [&] {
    int n = 0;
    if (std::optional<ConsumeProgress> progress = job.progress())
      for (const PartitionProgress& p : progress->by_partition)
        if (p.assigned && p.lag == 0 && p.next_offset == ends[p.partition]) ++n;
    return n;
  };
  for (int i = 0; i < 600 && read_to_end() != 1 && !job.done(); ++i) b.poll(100ms);
  ASSERT_EQ(read_to_end(), 1) << "the job did not read a partition of its own to its end";
  // Every marker says "read to the end and flushed", but the dead member's partition is not committed.
  for (int i = 0; i < 30; ++i) b.poll(100ms);
  EXPECT_FALSE(job.done()) << "-e exited while a partition of the group was not committed";
  EXPECT_EQ(b.owned(), 1u);

  b.close();  // its partition goes to the job, which reads and commits it
  job.finish();
  std::vector<std::optional<ConsumeCheckpoint>> checkpoints = committed(bootstrap, "g-dead", "deadmember", 2);
  for (int32_t p = 0; p < 2; ++p) {
    ASSERT_TRUE(checkpoints[p]) << "partition " << p << " not committed";
    EXPECT_EQ(checkpoints[p]->read_through, ends[p]);
    EXPECT_EQ(checkpoints[p]->closed_through, closed_through_everything);
  }
  EXPECT_EQ(lake_entries(lake), total_entries) << "re-reading what was in the lake doubled an event";
}

namespace {

// Every lake file under `dir` (relative name -> gunzipped text).
std::map<std::string, std::string> lake_contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const std::string& file : test::lake_files(dir))
    out[std::filesystem::relative(file, dir).string()] = test::gunzip_file(file);
  return out;
}

}  // namespace

// --threads: partitions windowed on several threads give the lake, the counts and the checkpoints of one
// thread, also in a restart that replays the open windows (with another number of threads).
TEST(ConsumeJob, AnyNumberOfThreadsGivesTheLakeCountsAndCheckpointsOfOne) {
  kafka::MockCluster cluster(1);
  const std::string topic = "threads";
  constexpr int partitions = 5;
  cluster.create_topic(topic, partitions);
  int64_t entries = 0;
  // 1-minute windows over 16:50-16:58:20: the first run closes most, the last stay open.
  std::vector<Message> messages = rounds_of_events("T", 25, 23, 20, partitions, entries);
  messages.insert(messages.begin() + 2 * 23, {"k1", event_line("T1", "id-1", "16:50:00", 2, 1), 1});  // the same event again
  messages.push_back({"x", "not,a,turnstile", 2});                               // bad
  messages.push_back({"k3", event_line("T3", "late-1", "16:50:00", 7, 1), 3});  // late by then
  const std::string bootstrap = cluster.bootstrap_servers();
  produce(bootstrap, topic, messages);

  struct Run {
    std::string group, lake;
    ConsumeSummary first, second;  // -e (open windows stay in the checkpoints), then -e --flush-open
  };
  auto run_with = [&](unsigned first_threads, unsigned second_threads) {
    Run run;
    run.group = "g" + std::to_string(first_threads) + "-" + std::to_string(second_threads);
    run.lake = test::scratch_dir("consume_threads_" + run.group);
    ConsumeOptions options = job_options(topic, run.group, run.lake);
    options.window = {.window_seconds = 60, .slide_seconds = 60, .watermark_delay_seconds = 60};
    options.threads = first_threads;
    run.first = run_consume(broker_settings(bootstrap), options);
    options.threads = second_threads;
    options.flush_open = true;
    run.second = run_consume(broker_settings(bootstrap), options);
    return run;
  };
  const Run one = run_with(1, 1);
  ASSERT_FALSE(lake_contents(one.lake).empty());
  EXPECT_EQ(one.first.counts.bad, 1u);
  EXPECT_EQ(one.first.counts.duplicates, 1u);
  EXPECT_EQ(one.first.counts.late, 1u);
  EXPECT_GT(one.first.open_windows, 0u);
  EXPECT_GT(one.second.counts.replayed, 0u);  // the second run rebuilt the open windows
  EXPECT_EQ(lake_entries(one.lake), entries);
  for (const Run& many : {run_with(3, 2), run_with(8, 4)}) {
    EXPECT_EQ(lake_contents(many.lake), lake_contents(one.lake)) << many.group;
    for (auto [got, want] : {std::pair{&many.first, &one.first}, {&many.second, &one.second}}) {
      EXPECT_EQ(got->counts.read, want->counts.read) << many.group;
      EXPECT_EQ(got->counts.replayed, want->counts.replayed) << many.group;
      EXPECT_EQ(got->counts.accepted, want->counts.accepted) << many.group;
      EXPECT_EQ(got->counts.rejected(), want->counts.rejected()) << many.group;
      EXPECT_EQ(got->counts.duplicates, want->counts.duplicates) << many.group;
      EXPECT_EQ(got->counts.rows, want->counts.rows) << many.group;
      EXPECT_EQ(got->open_windows, want->open_windows) << many.group;
      EXPECT_EQ(got->committed, want->committed) << many.group;
    }
    std::vector<std::optional<ConsumeCheckpoint>> got = committed(bootstrap, many.group, topic, partitions),
                                                  want = committed(bootstrap, one.group, topic, partitions);
    for (int p = 0; p < partitions; ++p) {
      ASSERT_TRUE(got[p] && want[p]) << many.group << " partition " << p;
      EXPECT_EQ(format_checkpoint_metadata(*got[p]), format_checkpoint_metadata(*want[p])) << many.group << " " << p;
    }
  }
}
