#include "base/stop_signal.h"

#include <atomic>
#include <csignal>

namespace mtastream {
namespace {
std::atomic<int> signal_count{0};
std::atomic<int> last_signal{0};

extern "C" void on_stop_signal(int signal) {
  signal_count.fetch_add(1, std::memory_order_relaxed);
  last_signal.store(signal, std::memory_order_relaxed);
}
}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR so the reader notices
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return signal_count.load(std::memory_order_relaxed) > 0; }
int stop_signal_count() { return signal_count.load(std::memory_order_relaxed); }
int last_stop_signal() { return last_signal.load(std::memory_order_relaxed); }

}  // namespace mtastream
