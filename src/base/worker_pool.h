// A fixed set of threads that run one job at a time on all of them at once (aggregate's shards, consume's
// partitions): start() hands out the job, wait() returns once every thread finished it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mtastream {

// The cores this process may run on (its CPU affinity), at least 1: the default of --threads.
unsigned available_cores();

class WorkerPool {
 public:
  explicit WorkerPool(unsigned n);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(threads_.size()); }

  // Runs job(i) on thread i, for every i < size(), without waiting.
  void start(std::function<void(unsigned)> job);
  // Waits for the job started last; rethrows the first exception a thread threw.
  void wait();
  void run(std::function<void(unsigned)> job) {
    start(std::move(job));
    wait();
  }
  // Runs job(i) for every i <= size(): i = size() on the calling thread, the others on the pool's.
  void run_with_caller(const std::function<void(unsigned)>& job);

 private:
  void wait_quietly();
  void loop(unsigned i);

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::function<void(unsigned)> job_;
  size_t running_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
  std::exception_ptr error_;
};

}  // namespace mtastream
