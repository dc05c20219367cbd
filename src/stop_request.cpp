#include "stop_request.h"

#include <atomic>
#include <csignal>

namespace mtastream {

namespace {
std::atomic<bool> stop_flag{false};

extern "C" void on_stop_signal(int signal_number) {
  stop_flag.store(true);
  std::signal(signal_number, SIG_DFL);  // a second Ctrl-C ends the process at once
}
}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return stop_flag.load(); }
void request_stop() { stop_flag.store(true); }

}  // namespace mtastream
