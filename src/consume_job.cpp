#include "consume_job.h"

#include <dirent.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "consume_checkpoint.h"
#include "dead_letter.h"
#include "duration.h"
#include "error.h"
#include "kafka/consumer.h"
#include "log.h"
#include "message_parser.h"
#include "stop_signal.h"
#include "text.h"

namespace mtastream {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One assigned partition: its engine and what is needed to commit a checkpoint for it.
struct PartitionState {
  int32_t partition = 0;
  std::unique_ptr<WindowEngine> engine;
  int64_t next_offset = -1;  // the offset after the last message read (-1: none read yet)
  int64_t start_offset = -1;  // the committed offset we resumed from (-1: none)
  int64_t restored_closed_through = WindowEngine::minus_infinity;
  int64_t restored_read_through = 0;
  bool eof = false;
  std::string committed;  // "offset|metadata" last committed (or resumed from): skip unchanged commits
};

// Writes (and publishes) closed windows on its own thread, so the consumer thread keeps draining
// librdkafka's queue while files are compressed, fsynced and uploaded. wait_idle() is the barrier
// before every commit: it returns once everything submitted is durable, or throws the first failure.
class LakeFileWriter {
 public:
  LakeFileWriter(const ConsumeOptions& options)
      : options_(options), lake_(options.lake_dir, options.layout), thread_([this] { run(); }) {}
  ~LakeFileWriter() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void submit(ClosedWindow window, std::string name) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return jobs_.size() < max_pending || error_; });
    if (error_) std::rethrow_exception(error_);
    jobs_.push_back({std::move(window), std::move(name)});
    wake_.notify_one();
  }

  void wait_idle() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return (jobs_.empty() && !busy_) || error_; });
    if (error_) std::rethrow_exception(error_);
  }

  // Files, rows, bytes and uploads done so far.
  ConsumeCounts counts() {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  static constexpr size_t max_pending = 64;
  struct Job {
    ClosedWindow window;
    std::string name;
  };

  void run() {
    std::unique_lock lock(mutex_);
    std::vector<Job> batch;
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stop_ and nothing left
      batch.clear();
      while (!jobs_.empty()) {  // everything queued goes in one batch: one journal commit for many files
        batch.push_back(std::move(jobs_.front()));
        jobs_.pop_front();
      }
      busy_ = true;
      done_.notify_all();  // room in the queue again
      lock.unlock();
      std::exception_ptr error;
      ConsumeCounts done;
      try {
        if (!error_) {
          std::vector<const ClosedWindow*> windows;
          std::vector<std::string> names;
          for (const Job& job : batch) {
            windows.push_back(&job.window);
            names.push_back(job.name);
          }
          std::vector<LakeWriter::Written> written = lake_.write_many(windows, names);
          for (size_t i = 0; i < written.size(); ++i) {
            log::debug("wrote {} ({} rows)", written[i].path, written[i].rows);
            ++done.files;
            ++done.windows;
            done.rows += written[i].rows;
            done.bytes += written[i].bytes;
          }
          if (options_.publish)
            for (size_t i = 0; i < written.size(); ++i) {
              options_.publish(written[i].path, names[i]);
              ++done.uploaded;
            }
        }
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      busy_ = false;
      if (error && !error_) error_ = error;
      counts_.files += done.files;
      counts_.windows += done.windows;
      counts_.rows += done.rows;
      counts_.bytes += done.bytes;
      counts_.uploaded += done.uploaded;
      done_.notify_all();
    }
  }

  const ConsumeOptions& options_;
  LakeWriter lake_;  // only the writer thread uses it
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<Job> jobs_;
  bool busy_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  ConsumeCounts counts_;
  std::thread thread_;  // last: starts after everything above is ready
};

class ConsumeJob {
 public:
  ConsumeJob(const Settings& settings, const ConsumeOptions& options)
      : options_(options), brokers_(kafka::bootstrap_servers(settings)), dead_letter_(options.dead_letter),
        writer_(options) {
    kafka::ConsumerOptions consumer_options;
    kafka::ConfRequest& conf = consumer_options.conf;
    conf.required["group.id"] = options.group;
    // Offsets move only through our own commits, after the files they cover are durable.
    conf.required["enable.auto.commit"] = "false";
    conf.required["enable.auto.offset.store"] = "false";
    conf.required["enable.partition.eof"] = "true";
    conf.defaults["auto.offset.reset"] = "earliest";  // the original read the topic from the beginning
    // librdkafka 2.0.x backs a partition's fetcher off for a long while once its prefetch queue holds
    // queued.min.messages (100000): a deeper queue keeps fetches flowing; memory stays bounded by
    // queued.max.messages.kbytes.
    conf.defaults["queued.min.messages"] = "1000000";
    if (!options.client_id.empty()) conf.required["client.id"] = options.client_id;
    consumer_options.on_rebalance = [this](kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
      on_rebalance(kind, list);
    };
    consumer_ = std::make_unique<kafka::KafkaConsumer>(settings, std::move(consumer_options));
  }

  ConsumeSummary run(const std::function<void(const ConsumeProgress&)>& on_progress) {
    const auto started = Clock::now();
    try {
      consumer_->subscribe({options_.topic});
      loop(on_progress);
      if (options_.exit_at_end && !stop_requested()) {
        flush_all_at_end();
      } else {
        commit_all();
      }
      writer_.wait_idle();
      consumer_->close();
      dead_letter_.close();
    } catch (...) {
      failed_ = true;  // no commit from here on: the rebalance handler on close must not move offsets
      throw;
    }
    summary_.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    summary_.counts = all_counts();
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
    const auto assignment_timeout = std::chrono::duration<double>(options_.assignment_timeout_seconds);
    auto last_commit = Clock::now();
    auto last_progress = Clock::now();
    const auto commit_interval = std::chrono::duration<double>(options_.commit_interval_seconds);
    std::vector<kafka::MessagePtr> batch;
    while (!stop_requested()) {
      consumer_->poll_batch(100ms, 512, batch);
      for (const kafka::MessagePtr& message : batch) {
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          handle_message(*message);
        } else if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          if (PartitionState* state = find_state(message->partition)) state->eof = true;
        } else {
          handle_error(*message);
        }
      }
      if (options_.exit_at_end && at_end()) break;
      auto now = Clock::now();
      if (options_.exit_at_end && !assigned_once_ && now - started >= assignment_timeout)
        throw Error(fmt::format(
            "no partition of '{}' was assigned to this member of group '{}' within {}: is the broker at {} "
            "reachable, does the topic exist, and has the group fewer members than the topic has partitions? "
            "(--assignment-timeout)",
            options_.topic, options_.group, format_duration(static_cast<int64_t>(options_.assignment_timeout_seconds)),
            brokers_));
      if (now - last_commit >= commit_interval) {
        commit_all();
        last_commit = now;
      }
      if (on_progress && now - last_progress >= 500ms) {
        on_progress(progress());
        last_progress = now;
      }
    }
  }

  ConsumeCounts all_counts() {
    ConsumeCounts c = counts_;
    ConsumeCounts written = writer_.counts();
    c.files = written.files;
    c.windows = written.windows;
    c.rows = written.rows;
    c.bytes = written.bytes;
    c.uploaded = written.uploaded;
    return c;
  }

  bool at_end() const {
    if (states_.empty()) return false;  // a group member may get its partitions a moment later
    for (const auto& state : states_)
      if (state && !state->eof) return false;
    return true;
  }

  PartitionState* find_state(int32_t partition) {
    if (partition < 0 || static_cast<size_t>(partition) >= states_.size()) return nullptr;
    return states_[partition].get();
  }

  void handle_error(const rd_kafka_message_t& message) {
    std::string what = message.rkt ? fmt::format("{}/{}", rd_kafka_topic_name(message.rkt), message.partition)
                                   : std::string("consumer");
    std::string reason = rd_kafka_message_errstr(&message);
    if (message.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || message.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        message.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        message.err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || message.err == RD_KAFKA_RESP_ERR__FATAL)
      throw Error(fmt::format("{}: {}", what, kafka::scrub_secrets(reason)));
    log::warn("kafka: {}: {}", what, kafka::scrub_secrets(reason));
  }

  void handle_message(const rd_kafka_message_t& message) {
    PartitionState* state = find_state(message.partition);
    if (!state) return;  // a message fetched before its partition was revoked
    const int64_t offset = message.offset;
    // Already seen, or fetched before the partition was last (re)assigned: never add an event twice.
    if (offset < state->next_offset || (state->next_offset < 0 && offset < state->start_offset)) return;
    state->next_offset = offset + 1;
    state->eof = false;
    ++counts_.read;
    // Offsets below read_through were read before the last commit: their windows are rebuilt, but
    // what was rejected or counted then is not counted or dead-lettered again.
    const bool replaying = offset < state->restored_read_through;
    if (replaying) ++counts_.replayed;
    std::string_view bytes(static_cast<const char*>(message.payload), message.len);
    if (!parser_.parse(bytes, event_)) {
      if (!replaying) {
        ++counts_.bad;
        reject(state->partition, offset, parser_.error(), bytes);
      }
      return;
    }
    const int64_t watermark = state->engine->watermark();
    AddResult result;
    try {
      result = state->engine->add(event_, offset);
    } catch (const GroupKeyLimitError& e) {
      throw Error(fmt::format("{}: {}", kafka_source(options_.topic, state->partition, offset), e.what()));
    }
    if (replaying) {
      // Counted and dead-lettered before the restart.
    } else if (result == AddResult::accepted) {
      ++counts_.accepted;
    } else if (result == AddResult::duplicate) {
      ++counts_.duplicates;
    } else {
      ++(result == AddResult::late ? counts_.late : counts_.overflow);
      reject(state->partition, offset, rejection_reason(result, event_.timestamp, watermark), bytes);
    }
    if (state->engine->has_closed()) write_closed(*state);
  }

  void reject(int32_t partition, int64_t offset, std::string_view reason, std::string_view bytes) {
    std::string source = kafka_source(options_.topic, partition, offset);
    if (warnings_ < options_.max_warnings) {
      log::warn("{}: {}", source, reason);
      if (++warnings_ == options_.max_warnings)
        log::warn("further rejected messages are only counted{}",
                  dead_letter_.enabled() ? fmt::format(" (all are in '{}')", dead_letter_.path()) : "");
    }
    dead_letter_.add(source, reason, bytes);
  }

  // Hands every window the partition's engine closed to the writer (durable at the next wait_idle()).
  void write_closed(PartitionState& state) {
    for (ClosedWindow& window : state.engine->take_closed()) {
      std::string name = lake_file_name(options_.prefix, options_.topic, state.partition, window.start, window.end);
      writer_.submit(std::move(window), std::move(name));
    }
  }

  ConsumeCheckpoint checkpoint(const PartitionState& state) const {
    const WindowEngine& engine = *state.engine;
    ConsumeCheckpoint c;
    const int64_t next = state.next_offset >= 0 ? state.next_offset : std::max<int64_t>(state.start_offset, 0);
    std::optional<int64_t> min_open = engine.min_open_position();
    c.offset = min_open ? *min_open : next;
    c.replay_watermark = min_open ? engine.replay_watermark() : engine.watermark();
    c.closed_through = std::max(engine.watermark(), state.restored_closed_through);
    c.read_through = std::max(next, state.restored_read_through);
    c.window = options_.window;
    c.layout = options_.layout;
    return c;
  }

  // Commits the checkpoints that changed. Everything they cover is already durable (windows are
  // written as they close); dead letters are fsynced first, so read_through never skips one.
  void commit(std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints) {
    if (failed_) return;
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
    if (offsets.empty()) return;
    dead_letter_.flush();
    rd_kafka_resp_err_t err = consumer_->commit(offsets);
    if (err) {
      // Not fatal: the checkpoint before stays valid, a restart only re-reads more.
      log::warn("committing offsets of {}: {}", options_.topic, kafka::describe_error(err));
      return;
    }
    ++counts_.commits;
    for (size_t i = 0; i < offsets.size(); ++i) {
      keys[i].first->committed = std::move(keys[i].second);
      summary_.committed[offsets[i].partition] = offsets[i].offset;
      log::debug("committed {}/{}@{} {}", options_.topic, offsets[i].partition, offsets[i].offset, offsets[i].metadata);
    }
  }

  void commit_all() {
    std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints;
    for (auto& state : states_)
      if (state) checkpoints.emplace_back(state.get(), checkpoint(*state));
    commit(std::move(checkpoints));
  }

  // -e: every open window is written, but the commit stays where the open ones began, so that a later
  // run re-reads them and rewrites those files with whatever arrived since (same bytes if nothing did).
  void flush_all_at_end() {
    std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints;
    for (auto& state : states_) {
      if (!state) continue;
      checkpoints.emplace_back(state.get(), checkpoint(*state));
      state->engine->close_all();
      write_closed(*state);
    }
    commit(std::move(checkpoints));
    for (auto& state : states_) state.reset();  // nothing more to commit on close (engines are flushed)
  }

  void on_rebalance(kafka::RebalanceKind kind, std::vector<kafka::TopicPartition>& list) {
    if (kind == kafka::RebalanceKind::assign) {
      assign(list);
      return;
    }
    std::vector<std::pair<PartitionState*, ConsumeCheckpoint>> checkpoints;
    std::string names;
    for (const kafka::TopicPartition& tp : list) {
      names += fmt::format(" {}", tp.partition);
      if (PartitionState* state = find_state(tp.partition))
        checkpoints.emplace_back(state, checkpoint(*state));
    }
    if (kind == kafka::RebalanceKind::revoke && !failed_) commit(std::move(checkpoints));
    log::info("{} partitions{} of {}", kind == kafka::RebalanceKind::revoke ? "revoked" : "lost", names,
              options_.topic);
    for (const kafka::TopicPartition& tp : list)
      if (find_state(tp.partition)) states_[tp.partition].reset();
  }

  void assign(std::vector<kafka::TopicPartition>& list) {
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
    std::string names;
    for (size_t i = 0; i < list.size(); ++i) {
      kafka::TopicPartition& tp = list[i];
      names += fmt::format(" {}", tp.partition);
      auto state = std::make_unique<PartitionState>();
      state->partition = tp.partition;
      state->engine = std::make_unique<WindowEngine>(options_.window);
      const kafka::TopicPartition& committed = stored[i];
      tp.offset = committed.offset;  // INVALID (none yet): auto.offset.reset, earliest by default
      if (committed.offset >= 0) {
        state->start_offset = committed.offset;
        std::string error;
        std::optional<ConsumeCheckpoint> c = parse_checkpoint_metadata(committed.metadata, committed.offset, error);
        if (!c) {
          log::warn("{}/{}: the committed offset {} carries no mtastream checkpoint ({}); starting there with "
                    "empty windows (the first windows may be partial)",
                    options_.topic, tp.partition, committed.offset, error);
        } else {
          std::string difference = checkpoint_config_difference(*c, options_.window, options_.layout);
          if (!difference.empty()) {
            if (!options_.force_window_config)
              throw UsageError(fmt::format(
                  "{}/{}: group '{}' was consumed with another configuration: {}. Changing it mid-stream would "
                  "mix windows in the lake; use a new group (-G), or --force-window-config to resume anyway",
                  options_.topic, tp.partition, options_.group, difference));
            log::warn("{}/{}: resuming with another configuration ({}) as forced", options_.topic, tp.partition,
                      difference);
          }
          state->engine->restore(c->replay_watermark, c->closed_through);
          state->restored_closed_through = c->closed_through;
          state->restored_read_through = c->read_through;
          state->committed = fmt::format("{}|{}", committed.offset, committed.metadata);
          log::debug("{}/{}: resuming at offset {} ({})", options_.topic, tp.partition, committed.offset,
                     committed.metadata);
        }
      }
      if (static_cast<size_t>(tp.partition) >= states_.size()) states_.resize(tp.partition + 1);
      states_[tp.partition] = std::move(state);
    }
    if (!list.empty()) assigned_once_ = true;
    log::info("assigned partitions{} of {}", names, options_.topic);
  }

  ConsumeProgress progress() {
    ConsumeProgress p;
    p.counts = all_counts();
    int64_t lag = 0;
    bool known = false;
    for (const auto& state : states_) {
      if (!state) continue;
      ++p.partitions;
      p.open_windows += state->engine->open_windows();
      if (auto marks = consumer_->watermark_offsets(options_.topic, state->partition, true)) {
        int64_t next = state->next_offset >= 0 ? state->next_offset : std::max<int64_t>(state->start_offset, 0);
        lag += std::max<int64_t>(0, marks->second - next);
        known = true;
      }
    }
    p.lag = known ? lag : -1;
    return p;
  }

  const ConsumeOptions& options_;
  std::string brokers_;  // for error messages
  DeadLetterWriter dead_letter_;
  MessageParser parser_;
  TurnstileEvent event_;
  LakeFileWriter writer_;                           // destroyed after the consumer, whose close may commit
  std::unique_ptr<kafka::KafkaConsumer> consumer_;
  std::vector<std::unique_ptr<PartitionState>> states_;  // by partition id
  ConsumeCounts counts_;
  ConsumeSummary summary_;
  uint64_t warnings_ = 0;
  bool failed_ = false;
  bool assigned_once_ = false;
};

}  // namespace

ConsumeSummary run_consume(const Settings& settings, const ConsumeOptions& options,
                           const std::function<void(const ConsumeProgress&)>& on_progress) {
  if (options.topic.empty()) throw UsageError("consume needs a topic (-t TOPIC)");
  if (options.group.empty()) throw UsageError("consume needs a consumer group (-G GROUP) to commit its progress");
  validate_window_config(options.window);
  if (size_t removed = remove_stale_temp_files(options.lake_dir))
    log::info("removed {} temporary files a killed writer left in '{}'", removed, options.lake_dir);
  ConsumeJob job(settings, options);
  return job.run(on_progress);
}

std::string consume_summary_json(const ConsumeSummary& s, const std::string& topic) {
  const ConsumeCounts& c = s.counts;
  std::string committed;
  for (const auto& [partition, offset] : s.committed)
    committed += fmt::format("{}\"{}\":{}", committed.empty() ? "" : ",", partition, offset);
  return fmt::format(
      "{{\"topic\":\"{}\",\"read\":{},\"replayed\":{},\"accepted\":{},\"rejected\":{},\"bad\":{},\"late\":{},"
      "\"overflow\":{},\"duplicates\":{},\"windows\":{},\"rows\":{},\"files\":{},\"bytes\":{},\"uploaded\":{},"
      "\"commits\":{},\"seconds\":{:.3f},\"committed\":{{{}}}}}",
      topic, c.read, c.replayed, c.accepted, c.rejected(), c.bad, c.late, c.overflow, c.duplicates,
      c.windows, c.rows, c.files, c.bytes, c.uploaded, c.commits, s.seconds, committed);
}

size_t remove_stale_temp_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  size_t removed = 0;
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.size() < 2 || name[0] != '.') continue;
    size_t tmp = name.rfind(".tmp.");
    if (tmp == std::string_view::npos) continue;
    std::string_view pid_text = name.substr(tmp + 5);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string_view::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(std::string(pid_text)));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its writer may still run
    if (::unlink((dir + "/" + std::string(name)).c_str()) == 0) ++removed;
  }
  ::closedir(d);
  return removed;
}

}  // namespace mtastream
