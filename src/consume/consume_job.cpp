#include "consume/consume_job.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "consume/consume_checkpoint.h"
#include "consume/window_writer_thread.h"
#include "lake/dead_letter.h"
#include "base/duration.h"
#include "base/error.h"
#include "base/json_writer.h"
#include "kafka/consumer.h"
#include "lake/lake_segments.h"
#include "base/log.h"
#include "event/message_parser.h"
#include "lake/reject_reporter.h"
#include "base/stop_signal.h"
#include "base/text.h"
#include "base/worker_pool.h"

namespace mtastream::consume {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One assigned partition: its engine and what is needed to commit a checkpoint for it.
struct PartitionState {
  int32_t partition = 0;
  std::unique_ptr<engine::WindowEngine> engine;
  int64_t next_offset = -1;  // the offset after the last message read (-1: none read yet)
  int64_t start_offset = -1;  // the committed offset we resumed from (-1: none)
  int64_t restored_closed_through = engine::WindowEngine::minus_infinity;
  int64_t restored_read_through = 0;
  // The watermark of the last commit, applied once the replay reached restored_read_through (the idle
  // rule may have moved it above what the replayed events give). minus_infinity: nothing (left) to do.
  int64_t resume_watermark = engine::WindowEngine::minus_infinity;
  bool eof = false;
  bool flushed = false;         // --flush-open wrote every window: closed through everything
  // Topic-wide windows: closed windows handed to the writer but not yet in the lake (merged): the commit
  // stays where a replay rebuilds them.
  struct Unmerged {
    int64_t end, min_position, watermark_at_min;
  };
  std::vector<Unmerged> unmerged;
  std::string marker;           // the progress marker last submitted
  int64_t expected_first = -1;  // no commit yet: the partition's beginning; reading must start there
  std::string committed;  // "offset|metadata" last committed (or resumed from): skip unchanged commits
};

// One message of a poll, for the thread that owns its partition (null message: the partition's end).
struct WindowTask {
  WindowTask(PartitionState* s, const rd_kafka_message_t* m, bool r) : state(s), message(m), replaying(r) {}
  PartitionState* state;
  const rd_kafka_message_t* message;
  bool replaying;  // read before the last commit: rebuilds windows, not counted again
  bool parsed = false;
  engine::AddResult result = engine::AddResult::accepted;
  std::string reason;  // a rejected message's
};
struct WindowWorker {
  event::MessageParser parser;
  event::TurnstileEvent event;
  std::vector<WindowTask*> tasks;  // this poll's, for the partitions this thread owns (partition % threads)
};

class ConsumeJob {
 public:
  ConsumeJob(const config::Settings& settings, const ConsumeOptions& options)
      : options_(options), brokers_(kafka::bootstrap_servers(settings)), dead_letter_(options.dead_letter),
        writer_(options), workers_(std::max(1u, options.threads)) {
    if (workers_.size() > 1) {
      pool_ = std::make_unique<WorkerPool>(workers_.size() - 1);  // this thread is one of them
      batch_size_ *= workers_.size();  // fewer hand-overs between the threads
    }
    kafka::ConsumerOptions consumer_options;
    // Offsets move only through our own commits, after the files they cover are durable; a new group
    // reads the topic from the beginning, as the original did.
    consumer_options.conf = kafka::consumer_conf({.group = options.group, .client_id = options.client_id,
                                                  .store_offsets = false, .offset_reset = "earliest"});
    if (options.on_statistics) {
      consumer_options.conf.defaults["statistics.interval.ms"] = "1000";
      consumer_options.on_statistics = options.on_statistics;
    }
    consumer_options.on_rebalance = [this](kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
      on_rebalance(kind, list);
    };
    consumer_ = std::make_unique<kafka::KafkaConsumer>(settings, std::move(consumer_options));
  }

  ConsumeSummary run(const std::function<void(const ConsumeProgress&)>& on_progress) {
    const auto started = Clock::now();
    log::debug("{} window thread{}", workers_.size(), workers_.size() == 1 ? "" : "s");
    try {
      consumer_->subscribe({options_.topic});
      loop(on_progress);
      if (options_.exit_at_end && !stop_requested()) {
        finish_at_end();
      } else {
        final_commit();
      }
      writer_.wait_idle();
      summary_.staged_windows = options_.per_partition ? 0 : writer_.segments().staged_windows();
      consumer_->close();
      dead_letter_.close();
    } catch (...) {
      failed_ = true;  // no commit from here on: the rebalance handler on close must not move offsets
      throw;
    }
    summary_.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    summary_.counts = all_counts();
    if (on_progress) on_progress(progress());  // the final state, equal to the summary's counts
    return summary_;
  }

  ~ConsumeJob() {
    failed_ = failed_ || std::uncaught_exceptions() > 0;
    // Leave the group while the partition states still exist: closing runs the revoke handler.
    try {
      consumer_.reset();
    } catch (...) {
    }
  }

 private:
  void loop(const std::function<void(const ConsumeProgress&)>& on_progress) {
    const auto started = Clock::now();
    auto last_commit = Clock::now();
    auto last_progress = Clock::now();
    const auto commit_interval = std::chrono::duration<double>(options_.commit_interval_seconds);
    std::vector<kafka::MessagePtr> batch;
    while (!stop_requested()) {
      consumer_->poll_batch(100ms, batch_size_, batch);
      window_batch(batch);
      auto now = Clock::now();
      if (!batch.empty()) last_read_at_ = now;
      if (options_.exit_at_end) {
        if (done_at_end(now)) break;
        check_exit_at_end_progress(now, started);
      }
      if (now - last_commit >= commit_interval) {
        advance_idle_partitions();
        commit_all();
        last_commit = now;
      }
      if (on_progress && now - last_progress >= 500ms) {
        on_progress(progress());
        last_progress = now;
      }
    }
  }

  std::chrono::duration<double> assignment_timeout() const {
    return std::chrono::duration<double>(options_.assignment_timeout_seconds);
  }
  std::string assignment_timeout_text() const {
    return format_duration(static_cast<int64_t>(options_.assignment_timeout_seconds));
  }

  // -e: true once every partition this member owns is read to its end (and, with topic-wide windows,
  // every partition of the topic is in the lake and committed). Throws when the group does not get there
  // within --assignment-timeout.
  bool done_at_end(Clock::time_point now) {
    if (!at_end()) {
      waiting_for_group_ = false;
      return false;
    }
    // Topic-wide windows: -e also waits until every partition of the topic was read to its end by some
    // member (a dead member holds its partitions until its session times out), so that a cron job's
    // upload after exit 0 never misses a partition. With --flush-open each member flushes what it owns
    // first and waits for every partition's flush: a member killed after reading to the end but before
    // its flush left open windows that only the partition's next owner writes. It also waits for every
    // partition's commit, so that exit 0 leaves the group with no lag to re-read.
    if (options_.per_partition) return true;
    if (options_.flush_open) flush_owned();
    if (topic_read_to_end()) return true;
    if (!waiting_for_group_) {
      waiting_for_group_ = true;
      waiting_since_ = now;
      log::info("read to the end of its partitions; waiting for the group to read and commit partitions{} of {}",
                unread_, options_.topic);
    } else if (now - waiting_since_ >= assignment_timeout()) {
      throw Error(fmt::format(
          "partitions{} of '{}' were not read to their end and committed by any member of group '{}' within {} "
          "(--assignment-timeout): is a member stuck, or did one die without leaving (its partitions wait "
          "for its session to time out)? What this member read is committed; run again",
          unread_, options_.topic, options_.group, assignment_timeout_text()));
    }
    return false;
  }

  // -e promises every partition this member owned was read to its end: reading that stalls, a member whose
  // partitions were all revoked or lost (fenced, broker gone) and never got new ones, or one that never got
  // any, gives up with an error after --assignment-timeout, not exit 0.
  void check_exit_at_end_progress(Clock::time_point now, Clock::time_point started) const {
    if (owns_partitions() && !at_end() && now - last_read_at_ >= assignment_timeout())
      throw Error(fmt::format("nothing could be read from {} for {} (--assignment-timeout) while partitions were "
                              "left to read: is the broker at {} gone? Offsets stay at the last commit (the lake files "
                              "are safe); run again",
                              options_.topic, assignment_timeout_text(), brokers_));
    if (assigned_once_ && !owns_partitions() && now - unassigned_since_ >= assignment_timeout())
      throw Error(fmt::format(
          "this member of group '{}' lost its partitions of '{}' ({}) and got none back within {} "
          "(--assignment-timeout): its work is committed up to its last commit ({} commits this run); "
          "run it again to finish the topic",
          options_.group, options_.topic, lost_reason_, assignment_timeout_text(), counts_.commits));
    if (!assigned_once_ && now - started >= assignment_timeout())
      throw Error(fmt::format(
          "no partition of '{}' was assigned to this member of group '{}' within {}: is the broker at {} "
          "reachable, does the topic exist, and has the group fewer members than the topic has partitions? "
          "(--assignment-timeout)",
          options_.topic, options_.group, assignment_timeout_text(), brokers_));
  }

  ConsumeCounts all_counts() {
    ConsumeCounts c = counts_;
    static_cast<LakeCounts&>(c) = writer_.counts();  // the writer thread counts only these
    return c;
  }

  // Every partition this member owns now is read to its end (false while it owns none: a group member
  // may get its partitions a moment later, or back after a rebalance).
  bool at_end() const {
    if (!owns_partitions()) return false;
    for (const auto& state : states_)
      if (state && !state->eof) return false;
    return true;
  }

  // Topic-wide windows: every partition's progress marker says it was read to the end offset the topic
  // had when this member was first assigned. Settles first (our own markers), at most twice a second.
  bool topic_read_to_end() {
    auto now = Clock::now();
    if (now - last_group_check_ < 500ms) return false;
    last_group_check_ = now;
    settle();
    std::map<int32_t, std::string> markers = writer_.segments().read_progress();
    unread_.clear();
    for (int32_t p : topic_partitions_) {
      std::string error;
      std::optional<ConsumeCheckpoint> c;
      if (auto it = markers.find(p); it != markers.end()) c = parse_checkpoint_metadata(it->second, 0, error);
      auto end = topic_ends_.find(p);
      if (end == topic_ends_.end() || end->second == 0) continue;  // empty when we started
      if (!c || c->read_through < end->second || (options_.flush_open && c->closed_through != closed_through_everything))
        unread_ += fmt::format(" {}", p);
    }
    if (!unread_.empty()) return false;
    // Every partition is in the lake. Ours are committed now (the other members wait for that too), and
    // the others' commits must have caught up: a member killed between its marker and its commit holds
    // its partitions until its session times out, and an exit then would leave the group's lag above zero
    // and the next run re-reading (and dead-lettering again) what that member read.
    commit_all();
    unread_ = uncommitted_elsewhere();
    return unread_.empty();
  }

  // The partitions of the topic this member does not own whose committed checkpoint is not yet at the end
  // `topic_read_to_end` waits for (" 3 5"; all of them when the group's offsets cannot be read now).
  std::string uncommitted_elsewhere() {
    std::vector<kafka::TopicPartition> others;
    std::string all;
    for (int32_t p : topic_partitions_) {
      auto end = topic_ends_.find(p);
      if (find_state(p) || end == topic_ends_.end() || end->second == 0) continue;
      others.push_back({options_.topic, p, RD_KAFKA_OFFSET_INVALID, {}});
      all += fmt::format(" {}", p);
    }
    if (others.empty()) return {};
    std::vector<kafka::TopicPartition> stored;
    try {
      stored = consumer_->committed(others, 10s);
    } catch (const Error& e) {
      log::debug("{} (checked again shortly)", e.what());
      return all;
    }
    std::string waiting;
    for (const kafka::TopicPartition& tp : stored) {
      std::string error;
      std::optional<ConsumeCheckpoint> c;
      if (tp.offset >= 0) c = parse_checkpoint_metadata(tp.metadata, tp.offset, error);
      if (!c || c->read_through < topic_ends_[tp.partition] ||
          (options_.flush_open && c->closed_through != closed_through_everything))
        waiting += fmt::format(" {}", tp.partition);
    }
    return waiting;
  }

  bool owns_partitions() const {
    for (const auto& state : states_)
      if (state) return true;
    return false;
  }

  PartitionState* find_state(int32_t partition) {
    if (partition < 0 || static_cast<size_t>(partition) >= states_.size()) return nullptr;
    return states_[partition].get();
  }

  void handle_error(const rd_kafka_message_t& message) {
    std::string what = message.rkt ? fmt::format("{}/{}", rd_kafka_topic_name(message.rkt), message.partition)
                                   : std::string("consumer");
    std::string reason = rd_kafka_message_errstr(&message);
    if (kafka::is_fatal(message.err)) throw Error(fmt::format("{}: {}", what, kafka::scrub_secrets(reason)));
    log::warn("kafka: {}: {}", what, kafka::scrub_secrets(reason));
  }

  // The end of a partition's data for now. A partition with nothing to read gets a position here, so that
  // its checkpoint (and its idle rule) can be committed.
  void at_partition_end(PartitionState& state, int64_t offset) {
    check_start(state, offset);
    state.eof = true;
    // Everything before the end is read (past control records too).
    if (offset >= 0 && offset > state.next_offset && offset > state.start_offset) state.next_offset = offset;
    const bool replayed_all = std::max(offset, state.next_offset) >= state.restored_read_through;
    tasks_.emplace_back(&state, nullptr, !replayed_all);
  }

  // The messages read before the last commit are replayed: the partition goes on from the watermark it
  // had then, as a run that never stopped would. Without this, an idle partition's watermark would fall
  // back to its events' and a later exact re-send of an event whose windows are already in the lake
  // would count as a duplicate (its ID not behind that lower watermark) instead of late.
  static void end_replay(PartitionState& state) {
    const int64_t wm = std::exchange(state.resume_watermark, engine::WindowEngine::minus_infinity);
    if (wm != engine::WindowEngine::minus_infinity) state.engine->advance_watermark(wm);
  }

  // Without a commit, reading must start at the partition's beginning: else (auto.offset.reset=latest, or
  // retention deleted records meanwhile) the first windows would be written partial as if complete.
  void check_start(PartitionState& state, int64_t first_offset) {
    if (state.expected_first < 0) return;
    const int64_t expected = std::exchange(state.expected_first, -1);
    if (first_offset > expected)
      report_gap(state.partition, expected, first_offset,
                 "the group has no committed offset and reading did not start at the partition's beginning "
                 "(auto.offset.reset=latest?)");
  }

  void report_gap(int32_t partition, int64_t expected, int64_t resumed, std::string_view why) {
    std::string what = fmt::format("{}/{}: {}: offsets {} to {} would be skipped", options_.topic, partition, why,
                                   expected, resumed - 1);
    if (!options_.allow_gaps)
      throw Error(what + ", and the windows they belong to written partial as if complete. Re-read the topic "
                         "with a new group (-G), or pass --allow-gaps to go on (those windows are then reported "
                         "as partial and never replace a file already in the lake)");
    log::warn("{} (--allow-gaps: the windows these offsets belong to will be partial)", what);
    summary_.gaps.push_back({partition, expected, resumed});
  }

  // One poll's messages: checked in order here, parsed and windowed on the thread that owns each one's
  // partition (--threads), then counted, dead-lettered and written in fetch order here, so that the
  // lake, the dead letters and the counts are the same whatever the number of threads.
  void window_batch(const std::vector<kafka::MessagePtr>& batch) {
    tasks_.clear();
    tasks_.reserve(batch.size());  // no reallocation: the workers hold pointers into it
    for (const kafka::MessagePtr& message : batch) {
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        admit(*message);
      } else if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (PartitionState* state = find_state(message->partition)) at_partition_end(*state, message->offset);
      } else {
        handle_error(*message);
      }
    }
    if (tasks_.empty()) return;
    if (!pool_) {
      for (WindowTask& task : tasks_) window(task, workers_[0]);
    } else {
      for (WindowWorker& worker : workers_) worker.tasks.clear();
      for (WindowTask& task : tasks_) workers_[task.state->partition % workers_.size()].tasks.push_back(&task);
      pool_->run_with_caller([this](unsigned w) {
        for (WindowTask* task : workers_[w].tasks) window(*task, workers_[w]);
      });
    }
    for (const WindowTask& task : tasks_) count(task);
    for (auto& state : states_)
      if (state && state->engine->has_closed()) write_closed(*state);
  }

  // A message of an assigned partition not read before: a task for its partition's thread.
  void admit(const rd_kafka_message_t& message) {
    PartitionState* state = find_state(message.partition);
    if (!state) return;  // a message fetched before its partition was revoked
    const int64_t offset = message.offset;
    check_start(*state, offset);
    // Already seen, or fetched before the partition was last (re)assigned: never add an event twice.
    if (offset < state->next_offset || (state->next_offset < 0 && offset < state->start_offset)) return;
    // -e --flush-open closed everything once the partition was read to its end: a message past that end
    // (sent while the group finishes) stays unread, past the commit.
    if (state->flushed) return;
    state->next_offset = offset + 1;
    state->eof = false;
    // Offsets below read_through were read before the last commit: their windows are rebuilt, but
    // what was rejected or counted then is not counted or dead-lettered again.
    tasks_.emplace_back(state, &message, offset < state->restored_read_through);
  }

  // On the partition's thread: the message parsed and added to the partition's engine (nothing shared).
  void window(WindowTask& task, WindowWorker& worker) const {
    PartitionState& state = *task.state;
    if (!task.replaying) end_replay(state);
    if (!task.message) return;
    const rd_kafka_message_t& message = *task.message;
    if (!worker.parser.parse({static_cast<const char*>(message.payload), message.len}, worker.event)) {
      if (!task.replaying) task.reason = worker.parser.error();
      return;
    }
    const int64_t watermark = state.engine->watermark();
    try {
      task.result = state.engine->add(worker.event, message.offset);
    } catch (const engine::GroupKeyLimitError& e) {
      throw Error(fmt::format("{}: {}", lake::kafka_source(options_.topic, state.partition, message.offset), e.what()));
    }
    task.parsed = true;
    if (!task.replaying && (task.result == engine::AddResult::late || task.result == engine::AddResult::overflow))
      task.reason = engine::rejection_reason(task.result, worker.event.timestamp, watermark);
  }

  // A windowed message counted (in the run's and its partition's counts) and, when rejected, dead-lettered.
  void count(const WindowTask& task) {
    if (!task.message) return;
    const rd_kafka_message_t& message = *task.message;
    ConsumeCounts& mine = partition_counts_[task.state->partition];
    auto add = [&](uint64_t ConsumeCounts::*field) {
      ++(counts_.*field);
      ++(mine.*field);
    };
    add(&ConsumeCounts::read);
    if (task.replaying) {  // counted and dead-lettered before the restart
      add(&ConsumeCounts::replayed);
      return;
    }
    if (task.parsed && task.result == engine::AddResult::accepted) {
      add(&ConsumeCounts::accepted);
    } else if (task.parsed && task.result == engine::AddResult::duplicate) {
      add(&ConsumeCounts::duplicates);
    } else {
      add(!task.parsed ? &ConsumeCounts::bad
                       : task.result == engine::AddResult::late ? &ConsumeCounts::late : &ConsumeCounts::overflow);
      reject(task.state->partition, message.offset, task.reason,
             {static_cast<const char*>(message.payload), message.len});
    }
  }

  void reject(int32_t partition, int64_t offset, std::string_view reason, std::string_view bytes) {
    reject_(lake::kafka_source(options_.topic, partition, offset), reason, bytes);
  }

  // Hands every window the partition's engine closed to the writer (durable at the next wait_idle()).
  void write_closed(PartitionState& state) {
    for (engine::ClosedWindow& window : state.engine->take_closed()) {
      if (!options_.per_partition) state.unmerged.push_back({window.end, window.min_position, window.watermark_at_min});
      writer_.submit(state.partition, std::move(window));
    }
  }

  // How far the partition's windows are closed (and, once the writer is idle, staged).
  int64_t closed_through(const PartitionState& state) const {
    return state.flushed ? closed_through_everything
                         : std::max(state.engine->watermark(), state.restored_closed_through);
  }

  // What this run's checkpoints record besides positions (compared with stored ones).
  ConsumeCheckpoint checkpoint_config() const {
    ConsumeCheckpoint c;
    c.window = options_.window;
    c.group_columns = options_.window.group_columns;
    c.partitioning = lake::lake_partitioning_text(options_.partitioning);
    c.layout = options_.layout;
    c.topic_windows = !options_.per_partition;
    c.prefix = options_.prefix;
    return c;
  }

  ConsumeCheckpoint checkpoint(const PartitionState& state) const {
    const engine::WindowEngine& engine = *state.engine;
    ConsumeCheckpoint c = checkpoint_config();
    const int64_t next = state.next_offset >= 0 ? state.next_offset : std::max<int64_t>(state.start_offset, 0);
    std::optional<int64_t> min_open = engine.min_open_position();
    int64_t replay_watermark = min_open ? engine.replay_watermark() : engine.watermark();
    c.closed_through = closed_through(state);
    if (!options_.per_partition) {
      // Windows closed here but not yet in the lake are replayed after a crash like open ones.
      const int64_t merged = writer_.merged_through();
      for (const PartitionState::Unmerged& u : state.unmerged)
        if (u.end > merged && (!min_open || u.min_position < *min_open)) {
          min_open = u.min_position;
          replay_watermark = u.watermark_at_min;
        }
      c.closed_through = std::min(c.closed_through, std::max(merged, state.restored_closed_through));
    }
    c.offset = min_open ? *min_open : next;
    c.replay_watermark = replay_watermark;
    c.watermark = std::max(engine.watermark(), state.resume_watermark);  // also while still replaying
    c.read_through = std::max(next, state.restored_read_through);
    return c;
  }

  // Commits the checkpoints that changed. Everything they cover is already durable (windows are
  // written as they close); dead letters are fsynced first, so read_through never skips one.
  // False when the broker refused or did not answer (the checkpoint before stays valid: a restart only
  // re-reads more); true when committed or nothing changed.
  bool commit(std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints, bool revoking = false) {
    if (failed_) return true;
    std::vector<kafka::TopicPartition> offsets;
    std::vector<std::pair<PartitionState*, std::string>> keys;
    for (auto& [state, c] : checkpoints) {
      if (state->next_offset < 0) continue;  // nothing read since we resumed: nothing new to say
      std::string metadata = format_checkpoint_metadata(c);
      std::string key = fmt::format("{}|{}", c.offset, metadata);
      if (key == state->committed) continue;
      offsets.push_back({options_.topic, state->partition, c.offset, metadata});
      keys.emplace_back(state, std::move(key));
    }
    writer_.wait_idle();  // the files these checkpoints count as written are durable (and uploaded)
    if (offsets.empty()) {
      committed_current_ = std::chrono::system_clock::now();
      return true;
    }
    dead_letter_.flush();
    if (options_.sink) {  // first the warehouse (the table's own recovery point), then Kafka
      std::map<int32_t, sink::SinkCheckpoint> stored;
      for (const kafka::TopicPartition& tp : offsets) stored[tp.partition] = {tp.offset, tp.metadata};
      options_.sink->store_checkpoints(options_.group, options_.topic, stored);
    }
    // A broker that does not answer is a failed commit, not a hang; Ctrl-C shortens the wait.
    rd_kafka_resp_err_t err = consumer_->commit(offsets, 30s, [] { return stop_requested(); });
    // In a revoke, the last chance to commit these partitions: a coordinator that is still finishing the
    // round (other members' SyncGroup in flight; librdkafka's mock cluster refuses commits until then) is
    // retried for up to 30 s (a loaded machine stretches the round: 3 s were not enough under ASan in CI).
    const auto give_up_at = Clock::now() + 30s;
    for (auto pause = 100ms; revoking && err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS && Clock::now() < give_up_at &&
                             !stop_requested();
         pause = std::min<std::chrono::milliseconds>(pause * 2, 1s)) {
      std::this_thread::sleep_for(pause);
      err = consumer_->commit(offsets, 30s, [] { return stop_requested(); });
    }
    if (err) {
      last_commit_error_ = kafka::describe_error(err);
      log::warn("committing offsets of {}: {}", options_.topic, last_commit_error_);
      return false;
    }
    ++counts_.commits;
    last_commit_ = committed_current_ = std::chrono::system_clock::now();
    for (size_t i = 0; i < offsets.size(); ++i) {
      keys[i].first->committed = std::move(keys[i].second);
      summary_.committed[offsets[i].partition] = offsets[i].offset;
      log::debug("committed {}/{}@{} {}", options_.topic, offsets[i].partition, offsets[i].offset, offsets[i].metadata);
    }
    return true;
  }

  bool commit_all() {
    settle();
    std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints;
    for (auto& state : states_)
      if (state) checkpoints.emplace_back(state.get(), checkpoint(*state));
    return commit(std::move(checkpoints));
  }

  // The last commit of a run must succeed: exit 0 says the offsets moved past what was written.
  void final_commit() {
    if (!commit_all())
      throw Error(fmt::format("the offsets of {} could not be committed ({}): the lake files are safe, and the next "
                              "run re-reads from the last commit",
                              options_.topic, last_commit_error_));
  }

  // Topic-wide windows, before a commit: every owned partition's progress marker is written (after its
  // segments), then every window all partitions of the topic passed is merged into the lake (and uploaded).
  void settle() {
    if (options_.per_partition || failed_) return;
    for (auto& state : states_) {
      if (!state) continue;
      ConsumeCheckpoint marker = checkpoint_config();
      marker.closed_through = closed_through(*state);
      // How far this owner has read in this run: while it replays from a checkpoint, the marker must not say
      // "read to the end" (the windows it rebuilds are not staged again yet).
      marker.read_through = state->next_offset >= 0 ? state->next_offset : std::max<int64_t>(state->start_offset, 0);
      std::string text = format_checkpoint_metadata(marker);
      if (text != state->marker) writer_.submit_progress(state->partition, state->marker = std::move(text));
    }
    writer_.wait_idle();
    merge_pass();
    writer_.wait_idle();
    const int64_t merged = writer_.merged_through();
    for (auto& state : states_)
      if (state)
        std::erase_if(state->unmerged, [&](const PartitionState::Unmerged& u) { return u.end <= merged; });
  }

  // Reads every partition's progress marker (written by whichever member owns it) and has the writer merge
  // every window all of them passed. Remembers the most advanced partition for the idle rule.
  void merge_pass() {
    if (topic_partitions_.empty()) return;
    std::map<int32_t, std::string> markers = writer_.segments().read_progress();
    int64_t through = closed_through_everything;
    int64_t most_advanced = engine::WindowEngine::minus_infinity;
    const ConsumeCheckpoint now = checkpoint_config();
    for (int32_t partition : topic_partitions_) {
      auto it = markers.find(partition);
      std::string error;
      std::optional<ConsumeCheckpoint> c;
      if (it != markers.end()) c = parse_checkpoint_metadata(it->second, 0, error);
      if (!c) {
        through = engine::WindowEngine::minus_infinity;  // no segment staged yet: holds every window open
        continue;
      }
      std::string difference = checkpoint_config_difference(*c, now);
      if (!difference.empty() && !options_.force_window_config)
        throw Error(fmt::format("{}/{} is being consumed into '{}' by a member with another configuration: {}. "
                                "Members of one group must share it: merging their windows would mix them",
                                options_.topic, partition, options_.lake_dir, difference));
      through = std::min(through, c->closed_through);
      if (c->closed_through != closed_through_everything) most_advanced = std::max(most_advanced, c->closed_through);
    }
    topic_max_closed_ = most_advanced;
    if (through != engine::WindowEngine::minus_infinity) writer_.request_merge(through);
  }

  // The idle rule (topic-wide windows): see ConsumeOptions::idle_after_seconds. True when it moved one.
  bool advance_idle_partitions() {
    if (options_.per_partition || topic_max_closed_ == engine::WindowEngine::minus_infinity ||
        topic_max_closed_ < engine::WindowEngine::minus_infinity + options_.idle_after_seconds)
      return false;
    const int64_t target = topic_max_closed_ - options_.idle_after_seconds;
    bool moved = false;
    for (auto& state : states_) {
      if (!state || !state->eof || state->flushed || state->next_offset < 0) continue;
      if (std::max(state->engine->watermark(), state->restored_closed_through) >= target) continue;
      log::debug("{}/{} is idle: read to its end, watermark {} behind the topic's {}; moved up to {}",
                 options_.topic, state->partition, state->engine->watermark(), topic_max_closed_, target);
      state->engine->advance_watermark(target);
      write_closed(*state);
      moved = true;
    }
    return moved;
  }

  // -e: every assigned partition was read to its end. Closed windows are written and committed; open ones
  // stay in the checkpoints (the next run goes on from them) unless --flush-open says the stream ended.
  // Topic-wide windows: then every window all partitions passed is merged, after the idle rule.
  void finish_at_end() {
    if (options_.flush_open) flush_owned();
    // The idle rule may move a partition once the others' final progress is known; a few rounds settle it.
    for (int round = 0; round < 4 && !options_.per_partition; ++round) {
      settle();
      if (!advance_idle_partitions()) break;
    }
    final_commit();
    if (!options_.flush_open) {
      summary_.open_windows = 0;
      for (auto& state : states_)
        if (state) summary_.open_windows += state->engine->open_windows();
    }
    for (auto& state : states_) state.reset();  // committed: nothing more to commit on close
  }

  // --flush-open: every window of the partitions this member owns is closed and handed to the writer.
  void flush_owned() {
    for (auto& state : states_) {
      if (!state || state->flushed) continue;
      state->engine->close_all();
      state->flushed = true;
      write_closed(*state);
    }
  }

  void on_rebalance(kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
    ++rebalances_;
    if (kind == kafka::RebalanceKind::assign) {
      assign(list);
      return;
    }
    if (kind == kafka::RebalanceKind::revoke && !failed_) settle();  // what can reach the lake now, before the commit
    std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints;
    std::string names;
    for (const kafka::TopicPartition& tp : list) {
      names += fmt::format(" {}", tp.partition);
      if (PartitionState* state = find_state(tp.partition))
        checkpoints.emplace_back(state, checkpoint(*state));
    }
    if (kind == kafka::RebalanceKind::revoke && !failed_) commit(std::move(checkpoints), /*revoking=*/true);
    log::info("{} partitions{} of {}", kind == kafka::RebalanceKind::revoke ? "revoked" : "lost", names,
              options_.topic);
    for (const kafka::TopicPartition& tp : list)
      if (find_state(tp.partition)) states_[tp.partition].reset();
    if (!owns_partitions()) {
      unassigned_since_ = Clock::now();
      lost_reason_ = kind == kafka::RebalanceKind::revoke ? "revoked in a rebalance" : "lost: session timed out or broker gone";
    }
  }

  void assign(std::vector<kafka::TopicPartition>& list) {
    // Static membership (group.instance.id) can hand a member the partitions its id had on another topic.
    for (const kafka::TopicPartition& tp : list)
      if (tp.topic != options_.topic)
        throw Error(fmt::format("group '{}' assigned {}/{} to this member, which reads '{}': is group.instance.id "
                                "shared with a member of another topic? Nothing was read or committed; use "
                                "another group or instance id",
                                options_.group, tp.topic, tp.partition, options_.topic));
    std::vector<kafka::TopicPartition> stored = stored_checkpoints(list);
    std::string names;
    for (size_t i = 0; i < list.size(); ++i) {
      kafka::TopicPartition& tp = list[i];
      names += fmt::format(" {}", tp.partition);
      tp.offset = stored[i].offset;  // INVALID (none yet): auto.offset.reset, earliest by default
      if (static_cast<size_t>(tp.partition) >= states_.size()) states_.resize(tp.partition + 1);
      states_[tp.partition] = partition_state(stored[i]);
    }
    if (!list.empty()) assigned_once_ = true;
    last_read_at_ = Clock::now();  // progress is measured from the assignment
    log::info("assigned partitions{} of {}", names, options_.topic);
    if (!options_.per_partition) learn_topic_partitions();
  }

  // The stored checkpoint of each partition in `list`: Kafka's commit, or the warehouse's where it differs.
  std::vector<kafka::TopicPartition> stored_checkpoints(const std::vector<kafka::TopicPartition>& list) {
    // The coordinator may not answer while the group is still settling: retry before giving up (giving up
    // is safe: nothing is processed or committed without the stored checkpoints).
    std::vector<kafka::TopicPartition> stored;
    constexpr int attempts = 6;
    for (int attempt = 1;; ++attempt) {
      try {
        stored = consumer_->committed(list, 10s);
        break;
      } catch (const Error& e) {
        if (attempt == attempts || stop_requested()) throw;
        log::warn("{} (attempt {}/{}; retrying)", e.what(), attempt, attempts);
        std::this_thread::sleep_for(std::chrono::milliseconds(250 * attempt));
      }
    }
    if (!options_.sink) return stored;
    // The warehouse's checkpoint is stored before the Kafka commit, in step with the table: when a crash
    // or a failed commit left Kafka's behind (or without one), the warehouse's is where the table is.
    std::map<int32_t, sink::SinkCheckpoint> in_sink = options_.sink->read_checkpoints(options_.group, options_.topic);
    for (kafka::TopicPartition& committed : stored) {
      auto it = in_sink.find(committed.partition);
      if (it == in_sink.end()) continue;
      if (committed.offset == it->second.offset && committed.metadata == it->second.metadata) continue;
      log::info("{}/{}: resuming from the warehouse's checkpoint (offset {}), not Kafka's ({})", options_.topic,
                committed.partition, it->second.offset,
                committed.offset < 0 ? std::string("none") : std::to_string(committed.offset));
      committed.offset = it->second.offset;
      committed.metadata = it->second.metadata;
    }
    return stored;
  }

  // A newly assigned partition's state, resumed from its stored checkpoint (if any).
  std::unique_ptr<PartitionState> partition_state(const kafka::TopicPartition& committed) {
    auto state = std::make_unique<PartitionState>();
    state->partition = committed.partition;
    state->engine = std::make_unique<engine::WindowEngine>(options_.window);
    state->engine->keep_event_ids(!options_.per_partition);  // for dedup by ID across partitions
    // Where the partition's data begins now (retention may have deleted what the checkpoint points at).
    int64_t low = 0;
    if (auto marks = consumer_->watermark_offsets(options_.topic, committed.partition, false, 10s)) low = marks->first;
    if (committed.offset < 0) {
      state->expected_first = low;
      return state;
    }
    state->start_offset = committed.offset;
    std::string error;
    std::optional<ConsumeCheckpoint> c = parse_checkpoint_metadata(committed.metadata, committed.offset, error);
    if (!c) {
      if (committed.offset > low)
        report_gap(committed.partition, low, committed.offset,
                   fmt::format("the committed offset {} carries no mtastream checkpoint ({}; reset by hand?)",
                               committed.offset, error));
      log::info("{}/{}: the committed offset {} carries no mtastream checkpoint ({}); starting there with "
                "empty windows",
                options_.topic, committed.partition, committed.offset, error);
      return state;
    }
    if (low > committed.offset)
      report_gap(committed.partition, committed.offset, low,
                 "records below the committed checkpoint were deleted (retention) before they were read");
    std::string difference = checkpoint_config_difference(*c, checkpoint_config());
    if (!difference.empty()) {
      if (!options_.force_window_config)
        throw UsageError(fmt::format(
            "{}/{}: group '{}' was consumed with another configuration: {}. Changing it mid-stream would "
            "mix windows in the lake; use a new group (-G), or --force-window-config to resume anyway",
            options_.topic, committed.partition, options_.group, difference));
      log::warn("{}/{}: resuming with another configuration ({}) as forced", options_.topic, committed.partition,
                difference);
    }
    state->engine->restore(c->replay_watermark, c->closed_through);
    state->restored_closed_through = c->closed_through;
    state->restored_read_through = c->read_through;
    if (c->closed_through != closed_through_everything)
      state->resume_watermark = std::max(c->closed_through, c->watermark);
    state->committed = fmt::format("{}|{}", committed.offset, committed.metadata);
    log::debug("{}/{}: resuming at offset {} ({})", options_.topic, committed.partition, committed.offset,
               committed.metadata);
    return state;
  }

  // Topic-wide windows wait for every partition of the topic: which there are, and the end -e reads them to.
  void learn_topic_partitions() {
    std::vector<int32_t> partitions = consumer_->partitions_of(options_.topic, 10s);
    for (int32_t p : partitions)  // the end every partition must be read to before -e says done
      if (!topic_ends_.count(p))
        if (auto marks = consumer_->watermark_offsets(options_.topic, p, false, 10s)) topic_ends_[p] = marks->second;
    if (!topic_partitions_.empty() && partitions.size() != topic_partitions_.size())
      log::warn("{} now has {} partitions (had {}): windows wait for every one of them", options_.topic,
                partitions.size(), topic_partitions_.size());
    topic_partitions_ = std::move(partitions);
  }

  ConsumeProgress progress() {
    ConsumeProgress p;
    p.counts = all_counts();
    p.rebalances = rebalances_;
    p.last_commit = last_commit_;
    p.committed_current = committed_current_;
    std::map<int32_t, PartitionProgress> parts;
    for (const auto& [partition, counts] : partition_counts_) {
      parts[partition].partition = partition;
      parts[partition].counts = counts;
    }
    int64_t lag = 0;
    bool known = false;
    for (const auto& state : states_) {
      if (!state) continue;
      PartitionProgress& part = parts[state->partition];
      part.partition = state->partition;
      part.assigned = true;
      part.next_offset = state->next_offset;
      part.open_windows = state->engine->open_windows();
      ++p.partitions;
      p.open_windows += part.open_windows;
      if (auto marks = consumer_->watermark_offsets(options_.topic, state->partition, true)) {
        int64_t next = state->next_offset >= 0 ? state->next_offset : std::max<int64_t>(state->start_offset, 0);
        part.lag = std::max<int64_t>(0, marks->second - next);
        lag += part.lag;
        known = true;
      }
    }
    p.lag = known ? lag : -1;
    for (auto& [partition, part] : parts) p.by_partition.push_back(part);
    return p;
  }

  const ConsumeOptions& options_;
  std::string brokers_;  // for error messages
  lake::DeadLetterWriter dead_letter_;
  lake::RejectReporter reject_{dead_letter_};
  WindowWriterThread writer_;                           // destroyed after the consumer, whose close may commit
  std::unique_ptr<kafka::KafkaConsumer> consumer_;
  std::vector<std::unique_ptr<PartitionState>> states_;  // by partition id
  ConsumeCounts counts_;
  std::map<int32_t, ConsumeCounts> partition_counts_;  // the message counts of counts_, by partition
  uint64_t rebalances_ = 0;
  std::chrono::system_clock::time_point last_commit_;        // the last successful commit
  std::chrono::system_clock::time_point committed_current_;  // ... or round with nothing new to commit
  ConsumeSummary summary_;
  bool failed_ = false;
  bool assigned_once_ = false;
  Clock::time_point unassigned_since_;  // when this member last came to own no partition
  std::map<int32_t, int64_t> topic_ends_;  // partition -> end offset when first assigned (-e waits for it)
  bool waiting_for_group_ = false;
  Clock::time_point waiting_since_, last_group_check_;
  std::string unread_;  // partitions not yet read to their end and committed by the group (" 3 5")
  std::string last_commit_error_;
  Clock::time_point last_read_at_ = Clock::now();  // the last message or event polled (-e: no progress for long = error)
  std::string lost_reason_;
  std::vector<int32_t> topic_partitions_;  // every partition of the topic (topic-wide windows wait for all)
  int64_t topic_max_closed_ = engine::WindowEngine::minus_infinity;  // the most advanced partition at the last merge pass
  std::vector<WindowTask> tasks_;
  std::vector<WindowWorker> workers_;
  std::unique_ptr<WorkerPool> pool_;  // --threads > 1
  size_t batch_size_ = 512;
};

}  // namespace

LakeCounts& LakeCounts::operator+=(const LakeCounts& o) {
  windows += o.windows;
  segments += o.segments;
  merge_overflow += o.merge_overflow;
  merge_duplicates += o.merge_duplicates;
  rows += o.rows;
  files += o.files;
  bytes += o.bytes;
  uploaded += o.uploaded;
  return *this;
}

ConsumeSummary run_consume(const config::Settings& settings, const ConsumeOptions& options,
                           const std::function<void(const ConsumeProgress&)>& on_progress) {
  if (options.topic.empty()) throw UsageError("consume needs a topic (-t TOPIC)");
  if (options.group.empty()) throw UsageError("consume needs a consumer group (-G GROUP) to commit its progress");
  engine::validate_window_config(options.window);
  if (options.flush_open && !options.exit_at_end)
    throw UsageError("--flush-open applies to -e (a stream that has ended) only");
  if (options.idle_after_seconds < 0) throw UsageError("--idle-after must not be negative");
  if (options.sink && options.per_partition)
    throw UsageError("--sink loads topic-wide windows (one row per window and key); it does not apply to --per-partition");
  if (size_t removed = lake::LakeSegments(options.lake_dir, options.prefix, options.topic, options.layout,
                                    options.window.group_columns, options.partitioning, options.shared_staging)
                           .remove_stale_temp_files())
    log::info("removed {} temporary files a killed writer left in '{}'", removed, options.lake_dir);
  ConsumeJob job(settings, options);
  return job.run(on_progress);
}

std::string consume_summary_json(const ConsumeSummary& s, const std::string& topic) {
  const ConsumeCounts& c = s.counts;
  JsonWriter json;
  json.begin_object().field("topic", std::string_view(topic));
  for (auto [name, value] : {std::pair<const char*, uint64_t>{"read", c.read}, {"replayed", c.replayed},
                             {"accepted", c.accepted}, {"rejected", c.rejected()}, {"bad", c.bad}, {"late", c.late},
                             {"overflow", c.overflow}, {"duplicates", c.duplicates}, {"windows", c.windows},
                             {"rows", c.rows}, {"files", c.files}, {"bytes", c.bytes}, {"uploaded", c.uploaded},
                             {"commits", c.commits}, {"segments", c.segments}, {"merge_overflow", c.merge_overflow},
                             {"merge_duplicates", c.merge_duplicates},
                             {"open_windows", uint64_t{s.open_windows}}, {"staged_windows", uint64_t{s.staged_windows}}})
    json.field(name, value);
  json.key("seconds").value(s.seconds);
  json.key("committed").begin_object();
  for (const auto& [partition, offset] : s.committed) json.field(std::to_string(partition), offset);
  json.end_object().key("gaps").begin_array();
  for (const ConsumeGap& g : s.gaps)
    json.begin_object().field("partition", int64_t{g.partition}).field("expected", g.expected)
        .field("resumed", g.resumed).end_object();
  json.end_array().end_object();
  return json.str();
}

}  // namespace mtastream::consume
