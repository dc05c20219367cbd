#include "consume/window_writer_thread.h"

#include "base/log.h"

namespace mtastream::consume {

WindowWriterThread::WindowWriterThread(const ConsumeOptions& options)
    : options_(options),
      segments_(options.lake_dir, options.prefix, options.topic, options.layout, options.window.group_columns,
                options.partitioning, options.shared_staging),
      thread_([this] { run(); }) {}

WindowWriterThread::~WindowWriterThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void WindowWriterThread::submit(int32_t partition, engine::ClosedWindow window) {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return jobs_.size() < max_pending || error_; });
  if (error_) std::rethrow_exception(error_);
  jobs_.push_back({partition, std::move(window)});
  wake_.notify_one();
}

void WindowWriterThread::submit_progress(int32_t partition, std::string marker) {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  progress_[partition] = std::move(marker);
  wake_.notify_one();
}

int64_t WindowWriterThread::merged_through() const {
  std::lock_guard lock(mutex_);
  return merged_through_;
}

void WindowWriterThread::request_merge(int64_t through) {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  merge_through_ = std::max(merge_through_, through);
  wake_.notify_one();
}

void WindowWriterThread::wait_idle() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] {
    return (jobs_.empty() && progress_.empty() && !busy_ && merged_through_ >= merge_through_) || error_;
  });
  if (error_) std::rethrow_exception(error_);
}

LakeCounts WindowWriterThread::counts() {
  std::lock_guard lock(mutex_);
  return counts_;
}

void WindowWriterThread::run() {
  std::unique_lock lock(mutex_);
  std::vector<Job> batch;
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || !jobs_.empty() || !progress_.empty() || merged_through_ < merge_through_; });
    if (jobs_.empty() && progress_.empty() && merged_through_ >= merge_through_) return;  // stop_, nothing left
    batch.clear();
    while (!jobs_.empty()) {  // everything queued goes in one batch: one journal commit for many files
      batch.push_back(std::move(jobs_.front()));
      jobs_.pop_front();
    }
    const int64_t merge_through = merge_through_;
    std::vector<std::pair<int32_t, std::string>> progress(progress_.begin(), progress_.end());
    progress_.clear();
    busy_ = true;
    done_.notify_all();  // room in the queue again
    lock.unlock();
    std::exception_ptr error;
    LakeCounts done;
    try {
      if (!error_) {
        if (options_.per_partition) {
          write_lake_files(batch, done);
        } else {
          std::vector<std::pair<int32_t, const engine::ClosedWindow*>> staged;
          for (const Job& job : batch) staged.emplace_back(job.partition, &job.window);
          segments_.write(staged);
          done.segments += staged.size();
          segments_.write_progress(progress);  // after the segments they count
          if (merge_through > merged_) merge(merge_through, done);
        }
      }
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    busy_ = false;
    if (!error) merged_through_ = std::max(merged_through_, merge_through);
    if (error && !error_) error_ = error;
    counts_ += done;
    done_.notify_all();
  }
}

void WindowWriterThread::write_lake_files(const std::vector<Job>& batch, LakeCounts& done) {
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<uint64_t> rows;
  for (const Job& job : batch) {
    const std::string name =
        lake::lake_file_name(options_.prefix, options_.topic, job.partition, job.window.start, job.window.end);
    for (const auto& [folder, piece] : lake::split_window(job.window, options_.partitioning)) {
      files.emplace_back(lake::lake_relative_path(folder, name),
                         lake::lake_file_bytes(piece, options_.layout, options_.window.group_columns));
      rows.push_back(piece.rows.size());
    }
    ++done.windows;
  }
  std::vector<bool> created = lake::write_files_once(options_.lake_dir, files);
  for (size_t i = 0; i < files.size(); ++i) {
    std::string path = options_.lake_dir + "/" + files[i].first;
    log::debug("wrote {} ({} rows){}", path, rows[i], created[i] ? "" : ", already there");
    ++done.files;
    done.rows += rows[i];
    done.bytes += files[i].second.size();
  }
  if (options_.publish)
    for (const auto& [name, bytes] : files) {
      options_.publish(options_.lake_dir + "/" + name, name);
      ++done.uploaded;
    }
}

void WindowWriterThread::merge(int64_t through, LakeCounts& done) {
  std::function<void(const std::string&, const std::string&)> publish;
  if (options_.publish)
    publish = [&](const std::string& path, const std::string& name) {
      options_.publish(path, name);
      ++done.uploaded;
    };
  std::function<void(const std::vector<const engine::ClosedWindow*>&)> load;
  if (options_.sink) load = [this](const std::vector<const engine::ClosedWindow*>& windows) { options_.sink->load_windows(windows); };
  for (const lake::LakeSegments::Merged& m :
       segments_.merge_through(through, publish, done.merge_overflow, done.merge_duplicates, load)) {
    log::debug("merged {} ({} rows){}", m.path, m.rows, m.created ? "" : ", already there");
    if (!m.created) continue;
    ++done.files;
    if (m.first_of_window) ++done.windows;
    done.rows += m.rows;
    done.bytes += m.bytes;
  }
  merged_ = through;
}

}  // namespace mtastream::consume
