#include "base/worker_pool.h"

#include <sched.h>

#include <algorithm>
#include <utility>

namespace mtastream {

unsigned available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

WorkerPool::WorkerPool(unsigned n) {
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this, i] { loop(i); });
}

WorkerPool::~WorkerPool() {
  wait_quietly();
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::start(std::function<void(unsigned)> job) {
  std::lock_guard lock(mutex_);
  job_ = std::move(job);
  running_ = threads_.size();
  ++generation_;
  wake_.notify_all();
}

void WorkerPool::wait() {
  wait_quietly();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void WorkerPool::run_with_caller(const std::function<void(unsigned)>& job) {
  start(job);
  try {
    job(size());
  } catch (...) {
    wait_quietly();  // the pool's threads still use what the job refers to
    throw;
  }
  wait();
}

void WorkerPool::wait_quietly() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return running_ == 0; });
}

void WorkerPool::loop(unsigned i) {
  uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
    }
    std::exception_ptr error;
    try {
      job_(i);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    if (error && !error_) error_ = error;
    if (--running_ == 0) done_.notify_all();
  }
}

}  // namespace mtastream
