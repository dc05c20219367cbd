// consume's writer thread: closed windows compressed, staged, merged and published off the consumer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "consume/consume_job.h"
#include "engine/window_engine.h"
#include "lake/lake_segments.h"

namespace mtastream::consume {

// Writes closed windows on its own thread, so the consumer thread keeps draining librdkafka's queue
// while files are compressed and fsynced: per-partition lake files (then published), or, for topic-wide
// windows, segments, and on request the merge of every window all partitions passed (published too).
// wait_idle() is the barrier before every commit: it returns once everything submitted is durable, or
// throws the first failure.
class WindowWriterThread {
 public:
  explicit WindowWriterThread(const ConsumeOptions& options);
  ~WindowWriterThread();

  void submit(int32_t partition, engine::ClosedWindow window);

  // Topic-wide windows: the partition's progress marker, written after the segments queued before it.
  void submit_progress(int32_t partition, std::string marker);

  // Every window ending at or before this is in the lake (and uploaded): merged by us or another member.
  int64_t merged_through() const;

  // Topic-wide windows: merge every staged window ending at or before `through` (after what is queued).
  void request_merge(int64_t through);

  void wait_idle();

  // Files, rows, bytes and uploads done so far.
  LakeCounts counts();

  const lake::LakeSegments& segments() const { return segments_; }

 private:
  static constexpr size_t max_pending = 64;
  struct Job {
    int32_t partition;
    engine::ClosedWindow window;
  };

  void run();

  // Per-partition windows: <prefix>_<topic>_p<N>_<start>_<end>.csv.gz, never replacing a file already
  // there (a rewrite after a crash holds the same bytes; a gap's partial window never replaces a whole one).
  void write_lake_files(const std::vector<Job>& batch, LakeCounts& done);

  void merge(int64_t through, LakeCounts& done);

  const ConsumeOptions& options_;
  lake::LakeSegments segments_;  // only the writer thread writes through it
  int64_t merged_ = engine::WindowEngine::minus_infinity;  // writer thread only
  mutable std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<Job> jobs_;
  std::map<int32_t, std::string> progress_;  // partition -> marker to write after the queued segments
  int64_t merge_through_ = engine::WindowEngine::minus_infinity;   // requested
  int64_t merged_through_ = engine::WindowEngine::minus_infinity;  // done
  bool busy_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  LakeCounts counts_;
  std::thread thread_;  // last: starts after everything above is ready
};

}  // namespace mtastream::consume
